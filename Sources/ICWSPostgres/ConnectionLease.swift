import ICWSCore
import PostgresNIO
import Synchronization

/// Leasing a pooled connection with a deadline.
///
/// While the database is down, the pool keeps a lease request waiting (up to a minute, until its circuit
/// breaker trips). This gives up on the lease after `timeout` instead. Only the wait for a connection is
/// timed: once the work has a connection it runs to its end (a query on a connection that dies fails
/// promptly), so a commit is never abandoned half-way with an unknown outcome.
enum ConnectionLease {
    private enum Phase { case waiting, leased, expired }

    /// Decides, once, whether the work got its connection before the deadline.
    private final class Race: Sendable {
        private let phase = Mutex(Phase.waiting)

        /// Moves from waiting to `next`; false when the other side already won.
        func win(as next: Phase) -> Bool {
            phase.withLock { phase in
                guard phase == .waiting else { return false }
                phase = next
                return true
            }
        }
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case done(Value)
        case timerFired
    }

    static func with<Value: Sendable>(
        _ client: PostgresClient, timeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let race = Race()
        return try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
            group.addTask {
                .done(try await client.withConnection { connection in
                    guard race.win(as: .leased) else { throw CancellationError() }
                    return try await body(connection)
                })
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                if race.win(as: .expired) {
                    throw StoreFailure.unavailable("no database connection within \(timeout)")
                }
                return .timerFired
            }
            while let outcome = try await group.next() {
                if case .done(let value) = outcome {
                    group.cancelAll()
                    return value
                }
            }
            throw CancellationError()
        }
    }
}
