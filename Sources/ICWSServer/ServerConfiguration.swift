import ICWSCore
import NIOCore

/// Everything `openicws serve` can be told.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8018
    /// Holds the SQLite database.
    public var dataDirectory = "./openicws-data"
    /// Directory file; nil uses the embedded demo directory.
    public var directoryFile: String?
    /// Guards the admin API; nil turns it off (404).
    public var adminToken: String?
    public var features = FeatureVersions()
    public var sessionIdleSeconds: Double = 300
    /// Seconds an event stream may write nothing before it gets a `:ping` keep-alive (checked once a second).
    public var ssePingSeconds: Double = 15
    /// The `retry:` the event stream advises, in milliseconds.
    public var sseRetryMilliseconds = 3_000
    public var mailboxCapacity = 1_000
    /// Messages kept per session, after a stream sent them, for `Last-Event-ID` replay; older resumes get snapshots.
    public var replayCapacity = 200
    /// Seconds of store failure after which suspended watches are faulted (`state:3`) and end.
    public var storeFaultSeconds: Double = 120
    public var corsOrigins: [String] = []
    /// This node's name in a shared store (PostgreSQL); unique per running process.
    public var node = "local"
    /// Seconds between a node's heartbeats in a shared store.
    public var heartbeatSeconds: Double = 5
    /// Seconds without a heartbeat after which a node's users stop counting for routing.
    public var nodeTimeoutSeconds: Double = 15
    /// What one user may make the server hold (watches, chat lines, sessions).
    public var limits = Limits()
    /// Failed logins allowed per user id, and per client address, within `loginFailureWindowSeconds`; 0: no limit.
    public var loginFailuresPerUser = 10
    public var loginFailuresPerAddress = 50
    public var loginFailureWindowSeconds: Double = 300
    /// Timeouts and the cap on connections.
    public var connections = ConnectionPolicy()
    /// Seconds a stopping server waits for streams and requests before it exits regardless.
    public var shutdownGraceSeconds: Double = 10
    /// Seconds an event stream may stay open after its session ended (logout, expiry) before its
    /// connection is closed, whether or not the client read the goodbye.
    public var abandonedStreamSeconds: Double = 5
    /// Seconds a login may wait for a password check (bcrypt) before it answers 503 with Retry-After.
    public var maxLoginWaitSeconds: Double = 5
    /// Threads that check passwords (bcrypt); by default half the cores.
    public var passwordThreads = max(1, System.coreCount / 2)
    /// Logs one line per HTTP request (label `openicws.access`).
    public var accessLog = false
    /// The name reported as `icServer` at login.
    public var serverName = "openicws"

    public init() {}
}

extension ServerConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The configuration without its secrets (the admin token), for logs: services are logged by description.
    public var description: String {
        "ServerConfiguration(host: \(host), port: \(port), data: \(dataDirectory), node: \(node), "
            + "admin: \(adminToken == nil ? "off" : "on (token not shown)"))"
    }

    public var debugDescription: String { description }
}
