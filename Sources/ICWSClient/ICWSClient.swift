import AsyncHTTPClient
import Foundation
import ICWSModel
import NIOCore
import NIOHTTP1
import Synchronization

/// A logged-in ICWS session: subscriptions, messages (server-sent events or polling), and the
/// assistance actions.
///
/// ```swift
/// let client = try await ICWSClient.connect(server: "http://127.0.0.1:8018", userId: "agent1", password: "1234")
/// try await client.subscribe(.agentAssistance)
/// for try await received in client.messages {
///     print(received.message, client.views.agentAssistance.assistanceIds)
/// }
/// ```
public final class ICWSClient: Sendable {
    /// How a client connects and receives messages.
    public struct Options: Sendable {
        /// The `applicationName` sent at login (servers log it).
        public var applicationName = "OpenICWS Swift SDK"
        /// The `Accept-Language` sent at login; ICWS fixes it for the session.
        public var language = "en-US"
        /// How long one request may take before it fails.
        public var requestTimeout: TimeAmount = .seconds(30)
        /// The pause between polls when the server has no event streams (messaging feature below 2).
        public var pollInterval: Duration = .seconds(1)
        /// The pause before reconnecting a dropped event stream when the server sent no `retry:`.
        public var reconnectDelay: Duration = .seconds(3)
        /// Reconnection attempts in a row without success before `messages` fails; `nil` for no limit.
        public var maxReconnectAttempts: Int? = nil
        /// Force polling even where the server offers event streams.
        public var preferPolling = false
        /// The AsyncHTTPClient to use; `nil` for one the SDK shares between its clients.
        public var httpClient: HTTPClient? = nil

        /// The defaults.
        public init() {}
    }

    /// The user this session belongs to (`userID` of the connection response).
    public let userId: String
    /// The user's display name.
    public let userDisplayName: String
    /// The session id (a digit string).
    public let sessionId: String
    /// The server's name (`icServer`).
    public let icServer: String
    /// The feature versions the server advertised at login, by feature id (e.g. `messaging` → 2).
    public let features: [String: Int]
    /// The server's version, as sent at login.
    public let version: ServerVersion?
    /// The session cookie as `icws_{sid}=…`, for an event stream of your own.
    public let cookie: String
    /// The options this client was connected with.
    public let options: Options

    let csrfToken: String
    let transport: ICWSTransport
    private let state = Mutex(State())

