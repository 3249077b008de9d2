import Foundation
import HTTPTypes
import Testing

@Suite("Agent assistance: who may request it, on what, and how it ends")
struct AssistanceRulesTests {
    @Test("An ACD-routed interaction's agent gets 201 with an assistance id")
    func requestCreated() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let result = try await agent.requestAssistance(interaction)
            #expect(result.status == .created, "\(result.text)")
            expectTransportHeaders(result, json: true)
            let id = try #require(result.object["assistanceId"] as? String)
            #expect(!id.isEmpty)
            // The id is real: the initiator may watch its details.
            let details = try await agent.send(.put, "/messaging/subscriptions/interactions/agent-assistance/\(id)")
            #expect(details.status == .noContent, "\(details.text)")
            let message = try await agent.poll().first
            #expect(message?.type == detailsType)
            #expect(message?["interactionId"] as? String == interaction)
            #expect(message?.objects("messagesAdded")?.first?["text"] as? String == "Caller wants a refund over my limit")
        }
    }

    @Test("A user without canRequestAssistanceFromSupervisor gets notAllowed")
    func notAllowed() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent4")
            let interaction = try await http.createInteraction(workgroup: "Sales", agent: "agent4")
            let result = try await agent.requestAssistance(interaction)
            expectError(result, .badRequest, "error.request.assistance.notAllowed")
        }
    }

    @Test("Another agent's interaction gets notOwner")
    func notOwner() async throws {
        try await TestServer.make().run(.router) { http in
            let other = try await http.session("agent2")
            let interaction = try await http.createInteraction(agent: "agent1")
            let result = try await other.requestAssistance(interaction)
            expectError(result, .badRequest, "error.request.assistance.notOwner")
        }
    }

    @Test("A non-ACD interaction gets notAcdRouted")
    func notAcdRouted() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(workgroup: nil, agent: "agent1")
            let result = try await agent.requestAssistance(interaction)
            expectError(result, .badRequest, "error.request.assistance.notAcdRouted")
        }
    }

    @Test("A disconnected interaction gets interactionDisconnected")
    func interactionDisconnected() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            #expect(try await http.admin(.delete, "/admin/interactions/\(interaction)").status == .noContent)
            let result = try await agent.requestAssistance(interaction)
            expectError(result, .badRequest, "error.request.assistance.interactionDisconnected")
        }
    }

    @Test("One active request per interaction: a second gets alreadyActive; after completing, a new one is allowed")
    func alreadyActive() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let first = try await agent.requestAssistanceId(interaction)
            let second = try await agent.requestAssistance(interaction, text: "still need help")
            expectError(second, .badRequest, "error.request.assistance.alreadyActive")

            // Another interaction of the same agent is independent.
            let otherInteraction = try await http.createInteraction(agent: "agent1")
            #expect(try await agent.requestAssistance(otherInteraction).status == .created)

            #expect(try await agent.complete(first).status == .noContent)
            let third = try await agent.requestAssistance(interaction, text: "new problem")
            #expect(third.status == .created, "\(third.text)")
            let thirdId = third.object["assistanceId"] as? String
            #expect(thirdId != nil && thirdId != first)
        }
    }

    @Test("An unknown interaction answers 404")
    func unknownInteraction() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let result = try await agent.requestAssistance("999999999")
            expectError(result, .notFound, "error.request.notFound")
        }
    }

    @Test("A missing text answers 400 missingProperty naming text")
    func missingText() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            for body in ["{}", #"{"text":null}"#, #"{"problem":"help"}"#] {
                let result = try await agent.send(.post, "/interactions/\(interaction)/agent-assistance", json: body)
                expectError(result, .badRequest, "error.request.invalidRepresentation.missingProperty", propertyName: "text")
                #expect(result.object["__type"] as? String == "urn:inin.com:common:missingPropertyError")
            }
            // Nothing was created by the refused calls.
            #expect(try await agent.requestAssistance(interaction).status == .created)
        }
    }

    @Test("An empty, blank or non-string text answers 400 invalidProperty", arguments: [
        #"{"text":""}"#, #"{"text":"   "}"#, #"{"text":" \n\t "}"#, #"{"text":42}"#,
    ])
    func invalidText(body: String) async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let result = try await agent.send(.post, "/interactions/\(interaction)/agent-assistance", json: body)
            expectError(result, .badRequest, "error.request.invalidRepresentation.invalidProperty", propertyName: "text")
            #expect(result.object["__type"] as? String == "urn:inin.com:common:invalidPropertyError")
        }
    }

    @Test("A text of 2,000 characters is accepted; 2,001 answers 400")
    func textLength() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let first = try await http.createInteraction(agent: "agent1")
            let tooLong = try await agent.requestAssistance(first, text: String(repeating: "é", count: 2_001))
            expectError(tooLong, .badRequest, "error.request.invalidRepresentation.invalidProperty", propertyName: "text")
            let longest = try await agent.requestAssistance(first, text: String(repeating: "é", count: 2_000))
            #expect(longest.status == .created, "\(longest.text)")
        }
    }

    @Test("DELETE agent-assistance/{id}: 204 for the initiator; 400 for another user or an unknown id")
    func complete() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let other = try await http.session("agent2")
            let supervisor = try await http.session("supervisor1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)

            let byOther = try await other.complete(id)
            #expect(byOther.status == .badRequest, "\(byOther.text)")
            #expect(byOther.object["message"] is String)
            let bySupervisor = try await supervisor.complete(id)
            #expect(bySupervisor.status == .badRequest, "\(bySupervisor.text)")
            let unknown = try await agent.complete("no-such-request")
            #expect(unknown.status == .badRequest, "\(unknown.text)")
            expectTransportHeaders(unknown, json: true)

            // The refused calls left it active.
            expectError(try await agent.requestAssistance(interaction), .badRequest, "error.request.assistance.alreadyActive")
            let done = try await agent.complete(id)
            #expect(done.status == .noContent, "\(done.text)")
            expectTransportHeaders(done, json: false)
            #expect(try await agent.requestAssistance(interaction).status == .created)
        }
    }

    @Test("Disconnecting the interaction completes its active request: the list watch gets requestsRemoved")
    func disconnectCompletes() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            #expect(try await agent.poll().first?.strings("requestsAdded") == [])

            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)
            #expect(try await agent.poll().first?.strings("requestsAdded") == [id])

            #expect(try await http.admin(.delete, "/admin/interactions/\(interaction)").status == .noContent)
            let removed = try await agent.poll()
            let list = removed.filter { $0.type == listType }
            #expect(list.count == 1, "\(removed)")
            #expect(list.first?.isDelta == true)
            #expect(list.first?.strings("requestsRemoved") == [id])

            // A fresh snapshot agrees: nothing active.
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            #expect(try await agent.poll().first?.strings("requestsAdded") == [])
        }
    }
}
