import Foundation
import HTTPTypes
import Testing

@Suite("Admin API: creating, routing and disconnecting interactions")
struct AdminAPITests {
    @Test("POST /admin/interactions answers 201 with the interaction")
    func createForAgent() async throws {
        try await TestServer.make().run(.router) { http in
            let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"chat","workgroup":"Support","agent":"agent1","remoteName":"Ann"}"#)
            #expect(result.status == .created, "\(result.text)")
            expectTransportHeaders(result, json: true)
            let id = try #require(result.object["interactionId"] as? String)
            #expect(id.wholeMatch(of: /\d+/) != nil, "interaction id \(id) is not a digit string")
            #expect(result.object["agent"] as? String == "agent1")
            #expect(result.object["workgroup"] as? String == "Support")
            #expect(result.object["type"] as? String == "chat")
            #expect(result.object["state"] as? String == "connected")

            let second = try await http.createInteraction(agent: "agent1")
            #expect(second != id)
        }
    }

    @Test("An agent-only (non-ACD) interaction has workgroup null")
    func nonACD() async throws {
        try await TestServer.make().run(.router) { http in
            let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","agent":"agent3"}"#)
            #expect(result.status == .created, "\(result.text)")
            #expect(result.object.keys.contains("workgroup"), "workgroup should be present as null: \(result.text)")
            #expect(result.object["workgroup"] is NSNull, "\(result.text)")
            #expect(result.object["agent"] as? String == "agent3")
        }
    }

    @Test("A workgroup-only interaction goes to the one logged-in member")
    func routesToLoggedInMember() async throws {
        try await TestServer.make().run(.router) { http in
            _ = try await http.session("agent2")
            for _ in 0..<3 {
                let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","workgroup":"Support"}"#)
                #expect(result.status == .created, "\(result.text)")
                #expect(result.object["agent"] as? String == "agent2")
                #expect(result.object["workgroup"] as? String == "Support")
            }
        }
    }

    @Test("Routing picks the longest-idle member: two interactions go to two different agents")
    func longestIdleFirst() async throws {
        try await TestServer.make().run(.router) { http in
            _ = try await http.session("agent1")
            _ = try await http.session("agent2")
            var agents: [String] = []
            for _ in 0..<3 {
                let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","workgroup":"Support"}"#)
                #expect(result.status == .created, "\(result.text)")
                agents.append(result.object["agent"] as? String ?? "?")
            }
            #expect(Set(agents.prefix(2)) == ["agent1", "agent2"], "routed to \(agents)")
            #expect(agents[2] == agents[0], "the third should go to whoever has waited longest: \(agents)")
        }
    }

    @Test("A logged-out agent is no longer routed to")
    func loggedOutNotRouted() async throws {
        try await TestServer.make().run(.router) { http in
            let one = try await http.session("agent1")
            _ = try await http.session("agent2")
            #expect(try await one.send(.delete, "/connection").status == .ok)
            for _ in 0..<2 {
                let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","workgroup":"Support"}"#)
                #expect(result.object["agent"] as? String == "agent2", "\(result.text)")
            }
        }
    }

    @Test("A workgroup-only interaction with no member logged in answers 409 with an ICWS error")
    func noAgentAvailable() async throws {
        try await TestServer.make().run(.router) { http in
            // A supervisor of Sales is logged in, but no member is.
            _ = try await http.session("supervisor2")
            _ = try await http.session("agent1")
            let result = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","workgroup":"Sales"}"#)
            #expect(result.status == .conflict, "\(result.text)")
            // The spec names no errorId for this [ours] case; this is the server's.
            #expect(result.errorId == "error.request.routing.noAgentAvailable")
            #expect((result.object["message"] as? String)?.isEmpty == false)
            expectTransportHeaders(result, json: true)
        }
    }

    @Test("Bad workgroup, agent or type answers 400 invalidProperty", arguments: [
        (#"{"type":"call","workgroup":"Nowhere"}"#, "workgroup"),
        (#"{"type":"call","agent":"ghost"}"#, "agent"),
        (#"{"type":"call","workgroup":"Support","agent":"agent4"}"#, "agent"),
        (#"{"type":"fax","agent":"agent1"}"#, "type"),
        (#"{"type":7,"agent":"agent1"}"#, "type"),
    ])
    func invalidCreate(body: String, property: String) async throws {
        try await TestServer.make().run(.router) { http in
            _ = try await http.session("agent1")
            let result = try await http.admin(.post, "/admin/interactions", json: body)
            expectError(result, .badRequest, "error.request.invalidRepresentation.invalidProperty", propertyName: property)
        }
    }

    @Test("No token or a wrong token answers 401 and creates nothing")
    func tokenRequired() async throws {
        try await TestServer.make().run(.router) { http in
            let body = #"{"type":"call","agent":"agent1"}"#
            let agent = try await http.session("agent1")
            let queue = #"{"queueIds":[{"queueType":1,"queueName":"agent1"}],"attributeNames":["Eic_State"]}"#
            let put = try await agent.send(.put, "/messaging/subscriptions/queues/mine", json: queue)
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await agent.poll().count == 1)
            for token in [nil, "wrong", adminToken + "x", ""] as [String?] {
                let result = try await http.admin(.post, "/admin/interactions", json: body, token: token)
                #expect(result.status == .unauthorized, "token \(token ?? "nil"): \(result.text)")
                #expect(result.object["message"] is String)
                // The admin API is not ICWS: its challenge is Bearer, not the ICWS one.
                #expect(result.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            }
            let basic = try await http.send(.post, "/admin/interactions", headers: [.authorization: "Basic \(adminToken)"], json: body)
            #expect(basic.status == .unauthorized)
            // Nothing reached agent1's queue.
            #expect(try await agent.poll().isEmpty)
            // The real token does.
            _ = try await http.createInteraction(agent: "agent1")
            let added = try await agent.poll()
            #expect(added.count == 1)
            #expect(added.first?.objects("interactionsAdded")?.count == 1)
        }
    }

    @Test("DELETE /admin/interactions/{id} answers 204; an unknown id answers 404")
    func disconnect() async throws {
        try await TestServer.make().run(.router) { http in
            let id = try await http.createInteraction(agent: "agent1")
            let result = try await http.admin(.delete, "/admin/interactions/\(id)")
            #expect(result.status == .noContent, "\(result.text)")
            expectTransportHeaders(result, json: false)
            let shown = try await http.admin(.get, "/admin/interactions/\(id)")
            #expect(shown.object["state"] as? String == "disconnected", "\(shown.text)")
            let unknown = try await http.admin(.delete, "/admin/interactions/999999999")
            expectError(unknown, .notFound, "error.request.notFound")
        }
    }

    @Test("With no admin token configured the admin API answers 404, even with a token")
    func adminOff() async throws {
        try await TestServer.make(configure: { $0.adminToken = nil }).run { http in
            let create = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","agent":"agent1"}"#)
            expectError(create, .notFound, "error.request.notFound")
            let noToken = try await http.admin(.post, "/admin/interactions", json: #"{"type":"call","agent":"agent1"}"#, token: nil)
            #expect(noToken.status == .notFound)
            let delete = try await http.admin(.delete, "/admin/interactions/1")
            #expect(delete.status == .notFound)
        }
    }
}
