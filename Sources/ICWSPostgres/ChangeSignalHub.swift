import Synchronization

/// The open `changeSignals()` streams; `signal()` wakes every one of them.
final class ChangeSignalHub: Sendable {
    private let state = Mutex<(next: Int, continuations: [Int: AsyncStream<Void>.Continuation], finished: Bool)>(
        (0, [:], false))

    /// A new stream that yields after each `signal()` (a burst of signals while nobody reads yields once).
    func stream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { state in
            if state.finished { return nil }
            let id = state.next
            state.next += 1
            state.continuations[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func signal() {
        for continuation in state.withLock({ Array($0.continuations.values) }) {
            continuation.yield()
        }
    }

    /// Ends every stream, and those made later.
    func finish() {
        let continuations = state.withLock { state in
            state.finished = true
            defer { state.continuations = [:] }
            return Array(state.continuations.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
