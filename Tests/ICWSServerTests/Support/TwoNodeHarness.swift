import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the two-node tests need from the environment: a PostgreSQL cluster (`OPENICWS_TEST_DATABASE_URL`),
/// and for the database restart test its binaries and data folder (`OPENICWS_TEST_PG_BIN`, `OPENICWS_TEST_PG_DATA`).
enum TwoNodeEnvironment {
    private static func variable(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    static let databaseURL = variable("OPENICWS_TEST_DATABASE_URL")
    static let postgresBin = variable("OPENICWS_TEST_PG_BIN")
    static let postgresData = variable("OPENICWS_TEST_PG_DATA")

    /// The built server and a database cluster to run it on.
    static var isEnabled: Bool { databaseURL != nil && BuiltServer.executable != nil }

    /// Also the cluster's own binaries and data folder, so a test may stop and start it.
    static var canRestartPostgres: Bool { isEnabled && postgresBin != nil && postgresData != nil }
}

enum TwoNodeHarnessError: Error, CustomStringConvertible {
    case notConfigured
    case badDatabaseURL(String)
    case toolFailed(command: String, status: Int32, output: String)

    var description: String {
        switch self {
        case .notConfigured: return "OPENICWS_TEST_DATABASE_URL is not set or the openicws executable was not built"
        case .badDatabaseURL(let url): return "cannot read the database URL \(url)"
        case .toolFailed(let command, let status, let output): return "`\(command)` exited with \(status):\n\(output)"
        }
    }
}

/// Runs a command-line tool (looked up in PATH) to its end, its output in a file.
///
/// Not `Foundation.Process`: on Linux it learns that a child ended when a descriptor the child inherited
/// closes, and a daemon the tool leaves behind (`pg_ctl start`) keeps that open for ever. So the tool runs
/// under bash with every descriptor above 2 closed, and a thread of its own waits for it with `waitpid`.
@discardableResult
func runTool(_ arguments: [String], allowFailure: Bool = false) async throws -> (status: Int32, output: String) {
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-tool-\(UUID().uuidString).out")
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let script = #"out=$1; shift; for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec "$@" </dev/null >"$out" 2>&1"#
    let argv: [UnsafeMutablePointer<CChar>?] = (["/bin/bash", "-c", script, "run-tool", outputFile.path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ)
    guard spawned == 0 else {
        throw TwoNodeHarnessError.toolFailed(command: arguments.joined(separator: " "), status: spawned, output: "posix_spawn failed")
    }
    let child = pid
    let raw: Int32 = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            continuation.resume(returning: status)
        }
    }
    // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
    let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    if status != 0 && !allowFailure {
        throw TwoNodeHarnessError.toolFailed(command: arguments.joined(separator: " "), status: status, output: output)
    }
    return (status, output)
}

/// A database of its own on the test cluster, made with `psql` and dropped afterwards.
struct FreshDatabase: Sendable {
    let name: String
    let url: String
    private let adminURL: String

