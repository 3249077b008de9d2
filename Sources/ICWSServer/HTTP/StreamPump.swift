import ICWSCore
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Writes one event stream from its connection's event loop: the mailbox wakes it when messages, a ping or
/// the end wait, and it writes them straight into the channel (through `ConnectionGuard`). No task waits per
/// stream, and a fan-out to many streams is one job per event loop (`PumpWakeGroup`).
///
/// While the socket cannot take more (the client reads slowly or not at all), the pump stops taking: the
/// messages wait in the mailbox, where a full queue collapses into snapshots; `ConnectionGuard` pumps again
/// when the socket drains, and closes the connection if it never does.
final class StreamPump: StreamSink, @unchecked Sendable {
    let eventLoop: any EventLoop
    /// Wakes the loop's pumps together.
    let wakeGroup: any StreamWakeGroup
    private let mailbox: Mailbox
    private let token: UInt64
    let delivered: Counter
    /// The event loop's buffer where a delivery is framed before it is sent.
    private let scratch: LoopScratch
    // Touched on `eventLoop` only.
    private var connection: ConnectionGuard?
    /// `connection`'s address, for `Prefetch` only (read without reference counting; a stale address after the
    /// stream ended is harmless to a prefetch).
    let connectionAddress: UnsafeRawPointer
    private var finished = false
    private var onFinish: (() -> Void)?

    /// Made on the connection's event loop; `onFinish` runs there once, when the stream ends.
    init(connection: ConnectionGuard, mailbox: Mailbox, token: UInt64, delivered: Counter, onFinish: @escaping () -> Void) {
        self.eventLoop = connection.eventLoop
        self.wakeGroup = PerLoop.value(for: connection.eventLoop) { PumpWakeGroup(eventLoop: connection.eventLoop) }
        self.connection = connection
        self.connectionAddress = Prefetch.address(of: connection)
        self.mailbox = mailbox
        self.token = token
        self.delivered = delivered
        self.onFinish = onFinish
        self.scratch = PerLoop.value(for: connection.eventLoop) { LoopScratch() }
    }

    var prefetchAddresses: (UnsafeRawPointer, UnsafeRawPointer?) {
        (Prefetch.address(of: self), connectionAddress)
    }

    func wake() {
        eventLoop.execute { self.pumpCounted() }
    }

    /// On the event loop: `pump()` on its own (a wake of this stream alone, or its socket drained).
    func pumpCounted() {
        let count = pump()
        if count > 0 { delivered.increment(by: count) }
    }

    /// On the event loop: writes what waits while the socket takes it; returns how many messages it wrote
    /// (counted by the caller, once per event-loop job).
    ///
    /// The messages are encoded in the event loop's scratch buffer (no buffer made per delivery) and sent with
    /// one write per take.
    func pump() -> Int {
        eventLoop.assertInEventLoop()
        guard !finished, let connection else { return 0 }
        guard connection.isOpen else {
            finish()
            return 0
        }
        var count = 0
        // The loop's buffer, held in a local while this stream writes (one access to the shared object, not one
        // per write into it).
        var buffer = ByteBuffer()
        swap(&buffer, &scratch.buffer)
        defer {
            // A large snapshot's room is not kept for the loop's small deliveries.
            if buffer.capacity <= Self.keptScratchBytes { swap(&buffer, &scratch.buffer) }
        }
        loop: while connection.isWritable {
            buffer.clear(minimumCapacity: 1_024)
            switch mailbox.take(for: token, encoding: { EventStreams.append($0, to: &buffer) }) {
            case .messages(let taken, let more):
                connection.sendStream(&buffer)
                count += taken
                if !more { break loop }
            case .ping:
                buffer.writeStaticString(":ping\n\n")
                connection.sendStream(&buffer)
            case .end:
                connection.flushStream()
                finish()
                return count
            case .nothing:
                break loop
            }
        }
        connection.flushStream()
        return count
    }

    /// Bytes of scratch buffer an event loop keeps between deliveries.
    static let keptScratchBytes = 1 << 20

    /// On the event loop: the stream is over (ended, taken over, or its connection closed).
    func finish() {
        guard !finished else { return }
        finished = true
        mailbox.detachStream(token)
        connection?.streamPump = nil
        connection = nil
        let done = onFinish
        onFinish = nil
        done?()
    }
}

/// The pumps of one event loop, woken together: one job on the loop per fan-out. The core names the mailboxes
/// and the job finds each one's pump, so the core's thread never touches a pump (nor its reference count),
/// which the event loop is using.
final class PumpWakeGroup: StreamWakeGroup {
    let eventLoop: any EventLoop
    /// How a job handed over by another loop reaches this one (see `LoopDoorbell`); `execute` when it has none.
    private let doorbell: LoopDoorbell?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.doorbell = LoopDoorbell.make(for: eventLoop)
    }

    func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
        eventLoop.execute(Self.job(mailboxes, then: done))
    }

    func handOver(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
        let job = Self.job(mailboxes, then: done)
        if let doorbell { doorbell.ring(job) } else { eventLoop.execute(job) }
    }

    /// The loop's job: pumps the streams, then lets the lane go on.
    private static func job(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        {
            pump(mailboxes)
            done()
        }
    }

    var isCurrent: Bool { eventLoop.inEventLoop }

    func wakeHere(_ mailboxes: [Mailbox]) {
        eventLoop.assertInEventLoop()
        Self.pump(mailboxes)
    }

    /// On the event loop: pumps the streams of `mailboxes`, and counts what they wrote once (the pumps of one
    /// server share the counter).
    ///
    /// Each step names the mailbox and then the pump and connection of the streams a few steps ahead
    /// (`Prefetch`), so that their cache misses overlap with this stream's work.
    private static func pump(_ mailboxes: [Mailbox]) {
        var count = 0
        var last: StreamPump?
        mailboxes.withUnsafeBufferPointer { mailboxes in
            for index in mailboxes.indices {
                Prefetch.element(index + Prefetch.distance, of: mailboxes, bytes: Mailbox.prefetchBytes)
                if index + Prefetch.distance / 2 < mailboxes.count { mailboxes[index + Prefetch.distance / 2].prefetchSink() }
                // Only pumps are installed with this group; a mailbox whose stream ended meanwhile has none.
                guard let pump = mailboxes[index].installedSink as? StreamPump else { continue }
                count += pump.pump()
                last = pump
            }
        }
        if count > 0 { last?.delivered.increment(by: count) }
    }
}
