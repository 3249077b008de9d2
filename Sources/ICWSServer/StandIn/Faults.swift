import ICWSCore
import Synchronization

/// Faults a test suite injects through `POST /admin/faults`: a store that refuses commits, and a delay
/// before every ICWS answer. Cleared by `DELETE /admin/faults`.
public final class Faults: Sendable {
    /// What is injected now.
    public struct State: Sendable, Equatable, Encodable {
        /// `down`: the store refuses every commit (and its probe), as a failed database would.
        public var store: String = "up"
        /// Milliseconds every `/icws/…` answer waits.
        public var delayMs: Int = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var current: State { state.withLock { $0 } }

    func set(_ update: (inout State) -> Void) -> State {
        state.withLock { state in
            update(&state)
            return state
        }
    }

    var isStoreDown: Bool { state.withLock { $0.store == "down" } }
}

/// The error a store "down" by injection answers with.
struct InjectedStoreFault: Error, CustomStringConvertible {
    var description: String { "the store is down (injected with POST /admin/faults)" }
}

/// Wraps the real store: while `faults` says the store is down, commits and probes fail without touching it.
struct FaultInjectingStore: AssistanceStore {
    let base: any AssistanceStore
    let faults: Faults

    var isShared: Bool { base.isShared }

    func load() async throws -> StoredState { try await base.load() }

    func commit(
        after lastApplied: Int64, node: String, _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64? {
        if faults.isStoreDown { throw InjectedStoreFault() }
        return try await base.commit(after: lastApplied, node: node, prepare)
    }

    func changes(after id: Int64) async throws -> [CommittedChange] { try await base.changes(after: id) }

    func probe() async throws {
        if faults.isStoreDown { throw InjectedStoreFault() }
        try await base.probe()
    }

    func close() async throws { try await base.close() }

    func changeSignals() -> AsyncStream<Void> { base.changeSignals() }

    func heartbeat(node: String, applied: Int64) async throws { try await base.heartbeat(node: node, applied: applied) }

    func deadNodes(olderThan seconds: Double) async throws -> [String] { try await base.deadNodes(olderThan: seconds) }

    func reset() async throws {
        if faults.isStoreDown { throw InjectedStoreFault() }
        try await base.reset()
    }
}
