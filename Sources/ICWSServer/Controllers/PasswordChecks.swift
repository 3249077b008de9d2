import Foundation
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Where login passwords are checked. bcrypt is slow on purpose, so it runs on threads of its own (not
/// the event loops, nor the shared pool that file I/O uses), at most `threads` at once. Logins wait for a
/// thread in turn; one that would wait longer than `maxWait` (the checks ahead of it, at the measured cost
/// of a check) answers 503 with `Retry-After` at once. A flood thus queues bounded work, however cheap or
/// costly the directory's hashes, while ordinary bursts of cheap logins (load tests) are all served.
final class PasswordChecks: Sendable {
    private let pool: NIOThreadPool
    private let threads: Int
    private let maxWait: Double
    private let pending = Atomic<Int>(0)
    /// Seconds one check takes, averaged (bits of a Double).
    private let secondsPerCheck: Atomic<UInt64>

    /// `calibrate` is one typical check, timed once now (e.g. an unknown user against the directory's
    /// costliest hash).
    init(threads: Int, maxWaitSeconds: Double, calibrate: () -> Void) {
        self.threads = max(1, threads)
        self.maxWait = maxWaitSeconds
        let start = DispatchTime.now()
        calibrate()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        secondsPerCheck = Atomic(seconds.bitPattern)
        pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
        Gauge(label: "openicws_limit", dimensions: [("limit", "login_wait_seconds")]).record(maxWaitSeconds)
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// How many checks may be under way or waiting at once, at the measured cost per check.
    var capacity: Int {
        let perCheck = max(Double(bitPattern: secondsPerCheck.load(ordering: .relaxed)), 1e-4)
        return threads + Int((maxWait * Double(threads) / perCheck).rounded(.down))
    }

    private func record(_ seconds: Double) {
        let old = Double(bitPattern: secondsPerCheck.load(ordering: .relaxed))
        secondsPerCheck.store((old * 0.9 + seconds * 0.1).bitPattern, ordering: .relaxed)
    }

    /// Runs `check` on the pool, or throws 503 when it would wait longer than `maxWait`.
    func run<T: Sendable>(_ check: @escaping @Sendable () -> T) async throws -> T {
        guard pending.add(1, ordering: .relaxed).newValue <= capacity else {
            pending.subtract(1, ordering: .relaxed)
            ConnectionController.counted("busy")
            throw ICWSError.loginsBusy
        }
        defer { pending.subtract(1, ordering: .relaxed) }
        return try await pool.runIfActive { [self] in
            let start = DispatchTime.now()
            let result = check()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            // A moving average: a change of cost (another directory, a busier machine) shows within ~10 checks.
            record(seconds)
            return result
        }
    }
}
