import Foundation
import ICWSCore
import ICWSModel
import Testing

/// The domain commands alone: no pipeline, no store, no HTTP.
@Suite("Domain commands and state")
struct DomainCommandTests {
    let directory = Directory.demo()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ id: String) throws -> DirectoryUser { try #require(directory.user(id)) }

    /// agent1 present on `node`, with one Support interaction applied.
    func stateWithInteraction(node: String = "A") throws -> (DomainState, Interaction) {
        var state = DomainState(StoredState(interactions: [], requests: [], highestInteractionNumber: 0, highestAssistanceNumber: 0))
        state.applyCommitted(state.userArrived("agent1", on: node, at: now).events)
        let created = try state.createInteraction(
            workgroup: "Support", agent: nil, type: "call", remoteName: "Caller", at: now, directory: directory)
        state.applyCommitted(created.events)
        return (state, created.result)
    }

    @Test("a command only describes its change: the state is unchanged until its events are applied")
    func commandsArePure() throws {
        let (state, interaction) = try stateWithInteraction()
        let change = try state.requestAssistance(by: try user("agent1"), interactionId: interaction.id, text: "help", at: now)
        #expect(change.result == "a1")
        #expect(change.events.map(\.assistanceId) == ["a1", "a1", "a1"])
        #expect(state.requests.isEmpty)
        var applied = state
        applied.apply(change.events)
        #expect(applied.requests["a1"]?.lines.map(\.text) == ["help"])
        #expect(applied.activeByInteraction[interaction.id] == "a1")
        #expect(throws: DomainState.alreadyActive) {
            try applied.requestAssistance(by: try user("agent1"), interactionId: interaction.id, text: "again", at: now)
        }
    }

    @Test("undo takes back requests, id counters and routing state exactly")
    func undoRestoresEverything() throws {
        var (state, interaction) = try stateWithInteraction()
        let before = state
        let request = try state.requestAssistance(by: try user("agent1"), interactionId: interaction.id, text: "help", at: now)
        state.apply(request.events)
        let routed = try state.createInteraction(
            workgroup: "Support", agent: nil, type: "chat", remoteName: "Other", at: now.addingTimeInterval(5), directory: directory)
        state.apply(routed.events)
        state.apply(state.userArrived("agent2", on: "A", at: now).events)
        #expect(state.nextAssistanceNumber == 2)
        #expect(state.lastRouted["agent1"] == now.addingTimeInterval(5))
        state.undo()
        #expect(state.nextAssistanceNumber == before.nextAssistanceNumber)
        #expect(state.nextInteractionNumber == before.nextInteractionNumber)
        #expect(state.lastRouted == before.lastRouted)
        #expect(state.presence == before.presence)
        #expect(state.requests.isEmpty)
        #expect(state.activeByInteraction.isEmpty)
        #expect(state.interactions.keys.sorted() == [interaction.id])
    }

    @Test("routing finds agents present on any node and stops counting a node that is gone")
    func routingAcrossNodes() throws {
        var state = DomainState(StoredState(interactions: [], requests: [], highestInteractionNumber: 0, highestAssistanceNumber: 0))
        #expect(throws: DomainError.self) {
            try state.createInteraction(workgroup: "Support", agent: nil, type: "call", remoteName: "x", at: now, directory: directory)
        }
        // agent2 logged in on another node: the change arrives through the change log.
        state.applyCommitted([.presence(userId: "agent2", node: "B", present: true, at: now)])
        let routed = try state.createInteraction(workgroup: "Support", agent: nil, type: "call", remoteName: "x", at: now, directory: directory)
        #expect(routed.result.agent == "agent2")
        state.applyCommitted([.nodeGone(node: "B")])
        #expect(!state.isPresent("agent2"))
        #expect(throws: DomainError.noAgentAvailable("No member of 'Support' is logged in and in an available (ACD) status to take the interaction.")) {
            try state.createInteraction(workgroup: "Support", agent: nil, type: "call", remoteName: "x", at: now, directory: directory)
        }
    }

    @Test("ids another node committed move this node's counters past them")
    func remoteIdsAdvanceCounters() throws {
        var (state, interaction) = try stateWithInteraction()
        let header = AssistanceRequest.Header(
            id: "a41", interactionId: interaction.id, workgroup: "Support", initiator: "agent1", state: .waiting, createdAt: now)
        state.applyCommitted([.requestSaved(header)])
        state.applyCommitted([.interactionSaved(Interaction(
            id: "1000000077", type: "call", remoteName: "r", workgroup: nil, agent: "agent3", state: .connected, createdAt: now))])
        #expect(state.nextAssistanceNumber == 42)
        #expect(state.nextInteractionNumber == 1_000_000_078)
    }

    @Test("supervisor actions: accept changes the state once, ignore after accept is refused, chat needs an accept")
    func supervisorRules() throws {
        var (state, interaction) = try stateWithInteraction()
        state.apply(try state.requestAssistance(by: try user("agent1"), interactionId: interaction.id, text: "help", at: now).events)
        let supervisor = try user("supervisor1")
        #expect(throws: DomainError.assistance("notAccepted", "Accept the request before adding chat lines.")) {
            try state.supervisorAction(by: supervisor, assistanceId: "a1", action: nil, text: "hi", at: now, directory: directory)
        }
        let accept = try state.supervisorAction(by: supervisor, assistanceId: "a1", action: .accepted, text: "on my way", at: now, directory: directory)
        #expect(accept.events.count == 3)
        state.apply(accept.events)
        #expect(state.requests["a1"]?.state == .accepted)
        #expect(state.requests["a1"]?.lines.map(\.text) == ["help", "on my way"])
        #expect(throws: DomainError.self) {
            try state.supervisorAction(by: supervisor, assistanceId: "a1", action: .ignored, text: nil, at: now, directory: directory)
        }
        // Accepting again changes nothing.
        #expect(try state.supervisorAction(by: supervisor, assistanceId: "a1", action: .accepted, text: nil, at: now, directory: directory).events.isEmpty)
        #expect(throws: DomainError.accessDenied("You are not a supervisor of the workgroup 'Support'.")) {
            try state.supervisorAction(by: try user("agent2"), assistanceId: "a1", action: .accepted, text: nil, at: now, directory: directory)
        }
    }
}
