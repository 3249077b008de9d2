import Foundation
import HTTPTypes
import ICWSCore
import Testing

@Suite("Emulating interactions 9 (§9)")
struct EmulationTests {
    static let nine = FeatureVersions(emulating: ["interactions": 9])

    @Test("The feature list, the single feature and the login's include=features all say interactions 9")
    func advertisesNine() async throws {
        try await TestServer.make(features: Self.nine).run { http in
            let list = try await http.send(.get, "/icws/connection/features")
            #expect(list.status == .ok)
            let features = try #require(list.object.objects("featureInfoList"))
            let versions = Dictionary(features.compactMap { entry in
                (entry["featureId"] as? String).map { ($0, entry["version"] as? Int ?? -1) }
            }, uniquingKeysWith: { first, _ in first })
            #expect(versions["interactions"] == 9)
            #expect(versions["messaging"] == 2)
            #expect(versions["queues"] == 1)

            let single = try await http.send(.get, "/icws/connection/features/interactions")
            expectJSON(single.json, #"{"featureId":"interactions","version":9}"#)

            let login = try await http.login("agent1", include: "features")
            #expect(login.status == .created)
            let included = login.object.objects("features") ?? []
            #expect(included.contains { $0["featureId"] as? String == "interactions" && $0["version"] as? Int == 9 })
        }
    }

    @Test("Without emulation the server says interactions 10")
    func advertisesTen() async throws {
        try await TestServer.make().run { http in
            let single = try await http.send(.get, "/icws/connection/features/interactions")
            expectJSON(single.json, #"{"featureId":"interactions","version":10}"#)
        }
    }

    @Test("Every supervisor-assistance resource answers 410 error.request.gone and queues nothing")
    func supervisorSideGone() async throws {
        try await TestServer.make(features: Self.nine).run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent1)
            let attempts: [(HTTPRequest.Method, String, String?)] = [
                (.put, "/messaging/subscriptions/interactions/supervisor-assistance", nil),
                (.delete, "/messaging/subscriptions/interactions/supervisor-assistance", nil),
                (.put, "/messaging/subscriptions/interactions/supervisor-assistance/\(id)", nil),
                (.delete, "/messaging/subscriptions/interactions/supervisor-assistance/\(id)", nil),
                (.post, "/interactions/supervisor-assistance/\(id)", #"{"action":3}"#),
            ]
            for (method, path, body) in attempts {
                let result = try await supervisor1.send(method, path, json: body)
                #expect(result.status == .gone, "\(method) \(path)")
                #expect(result.errorId == "error.request.gone", "\(method) \(path)")
                #expect(result.object["message"] is String)
                #expect(result.header("Content-Type") == "application/vnd.inin.icws+JSON; charset=utf-8")
            }
            try await supervisor1.expectNothing()
            // The POST did not accept: the request is still waiting.
            #expect(try await agent1.watchDetails(id).status == .noContent)
            #expect(try await agent1.pollOne()["state"] as? Int == 0)
        }
    }

    @Test("The interactions 9 agent-assistance resources keep working")
    func agentSideWorks() async throws {
        try await TestServer.make(features: Self.nine).run { http in
            let agent1 = try await http.session("agent1")
            #expect(try await agent1.watchAgentAssistance().status == .noContent)
            try await agent1.expectMessages(#"[{"__type":"\#(listType)","isDelta":false,"requestsAdded":[]}]"#)
            let (interaction, id) = try await http.request(by: agent1, text: "help")
            try await agent1.expectMessages(#"[{"__type":"\#(listType)","isDelta":true,"requestsAdded":["\#(id)"]}]"#)

            #expect(try await agent1.watchDetails(id).status == .noContent)
            let snapshot = try await agent1.pollOne()
            #expect(snapshot.type == detailsType)
            #expect(snapshot["interactionId"] as? String == interaction)
            #expect(try await agent1.chat(id, "more").status == .noContent)
            #expect(try await agent1.pollOne().objects("messagesAdded")?.map { $0["text"] as? String } == ["more"])

            // A supervisor can still watch the details from the agent-side path.
            let supervisor1 = try await http.session("supervisor1")
            #expect(try await supervisor1.watchDetails(id).status == .noContent)
            #expect(try await supervisor1.pollOne().isDelta == false)

            #expect(try await agent1.complete(id).status == .noContent)
            try await agent1.expectMessages("""
                [{"__type":"\(listType)","isDelta":true,"requestsRemoved":["\(id)"]},
                 {"__type":"\(detailsType)","isDelta":true,"assistanceId":"\(id)","state":2}]
                """)
            #expect(try await agent1.send(.delete, "/messaging/subscriptions/interactions/agent-assistance").status == .noContent)
        }
    }
}
