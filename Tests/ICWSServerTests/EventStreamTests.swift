import Foundation
import HTTPTypes
import ICWSCore
import ICWSServer
import Testing

@Suite("Server-sent events on the messages URL")
struct EventStreamTests {
    @Test("the cookie alone opens a stream: retry first, then one message per event with an id and no event name")
    func cookieOnlyStream() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
            #expect(await stream.status == 200)
            #expect(await stream.contentType?.hasPrefix("text/event-stream") == true)
            let snapshot = try await stream.waitForEvents(1)
            if case .retry(let ms) = await stream.items.first { #expect(ms > 0) } else { Issue.record("the stream did not start with retry:") }
            #expect(snapshot[0].object.type == listType)
            #expect(snapshot[0].object.isDelta == false)
            #expect(snapshot[0].eventName == nil)
            #expect(snapshot[0].id != nil)

            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)
            let events = try await stream.waitForEvents(2)
            #expect(events[1].object.strings("requestsAdded") == [id])
            #expect(UInt64(events[1].id ?? "") ?? 0 > UInt64(events[0].id ?? "") ?? 0)
            // While a stream is open, messages go to it, not to the poll queue.
            #expect(try await agent.poll().isEmpty)
            await stream.close()
        }
    }

    @Test("dropping many streams ends every stream task: the live-stream count returns to zero")
    func droppedStreamsEnd() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let agent = try await http.session("agent1")
            _ = try await agent.watchAgentAssistance()
            for _ in 0..<40 {
                let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
                _ = try await stream.waitForEvents(0)
                await stream.close()
            }
            // Many sessions with a stream each, all dropped at once.
            var streams: [EventStreamRecorder] = []
            for index in 0..<40 {
                let session = try await http.session(["agent1", "agent2", "supervisor1"][index % 3])
                streams.append(try await EventStreamRecorder.open(port: http.port, session: session))
            }
            #expect(await eventually { server.openICWS.openStreams == 40 }, "open streams: \(server.openICWS.openStreams)")
            for stream in streams { await stream.close() }
            #expect(await eventually(10) { server.openICWS.openStreams == 0 }, "open streams: \(server.openICWS.openStreams)")
        }
    }

    @Test("a second stream for the session replaces the first, which the server closes")
    func secondStreamReplacesFirst() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            _ = try await agent.watchAgentAssistance()
            let first = try await EventStreamRecorder.open(port: http.port, session: agent)
            _ = try await first.waitForEvents(1)
            let second = try await EventStreamRecorder.open(port: http.port, session: agent)
            #expect(await first.waitUntilClosed())
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)
            let events = try await second.waitForEvents(1)
            #expect(events.last?.object.strings("requestsAdded") == [id])
            #expect(await first.events.count == 1)
            await second.close()
        }
    }

    @Test("a reconnect with Last-Event-ID replays what was sent after it; the client's view equals the server's")
    func resumeReplays() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            _ = try await agent.watchAgentAssistance()
            let first = try await EventStreamRecorder.open(port: http.port, session: agent)
            let seen = try await first.waitForEvents(1)
            var view = Set(seen[0].object.strings("requestsAdded") ?? [])
            let lastId = try #require(seen[0].id)
            // The connection dies; meanwhile state changes.
            await first.close()
            let a = try await agent.requestAssistanceId(try await http.createInteraction(agent: "agent1"))
            let b = try await agent.requestAssistanceId(try await http.createInteraction(agent: "agent1"))
            #expect(try await agent.complete(a).status == .noContent)

            let second = try await EventStreamRecorder.open(port: http.port, session: agent, lastEventId: lastId)
            let events = try await second.waitForEvents(3)
            for event in events {
                let message = event.object
                if message.isDelta == false { view = [] }
                view.formUnion(message.strings("requestsAdded") ?? [])
                view.subtract(message.strings("requestsRemoved") ?? [])
            }
            #expect(view == [b])
            let ids = events.compactMap { UInt64($0.id ?? "") }
            #expect(ids == ids.sorted() && Set(ids).count == ids.count, "ids must increase without duplicates: \(ids)")
            await second.close()

            // Messages already sent, but lost with the connection, come again with their ids.
            let third = try await EventStreamRecorder.open(port: http.port, session: agent, lastEventId: events[0].id)
            let replayed = try await third.waitForEvents(2)
            #expect(replayed.map(\.id) == events.dropFirst().map(\.id))
            #expect(replayed.map(\.data) == events.dropFirst().map(\.data))
            await third.close()

            // The server's view, from a fresh snapshot on another session of the same user.
            let other = try await http.session("agent1")
            _ = try await other.watchAgentAssistance()
            #expect(Set(try await other.poll().first?.strings("requestsAdded") ?? []) == view)
        }
    }

    @Test("a Last-Event-ID older than the replay buffer gets fresh snapshots of every watch")
    func tooOldGetsSnapshot() async throws {
        try await TestServer.make(configure: { $0.replayCapacity = 2 }).run { http in
            let agent = try await http.session("agent1")
            _ = try await agent.watchAgentAssistance()
            let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction)
            let chatLines = 4
            _ = try await agent.send(.put, "/messaging/subscriptions/interactions/agent-assistance/\(id)")
            for line in 0..<chatLines {
                _ = try await agent.send(.post, "/interactions/agent-assistance/\(id)", json: #"{"text":"line \#(line)"}"#)
            }
            _ = try await stream.waitForEvents(3 + chatLines)
            await stream.close()

            let resumed = try await EventStreamRecorder.open(port: http.port, session: agent, lastEventId: "1")
            let events = try await resumed.waitForEvents(2)
            let snapshots = events.map(\.object).filter { $0.isDelta == false }
            #expect(Set(snapshots.compactMap(\.type)) == [listType, detailsType])
            #expect(snapshots.first { $0.type == listType }?.strings("requestsAdded") == [id])
            #expect(snapshots.first { $0.type == detailsType }?.objects("messagesAdded")?.count == chatLines + 1)
            await resumed.close()
        }
    }

    @Test("logout under an open stream sends connectionStateChangeMessage and closes it; the session then answers 401")
    func logoutClosesStream() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
            #expect(try await agent.send(.delete, "/connection").status == .ok)
            let events = try await stream.waitForEvents(1)
            let message = events[0].object
            #expect(message.type == connectionChangeType)
            #expect(message["newConnectionState"] as? Int == 2)
            #expect(message["previousConnectionState"] as? Int == 1)
            #expect(message["shouldReconnect"] as? Bool == false)
            #expect(await stream.waitUntilClosed())
            let after = try await agent.send(.get, "/messaging/messages")
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == -2_147_221_499)
        }
    }

    @Test("the stream writes :ping comments on the configured interval")
    func pings() async throws {
        try await TestServer.make(configure: { $0.ssePingSeconds = 1 }).run { http in
            let agent = try await http.session("agent1")
            let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
            let pinged = await eventually(5) {
                await stream.items.contains { if case .comment("ping") = $0 { return true } else { return false } }
            }
            #expect(pinged)
            await stream.close()
        }
    }

    @Test("--sse-ping-seconds inf means no pings: the upkeep keeps ticking and the server keeps answering")
    func infinitePingInterval() async throws {
        try await TestServer.make(configure: { $0.ssePingSeconds = .infinity }).run { http in
            let stream = try await EventStreamRecorder.open(port: http.port, session: try await http.session("agent1"))
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await http.session("agent2").send(.get, "/connection").status == .ok)
            #expect(await !stream.items.contains { if case .comment("ping") = $0 { return true } else { return false } })
            await stream.close()
        }
    }

    @Test("a stream that receives messages more often than the ping interval gets no :ping; a silent one beside it does")
    func busyStreamsAreNotPinged() async throws {
        try await TestServer.make(configure: { $0.ssePingSeconds = 2 }).run { http in
            let busy = try await http.session("agent1")
            #expect(try await busy.watchAgentAssistance().status == .noContent)
            let busyStream = try await EventStreamRecorder.open(port: http.port, session: busy)
            let silentStream = try await EventStreamRecorder.open(port: http.port, session: try await http.session("agent2"))
            _ = try await busyStream.waitForEvents(1)
            // Five seconds of requests, one every half second: each is a message on the busy stream.
            for index in 0..<10 {
                _ = try await busy.requestAssistanceId(try await http.createInteraction(agent: "agent1"))
                _ = try await busyStream.waitForEvents(2 + index)
                try await Task.sleep(for: .milliseconds(500))
            }
            let isPing: @Sendable (StreamItem) -> Bool = { if case .comment("ping") = $0 { return true } else { return false } }
            #expect(await silentStream.items.contains(where: isPing), "the silent stream got no keep-alive")
            #expect(await !busyStream.items.contains(where: isPing), "a busy stream was pinged")
            await busyStream.close()
            await silentStream.close()
        }
    }
}

