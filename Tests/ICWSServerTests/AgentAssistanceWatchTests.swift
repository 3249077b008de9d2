import Foundation
import HTTPTypes
import Testing

@Suite("The seed's agent-assistance watch")
struct AgentAssistanceWatchTests {
    @Test("PUT answers 204 and queues a full snapshot; a request then arrives as a delta; completing removes it")
    func snapshotThenDeltas() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let put = try await agent.watchAgentAssistance()
            #expect(put.status == .noContent)
            let first = try await agent.poll()
            #expect(first.count == 1)
            #expect(first.first?.type == listType)
            #expect(first.first?.isDelta == false)
            #expect(first.first?.strings("requestsAdded") == [])

            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)
            let added = try await agent.poll()
            #expect(added.count == 1)
            #expect(added.first?.isDelta == true)
            #expect(added.first?.strings("requestsAdded") == [id])
            #expect(added.first?["requestsRemoved"] == nil)

            #expect(try await agent.complete(id).status == .noContent)
            let removed = try await agent.poll()
            #expect(removed.count == 1)
            #expect(removed.first?.strings("requestsRemoved") == [id])
            #expect(removed.first?["requestsAdded"] == nil)
            #expect(try await agent.poll().isEmpty)
        }
    }
}
