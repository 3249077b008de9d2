import ICWSModel

/// The client-side view of the `supervisor-assistance` watch: the active requests of the workgroups the
/// user supervises, by id. A snapshot replaces it; a delta adds, replaces and removes requests.
public struct SupervisorAssistanceList: Sendable, Hashable {
    /// The active requests by assistance id, as of the last message applied.
    public private(set) var requests: [String: SupervisorAssistanceRequest] = [:]
    /// Whether a snapshot has been applied.
    public private(set) var hasSnapshot = false

    /// Creates an empty view.
    public init() {}

    /// The requests still waiting for a supervisor, oldest id first.
    public var waiting: [SupervisorAssistanceRequest] {
        requests.values.filter { $0.state == .waiting }.sorted { ($0.assistanceId.count, $0.assistanceId) < ($1.assistanceId.count, $1.assistanceId) }
    }

    /// Applies one `supervisorAssistanceRequestMessage` the ICWS way.
    public mutating func apply(_ message: SupervisorAssistanceRequestMessage) {
        if !message.isDelta {
            requests = [:]
            hasSnapshot = true
        }
        for id in message.requestsRemoved ?? [] { requests[id] = nil }
        for request in (message.requestsAdded ?? []) + (message.requestsChanged ?? []) { requests[request.assistanceId] = request }
    }
}
