import Foundation
import ICWSCore
import Testing

/// A stream's sink that counts its wakes; it is its own wake group.
private final class Sink: StreamSink, StreamWakeGroup, @unchecked Sendable {
    var wakes = 0
    func wake() { wakes += 1 }
    var wakeGroup: any StreamWakeGroup { self }
    func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
        for mailbox in mailboxes { mailbox.installedSink?.wake() }
        done()
    }
}

/// One session's mailbox alone: streams, replay, and what a full queue does.
@Suite("Mailbox")
struct MailboxTests {
    func message(_ text: String, watch: WatchKey = .agentAssistance, delta: Bool = true) -> OutboundMessage {
        OutboundMessage(watch: watch, isDelta: delta, json: Array(text.utf8))
    }

    /// A mailbox of ten with a stream attached and a counting sink installed for it.
    private func attachedSink() -> (Mailbox, Sink, UInt64) {
        let mailbox = Mailbox(capacity: 10)
        let sink = Sink()
        let token = mailbox.attachStream()
        #expect(mailbox.install(sink, for: token))
        return (mailbox, sink, token)
    }

    func texts(_ entries: [MailboxEntry]) -> [String] { entries.map { String(decoding: $0.message.json, as: UTF8.self) } }

    func texts(_ event: StreamEvent) -> [String] {
        if case .messages(let entries) = event { return texts(entries) }
        return []
    }

    @Test("a second stream takes over: the first one ends, the second gets what follows")
    func takeover() async {
        let mailbox = Mailbox(capacity: 10)
        let first = mailbox.attachStream()
        _ = mailbox.push(message("one"))
        #expect(texts(await mailbox.nextStreamEvent(first)) == ["one"])
        let second = mailbox.attachStream()
        _ = mailbox.push(message("two"))
        guard case .end = await mailbox.nextStreamEvent(first) else {
            Issue.record("the replaced stream did not end")
            return
        }
        #expect(texts(await mailbox.nextStreamEvent(second)) == ["two"])
    }

    @Test("replay gives what was sent after an id; once the id fell out of the buffer it answers nil (snapshots needed)")
    func replayEviction() async {
        let mailbox = Mailbox(capacity: 100, replayCapacity: 3)
        let stream = mailbox.attachStream()
        for text in ["a", "b"] { _ = mailbox.push(message(text)) }
        let sent = await mailbox.nextStreamEvent(stream)
        guard case .messages(let firstEntries) = sent, let firstId = firstEntries.first?.sequence else {
            Issue.record("no messages")
            return
        }
        #expect(texts(mailbox.replay(after: firstId) ?? []) == ["b"])
        for text in ["c", "d", "e"] { _ = mailbox.push(message(text)) }
        _ = await mailbox.nextStreamEvent(stream)
        // Only c, d and e are kept: a resume after a is too old.
        #expect(mailbox.replay(after: firstId) == nil)
        #expect(texts(mailbox.replay(after: firstId + 2) ?? []) == ["d", "e"])
    }

    @Test("the replay ring keeps the newest messages in order across many wrap-arounds")
    func replayWrapsAround() async {
        let mailbox = Mailbox(capacity: 100, replayCapacity: 3)
        let stream = mailbox.attachStream()
        var sent: [UInt64] = []
        for round in 0..<5 {
            for index in 0..<(round + 1) { _ = mailbox.push(message("m\(round)-\(index)")) }
            if case .messages(let entries) = await mailbox.nextStreamEvent(stream) { sent += entries.map(\.sequence) }
        }
        // 15 messages sent; the last three are kept, oldest first.
        #expect(sent.count == 15)
        #expect(texts(mailbox.replay(after: sent[11]) ?? []) == ["m4-2", "m4-3", "m4-4"])
        #expect(texts(mailbox.replay(after: sent[13]) ?? []) == ["m4-4"])
        #expect(mailbox.replay(after: sent[14])?.isEmpty == true)
        #expect(mailbox.replay(after: sent[10]) == nil)
    }

