import Foundation
import ICWSCore
import ICWSModel
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded store: one SQLite database in WAL mode.
///
/// Every batch is one transaction; `synchronous=FULL` makes a committed batch survive a crash
/// of the process or the machine.
public final class SQLiteAssistanceStore: AssistanceStore {
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    /// The database file.
    public let path: String

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool, path: String) {
        self.connection = connection
        self.threadPool = threadPool
        self.path = path
    }

    /// Opens (and creates if needed) `openicws.sqlite` in `directory`.
    public static func open(directory: String, logger: Logger = Logger(label: "openicws.sqlite")) async throws -> SQLiteAssistanceStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("openicws.sqlite")
        // One thread: SQLite calls on a connection are serial anyway, and the order of commits must hold.
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threadPool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        let store = SQLiteAssistanceStore(connection: connection, threadPool: threadPool, path: path)
        try await store.migrate()
        return store
    }

    private func migrate() async throws {
        for statement in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA busy_timeout=5000",
            """
            CREATE TABLE IF NOT EXISTS interactions (
                id TEXT PRIMARY KEY, type TEXT NOT NULL, remote_name TEXT NOT NULL, workgroup TEXT,
                agent TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS assistance_requests (
                id TEXT PRIMARY KEY, number INTEGER NOT NULL, interaction_id TEXT NOT NULL, workgroup TEXT NOT NULL,
                initiator TEXT NOT NULL, state INTEGER NOT NULL, created_at REAL NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS assistance_requests_state ON assistance_requests(state)",
            """
            CREATE TABLE IF NOT EXISTS assistance_participants (
                assistance_id TEXT NOT NULL, position INTEGER NOT NULL, user_id TEXT NOT NULL, action INTEGER NOT NULL,
                PRIMARY KEY (assistance_id, position))
            """,
            """
            CREATE TABLE IF NOT EXISTS assistance_lines (
                assistance_id TEXT NOT NULL, position INTEGER NOT NULL, participant_id TEXT NOT NULL, text TEXT NOT NULL,
                time_added REAL NOT NULL, PRIMARY KEY (assistance_id, position))
            """,
        ] {
            _ = try await connection.query(statement, [])
        }
    }

    public func load() async throws -> StoredState {
        let interactions = try await connection.query(
            "SELECT id, type, remote_name, workgroup, agent, state, created_at FROM interactions WHERE state <> 'disconnected'", []
        ).compactMap { row -> Interaction? in
            guard let id = row.column("id")?.string, let type = row.column("type")?.string,
                let state = row.column("state")?.string.flatMap(Interaction.State.init(rawValue:))
            else { return nil }
            return Interaction(
                id: id, type: type, remoteName: row.column("remote_name")?.string ?? "",
                workgroup: row.column("workgroup")?.string, agent: row.column("agent")?.string ?? "", state: state,
                createdAt: Date(timeIntervalSince1970: row.column("created_at")?.double ?? 0))
        }
        var requests: [String: AssistanceRequest] = [:]
        var order: [String] = []
        for row in try await connection.query(
            "SELECT id, interaction_id, workgroup, initiator, state, created_at FROM assistance_requests WHERE state <> 2 ORDER BY number", [])
        {
            guard let id = row.column("id")?.string, let interactionId = row.column("interaction_id")?.string,
                let workgroup = row.column("workgroup")?.string, let initiator = row.column("initiator")?.string,
                let state = row.column("state")?.integer.flatMap({ AssistanceRequestState(rawValue: Int($0)) })
            else { continue }
            requests[id] = AssistanceRequest(
                id: id, interactionId: interactionId, workgroup: workgroup, initiator: initiator, state: state,
                participants: [], lines: [], createdAt: Date(timeIntervalSince1970: row.column("created_at")?.double ?? 0))
            order.append(id)
        }
        for row in try await connection.query(
            """
            SELECT p.assistance_id, p.user_id, p.action FROM assistance_participants p
            JOIN assistance_requests r ON r.id = p.assistance_id WHERE r.state <> 2 ORDER BY p.assistance_id, p.position
            """, [])
        {
            guard let id = row.column("assistance_id")?.string, let userId = row.column("user_id")?.string,
                let action = row.column("action")?.integer.flatMap({ AssistanceParticipantAction(rawValue: Int($0)) })
            else { continue }
            requests[id]?.participants.append(.init(userId: userId, action: action))
        }
        for row in try await connection.query(
            """
            SELECT l.assistance_id, l.participant_id, l.text, l.time_added FROM assistance_lines l
            JOIN assistance_requests r ON r.id = l.assistance_id WHERE r.state <> 2 ORDER BY l.assistance_id, l.position
            """, [])
        {
            guard let id = row.column("assistance_id")?.string, let participantId = row.column("participant_id")?.string,
                let text = row.column("text")?.string
            else { continue }
            requests[id]?.lines.append(.init(
                participantId: participantId, text: text,
                timeAdded: Date(timeIntervalSince1970: row.column("time_added")?.double ?? 0)))
        }
        let highestInteraction = try await connection.query("SELECT MAX(CAST(id AS INTEGER)) AS n FROM interactions", [])
            .first?.column("n")?.integer ?? 0
        let highestRequest = try await connection.query("SELECT MAX(number) AS n FROM assistance_requests", [])
            .first?.column("n")?.integer ?? 0
        return StoredState(
            interactions: interactions, requests: order.compactMap { requests[$0] },
            highestInteractionNumber: Int64(highestInteraction), highestAssistanceNumber: Int64(highestRequest))
    }

    public func commit(_ operations: [StoreOperation]) async throws {
        if operations.isEmpty {
            // A probe: succeeds only when the database can be written.
            _ = try await connection.query("BEGIN IMMEDIATE", [])
            _ = try await connection.query("ROLLBACK", [])
            return
        }
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            for (sql, binds) in Self.statements(for: operations) {
                _ = try await connection.query(sql, binds)
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    /// The batch as a few multi-row statements, one per table: each statement costs a thread hop and a
    /// parse, so a batch of hundreds of changes becomes a handful of statements. When a batch touches a
    /// row twice, the last value wins, as if the operations ran one by one.
    static func statements(for operations: [StoreOperation]) -> [(String, [SQLiteData])] {
        var interactions = OrderedLast<String, Interaction>()
        var requests = OrderedLast<String, AssistanceRequest>()
        var participants = OrderedLast<String, (String, Int, AssistanceRequest.Participant)>()
        var lines: [(String, Int, AssistanceRequest.ChatLine)] = []
        for operation in operations {
            switch operation {
            case .saveInteraction(let interaction): interactions.set(interaction.id, interaction)
            case .saveRequest(let request): requests.set(request.id, request)
            case .saveParticipant(let id, let position, let participant): participants.set("\(id)#\(position)", (id, position, participant))
            case .addChatLine(let id, let position, let line): lines.append((id, position, line))
            }
        }
        var statements: [(String, [SQLiteData])] = []
        func add<Row>(_ rows: [Row], _ head: String, _ columns: Int, _ tail: String, _ bind: (Row) -> [SQLiteData]) {
            // Stay well below SQLite's bound-parameter limit.
            let perStatement = max(1, 30_000 / columns)
            let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(rows.count, start + perStatement)]
                let sql = head + " VALUES " + Array(repeating: tuple, count: chunk.count).joined(separator: ",") + tail
                statements.append((sql, chunk.flatMap(bind)))
                start += perStatement
            }
        }
        add(interactions.values, "INSERT OR REPLACE INTO interactions (id, type, remote_name, workgroup, agent, state, created_at)", 7, "") { i in
            [.text(i.id), .text(i.type), .text(i.remoteName), i.workgroup.map { .text($0) } ?? .null, .text(i.agent),
             .text(i.state.rawValue), .float(i.createdAt.timeIntervalSince1970)]
        }
        add(requests.values, "INSERT INTO assistance_requests (id, number, interaction_id, workgroup, initiator, state, created_at)", 7,
            " ON CONFLICT(id) DO UPDATE SET state = excluded.state") { r in
            [.text(r.id), .integer(SQLiteInt64(AssistanceIdentifiers.number(of: r.id) ?? 0)), .text(r.interactionId),
             .text(r.workgroup), .text(r.initiator), .integer(SQLiteInt64(r.state.rawValue)), .float(r.createdAt.timeIntervalSince1970)]
        }
        add(participants.values, "INSERT OR REPLACE INTO assistance_participants (assistance_id, position, user_id, action)", 4, "") { row in
            [.text(row.0), .integer(SQLiteInt64(row.1)), .text(row.2.userId), .integer(SQLiteInt64(row.2.action.rawValue))]
        }
        add(lines, "INSERT INTO assistance_lines (assistance_id, position, participant_id, text, time_added)", 5, "") { row in
            [.text(row.0), .integer(SQLiteInt64(row.1)), .text(row.2.participantId), .text(row.2.text),
             .float(row.2.timeAdded.timeIntervalSince1970)]
        }
        return statements
    }

    public func close() async throws {
        try await connection.close()
        try await threadPool.shutdownGracefully()
    }
}

/// Keys in first-seen order, each with the last value set for it.
struct OrderedLast<Key: Hashable, Value> {
    private var index: [Key: Int] = [:]
    private(set) var values: [Value] = []

    mutating func set(_ key: Key, _ value: Value) {
        if let position = index[key] {
            values[position] = value
        } else {
            index[key] = values.count
            values.append(value)
        }
    }
}
