import Foundation
import ICWSCore
import ICWSModel

/// Test data with millisecond dates (which every store keeps exactly).
enum Fixtures {
    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(1_700_000_000_000 + milliseconds) / 1000)
    }

    static func interaction(_ id: String, state: Interaction.State = .connected, workgroup: String? = "Support") -> Interaction {
        Interaction(
            id: id, type: "call", remoteName: "Caller \(id)", workgroup: workgroup, agent: "agent1", state: state,
            createdAt: date(Int64(id.count) * 1000 + 123))
    }

    static func header(_ number: Int64, interaction: String, state: AssistanceRequestState = .waiting) -> AssistanceRequest.Header {
        AssistanceRequest.Header(
            id: AssistanceIdentifiers.make(number), interactionId: interaction, workgroup: "Support", initiator: "agent1",
            state: state, createdAt: date(number * 10 + 7))
    }

    static func line(_ text: String, _ milliseconds: Int64) -> AssistanceRequest.ChatLine {
        AssistanceRequest.ChatLine(participantId: "agent1", text: text, timeAdded: date(milliseconds))
    }

    /// An interaction with one request, its initiator and its problem line.
    static func newRequest(_ number: Int64, interaction: String) -> [DomainEvent] {
        [
            .interactionSaved(Fixtures.interaction(interaction)),
            .requestSaved(header(number, interaction: interaction)),
            .participantSaved(assistanceId: AssistanceIdentifiers.make(number), position: 0, .init(userId: "agent1", action: .initiated)),
            .chatLineAdded(assistanceId: AssistanceIdentifiers.make(number), position: 0, line("help with \(interaction)", 1)),
        ]
    }
}

extension StoredState {
    /// Interactions in id order (stores do not promise an order).
    var sortedInteractions: [Interaction] { interactions.sorted { $0.id < $1.id } }
}