    @Test("a sink is woken once per batch of work, takes everything at once, and is woken again only once nothing else waited")
    func sinkWakeups() {
        let (mailbox, sink, token) = attachedSink()
        #expect(sink.wakes == 1)
        _ = mailbox.push(message("a"))
        _ = mailbox.push(message("b"))
        #expect(sink.wakes == 1, "woken again before it took")
        var taken: [MailboxEntry] = []
        // It takes both at once; nothing else waits, so it is not woken again until something arrives.
        #expect(mailbox.take(for: token) { taken.append($0) } == .messages(2, more: false))
        #expect(texts(taken) == ["a", "b"])
        #expect(mailbox.take(for: token) { taken.append($0) } == .nothing)
        _ = mailbox.push(message("c"))
        #expect(sink.wakes == 2)
        taken = []
        #expect(mailbox.take(for: token) { taken.append($0) } == .messages(1, more: false))
        #expect(texts(taken) == ["c"])
        // A ping asked for while a message waits comes after the message.
        _ = mailbox.push(message("p"))
        var pings = StreamWakes()
        mailbox.keepAliveTick(pingAfter: 1, wakes: &pings)  // "c" went out since the last tick: no ping yet
        mailbox.keepAliveTick(pingAfter: 1, wakes: &pings)
        #expect(sink.wakes == 3 && pings.count == 0, "woken again before it took")
        #expect(mailbox.take(for: token) { _ in } == .messages(1, more: true))
        #expect(mailbox.take(for: token) { _ in } == .ping)
        #expect(mailbox.take(for: token) { _ in } == .nothing)
        // A newer stream takes over: the idle old sink is woken, sees the end, and leaves later messages alone.
        let newer = mailbox.attachStream()
        #expect(sink.wakes == 4)
        _ = mailbox.push(message("d"))
        #expect(mailbox.take(for: token) { _ in Issue.record("the replaced sink took a message") } == .end)
        taken = []
        #expect(mailbox.take(for: newer) { taken.append($0) } == .messages(1, more: false))
        #expect(texts(taken) == ["d"], "d was lost")
        // The last message before a close is taken, then the end.
        mailbox.close(reason: "bye", lastMessage: message("last"))
        taken = []
        #expect(mailbox.take(for: newer) { taken.append($0) } == .messages(1, more: true))
        #expect(texts(taken) == ["last"])
        #expect(mailbox.take(for: newer) { _ in } == .end)
    }

    @Test("keep-alive: a stream silent for the ping interval gets one :ping; a stream that keeps receiving messages gets none")
    func keepAlivePingsOnlySilentStreams() {
        let (mailbox, _, token) = attachedSink()
        #expect(mailbox.take(for: token) { _ in } == .nothing)
        func tick() -> Int {
            var wakes = StreamWakes()
            #expect(mailbox.keepAliveTick(pingAfter: 3, wakes: &wakes), "an open mailbox answers true")
            let count = wakes.count
            wakes.wakeAll()
            return count
        }
        // Silent: the third tick asks for a ping, which the sink takes once.
        let silent: [Int] = [tick(), tick(), tick()]
        #expect(silent == [0, 0, 1])
        #expect(mailbox.take(for: token) { _ in } == .ping)
        #expect(mailbox.take(for: token) { _ in } == .nothing)
        // A message between every two ticks: twelve ticks and never a ping.
        for index in 0..<12 {
            _ = mailbox.push(message("m\(index)"))
            #expect(mailbox.take(for: token) { _ in } == .messages(1, more: false))
            #expect(tick() == 0, "a busy stream was pinged at tick \(index)")
        }
        // Silence again: the count starts from the last message, so the ping comes three ticks later.
        let silentAgain: [Int] = [tick(), tick(), tick()]
        #expect(silentAgain == [0, 0, 1])
        #expect(mailbox.take(for: token) { _ in } == .ping)
        // A closed mailbox (the session ended) answers false to a tick and never asks for a ping: the upkeep
        // then looks at how long ago it closed instead.
        mailbox.close(reason: "bye", lastMessage: nil)
        var wakes = StreamWakes()
        let ticks = (0..<4).map { _ in mailbox.keepAliveTick(pingAfter: 3, wakes: &wakes) }
        #expect(ticks == [false, false, false, false] && wakes.count == 0)
        #expect(mailbox.take(for: token) { _ in } == .end)
    }

    @Test("a full queue refuses a push; collapse replaces one watch's queued messages; replaceAll replaces everything")
    func fullQueue() {
        let mailbox = Mailbox(capacity: 3)
        _ = mailbox.push(message("list 1"))
        _ = mailbox.push(message("queue 1", watch: .queue("q")))
        _ = mailbox.push(message("list 2"))
        #expect(mailbox.push(message("list 3")) == .full)
        #expect(mailbox.collapse(.agentAssistance, into: message("list snapshot", delta: false)))
        #expect(texts(mailbox.drain()) == ["queue 1", "list snapshot"])
        _ = mailbox.push(message("x"))
        mailbox.replaceAll(with: [message("s1", delta: false), message("s2", watch: .queue("q"), delta: false)])
        #expect(texts(mailbox.drain()) == ["s1", "s2"])
    }

    @Test("closing delivers the last message and ends the stream; later pushes are refused")
    func close() async {
        let mailbox = Mailbox(capacity: 10)
        let stream = mailbox.attachStream()
        mailbox.close(reason: "bye", lastMessage: message("goodbye", watch: .connection, delta: false))
        #expect(texts(await mailbox.nextStreamEvent(stream)) == ["goodbye"])
        guard case .end = await mailbox.nextStreamEvent(stream) else {
            Issue.record("the stream did not end")
            return
        }
        #expect(mailbox.push(message("late")) == .closed)
    }
}
