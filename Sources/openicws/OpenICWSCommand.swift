import ArgumentParser
import Foundation
import HummingbirdBcrypt
import ICWSCore
import ICWSPostgres
import ICWSServer
import ICWSStore
import Logging
import NIOCore
import NIOPosix

@main
struct OpenICWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openicws",
        abstract: "An ICWS-compatible server for agent assistance in contact centers.",
        version: ICWSMetrics.version,
        subcommands: [
            Serve.self, HashPassword.self, WatchCommand.self, RequestCommand.self, SayCommand.self, CompleteCommand.self,
            AcceptCommand.self, IgnoreCommand.self, InteractionsCommand.self, SimulateCommand.self,
        ],
        defaultSubcommand: Serve.self)

    /// The server runs Swift's tasks and actors on NIO's event loops (the loops it serves from), set before
    /// anything else runs: a request's answer, the core and the streams then share two threads, and answering
    /// wakes no thread of Swift's own pool (in `icws-bench center`: 10–27 % less CPU per request, see
    /// docs/PERFORMANCE.md). The client commands keep Swift's pool.
    static func main() async {
        if (try? parseAsRoot(nil)) is Serve {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the ICWS server (embedded SQLite; the demo directory unless --directory is given).")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8018

    @Option(name: .customLong("data"), help: "Folder for the SQLite database (created if missing).")
    var data = "./openicws-data"

    @Option(help: "Directory file with users and workgroups (JSON). Without it the embedded demo directory is used.")
    var directory: String?

    @Option(help: "Token that guards the admin API (/admin/…). Also read from OPENICWS_ADMIN_TOKEN. Without one the admin API is off.")
    var adminToken: String?

    @Option(help: "Emulate an older ICWS feature version, e.g. interactions=9 (repeatable).")
    var emulate: [String] = []

    @Option(help: "Seconds without requests (and without an open event stream) after which a session ends.")
    var sessionIdleSeconds: Double = 300

    @Option(help: "Seconds an event stream may stay silent before it gets a ':ping' keep-alive.")
    var ssePingSeconds: Double = 15

    @Option(help: "Messages a session may have waiting before a watch's deltas collapse into a snapshot.")
    var mailboxCapacity = 1_000

    @Option(help: "Seconds the store may stay unavailable before suspended watches are faulted (state 3) and end.")
    var storeFaultSeconds: Double = 120

    @Option(help: "Browser origin allowed to call the API with credentials (repeatable). Default: none.")
    var corsOrigin: [String] = []

    @Option(help: "Keep all state in PostgreSQL (postgres://USER:PASS@HOST:PORT/DB) and run as one of several nodes sharing it. Also read from OPENICWS_DATABASE_URL. Without it, SQLite in --data.")
    var databaseURL: String?

    @Option(help: "This node's name in the shared database (default: host name, process id and a random suffix).")
    var nodeId: String?

    @Option(help: "Seconds without a heartbeat after which another node counts as gone (PostgreSQL only).")
    var nodeTimeoutSeconds: Double = 15

    @Option(help: "Watches (lists, details, queues) one session may hold at once.")
    var maxWatchesPerSession = 50

    @Option(help: "Chat lines one assistance request may hold (the problem description included).")
    var maxChatLines = 500

    @Option(help: "Sessions one user may have on this node at once. Default: no cap.")
    var maxSessionsPerUser: Int?

    @Option(help: "Failed logins for one user id within --login-failure-window-seconds before further attempts answer 429 (0: no limit).")
    var loginFailuresPerUser = 10

    @Option(help: "Failed logins from one client address within the window before further attempts answer 429 (0: no limit).")
    var loginFailuresPerAddress = 50

    @Option(help: "Seconds over which failed logins are counted.")
    var loginFailureWindowSeconds: Double = 300

    @Option(help: "Seconds a login may wait for a password check (bcrypt, on threads of its own); past it, 503 with Retry-After.")
    var maxLoginWaitSeconds: Double = 5

    @Option(help: "Seconds a stopping server (SIGTERM, SIGINT) may take before it exits regardless.")
    var shutdownGraceSeconds: Double = 10

    @Option(help: "Seconds a request head may take to arrive complete (from its first byte; from the connection's opening for the first request).")
    var requestHeadTimeoutSeconds: Double = 10

    @Option(help: "Seconds a request body may take to arrive after its head.")
    var requestBodyTimeoutSeconds: Double = 30

    @Option(help: "Seconds a connection with no request in flight and no event stream stays open.")
    var connectionIdleSeconds: Double = 60

    @Option(help: "Seconds a connection may stay unable to take more data (the client stopped reading) before it is closed.")
    var writeStallSeconds: Double = 30

    @Option(help: "Connections served at once; past it, 503 (but /health). Default: the open-file limit minus 128.")
    var maxConnections: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text (one readable line per event) or json (one JSON object per line).")
    var logFormat: String = "text"

    @Flag(help: "Log every HTTP request (method, route, status, duration, user, client address) at info level, label openicws.access.")
    var accessLog = false

    func validate() throws {
        guard (1...65_535).contains(port) || port == 0 else { throw ValidationError("--port must be between 1 and 65535") }
        guard sessionIdleSeconds > 0 else { throw ValidationError("--session-idle-seconds must be positive") }
        guard ssePingSeconds > 0 else { throw ValidationError("--sse-ping-seconds must be positive") }
        guard mailboxCapacity >= 10 else { throw ValidationError("--mailbox-capacity must be at least 10") }
        guard maxWatchesPerSession >= 1 else { throw ValidationError("--max-watches-per-session must be at least 1") }
        guard maxChatLines >= 1 else { throw ValidationError("--max-chat-lines must be at least 1") }
        if let maxSessionsPerUser, maxSessionsPerUser < 1 { throw ValidationError("--max-sessions-per-user must be at least 1") }
        guard loginFailuresPerUser >= 0, loginFailuresPerAddress >= 0 else { throw ValidationError("--login-failures-per-… must not be negative") }
        guard loginFailureWindowSeconds > 0 else { throw ValidationError("--login-failure-window-seconds must be positive") }
        guard shutdownGraceSeconds >= 1 else { throw ValidationError("--shutdown-grace-seconds must be at least 1") }
        for (name, value) in [
            ("--request-head-timeout-seconds", requestHeadTimeoutSeconds), ("--request-body-timeout-seconds", requestBodyTimeoutSeconds),
            ("--connection-idle-seconds", connectionIdleSeconds), ("--write-stall-seconds", writeStallSeconds),
        ] where !(value > 0) {
            throw ValidationError("\(name) must be positive")
        }
        guard maxLoginWaitSeconds >= 0 else { throw ValidationError("--max-login-wait-seconds must not be negative") }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        guard nodeTimeoutSeconds >= 3 else { throw ValidationError("--node-timeout-seconds must be at least 3") }
        guard StandardErrorLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format: unknown format '\(logFormat)' (text or json)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = StandardErrorLogHandler.Format(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, level: level, format: format) }
        ICWSMetrics.bootstrap()
        let logger = Logger(label: "openicws")

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.dataDirectory = data
        configuration.directoryFile = directory
        configuration.adminToken = ConnectionOptions.adminToken(adminToken)
        do {
            configuration.features = try FeatureVersions.parse(emulate)
        } catch {
            throw ValidationError("--emulate: \(error)")
        }
        configuration.sessionIdleSeconds = sessionIdleSeconds
        configuration.ssePingSeconds = ssePingSeconds
        configuration.mailboxCapacity = mailboxCapacity
        configuration.corsOrigins = corsOrigin
        configuration.storeFaultSeconds = storeFaultSeconds
        configuration.nodeTimeoutSeconds = nodeTimeoutSeconds
        configuration.loginFailuresPerUser = loginFailuresPerUser
        configuration.loginFailuresPerAddress = loginFailuresPerAddress
        configuration.loginFailureWindowSeconds = loginFailureWindowSeconds
        configuration.limits = Limits(
            watchesPerSession: maxWatchesPerSession, chatLinesPerRequest: maxChatLines, sessionsPerUser: maxSessionsPerUser)
        configuration.heartbeatSeconds = max(1, nodeTimeoutSeconds / 3)
        configuration.shutdownGraceSeconds = shutdownGraceSeconds
        configuration.accessLog = accessLog
        configuration.maxLoginWaitSeconds = maxLoginWaitSeconds
        configuration.connections.headTimeoutSeconds = requestHeadTimeoutSeconds
        configuration.connections.bodyTimeoutSeconds = requestBodyTimeoutSeconds
        configuration.connections.idleTimeoutSeconds = connectionIdleSeconds
        configuration.connections.writeStallSeconds = writeStallSeconds
        let descriptors = DescriptorLimit.raiseToHard()
        configuration.connections.maxConnections = maxConnections
        logger.info("connections", metadata: [
            "maxConnections": "\(configuration.connections.effectiveMaxConnections)", "openFileLimit": "\(descriptors)"])
        let processInfo = ProcessInfo.processInfo
        configuration.node = nodeId ?? "\(processInfo.hostName)-\(processInfo.processIdentifier)-\(UInt16.random(in: 0...UInt16.max))"

        let loaded: Directory
        if let directory {
            do {
                loaded = try Directory.load(file: directory)
            } catch let error as DirectoryFileError {
                logger.critical("cannot start: \(error)")
                throw ExitCode(2)
            }
            logger.info("directory loaded", metadata: ["file": "\(directory)", "users": "\(loaded.users.count)", "workgroups": "\(loaded.workgroups.count)"])
            if loaded.users.isEmpty {
                logger.warning("the directory file has no users: nobody can log in", metadata: ["file": "\(directory)"])
            } else if loaded.workgroups.isEmpty {
                logger.warning("the directory file has no workgroups: no interaction can be ACD-routed", metadata: ["file": "\(directory)"])
            }
        } else {
            loaded = Directory.demo()
            logger.warning("no --directory given: using the embedded demo directory; every demo password is 1234")
        }
        let url = databaseURL ?? processInfo.environment["OPENICWS_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url else {
            let server: OpenICWS
            do {
                server = try await OpenICWS.make(configuration: configuration, directory: loaded, logger: logger)
            } catch let error as DataDirectoryError {
                logger.critical("cannot start: \(error)")
                throw ExitCode(2)
            }
            announce(configuration, store: "sqlite \(data)", logger: logger)
            try await serve(server, logger: logger)
            return
        }
        let store: PostgresAssistanceStore
        do {
            store = try PostgresAssistanceStore.connect(url: url, logger: logger)
        } catch {
            throw ValidationError("--database-url: \(error)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            do {
                try await store.migrate()
            } catch {
                logger.critical("cannot start: the database at --database-url could not be prepared: \(error)")
                try? await store.close()
                throw ExitCode(2)
            }
            let server = try await OpenICWS.make(configuration: configuration, directory: loaded, store: store, logger: logger)
            announce(configuration, store: "postgresql, node \(configuration.node)", logger: logger)
            // Stops on SIGTERM/SIGINT (or fails to serve) and closes the store either way, which ends its run().
            try await serve(server, logger: logger)
            try await group.waitForAll()
        }
    }

    /// Runs the server; a failure to serve (the address is taken, say) is one line naming the address, exit 1.
    private func serve(_ server: OpenICWS, logger: Logger) async throws {
        do {
            try await server.run()
        } catch {
            logger.critical("cannot serve on \(host):\(port): \(error)")
            throw ExitCode(1)
        }
    }

    private func announce(_ configuration: ServerConfiguration, store: String, logger: Logger) {
        logger.info("OpenICWS starting", metadata: [
            "address": "http://\(host):\(port)", "store": "\(store)",
            "admin": "\(configuration.adminToken == nil ? "off" : "on")",
            "features": "\(configuration.features.featureInfoList.map { "\($0.featureId)=\($0.version)" }.joined(separator: ","))",
        ])
    }
}

struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print a bcrypt hash of a password for the directory file (reads stdin when no password is given).")

    @Argument(help: "The password. Omit it to read one line from standard input (keeps it out of shell history).")
    var password: String?

    @Option(help: "bcrypt cost (4–31).")
    var cost: UInt8 = 10

    func validate() throws {
        guard (4...31).contains(cost) else { throw ValidationError("--cost must be between 4 and 31") }
    }

    func run() throws {
        guard let text = password ?? readLine(strippingNewline: true), !text.isEmpty else {
            throw ValidationError("no password given")
        }
        print(Bcrypt.hash(text, cost: cost))
    }
}
