import Foundation
import ICWSClient
import ICWSModel
import Testing

@Suite("The Swift SDK's message stream and views")
struct SDKStreamTests {
    @Test("when the server drops the stream, the SDK reconnects with Last-Event-ID and gets what it missed, once each, in order")
    func reconnectWithResume() async throws {
        // The SDK waits out this retry delay before it reconnects, and its reconnection takes the stream back
        // from the intruder below. The delay leaves room for the three requests and their two messages to the
        // intruder on a loaded CI machine (1.5 s once did not).
        let server = try await TestServer.make { $0.sseRetryMilliseconds = 6_000 }
        try await server.run { http in
            let base = baseURL(http)
            let agent = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234")
            let messages = MessageCollector(agent)
            try await agent.subscribe(.agentAssistance)
            let first = try await http.createInteraction(agent: "agent1")
            let a1 = try await agent.requestAssistance(interactionId: first, text: "one")
            try await messages.waitUntil("the first request") { $0.agentAssistance.assistanceIds == [a1] }
            let before = messages.messages.count

            // A second stream for the same session replaces the SDK's: the server closes the SDK's stream.
            let intruder = try await EventStreamRecorder.open(url: "\(base)/icws/\(agent.sessionId)/messaging/messages", cookie: agent.cookie)
            // While the SDK waits out the server's retry delay, changes happen; the intruder gets their messages.
            let second = try await http.createInteraction(agent: "agent1")
            let a2 = try await agent.requestAssistance(interactionId: second, text: "two")
            try await agent.complete(assistanceId: a1)
            let missed = try await intruder.waitForEvents(2, seconds: 5)
            #expect(messages.messages.count == before, "the SDK read messages while its stream was closed")

            // The SDK comes back after the retry delay and the server replays what came after its last id.
            try await messages.waitUntil("the missed changes") { $0.agentAssistance.assistanceIds == [a2] }
            #expect(agent.reconnects >= 1)
            let ids = messages.messages.compactMap { $0.eventId.flatMap { UInt64($0) } }
            #expect(ids == ids.sorted() && Set(ids).count == ids.count, "event ids out of order or repeated: \(ids)")
            let received = Set(messages.messages.compactMap(\.eventId))
            #expect(missed.allSatisfy { received.contains($0.id ?? "") }, "missed \(missed.map(\.id)) not all in \(received)")
            await intruder.close()
            try await agent.logout()
        }
    }

    @Test("after a random run, every view equals a fresh snapshot of the same subscription")
    func viewsMatchFreshSnapshots() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let base = baseURL(http)
            let admin = ICWSAdmin(server: base, token: adminToken)
            var clients: [String: ICWSClient] = [:]
            for user in ["agent1", "agent2", "agent3", "supervisor1", "supervisor2"] {
                clients[user] = try await ICWSClient.connect(server: base, userId: user, password: "1234")
            }
            let agent = try #require(clients["agent1"])
            let supervisor = try #require(clients["supervisor1"])
            let queue = ICWSSubscription.queue(subscriptionId: "q", queues: [.user("agent1"), .workgroup("Support")], attributes: ["Eic_State", "Eic_RemoteName"])
            let agentMessages = MessageCollector(agent)
            let supervisorMessages = MessageCollector(supervisor)
            try await agent.subscribe(.agentAssistance)
            try await agent.subscribe(queue)
            try await supervisor.subscribe(.supervisorAssistance)

