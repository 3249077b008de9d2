import ICWSModel

/// The client-side view of one queue subscription: its interactions and their attributes, by id.
/// A snapshot replaces it; a delta adds, replaces and removes interactions.
public struct QueueContents: Sendable, Hashable {
    /// The subscription id this view belongs to.
    public let subscriptionId: String
    /// Attributes (`Eic_State`, `Eic_RemoteName`, …) of each interaction in the queues, by interaction id.
    public private(set) var interactions: [String: [String: String]] = [:]
    /// Whether a snapshot has been applied.
    public private(set) var hasSnapshot = false

    /// Creates an empty view of subscription `subscriptionId`.
    public init(subscriptionId: String) {
        self.subscriptionId = subscriptionId
    }

    /// Applies one `queueContentsMessage` for this subscription the ICWS way.
    public mutating func apply(_ message: QueueContentsMessage) {
        if !message.isDelta {
            interactions = [:]
            hasSnapshot = true
        }
        for id in message.interactionsRemoved ?? [] { interactions[id] = nil }
        for interaction in (message.interactionsAdded ?? []) + (message.interactionsChanged ?? []) {
            interactions[interaction.interactionId] = interaction.attributes
        }
    }
}