@Suite("Session lifetime")
struct SessionLifetimeTests {
    @Test("an idle session expires after the idle timeout; heartbeats and open streams keep it alive")
    func expiry() async throws {
        let clock = ManualClock()
        let server = try await TestServer.make(clock: clock, configure: { $0.sessionIdleSeconds = 300 })
        try await server.run { http in
            let idle = try await http.session("agent1")
            let beating = try await http.session("agent2")
            let streaming = try await http.session("agent3")
            let stream = try await EventStreamRecorder.open(port: http.port, session: streaming)
            #expect(await eventually { server.openICWS.openStreams == 1 })

            clock.advance(by: 200)
            #expect(try await beating.send(.post, "/messaging/heartbeat").status == .noContent)
            clock.advance(by: 200)
            await server.openICWS.reapIdleSessions()

            let expired = try await idle.send(.get, "/connection")
            #expect(expired.status == .unauthorized)
            #expect(expired.errorCode == -2_147_221_499)
            #expect(try await beating.send(.get, "/connection").status == .ok)
            #expect(try await streaming.send(.get, "/connection").status == .ok)
            await stream.close()
        }
    }

    @Test("the server's own upkeep ends idle sessions (every sixtieth of the timeout: each second for 60 s), not only when asked")
    func upkeepExpires() async throws {
        let clock = ManualClock()
        let server = try await TestServer.make(clock: clock, configure: { $0.sessionIdleSeconds = 60 })
        try await server.run { http in
            let idle = try await http.session("agent1")
            #expect(try await idle.send(.get, "/connection").status == .ok)
            clock.advance(by: 61)
            // Watched through /health, which is no activity of the session's own.
            #expect(await eventually(10) { (try? await http.send(.get, "/health").object["sessions"] as? Int) == 0 })
            #expect(try await idle.send(.get, "/connection").status == .unauthorized)
        }
    }
}

