import Foundation
import HTTPTypes
import Testing

/// The admin API's stand-in controls: what a test suite uses to look at and steer the server.
@Suite("Stand-in controls: listing, the request journal, injected faults, the API document")
struct StandInControlTests {
    @Test("GET /admin/interactions lists every interaction by id, with the token only")
    func listInteractions() async throws {
        try await TestServer.make().run(.router) { http in
            let first = try await http.createInteraction(agent: "agent1")
            let second = try await http.createInteraction(workgroup: nil, agent: "agent2")
            let listed = try await http.admin(.get, "/admin/interactions")
            #expect(listed.status == .ok)
            let interactions = try #require(listed.object["interactions"] as? [[String: Any]])
            #expect(interactions.compactMap { $0["interactionId"] as? String } == [first, second])
            #expect(interactions.last?["agent"] as? String == "agent2")
            #expect(try await http.admin(.get, "/admin/interactions", token: "wrong").status == .unauthorized)
        }
    }

    @Test("POST /admin/reset ends every session and deletes interactions and requests; ids start over; it survives a restart")
    func reset() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            _ = try await agent.requestAssistanceId(interaction)
            let answer = try await http.admin(.post, "/admin/reset")
            #expect(answer.status == .noContent, "\(answer.text)")
            // The session ended: its calls answer 401, and its last poll says why.
            #expect(try await agent.send(.get, "/connection").status == .unauthorized)
            let listed = try await http.admin(.get, "/admin/interactions")
            #expect((listed.object["interactions"] as? [Any])?.isEmpty == true, "\(listed.text)")
            let fresh = try await http.session("agent1")
            #expect(try await fresh.watchAgentAssistance().status == .noContent)
            let snapshot = try await fresh.poll()
            #expect((snapshot.first?["requestsAdded"] as? [String])?.isEmpty ?? true, "\(snapshot)")
            #expect(try await http.createInteraction(agent: "agent1") == interaction, "ids do not start over")
        }
        // Nothing deleted comes back from the database.
        let again = try await TestServer.make(dataDirectory: server.dataDirectory)
        try await again.run(.router) { http in
            let listed = try await http.admin(.get, "/admin/interactions")
            #expect((listed.object["interactions"] as? [[String: Any]])?.count == 1, "\(listed.text)")
        }
    }

    @Test("the request journal lists the newest requests first with route, status, duration and session id, never bodies")
    func journal() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            _ = try await http.login("agent1", password: "not-the-password")
            _ = try await agent.send(.get, "/connection")
            let journal = try await http.admin(.get, "/admin/requests?limit=3")
            #expect(journal.status == .ok)
            let entries = try #require(journal.object["requests"] as? [[String: Any]])
            #expect(entries.count == 3)
            let newest = entries[0]
            #expect(newest["method"] as? String == "GET")
            #expect(newest["path"] as? String == "/icws/{sid}/connection")
            #expect(newest["status"] as? Int == 200)
            #expect(newest["sessionId"] as? String == agent.sessionId)
            #expect(newest["durationMs"] is Double || newest["durationMs"] is Int)
            #expect(entries[1]["status"] as? Int == 400)
            #expect(entries[1]["path"] as? String == "/icws/connection")
            #expect((journal.object["total"] as? Int ?? 0) >= 3)
            #expect(!journal.text.contains("not-the-password"))
            #expect(try await http.admin(.get, "/admin/requests?limit=0").status == .badRequest)
        }
    }

    @Test("an injected store fault refuses writes with 503, suspends watches and degrades /health until cleared")
    func storeDown() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            _ = try await agent.poll()
            let injected = try await http.admin(.post, "/admin/faults", json: #"{"store":"down"}"#)
            #expect(injected.status == .ok)
            #expect(injected.object["store"] as? String == "down")
            let refused = try await http.admin(.post, "/admin/interactions", json: #"{"agent":"agent1"}"#)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorId == "error.server.unavailable")
            let states = try await agent.poll().compactMap { $0["state"] as? Int }
            #expect(states.contains(2), "the watch was not suspended")
            #expect(try await http.send(.get, "/health").status == .serviceUnavailable)

            #expect(try await http.admin(.delete, "/admin/faults").status == .noContent)
            #expect(await eventually(5) { (try? await http.send(.get, "/health").status) == .ok })
            let answer1 = try await http.admin(.post, "/admin/interactions", json: #"{"agent":"agent1"}"#)
            #expect(answer1.status == .created)
        }
    }

    @Test("an injected store fault shows in the watches at once, without any write; clearing it resumes them with a snapshot")
    func faultShowsWithoutTraffic() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            _ = try await agent.poll()
            #expect(try await http.admin(.post, "/admin/faults", json: #"{"store":"down"}"#).status == .ok)
            let suspended = try await agent.poll()
            #expect(suspended.compactMap { $0["state"] as? Int } == [2], "\(suspended)")
            #expect(try await http.admin(.delete, "/admin/faults").status == .noContent)
            // The stand-in clears the fault and checks the store at once: the watch hears state 1 and a snapshot
            // (through the commit pipeline, so within moments rather than at the periodic probe).
            var resumed: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(2)
            while !resumed.contains(where: { $0.isDelta == false && $0.type == listType }) && ContinuousClock.now < deadline {
                resumed += try await agent.poll()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(resumed.compactMap { $0["state"] as? Int }.contains(1), "\(resumed)")
            #expect(resumed.contains { $0.isDelta == false && $0.type == listType }, "no fresh snapshot after the fault cleared: \(resumed)")
        }
    }

    @Test("an injected delay holds every ICWS answer back, and bad fault bodies answer 400")
    func delayAndValidation() async throws {
        try await TestServer.make().run(.router) { http in
            let answer2 = try await http.admin(.post, "/admin/faults", json: #"{"delayMs":300}"#)
            #expect(answer2.status == .ok)
            let started = ContinuousClock.now
            #expect(try await http.send(.get, "/icws/connection/version").status == .ok)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(try await http.admin(.get, "/admin/faults").object["delayMs"] as? Int == 300)
            let answer3 = try await http.admin(.post, "/admin/faults", json: #"{"store":"sideways"}"#)
            #expect(answer3.status == .badRequest)
            let answer4 = try await http.admin(.post, "/admin/faults", json: #"{"delayMs":-1}"#)
            #expect(answer4.status == .badRequest)
            let answer5 = try await http.admin(.post, "/admin/faults", json: #"{}"#)
            #expect(answer5.status == .badRequest)
            #expect(try await http.admin(.delete, "/admin/faults").status == .noContent)
            #expect(try await http.admin(.get, "/admin/faults").object["delayMs"] as? Int == 0)
        }
    }

    @Test("/docs lists the endpoints of the OpenAPI document served at /docs/openapi.yaml")
    func docs() async throws {
        try await TestServer.make().run(.router) { http in
            let yaml = try await http.send(.get, "/docs/openapi.yaml")
            #expect(yaml.status == .ok)
            #expect(yaml.text.hasPrefix("openapi: 3."))
            let page = try await http.send(.get, "/docs")
            #expect(page.status == .ok)
            #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
            for endpoint in ["/icws/connection", "/admin/faults", "/admin/requests", "/icws/{sessionId}/messaging/messages"] {
                #expect(page.text.contains("<code>\(endpoint)</code>"), "\(endpoint) is not listed")
            }
            #expect(!page.text.contains("<script"))
        }
    }
}
