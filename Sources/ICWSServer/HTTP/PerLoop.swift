import NIOConcurrencyHelpers
import NIOCore

/// Objects kept once per event loop and used on that loop only: its streams' scratch buffer, its
/// connections' deadlines.
enum PerLoop {
    private struct Key: Hashable {
        let loop: ObjectIdentifier
        let type: ObjectIdentifier
    }

    private static let all = NIOLockedValueBox<[Key: any AnyObject & Sendable]>([:])

    /// `loop`'s object of type `T`, made by `make` the first time (looked up once per connection or stream,
    /// not per delivery).
    static func value<T: AnyObject & Sendable>(for loop: any EventLoop, make: () -> T) -> T {
        all.withLockedValue { all in
            let key = Key(loop: ObjectIdentifier(loop), type: ObjectIdentifier(T.self))
            if let value = all[key] as? T { return value }
            let value = make()
            all[key] = value
            return value
        }
    }
}

/// One buffer per event loop where its streams' deliveries are framed: a stream holds no buffer of its own,
/// and a delivery allocates none (the bytes go to the socket from here; only what the socket did not take is
/// kept, in a buffer of its own).
final class LoopScratch: @unchecked Sendable {
    /// Used on its event loop only.
    var buffer = ByteBuffer()
}

/// The deadlines of one event loop's connections (`ConnectionGuard`), checked by one timer per loop.
///
/// NIO cancels a scheduled task by searching all of its loop's scheduled tasks, and each firing reorders
/// them: with a timer per connection, thousands of connections made every request's re-arming and every
/// expiry cost work in proportion to all of them. Here a connection's deadline is a field and a set entry;
/// a connection with no deadline (an event stream) is not in the set at all.
final class LoopDeadlines: @unchecked Sendable {
    // Used on `eventLoop` only.
    private let eventLoop: any EventLoop
    private var waiting: [ObjectIdentifier: ConnectionGuard] = [:]
    private var sweep: Scheduled<Void>?
    private var sweepAt: NIODeadline?
    private var lastSweep = NIODeadline.uptimeNanoseconds(0)

    /// Sweeps come at least this far apart, so many close deadlines cost one pass, not one pass each.
    static let sweepGap = TimeAmount.milliseconds(50)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    static func of(_ loop: any EventLoop) -> LoopDeadlines {
        PerLoop.value(for: loop) { LoopDeadlines(eventLoop: loop) }
    }

    /// How many connections have a deadline (on the event loop).
    var count: Int {
        eventLoop.assertInEventLoop()
        return waiting.count
    }

    /// `connection`'s earliest deadline is now `deadline` (nil: none); `deadlineReached()` is called once it
    /// passed (within `sweepGap`).
    func set(_ connection: ConnectionGuard, _ deadline: NIODeadline?) {
        eventLoop.assertInEventLoop()
        let key = ObjectIdentifier(connection)
        guard let deadline else {
            waiting[key] = nil
            return
        }
        waiting[key] = connection
        schedule(at: deadline)
    }

    private func schedule(at deadline: NIODeadline) {
        let at = max(deadline, lastSweep + Self.sweepGap)
        if let sweepAt, sweepAt <= at { return }
        sweep?.cancel()
        sweepAt = at
        sweep = eventLoop.assumeIsolated().scheduleTask(deadline: at) { [self] in run() }
    }

    private func run() {
        sweep = nil
        sweepAt = nil
        let now = NIODeadline.now()
        lastSweep = now
        // One pass finds the connections past their deadline and the earliest deadline of the others. The
        // passed ones are told after it: they leave the set or re-arm (and schedule their next deadline
        // themselves), which would otherwise copy the whole set under the walk.
        var passed: [ConnectionGuard] = []
        var earliest: NIODeadline?
        for connection in waiting.values {
            guard let deadline = connection.deadline else { continue }
            if deadline <= now {
                passed.append(connection)
            } else {
                earliest = min(earliest ?? deadline, deadline)
            }
        }
        if let earliest { schedule(at: earliest) }
        for connection in passed { connection.deadlineReached() }
    }
}
