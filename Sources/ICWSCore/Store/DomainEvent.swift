import Foundation

/// One committed fact of the domain. Commands produce them; the store persists them (and, when shared,
/// logs them for the other nodes); `DomainState.apply` is the only thing that changes memory with them;
/// the change feed turns them into messages. A new kind of change is a new case here, and the compiler
/// then asks for it in each of those places.
public enum DomainEvent: Sendable, Equatable, Codable {
    /// An interaction was created or changed (a whole row).
    case interactionSaved(Interaction)
    /// A request was created or its state changed. Its `participants` and `lines` are not part of this event.
    case requestSaved(AssistanceRequest.Header)
    /// A participant joined (`position` is the next one) or changed its action.
    case participantSaved(assistanceId: String, position: Int, AssistanceRequest.Participant)
    /// A chat line was added at `position`.
    case chatLineAdded(assistanceId: String, position: Int, AssistanceRequest.ChatLine)
    /// A user's first session on `node` began, or its last one ended. Routing counts users present on any node.
    case presence(userId: String, node: String, present: Bool, at: Date)
    /// A node stopped sending heartbeats: none of its users count as present any more.
    case nodeGone(node: String)
    /// A user's status was set (durable: it outlives sessions, as in CIC).
    case statusSaved(UserStatus)

    /// The request this event changes, if any.
    public var assistanceId: String? {
        switch self {
        case .requestSaved(let header): header.id
        case .participantSaved(let id, _, _), .chatLineAdded(let id, _, _): id
        case .interactionSaved, .presence, .nodeGone, .statusSaved: nil
        }
    }

    /// The interaction this event changes, if any.
    public var interactionId: String? {
        if case .interactionSaved(let interaction) = self { return interaction.id }
        return nil
    }

    /// Whether a single-node store must keep this event. Presence lives only as long as the node's
    /// sessions, so only a shared store records it (for the other nodes' routing).
    public var isDurableOnOneNode: Bool {
        switch self {
        case .presence, .nodeGone: false
        case .interactionSaved, .requestSaved, .participantSaved, .chatLineAdded, .statusSaved: true
        }
    }

    /// The users whose status watch entry this event may change (status, logged in, on the phone).
    public var statusUsers: [String] {
        switch self {
        case .statusSaved(let status): [status.userId]
        case .presence(let userId, _, _, _): [userId]
        case .interactionSaved(let interaction): [interaction.agent]
        case .nodeGone, .requestSaved, .participantSaved, .chatLineAdded: []
        }
    }
}

/// A batch of events as another node committed it, with its place in the shared change log.
public struct CommittedChange: Sendable, Equatable {
    /// Increasing, without gaps, in commit order.
    public var id: Int64
    /// The node that committed it.
    public var node: String
    public var events: [DomainEvent]

    public init(id: Int64, node: String, events: [DomainEvent]) {
        self.id = id
        self.node = node
        self.events = events
    }
}
