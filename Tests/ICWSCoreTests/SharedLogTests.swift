import Foundation
import ICWSCore
import ICWSModel
import Testing

/// A shared store in memory: a change log that several centers ("nodes") commit to, one at a time, as a
/// shared database's lock makes them. A seam double for the pipeline; the PostgreSQL store has its own suite.
actor SharedMemoryLog: AssistanceStore {
    private var log: [CommittedChange] = []
    private var signals: [AsyncStream<Void>.Continuation] = []
    var failing = false

    nonisolated var isShared: Bool { true }

    func setFailing(_ value: Bool) { failing = value }

    func load() async throws -> StoredState {
        var state = DomainState(StoredState(interactions: [], requests: [], highestInteractionNumber: 0, highestAssistanceNumber: 0))
        for change in log { state.applyCommitted(change.events) }
        return StoredState(
            interactions: Array(state.interactions.values), requests: Array(state.requests.values),
            highestInteractionNumber: state.nextInteractionNumber - 1, highestAssistanceNumber: state.nextAssistanceNumber - 1,
            presence: state.presence.flatMap { user, nodes in nodes.map { PresenceRecord(userId: user, node: $0, since: .distantPast) } },
            lastChangeId: Int64(log.count))
    }

    func commit(
        after lastApplied: Int64, node: String, _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64? {
        if failing { throw StoreFailure.unavailable("shared log set to fail") }
        // An actor is reentrant: the lock keeps another commit out during `prepare`, as the row lock of a database does.
        await lock()
        defer { unlock() }
        let missed = Array(log.dropFirst(Int(lastApplied)))
        let events = try await prepare(missed)
        guard !events.isEmpty else { return nil }
        let id = Int64(log.count + 1)
        log.append(CommittedChange(id: id, node: node, events: events))
        for signal in signals { signal.yield() }
        return id
    }

    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func lock() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func unlock() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    func changes(after id: Int64) async throws -> [CommittedChange] {
        if failing { throw StoreFailure.unavailable("shared log set to fail") }
        return Array(log.dropFirst(Int(id)))
    }

    func probe() async throws {
        if failing { throw StoreFailure.unavailable("shared log set to fail") }
    }

    func close() async throws {}

    /// Nodes in these tests never miss a heartbeat; retiring a node is done by committing `nodeGone` directly.
    func heartbeat(node: String, applied: Int64) async throws {}

    func deadNodes(olderThan seconds: Double) async throws -> [String] { [] }

    nonisolated func changeSignals() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        Task { await self.addSignal(continuation) }
        return stream
    }

    /// Like a LISTEN that has just been set up: one signal at once, for what may have been missed before.
    private func addSignal(_ continuation: AsyncStream<Void>.Continuation) {
        signals.append(continuation)
        continuation.yield()
    }
}

/// Waits until `condition` holds (checked every 10 ms), at most `seconds`. Generous, since only a failing run
/// waits it out: CI runs every suite at once beside PostgreSQL, and there one of these tests once needed
/// more than 5 s to see a change that takes milliseconds on an idle machine.
func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

@Suite("Two centers on one change log (the pipeline's side of several nodes)")
struct SharedLogTests {
    func node(_ name: String, on log: SharedMemoryLog) async throws -> ContactCenter {
        let center = try await ContactCenter(directory: .demo(), store: log, node: name)
        Task { try await CommitPipeline(center: center).run() }
        return center
    }

    func login(_ userId: String, on center: ContactCenter) async throws -> Session {
        try await center.login(try #require(center.directory.user(userId)), language: "en-US", applicationName: "tests")
    }

    @Test("a request made on node A reaches a supervisor watching on node B, once; routing on B finds A's agent")
    func crossNodeDelivery() async throws {
        let log = SharedMemoryLog()
        let a = try await node("A", on: log)
        let b = try await node("B", on: log)
        let agent = try await login("agent1", on: a)
        let supervisor = try await login("supervisor1", on: b)
        try await b.subscribe(sessionId: supervisor.id, to: .supervisorAssistance)
        #expect(await eventually { await b.isPresent("agent1") })
        let interaction = try await b.createInteraction(workgroup: "Support", agent: nil, type: "call", remoteName: "x")
        #expect(interaction.agent == "agent1")
        #expect(await eventually { await a.interaction(interaction.id) != nil })
        let id = try await a.requestAssistance(user: agent.user, interactionId: interaction.id, text: "help")
        var received: [[String: Any]] = []
        #expect(await eventually {
            received += messages(supervisor.mailbox.drain())
            return received.count >= 2
        })
        try await Task.sleep(for: .milliseconds(50))
        received += messages(supervisor.mailbox.drain())
        #expect(received.count == 2)
        #expect(received.first?["isDelta"] as? Bool == false)
        let added = received.last?["requestsAdded"] as? [[String: Any]]
        #expect(added?.map { $0["assistanceId"] as? String } == [id])
    }

    @Test("a commit first applies what the other node committed: a second request for the same interaction is refused")
    func commitsSeeOtherNodesChanges() async throws {
        let log = SharedMemoryLog()
        let a = try await node("A", on: log)
        let b = try await node("B", on: log)
        let onA = try await login("agent1", on: a)
        let onB = try await login("agent1", on: b)
        let interaction = try await a.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "x")
        // No change signal reaches B between these: B learns of A's request only inside its own commit.
        _ = try await a.requestAssistance(user: onA.user, interactionId: interaction.id, text: "from A")
        await #expect(throws: DomainState.alreadyActive) {
            _ = try await b.requestAssistance(user: onB.user, interactionId: interaction.id, text: "from B")
        }
        // Ids stay unique across nodes.
        let second = try await b.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "y")
        #expect(second.id != interaction.id)
    }

    @Test("a node that was presumed dead announces its users again; a store outage suspends and resumes watches")
    func presenceAndOutage() async throws {
        let log = SharedMemoryLog()
        let a = try await node("A", on: log)
        let b = try await node("B", on: log)
        let agent = try await login("agent1", on: a)
        try await a.subscribe(sessionId: agent.id, to: .agentAssistance)
        #expect(await eventually { await b.isPresent("agent1") })
        // B retires A (as after a missed heartbeat); A reads that and says again who is logged in there.
        _ = try await log.commit(after: Int64.max, node: "B") { _ in [.nodeGone(node: "A")] }
        await a.requestCatchUp()
        await b.requestCatchUp()
        #expect(await eventually { await b.isPresent("agent1") })

        _ = agent.mailbox.drain()
        await log.setFailing(true)
        await #expect(throws: DomainError.storeUnavailable) {
            _ = try await a.createInteraction(workgroup: "Support", agent: "agent1", type: "call", remoteName: "x")
        }
        #expect(await a.isStoreSuspended)
        await log.setFailing(false)
        await a.probeStore()
        #expect(await eventually { await !a.isStoreSuspended })
        let states = messages(agent.mailbox.drain()).compactMap { $0["state"] as? Int }
        #expect(states == [2, 1])
    }

    @Test("a node restarted under the same name forgets the users whose sessions died with its previous run")
    func restartedNodeDropsStalePresence() async throws {
        let log = SharedMemoryLog()
        let first = try await node("A", on: log)
        _ = try await login("agent1", on: first)
        let b = try await node("B", on: log)
        #expect(await eventually { await b.isPresent("agent1") })
        // A dies without logging out (kill -9) and starts again as "A".
        let restarted = try await node("A", on: log)
        #expect(await eventually { await !restarted.isPresent("agent1") })
        #expect(await eventually { await !b.isPresent("agent1") })
        _ = first
    }
}
