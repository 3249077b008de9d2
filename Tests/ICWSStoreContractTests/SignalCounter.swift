import Synchronization

/// Counts what a `changeSignals()` stream yields, so a test can wait for the count to grow.
final class SignalCounter: Sendable {
    private final class Count: Sendable {
        let value = Mutex(0)
    }

    private let count = Count()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Void>) {
        let count = self.count
        task = Task {
            for await _ in stream { count.value.withLock { $0 += 1 } }
        }
    }

    /// The signals so far.
    var current: Int { count.value.withLock { $0 } }

    /// Waits until at least `target` signals arrived; false when `seconds` passed first.
    func wait(atLeast target: Int, within seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if current >= target { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return current >= target
    }

    deinit { task.cancel() }
}
