import Metrics
import Foundation
import ICWSModel
import Synchronization

/// What one batch did: its events, the snapshots it asked for, and who is waiting for it.
struct Batch {
    var events: [DomainEvent] = []
    /// How many of `events` the store keeps (a failed commit undoes only jobs that stored something).
    var storedCount = 0
    var snapshots: [(sessionId: String, watch: WatchKey)] = []
    var completions: [((any Error)?) -> Void] = []
}

/// The commit pipeline's queue and phase.
struct PipelineState {
    enum Phase { case notStarted, running, stopped }
    var phase = Phase.notStarted
    var pending: [(inout Batch) -> Void] = []
    /// Whether every pending job only reads the state (watches): then the batch needs no store write.
    var pendingOnlyWatches = true
    var catchUpRequested = false
    var resumeRequested = false
    var reconcilePresenceRequested = false
    var reloadRequested = false
    /// `reset()` callers, answered once the store is empty and the state reloaded.
    var resetWaiters: [CheckedContinuation<Result<Void, any Error>, Never>] = []
    /// The jobs of the batch being committed, run by `prepare` inside the store's transaction.
    var inFlight: [(inout Batch) -> Void] = []
    var prepared = false
    var batch = Batch()
}

extension ContactCenter {
    // MARK: Submitting work

    /// Runs a domain command in the next batch and returns its answer once its events are committed.
    func perform<T: Sendable>(_ command: @escaping (DomainState) throws(DomainError) -> Change<T>) async throws -> T {
        try await submit { [self] batch in try record(command(domain), in: &batch) }
    }

    /// Applies a command's events to memory (undoably) and adds them to the batch.
    func record<T>(_ change: Change<T>, in batch: inout Batch) -> T {
        domain.apply(change.events)
        batch.events += change.events
        batch.storedCount += change.events.count { store.isShared || $0.isDurableOnOneNode }
        return change.result
    }

    /// Runs `body` in the next batch; returns its result once the batch is committed.
    ///
    /// `body` checks before it changes anything: when it throws, it has changed nothing. A body that stored
    /// nothing (a login on one node, a watch) is not failed by a failed commit of its batch.
    /// - Parameter onlyWatches: the job never records events (it subscribes, unsubscribes, snapshots): a batch
    ///   of such jobs runs without a store transaction, so watches stay cheap and work while the store is down.
    func submit<T: Sendable>(onlyWatches: Bool = false, _ body: @escaping (inout Batch) throws -> T) async throws -> T {
        guard pipeline.phase != .stopped else { throw DomainError.storeUnavailable }
        if !onlyWatches { pipeline.pendingOnlyWatches = false }
        let waiter = BatchWaiter<T>()
        pipeline.pending.append { batch in
            let storedBefore = batch.storedCount
            do {
                let value = try body(&batch)
                let stored = batch.storedCount > storedBefore
                batch.completions.append { error in
                    if let error, stored {
                        waiter.finish(.failure(error))
                    } else {
                        waiter.finish(.success(value))
                    }
                }
            } catch {
                // Answered with the batch: if the store runs the batch again on fresher state, this run's
                // refusal is dropped with its batch.
                batch.completions.append { _ in waiter.finish(.failure(error)) }
            }
        }
        wakeUp.yield()
        return try await waiter.wait()
    }

