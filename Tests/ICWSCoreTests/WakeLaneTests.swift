@testable import ICWSCore
import Synchronization
import Testing

/// How a fan-out's wake jobs take turns (`StreamWakes` and its lane), with event loops played by groups that
/// record their jobs and finish them when the test says so.
@Suite("Wake lanes")
struct WakeLaneTests {
    /// The jobs started so far, in order: the group, how many mailboxes, and how to say it is done.
    final class Log: Sendable {
        let jobs = Mutex<[(group: String, mailboxes: Int, done: @Sendable () -> Void)]>([])
        /// Which of `jobs` were handed over (started as an earlier job ended) rather than woken.
        let handedOver = Mutex<[Int]>([])
        var started: [String] { jobs.withLock { $0.map { "\($0.group)\($0.mailboxes)" } } }
        func finish(_ index: Int) { jobs.withLock { $0[index].done }() }
    }

    final class Group: StreamWakeGroup {
        let name: String
        let log: Log
        /// Plays the group whose thread the test runs on.
        let isCurrent: Bool
        init(_ name: String, log: Log, current: Bool = false) {
            self.name = name
            self.log = log
            self.isCurrent = current
        }
        func wake(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
            log.jobs.withLock { $0.append((name, mailboxes.count, done)) }
        }
        func handOver(_ mailboxes: [Mailbox], then done: @escaping @Sendable () -> Void) {
            let index = log.jobs.withLock { jobs in
                jobs.append((name, mailboxes.count, done))
                return jobs.count - 1
            }
            log.handedOver.withLock { $0.append(index) }
        }
        func wakeHere(_ mailboxes: [Mailbox]) {
            // Done before it returns: there is nothing to finish later.
            log.jobs.withLock { $0.append(("here:\(name)", mailboxes.count, {})) }
        }
    }

    @Test("with one lane, the jobs of a fan-out run one after another; later batches join the job that waits for their group")
    func oneAtATime() {
        let log = Log()
        let a = Group("a", log: log), b = Group("b", log: log)
        var wakes = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100)
        for _ in 0..<3 { wakes.add(Mailbox(), group: a) }
        for _ in 0..<2 { wakes.add(Mailbox(), group: b) }
        wakes.wakeSoFar()
        #expect(log.started == ["a3"], "only the first group's job runs; b waits")
        // A second batch while a's job runs: its b part joins the waiting b job, its a part waits after it.
        wakes.add(Mailbox(), group: b)
        wakes.add(Mailbox(), group: a)
        wakes.wakeAll()
        #expect(log.started == ["a3"])
        log.finish(0)
        #expect(log.started == ["a3", "b3"])
        log.finish(1)
        #expect(log.started == ["a3", "b3", "a1"])
        log.finish(2)
        #expect(log.started.count == 3, "nothing else was queued")
        #expect(log.handedOver.withLock { $0 } == [1, 2], "a job that starts as another ends is handed over")