    struct State {
        var views = ICWSViews()
        var loggedOut = false
        var reconnects = 0
        var lastEventId: String?
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8018`.
    public var server: String { transport.server }

    /// The version of feature `featureId`, 0 when the server does not advertise it.
    public func featureVersion(_ featureId: String) -> Int { features[featureId] ?? 0 }

    /// Whether `messages` uses server-sent events (messaging feature 2 or later) rather than polling.
    public var usesEventStream: Bool { !options.preferPolling && featureVersion("messaging") >= 2 }

    /// The views of every subscription, as of the last message `messages` produced.
    public var views: ICWSViews { state.withLock { $0.views } }

    /// How many times the event stream was reopened after it dropped.
    public var reconnects: Int { state.withLock { $0.reconnects } }

    /// Whether `logout()` was called (or the session was seen to end).
    public var isLoggedOut: Bool { state.withLock { $0.loggedOut } }

    private init(transport: ICWSTransport, response: ConnectionResponse, cookie: String, options: Options) {
        self.transport = transport
        self.userId = response.userID
        self.userDisplayName = response.userDisplayName
        self.sessionId = response.sessionId
        self.icServer = response.icServer
        self.csrfToken = response.csrfToken
        self.cookie = cookie
        self.version = response.version
        self.features = Dictionary((response.features ?? []).map { ($0.featureId, $0.version) }, uniquingKeysWith: { $1 })
        self.options = options
    }

    // MARK: Connection

    /// Logs in (`POST /icws/connection?include=features,version`) and returns the session.
    ///
    /// - Parameter server: the base URL, e.g. `http://127.0.0.1:8018` (`http://` is assumed when missing).
    /// - Throws: `ICWSClientError`; a wrong user or password is `isAuthenticationFailure`
    ///   (`errorId` `error.request.connection.authenticationFailure`, `errorCode` -2147221503).
    public static func connect(server: String, userId: String, password: String, options: Options = Options()) async throws -> ICWSClient {
        let transport = ICWSTransport(server: server, http: options.httpClient, timeout: options.requestTimeout)
        let body = ICWSBody.json([
            "__type": ICWSType.icAuthConnectionRequest, "applicationName": options.applicationName, "userID": userId, "password": password,
        ])
        let reply = try await transport.send(.POST, "/icws/connection?include=features,version", headers: [("Accept-Language", options.language)], json: body)
        let response = try reply.decoded(ConnectionResponse.self)
        guard let setCookie = reply.headers.first(name: "Set-Cookie"),
            let pair = setCookie.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces) }), pair.hasPrefix("icws_")
        else {
            throw ICWSClientError(status: reply.status, message: "The login answer carried no icws_ session cookie.")
        }
        return ICWSClient(transport: transport, response: response, cookie: pair, options: options)
    }

    /// The server's feature versions without logging in (`GET /icws/connection/features`).
    public static func features(server: String, options: Options = Options()) async throws -> [FeatureInfo] {
        let transport = ICWSTransport(server: server, http: options.httpClient, timeout: options.requestTimeout)
        return try await transport.send(.GET, "/icws/connection/features").decoded(FeatureInfoList.self).featureInfoList
    }

    /// The server's version without logging in (`GET /icws/connection/version`).
    public static func version(server: String, options: Options = Options()) async throws -> ServerVersion {
        let transport = ICWSTransport(server: server, http: options.httpClient, timeout: options.requestTimeout)
        return try await transport.send(.GET, "/icws/connection/version").decoded(ServerVersion.self)
    }

    /// Whether the session is still up (`GET /icws/{sid}/connection`); a 401 answers `false`.
    public func isConnected() async throws -> Bool {
        do {
            _ = try await send(.GET, "/connection")
            return true
        } catch let error as ICWSClientError where error.isSessionEnded {
            return false
        }
    }

    /// Keeps the session alive without a stream or polls (`POST /icws/{sid}/messaging/heartbeat`).
    public func heartbeat() async throws {
        _ = try await send(.POST, "/messaging/heartbeat")
    }

    /// Logs out (`DELETE /icws/{sid}/connection`); `messages` then ends. A session already gone is not an error.
    public func logout() async throws {
        state.withLock { $0.loggedOut = true }
        do {
            _ = try await send(.DELETE, "/connection")
        } catch let error as ICWSClientError where error.isSessionEnded {
            return
        }
    }

    // MARK: Subscriptions

    /// Creates or replaces a watch; its snapshot (`isDelta:false`) then arrives through `messages`.
    public func subscribe(_ subscription: ICWSSubscription) async throws {
        let path = "/messaging/subscriptions/" + subscription.path
        if case .queue(_, let queues, let attributes) = subscription {
            let ids = queues.map { ["queueType": $0.queueType, "queueName": $0.queueName] as [String: Any] }
            _ = try await send(.PUT, path, json: ICWSBody.json(["queueIds": ids, "attributeNames": attributes]))
        } else {
            _ = try await send(.PUT, path)
        }
    }

    /// Cancels a watch (idempotent) and forgets its view.
    public func unsubscribe(_ subscription: ICWSSubscription) async throws {
        _ = try await send(.DELETE, "/messaging/subscriptions/" + subscription.path)
        state.withLock { $0.views.forget(subscription) }
    }

    // MARK: Actions

    /// Asks the supervisors of the interaction's workgroup for help; returns the new assistance id.
    /// The interaction must be ACD-routed to this user, connected, and without an active request.
    @discardableResult
    public func requestAssistance(interactionId: String, text: String) async throws -> String {
        struct Created: Decodable { let assistanceId: String }
        let reply = try await send(.POST, "/interactions/\(ICWSPath.escape(interactionId))/agent-assistance", json: ICWSBody.json(["text": text]))
        return try reply.decoded(Created.self).assistanceId
    }

    /// Adds a chat line to a request (its initiator, or a supervisor who accepted it).
    public func say(assistanceId: String, text: String) async throws {
        _ = try await send(.POST, "/interactions/agent-assistance/\(ICWSPath.escape(assistanceId))", json: ICWSBody.json(["text": text]))
    }

    /// Completes ("Done") a request this user initiated; it leaves every list.
    public func complete(assistanceId: String) async throws {
        _ = try await send(.DELETE, "/interactions/agent-assistance/\(ICWSPath.escape(assistanceId))")
    }

    /// As a supervisor of the request's workgroup, accepts it (action 3), optionally with a first chat line.
    public func accept(assistanceId: String, text: String? = nil) async throws {
        try await supervisorAction(assistanceId, action: .accepted, text: text)
    }

    /// As a supervisor of the request's workgroup, ignores it (action 2); other supervisors still see it.
    public func ignore(assistanceId: String) async throws {
        try await supervisorAction(assistanceId, action: .ignored, text: nil)
    }

    /// Disconnects an interaction assigned to this user; its active request is completed with it.
    public func disconnect(interactionId: String) async throws {
        _ = try await send(.POST, "/interactions/\(ICWSPath.escape(interactionId))/disconnect")
    }

    private func supervisorAction(_ assistanceId: String, action: AssistanceParticipantAction, text: String?) async throws {
        var body: [String: Any] = ["action": action.rawValue]
        if let text { body["text"] = text }
        _ = try await send(.POST, "/interactions/supervisor-assistance/\(ICWSPath.escape(assistanceId))", json: ICWSBody.json(body))
    }

    // MARK: Messages

    /// The session's messages in order, typed, each applied to `views` before it is produced.
    ///
    /// Uses a server-sent event stream where the server's messaging feature is 2 or later: a dropped
    /// stream is reopened after the server's `retry:` delay with `Last-Event-ID`, so the server replays
    /// what was missed (or sends fresh snapshots). Otherwise it polls `GET …/messaging/messages`.
    /// The sequence ends after `logout()`, after a `connectionStateChangeMessage`, or when its task is
    /// cancelled; it throws `ICWSClientError` when the session is found gone or reconnection gives up.
    /// Iterate it from one task at a time: the server gives a session one stream.
    public var messages: ICWSMessageSequence { ICWSMessageSequence(client: self) }

    // MARK: Internals

    var sessionHeaders: [(String, String)] {
        [("ININ-ICWS-CSRF-Token", csrfToken), ("Cookie", cookie), ("Accept-Language", options.language)]
    }

    func send(_ method: HTTPMethod, _ path: String, json: Data? = nil) async throws -> ICWSReply {
        try await transport.send(method, "/icws/\(sessionId)" + path, headers: sessionHeaders, json: json).checked()
    }

    func record(_ message: ICWSMessage, eventId: String?) {
        state.withLock { state in
            state.views.apply(message)
            if let eventId { state.lastEventId = eventId }
            if case .connectionStateChange = message { state.loggedOut = true }
        }
    }

    func countReconnect() {
        state.withLock { $0.reconnects += 1 }
    }

    var lastEventId: String? { state.withLock { $0.lastEventId } }
}
