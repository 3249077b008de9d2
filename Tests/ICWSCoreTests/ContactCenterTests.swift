import Foundation
import ICWSCore
import ICWSModel
import Testing

/// Decodes what a mailbox holds.
func messages(_ entries: [MailboxEntry]) -> [[String: Any]] {
    entries.compactMap { try? JSONSerialization.jsonObject(with: Data($0.message.json)) as? [String: Any] }
}

struct CoreFixture {
    let center: ContactCenter
    let store: InMemoryAssistanceStore
    let clock: ManualClock

    static func make(features: FeatureVersions = FeatureVersions(), retainedFinished: Int = 10_000) async throws -> CoreFixture {
        let store = InMemoryAssistanceStore()
        let clock = ManualClock()
        let center = try await ContactCenter(
            directory: .demo(), store: store, features: features, clock: clock, retainedFinished: retainedFinished)
        Task { try await CommitPipeline(center: center).run() }
        return CoreFixture(center: center, store: store, clock: clock)
    }

    func login(_ userId: String, capacity: Int = 1_000) async throws -> Session {
        let user = try #require(center.directory.user(userId))
        let session = Session(
            id: SessionSecrets.sessionId(), user: user, csrfToken: SessionSecrets.token(), cookieValue: SessionSecrets.cookieValue(),
            language: "en-US", applicationName: "tests", createdAt: clock.now(), mailbox: Mailbox(capacity: capacity))
        try await center.sessionStarted(session)
        return session
    }

    /// agent1 logged in and watching its agent-assistance list (snapshot already taken), with one Support interaction.
    func watchingAgent() async throws -> (Session, Interaction) {
        let agent = try await login("agent1")
        try await center.subscribe(sessionId: agent.id, to: .agentAssistance)
        _ = agent.mailbox.drain()
        let interaction = try await center.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "Caller")
        return (agent, interaction)
    }
}

@Suite("Contact center: commits, failures and slow consumers")
struct ContactCenterTests {
    @Test("a request the store cannot commit answers 503, changes nothing, and watches see state 2 then 1 and a snapshot")
    func storeFailure() async throws {
        let fixture = try await CoreFixture.make()
        let (agent, interaction) = try await fixture.watchingAgent()

        await fixture.store.setFailing(true)
        await #expect(throws: DomainError.storeUnavailable) {
            _ = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
        }
        let suspended = messages(agent.mailbox.drain())
        #expect(suspended.count == 1)
        #expect(suspended.first?["__type"] as? String == ICWSType.assistanceSubscriptionState)
        #expect(suspended.first?["state"] as? Int == 2)
        #expect((suspended.first?["error"] as? [String: Any])?["message"] is String)

