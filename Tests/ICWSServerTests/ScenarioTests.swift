import Foundation
import HTTPTypes
import ICWSCore
import Testing

@Suite("A whole assistance conversation, seen by everyone")
struct ScenarioTests {
    @Test("Two agents and two supervisors: request, accept, chat, refusals, completion, admin disconnect")
    func conversation() async throws {
        let clock = ManualClock()
        try await TestServer.make(clock: clock).run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            let supervisor1 = try await http.session("supervisor1")
            let supervisor2 = try await http.session("supervisor2")
            let everyone = [agent1, agent2, supervisor1, supervisor2]
            func nobodyElse(_ busy: [ICWSTestSession]) async throws {
                for session in everyone where !busy.contains(where: { $0.userId == session.userId }) {
                    try await session.expectNothing()
                }
            }
            let emptyList = #"[{"__type":"\#(listType)","isDelta":false,"requestsAdded":[]}]"#
            func listAdded(_ id: String) -> String { #"{"__type":"\#(listType)","isDelta":true,"requestsAdded":["\#(id)"]}"# }
            func listRemoved(_ id: String) -> String { #"{"__type":"\#(listType)","isDelta":true,"requestsRemoved":["\#(id)"]}"# }
            func supervisorMessage(_ property: String, _ entries: String) -> String {
                #"{"__type":"\#(supervisorType)","isDelta":true,"\#(property)":[\#(entries)]}"#
            }
            func details(_ id: String, _ rest: String) -> String {
                #"{"__type":"\#(detailsType)","isDelta":true,"assistanceId":"\#(id)",\#(rest)}"#
            }

            // Everyone watches what they may.
            for agent in [agent1, agent2] {
                #expect(try await agent.watchAgentAssistance().status == .noContent)
                try await agent.expectMessages(emptyList)
                #expect(try await agent.watchSupervisorAssistance().status == .forbidden)
            }
            for supervisor in [supervisor1, supervisor2] {
                #expect(try await supervisor.watchAgentAssistance().status == .noContent)
                #expect(try await supervisor.watchSupervisorAssistance().status == .noContent)
                try await supervisor.expectMessages("""
                    [{"__type":"\(listType)","isDelta":false,"requestsAdded":[]},
                     {"__type":"\(supervisorType)","isDelta":false,"requestsAdded":[]}]
                    """)
            }

            // 1. agent1 asks for help; both supervisors see it at once.
            let first = try await http.createInteraction(agent: "agent1")
            let a = try await agent1.requestAssistanceId(first, text: "Caller wants a refund over my limit")
            try await agent1.expectMessages("[\(listAdded(a))]")
            let waiting = supervisorEntry(a, interaction: first, problem: "Caller wants a refund over my limit", action: 0, state: 0)
            try await supervisor1.expectMessages("[\(supervisorMessage("requestsAdded", waiting))]")
            try await supervisor2.expectMessages("[\(supervisorMessage("requestsAdded", waiting))]")
            try await agent2.expectNothing()

            let fullA = """
                [{"__type":"\(detailsType)","isDelta":false,"assistanceId":"\(a)","interactionId":"\(first)","state":0,
                  "participantsAdded":[{"userId":"agent1","displayName":"Agent One","action":1}],
                  "messagesAdded":[{"text":"Caller wants a refund over my limit","participantId":"agent1","timeAdded":"20240105T142233Z"}]}]
                """
            #expect(try await agent1.watchDetails(a).status == .noContent)
            try await agent1.expectMessages(fullA)
            for supervisor in [supervisor1, supervisor2] {
                #expect(try await supervisor.watchSupervisorDetails(a).status == .noContent)
                try await supervisor.expectMessages(fullA)
            }
            #expect(try await agent2.watchDetails(a).status == .badRequest)
            try await nobodyElse([])

            // 2. supervisor1 accepts.
            clock.advance(by: 30)
            #expect(try await supervisor1.supervisorAct(a, #"{"action":3}"#).status == .noContent)
            let acceptedDetails = details(a, #""state":1,"participantsAdded":[{"userId":"supervisor1","displayName":"Supervisor One","action":3}]"#)
            try await agent1.expectMessages("[\(acceptedDetails)]")
            try await supervisor1.expectMessages("""
                [\(listAdded(a)), \(acceptedDetails),
                 \(supervisorMessage("requestsChanged", supervisorEntry(a, interaction: first, problem: "Caller wants a refund over my limit", action: 3, state: 1)))]
                """)
            try await supervisor2.expectMessages("""
                [\(acceptedDetails),
                 \(supervisorMessage("requestsChanged", supervisorEntry(a, interaction: first, problem: "Caller wants a refund over my limit", action: 0, state: 1)))]
                """)
            try await agent2.expectNothing()

            // 3. Chat both ways; every details watcher gets each line, nobody's list moves.
            clock.advance(by: 10)
            #expect(try await supervisor1.supervisorAct(a, #"{"text":"Offer a voucher instead"}"#).status == .noContent)
            let line1 = details(a, #""messagesAdded":[{"text":"Offer a voucher instead","participantId":"supervisor1","timeAdded":"20240105T142313Z"}]"#)
            for session in [agent1, supervisor1, supervisor2] { try await session.expectMessages("[\(line1)]") }
            clock.advance(by: 10)
            #expect(try await agent1.chat(a, "Caller took it, thanks").status == .noContent)
            let line2 = details(a, #""messagesAdded":[{"text":"Caller took it, thanks","participantId":"agent1","timeAdded":"20240105T142323Z"}]"#)
            for session in [agent1, supervisor1, supervisor2] { try await session.expectMessages("[\(line2)]") }
            try await agent2.expectNothing()

            // 4. agent2 may neither chat on nor complete agent1's request.
            let chat = try await agent2.chat(a, "Me too")
            #expect(chat.status == .badRequest)
            #expect(chat.errorId == "error.request.assistance.notParticipant")
            let done = try await agent2.complete(a)
            #expect(done.status == .badRequest)
            #expect(done.errorId == "error.request.assistance.notFound")
            // supervisor2 never accepted: no chat for them either.
            #expect(try await supervisor2.chat(a, "hi").status == .badRequest)
            try await nobodyElse([])

            // 5. agent1 completes; every list drops it, every details watch sees state 2.
            clock.advance(by: 10)
            #expect(try await agent1.complete(a).status == .noContent)
            let completedA = details(a, #""state":2"#)
            try await agent1.expectMessages("[\(listRemoved(a)), \(completedA)]")
            try await supervisor1.expectMessages("""
                [\(listRemoved(a)), \(completedA), {"__type":"\(supervisorType)","isDelta":true,"requestsRemoved":["\(a)"]}]
                """)
            try await supervisor2.expectMessages("""
                [\(completedA), {"__type":"\(supervisorType)","isDelta":true,"requestsRemoved":["\(a)"]}]
                """)
            try await agent2.expectNothing()

            // 6. agent2 asks for help on a second interaction.
            clock.advance(by: 10)
            let second = try await http.createInteraction(agent: "agent2")
            let b = try await agent2.requestAssistanceId(second, text: "Caller asks for a manager")
            #expect(b != a)
            try await agent2.expectMessages("[\(listAdded(b))]")
            let waitingB = supervisorEntry(
                b, interaction: second, problem: "Caller asks for a manager", initiator: "agent2", initiatorName: "Agent Two", action: 0, state: 0)
            for supervisor in [supervisor1, supervisor2] {
                try await supervisor.expectMessages("[\(supervisorMessage("requestsAdded", waitingB))]")
            }
            try await agent1.expectNothing()
            #expect(try await agent2.watchDetails(b).status == .noContent)
            try await agent2.expectMessages("""
                [{"__type":"\(detailsType)","isDelta":false,"assistanceId":"\(b)","interactionId":"\(second)","state":0,
                  "participantsAdded":[{"userId":"agent2","displayName":"Agent Two","action":1}],
                  "messagesAdded":[{"text":"Caller asks for a manager","participantId":"agent2","timeAdded":"20240105T142343Z"}]}]
                """)
            #expect(try await agent1.watchDetails(b).status == .badRequest)

            // 7. The caller hangs up (admin API): the request completes and leaves every list.
            #expect(try await http.admin(.delete, "/admin/interactions/\(second)").status == .noContent)
            try await agent2.expectMessages("[\(listRemoved(b)), \(details(b, #""state":2"#))]")
            for supervisor in [supervisor1, supervisor2] {
                try await supervisor.expectMessages(#"[{"__type":"\#(supervisorType)","isDelta":true,"requestsRemoved":["\#(b)"]}]"#)
            }
            try await agent1.expectNothing()

            // 8. agent2 presses "Done" afterwards: accepted, and nothing more is sent.
            #expect(try await agent2.complete(b).status == .noContent)
            try await nobodyElse([])

            // Fresh snapshots agree: nothing is active any more.
            for session in everyone {
                #expect(try await session.watchAgentAssistance().status == .noContent)
                try await session.expectMessages(emptyList)
            }
        }
    }
}
