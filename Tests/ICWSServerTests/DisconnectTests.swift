import Foundation
import HTTPTypes
import Testing

@Suite("Disconnecting an interaction (§6, §7)")
struct DisconnectTests {
    @Test("The assigned agent gets 204; other agents and supervisors 403; an unknown id 404")
    func whoMayDisconnect() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let supervisor1 = try await http.session("supervisor1")
            let interaction = try await http.createInteraction(agent: "agent1")
            for session in [agent2, supervisor1] {
                let denied = try await session.disconnect(interaction)
                #expect(denied.status == .forbidden, "\(session.userId)")
                #expect(denied.errorId == "error.request.accessDenied", "\(session.userId)")
            }
            // The refused attempts left it connected.
            let shown = try await http.admin(.get, "/admin/interactions/\(interaction)")
            #expect(shown.object["state"] as? String == "connected")

            let unknown = try await agent1.disconnect("999999")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorId == "error.request.notFound")

            let result = try await agent1.disconnect(interaction)
            #expect(result.status == .noContent)
            #expect(result.text.isEmpty)
            let after = try await http.admin(.get, "/admin/interactions/\(interaction)")
            #expect(after.object["state"] as? String == "disconnected")
            // [server] disconnecting again is a no-op 204.
            #expect(try await agent1.disconnect(interaction).status == .noContent)
            // No assistance on a disconnected interaction.
            let request = try await agent1.requestAssistance(interaction)
            #expect(request.status == .badRequest)
            #expect(request.errorId == "error.request.assistance.interactionDisconnected")
        }
    }

    @Test("Disconnecting completes the active request and every watcher sees it leave")
    func completesRequest() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let supervisor2 = try await http.session("supervisor2")
            #expect(try await agent1.watchAgentAssistance().status == .noContent)
            for supervisor in [supervisor1, supervisor2] {
                #expect(try await supervisor.watchAgentAssistance().status == .noContent)
                #expect(try await supervisor.watchSupervisorAssistance().status == .noContent)
            }
            let (interaction, id) = try await http.request(by: agent1)
            #expect(try await agent1.watchDetails(id).status == .noContent)
            #expect(try await supervisor2.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            for session in [agent1, supervisor1, supervisor2] { _ = try await session.poll() }

            // A refused disconnect changes nothing.
            #expect(try await supervisor2.disconnect(interaction).status == .forbidden)
            for session in [agent1, supervisor1, supervisor2] { try await session.expectNothing() }

            #expect(try await agent1.disconnect(interaction).status == .noContent)
            try await agent1.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsRemoved":["\(id)"]},
                 {"__type":"\(detailsType)","isDelta":true,"assistanceId":"\(id)","state":2}]
                """)
            try await supervisor1.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":true,"requestsRemoved":["\#(id)"]}]"#)
            try await supervisor2.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsRemoved":["\(id)"]},
                 {"__type":"\(supervisorType)","isDelta":true,"requestsRemoved":["\(id)"]}]
                """)
            // It is completed: no more chat, and the initiator's "Done" is a harmless 204.
            #expect(try await agent1.chat(id, "hello?").errorId == "error.request.assistance.completed")
            #expect(try await agent1.complete(id).status == .noContent)
            for session in [agent1, supervisor1, supervisor2] { try await session.expectNothing() }
        }
    }

    @Test("The admin API's disconnect completes the request the same way")
    func adminDisconnect() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            #expect(try await agent1.watchAgentAssistance().status == .noContent)
            #expect(try await supervisor1.watchSupervisorAssistance().status == .noContent)
            let (interaction, id) = try await http.request(by: agent1)
            _ = try await agent1.poll()
            _ = try await supervisor1.poll()
            #expect(try await http.admin(.delete, "/admin/interactions/\(interaction)").status == .noContent)
            try await agent1.expectMessages(#"[{"__type":"\#(listType)","isDelta":true,"requestsRemoved":["\#(id)"]}]"#)
            try await supervisor1.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":true,"requestsRemoved":["\#(id)"]}]"#)
        }
    }
}
