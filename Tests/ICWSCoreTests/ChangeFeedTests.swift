import Foundation
@testable import ICWSCore
import ICWSModel
import Testing

/// The change feed alone: committed events in, mailbox messages out. No pipeline, store or HTTP.
@Suite("Change feed")
struct ChangeFeedTests {
    let directory = Directory.demo()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func session(_ userId: String, capacity: Int = 100) throws -> Session {
        let user = try #require(directory.user(userId))
        return Session(
            id: SessionSecrets.sessionId(), user: user, csrfToken: "t", cookieValue: "c", language: "en-US",
            applicationName: "tests", createdAt: now, mailbox: Mailbox(capacity: capacity))
    }

    /// A state with agent1's interaction and, when `requested`, its request a1.
    func state(requested: Bool) throws -> DomainState {
        var state = DomainState(StoredState(interactions: [], requests: [], highestInteractionNumber: 0, highestAssistanceNumber: 0))
        state.applyCommitted(try state.createInteraction(
            workgroup: "Support", agent: "agent1", type: "call", remoteName: "x", at: now, directory: directory).events)
        if requested {
            state.applyCommitted(try state.requestAssistance(
                by: try #require(directory.user("agent1")), interactionId: "1000000001", text: "help", at: now).events)
        }
        return state
    }

    @Test("events from any node become one delta per watch, with only what changed")
    func deltas() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let supervisor = try session("supervisor1")
        let other = try session("supervisor2")
        feed.add(supervisor)
        feed.add(other)
        var before = try state(requested: false)
        #expect(try feed.subscribe(sessionId: supervisor.id, to: .supervisorAssistance, queue: nil, state: before))
        feed.publish([], snapshots: [(supervisor.id, .supervisorAssistance)], state: before)
        let snapshot = messages(supervisor.mailbox.drain())
        #expect(snapshot.count == 1)
        #expect(snapshot.first?["isDelta"] as? Bool == false)
        #expect((snapshot.first?["requestsAdded"] as? [Any])?.isEmpty == true)

        let request = try before.requestAssistance(
            by: try #require(directory.user("agent1")), interactionId: "1000000001", text: "help", at: now)
        before.applyCommitted(request.events)
        feed.publish(request.events, state: before)
        let delivered = messages(supervisor.mailbox.drain())
        #expect(delivered.count == 1)
        #expect(delivered.first?["isDelta"] as? Bool == true)
        #expect((delivered.first?["requestsAdded"] as? [[String: Any]])?.first?["assistanceId"] as? String == "a1")
        // supervisor2 supervises Support too, but watches nothing: nothing queued.
        #expect(other.mailbox.drain().isEmpty)
    }

    @Test("a queue watch gets a delta for each routed interaction until it is removed; a later watch of the same session gets them again")
    func queueWatches() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let agent = try session("agent1")
        let supervisor = try session("supervisor1")
        feed.add(agent)
        feed.add(supervisor)
        var state = try state(requested: false)
        let support = QueueId(queueType: 2, queueName: "Support")
        func route() throws -> [[String: Any]] {
            let change = try state.createInteraction(
                workgroup: "Support", agent: "agent1", type: "call", remoteName: "x", at: now, directory: directory)
            state.applyCommitted(change.events)
            feed.publish(change.events, state: state)
            return messages(supervisor.mailbox.drain())
        }
        #expect(try feed.subscribe(sessionId: supervisor.id, to: .queue("q"), queue: ([support], []), state: state))
        feed.publish([], snapshots: [(supervisor.id, .queue("q"))], state: state)
        #expect(messages(supervisor.mailbox.drain()).first?["isDelta"] as? Bool == false)
        let added = try route()
        #expect(added.count == 1)
        #expect((added.first?["interactionsAdded"] as? [Any])?.count == 1)
        // The agent's session watches no queue: nothing for it.
        #expect(agent.mailbox.drain().isEmpty)

        try feed.unsubscribe(sessionId: supervisor.id, from: .queue("q"))
        #expect(try route().isEmpty, "a removed queue watch still got a delta")

        #expect(try feed.subscribe(sessionId: supervisor.id, to: .queue("again"), queue: ([support], []), state: state))
        feed.publish([], snapshots: [(supervisor.id, .queue("again"))], state: state)
        _ = supervisor.mailbox.drain()
        #expect((try route().first?["interactionsAdded"] as? [Any])?.count == 1)

        feed.remove(supervisor, reason: "bye", shouldReconnect: false)
        _ = supervisor.mailbox.drain()
        #expect(try route().isEmpty)
    }

    @Test("a supervisor's sessions that show the same list share one view; a session that stops reading gets snapshots and the others still get every delta")
    func sharedSupervisorViews() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let reading = try session("supervisor1")
        // Holds two messages: it collapses into snapshots as soon as it falls behind.
        let stalled = try session("supervisor1", capacity: 2)
        let late = try session("supervisor1")
        var state = try state(requested: false)
        let agent = try #require(directory.user("agent1"))
        let supervisor = try #require(directory.user("supervisor1"))

        /// What each session's client holds: assistance id to (state, action), from snapshots and deltas.
        var held: [String: [String: [Int]]] = [:]
        func read(_ session: Session) {
            for message in messages(session.mailbox.drain()) {
                func entries(_ key: String) -> [[String: Any]] { message[key] as? [[String: Any]] ?? [] }
                if message["isDelta"] as? Bool == false { held[session.id] = [:] }
                for entry in entries("requestsAdded") + entries("requestsChanged") {
                    guard let id = entry["assistanceId"] as? String else { continue }
                    held[session.id, default: [:]][id] = [entry["state"] as? Int ?? -1, entry["action"] as? Int ?? -1]
                }
                for id in message["requestsRemoved"] as? [String] ?? [] { held[session.id]?[id] = nil }
            }
        }
        func subscribe(_ session: Session) throws {
            feed.add(session)
            #expect(try feed.subscribe(sessionId: session.id, to: .supervisorAssistance, queue: nil, state: state))
            feed.publish([], snapshots: [(session.id, .supervisorAssistance)], state: state)
            read(session)
        }
        func commit(_ events: [DomainEvent]) {
            state.applyCommitted(events)
            feed.publish(events, state: state)
            read(reading)
            read(late)
        }
        func newRequest() throws -> [DomainEvent] {
            let interaction = try state.createInteraction(
                workgroup: "Support", agent: "agent1", type: "call", remoteName: "x", at: now, directory: directory)
            state.applyCommitted(interaction.events)
            let request = try state.requestAssistance(by: agent, interactionId: interaction.result.id, text: "help", at: now)
            return interaction.events + request.events
        }

        try subscribe(reading)
        try subscribe(stalled)
        #expect(try feed.watchesOf(reading.id).supervisorList === feed.watchesOf(stalled.id).supervisorList)
        for _ in 0..<3 { commit(try newRequest()) }
        try subscribe(late)
        // Two requests in one publication (the gathered path), then a change and a removal.
        let first = try newRequest()
        state.applyCommitted(first)
        let second = try newRequest()
        state.applyCommitted(second)
        feed.publish(first + second, state: state)
        read(reading)
        read(late)
        commit(try state.supervisorAction(by: supervisor, assistanceId: "a2", action: .accepted, text: nil, at: now, directory: directory).events)
        commit(try state.completeAssistance(by: agent, assistanceId: "a1").events)
        read(stalled)

        let fresh = try session("supervisor1")
        try subscribe(fresh)
        let truth = try #require(held[fresh.id])
        #expect(truth.count == 4)
        #expect(truth["a2"] == [AssistanceRequestState.accepted.rawValue, AssistanceParticipantAction.accepted.rawValue])
        for session in [reading, stalled, late] {
            #expect(held[session.id] == truth, "session \(session.id) holds \(held[session.id] ?? [:])")
        }
        // Those that kept reading still share the view with the session that subscribed last.
        #expect(try feed.watchesOf(reading.id).supervisorList === feed.watchesOf(fresh.id).supervisorList)
    }