            var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
            let seed = random.state
            var interactions: [(id: String, agent: String)] = []
            var requests: [(id: String, agent: String)] = []
            var watchedDetails: [String] = []
            let agents = ["agent1", "agent2", "agent3"]
            let supervisors = ["supervisor1", "supervisor2"]
            for _ in 0..<120 {
                // Refusals (accepting twice, completing a completed request, …) are part of a random run.
                do {
                    switch random.next() % 8 {
                    case 0, 1:
                        let owner = agents[Int(random.next() % 3)]
                        interactions.append((try await admin.createInteraction(workgroup: "Support", agent: owner, remoteName: "R\(random.next() % 100)").interactionId, owner))
                    case 2, 3:
                        guard let pick = interactions.randomElement(using: &random) else { continue }
                        let client = try #require(clients[pick.agent])
                        let id = try await client.requestAssistance(interactionId: pick.id, text: "help \(random.next() % 1000)")
                        requests.append((id, pick.agent))
                        if pick.agent == "agent1", random.next() % 2 == 0 {
                            try await agent.subscribe(.agentAssistanceDetails(assistanceId: id))
                            watchedDetails.append(id)
                        }
                    case 4:
                        guard let pick = requests.randomElement(using: &random) else { continue }
                        let client = try #require(clients[supervisors[Int(random.next() % 2)]])
                        if random.next() % 3 == 0 { try await client.ignore(assistanceId: pick.id) } else { try await client.accept(assistanceId: pick.id) }
                    case 5:
                        guard let pick = requests.randomElement(using: &random) else { continue }
                        try await clients[pick.agent]?.say(assistanceId: pick.id, text: "line \(random.next() % 1000)")
                    case 6:
                        guard let pick = requests.randomElement(using: &random) else { continue }
                        try await clients[pick.agent]?.complete(assistanceId: pick.id)
                    default:
                        guard let pick = interactions.randomElement(using: &random) else { continue }
                        if random.next() % 2 == 0 {
                            try await admin.disconnectInteraction(pick.id)
                        } else {
                            try await clients[pick.agent]?.disconnect(interactionId: pick.id)
                        }
                    }
                } catch let error as ICWSClientError where error.status == 400 || error.status == 403 || error.status == 404 {
                    continue
                }
            }
            // A last request by agent1 shows up in both views only after every earlier message was applied.
            let last = try await admin.createInteraction(workgroup: "Support", agent: "agent1").interactionId
            let sentinel = try await agent.requestAssistance(interactionId: last, text: "last")
            try await agentMessages.waitUntil("the last request (seed \(seed))") { $0.agentAssistance.assistanceIds.contains(sentinel) && $0.queues["q"]?.interactions[last] != nil }
            try await supervisorMessages.waitUntil("the last request (seed \(seed))") { $0.supervisorAssistance.requests[sentinel] != nil }
            #expect(agentMessages.messages.filter { $0.message.isDelta }.count >= 20, "the run made too few changes to test the views (seed \(seed))")

            // Fresh sessions subscribe to the same things; their snapshots must equal the live views.
            let freshAgent = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234")
            let freshSupervisor = try await ICWSClient.connect(server: base, userId: "supervisor1", password: "1234")
            let freshAgentMessages = MessageCollector(freshAgent)
            let freshSupervisorMessages = MessageCollector(freshSupervisor)
            try await freshAgent.subscribe(.agentAssistance)
            try await freshAgent.subscribe(queue)
            for id in watchedDetails { try await freshAgent.subscribe(.agentAssistanceDetails(assistanceId: id)) }
            try await freshSupervisor.subscribe(.supervisorAssistance)
            try await freshAgentMessages.waitUntil("fresh snapshots") { views in
                views.agentAssistance.hasSnapshot && views.queues["q"]?.hasSnapshot == true && watchedDetails.allSatisfy { views.details[$0] != nil }
            }
            try await freshSupervisorMessages.waitUntil("a fresh snapshot") { $0.supervisorAssistance.hasSnapshot }

            let live = agent.views
            let fresh = freshAgent.views
            #expect(live.agentAssistance.assistanceIds == fresh.agentAssistance.assistanceIds, "seed \(seed)")
            #expect(live.queues["q"] == fresh.queues["q"], "seed \(seed)")
            for id in watchedDetails { #expect(live.details[id] == fresh.details[id], "details of \(id), seed \(seed)") }
            #expect(supervisor.views.supervisorAssistance.requests == freshSupervisor.views.supervisorAssistance.requests, "seed \(seed)")
            // And the list is what the run left active: agent1's requests not completed.
            let active = Set(supervisor.views.supervisorAssistance.requests.values.filter { $0.initiator.userId == "agent1" }.map(\.assistanceId))
            #expect(live.agentAssistance.assistanceIds == active, "seed \(seed)")
            for client in Array(clients.values) + [freshAgent, freshSupervisor] { try await client.logout() }
        }
    }
}

/// A small seeded generator, so a failing random run can be replayed from the seed it prints.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
