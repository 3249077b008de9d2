import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import ICWSServer

/// The upkeep sleeps on an event loop's timer instead of `Task.sleep`; it must still sleep as long as asked and
/// end at once when its task is cancelled (the server's graceful shutdown cancels the upkeep that way).
@Suite("The upkeep's sleep")
struct UpkeepSleepTests {
    @Test("sleeps at least as long as asked")
    func sleepsLongEnough() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let start = ContinuousClock.now
        try await SessionUpkeepService.sleep(.milliseconds(200), on: loop)
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }

    @Test("a cancelled task's sleep throws at once instead of waiting out its time")
    func cancelled() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let start = ContinuousClock.now
        let sleeper = Task { try await SessionUpkeepService.sleep(.seconds(60), on: loop) }
        try await Task.sleep(for: .milliseconds(100))
        sleeper.cancel()
        await #expect(throws: (any Error).self) { try await sleeper.value }
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}
