import Foundation
import Synchronization
import ICWSCore
import ICWSModel
import Logging
import PostgresNIO
import ServiceLifecycle

/// The shared store: PostgreSQL, written by every node of a cluster.
///
/// Besides the tables of the domain it keeps a change log (`changes`): every committed batch gets the next id
/// of `change_counter`, whose row lock serialises all nodes' writes, so ids commit in id order without gaps
/// and a node that has seen id N has seen every id below N. A `NOTIFY openicws_changes` tells the other
/// nodes to read the log.
///
/// Usage: create it with `connect(url:logger:)`, run it as a `Service` (or in a task: `run()` drives the
/// connection pool and the LISTEN connection until cancelled, graceful shutdown or `close()`), and call
/// `migrate()` once `run()` has started. Until `run()` is running, calls wait for a connection and fail after
/// the operation timeout. Every call fails within that timeout (default 5 s) when the database is down:
/// a call that gets no connection by then throws `StoreFailure.unavailable`.
public final class PostgresAssistanceStore: AssistanceStore, Service {
    /// The channel of the notifications sent after each committed batch (payload: the change id).
    public static let changesChannel = "openicws_changes"
    /// The most changes one `changes(after:)` call returns; the caller asks again for the rest.
    public static let changesPerCall = 5_000

    private let client: PostgresClient
    private let listenConfiguration: PostgresConnection.Configuration
    private let logger: Logger
    private let operationTimeout: Duration
    private let signals = ChangeSignalHub()
    /// The newest change id this store committed itself: every change up to it was applied by its node (a commit
    /// first applies what it missed), so a notification of such an id needs no catch-up.
    private let ownNewest = Atomic<Int64>(0)
    private let closing: AsyncStream<Void>
    private let closingContinuation: AsyncStream<Void>.Continuation

