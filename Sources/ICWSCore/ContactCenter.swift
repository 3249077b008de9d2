import Foundation
import ICWSModel
import Logging
import Metrics
import Synchronization

/// The domain: interactions, assistance requests and every session's watches.
///
/// All changes run through `perform`: jobs that arrive while a commit is in flight are gathered
/// into the next batch, which is validated and applied in memory, committed to the store in one
/// transaction, and only then fanned out to mailboxes. A batch whose commit fails is undone and
/// its callers get 503; nothing uncommitted is ever sent.
public actor ContactCenter {
    public nonisolated let directory: Directory
    public nonisolated let features: FeatureVersions
    let store: any AssistanceStore
    let clock: any ICWSClock
    let logger: Logger

    var domain: DomainState
    var watches: [String: SessionWatches] = [:]
    /// Each user's sessions, keyed by object identity (cheap to hash on the fan-out path).
    var watchesByUser: [String: [ObjectIdentifier: SessionWatches]] = [:]
    /// When each logged-in agent last got an interaction (or logged in): longest idle is routed first.
    var lastRouted: [String: Date] = [:]
    var nextInteractionNumber: Int64
    var nextAssistanceNumber: Int64

    private var pending: [() -> Void] = []
    private var draining = false
    var batch = Batch()
    let encoder: JSONEncoder
    /// True while the store is failing; watches have been told `state:2`.
    var storeSuspended = false
    let retainedFinished: Int
    /// Completed requests and disconnected interactions, oldest first, so memory stays bounded.
    var finishedRequests = FinishedQueue()
    var finishedInteractions = FinishedQueue()
    var suspendedSince: Date?

    let coalescedCounter = Counter(label: "openicws_messages_coalesced_total")
    let queuedCounter = Counter(label: "openicws_messages_queued_total")
    let batchSizes = Recorder(label: "openicws_commit_batch_size")
    let commitDurations = Timer(label: "openicws_commit_duration_seconds")

    /// Loads the store's state and starts serving.
    /// - Parameter retainedFinished: how many completed requests and how many disconnected interactions stay
    ///   in memory (for late details watches and admin lookups); older ones live only in the store.
    public init(directory: Directory, store: any AssistanceStore, features: FeatureVersions = FeatureVersions(),
                clock: any ICWSClock = SystemClock(), logger: Logger = Logger(label: "openicws.core"),
                retainedFinished: Int = 10_000) async throws {
        let stored = try await store.load()
        self.directory = directory
        self.store = store
        self.features = features
        self.clock = clock
        self.logger = logger
        self.domain = DomainState(stored)
        self.nextInteractionNumber = max(stored.highestInteractionNumber + 1, 1_000_000_001)
        self.nextAssistanceNumber = stored.highestAssistanceNumber + 1
        self.encoder = JSONEncoder.icws
        self.retainedFinished = retainedFinished
        logger.info("loaded state", metadata: [
            "interactions": "\(stored.interactions.count)", "activeRequests": "\(stored.requests.count)",
        ])
    }

    /// Runs `body` in the next batch; returns its result once the batch is committed.
    ///
    /// `body` validates before it changes anything: when it throws, it has changed nothing.
    func perform<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
        let waiter = BatchWaiter<T>()
        pending.append { [self] in
            do {
                let operationsBefore = batch.operations.count
                let value = try body()
                // A job that stored nothing (a login, a watch) is not undone by a failed commit of its batch.
                let stored = batch.operations.count > operationsBefore
                batch.completions.append { error in
                    if let error, stored {
                        waiter.finish(.failure(error))
                    } else {
                        waiter.finish(.success(value))
                    }
                }
            } catch {
                waiter.finish(.failure(error))
            }
        }
        if !draining {
            draining = true
            Task { await self.drain() }
        }
        return try await waiter.wait()
    }

    private func drain() async {
        while !pending.isEmpty {
            let jobs = pending
            pending.removeAll(keepingCapacity: true)
            batch = Batch()
            for job in jobs { job() }
            let current = batch
            batch = Batch()
            if !current.operations.isEmpty {
                batchSizes.record(jobs.count)
                do {
                    let start = DispatchTime.now()
                    try await store.commit(current.operations)
                    commitDurations.recordInterval(since: start)
                } catch {
                    logger.error("commit failed; batch undone", metadata: ["error": "\(error)", "jobs": "\(jobs.count)"])
                    domain.undo()
                    for completion in current.completions { completion(ICWSError.storeUnavailable) }
                    suspendWatches(because: error)
                    continue
                }
            }
            domain.forgetUndo()
            if storeSuspended && !current.operations.isEmpty { resumeWatches() }
            fanOut(current)
            retireFinished(current)
            for completion in current.completions { completion(nil) }
        }
        draining = false
    }

    // MARK: Sessions

    /// A session logged in: it can now watch, and its user is available for routing.
    public func sessionStarted(_ session: Session) async throws {
        try await perform { [self] in
            let watch = SessionWatches(session: session)
            watches[session.id] = watch
            watchesByUser[session.userId, default: [:]][ObjectIdentifier(watch)] = watch
            if lastRouted[session.userId] == nil { lastRouted[session.userId] = clock.now() }
        }
    }

    /// A session ended (logout, expiry, shutdown): its watches go, an open stream is told and closed.
    public func sessionEnded(_ session: Session, reason: String, shouldReconnect: Bool) async {
        _ = try? await perform { [self] in
            if let watch = watches.removeValue(forKey: session.id) {
                watchesByUser[session.userId]?[ObjectIdentifier(watch)] = nil
                if watchesByUser[session.userId]?.isEmpty == true { watchesByUser[session.userId] = nil }
            }
            let message = ConnectionStateChangeMessage(reason: reason, shouldReconnect: shouldReconnect)
            session.mailbox.close(reason: reason, lastMessage: OutboundMessage(watch: .connection, isDelta: false, json: encode(message)))
        }
    }

    /// Keeps only the newest `retainedFinished` completed requests and disconnected interactions in memory.
    private func retireFinished(_ batch: Batch) {
        for id in batch.touchedRequests where domain.requests[id]?.isActive == false {
            finishedRequests.append(id)
        }
        for id in batch.touchedInteractions where domain.interactions[id]?.state == .disconnected {
            finishedInteractions.append(id)
        }
        while finishedRequests.count > retainedFinished, let id = finishedRequests.removeOldest() {
            domain.forget(requestId: id)
        }
        while finishedInteractions.count > retainedFinished, let id = finishedInteractions.removeOldest() {
            domain.forget(interactionId: id)
        }
    }

    /// Whether `userId` has a live session.
    func isLoggedIn(_ userId: String) -> Bool { !(watchesByUser[userId]?.isEmpty ?? true) }

    func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Our message types always encode; an empty object keeps the stream well-formed if one ever did not.
        (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// The session's watches, or 401 when the session ended meanwhile.
    func watchesOf(_ sessionId: String) throws -> SessionWatches {
        guard let watch = watches[sessionId] else { throw ICWSError.sessionEnded }
        return watch
    }
}