    /// Empties the store and the state between two batches (`POST /admin/reset`); sessions are ended first by
    /// the caller. Throws what the store threw (`StoreResetUnsupported` for a shared store).
    public func resetStore() async throws {
        guard pipeline.phase == .running else { throw DomainError.storeUnavailable }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>, Never>) in
            pipeline.resetWaiters.append(continuation)
            wakeUp.yield()
        }
        try result.get()
    }

    /// Asks the pipeline to read the changes other nodes committed.
    public func requestCatchUp() {
        pipeline.catchUpRequested = true
        wakeUp.yield()
    }

    // MARK: The loop

    /// The commit pipeline's loop; `CommitPipeline` runs it as a service. Returns after `stopCommitPipeline()`,
    /// once every job submitted before has finished; later jobs fail with `storeUnavailable`.
    func runCommitPipeline() async {
        guard pipeline.phase == .notStarted else { return }
        pipeline.phase = .running
        // Other nodes may have committed since the state was loaded; and a node restarted under the same name
        // must drop the presence its previous run left (those sessions died with it).
        pipeline.catchUpRequested = store.isShared
        pipeline.reconcilePresenceRequested = store.isShared
        wakeUp.yield()
        for await _ in wakeUps {
            await drain()
        }
        await drain()
        pipeline.phase = .stopped
        let leftover = pipeline.pending
        pipeline.pending = []
        var batch = Batch()
        for job in leftover { job(&batch) }
        domain.undo()
        for completion in batch.completions { completion(DomainError.storeUnavailable) }
    }

    /// Ends the loop once what is queued has run (graceful shutdown).
    public nonisolated func stopCommitPipeline() {
        wakeUp.finish()
    }

    private func drain() async {
        while !pipeline.pending.isEmpty || pipeline.catchUpRequested || pipeline.resumeRequested || pipeline.reconcilePresenceRequested
            || pipeline.reloadRequested || !pipeline.resetWaiters.isEmpty
        {
            if !pipeline.resetWaiters.isEmpty {
                let waiters = pipeline.resetWaiters
                pipeline.resetWaiters = []
                let result: Result<Void, any Error>
                do {
                    try await store.reset()
                    try await reload()
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                for waiter in waiters { waiter.resume(returning: result) }
            }
            if pipeline.reloadRequested {
                pipeline.reloadRequested = false
                do {
                    try await reload()
                } catch {
                    suspendWatches(because: error)
                }
            }
            if pipeline.reconcilePresenceRequested {
                pipeline.reconcilePresenceRequested = false
                enqueuePresenceReconciliation()
            }
            if !pipeline.pending.isEmpty && pipeline.pendingOnlyWatches {
                runWatchBatch()
                continue
            }
            if !pipeline.pending.isEmpty {
                // A commit catches up on other nodes' changes first.
                pipeline.catchUpRequested = false
                await commitBatch()
                continue
            }
            pipeline.catchUpRequested = false
            let caughtUp = await catchUp()
            if pipeline.resumeRequested {
                pipeline.resumeRequested = false
                if caughtUp && storeSuspended { resumeWatches() }
            }
        }
    }

    /// Runs jobs that only touch watches: no store, their snapshots go out at once.
    private func runWatchBatch() {
        let jobs = pipeline.pending
        pipeline.pending.removeAll(keepingCapacity: true)
        var batch = Batch()
        for job in jobs { job(&batch) }
        feed.publish(batch.events, snapshots: batch.snapshots, state: domain)
        for completion in batch.completions { completion(nil) }
    }

    private func commitBatch() async {
        pipeline.inFlight = pipeline.pending
        pipeline.pending.removeAll(keepingCapacity: true)
        pipeline.pendingOnlyWatches = true
        pipeline.prepared = false
        pipeline.batch = Batch()
        let jobCount = pipeline.inFlight.count
        let start = DispatchTime.now()
        do {
            let id = try await store.commit(after: lastApplied, node: node) { [self] missed in await prepare(missed) }
            let batch = pipeline.batch
            domain.forgetUndo()
            if let id { lastApplied = max(lastApplied, id) }
            if batch.storedCount > 0 {
                batchSizes.record(jobCount)
                commitDurations.recordInterval(since: start)
                if storeSuspended { resumeWatches() }
            }
            feed.publish(batch.events, snapshots: batch.snapshots, state: domain)
            retireFinished(batch.events)
            for completion in batch.completions { completion(nil) }
        } catch {
            // The store failed before it let us run the jobs: run them now, so jobs that store nothing still succeed.
            if !pipeline.prepared { _ = prepare([]) }
            let batch = pipeline.batch
            domain.undo()
            let failure: DomainError
            if let conflict = error as? any StoreConflictError {
                logger.notice("commit refused by the store; batch undone", metadata: ["reason": "\(conflict)", "jobs": "\(jobCount)"])
                failure = .conflict(conflict.description)
                Self.storeFailure("conflict")
            } else if error is any ChangeLogGapError {
                logger.warning("the change log was pruned past this node's state; reloading", metadata: ["jobs": "\(jobCount)"])
                failure = .storeUnavailable
                pipeline.reloadRequested = true
                Self.storeFailure("log_gap")
            } else {
                logger.error("commit failed; batch undone", metadata: ["error": "\(error)", "jobs": "\(jobCount)"])
                failure = .storeUnavailable
                suspendWatches(because: error)
                Self.storeFailure("commit")
            }
            for completion in batch.completions { completion(failure) }
        }
        pipeline.inFlight = []
    }

    /// `openicws_store_failures_total{kind=commit|conflict|log_gap}`: batches the store refused or failed.
    static func storeFailure(_ kind: String) {
        Counter(label: "openicws_store_failures_total", dimensions: [("kind", kind)]).increment()
    }

    /// Inside the store's write: applies what other nodes committed meanwhile, then runs the batch's jobs
    /// on that state, and returns the events to store.
    private func prepare(_ missed: [CommittedChange]) -> [DomainEvent] {
        // A second call: the store found that the first ran on stale state; take it back and run the jobs again.
        if pipeline.prepared { domain.undo() }
        applyCommitted(missed)
        pipeline.prepared = true
        var batch = Batch()
        for job in pipeline.inFlight { job(&batch) }
        pipeline.batch = batch
        // The store keeps what it needs of them (a single-node store drops presence).
        return batch.events
    }

    // MARK: Other nodes' changes

    /// Reads and applies the changes committed after `lastApplied`. Returns false when the store failed.
    private func catchUp() async -> Bool {
        guard store.isShared else { return true }
        do {
            while true {
                let changes: [CommittedChange]
                do {
                    changes = try await store.changes(after: lastApplied)
                } catch is any ChangeLogGapError {
                    try await reload()
                    return true
                }
                guard let first = changes.first else { return true }
                if first.id > lastApplied + 1 {
                    // The log was pruned past what this node applied (it was presumed dead): start over.
                    try await reload()
                    return true
                }
                applyCommitted(changes)
            }
        } catch {
            logger.warning("could not read the change log", metadata: ["error": "\(error)"])
            suspendWatches(because: error)
            return false
        }
    }

    /// Applies committed changes in order, once each, and publishes them to this node's watches.
    private func applyCommitted(_ changes: [CommittedChange]) {
        for change in changes where change.id > lastApplied {
            domain.applyCommitted(change.events)
            lastApplied = change.id
            feed.publish(change.events, state: domain)
            retireFinished(change.events)
            if change.events.contains(.nodeGone(node: node)) {
                // Another node thought this one dead: say again who is here.
                logger.warning("this node was presumed dead by another node; announcing its users again")
                pipeline.reconcilePresenceRequested = true
            }
        }
    }

    /// Reloads the whole state from the store and sends every watch a fresh snapshot.
    private func reload() async throws {
        let stored = try await store.load()
        domain = DomainState(stored)
        lastApplied = stored.lastChangeId
        feed.resnapshotAll(state: domain)
        pipeline.reconcilePresenceRequested = true
        logger.notice("state reloaded from the store", metadata: ["lastChangeId": "\(lastApplied)"])
    }

    /// Makes the store's presence of this node match its sessions (after the store was down, or the node
    /// was presumed dead).
    private func enqueuePresenceReconciliation() {
        guard store.isShared else { return }
        pipeline.pendingOnlyWatches = false
        pipeline.pending.append { [self] batch in
            let now = clock.now()
            var events: [DomainEvent] = []
            for userId in feed.localUsers.sorted() { events += domain.userArrived(userId, on: node, at: now).events }
            for (userId, nodes) in domain.presence where nodes.contains(node) && !feed.hasSession(userId) {
                events += domain.userLeft(userId, from: node, at: now).events
            }
            record(Change(events), in: &batch)
        }
    }

    // MARK: Cluster presence

    /// Heartbeat of a shared store: records this node as alive, and retires nodes that stopped beating for
    /// `deadAfter` seconds (their users stop counting for routing). Does nothing on a single-node store.
    public func maintainPresence(deadAfter: Double) async {
        guard store.isShared else { return }
        do {
            try await store.heartbeat(node: node, applied: lastApplied)
            let dead = try await store.deadNodes(olderThan: deadAfter).filter { $0 != node }
            guard !dead.isEmpty else { return }
            logger.notice("nodes stopped beating; their users no longer count", metadata: ["nodes": "\(dead)"])
            _ = try? await submit { [self] batch in record(Change(dead.map { DomainEvent.nodeGone(node: $0) }), in: &batch) }
        } catch {
            logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            suspendWatches(because: error)
        }
    }

    // MARK: Store health

    /// Whether the store is failing (for `/health`).
    public var isStoreSuspended: Bool { storeSuspended }

    /// The store failed: every watch is told `state:2` (suspended), where the feature version has state messages.
    func suspendWatches(because error: any Error) {
        guard !storeSuspended else { return }
        storeSuspended = true
        suspendedSince = clock.now()
        feed.broadcast(AssistanceSubscriptionStateMessage(
            state: .suspended,
            error: SubscriptionError(errorId: "error.server.unavailable", message: "The store is unavailable; changes are not being saved.")),
            state: domain)
    }

    /// The store works again: `state:1` and a fresh snapshot of every watch.
    func resumeWatches() {
        storeSuspended = false
        suspendedSince = nil
        feed.broadcast(AssistanceSubscriptionStateMessage(state: .normal), state: domain)
        feed.resnapshotAll(state: domain)
        if store.isShared { pipeline.reconcilePresenceRequested = true }
    }

    /// Tries the store now: a failing store suspends the watches at once (rather than at the next refused
    /// write, as `/admin/faults` needs); a recovered one has the pipeline catch up on other nodes' changes, then
    /// resume the watches.
    public func checkStoreNow() async {
        do {
            try await store.probe()
            guard storeSuspended else { return }
            pipeline.resumeRequested = true
            wakeUp.yield()
        } catch {
            if storeSuspended {
                logger.debug("store still unavailable", metadata: ["error": "\(error)"])
            } else {
                suspendWatches(because: error)
            }
        }
    }

    /// Tries a suspended store, so it can recover without user traffic (the periodic probe).
    public func probeStore() async {
        guard storeSuspended else { return }
        await checkStoreNow()
    }

    /// When the store has failed for longer than `seconds`, every watch is faulted (`state:3`) and ends;
    /// clients must PUT again. Returns how many sessions lost their watches.
    @discardableResult
    public func faultWatches(ifSuspendedLongerThan seconds: Double) async -> Int {
        (try? await submit(onlyWatches: true) { [self] _ -> Int in
            guard storeSuspended, let since = suspendedSince, clock.now().timeIntervalSince(since) > seconds else { return 0 }
            feed.broadcast(AssistanceSubscriptionStateMessage(
                state: .faulted,
                error: SubscriptionError(errorId: "error.server.unavailable", message: "The store stayed unavailable; the subscription ended. Subscribe again.")),
                state: domain)
            suspendedSince = clock.now()
            return feed.endAssistanceWatches()
        }) ?? 0
    }

    // MARK: Memory bound

    /// Keeps only the newest `retainedFinished` completed requests and disconnected interactions in memory.
    private func retireFinished(_ events: [DomainEvent]) {
        for event in events {
            if let id = event.assistanceId, domain.requests[id]?.isActive == false { finishedRequests.append(id) }
            if let id = event.interactionId, domain.interactions[id]?.state == .disconnected { finishedInteractions.append(id) }
        }
        while finishedRequests.count > retainedFinished, let id = finishedRequests.removeOldest() {
            domain.forget(requestId: id)
        }
        while finishedInteractions.count > retainedFinished, let id = finishedInteractions.removeOldest() {
            domain.forget(interactionId: id)
        }
    }
}

/// Hands a batch's outcome to the caller waiting in `submit`, whichever comes first.
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
