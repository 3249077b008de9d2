import Foundation
import Synchronization

/// A stream that is told when its mailbox has work, instead of a task waiting on the mailbox: the server's
/// sink then writes from its connection's event loop, so a fan-out resumes no task per stream.
public protocol StreamSink: AnyObject, Sendable {
    /// Messages, a ping or the end wait for this stream. Called outside the mailbox's lock, and not again
    /// until the sink has taken everything (`Mailbox.take(for:encoding:)` answered `.nothing`).
    func wake()

    /// Who wakes this sink together with others (the server: one group per event loop). Asked once, when the
    /// sink is installed, so that a fan-out never touches the sinks themselves.
    var wakeGroup: any StreamWakeGroup { get }

    /// Where the sink's work starts in memory: its own object, and the one it writes through (the server: the
    /// stream's connection). A fan-out prefetches them a few streams ahead (`Mailbox.prefetchSink()`), never
    /// reading them; asked once, when the sink is installed.
    var prefetchAddresses: (UnsafeRawPointer, UnsafeRawPointer?) { get }
}

extension StreamSink {
    public var prefetchAddresses: (UnsafeRawPointer, UnsafeRawPointer?) {
        (Prefetch.address(of: self), nil)
    }
}

/// Wakes many sinks at once (the server: one job on their event loop).
public protocol StreamWakeGroup: AnyObject, Sendable {
    /// Wakes the sinks installed in `mailboxes`, all of this group: each is found with `Mailbox.installedSink`.
    /// Calls `done` once they have taken their work (the server: at the end of the event loop's job), so that
    /// the next group of the same fan-out may start.
    func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void)

    /// Whether the calling thread is the one these sinks write on (the server: the group's event loop).
    var isCurrent: Bool { get }

    /// Wakes the sinks in `mailboxes` on the calling thread, before returning; called only when `isCurrent`.
    func wakeHere(_ mailboxes: [Mailbox])

    /// As `wake`, called by a thread that has just finished its own job of the fan-out and is about to wait:
    /// the server wakes the loop so that the kernel may run it on the caller's core (see `LoopDoorbell`).
    func handOver(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void)
}

extension StreamWakeGroup {
    public var isCurrent: Bool { false }

    public func handOver(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
        wake(mailboxes, then: done)
    }

    public func wakeHere(_ mailboxes: [Mailbox]) {
        wake(mailboxes) {}
    }
}

/// The wake jobs of one fan-out, run at most `width` at a time: one group's job starts when an earlier one is
/// done. With the default width (one less than the cores) a fan-out never occupies every core at once: one
/// stays free for requests, the store, and whatever else runs on the machine, such as subscribers on the same
/// host, which then read while the rest is still being written. A very large fan-out widens its lane to every
/// core (`StreamWakes.wideFanOut`), where writing it on fewer would take longer than its readers need.
/// Successive fan-outs have their own lanes and overlap, so a steady load still uses every core.
final class WakeLane: Sendable {
    typealias Job = (group: any StreamWakeGroup, mailboxes: [Mailbox])

    private struct State {
        var width: Int
        var running = 0
        var waiting: [Job] = []
        var next = 0

        /// The next waiting job, counted as running, if the width allows one more.
        mutating func startNext() -> Job? {
            guard running < width, next < waiting.count else { return nil }
            running += 1
            defer { next += 1 }
            return waiting[next]
        }
    }

    static let defaultWidth = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    static let fullWidth = max(1, ProcessInfo.processInfo.activeProcessorCount)

    private let state: Mutex<State>
    /// The most streams one job writes (see `defaultJobSize`).
    let jobSize: Int

    init(width: Int, jobSize: Int = WakeLane.defaultJobSize) {
        state = Mutex(State(width: width))
        self.jobSize = max(1, jobSize)
    }

    /// The most streams one job writes before its loop hands the lane on: about 2.5 ms of a core's time.
    /// Each hand-over lets the kernel place the next loop anew, and lets the loop serve its other sockets. A
    /// loop woken on the core where a reader on the same host runs then holds that reader up for one job at
    /// most, not for its whole share of the fan-out (50 ms for 5,000 streams). At 10,000 streams on 2 cores
    /// this cut the server's CPU per delivery from about 14 to 9 µs (docs/PERFORMANCE.md).
    static let defaultJobSize = 256

    /// Runs a job for `mailboxes` now if the width allows, else queues it; in jobs of at most `jobSize`.
    func submit(_ group: any StreamWakeGroup, _ mailboxes: [Mailbox]) {
        var rest = mailboxes[...]
        while !rest.isEmpty {
            let chunk = Array(rest.prefix(jobSize))
            rest = rest.dropFirst(chunk.count)
            let start = state.withLock { state -> Bool in
                guard state.running < state.width else {
                    // The group's last waiting job takes these mailboxes too if they fit: one job, not one per
                    // batch.
                    let id = ObjectIdentifier(group)
                    if let index = state.waiting[state.next...].lastIndex(where: { ObjectIdentifier($0.group) == id }),
                       state.waiting[index].mailboxes.count + chunk.count <= jobSize {
                        state.waiting[index].mailboxes += chunk
                    } else {
                        state.waiting.append((group, chunk))
                    }
                    return false
                }
                state.running += 1
                return true
            }
            if start { group.wake(chunk, then: handedOver) }
        }
    }

