import Foundation
@testable import ICWSCore
import ICWSModel
import Testing

/// The change feed alone: committed events in, mailbox messages out. No pipeline, store or HTTP.
@Suite("Change feed")
struct ChangeFeedTests {
    let directory = Directory.demo()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func session(_ userId: String) throws -> Session {
        let user = try #require(directory.user(userId))
        return Session(
            id: SessionSecrets.sessionId(), user: user, csrfToken: "t", cookieValue: "c", language: "en-US",
            applicationName: "tests", createdAt: now, mailbox: Mailbox(capacity: 100))
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
