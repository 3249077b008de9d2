import Metrics

/// What one logged-in user may make the server hold. Each refusal answers an ICWS error and is counted in
/// `openicws_limit_refusals_total{limit=…}`; the caps themselves are exported as `openicws_limit{limit=…}`.
public struct Limits: Sendable, Equatable {
    /// Watches (lists, details, queue subscriptions) one session may hold at once.
    public var watchesPerSession = 50
    /// Chat lines one assistance request may hold, the problem description included.
    public var chatLinesPerRequest = 500
    /// Sessions one user may have on a node at once; nil: no cap (load tests use thousands).
    public var sessionsPerUser: Int?

    /// Longest chat line or problem description, in characters…
    public static let maxTextCharacters = 2_000
    /// …and in UTF-8 bytes (2,000 characters of four-byte emoji would be 8,000 bytes).
    public static let maxTextBytes = 4_000
    /// Longest status note or forward number, in characters.
    public static let statusTextLength = 500
    /// Custom attributes one interaction may hold…
    public static let attributesPerInteraction = 200
    /// …and the longest attribute name and value, in characters.
    public static let attributeNameLength = 128
    public static let attributeValueLength = 4_000

    public init(watchesPerSession: Int = 50, chatLinesPerRequest: Int = 500, sessionsPerUser: Int? = nil) {
        self.watchesPerSession = watchesPerSession
        self.chatLinesPerRequest = chatLinesPerRequest
        self.sessionsPerUser = sessionsPerUser
    }

    /// Exports the caps as gauges.
    public func record() {
        Gauge(label: "openicws_limit", dimensions: [("limit", "watches_per_session")]).record(watchesPerSession)
        Gauge(label: "openicws_limit", dimensions: [("limit", "chat_lines_per_request")]).record(chatLinesPerRequest)
        Gauge(label: "openicws_limit", dimensions: [("limit", "sessions_per_user")]).record(sessionsPerUser ?? 0)
        Gauge(label: "openicws_limit", dimensions: [("limit", "text_characters")]).record(Self.maxTextCharacters)
        Gauge(label: "openicws_limit", dimensions: [("limit", "text_bytes")]).record(Self.maxTextBytes)
    }

    /// Counts a refusal of `limit`.
    static func refused(_ limit: String) {
        Counter(label: "openicws_limit_refusals_total", dimensions: [("limit", limit)]).increment()
    }
}
