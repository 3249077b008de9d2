import Foundation
import ICWSModel

/// An agent's request for help from the supervisors of an interaction's workgroup.
public struct AssistanceRequest: Sendable, Equatable {
    /// A party of the request and what it did.
    public struct Participant: Sendable, Equatable, Codable {
        public var userId: String
        public var action: AssistanceParticipantAction

        public init(userId: String, action: AssistanceParticipantAction) {
            self.userId = userId
            self.action = action
        }
    }

    /// One line of the request's chat; the first one is the problem description.
    public struct ChatLine: Sendable, Equatable, Codable {
        public var participantId: String
        public var text: String
        public var timeAdded: Date

        public init(participantId: String, text: String, timeAdded: Date) {
            self.participantId = participantId
            self.text = text
            self.timeAdded = timeAdded
        }
    }

    public var id: String
    public var interactionId: String
    public var workgroup: String
    public var initiator: String
    public var state: AssistanceRequestState
    public var participants: [Participant]
    public var lines: [ChatLine]
    public var createdAt: Date

    public init(
        id: String, interactionId: String, workgroup: String, initiator: String, state: AssistanceRequestState,
        participants: [Participant], lines: [ChatLine], createdAt: Date
    ) {
        self.id = id
        self.interactionId = interactionId
        self.workgroup = workgroup
        self.initiator = initiator
        self.state = state
        self.participants = participants
        self.lines = lines
        self.createdAt = createdAt
    }

    /// The request without its participants and lines: what `DomainEvent.requestSaved` carries.
    public struct Header: Sendable, Equatable, Codable {
        public var id: String
        public var interactionId: String
        public var workgroup: String
        public var initiator: String
        public var state: AssistanceRequestState
        public var createdAt: Date

        public init(id: String, interactionId: String, workgroup: String, initiator: String, state: AssistanceRequestState, createdAt: Date) {
            self.id = id
            self.interactionId = interactionId
            self.workgroup = workgroup
            self.initiator = initiator
            self.state = state
            self.createdAt = createdAt
        }
    }

    /// A request made of a header and its parts.
    public init(header: Header, participants: [Participant], lines: [ChatLine]) {
        self.init(
            id: header.id, interactionId: header.interactionId, workgroup: header.workgroup, initiator: header.initiator,
            state: header.state, participants: participants, lines: lines, createdAt: header.createdAt)
    }

    /// The header of this request.
    public var header: Header {
        Header(id: id, interactionId: interactionId, workgroup: workgroup, initiator: initiator, state: state, createdAt: createdAt)
    }

    /// Whether the request still counts (waiting or accepted).
    public var isActive: Bool { state != .completed }

    /// The first chat line, shown to supervisors as the problem.
    public var problemDescription: String { lines.first?.text ?? "" }

    /// This user's action on the request, `.none` when the user has not taken part.
    public func action(of userId: String) -> AssistanceParticipantAction {
        participants.first { $0.userId == userId }?.action ?? .none
    }

    /// Whether `userId` is in this request's agent-assistance list: the initiator, or a supervisor who accepted.
    public func listsFor(_ userId: String) -> Bool {
        isActive && (initiator == userId || action(of: userId) == .accepted)
    }
}
