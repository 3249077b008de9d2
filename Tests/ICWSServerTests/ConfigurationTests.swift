import Foundation
import HTTPTypes
import Testing

@Suite("Configuration reads (feature configuration)")
struct ConfigurationTests {
    private func ids(_ result: HTTPResult) -> [String] {
        (result.object.objects("items") ?? []).compactMap { ($0["configurationId"] as? [String: Any])?["id"] as? String }
    }

    @Test("An administrator lists users with select, where, orderBy desc; the id is a configurationId with a uri")
    func users() async throws {
        try await TestServer.make().run { http in
            let admin = try await http.session("admin")
            let all = try await admin.send(.get, "/configuration/users")
            #expect(all.status == .ok)
            #expect(ids(all) == ["admin", "agent1", "agent2", "agent3", "agent4", "supervisor1", "supervisor2"])
            let first = try #require(all.object.objects("items")?.first)
            expectJSON(first, #"{"configurationId":{"id":"admin","displayName":"Administrator","uri":"/configuration/users/admin"}}"#)

            let agents = try await admin.send(
                .get, "/configuration/users?select=extension,workgroups,roles&where=configurationId.id%20sw%20agent&orderBy=configurationId.id%20desc")
            #expect(ids(agents) == ["agent4", "agent3", "agent2", "agent1"])
            let agent3 = try #require(agents.object.objects("items")?[1])
            #expect(agent3["extension"] as? String == "1003")
            #expect((agent3["workgroups"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["Sales", "Support"])
            let roles = (agent3["roles"] as? [String: Any])?["effectiveValue"] as? [[String: Any]]
            #expect(roles?.compactMap { $0["id"] as? String } == ["Agent"])

            let contains = try await admin.send(.get, "/configuration/users?where=configurationId.displayName%20ct%20two")
            #expect(ids(contains) == ["agent2", "supervisor2"])
            // Real clients send this without the `&`.
            let glued = try await admin.send(.get, "/configuration/users?orderBy=configurationId.id%20descrightsFilter=admin")
            #expect(glued.status == .ok)
            #expect(ids(glued).first == "supervisor2")
            #expect(try await admin.send(.get, "/configuration/users?where=nonsense").status == .badRequest)
        }
    }

    @Test("Workgroups and roles, one item by id, defaults; writes answer 405 with Allow")
    func workgroupsAndRoles() async throws {
        try await TestServer.make().run { http in
            let admin = try await http.session("admin")
            let support = try await admin.send(.get, "/configuration/workgroups/Support?select=*")
            #expect(support.status == .ok)
            #expect(support.object["extension"] as? String == "2001")
            #expect((support.object["members"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["agent1", "agent2", "agent3"])
            #expect((support.object["supervisors"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["supervisor1", "supervisor2"])
            let roles = try await admin.send(.get, "/configuration/roles?select=workgroups,users")
            #expect(ids(roles) == ["Administrator", "Agent", "Supervisor"])
            let agentRole = try #require(roles.object.objects("items")?.first { ($0["configurationId"] as? [String: Any])?["id"] as? String == "Agent" })
            #expect((agentRole["workgroups"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["Sales", "Support"])
            #expect(try await admin.send(.get, "/configuration/users/ghost").status == .notFound)
            let defaults = try await admin.send(.get, "/configuration/defaults/user")
            #expect(defaults.status == .ok)
            #expect(defaults.object["configurationId"] != nil)
            let write = try await admin.send(.post, "/configuration/users", json: #"{"configurationId":{"id":"new"}}"#)
            #expect(write.status == .methodNotAllowed)
            #expect(write.header("Allow") == "GET")
        }
    }

    @Test("A supervisor sees only their workgroups and those workgroups' people; an agent gets 403")
    func rights() async throws {
        try await TestServer.make().run { http in
            let supervisor = try await http.session("supervisor1")
            #expect(ids(try await supervisor.send(.get, "/configuration/workgroups")) == ["Support"])
            #expect(ids(try await supervisor.send(.get, "/configuration/users")) == ["agent1", "agent2", "agent3", "supervisor1", "supervisor2"])
            #expect(try await supervisor.send(.get, "/configuration/workgroups/Sales").status == .notFound)
            let agent = try await http.session("agent1")
            let denied = try await agent.send(.get, "/configuration/users")
            #expect(denied.status == .forbidden)
            #expect(denied.errorId == "error.request.accessDenied")
        }
    }
}
