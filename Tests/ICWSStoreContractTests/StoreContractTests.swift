import Foundation
import ICWSCore
import ICWSModel
import Testing

extension StoreSuites {
    /// What every `AssistanceStore` must do, run against each kind of store.
    @Suite
    struct Contract {
        @Test("committed events load back equal after reopening", arguments: StoreKind.all)
        func roundTrip(kind: StoreKind) async throws {
            try await StoreHarness.withEmpty(kind) { harness in
                try await harness.withStore { store in
                    try await store.commit(Fixtures.newRequest(3, interaction: "12"))
                    try await store.commit([
                        .interactionSaved(Fixtures.interaction("13", state: .alerting, workgroup: nil)),
                        .participantSaved(assistanceId: "a3", position: 1, .init(userId: "super1", action: .accepted)),
                        .chatLineAdded(assistanceId: "a3", position: 1, Fixtures.line("on my way", 2)),
                        .requestSaved(Fixtures.header(3, interaction: "12", state: .accepted)),
                    ])
                }
                let state = try await harness.withStore { try await $0.load() }
                #expect(state.sortedInteractions == [
                    Fixtures.interaction("12"), Fixtures.interaction("13", state: .alerting, workgroup: nil),
                ])
                #expect(state.requests == [
                    AssistanceRequest(
                        header: Fixtures.header(3, interaction: "12", state: .accepted),
                        participants: [.init(userId: "agent1", action: .initiated), .init(userId: "super1", action: .accepted)],
                        lines: [Fixtures.line("help with 12", 1), Fixtures.line("on my way", 2)]),
                ])
                #expect(state.highestInteractionNumber == 13)
                #expect(state.highestAssistanceNumber == 3)
            }
        }

        @Test("user statuses and an interaction's direction, number and custom attributes load back after reopening", arguments: StoreKind.all)
        func statusesAndAttributesRoundTrip(kind: StoreKind) async throws {
            try await StoreHarness.withEmpty(kind) { harness in
                var call = Fixtures.interaction("21", workgroup: nil)
                call.direction = .outgoing
                call.remoteId = "+13175550100"
                call.attributes = ["CRM_Id": "42", "Note": "caller is in a hurry"]
                let lunch = UserStatus(
                    userId: "agent1", statusId: "At lunch", notes: "back at two", until: Fixtures.date(9_000), hasDate: true,
                    hasTime: true, changedAt: Fixtures.date(5_000))
                try await harness.withStore { store in
                    try await store.commit([.interactionSaved(call), .statusSaved(lunch)])
                    // A later status replaces the first; a state change keeps the attributes.
                    try await store.commit([.statusSaved(UserStatus(userId: "agent2", statusId: "Do not disturb", changedAt: Fixtures.date(6_000)))])
                    var held = call
                    held.state = .alerting
                    try await store.commit([.interactionSaved(held)])
                }
                let state = try await harness.withStore { try await $0.load() }
                var expected = call
                expected.state = .alerting
                #expect(state.sortedInteractions == [expected])
                #expect(state.statuses.sorted { $0.userId < $1.userId } == [
                    lunch, UserStatus(userId: "agent2", statusId: "Do not disturb", changedAt: Fixtures.date(6_000)),
                ])
            }
        }

        @Test("a batch the database refuses stores nothing of itself", arguments: StoreKind.all)
        func refusedBatchIsAtomic(kind: StoreKind) async throws {
            try await StoreHarness.withEmpty(kind) { harness in
                try await harness.withStore { store in
                    try await store.commit(Fixtures.newRequest(1, interaction: "5"))
                    // The chat line at position 0 exists: the batch must fail, and its other rows with it.
                    await #expect(throws: (any Error).self) {
                        try await store.commit([
                            .interactionSaved(Fixtures.interaction("6")),
                            .requestSaved(Fixtures.header(2, interaction: "6")),
                            .participantSaved(assistanceId: "a1", position: 0, .init(userId: "agent1", action: .ignored)),
                            .chatLineAdded(assistanceId: "a1", position: 0, Fixtures.line("duplicate", 9)),
                        ])
                    }
                }
                let state = try await harness.withStore { try await $0.load() }
                #expect(state.sortedInteractions == [Fixtures.interaction("5")])
                #expect(state.requests.map(\.id) == ["a1"])
                #expect(state.requests.first?.participants == [.init(userId: "agent1", action: .initiated)])
                #expect(state.requests.first?.lines == [Fixtures.line("help with 5", 1)])
                #expect(state.highestInteractionNumber == 5)
                #expect(state.highestAssistanceNumber == 1)
            }
        }

        @Test("a batch whose prepare throws stores nothing and rethrows", arguments: StoreKind.all)
        func failingPrepareStoresNothing(kind: StoreKind) async throws {
            struct Refused: Error {}
            try await StoreHarness.withEmpty(kind) { harness in
                try await harness.withStore { store in
                    await #expect(throws: Refused.self) {
                        try await store.commit(after: 0, node: "n1") { _ in throw Refused() }
                    }
                    let nothing = try await store.commit(after: 0, node: "n1") { _ in [] }
                    #expect(nothing == nil)
                }
                let state = try await harness.withStore { try await $0.load() }
                #expect(state.interactions.isEmpty)
                #expect(state.requests.isEmpty)
                #expect(state.highestInteractionNumber == 0)
            }
        }

        @Test("a row saved twice in one batch keeps its last value", arguments: StoreKind.all)
        func lastValueWins(kind: StoreKind) async throws {
            try await StoreHarness.withEmpty(kind) { harness in
                try await harness.withStore { store in
                    try await store.commit([
                        .interactionSaved(Fixtures.interaction("8", state: .alerting)),
                        .requestSaved(Fixtures.header(4, interaction: "8")),
                        .participantSaved(assistanceId: "a4", position: 0, .init(userId: "agent1", action: .initiated)),
                        .participantSaved(assistanceId: "a4", position: 1, .init(userId: "super1", action: .ignored)),
                        .interactionSaved(Fixtures.interaction("8", state: .connected)),
                        .participantSaved(assistanceId: "a4", position: 1, .init(userId: "super1", action: .accepted)),
                        .requestSaved(Fixtures.header(4, interaction: "8", state: .accepted)),
                    ])
                }
                let state = try await harness.withStore { try await $0.load() }
                #expect(state.interactions == [Fixtures.interaction("8", state: .connected)])
                #expect(state.requests.map(\.state) == [.accepted])
                #expect(state.requests.first?.participants == [
                    .init(userId: "agent1", action: .initiated), .init(userId: "super1", action: .accepted),
                ])
            }
        }

        @Test("completed requests and disconnected interactions are not loaded, but their numbers count", arguments: StoreKind.all)
        func finishedAreNotLoaded(kind: StoreKind) async throws {
            try await StoreHarness.withEmpty(kind) { harness in
                try await harness.withStore { store in
                    try await store.commit(Fixtures.newRequest(9, interaction: "70"))
                    try await store.commit(Fixtures.newRequest(4, interaction: "3"))
                    try await store.commit([
                        .requestSaved(Fixtures.header(9, interaction: "70", state: .completed)),
                        .interactionSaved(Fixtures.interaction("70", state: .disconnected)),
                    ])
                }
                let state = try await harness.withStore { try await $0.load() }
                #expect(state.interactions == [Fixtures.interaction("3")])
                #expect(state.requests.map(\.id) == ["a4"])
                #expect(state.requests.first?.lines == [Fixtures.line("help with 3", 1)])
                #expect(state.highestInteractionNumber == 70)
                #expect(state.highestAssistanceNumber == 9)
            }
        }
    }
}
