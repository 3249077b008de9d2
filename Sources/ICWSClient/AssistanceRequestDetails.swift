import ICWSModel

/// The client-side view of one details watch (`agent-assistance/{id}` or `supervisor-assistance/{id}`):
/// the request's state, participants and chat lines. A snapshot replaces it; a delta changes the state
/// when it carries one, adds and replaces participants by user id, and appends chat lines.
public struct AssistanceRequestDetails: Sendable, Hashable {
    /// The request's id.
    public let assistanceId: String
    /// The interaction the request is about (known once a snapshot arrived).
    public private(set) var interactionId: String?
    /// The request's state: waiting, accepted or completed.
    public private(set) var state: AssistanceRequestState?
    /// The participants in the order they joined, each with their latest action.
    public private(set) var participants: [AssistanceParticipant] = []
    /// Every chat line, oldest first (the problem description is the first).
    public private(set) var chatLines: [AssistanceChatLine] = []

    /// Creates an empty view of request `assistanceId`.
    public init(assistanceId: String) {
        self.assistanceId = assistanceId
    }

    /// Applies one `assistanceRequestDetailsMessage` for this request the ICWS way.
    public mutating func apply(_ message: AssistanceRequestDetailsMessage) {
        if !message.isDelta {
            interactionId = nil
            state = nil
            participants = []
            chatLines = []
        }
        if let id = message.interactionId { interactionId = id }
        if let new = message.state { state = new }
        for participant in (message.participantsAdded ?? []) + (message.participantsChanged ?? []) {
            if let index = participants.firstIndex(where: { $0.userId == participant.userId }) {
                participants[index] = participant
            } else {
                participants.append(participant)
            }
        }
        chatLines += message.messagesAdded ?? []
    }
}
