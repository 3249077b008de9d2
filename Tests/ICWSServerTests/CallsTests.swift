import Foundation
import HTTPTypes
import Testing

extension ICWSTestSession {
    func placeCall(_ target: String, extra: String = "") async throws -> HTTPResult {
        try await send(.post, "/interactions", json: #"{"__type":"urn:inin.com:interactions:createCallParameters","target":"\#(target)"\#(extra)}"#)
    }

    func attributes(_ id: String, _ select: String?) async throws -> HTTPResult {
        try await send(.get, "/interactions/\(id)" + (select.map { "?select=\($0)" } ?? ""))
    }
}

@Suite("Placing calls and interaction attributes (feature interactions)")
struct CallsTests {
    @Test("A placed call is outbound, connected at once, on the caller's queue, with real system attributes")
    func placeCall() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchQueue("mine", queueBody(1, "agent1")).status == .ok)
            _ = try await agent.pollOne()

            let placed = try await agent.placeCall("+13175550123")
            #expect(placed.status == .created, "\(placed.text)")
            let id = try #require(placed.object["interactionId"] as? String)
            // A client library seeds its attribute cache from this answer's `attributes`.
            #expect(placed.object["attributes"] is [String: Any], "\(placed.text)")
            let queued = try await agent.pollOne()
            #expect(queued.objects("interactionsAdded")?.first?["interactionId"] as? String == id)

            let select = "Eic_State,Eic_CallState,Eic_RemoteName,Eic_RemoteId,Eic_CallDirection,Eic_ObjectType,Eic_WorkgroupName,Eic_UserName,Eic_LocalId"
            let read = try await agent.attributes(id, select)
            #expect(read.status == .ok)
            expectJSON(read.object["attributes"], """
                {"Eic_State":"C","Eic_CallState":"Connected","Eic_RemoteName":"+13175550123","Eic_RemoteId":"+13175550123",
                 "Eic_CallDirection":"O","Eic_ObjectType":"Call","Eic_WorkgroupName":"","Eic_UserName":"agent1","Eic_LocalId":"1001"}
                """)
            // Without select, only the call id.
            expectJSON(try await agent.attributes(id, nil).object["attributes"], #"{"Eic_CallId":"\#(id)"}"#)

            // Non-ACD: no assistance can be asked on it.
            #expect(try await agent.requestAssistance(id).status == .badRequest)
            #expect(try await agent.send(.post, "/interactions", json: #"{"__type":"urn:inin.com:interactions:createCallParameters"}"#).status == .badRequest)
            #expect(try await agent.send(.post, "/interactions", json: #"{"__type":"urn:inin.com:interactions.callback:createCallbackParameters","target":"1"}"#).status == .badRequest)
            #expect(try await agent.placeCall("1", extra: #","notes":5"#).status == .badRequest)
            #expect(try await agent.placeCall("1", extra: #","callMadeStage":1,"workgroup":"Support","notes":"n""#).status == .created)
        }
    }

    @Test("Custom attributes are set, read (case-insensitively, unset ones empty), shown in queue watches, and survive a restart")
    func customAttributes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-attrs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let id = try await TestServer.make(dataDirectory: folder).run { http in
            let agent = try await http.session("agent1")
            let routed = try await http.createInteraction(agent: "agent1")
            #expect(try await agent.watchQueue("q", #"{"queueIds":[{"queueType":1,"queueName":"agent1"}],"attributeNames":["CRM_Id","Eic_State"]}"#).status == .ok)
            _ = try await agent.pollOne()

            let set = try await agent.send(.post, "/interactions/\(routed)", json: #"{"attributes":{"CRM_Id":"4711","Mood":"calm"}}"#)
            #expect(set.status == .ok, "\(set.text)")
            try await agent.expectMessages("""
                [{"__type":"\(queueType)","isDelta":true,"subscriptionId":"q",
                  "interactionsChanged":[{"interactionId":"\(routed)","attributes":{"CRM_Id":"4711","Eic_State":"C"}}]}]
                """)
            expectJSON(try await agent.attributes(routed, "crm_id,Mood,Unset").object["attributes"], #"{"crm_id":"4711","Mood":"calm","Unset":""}"#)

            let readOnly = try await agent.send(.post, "/interactions/\(routed)", json: #"{"attributes":{"Eic_State":"I"}}"#)
            #expect(readOnly.status == .badRequest)
            #expect(try await agent.send(.post, "/interactions/\(routed)", json: #"{}"#).status == .badRequest)

            let placed = try #require(try await agent.placeCall("555", extra: #","additionalAttributes":{"Source":"CRM"}"#).object["interactionId"] as? String)
            expectJSON(try await agent.attributes(placed, "Source").object["attributes"], #"{"Source":"CRM"}"#)
            return routed
        }
        try await TestServer.make(dataDirectory: folder).run { http in
            let agent = try await http.session("agent1")
            expectJSON(try await agent.attributes(id, "CRM_Id,Mood").object["attributes"], #"{"CRM_Id":"4711","Mood":"calm"}"#)
        }
    }

    @Test("Only the interaction's agent and its workgroup's supervisors may read or write its attributes")
    func access() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let supervisor = try await http.session("supervisor1")
            let routed = try await http.createInteraction(agent: "agent1")
            let denied = try await agent2.attributes(routed, "Eic_State")
            #expect(denied.status == .forbidden)
            #expect(denied.errorId == "error.request.accessDenied")
            #expect(try await agent2.send(.post, "/interactions/\(routed)", json: #"{"attributes":{"x":"y"}}"#).status == .forbidden)
            #expect(try await supervisor.send(.post, "/interactions/\(routed)", json: #"{"attributes":{"Checked":"yes"}}"#).status == .ok)
            expectJSON(try await agent1.attributes(routed, "Checked").object["attributes"], #"{"Checked":"yes"}"#)
            #expect(try await agent1.attributes("999", "Eic_State").status == .notFound)
        }
    }
}