    private init(url: PostgresURL, logger: Logger, operationTimeout: Duration) {
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        configuration.options.connectTimeout = min(operationTimeout, .seconds(3))
        configuration.options.maximumConnections = 10
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        var listenConfiguration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        listenConfiguration.options.connectTimeout = .seconds(3)
        if let name = url.applicationName {
            configuration.options.additionalStartupParameters = [("application_name", name)]
            listenConfiguration.options.additionalStartupParameters = [("application_name", name)]
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.listenConfiguration = listenConfiguration
        self.logger = logger
        self.operationTimeout = operationTimeout
        (closing, closingContinuation) = AsyncStream<Void>.makeStream()
    }

    /// A store for the database at `url` (`postgres://USER:PASS@HOST:PORT/DB` or `postgresql://…`).
    ///
    /// Nothing is connected yet: that happens once `run()` runs. Throws `PostgresURLError` for a bad URL.
    /// `operationTimeout` bounds how long a call waits for a database connection.
    public static func connect(
        url: String, logger: Logger, operationTimeout: Duration = .seconds(5)
    ) throws -> PostgresAssistanceStore {
        PostgresAssistanceStore(url: try PostgresURL(url), logger: logger, operationTimeout: operationTimeout)
    }

    /// Always true: other nodes write to this store too.
    public var isShared: Bool { true }

    // MARK: Running

    /// Runs the connection pool and the LISTEN loop until the task is cancelled, a graceful shutdown
    /// begins, or `close()` is called. Then every `changeSignals()` stream ends.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.client.run() }
                group.addTask { await self.listenLoop() }
                group.addTask { for await _ in self.closing {} }
                _ = await group.next()
                group.cancelAll()
            }
        }
        signals.finish()
    }

    /// Ends `run()` (and with it every connection) and every `changeSignals()` stream.
    public func close() async throws {
        closingContinuation.finish()
        signals.finish()
    }

    /// A stream that yields after every notification on `openicws_changes`, and once each time the LISTEN
    /// connection is (re)established (changes may have been missed while it was down). Several signals
    /// while nobody reads yield once. It ends when the store stops running.
    public func changeSignals() -> AsyncStream<Void> {
        signals.stream()
    }

    private func listenLoop() async {
        var backoff = Duration.milliseconds(50)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    on: PostgresClient.defaultEventLoopGroup.any(), configuration: listenConfiguration,
                    id: 1_000_000 + attempt, logger: logger
                ).get()
                do {
                    try await connection.listen(on: Self.changesChannel) { notifications in
                        logger.debug("listening for changes", metadata: ["channel": "\(Self.changesChannel)"])
                        backoff = .milliseconds(50)
                        signals.signal()
                        try await watch(notifications, on: connection)
                    }
                } catch where !Task.isCancelled {
                    logger.warning("LISTEN connection lost; listening again", metadata: ["error": "\(Self.describe(error))"])
                } catch {}
                try? await connection.close()
            } catch where !Task.isCancelled {
                logger.warning("cannot open the LISTEN connection", metadata: ["error": "\(Self.describe(error))"])
            } catch {}
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return
            }
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// Signals each notification until the connection fails; a ping every few seconds notices a connection
    /// that died without closing.
    private func watch(_ notifications: PostgresNotificationSequence, on connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await notification in notifications {
                    if let id = Int64(notification.payload), id <= self.ownNewest.load(ordering: .relaxed) { continue }
                    self.signals.signal()
                }
                throw StoreFailure.unavailable("the notification stream ended")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(3))
                    try await connection.query("SELECT 1", logger: self.logger)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: Schema

    /// Brings the schema up to the newest version. Safe when several nodes start at once: each migration
    /// runs under a transaction-level advisory lock, and applied versions are recorded in `schema_migrations`.
    /// Call it after `run()` has started.
    public func migrate() async throws {
        try await withConnection { connection, logger in
            try await Self.transaction(connection, logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                var current = 0
                for try await version in try await connection.query(
                    "SELECT coalesce(max(version), 0)::integer FROM schema_migrations", logger: logger
                ).decode(Int32.self) {
                    current = Int(version)
                }
                guard current < PostgresSchema.migrations.count else { return ((), true) }
                for version in (current + 1)...PostgresSchema.migrations.count {
                    for statement in PostgresSchema.migrations[version - 1] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version) VALUES (\(Int32(version)))", logger: logger)
                    logger.info("migrated the schema", metadata: ["version": "\(version)"])
                }
                return ((), true)
            }
        }
    }

    // MARK: AssistanceStore

    public func load() async throws -> StoredState {
        try await withConnection { connection, logger in
            try await Self.transaction(connection, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger) {
                connection in (try await Self.load(connection, logger: logger), false)
            }
        }
    }

    private static func load(_ connection: PostgresConnection, logger: Logger) async throws -> StoredState {
        var lastChangeId: Int64 = 0
        for try await id in try await connection.query("SELECT last_id FROM change_counter", logger: logger).decode(Int64.self) {
            lastChangeId = id
        }
        var interactions: [Interaction] = []
        for try await (id, type, remoteName, workgroup, agent, state, createdAt, extras) in try await connection.query(
            """
            SELECT id, type, remote_name, workgroup, agent, state, \(unescaped: Microseconds.fromTimestamp("created_at")), extras
            FROM interactions WHERE state <> 'disconnected' ORDER BY created_at, id
            """, logger: logger
        ).decode((String, String, String, String?, String, String, Int64, String).self) {
            guard let state = Interaction.State(rawValue: state) else { continue }
            var interaction = Interaction(
                id: id, type: type, remoteName: remoteName, workgroup: workgroup, agent: agent, state: state,
                createdAt: Microseconds.date(createdAt))
            interaction.applyExtras(extras)
            interactions.append(interaction)
        }
        var statuses: [UserStatus] = []
        for try await text in try await connection.query("SELECT status FROM user_statuses ORDER BY user_id", logger: logger)
            .decode(String.self)
        {
            if let status = try? StoredJSON.decode(UserStatus.self, from: text) { statuses.append(status) }
        }
        var requests: [String: AssistanceRequest] = [:]
        var order: [String] = []
        for try await (id, interactionId, workgroup, initiator, state, createdAt) in try await connection.query(
            """
            SELECT id, interaction_id, workgroup, initiator, state, \(unescaped: Microseconds.fromTimestamp("created_at"))
            FROM assistance_requests WHERE state <> 2 ORDER BY number, id
            """, logger: logger
        ).decode((String, String, String, String, Int16, Int64).self) {
            guard let state = AssistanceRequestState(rawValue: Int(state)) else { continue }
            requests[id] = AssistanceRequest(
                id: id, interactionId: interactionId, workgroup: workgroup, initiator: initiator, state: state,
                participants: [], lines: [], createdAt: Microseconds.date(createdAt))
            order.append(id)
        }
        for try await (id, userId, action) in try await connection.query(
            """
            SELECT p.assistance_id, p.user_id, p.action FROM assistance_participants p
            JOIN assistance_requests r ON r.id = p.assistance_id WHERE r.state <> 2 ORDER BY p.assistance_id, p.position
            """, logger: logger
        ).decode((String, String, Int16).self) {
            guard let action = AssistanceParticipantAction(rawValue: Int(action)) else { continue }
            requests[id]?.participants.append(.init(userId: userId, action: action))
        }
        for try await (id, participantId, text, timeAdded) in try await connection.query(
            """
            SELECT l.assistance_id, l.participant_id, l.text, \(unescaped: Microseconds.fromTimestamp("l.time_added"))
            FROM assistance_lines l JOIN assistance_requests r ON r.id = l.assistance_id
            WHERE r.state <> 2 ORDER BY l.assistance_id, l.position
            """, logger: logger
        ).decode((String, String, String, Int64).self) {
            requests[id]?.lines.append(.init(participantId: participantId, text: text, timeAdded: Microseconds.date(timeAdded)))
        }
        var highestInteraction: Int64 = 0
        var highestAssistance: Int64 = 0
        for try await (interaction, assistance) in try await connection.query(
            """
            SELECT (SELECT coalesce(max(id::bigint) FILTER (WHERE id ~ '^[0-9]{1,18}$'), 0) FROM interactions),
                   (SELECT coalesce(max(number), 0) FROM assistance_requests)
            """, logger: logger
        ).decode((Int64, Int64).self) {
            highestInteraction = interaction
            highestAssistance = assistance
        }
        var presence: [PresenceRecord] = []
        for try await (userId, node, since) in try await connection.query(
            """
            SELECT p.user_id, p.node_id, \(unescaped: Microseconds.fromTimestamp("p.since"))
            FROM presence p JOIN nodes n ON n.id = p.node_id ORDER BY p.node_id, p.user_id
            """, logger: logger
        ).decode((String, String, Int64).self) {
            presence.append(PresenceRecord(userId: userId, node: node, since: Microseconds.date(since)))
        }
        return StoredState(
            interactions: interactions, requests: order.compactMap { requests[$0] },
            highestInteractionNumber: highestInteraction, highestAssistanceNumber: highestAssistance,
            presence: presence, lastChangeId: lastChangeId, statuses: statuses)
    }

    public func commit(
        after lastApplied: Int64, node: String,
        _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64? {
        try await withoutActuallyEscaping(prepare) { prepare in
            try await withConnection { connection, logger in
                // Optimistic: when no other node committed since `lastApplied`, the batch is one statement in its
                // own transaction (one round trip). Batches with presence changes, or none, take the locked path.
                let optimistic = try await Self.prepared(prepare, [])
                let rows = BatchRows(optimistic)
                if !optimistic.isEmpty, !rows.touchesPresence {
                    let id = lastApplied + 1
                    let applied = try await Self.writeIfCurrent(
                        rows, id: id, expecting: lastApplied, node: node, events: try ChangeCodec.encode(optimistic),
                        connection, logger: logger)
                    if applied {
                        _ = self.ownNewest.max(id, ordering: .relaxed)
                        return id
                    }
                }
                let committed: Int64? = try await Self.transaction(connection, logger: logger) { connection in
                    var lastId: Int64 = 0
                    for try await id in try await connection.query(
                        "SELECT last_id FROM change_counter FOR UPDATE", logger: logger
                    ).decode(Int64.self) {
                        lastId = id
                    }
                    let missed = try await Self.changes(connection, after: lastApplied, upTo: lastId, limit: nil, logger: logger)
                    let events = try await Self.prepared(prepare, missed)
                    guard !events.isEmpty else { return (nil, false) }
                    let rows = BatchRows(events)
                    try await Self.writePresence(rows, connection, logger: logger)
                    let id = lastId + 1
                    let applied = try await Self.writeIfCurrent(
                        rows, id: id, expecting: lastId, node: node, events: try ChangeCodec.encode(events), connection, logger: logger)
                    guard applied else { throw StoreFailure.unavailable("the change counter moved while it was locked") }
                    return (id, true)
                }
                if let id = committed { _ = self.ownNewest.max(id, ordering: .relaxed) }
                return committed
            }
        }
    }

    private static func prepared(
        _ prepare: ([CommittedChange]) async throws -> [DomainEvent], _ missed: [CommittedChange]
    ) async throws -> [DomainEvent] {
        do {
            return try await prepare(missed)
        } catch {
            throw PrepareFailed(underlying: error)
        }
    }

    /// Writes the batch in one statement if the change counter still stands at `expecting`; returns whether it did.
    /// The result is read to its end: an error of a sub-statement (a broken rule) arrives after the row, and an
    /// unread one would be lost, leaving an aborted transaction whose COMMIT silently rolls back.
    private static func writeIfCurrent(
        _ rows: BatchRows, id: Int64, expecting: Int64, node: String, events: String, _ connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        var applied = false
        for try await _ in try await connection.query(
            domainRowsAndChange(rows, id: id, expecting: expecting, node: node, events: events), logger: logger)
        {
            applied = true
        }
        return applied
    }

    public func changes(after id: Int64) async throws -> [CommittedChange] {
        try await withConnection { connection, logger in
            var lastId: Int64 = 0
            for try await last in try await connection.query("SELECT last_id FROM change_counter", logger: logger).decode(Int64.self) {
                lastId = last
            }
            return try await Self.changes(connection, after: id, upTo: lastId, limit: Self.changesPerCall, logger: logger)
        }
    }

    /// The changes after `after`, checking that none of those up to `upTo` (the counter read before) was pruned.
    private static func changes(
        _ connection: PostgresConnection, after: Int64, upTo lastId: Int64, limit: Int?, logger: Logger
    ) async throws -> [CommittedChange] {
        guard after < lastId else { return [] }
        var result: [CommittedChange] = []
        let rows = try await connection.query(
            """
            SELECT id, node, events::text FROM changes WHERE id > \(after) AND id <= \(lastId) ORDER BY id
            LIMIT \(Int64(limit ?? Int(Int32.max)))
            """, logger: logger)
        for try await (id, node, events) in rows.decode((Int64, String, String).self) {
            result.append(CommittedChange(id: id, node: node, events: try ChangeCodec.decode(events)))
        }
        guard result.first?.id == after + 1 else {
            throw ChangeLogPruned(after: after, oldestAvailable: result.first?.id ?? lastId + 1)
        }
        return result
    }

    public func probe() async throws {
        try await withConnection { connection, logger in
            _ = try await connection.query("SELECT 1", logger: logger)
        }
    }

    // MARK: Nodes

    /// Records that `node` is alive and has applied the changes up to `applied`, then deletes the changes
    /// every node has applied (and that are older than `retainingChangesFor` seconds, so that a node that just
    /// loaded its state and has not sent its first heartbeat yet can still read what followed).
    public func heartbeat(node: String, applied: Int64) async throws {
        try await heartbeat(node: node, applied: applied, retainingChangesFor: 60)
    }

    /// `heartbeat(node:applied:)`, keeping change rows younger than `retention` seconds even when every node
    /// applied them (a node that has just loaded may not have beaten yet).
    public func heartbeat(node: String, applied: Int64, retainingChangesFor retention: Double) async throws {
        try await withConnection { connection, logger in
            try await connection.query(
                """
                INSERT INTO nodes (id, heartbeat_at, applied_change_id) VALUES (\(node), now(), \(applied))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), applied_change_id = excluded.applied_change_id
                """, logger: logger)
            try await connection.query(
                """
                DELETE FROM changes WHERE id <= (SELECT min(applied_change_id) FROM nodes)
                AND committed_at < now() - make_interval(secs => \(retention))
                """, logger: logger)
        }
    }

    /// The nodes whose last heartbeat is older than `seconds`, judged by the database's clock.
    public func deadNodes(olderThan seconds: Double) async throws -> [String] {
        try await withConnection { connection, logger in
            var nodes: [String] = []
            for try await id in try await connection.query(
                "SELECT id FROM nodes WHERE heartbeat_at < now() - make_interval(secs => \(seconds)) ORDER BY id",
                logger: logger
            ).decode(String.self) {
                nodes.append(id)
            }
            return nodes
        }
    }

    // MARK: Writing a batch

    /// One statement for the domain rows, the change-log row, the counter and the notification: one round trip
    /// for the whole batch. It writes only if the counter stands at `expecting` (it then moves it to `id`, which
    /// waits for any other writer's lock) and returns one row when it wrote. Each table is written by one
    /// sub-statement (an empty array writes nothing); requests are written completed first, so the one-active
    /// index never sees two active rows for an interaction.
    private static func domainRowsAndChange(_ rows: BatchRows, id: Int64, expecting: Int64, node: String, events: String) -> PostgresQuery {
        let i = rows.interactions.values
        let r = rows.requestsCompletedFirst
        let p = rows.participants.values
        let l = rows.lines.values
        let s = rows.statuses.values
        return """
            WITH counted AS (UPDATE change_counter SET last_id = \(id) WHERE last_id = \(expecting) RETURNING last_id),
            saved_interactions AS (
                INSERT INTO interactions (id, type, remote_name, workgroup, agent, state, created_at, extras)
                SELECT id, type, remote_name, CASE WHEN has_workgroup THEN workgroup END, agent, state,
                       \(unescaped: Microseconds.timestamp("created_at")), extras
                FROM unnest(\(i.map(\.id))::text[], \(i.map(\.type))::text[], \(i.map(\.remoteName))::text[],
                            \(i.map(\.workgroup))::text[], \(i.map(\.hasWorkgroup))::bool[], \(i.map(\.agent))::text[],
                            \(i.map(\.state))::text[], \(i.map(\.createdAt))::bigint[], \(i.map(\.extras))::text[])
                     AS t(id, type, remote_name, workgroup, has_workgroup, agent, state, created_at, extras)
                WHERE EXISTS (SELECT 1 FROM counted)
                ON CONFLICT (id) DO UPDATE SET type = excluded.type, remote_name = excluded.remote_name,
                    workgroup = excluded.workgroup, agent = excluded.agent, state = excluded.state,
                    created_at = excluded.created_at, extras = excluded.extras),
            saved_statuses AS (
                INSERT INTO user_statuses (user_id, status)
                SELECT * FROM unnest(\(s.map(\.userId))::text[], \(s.map(\.status))::text[])
                WHERE EXISTS (SELECT 1 FROM counted)
                ON CONFLICT (user_id) DO UPDATE SET status = excluded.status),
            saved_requests AS (
                INSERT INTO assistance_requests (id, number, interaction_id, workgroup, initiator, state, created_at)
                SELECT id, number, interaction_id, workgroup, initiator, state, \(unescaped: Microseconds.timestamp("created_at"))
                FROM unnest(\(r.map(\.id))::text[], \(r.map(\.number))::bigint[], \(r.map(\.interactionId))::text[],
                            \(r.map(\.workgroup))::text[], \(r.map(\.initiator))::text[], \(r.map(\.state))::smallint[],
                            \(r.map(\.createdAt))::bigint[])
                     WITH ORDINALITY AS t(id, number, interaction_id, workgroup, initiator, state, created_at, ord)
                WHERE EXISTS (SELECT 1 FROM counted)
                ORDER BY ord
                ON CONFLICT (id) DO UPDATE SET state = excluded.state),
            saved_participants AS (
                INSERT INTO assistance_participants (assistance_id, position, user_id, action)
                SELECT * FROM unnest(\(p.map(\.assistanceId))::text[], \(p.map(\.position))::integer[],
                                     \(p.map(\.userId))::text[], \(p.map(\.action))::smallint[])
                WHERE EXISTS (SELECT 1 FROM counted)
                ON CONFLICT (assistance_id, position) DO UPDATE SET user_id = excluded.user_id, action = excluded.action),
            saved_lines AS (
                INSERT INTO assistance_lines (assistance_id, position, participant_id, text, time_added)
                SELECT assistance_id, position, participant_id, text, \(unescaped: Microseconds.timestamp("time_added"))
                FROM unnest(\(l.map(\.assistanceId))::text[], \(l.map(\.position))::integer[],
                            \(l.map(\.participantId))::text[], \(l.map(\.text))::text[], \(l.map(\.timeAdded))::bigint[])
                     AS t(assistance_id, position, participant_id, text, time_added)
                WHERE EXISTS (SELECT 1 FROM counted)),
            logged AS (INSERT INTO changes (id, node, events, committed_at)
                       SELECT \(id), \(node), \(events)::jsonb, now() WHERE EXISTS (SELECT 1 FROM counted))
            SELECT pg_notify(\(Self.changesChannel), \(String(id))) FROM counted
            """
    }

    /// Presence rows: nodes that are gone, users that left, users that arrived, in that order (separate
    /// statements, since they may touch the same rows; they are rare: logins, logouts, dead nodes).
    private static func writePresence(_ rows: BatchRows, _ connection: PostgresConnection, logger: Logger) async throws {
        if !rows.goneNodes.isEmpty {
            try await connection.query(
                """
                WITH cleared AS (DELETE FROM presence WHERE node_id = ANY(\(rows.goneNodes)::text[]))
                DELETE FROM nodes WHERE id = ANY(\(rows.goneNodes)::text[])
                """, logger: logger)
        }
        let absent = rows.presence.entries.filter { $0.value.since == nil }.map(\.key)
        if !absent.isEmpty {
            try await connection.query(
                """
                DELETE FROM presence p USING unnest(\(absent.map(\.userId))::text[], \(absent.map(\.node))::text[])
                    AS t(user_id, node_id)
                WHERE p.user_id = t.user_id AND p.node_id = t.node_id
                """, logger: logger)
        }
        let present = rows.presence.entries.compactMap { entry in entry.value.since.map { (key: entry.key, since: $0) } }
        if !present.isEmpty {
            try await connection.query(
                """
                INSERT INTO presence (user_id, node_id, since)
                SELECT user_id, node_id, \(unescaped: Microseconds.timestamp("since"))
                FROM unnest(\(present.map(\.key.userId))::text[], \(present.map(\.key.node))::text[],
                            \(present.map(\.since))::bigint[]) AS t(user_id, node_id, since)
                ON CONFLICT (user_id, node_id) DO UPDATE SET since = excluded.since
                """, logger: logger)
        }
    }

    // MARK: Connections and errors

    /// Runs `body` on a pooled connection (waiting at most the operation timeout for one) and translates
    /// database errors: a broken rule is `StoreConflict`, anything else `StoreFailure.unavailable`.
    private func withConnection<Value: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Value
    ) async throws -> Value {
        let logger = self.logger
        do {
            return try await ConnectionLease.with(client, timeout: operationTimeout) { connection in
                try await body(connection, logger)
            }
        } catch let failure as PrepareFailed {
            throw failure.underlying
        } catch let error as PSQLError {
            if let state = error.serverInfo?[.sqlState], state.hasPrefix("23") {
                throw StoreConflict(constraint: error.serverInfo?[.constraintName], message: error.serverInfo?[.message] ?? "\(state)")
            }
            throw StoreFailure.unavailable(Self.describe(error))
        } catch let error as StoreFailure {
            throw error
        } catch let error as ChangeLogPruned {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw StoreFailure.unavailable(Self.describe(error))
        }
    }

    /// Runs `body` between `begin` and COMMIT (or ROLLBACK when it asks for it or throws).
    private static func transaction<Value>(
        _ connection: PostgresConnection, begin: PostgresQuery = "BEGIN", logger: Logger,
        _ body: (PostgresConnection) async throws -> (Value, commit: Bool)
    ) async throws -> Value {
        try await connection.query(begin, logger: logger)
        do {
            let (value, commit) = try await body(connection)
            try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// An error as a sentence for logs, with the server's message when there is one.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] {
            return "\(error.serverInfo?[.sqlState] ?? "?"): \(message)"
        }
        return "\(error.code)\(error.underlying.map { " (\($0))" } ?? "")"
    }
}