        // A new fan-out has its own lane: it starts at once, even while an older one still runs.
        var older = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100)
        older.add(Mailbox(), group: a)
        older.add(Mailbox(), group: b)
        older.wakeAll()
        var newer = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100)
        newer.add(Mailbox(), group: b)
        newer.wakeAll()
        #expect(log.started.suffix(2) == ["a1", "b1"])
    }

    @Test("a job writes at most the lane's job size: a larger batch is split, and a waiting job takes a later batch only if it fits")
    func jobSize() {
        let log = Log()
        let a = Group("a", log: log), b = Group("b", log: log)
        var wakes = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100, jobSize: 4)
        for _ in 0..<10 { wakes.add(Mailbox(), group: a) }
        wakes.wakeSoFar()
        #expect(log.started == ["a4"], "ten streams of one group: the first four start, the rest wait as jobs of four and two")
        // Three more for a do not fit a's last waiting job (two): they wait as a job of their own. Five for b
        // are a job of four and one that takes the next batch's b.
        for _ in 0..<3 { wakes.add(Mailbox(), group: a) }
        for _ in 0..<5 { wakes.add(Mailbox(), group: b) }
        wakes.wakeSoFar()
        wakes.add(Mailbox(), group: b)
        wakes.add(Mailbox(), group: a)
        wakes.wakeAll()
        for index in 0..<6 {
            #expect(log.started.count == index + 1, "one job at a time")
            log.finish(index)
        }
        #expect(log.started == ["a4", "a4", "a2", "a4", "b4", "b2"], "a's last job (three) took the one more for a")
        #expect(log.handedOver.withLock { $0 } == [1, 2, 3, 4, 5], "each later job is handed over as the one before ends")
    }

    @Test("a wider lane runs that many jobs at once and starts the next as soon as one is done")
    func width() {
        let log = Log()
        let groups = (0..<4).map { Group("g\($0)", log: log) }
        var wakes = StreamWakes(laneWidth: 2, fullWidth: 4, wideFanOut: 100)
        for group in groups { wakes.add(Mailbox(), group: group) }
        wakes.wakeAll()
        #expect(log.started == ["g01", "g11"])
        log.finish(1)
        #expect(log.started == ["g01", "g11", "g21"])
        log.finish(0)
        #expect(log.started == ["g01", "g11", "g21", "g31"])
    }

    @Test("a fan-out to more streams than the wide limit widens its lane: the jobs that wait start at once")
    func wideFanOut() {
        let log = Log()
        let a = Group("a", log: log), b = Group("b", log: log), c = Group("c", log: log)
        var wakes = StreamWakes(laneWidth: 1, fullWidth: 3, wideFanOut: 4)
        for group in [a, b] { wakes.add(Mailbox(), group: group) }
        wakes.wakeSoFar()
        #expect(log.started == ["a1"], "two streams: one job at a time")
        for group in [a, b, c] { wakes.add(Mailbox(), group: group) }
        wakes.wakeAll()
        // Five streams now: b (both batches) and the second a start beside the first a; c waits for a turn.
        #expect(log.started == ["a1", "b2", "a1"])
        log.finish(0)
        #expect(log.started == ["a1", "b2", "a1", "c1"])
    }

    @Test("a publication writes its first batch at once for the group whose thread it runs on; the rest take turns as jobs")
    func firstBatchHere() {
        let log = Log()
        let a = Group("a", log: log), b = Group("b", log: log, current: true)
        var wakes = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100)
        wakes.writesFirstBatchHere = true
        for _ in 0..<3 { wakes.add(Mailbox(), group: a) }
        for _ in 0..<2 { wakes.add(Mailbox(), group: b) }
        wakes.wakeSoFar()
        // b's streams were written before wakeSoFar returned, and its turn is over: a's job starts.
        #expect(log.started == ["here:b2", "a3"])
        // Later batches of the same fan-out are jobs, b's too: it waits for a's turn.
        wakes.add(Mailbox(), group: b)
        wakes.add(Mailbox(), group: a)
        wakes.wakeAll()
        #expect(log.started == ["here:b2", "a3"])
        log.finish(1)
        #expect(log.started == ["here:b2", "a3", "b1"])
        log.finish(2)
        #expect(log.started == ["here:b2", "a3", "b1", "a1"])
        // The publishing thread went on after its own batch: a's job was woken, not handed over; the later
        // ones started as a job ended.
        #expect(log.handedOver.withLock { $0 } == [2, 3])

        // The next publication starts a new fan-out: its first batch is written here again.
        wakes.add(Mailbox(), group: a)
        wakes.add(Mailbox(), group: b)
        wakes.wakeAll()
        #expect(log.started.suffix(2) == ["here:b1", "a1"])

        // Without `writesFirstBatchHere` (a ping tick, a single push), every batch is a job.
        var plain = StreamWakes(laneWidth: 1, fullWidth: 2, wideFanOut: 100)
        plain.add(Mailbox(), group: b)
        plain.wakeAll()
        #expect(log.started.last == "b1")
    }
}
