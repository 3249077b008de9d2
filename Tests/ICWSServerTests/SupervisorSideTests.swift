import Foundation
import HTTPTypes
import Testing

/// One entry of a supervisorAssistanceRequestMessage, as JSON text.
func supervisorEntry(
    _ assistanceId: String, interaction: String, problem: String = "help", workgroup: String = "Support",
    initiator: String = "agent1", initiatorName: String = "Agent One", action: Int, state: Int
) -> String {
    """
    {"assistanceId":"\(assistanceId)","interactionId":"\(interaction)","problemDescription":"\(problem)","workgroup":"\(workgroup)",
     "initiator":{"userId":"\(initiator)","displayName":"\(initiatorName)","action":1},"action":\(action),"state":\(state)}
    """
}

@Suite("Supervisor side of assistance (§6)")
struct SupervisorSideTests {
    @Test("Agents who supervise nothing get 403 error.request.accessDenied on the supervisor watch")
    func agentsAreDenied() async throws {
        try await TestServer.make().run { http in
            for user in ["agent1", "agent2", "agent3", "agent4"] {
                let agent = try await http.session(user)
                let result = try await agent.watchSupervisorAssistance()
                #expect(result.status == .forbidden, "\(user)")
                #expect(result.errorId == "error.request.accessDenied", "\(user)")
                #expect(result.errorCode == 7, "\(user)")
                try await agent.expectNothing()
            }
        }
    }

