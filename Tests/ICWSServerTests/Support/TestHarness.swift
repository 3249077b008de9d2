import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ICWSCore
import ICWSModel
import ICWSServer
import Logging
import NIOCore
import Testing

/// The admin token every test server uses.
let adminToken = "test-admin-token"

/// A fresh server over a real SQLite file in a temporary folder, tested over real HTTP on loopback.
struct TestServer {
    let openICWS: OpenICWS
    let dataDirectory: String
    let clock: ManualClock?

    static func make(
        features: FeatureVersions = FeatureVersions(), clock: ManualClock? = nil, dataDirectory: String? = nil,
        store: (any AssistanceStore)? = nil, directory users: Directory = Directory.demo(),
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("openicws-test-\(UUID().uuidString)").path
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = directory
        configuration.adminToken = adminToken
        configuration.features = features
        configure(&configuration)
        var logger = Logger(label: "openicws.test")
        logger.logLevel = .warning
        let openICWS = try await OpenICWS.make(
            configuration: configuration, directory: users, store: store, clock: clock ?? SystemClock(), logger: logger)
        return TestServer(openICWS: openICWS, dataDirectory: directory, clock: clock)
    }

    /// Runs `body` against the server, then closes the store: over real HTTP on loopback (`.live`, the default,
    /// needed for event streams), or straight through the router without a socket (`.router`).
    func run<T: Sendable>(
        _ testing: TestingSetup = .live, _ body: @Sendable (ICWSTestClient) async throws -> T
    ) async throws -> T {
        let app = openICWS.buildApplication()
        do {
            let value = try await app.test(testing) { client in try await body(ICWSTestClient(client: client)) }
            try? await openICWS.store.close()
            return value
        } catch {
            try? await openICWS.store.close()
            throw error
        }
    }
}

/// A response with its body parsed as JSON where it is JSON.
struct HTTPResult: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var errorId: String? { object["errorId"] as? String }
    var errorCode: Int? { object["errorCode"] as? Int }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// Speaks ICWS to the test server the way real clients do.
struct ICWSTestClient: Sendable {
    let client: any TestClientProtocol

    var port: Int { client.port ?? 0 }

    func send(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], json: String? = nil
    ) async throws -> HTTPResult {
        let response = try await client.executeRequest(
            uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        return HTTPResult(status: response.status, headers: response.headers, body: response.body)
    }

    func login(_ userId: String, password: String = "1234", include: String? = nil) async throws -> HTTPResult {
        let body = """
            {"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"tests","userID":"\(userId)","password":"\(password)"}
            """
        return try await send(.post, "/icws/connection" + (include.map { "?include=\($0)" } ?? ""), headers: [.acceptLanguage: "en-US"], json: body)
    }

    /// Logs in and returns the session, failing the test if login does not answer 201.
    func session(_ userId: String) async throws -> ICWSTestSession {
        let result = try await login(userId)
        try #require(result.status == .created, "login of \(userId) answered \(result.status): \(result.text)")
        let sid = try #require(result.header("ININ-ICWS-Session-ID"))
        let csrf = try #require(result.header("ININ-ICWS-CSRF-Token"))
        let cookie = try #require(result.header("Set-Cookie"))
        let pair = String(cookie.split(separator: ";")[0])
        return ICWSTestSession(http: self, userId: userId, sessionId: sid, csrfToken: csrf, cookie: pair)
    }

    /// Calls the admin API.
    func admin(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String? = adminToken) async throws -> HTTPResult {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await send(method, path, headers: headers, json: json)
    }

    /// Creates an interaction through the admin API and returns its id.
    func createInteraction(workgroup: String? = "Support", agent: String?, type: String = "call") async throws -> String {
        var fields: [String] = ["\"type\":\"\(type)\"", "\"remoteName\":\"Caller\""]
        if let workgroup { fields.append("\"workgroup\":\"\(workgroup)\"") }
        if let agent { fields.append("\"agent\":\"\(agent)\"") }
        let result = try await admin(.post, "/admin/interactions", json: "{\(fields.joined(separator: ","))}")
        try #require(result.status == .created, "create interaction answered \(result.status): \(result.text)")
        return try #require(result.object["interactionId"] as? String)
    }
}

/// A logged-in session: sends its CSRF token and cookie like a real client.
struct ICWSTestSession: Sendable {
    let http: ICWSTestClient
    let userId: String
    let sessionId: String
    let csrfToken: String
    let cookie: String

    var base: String { "/icws/\(sessionId)" }

    var authHeaders: HTTPFields {
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("ININ-ICWS-CSRF-Token")!] = csrfToken
        headers[.cookie] = cookie
        return headers
    }

    func send(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> HTTPResult {
        var headers = authHeaders
        for field in extra { headers[field.name] = field.value }
        return try await http.send(method, base + path, headers: headers, json: json)
    }

    /// A destructive short poll.
    func poll() async throws -> [[String: Any]] {
        let result = try await send(.get, "/messaging/messages")
        try #require(result.status == .ok, "poll answered \(result.status): \(result.text)")
        return result.array
    }

    func watchAgentAssistance() async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/interactions/agent-assistance")
    }

    func requestAssistance(_ interactionId: String, text: String = "Caller wants a refund over my limit") async throws -> HTTPResult {
        try await send(.post, "/interactions/\(interactionId)/agent-assistance", json: #"{"text":"\#(text)"}"#)
    }

    /// Requests assistance and returns the new id, failing the test unless it answered 201.
    func requestAssistanceId(_ interactionId: String, text: String = "help") async throws -> String {
        let result = try await requestAssistance(interactionId, text: text)
        try #require(result.status == .created, "request assistance answered \(result.status): \(result.text)")
        return try #require(result.object["assistanceId"] as? String)
    }

    func complete(_ assistanceId: String) async throws -> HTTPResult {
        try await send(.delete, "/interactions/agent-assistance/\(assistanceId)")
    }
}

extension Dictionary where Key == String, Value == Any {
    var type: String? { self["__type"] as? String }
    var isDelta: Bool? { self["isDelta"] as? Bool }
    func strings(_ key: String) -> [String]? { self[key] as? [String] }
    func objects(_ key: String) -> [[String: Any]]? { self[key] as? [[String: Any]] }
}

let listType = "urn:inin.com:interactions.assistance:assistanceRequestListMessage"
let detailsType = "urn:inin.com:interactions.assistance:assistanceRequestDetailsMessage"
let supervisorType = "urn:inin.com:interactions.assistance:supervisorAssistanceRequestMessage"
let queueType = "urn:inin.com:queues:queueContentsMessage"
let connectionChangeType = "urn:inin.com:connection:connectionStateChangeMessage"
let subscriptionStateType = "urn:inin.com:interactions.assistance:assistanceRequestSubscriptionStateMessage"