    /// Wakes `mailboxes` on the calling thread, the group's own (`StreamWakeGroup.wakeHere`), as one of the
    /// lane's jobs, before returning. Called on a new lane, so the job always fits its width; and with a
    /// publication's first batch (`ChangeFeed.wakeBatch`, 128 streams), which is below `jobSize`, so it is not
    /// split.
    func runHere(_ group: any StreamWakeGroup, _ mailboxes: [Mailbox]) {
        state.withLock { $0.running += 1 }
        group.wakeHere(mailboxes)
        // The caller goes on (queuing the rest of the fan-out): the next job is woken, not handed over.
        if let job = jobDone() { job.group.wake(job.mailboxes, then: handedOver) }
    }

    /// Lets `width` jobs run at once from now on; waiting jobs start as far as that allows.
    func widen(to width: Int) {
        var started: [Job] = []
        state.withLock { state in
            state.width = max(state.width, width)
            while let job = state.startNext() { started.append(job) }
        }
        for job in started { job.group.wake(job.mailboxes, then: handedOver) }
    }

    /// A job ended: returns the next one to start, if any.
    private func jobDone() -> Job? {
        state.withLock { state -> Job? in
            state.running -= 1
            if let job = state.startNext() { return job }
            if state.running == 0 {
                state.waiting.removeAll()
                state.next = 0
            }
            return nil
        }
    }

    /// A group's job ended on its thread, which is about to wait: the next job is handed over to its group.
    private func handedOver() {
        if let job = jobDone() { job.group.handOver(job.mailboxes, then: handedOver) }
    }
}

/// Mailboxes whose sinks are to be woken, by group: filled while a publication queues, then woken together.
public struct StreamWakes {
    private var groups: [(id: ObjectIdentifier, group: any StreamWakeGroup, mailboxes: [Mailbox])] = []
    /// The fan-out's lane, while `wakeSoFar` keeps one for later batches, and how many mailboxes it woke.
    private var lane: WakeLane?
    private var wokenInFanOut = 0
    /// How many mailboxes wait to be woken.
    public private(set) var count = 0
    /// Whether a fan-out's first batch is written at once on the calling thread, for the group whose thread
    /// that is (`StreamWakeGroup.isCurrent`), instead of as a job queued behind the rest of the fan-out. A
    /// publication takes about 1 µs per stream to queue (2 ms for 2,000): with this, its first streams are
    /// written after about 0.1 ms instead. See `WakeLane.runHere`.
    var writesFirstBatchHere = false

    /// How many of the fan-out's jobs may run at once, and how many once it woke more than `wideFanOut`.
    private let laneWidth: Int
    private let fullWidth: Int
    private let wideFanOut: Int
    private let jobSize: Int

    /// A fan-out to more streams than this is written on every core: one loop would take longer to write it
    /// (about 14 ms per 1,000 streams on a 2-core VM with the readers beside it) than its readers need.
    static let wideFanOut = 4_096

    public init() {
        self.init(laneWidth: WakeLane.defaultWidth, fullWidth: WakeLane.fullWidth, wideFanOut: Self.wideFanOut)
    }

    init(laneWidth: Int, fullWidth: Int, wideFanOut: Int, jobSize: Int = WakeLane.defaultJobSize) {
        self.laneWidth = laneWidth
        self.fullWidth = fullWidth
        self.wideFanOut = wideFanOut
        self.jobSize = jobSize
    }

    mutating func add(_ mailbox: Mailbox, group: any StreamWakeGroup) {
        let id = ObjectIdentifier(group)
        count += 1
        // Few groups (one per event loop): a list compared by identity, no hashing per stream.
        for index in groups.indices where groups[index].id == id {
            groups[index].mailboxes.append(mailbox)
            return
        }
        groups.append((id, group, [mailbox]))
    }

    /// Wakes every mailbox's sink, one job per group through one lane (see `WakeLane`), and empties the list;
    /// the fan-out ends here.
    public mutating func wakeAll() {
        wakeSoFar()
        lane = nil
        wokenInFanOut = 0
    }

    /// Wakes what was added so far, as `wakeAll` does, while the fan-out goes on: the batches that follow
    /// join the same lane.
    public mutating func wakeSoFar() {
        guard count > 0 else { return }
        let woken = groups
        groups.removeAll(keepingCapacity: true)
        let wasWide = wokenInFanOut > wideFanOut
        wokenInFanOut += count
        count = 0
        let starts = self.lane == nil
        let lane = self.lane ?? WakeLane(width: laneWidth, jobSize: jobSize)
        self.lane = lane
        var here: Int?
        if starts, writesFirstBatchHere {
            here = woken.firstIndex { $0.group.isCurrent }
            if let here { lane.runHere(woken[here].group, woken[here].mailboxes) }
        }
        for (index, (_, group, mailboxes)) in woken.enumerated() where index != here { lane.submit(group, mailboxes) }
        if !wasWide, wokenInFanOut > wideFanOut { lane.widen(to: fullWidth) }
    }
}
