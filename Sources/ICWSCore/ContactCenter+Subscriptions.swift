import Foundation
import ICWSModel

extension ContactCenter {
    /// Creates or replaces a watch; a full snapshot follows once the batch commits.
    public func subscribe(sessionId: String, to key: WatchKey, queue: (ids: [QueueId], attributes: [String])? = nil) async throws {
        try await perform { [self] in
            let watch = try watchesOf(sessionId)
            let userId = watch.userId
            switch key {
            case .agentAssistance:
                watch.agentList = []
            case .agentAssistanceDetails(let id):
                _ = try requestForAgentDetails(id, userId: userId)
                watch.agentDetails[id] = .some(nil)
            case .supervisorAssistance:
                guard !(directory.supervision[userId] ?? []).isEmpty else {
                    throw ICWSError.accessDenied("You do not supervise any workgroup.")
                }
                watch.supervisorList = [:]
            case .supervisorAssistanceDetails(let id):
                _ = try requestForSupervisorDetails(id, userId: userId)
                watch.supervisorDetails[id] = .some(nil)
            case .queue(let subscriptionId):
                let ids = queue?.ids ?? []
                for id in ids { try checkQueueAccess(id, userId: userId) }
                watch.queues[subscriptionId] = QueueWatch(queues: ids, attributeNames: queue?.attributes ?? [])
            case .connection:
                return
            }
            batch.snapshots.append((sessionId, key))
        }
    }

    /// Cancels a watch; idempotent.
    public func unsubscribe(sessionId: String, from key: WatchKey) async throws {
        try await perform { [self] in
            let watch = try watchesOf(sessionId)
            switch key {
            case .agentAssistance: watch.agentList = nil
            case .agentAssistanceDetails(let id): watch.agentDetails[id] = nil
            case .supervisorAssistance:
                guard !(directory.supervision[watch.userId] ?? []).isEmpty else {
                    throw ICWSError.accessDenied("You do not supervise any workgroup.")
                }
                watch.supervisorList = nil
            case .supervisorAssistanceDetails(let id): watch.supervisorDetails[id] = nil
            case .queue(let id): watch.queues[id] = nil
            case .connection: break
            }
        }
    }

    /// Sends every watch of a session a fresh snapshot (e.g. after a stream resumed too late to replay).
    public func resnapshot(sessionId: String) async throws {
        try await perform { [self] in
            let watch = try watchesOf(sessionId)
            for key in watch.allKeys { batch.snapshots.append((sessionId, key)) }
        }
    }

    // MARK: Store health

    /// The store failed: every watch is told `state:2` (suspended), where the feature version has state messages.
    func suspendWatches(because error: any Error) {
        guard !storeSuspended else { return }
        storeSuspended = true
        suspendedSince = clock.now()
        guard features.supports("interactions", 10) else { return }
        let message = AssistanceSubscriptionStateMessage(
            state: .suspended,
            error: SubscriptionError(errorId: "error.server.unavailable", message: "The store is unavailable; changes are not being saved."))
        broadcastState(message)
    }

    /// A commit succeeded after failures: `state:1` and a fresh snapshot of every watch.
    func resumeWatches() {
        storeSuspended = false
        suspendedSince = nil
        if features.supports("interactions", 10) {
            broadcastState(AssistanceSubscriptionStateMessage(state: .normal))
        }
        var memo: [AnyHashable: [UInt8]] = [:]
        for watch in watches.values where watch.isWatchingAnything {
            for key in watch.allKeys {
                if let message = snapshot(key, for: watch, memo: &memo) { deliver(message, to: watch) }
            }
        }
    }

    private func broadcastState(_ message: AssistanceSubscriptionStateMessage) {
        let json = encode(message)
        for watch in watches.values {
            let keys = watch.allKeys.filter { if case .queue = $0 { return false } else { return true } }
            guard let first = keys.first else { continue }
            deliver(OutboundMessage(watch: first, isDelta: false, json: json), to: watch)
        }
    }

    /// When the store has failed for longer than `seconds`, every watch is faulted (`state:3`) and ends;
    /// clients must PUT again. Returns how many sessions lost their watches.
    @discardableResult
    public func faultWatches(ifSuspendedLongerThan seconds: Double) async -> Int {
        (try? await perform { [self] () -> Int in
            guard storeSuspended, let since = suspendedSince, clock.now().timeIntervalSince(since) > seconds else { return 0 }
            let message = AssistanceSubscriptionStateMessage(
                state: .faulted,
                error: SubscriptionError(errorId: "error.server.unavailable", message: "The store stayed unavailable; the subscription ended. Subscribe again."))
            var faulted = 0
            if features.supports("interactions", 10) { broadcastState(message) }
            for watch in watches.values where watch.isWatchingAnything {
                watch.agentList = nil
                watch.agentDetails = [:]
                watch.supervisorList = nil
                watch.supervisorDetails = [:]
                faulted += 1
            }
            suspendedSince = clock.now()
            return faulted
        }) ?? 0
    }

    /// How many watches of each kind are open (for metrics).
    public func subscriptionCounts() -> [(String, Int)] {
        var counts: [String: Int] = [
            "agent-assistance": 0, "agent-assistance-details": 0, "supervisor-assistance": 0,
            "supervisor-assistance-details": 0, "queues": 0,
        ]
        for watch in watches.values {
            if watch.agentList != nil { counts["agent-assistance", default: 0] += 1 }
            counts["agent-assistance-details", default: 0] += watch.agentDetails.count
            if watch.supervisorList != nil { counts["supervisor-assistance", default: 0] += 1 }
            counts["supervisor-assistance-details", default: 0] += watch.supervisorDetails.count
            counts["queues", default: 0] += watch.queues.count
        }
        return counts.sorted { $0.key < $1.key }
    }

    /// Whether the store is failing (for `/health`).
    public var isStoreSuspended: Bool { storeSuspended }

    /// Tries a no-op commit so a suspended store can recover without user traffic.
    public func probeStore() async {
        guard storeSuspended else { return }
        do {
            try await store.commit([])
            _ = try? await perform { [self] in
                if storeSuspended { resumeWatches() }
            }
        } catch {
            logger.debug("store still unavailable", metadata: ["error": "\(error)"])
        }
    }
}
