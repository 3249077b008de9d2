import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The OpenICWS administration API (`/admin/…`, bearer token), which stands in for the telephony/ACD side
/// and offers controls for test suites. Not part of ICWS itself.
public struct ICWSAdmin: Sendable {
    /// An interaction as the admin API describes it.
    public struct Interaction: Codable, Sendable, Hashable {
        /// The interaction id (a digit string).
        public let interactionId: String
        /// The agent it is assigned to.
        public let agent: String
        /// The workgroup it was ACD-routed through; `nil` for a non-ACD interaction.
        public let workgroup: String?
        /// `call`, `chat` or `email`.
        public let type: String
        /// The remote party's name.
        public let remoteName: String
        /// `alerting`, `connected` or `disconnected`.
        public let state: String
    }

    let transport: ICWSTransport
    let token: String

    /// The server's base URL, e.g. `http://127.0.0.1:8018`.
    public var server: String { transport.server }

    /// An admin client for `server` (e.g. `http://127.0.0.1:8018`) with the server's admin token.
    public init(server: String, token: String, httpClient: HTTPClient? = nil, requestTimeout: TimeAmount = .seconds(30)) {
        transport = ICWSTransport(server: server, http: httpClient, timeout: requestTimeout)
        self.token = token
    }

    /// Creates an interaction: for `workgroup` (routed to a logged-in member unless `agent` is given), or
    /// directly for `agent` (non-ACD when `workgroup` is `nil`).
    public func createInteraction(workgroup: String?, agent: String? = nil, type: String = "call", remoteName: String = "Caller") async throws -> Interaction {
        var body: [String: Any] = ["type": type, "remoteName": remoteName]
        if let workgroup { body["workgroup"] = workgroup }
        if let agent { body["agent"] = agent }
        return try await send(.POST, "/admin/interactions", json: ICWSBody.json(body)).decoded(Interaction.self)
    }

    /// Every interaction the server holds in memory, live ones and the newest disconnected ones.
    public func interactions() async throws -> [Interaction] {
        struct List: Decodable { let interactions: [Interaction] }
        return try await send(.GET, "/admin/interactions").decoded(List.self).interactions
    }

    /// One interaction by id.
    public func interaction(_ id: String) async throws -> Interaction {
        try await send(.GET, "/admin/interactions/\(ICWSPath.escape(id))").decoded(Interaction.self)
    }

    /// Disconnects an interaction (the far end hangs up); its active request is completed.
    public func disconnectInteraction(_ id: String) async throws {
        _ = try await send(.DELETE, "/admin/interactions/\(ICWSPath.escape(id))").checked()
    }

    /// Ends every session and deletes every interaction and request, so a test suite starts clean.
    public func reset() async throws {
        _ = try await send(.POST, "/admin/reset").checked()
    }

    private func send(_ method: HTTPMethod, _ path: String, json: Data? = nil) async throws -> ICWSReply {
        try await transport.send(method, path, headers: [("Authorization", "Bearer \(token)")], json: json)
    }
}