    @Test("PUT answers 204 and a snapshot with the active requests of the supervised workgroups, full objects")
    func snapshot() async throws {
        try await TestServer.make().run { http in
            let supervisor1 = try await http.session("supervisor1")
            #expect(try await supervisor1.watchSupervisorAssistance().status == .noContent)
            try await supervisor1.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":false,"requestsAdded":[]}]"#)

            let agent1 = try await http.session("agent1")
            let agent3 = try await http.session("agent3")
            let (support, supportId) = try await http.request(by: agent1, text: "Caller wants a refund")
            let (sales, salesId) = try await http.request(by: agent3, workgroup: "Sales", text: "Discount?")
            // A completed request is not in the snapshot.
            let (_, doneId) = try await http.request(by: agent3, text: "never mind")
            #expect(try await agent3.complete(doneId).status == .noContent)

            let supervisor2 = try await http.session("supervisor2")
            let put = try await supervisor2.watchSupervisorAssistance()
            #expect(put.status == .noContent)
            #expect(put.text.isEmpty)
            try await supervisor2.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":false,"requestsAdded":[
                  \(supervisorEntry(supportId, interaction: support, problem: "Caller wants a refund", action: 0, state: 0)),
                  \(supervisorEntry(salesId, interaction: sales, problem: "Discount?", workgroup: "Sales", initiator: "agent3", initiatorName: "Agent Three", action: 0, state: 0))]}]
                """)
            _ = try await supervisor1.poll()
            #expect(try await supervisor1.watchSupervisorAssistance().status == .noContent)
            try await supervisor1.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":false,"requestsAdded":[
                  \(supervisorEntry(supportId, interaction: support, problem: "Caller wants a refund", action: 0, state: 0))]}]
                """)
        }
    }

    @Test("A new request arrives as requestsAdded; supervisor2 also sees Sales requests, supervisor1 does not")
    func newRequestsArrive() async throws {
        try await TestServer.make().run { http in
            let supervisor1 = try await http.session("supervisor1")
            let supervisor2 = try await http.session("supervisor2")
            for supervisor in [supervisor1, supervisor2] {
                #expect(try await supervisor.watchSupervisorAssistance().status == .noContent)
                _ = try await supervisor.pollOne()
            }
            let agent1 = try await http.session("agent1")
            let (interaction, id) = try await http.request(by: agent1, text: "Caller wants a refund over my limit")
            let added = #"[{"__type":"\#(supervisorType)","isDelta":true,"requestsAdded":[\#(supervisorEntry(id, interaction: interaction, problem: "Caller wants a refund over my limit", action: 0, state: 0))]}]"#
            try await supervisor1.expectMessages(added)
            try await supervisor2.expectMessages(added)

            let agent3 = try await http.session("agent3")
            let (sales, salesId) = try await http.request(by: agent3, workgroup: "Sales", text: "Discount?")
            try await supervisor2.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":true,"requestsAdded":[
                  \(supervisorEntry(salesId, interaction: sales, problem: "Discount?", workgroup: "Sales", initiator: "agent3", initiatorName: "Agent Three", action: 0, state: 0))]}]
                """)
            try await supervisor1.expectNothing()
            // A chat line changes nothing a list shows.
            #expect(try await agent1.chat(id, "hurry").status == .noContent)
            try await supervisor1.expectNothing()
            try await supervisor2.expectNothing()
        }
    }

    @Test("Accept: 204; both supervisors see state 1 with their own action; the request joins the accepter's agent list")
    func accept() async throws {
        try await TestServer.make().run { http in
            let (agent1, supervisor1, supervisor2) = try await http.agentAndTwoSupervisors()
            #expect(try await agent1.watchAgentAssistance().status == .noContent)
            _ = try await supervisor1.poll()
            _ = try await supervisor2.poll()
            _ = try await agent1.poll()
            let (interaction, id) = try await http.request(by: agent1)
            _ = try await supervisor1.pollOne()
            _ = try await supervisor2.pollOne()
            _ = try await agent1.pollOne()

            let result = try await supervisor1.supervisorAct(id, #"{"action":3}"#)
            #expect(result.status == .noContent)
            #expect(result.text.isEmpty)
            try await supervisor1.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsAdded":["\(id)"]},
                 {"__type":"\(supervisorType)","isDelta":true,"requestsChanged":[\(supervisorEntry(id, interaction: interaction, action: 3, state: 1))]}]
                """)
            try await supervisor2.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":true,"requestsChanged":[\(supervisorEntry(id, interaction: interaction, action: 0, state: 1))]}]
                """)
            // The initiator's list is unchanged by the accept: no list message.
            try await agent1.expectNothing()

            // Accepting again changes nothing and sends nothing.
            #expect(try await supervisor1.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            try await supervisor1.expectNothing()
            try await supervisor2.expectNothing()
        }
    }

    @Test("Ignore changes only that supervisor's action; the other supervisor and the agent get nothing")
    func ignore() async throws {
        try await TestServer.make().run { http in
            let (agent1, supervisor1, supervisor2) = try await http.agentAndTwoSupervisors()
            #expect(try await agent1.watchAgentAssistance().status == .noContent)
            let (interaction, id) = try await http.request(by: agent1)
            for session in [supervisor1, supervisor2, agent1] { _ = try await session.poll() }

            #expect(try await supervisor2.supervisorAct(id, #"{"action":2}"#).status == .noContent)
            try await supervisor2.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":true,"requestsChanged":[\(supervisorEntry(id, interaction: interaction, action: 2, state: 0))]}]
                """)
            try await supervisor1.expectNothing()
            try await agent1.expectNothing()

            // The ignoring supervisor may still change their mind and accept.
            #expect(try await supervisor2.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            try await supervisor2.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsAdded":["\(id)"]},
                 {"__type":"\(supervisorType)","isDelta":true,"requestsChanged":[\(supervisorEntry(id, interaction: interaction, action: 3, state: 1))]}]
                """)
            try await supervisor1.expectMessages("""
                [{"__type":"\(supervisorType)","isDelta":true,"requestsChanged":[\(supervisorEntry(id, interaction: interaction, action: 0, state: 1))]}]
                """)
        }
    }

    @Test("Text before accepting answers 400 and adds no line; accept with text in one body adds it")
    func textBeforeAccept() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent1)
            #expect(try await agent1.watchDetails(id).status == .noContent)
            _ = try await agent1.pollOne()

            let refused = try await supervisor1.supervisorAct(id, #"{"text":"hi"}"#)
            #expect(refused.status == .badRequest)
            #expect(refused.errorId == "error.request.assistance.notAccepted")
            let ignoredWithText = try await supervisor1.supervisorAct(id, #"{"action":2,"text":"hi"}"#)
            #expect(ignoredWithText.status == .badRequest)
            try await agent1.expectNothing()

            #expect(try await supervisor1.supervisorAct(id, #"{"action":3,"text":"On it"}"#).status == .noContent)
            let delta = try await agent1.pollOne()
            #expect(delta["state"] as? Int == 1)
            expectJSON(delta["participantsAdded"], #"[{"userId":"supervisor1","displayName":"Supervisor One","action":3}]"#)
            #expect(delta.objects("messagesAdded")?.map { $0["text"] as? String } == ["On it"])
            #expect(delta.objects("messagesAdded")?.map { $0["participantId"] as? String } == ["supervisor1"])
        }
    }

    @Test("A non-supervisor of the request's workgroup gets 403; an unknown id 404; a bad action 400")
    func refusals() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let supervisor1 = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent1)
            for (session, body) in [(agent2, #"{"action":3}"#), (agent1, #"{"action":3}"#), (agent2, #"{"text":"x"}"#)] {
                let result = try await session.supervisorAct(id, body)
                #expect(result.status == .forbidden, "\(session.userId) \(body)")
                #expect(result.errorId == "error.request.accessDenied")
            }
            let agent3 = try await http.session("agent3")
            let (_, salesId) = try await http.request(by: agent3, workgroup: "Sales")
            #expect(try await supervisor1.supervisorAct(salesId, #"{"action":3}"#).status == .forbidden)

            let unknown = try await supervisor1.supervisorAct("a999", #"{"action":3}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorId == "error.request.notFound")

            let badAction = try await supervisor1.supervisorAct(id, #"{"action":1}"#)
            #expect(badAction.status == .badRequest)
            #expect(badAction.object["propertyName"] as? String == "action")
            let empty = try await supervisor1.supervisorAct(id, "{}")
            #expect(empty.status == .badRequest)
        }
    }

    @Test("Acting on a completed request answers 400 error.request.assistance.completed")
    func completed() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent1)
            #expect(try await agent1.complete(id).status == .noContent)
            for body in [#"{"action":3}"#, #"{"action":2}"#, #"{"text":"late"}"#] {
                let result = try await supervisor1.supervisorAct(id, body)
                #expect(result.status == .badRequest, "\(body)")
                #expect(result.errorId == "error.request.assistance.completed", "\(body)")
            }
        }
    }

    @Test("Completion removes the request from every supervisor list and from the accepter's agent list")
    func completionRemoves() async throws {
        try await TestServer.make().run { http in
            let (agent1, supervisor1, supervisor2) = try await http.agentAndTwoSupervisors()
            let (_, id) = try await http.request(by: agent1)
            #expect(try await supervisor1.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            _ = try await supervisor1.poll()
            _ = try await supervisor2.poll()

            #expect(try await agent1.complete(id).status == .noContent)
            try await supervisor1.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsRemoved":["\(id)"]},
                 {"__type":"\(supervisorType)","isDelta":true,"requestsRemoved":["\(id)"]}]
                """)
            try await supervisor2.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":true,"requestsRemoved":["\#(id)"]}]"#)
            // A fresh snapshot no longer holds it.
            #expect(try await supervisor2.watchSupervisorAssistance().status == .noContent)
            try await supervisor2.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":false,"requestsAdded":[]}]"#)
        }
    }

    @Test("Details watch under supervisor-assistance: 204 and a full snapshot for a supervisor; 404 unknown; 403 others")
    func supervisorDetailsWatch() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let (interaction, id) = try await http.request(by: agent1, text: "Need help")

            #expect(try await supervisor1.watchSupervisorDetails(id).status == .noContent)
            let snapshot = try await supervisor1.pollOne()
            #expect(snapshot.type == detailsType)
            #expect(snapshot.isDelta == false)
            #expect(snapshot["interactionId"] as? String == interaction)
            #expect(snapshot.objects("messagesAdded")?.map { $0["text"] as? String } == ["Need help"])
            #expect(try await agent1.chat(id, "more").status == .noContent)
            #expect(try await supervisor1.pollOne().objects("messagesAdded")?.map { $0["text"] as? String } == ["more"])

            let unknown = try await supervisor1.watchSupervisorDetails("a999")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorId == "error.request.notFound")

            // The initiator is not a supervisor: the supervisor path is closed to them.
            let agent2 = try await http.session("agent2")
            for user in [agent1, agent2] {
                let denied = try await user.watchSupervisorDetails(id)
                #expect(denied.status == .forbidden, "\(user.userId)")
                #expect(denied.errorId == "error.request.accessDenied")
                try await user.expectNothing()
            }
            let agent3 = try await http.session("agent3")
            let (_, salesId) = try await http.request(by: agent3, workgroup: "Sales")
            #expect(try await supervisor1.watchSupervisorDetails(salesId).status == .forbidden)
            try await supervisor1.expectNothing()
        }
    }
}
