import Foundation
import ICWSCore
import ICWSModel
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded store: one SQLite database in WAL mode.
///
/// Every batch is one transaction; `synchronous=FULL` makes a committed batch survive a crash
/// of the process or the machine.
public final class SQLiteAssistanceStore: SingleNodeStore {
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    /// The database file.
    public let path: String

    /// The database file's device and inode when it was opened: SQLite keeps writing to a deleted or replaced
    /// file, which would lose everything at the next start, so every write checks the file is still the same.
    private let identity: FileIdentity?

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool, path: String) {
        self.connection = connection
        self.threadPool = threadPool
        self.path = path
        self.identity = FileIdentity(path: path)
    }

    /// Opens (and creates if needed) `openicws.sqlite` in `directory`.
    public static func open(directory: String, logger: Logger = Logger(label: "openicws.sqlite")) async throws -> SQLiteAssistanceStore {
        try DataDirectoryError.prepare(directory)
        let path = (directory as NSString).appendingPathComponent("openicws.sqlite")
        // One thread: SQLite calls on a connection are serial anyway, and the order of commits must hold.
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw DataDirectoryError(directory: directory, problem: "\(path) cannot be opened as a SQLite database (\(error))", fix: "move the file away or choose another --data")
        }
        let store = SQLiteAssistanceStore(connection: connection, threadPool: threadPool, path: path)
        do {
            try await store.migrate()
        } catch let error as SQLiteError where error.reason == .busy || error.reason == .locked {
            try? await store.close()
            throw DataDirectoryError(
                directory: directory, problem: "\(path) is locked by another process (\(error))",
                fix: "stop the other openicws using this --data, or give this one its own --data")
        } catch {
            try? await store.close()
            throw DataDirectoryError(
                directory: directory, problem: "\(path) cannot be prepared (\(error))",
                fix: "if it is not an OpenICWS database, move it away; if the disk is full or read-only, free or remount it")
        }
        return store
    }

    private func migrate() async throws {
        for statement in [
            // Before WAL is first used: the WAL index then lives in this process's memory, not in a mapped
            // `-shm` file (a mapped file that cannot grow, on a full or read-only disk, kills the process with
            // SIGBUS), and the lock held until close keeps a second server off the same --data.
            "PRAGMA locking_mode=EXCLUSIVE",
            "PRAGMA busy_timeout=2000",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
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
            "CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL)",
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
            // Added in 0.5: what an interaction carries beyond the columns above (a placed call's direction and
            // number, custom attributes), and users' statuses; both as JSON text.
            "CREATE TABLE IF NOT EXISTS interaction_extras (id TEXT PRIMARY KEY, extras TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS user_statuses (user_id TEXT PRIMARY KEY, status TEXT NOT NULL)",
            // Every batch is one multi-row INSERT into this view; its triggers apply each row to its table.
            // One statement is one hop to SQLite's thread and one atomic, durable transaction.
            "CREATE VIEW IF NOT EXISTS changes (kind, c1, c2, c3, c4, c5, c6, c7) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0",
            """
            CREATE TRIGGER IF NOT EXISTS changes_interaction_extras INSTEAD OF INSERT ON changes WHEN NEW.kind = 'interaction_extras' BEGIN
                INSERT OR REPLACE INTO interaction_extras (id, extras) VALUES (NEW.c1, NEW.c2);
            END
            """,
            """
            CREATE TRIGGER IF NOT EXISTS changes_status INSTEAD OF INSERT ON changes WHEN NEW.kind = 'status' BEGIN
                INSERT OR REPLACE INTO user_statuses (user_id, status) VALUES (NEW.c1, NEW.c2);
            END
            """,
            """
            CREATE TRIGGER IF NOT EXISTS changes_interaction INSTEAD OF INSERT ON changes WHEN NEW.kind = 'interaction' BEGIN
                INSERT OR REPLACE INTO interactions (id, type, remote_name, workgroup, agent, state, created_at)
                VALUES (NEW.c1, NEW.c2, NEW.c3, NEW.c4, NEW.c5, NEW.c6, NEW.c7);
            END
            """,
            """
            CREATE TRIGGER IF NOT EXISTS changes_request INSTEAD OF INSERT ON changes WHEN NEW.kind = 'request' BEGIN
                INSERT INTO assistance_requests (id, number, interaction_id, workgroup, initiator, state, created_at)
                VALUES (NEW.c1, NEW.c2, NEW.c3, NEW.c4, NEW.c5, NEW.c6, NEW.c7)
                ON CONFLICT(id) DO UPDATE SET state = excluded.state;
            END
            """,
            """
            CREATE TRIGGER IF NOT EXISTS changes_participant INSTEAD OF INSERT ON changes WHEN NEW.kind = 'participant' BEGIN
                INSERT OR REPLACE INTO assistance_participants (assistance_id, position, user_id, action)
                VALUES (NEW.c1, NEW.c2, NEW.c3, NEW.c4);
            END
            """,
            """
            CREATE TRIGGER IF NOT EXISTS changes_line INSTEAD OF INSERT ON changes WHEN NEW.kind = 'line' BEGIN
                INSERT INTO assistance_lines (assistance_id, position, participant_id, text, time_added)
                VALUES (NEW.c1, NEW.c2, NEW.c3, NEW.c4, NEW.c5);
            END
            """,
        ] {
            _ = try await connection.query(statement, [])
        }
    }

    public func load() async throws -> StoredState {
        let interactions = try await connection.query(
            """
            SELECT i.id, i.type, i.remote_name, i.workgroup, i.agent, i.state, i.created_at, x.extras
            FROM interactions i LEFT JOIN interaction_extras x ON x.id = i.id WHERE i.state <> 'disconnected'
            """, []
        ).compactMap { row -> Interaction? in
            guard let id = row.column("id")?.string, let type = row.column("type")?.string,
                let state = row.column("state")?.string.flatMap(Interaction.State.init(rawValue:))
            else { return nil }
            var interaction = Interaction(
                id: id, type: type, remoteName: row.column("remote_name")?.string ?? "",
                workgroup: row.column("workgroup")?.string, agent: row.column("agent")?.string ?? "", state: state,
                createdAt: Date(timeIntervalSince1970: row.column("created_at")?.double ?? 0))
            interaction.applyExtras(row.column("extras")?.string)
            return interaction
        }
        let statuses = try await connection.query("SELECT status FROM user_statuses ORDER BY user_id", []).compactMap { row in
            row.column("status")?.string.flatMap { try? StoredJSON.decode(UserStatus.self, from: $0) }
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
            highestInteractionNumber: Int64(highestInteraction), highestAssistanceNumber: Int64(highestRequest), statuses: statuses)
    }

    public func commit(
        after lastApplied: Int64, node: String, _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64? {
        let events = try await prepare([]).filter(\.isDurableOnOneNode)
        guard !events.isEmpty else { return nil }
        try checkFile()
        let statements = Self.statements(for: events)
        if statements.count == 1, let (sql, binds) = statements.first {
            _ = try await connection.query(sql, binds)
            return nil
        }
        // Only a very large batch needs several statements, and then an explicit transaction.
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            for (sql, binds) in statements {
                _ = try await connection.query(sql, binds)
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
        return nil
    }

    /// Deletes every row of the domain's tables, in one transaction.
    public func reset() async throws {
        try checkFile()
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            for table in [
                "assistance_lines", "assistance_participants", "assistance_requests", "interaction_extras", "interactions", "user_statuses",
            ] {
                _ = try await connection.query("DELETE FROM \(table)", [])
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    /// Succeeds only when a real write commits (a transaction that writes nothing succeeds on a full or
    /// read-only disk) and the database file is still the one that was opened.
    public func probe() async throws {
        try checkFile()
        _ = try await connection.query(
            "INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, ?)", [.float(Date().timeIntervalSince1970)])
    }

    private func checkFile() throws {
        guard let identity, FileIdentity(path: path) == identity else {
            throw StoreFailure.unavailable("the database file \(path) was deleted or replaced while the server ran")
        }
    }

    /// The batch as multi-row INSERTs into the `changes` view, in order (a row touched twice ends with
    /// its last value, as if the events were stored one by one); usually a single statement.
    static func statements(for operations: [DomainEvent]) -> [(String, [SQLiteData])] {
        let rowsPerStatement = 30_000 / 8
        // The binds of every row, eight per row: one row per event, a second for an interaction with extras.
        var binds: [SQLiteData] = []
        binds.reserveCapacity(operations.count * 8)
        for event in operations {
            binds += row(event)
            if case .interactionSaved(let i) = event, case let extras = i.extrasJSON, !extras.isEmpty {
                binds += [.text("interaction_extras"), .text(i.id), .text(extras), .null, .null, .null, .null, .null]
            }
        }
        var statements: [(String, [SQLiteData])] = []
        var start = 0
        while start < binds.count {
            let chunk = binds[start..<min(binds.count, start + rowsPerStatement * 8)]
            let sql = "INSERT INTO changes (kind, c1, c2, c3, c4, c5, c6, c7) VALUES "
                + Array(repeating: "(?,?,?,?,?,?,?,?)", count: chunk.count / 8).joined(separator: ",")
            statements.append((sql, Array(chunk)))
            start += rowsPerStatement * 8
        }
        return statements
    }

    /// One event as the eight columns of a `changes` row.
    static func row(_ event: DomainEvent) -> [SQLiteData] {
        switch event {
        case .interactionSaved(let i):
            return [.text("interaction"), .text(i.id), .text(i.type), .text(i.remoteName), i.workgroup.map { .text($0) } ?? .null,
                    .text(i.agent), .text(i.state.rawValue), .float(i.createdAt.timeIntervalSince1970)]
        case .statusSaved(let status):
            return [.text("status"), .text(status.userId), .text((try? StoredJSON.encode(status)) ?? "{}"), .null, .null, .null, .null, .null]
        case .requestSaved(let r):
            return [.text("request"), .text(r.id), .integer(SQLiteInt64(AssistanceIdentifiers.number(of: r.id) ?? 0)),
                    .text(r.interactionId), .text(r.workgroup), .text(r.initiator), .integer(SQLiteInt64(r.state.rawValue)),
                    .float(r.createdAt.timeIntervalSince1970)]
        case .participantSaved(let id, let position, let p):
            return [.text("participant"), .text(id), .integer(SQLiteInt64(position)), .text(p.userId),
                    .integer(SQLiteInt64(p.action.rawValue)), .null, .null, .null]
        case .chatLineAdded(let id, let position, let line):
            return [.text("line"), .text(id), .integer(SQLiteInt64(position)), .text(line.participantId), .text(line.text),
                    .float(line.timeAdded.timeIntervalSince1970), .null, .null]
        case .presence, .nodeGone:
            // Filtered out before: presence lives only as long as this node's sessions.
            return [.null, .null, .null, .null, .null, .null, .null, .null]
        }
    }

    public func close() async throws {
        try await connection.close()
        try await threadPool.shutdownGracefully()
    }
}

/// A file's device and inode.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}

/// `--data` cannot hold the database: names the folder, the problem and what to do.
public struct DataDirectoryError: Error, CustomStringConvertible, Sendable {
    public let directory: String
    public let problem: String
    public let fix: String

    public var description: String { "--data \(directory): \(problem); \(fix)" }

    /// Creates the folder if missing and checks that this process can write in it.
    static func prepare(_ directory: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw DataDirectoryError(directory: directory, problem: "is a file, not a folder", fix: "give a folder (it is created if missing)")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
                let reason = underlying.map { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : $0.localizedDescription }
                    ?? error.localizedDescription
                throw DataDirectoryError(
                    directory: directory, problem: "the folder cannot be created (\(reason))",
                    fix: "create it yourself (mkdir -p \(directory)) where this user may write, or choose another --data")
            }
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw DataDirectoryError(
                directory: directory, problem: "this user (uid \(getuid())) cannot write in it (\(reason))",
                fix: "give this user write access (chown or chmod), remount it read-write, or choose another --data")
        }
    }
}
