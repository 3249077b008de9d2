@testable import ICWSServer
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The doorbell a fan-out's lane uses to hand its turn to another event loop: a byte on a socket pair instead
/// of NIO's `execute`. Whatever it is rung with must run, once, on its loop, in the order rung.
@Suite("Loop doorbell")
struct LoopDoorbellTests {
    /// What the jobs saw: how many ran off the loop, and the indexes each thread's jobs ran in.
    final class Record: Sendable {
        let state = Mutex<(offLoop: Int, ran: [Int: [Int]])>((0, [:]))
        var count: Int { state.withLock { $0.ran.values.reduce(0) { $0 + $1.count } } }
    }

    @Test("jobs rung from many threads at once all run, once each, on the doorbell's loop and in each thread's order")
    func ringsFromManyThreads() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let bell = try #require(LoopDoorbell.make(for: loop))
        let record = Record()
        let threads = 4, jobs = 2_000
        await withTaskGroup(of: Void.self) { tasks in
            for thread in 0..<threads {
                tasks.addTask {
                    for index in 0..<jobs {
                        bell.ring {
                            let onLoop = loop.inEventLoop
                            record.state.withLock { state in
                                if !onLoop { state.offLoop += 1 }
                                state.ran[thread, default: []].append(index)
                            }
                        }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while record.count < threads * jobs, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(record.count == threads * jobs)
        record.state.withLock { state in
            #expect(state.offLoop == 0)
            for thread in 0..<threads { #expect(state.ran[thread] == Array(0..<jobs)) }
        }
        try await group.shutdownGracefully()
    }

    @Test("a job that rings the doorbell again runs after it, in the next turn, and nothing is lost")
    func ringsFromItsOwnLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let bell = try #require(LoopDoorbell.make(for: loop))
        let order = Mutex<[Int]>([])
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            @Sendable func step(_ index: Int) {
                order.withLock { $0.append(index) }
                if index == 99 {
                    finished.resume()
                } else {
                    bell.ring { step(index + 1) }
                }
            }
            bell.ring { step(0) }
        }
        #expect(order.withLock { $0 } == Array(0..<100))
        try await group.shutdownGracefully()
    }
}
