import Foundation
import HTTPTypes
import Testing

@Suite("Chat lines on an assistance request (§6)")
struct ChatTests {
    @Test("The initiator's line answers 204 with no body and reaches the details watch")
    func initiatorChats() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let (_, id) = try await http.request(by: agent)
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()
            let result = try await agent.chat(id, "Caller is getting angry")
            #expect(result.status == .noContent)
            #expect(result.text.isEmpty)
            let delta = try await agent.pollOne()
            #expect(delta.objects("messagesAdded")?.map { $0["text"] as? String } == ["Caller is getting angry"])
            #expect(delta.objects("messagesAdded")?.map { $0["participantId"] as? String } == ["agent1"])
        }
    }

    @Test("A supervisor who accepted may chat on the agent-side path too; the initiator sees the line")
    func acceptingSupervisorChats() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let supervisor = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent)
            #expect(try await supervisor.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()
            #expect(try await supervisor.chat(id, "Offer a voucher").status == .noContent)
            let delta = try await agent.pollOne()
            #expect(delta.objects("messagesAdded")?.map { $0["participantId"] as? String } == ["supervisor1"])
            #expect(delta.objects("messagesAdded")?.map { $0["text"] as? String } == ["Offer a voucher"])
        }
    }

    @Test("A supervisor who has not accepted, or who ignored, gets 400 and adds nothing")
    func supervisorNotAccepted() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let supervisor2 = try await http.session("supervisor2")
            let (_, id) = try await http.request(by: agent)
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()
            let refused = try await supervisor1.chat(id, "hello")
            #expect(refused.status == .badRequest)
            #expect(refused.errorId?.hasPrefix("error.request.") == true)
            #expect(try await supervisor2.supervisorAct(id, #"{"action":2}"#).status == .noContent)
            _ = try await agent.poll()  // the ignore shows in the details; not what this test is about
            #expect(try await supervisor2.chat(id, "hello").status == .badRequest)
            try await agent.expectNothing()
        }
    }

    @Test("Another agent gets 400 and the line never appears")
    func anotherAgent() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let (_, id) = try await http.request(by: agent1)
            #expect(try await agent1.watchDetails(id).status == .noContent)
            _ = try await agent1.pollOne()
            #expect(try await agent2.chat(id, "let me in").status == .badRequest)
            try await agent1.expectNothing()
            // The request still holds only the problem line.
            #expect(try await agent1.watchDetails(id).status == .noContent)
            #expect(try await agent1.pollOne().objects("messagesAdded")?.count == 1)
        }
    }

    @Test("On a completed request the initiator and the accepting supervisor get 400 error.request.assistance.completed")
    func completedRequest() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let supervisor = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent)
            #expect(try await supervisor.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            #expect(try await agent.complete(id).status == .noContent)
            for session in [agent, supervisor] {
                let result = try await session.chat(id, "too late")
                #expect(result.status == .badRequest)
                #expect(result.errorId == "error.request.assistance.completed")
            }
        }
    }

    @Test("A body without text, with blank text, or with text of the wrong type answers 400 naming the property")
    func missingText() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let (_, id) = try await http.request(by: agent)
            let path = "/interactions/agent-assistance/\(id)"
            let missing = try await agent.send(.post, path, json: "{}")
            #expect(missing.status == .badRequest)
            #expect(missing.errorId == "error.request.invalidRepresentation.missingProperty")
            #expect(missing.object["propertyName"] as? String == "text")
            let noBody = try await agent.send(.post, path)
            #expect(noBody.status == .badRequest)
            let blank = try await agent.send(.post, path, json: #"{"text":"   "}"#)
            #expect(blank.status == .badRequest)
            #expect(blank.errorId == "error.request.invalidRepresentation.invalidProperty")
            let number = try await agent.send(.post, path, json: #"{"text":5}"#)
            #expect(number.status == .badRequest)
            #expect(number.object["propertyName"] as? String == "text")
        }
    }
}
