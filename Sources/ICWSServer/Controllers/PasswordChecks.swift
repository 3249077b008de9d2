import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Where login passwords are checked. bcrypt is slow on purpose, so it runs on threads of its own (not
/// the event loops, nor the shared pool that file I/O uses), at most `threads` at once, with at most
/// `queueLimit` more waiting. A login beyond that answers 503 with `Retry-After` at once: a flood of logins
/// queues no unbounded work, and every other request keeps its threads.
final class PasswordChecks: Sendable {
    private let pool: NIOThreadPool
    private let threads: Int
    private let queueLimit: Int
    private let pending = Atomic<Int>(0)

    init(threads: Int, queueLimit: Int) {
        self.threads = max(1, threads)
        self.queueLimit = max(0, queueLimit)
        pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
        Gauge(label: "openicws_limit", dimensions: [("limit", "pending_logins")]).record(self.queueLimit)
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Runs `check` on the pool, or throws 503 when `threads + queueLimit` checks are already under way.
    func run<T: Sendable>(_ check: @escaping @Sendable () -> T) async throws -> T {
        guard pending.add(1, ordering: .relaxed).newValue <= threads + queueLimit else {
            pending.subtract(1, ordering: .relaxed)
            ConnectionController.counted("busy")
            throw ICWSError.loginsBusy
        }
        defer { pending.subtract(1, ordering: .relaxed) }
        return try await pool.runIfActive(check)
    }
}
