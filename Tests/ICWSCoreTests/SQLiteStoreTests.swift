import Foundation
import ICWSCore
import ICWSModel
import ICWSStore
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    func freshStore() async throws -> (SQLiteAssistanceStore, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-store-\(UUID().uuidString)").path
        return (try await SQLiteAssistanceStore.open(directory: folder), folder)
    }

    func interaction(_ number: Int, state: Interaction.State = .connected) -> Interaction {
        Interaction(id: String(1_000_000_000 + number), type: "call", remoteName: "r", workgroup: "Support", agent: "agent1",
                    state: state, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test("a batch commits atomically: when one row fails, none of it is stored")
    func atomic() async throws {
        let (store, _) = try await freshStore()
        let line = AssistanceRequest.ChatLine(participantId: "agent1", text: "x", timeAdded: Date())
        await #expect(throws: (any Error).self) {
            try await store.commit([.interactionSaved(interaction(1)), .chatLineAdded(assistanceId: "a1", position: 0, line), .chatLineAdded(assistanceId: "a1", position: 0, line)])
        }
        #expect(try await store.load().interactions.isEmpty)
        try await store.close()
    }

    @Test("a very large batch (several statements) is stored whole; a row saved twice keeps its last value")
    func largeBatch() async throws {
        let (store, folder) = try await freshStore()
        var operations = (1...5_000).map { DomainEvent.interactionSaved(interaction($0)) }
        operations.append(.interactionSaved(interaction(7, state: .disconnected)))
        try await store.commit(operations)
        try await store.close()

        let reopened = try await SQLiteAssistanceStore.open(directory: folder)
        let state = try await reopened.load()
        #expect(state.interactions.count == 4_999)
        #expect(!state.interactions.contains { $0.id == "1000000007" })
        #expect(state.highestInteractionNumber == 1_000_005_000)
        try await reopened.close()
    }

    @Test("requests come back with participants and lines in order; completed ones are not loaded")
    func requestsRoundTrip() async throws {
        let (store, folder) = try await freshStore()
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        var request = AssistanceRequest(
            id: "a1", interactionId: "1000000001", workgroup: "Support", initiator: "agent1", state: .waiting,
            participants: [], lines: [], createdAt: time)
        var done = request
        done.id = "a2"
        done.state = .completed
        request.state = .accepted
        try await store.commit([
            .requestSaved(request.header),
            .participantSaved(assistanceId: "a1", position: 0, .init(userId: "agent1", action: .initiated)),
            .participantSaved(assistanceId: "a1", position: 1, .init(userId: "supervisor1", action: .ignored)),
            .participantSaved(assistanceId: "a1", position: 1, .init(userId: "supervisor1", action: .accepted)),
            .chatLineAdded(assistanceId: "a1", position: 0, .init(participantId: "agent1", text: "help", timeAdded: time)),
            .chatLineAdded(assistanceId: "a1", position: 1, .init(participantId: "supervisor1", text: "on it", timeAdded: time)),
            .requestSaved(done.header),
        ])
        try await store.close()
        let reopened = try await SQLiteAssistanceStore.open(directory: folder)
        let state = try await reopened.load()
        #expect(state.requests.map(\.id) == ["a1"])
        #expect(state.requests.first?.state == .accepted)
        #expect(state.requests.first?.participants.map(\.action) == [.initiated, .accepted])
        #expect(state.requests.first?.lines.map(\.text) == ["help", "on it"])
        #expect(state.highestAssistanceNumber == 2)
        try await reopened.close()
    }
}