    @Test("subscription counts (the /metrics gauge) count each kind of watch across sessions")
    func subscriptionCounts() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let state = try state(requested: true)
        let agent = try session("agent1")
        let supervisor = try session("supervisor1")
        feed.add(agent)
        feed.add(supervisor)
        #expect(try feed.subscribe(sessionId: agent.id, to: .agentAssistance, queue: nil, state: state))
        #expect(try feed.subscribe(sessionId: agent.id, to: .agentAssistanceDetails("a1"), queue: nil, state: state))
        #expect(try feed.subscribe(sessionId: supervisor.id, to: .supervisorAssistance, queue: nil, state: state))
        #expect(try feed.subscribe(sessionId: supervisor.id, to: .agentAssistance, queue: nil, state: state))
        let counts = Dictionary(uniqueKeysWithValues: feed.subscriptionCounts())
        #expect(counts == [
            "agent-assistance": 2, "agent-assistance-details": 1, "supervisor-assistance": 1,
            "supervisor-assistance-details": 0, "queues": 0, "user-statuses": 0,
        ])
    }

    @Test("a publication to many streams wakes them in batches while it queues, and each stream gets its delta once")
    func batchedWakes() throws {
        /// Records, when woken, how many of all the streams already had their delta queued.
        final class Sink: StreamSink, StreamWakeGroup, @unchecked Sendable {
            let mailboxes: [Mailbox]
            var wokenWhenQueued: [Int] = []
            init(mailboxes: [Mailbox]) { self.mailboxes = mailboxes }
            func wake() { wokenWhenQueued.append(mailboxes.filter { $0.count > 0 }.count) }
            var wakeGroup: any StreamWakeGroup { self }
            func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
                for mailbox in mailboxes { mailbox.installedSink?.wake() }
                done()
            }
        }
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        var state = try state(requested: false)
        let sessions = try (0..<300).map { index in try session(index % 2 == 0 ? "supervisor1" : "supervisor2") }
        let mailboxes = sessions.map(\.mailbox)
        var sinks: [Sink] = []
        for session in sessions {
            feed.add(session)
            #expect(try feed.subscribe(sessionId: session.id, to: .supervisorAssistance, queue: nil, state: state))
            feed.publish([], snapshots: [(session.id, .supervisorAssistance)], state: state)
            _ = session.mailbox.drain()
            let sink = Sink(mailboxes: mailboxes)
            let token = session.mailbox.attachStream()
            #expect(session.mailbox.install(sink, for: token))
            // The sink took everything (as the pump does), so the next message wakes it again.
            #expect(session.mailbox.take(for: token) { _ in } == .nothing)
            sinks.append(sink)
        }
        for sink in sinks { sink.wokenWhenQueued.removeAll() }

        let request = try state.requestAssistance(
            by: try #require(directory.user("agent1")), interactionId: "1000000001", text: "help", at: now)
        state.applyCommitted(request.events)
        feed.publish(request.events, state: state)

        // Every stream was woken once; the first ones before the last deltas were queued.
        #expect(sinks.allSatisfy { $0.wokenWhenQueued.count == 1 })
        #expect(sinks.compactMap(\.wokenWhenQueued.first).min() ?? 0 < sessions.count)
        for session in sessions {
            let delivered = messages(session.mailbox.drain())
            #expect(delivered.count == 1)
            #expect((delivered.first?["requestsAdded"] as? [[String: Any]])?.first?["assistanceId"] as? String == "a1")
        }
    }

    @Test("a fan-out reaches a user's streams in the order their sessions were opened, also after some left")
    func fanOutOrder() throws {
        /// One group for every stream (as one event loop): records the order in which mailboxes are woken.
        final class Group: StreamSink, StreamWakeGroup, @unchecked Sendable {
            var woken: [ObjectIdentifier] = []
            func wake() {}
            var wakeGroup: any StreamWakeGroup { self }
            func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
                woken += mailboxes.map(ObjectIdentifier.init)
                done()
            }
        }
        let group = Group()
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        var state = try state(requested: false)
        func open() throws -> Session {
            let session = try session("supervisor1")
            feed.add(session)
            #expect(try feed.subscribe(sessionId: session.id, to: .supervisorAssistance, queue: nil, state: state))
            feed.publish([], snapshots: [(session.id, .supervisorAssistance)], state: state)
            _ = session.mailbox.drain()
            let token = session.mailbox.attachStream()
            #expect(session.mailbox.install(group, for: token))
            #expect(session.mailbox.take(for: token) { _ in } == .nothing)
            return session
        }
        var sessions = try (0..<60).map { _ in try open() }
        // Sessions leave from the middle and new ones come: the newest are last.
        for index in [40, 25, 3] {
            feed.remove(sessions.remove(at: index), reason: "bye", shouldReconnect: false)
        }
        sessions += try (0..<5).map { _ in try open() }
        group.woken.removeAll()

        let request = try state.requestAssistance(
            by: try #require(directory.user("agent1")), interactionId: "1000000001", text: "help", at: now)
        state.applyCommitted(request.events)
        feed.publish(request.events, state: state)
        #expect(group.woken == sessions.map { ObjectIdentifier($0.mailbox) })
    }

    @Test("a details watch still waiting for its snapshot gets no delta; the snapshot includes the change")
    func awaitingSnapshot() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let agent = try session("agent1")
        feed.add(agent)
        var state = try state(requested: true)
        #expect(try feed.subscribe(sessionId: agent.id, to: .agentAssistanceDetails("a1"), queue: nil, state: state))
        let line = try state.addChatLine(by: try #require(directory.user("agent1")), assistanceId: "a1", text: "more", at: now)
        state.applyCommitted(line.events)
        feed.publish(line.events, snapshots: [(agent.id, .agentAssistanceDetails("a1"))], state: state)
        let delivered = messages(agent.mailbox.drain())
        #expect(delivered.count == 1)
        #expect(delivered.first?["isDelta"] as? Bool == false)
        #expect((delivered.first?["messagesAdded"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["help", "more"])
    }

    @Test("a removed session's mailbox closes with a connection message; its watches get nothing more")
    func removal() throws {
        let feed = ChangeFeed(directory: directory, features: FeatureVersions())
        let agent = try session("agent1")
        feed.add(agent)
        let state = try state(requested: true)
        _ = try feed.subscribe(sessionId: agent.id, to: .agentAssistance, queue: nil, state: state)
        feed.remove(agent, reason: "bye", shouldReconnect: false)
        #expect(!feed.hasSession("agent1"))
        #expect(throws: DomainError.sessionEnded) { try feed.watchesOf(agent.id) }
        let delivered = messages(agent.mailbox.drain())
        #expect(delivered.map { $0["__type"] as? String } == [ICWSType.connectionStateChange])
    }
}
