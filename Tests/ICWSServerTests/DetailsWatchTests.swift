import Foundation
import HTTPTypes
import ICWSCore
import Testing

@Suite("Agent-assistance details watch (§6)")
struct DetailsWatchTests {
    @Test("PUT answers 204 and queues the full request: state, initiator, problem line with a compact date")
    func fullSnapshot() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction, text: "Caller wants a refund over my limit")

            let put = try await agent.watchDetails(id)
            #expect(put.status == .noContent)
            #expect(put.text.isEmpty)
            let snapshot = try await agent.pollOne()
            #expect(snapshot.type == detailsType)
            #expect(snapshot.isDelta == false)
            #expect(snapshot["assistanceId"] as? String == id)
            #expect(snapshot["interactionId"] as? String == interaction)
            #expect(snapshot["state"] as? Int == 0)
            expectJSON(snapshot["participantsAdded"], #"[{"userId":"agent1","displayName":"Agent One","action":1}]"#)
            let lines = try #require(snapshot.objects("messagesAdded"))
            #expect(lines.count == 1)
            #expect(lines.first?["text"] as? String == "Caller wants a refund over my limit")
            #expect(lines.first?["participantId"] as? String == "agent1")
            #expect(isCompactDate(lines.first?["timeAdded"] as? String), "timeAdded: \(String(describing: lines.first?["timeAdded"]))")
            #expect(lines.first?.keySet == ["text", "participantId", "timeAdded"])
            #expect(snapshot["participantsChanged"] == nil)
        }
    }

    @Test("The snapshot is exact, down to the date the clock gave the problem line")
    func exactSnapshot() async throws {
        try await TestServer.make(clock: ManualClock()).run { http in
            let agent = try await http.session("agent1")
            let (interaction, id) = try await http.request(by: agent, text: "Caller wants a refund over my limit")
            #expect(try await agent.watchDetails(id).status == .noContent)
            try await agent.expectMessages("""
                [{"__type":"\(detailsType)","isDelta":false,"assistanceId":"\(id)","interactionId":"\(interaction)","state":0,
                  "participantsAdded":[{"userId":"agent1","displayName":"Agent One","action":1}],
                  "messagesAdded":[{"text":"Caller wants a refund over my limit","participantId":"agent1","timeAdded":"\(manualClockStart)"}]}]
                """)
        }
    }

    @Test("Deltas carry only what changed: a chat line, then the accept, then the completion")
    func deltasCarryOnlyChanges() async throws {
        let clock = ManualClock()
        try await TestServer.make(clock: clock).run { http in
            let agent = try await http.session("agent1")
            let supervisor = try await http.session("supervisor1")
            let (_, id) = try await http.request(by: agent)
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()

            clock.advance(by: 61)
            #expect(try await agent.chat(id, "Still there?").status == .noContent)
            let line = try await agent.pollOne()
            #expect(line.isDelta == true)
            #expect(line.keySet == ["__type", "isDelta", "assistanceId", "messagesAdded"])
            expectJSON(line["messagesAdded"], #"[{"text":"Still there?","participantId":"agent1","timeAdded":"20240105T142334Z"}]"#)

            #expect(try await supervisor.supervisorAct(id, #"{"action":3}"#).status == .noContent)
            let accepted = try await agent.pollOne()
            expectJSON(accepted, """
                {"__type":"\(detailsType)","isDelta":true,"assistanceId":"\(id)","state":1,
                 "participantsAdded":[{"userId":"supervisor1","displayName":"Supervisor One","action":3}]}
                """)

            #expect(try await supervisor.supervisorAct(id, #"{"text":"On my way"}"#).status == .noContent)
            let answer = try await agent.pollOne()
            #expect(answer.keySet == ["__type", "isDelta", "assistanceId", "messagesAdded"])
            #expect(answer.objects("messagesAdded")?.map { $0["participantId"] as? String } == ["supervisor1"])
            #expect(answer.objects("messagesAdded")?.map { $0["text"] as? String } == ["On my way"])

            #expect(try await agent.complete(id).status == .noContent)
            try await agent.expectMessages(#"[{"__type":"\#(detailsType)","isDelta":true,"assistanceId":"\#(id)","state":2}]"#)
            try await agent.expectNothing()
        }
    }

    @Test("Supervisors of the request's workgroup may watch it; their snapshot is the same full request")
    func supervisorsMayWatch() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let supervisor2 = try await http.session("supervisor2")
            let (_, id) = try await http.request(by: agent, text: "Need a hand")
            for supervisor in [supervisor1, supervisor2] {
                #expect(try await supervisor.watchDetails(id).status == .noContent)
                let snapshot = try await supervisor.pollOne()
                #expect(snapshot.type == detailsType)
                #expect(snapshot.isDelta == false)
                #expect(snapshot["assistanceId"] as? String == id)
                #expect(snapshot.objects("messagesAdded")?.first?["text"] as? String == "Need a hand")
            }
            // A chat line reaches every watcher.
            #expect(try await agent.chat(id, "Anyone?").status == .noContent)
            for session in [supervisor1, supervisor2] {
                let delta = try await session.pollOne()
                #expect(delta.objects("messagesAdded")?.map { $0["text"] as? String } == ["Anyone?"])
            }
        }
    }

    @Test("Another agent, even of the same workgroup, gets 400; a supervisor of another workgroup gets 400")
    func othersAreRefused() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let (_, id) = try await http.request(by: agent1)
            let refused = try await agent2.watchDetails(id)
            #expect(refused.status == .badRequest)
            #expect(refused.object["message"] is String)
            try await agent2.expectNothing()

            // supervisor2 supervises Sales too, but a Sales request by agent3 is not visible to supervisor1.
            let agent3 = try await http.session("agent3")
            let supervisor1 = try await http.session("supervisor1")
            let (_, sales) = try await http.request(by: agent3, workgroup: "Sales")
            #expect(try await supervisor1.watchDetails(sales).status == .badRequest)
            try await supervisor1.expectNothing()
            // Nothing that happens on agent1's request leaks to the refused agent.
            #expect(try await agent1.chat(id, "psst").status == .noContent)
            try await agent2.expectNothing()
        }
    }

    @Test("An unknown assistance id answers 404")
    func unknownId() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let result = try await agent.watchDetails("a999")
            #expect(result.status == .notFound)
            #expect(result.errorId == "error.request.notFound")
            try await agent.expectNothing()
        }
    }

    @Test("DELETE answers 204, stops the deltas, and is idempotent")
    func deleteStopsDeltas() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let (_, id) = try await http.request(by: agent)
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()
            #expect(try await agent.unwatchDetails(id).status == .noContent)
            #expect(try await agent.chat(id, "one more").status == .noContent)
            #expect(try await agent.complete(id).status == .noContent)
            try await agent.expectNothing()
            #expect(try await agent.unwatchDetails(id).status == .noContent)
        }
    }

    @Test("A second PUT sends a fresh full snapshot holding everything so far")
    func putAgainResnapshots() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let (_, id) = try await http.request(by: agent, text: "first")
            #expect(try await agent.watchDetails(id).status == .noContent)
            _ = try await agent.pollOne()
            #expect(try await agent.chat(id, "second").status == .noContent)
            _ = try await agent.pollOne()
            #expect(try await agent.watchDetails(id).status == .noContent)
            let again = try await agent.pollOne()
            #expect(again.isDelta == false)
            #expect(again.objects("messagesAdded")?.map { $0["text"] as? String } == ["first", "second"])
        }
    }
}