/// What one batch did: what to store, what it touched, and who is waiting for it.
struct Batch {
    var operations: [StoreOperation] = []
    var touchedRequests: [String] = []
    var touchedInteractions: [String] = []
    var snapshots: [(sessionId: String, watch: WatchKey)] = []
    var completions: [((any Error)?) -> Void] = []
}

/// Hands a batch's outcome to the caller waiting in `perform`, whichever comes first.
final class BatchWaiter<T: Sendable>: Sendable {
    private let state = Mutex<(waiting: CheckedContinuation<T, any Error>?, outcome: Result<T, any Error>?)>((nil, nil))

    /// Waits on the caller's actor: no hop off it before suspending, and the outcome resumes the caller there
    /// directly rather than via the shared pool and back.
    func wait(isolation: isolated (any Actor)? = #isolation) async throws -> T {
        try await withCheckedThrowingContinuation(isolation: isolation) { continuation in
            let early = state.withLock { state -> Result<T, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiting = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard let waiting = state.waiting else {
                state.outcome = outcome
                return nil
            }
            state.waiting = nil
            return waiting
        }
        continuation?.resume(with: outcome)
    }
}

extension JSONEncoder {
    /// Sorted keys put `__type` first (some deserializers need it there) and make output stable.
    /// Made once: encoding is thread-safe, and building an encoder per response is wasted work.
    public static let icws: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Ids in the order they finished, each once.
struct FinishedQueue {
    private var order: [String] = []
    private var head = 0
    private var members: Set<String> = []

    var count: Int { members.count }

    mutating func append(_ id: String) {
        guard members.insert(id).inserted else { return }
        order.append(id)
    }

    mutating func removeOldest() -> String? {
        guard head < order.count else { return nil }
        let id = order[head]
        head += 1
        members.remove(id)
        if head > 1_024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        return id
    }
}