    static func create() async throws -> FreshDatabase {
        guard let base = TwoNodeEnvironment.databaseURL else { throw TwoNodeHarnessError.notConfigured }
        guard var components = URLComponents(string: base) else { throw TwoNodeHarnessError.badDatabaseURL(base) }
        let name = "openicws_2n_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        components.path = "/" + name
        guard let url = components.string else { throw TwoNodeHarnessError.badDatabaseURL(base) }
        try await runTool(["psql", base, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        return FreshDatabase(name: name, url: url, adminURL: base)
    }

    func drop() async {
        _ = try? await runTool(["psql", adminURL, "-q", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], allowFailure: true)
    }
}

/// The PostgreSQL cluster behind `OPENICWS_TEST_DATABASE_URL`, stopped and started the way
/// `scripts/postgres-test-cluster.sh` does it (as the `postgres` user when running as root).
enum PostgresCluster {
    private static func ownerCommand(_ arguments: [String]) -> [String] {
        getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
    }

    private static func pgCtl() throws -> (binary: String, data: String) {
        guard let bin = TwoNodeEnvironment.postgresBin, let data = TwoNodeEnvironment.postgresData else {
            throw TwoNodeHarnessError.notConfigured
        }
        return (bin + "/pg_ctl", data)
    }

    static func stop() async throws {
        let (pgCtl, data) = try pgCtl()
        try await runTool(ownerCommand([pgCtl, "-D", data, "-m", "fast", "-w", "stop"]))
    }

    /// Starts the cluster unless it runs already. Its settings live in its `postgresql.conf`.
    static func start() async throws {
        let (pgCtl, data) = try pgCtl()
        let status = try await runTool(ownerCommand([pgCtl, "-D", data, "status"]), allowFailure: true)
        guard status.status != 0 else { return }
        let log = URL(fileURLWithPath: data).deletingLastPathComponent().appendingPathComponent("restart.log").path
        try await runTool(ownerCommand([pgCtl, "-D", data, "-w", "-l", log, "start"]))
    }
}

/// The admin token of every two-node test process.
let twoNodeAdminToken = "two-node-admin-\(UUID().uuidString)"

/// Nodes of one cluster run as `openicws` child processes on one fresh database; all are ended
/// (with whatever streams they hold) by `shutDown()`.
final class NodeCluster: Sendable {
    let database: FreshDatabase
    let folder: URL
    private let started = Mutex<(nodes: [ServerProcess], streams: [EventStreamRecorder])>(([], []))

    private init(database: FreshDatabase, folder: URL) {
        self.database = database
        self.folder = folder
    }

    /// Runs `body` with a cluster on a database of its own; nodes, streams and the database go afterwards.
    static func run<T: Sendable>(_ body: (NodeCluster) async throws -> T) async throws -> T {
        let database = try await FreshDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-2n-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cluster = NodeCluster(database: database, folder: folder)
        do {
            let value = try await body(cluster)
            await cluster.shutDown()
            return value
        } catch {
            await cluster.shutDown()
            throw error
        }
    }

    /// Starts a node `nodeId` on the shared database and waits until it answers HTTP.
    func startNode(_ nodeId: String, extraArguments: [String] = []) async throws -> ServerProcess {
        let executable = try #require(BuiltServer.executable)
        let node = try await ServerProcess(
            executable: executable, dataDirectory: folder.appendingPathComponent("unused-\(nodeId)").path,
            port: try freeLoopbackPort(), adminToken: twoNodeAdminToken,
            extraArguments: ["--database-url", database.url, "--node-id", nodeId] + extraArguments)
        started.withLock { $0.nodes.append(node) }
        return node
    }

    /// Opens an event stream for `login` on `node` (ended with the cluster).
    func openStream(_ node: ServerProcess, _ login: ServerProcess.Login) async throws -> EventStreamRecorder {
        let cookie = try #require(login.headers.first { $0.0 == "Cookie" }?.1)
        let recorder = try await EventStreamRecorder.open(
            url: "\(node.baseURL)/icws/\(login.sessionId)/messaging/messages", cookie: cookie)
        started.withLock { $0.streams.append(recorder) }
        return recorder
    }

    /// Logs `userId` in on `node`, opens its event stream, watches supervisor-assistance and waits for the
    /// snapshot; returns the stream and the ids in that snapshot.
    func supervisorWatch(
        _ userId: String, on node: ServerProcess, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (login: ServerProcess.Login, stream: EventStreamRecorder, snapshot: [String]) {
        let login = try await node.login(userId)
        let stream = try await openStream(node, login)
        #expect(await stream.status == 200, sourceLocation: sourceLocation)
        let put = try await node.send(login, .PUT, "/messaging/subscriptions/interactions/supervisor-assistance")
        try #require(put.status == .noContent, "supervisor-assistance PUT answered \(put.status): \(put.body)", sourceLocation: sourceLocation)
        let snapshot = try await stream.waitFor("a supervisor-assistance snapshot", seconds: 10) { $0.isSupervisorSnapshot }
        return (login, stream, snapshot.addedIds)
    }

    /// Ends every stream and node: SIGTERM, then SIGKILL for one that does not go within 5 s.
    func shutDown() async {
        let (nodes, streams) = started.withLock { ($0.nodes, $0.streams) }
        for stream in streams { await stream.close() }
        for node in nodes where node.process.isRunning {
            node.process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while node.process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            node.killHard()
        }
        await database.drop()
        try? FileManager.default.removeItem(at: folder)
    }
}

extension ServerProcess {
    /// Calls the admin API.
    func admin(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> Reply {
        try await request(method, path, headers: [("Authorization", "Bearer \(twoNodeAdminToken)")], json: json)
    }

    /// Creates an ACD interaction for `workgroup` (routed by this node) and returns its id and assigned agent.
    func routeInteraction(workgroup: String = "Support", sourceLocation: SourceLocation = #_sourceLocation) async throws -> (id: String, agent: String) {
        let reply = try await admin(.POST, "/admin/interactions", json: #"{"workgroup":"\#(workgroup)","type":"call","remoteName":"Caller"}"#)
        try #require(reply.status == .created, "create interaction answered \(reply.status): \(reply.body)", sourceLocation: sourceLocation)
        let id = try #require(reply.object["interactionId"] as? String, sourceLocation: sourceLocation)
        let agent = try #require(reply.object["agent"] as? String, "\(reply.body)", sourceLocation: sourceLocation)
        return (id, agent)
    }

    /// `POST …/interactions/{id}/agent-assistance`.
    func requestAssistance(_ login: Login, _ interactionId: String, text: String = "help") async throws -> Reply {
        try await send(login, .POST, "/interactions/\(interactionId)/agent-assistance", json: #"{"text":"\#(text)"}"#)
    }

    /// Requests assistance and returns the id, failing the test unless it answered 201.
    func requestAssistanceId(
        _ login: Login, _ interactionId: String, text: String = "help", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await requestAssistance(login, interactionId, text: text)
        try #require(reply.status == .created, "request assistance answered \(reply.status): \(reply.body)", sourceLocation: sourceLocation)
        return try #require(reply.object["assistanceId"] as? String, sourceLocation: sourceLocation)
    }

    /// `GET /health` (short timeout: it must answer while the database is down, too).
    func health() async -> Reply? {
        try? await request(.GET, "/health", timeout: .seconds(3))
    }
}

extension ServerProcess.Reply {
    var errorId: String? { object["errorId"] as? String }
}

extension ServerSentEvent {
    var isSupervisorMessage: Bool { object.type == supervisorType }
    var isSupervisorSnapshot: Bool { isSupervisorMessage && object.isDelta == false }
    /// The ids in a supervisor message's `requestsAdded`.
    var addedIds: [String] { (object.objects("requestsAdded") ?? []).compactMap { $0["assistanceId"] as? String } }
    var removedIds: [String] { object.strings("requestsRemoved") ?? [] }
    /// The `state` of an `assistanceRequestSubscriptionStateMessage`, nil for other messages.
    var subscriptionState: Int? { object.type == subscriptionStateType ? object["state"] as? Int : nil }
}

extension EventStreamRecorder {
    /// Waits until an event matching `matches` arrived (counting from event index `from`); fails the test after `seconds`.
    @discardableResult
    func waitFor(
        _ what: String, from start: Int = 0, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
        _ matches: @Sendable (ServerSentEvent) -> Bool
    ) async throws -> ServerSentEvent {
        try await waitForIndexed(what, from: start, seconds: seconds, sourceLocation: sourceLocation, matches).event
    }

    /// Like `waitFor`, also giving the event's index in `events`.
    func waitForIndexed(
        _ what: String, from start: Int = 0, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
        _ matches: @Sendable (ServerSentEvent) -> Bool
    ) async throws -> (index: Int, event: ServerSentEvent) {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let all = events
            if let index = all.indices.dropFirst(start).first(where: { matches(all[$0]) }) { return (index, all[index]) }
            if Date() > deadline || isClosed {
                Issue.record(
                    "no \(what) within \(seconds) s\(isClosed ? " (the stream closed)" : ""); events: \(all.map(\.data))",
                    sourceLocation: sourceLocation)
                throw StreamWaitTimeout()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// How often `id` arrived in a supervisor message's `requestsAdded` (snapshots included).
    func timesAdded(_ id: String) -> Int {
        events.filter(\.isSupervisorMessage).reduce(0) { $0 + $1.addedIds.filter { $0 == id }.count }
    }

    /// How often `id` arrived in a supervisor message's `requestsRemoved`.
    func timesRemoved(_ id: String) -> Int {
        events.filter(\.isSupervisorMessage).reduce(0) { $0 + $1.removedIds.filter { $0 == id }.count }
    }
}

struct StreamWaitTimeout: Error {}