        await fixture.store.setFailing(false)
        // The failed request left nothing behind: the same interaction accepts a new request.
        let id = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help again")
        let recovered = messages(agent.mailbox.drain())
        #expect(recovered.map { $0["__type"] as? String } == [ICWSType.assistanceSubscriptionState, ICWSType.assistanceRequestList])
        #expect(recovered.first?["state"] as? Int == 1)
        #expect(recovered.last?["isDelta"] as? Bool == false)
        #expect(recovered.last?["requestsAdded"] as? [String] == [id])
    }

    @Test("a store that stays down faults the watches (state 3) and ends them; a new PUT works once it is back")
    func prolongedFailureFaults() async throws {
        let fixture = try await CoreFixture.make()
        let (agent, interaction) = try await fixture.watchingAgent()
        await fixture.store.setFailing(true)
        _ = try? await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
        #expect(await fixture.center.faultWatches(ifSuspendedLongerThan: 120) == 0)
        fixture.clock.advance(by: 121)
        #expect(await fixture.center.faultWatches(ifSuspendedLongerThan: 120) == 1)
        let states = messages(agent.mailbox.drain()).compactMap { $0["state"] as? Int }
        #expect(states == [2, 3])

        await fixture.store.setFailing(false)
        let id = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
        // The faulted watch is gone: no list message until the client subscribes again.
        #expect(messages(agent.mailbox.drain()).allSatisfy { $0["__type"] as? String == ICWSType.assistanceSubscriptionState })
        try await fixture.center.subscribe(sessionId: agent.id, to: .agentAssistance)
        #expect(messages(agent.mailbox.drain()).last?["requestsAdded"] as? [String] == [id])
    }

    @Test("with interactions 9 emulated, a store failure sends no subscription state message")
    func noStateMessagesWhenEmulating9() async throws {
        let fixture = try await CoreFixture.make(features: FeatureVersions(emulating: ["interactions": 9]))
        let (agent, interaction) = try await fixture.watchingAgent()
        await fixture.store.setFailing(true)
        await #expect(throws: DomainError.storeUnavailable) {
            _ = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
        }
        #expect(agent.mailbox.drain().isEmpty)
    }

    @Test("a full mailbox collapses a watch's queued deltas into one fresh snapshot; nothing is lost")
    func slowConsumerCollapses() async throws {
        let fixture = try await CoreFixture.make()
        let agent = try await fixture.login("agent1", capacity: 10)
        let interaction = try await fixture.center.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "")
        let id = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "line 0")
        try await fixture.center.subscribe(sessionId: agent.id, to: .agentAssistanceDetails(id))
        for line in 1...25 {
            try await fixture.center.addChatLine(user: agent.user, assistanceId: id, text: "line \(line)")
        }
        #expect(agent.mailbox.count <= 10)
        // Applying what is queued, in order, gives the client every line exactly once.
        var lines: [String] = []
        for message in messages(agent.mailbox.drain()) {
            let added = (message["messagesAdded"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            if message["isDelta"] as? Bool == false { lines = added } else { lines += added }
        }
        #expect(lines == (0...25).map { "line \($0)" })
    }

    @Test("only the newest completed requests and disconnected interactions stay in memory; active ones always do")
    func finishedAreRetired() async throws {
        let fixture = try await CoreFixture.make(retainedFinished: 3)
        let agent = try await fixture.login("agent1")
        var completed: [String] = []
        var interactions: [String] = []
        for _ in 0..<6 {
            let interaction = try await fixture.center.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "")
            let id = try await fixture.center.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
            try await fixture.center.completeAssistance(user: agent.user, assistanceId: id)
            completed.append(id)
            interactions.append(interaction.id)
        }
        for id in interactions.prefix(5) { try await fixture.center.disconnectInteraction(id, userId: nil) }
        let live = try await fixture.center.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "")
        let active = try await fixture.center.requestAssistance(user: agent.user, interactionId: live.id, text: "still open")
        // The oldest completed requests are gone from memory (404), the newest three and the active one remain.
        for id in completed.prefix(3) {
            await #expect(throws: DomainError.self) { try await fixture.center.subscribe(sessionId: agent.id, to: .agentAssistanceDetails(id)) }
        }
        for id in completed.suffix(3) + [active] {
            try await fixture.center.subscribe(sessionId: agent.id, to: .agentAssistanceDetails(id))
        }
        #expect(await fixture.center.interaction(live.id) != nil)
        #expect(await fixture.center.interaction(interactions[0]) == nil)
        #expect(await fixture.center.interaction(interactions[1]) == nil)
        #expect(await fixture.center.interaction(interactions[2])?.state == .disconnected)
        #expect(await fixture.center.interaction(interactions[5])?.state == .connected)
    }

    @Test("jobs that arrive while a commit is in flight share the next commit")
    func groupCommit() async throws {
        let fixture = try await CoreFixture.make()
        let agents = ["agent1", "agent2", "agent3"]
        var interactions: [(DirectoryUser, String)] = []
        for name in agents {
            let session = try await fixture.login(name)
            for _ in 0..<20 {
                let interaction = try await fixture.center.createInteraction(workgroup: "Support", agent: name, type: "call", remoteName: "")
                interactions.append((session.user, interaction.id))
            }
        }
        let before = await fixture.store.commits
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for (user, interaction) in interactions {
                group.addTask { try await fixture.center.requestAssistance(user: user, interactionId: interaction, text: "help") }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 60)
        let commits = await fixture.store.commits - before
        #expect(commits >= 1 && commits < 60)
    }
}
