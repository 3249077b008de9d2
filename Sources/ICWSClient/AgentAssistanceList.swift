import ICWSModel

/// The client-side view of the `agent-assistance` watch: the ids of the active requests the user takes
/// part in. A snapshot replaces it; a delta adds and removes ids.
public struct AgentAssistanceList: Sendable, Hashable {
    /// The active request ids, as of the last message applied.
    public private(set) var assistanceIds: Set<String> = []
    /// Whether a snapshot has been applied (before it, the view knows nothing).
    public private(set) var hasSnapshot = false

    /// Creates an empty view.
    public init() {}

    /// Applies one `assistanceRequestListMessage` the ICWS way.
    public mutating func apply(_ message: AssistanceRequestListMessage) {
        if !message.isDelta {
            assistanceIds = []
            hasSnapshot = true
        }
        for id in message.requestsRemoved ?? [] { assistanceIds.remove(id) }
        for id in message.requestsAdded ?? [] { assistanceIds.insert(id) }
    }
}
