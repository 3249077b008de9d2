import Foundation
import ICWSModel
import Logging
import Metrics

/// The domain of one node: its state, its sessions and their watches, and the commit pipeline that joins them.
///
/// Every change runs as a domain command (a `DomainState` method returning a `Change`) through the commit
/// pipeline (`ContactCenter+CommitPipeline.swift`), which batches, stores, and hands the committed events to
/// the change feed. Changes other nodes committed reach the same feed through the store's change log.
public actor ContactCenter {
    public nonisolated let directory: Directory
    public nonisolated let features: FeatureVersions
    /// The live sessions of this node. Only the center adds and ends sessions, so the registry and the
    /// watches never disagree.
    public nonisolated let sessions: SessionRegistry
    /// This node's name in a shared store's change log and presence table.
    public nonisolated let node: String
    /// What one user may make this node hold.
    public nonisolated let limits: Limits
    let store: any AssistanceStore
    let clock: any ICWSClock
    let logger: Logger

    var domain: DomainState
    let feed: ChangeFeed
    var pipeline = PipelineState()
    /// Wakes the commit pipeline's loop (work queued, changes to read); finished to stop it.
    let wakeUp: AsyncStream<Void>.Continuation
    let wakeUps: AsyncStream<Void>
    /// The newest change of a shared store's log that `domain` includes.
    var lastApplied: Int64
    /// True while the store is failing; watches have been told `state:2`.
    var storeSuspended = false
    var suspendedSince: Date?

    let retainedFinished: Int
    /// Completed requests and disconnected interactions, oldest first, so memory stays bounded.
    var finishedRequests = FinishedQueue()
    var finishedInteractions = FinishedQueue()

    let batchSizes = Recorder(label: "openicws_commit_batch_size")
    let commitDurations = Timer(label: "openicws_commit_duration_seconds")
    let assistanceRequests = Counter(label: "openicws_assistance_requests_total")

    /// Loads the store's state. Nothing is committed until the `CommitPipeline` service runs.
    /// - Parameter retainedFinished: how many completed requests and how many disconnected interactions stay
    ///   in memory (for late details watches and admin lookups); older ones live only in the store.
    public init(
        directory: Directory, store: any AssistanceStore, features: FeatureVersions = FeatureVersions(),
        clock: any ICWSClock = SystemClock(), logger: Logger = Logger(label: "openicws.core"),
        retainedFinished: Int = 10_000, node: String = "local", sessions: SessionRegistry = SessionRegistry(),
        limits: Limits = Limits()
    ) async throws {
        let stored = try await store.load()
        self.directory = directory
        self.store = store
        self.features = features
        self.clock = clock
        self.logger = logger
        self.node = node
        self.sessions = sessions
        self.limits = limits
        self.domain = DomainState(stored)
        self.lastApplied = stored.lastChangeId
        self.feed = ChangeFeed(directory: directory, features: features, watchesPerSession: limits.watchesPerSession)
        self.feed.statusSince = clock.now()
        self.retainedFinished = retainedFinished
        (self.wakeUps, self.wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        logger.info("loaded state", metadata: [
            "interactions": "\(stored.interactions.count)", "activeRequests": "\(stored.requests.count)",
            "lastChangeId": "\(stored.lastChangeId)",
        ])
    }

    // MARK: Sessions

    /// Logs a user in: a new session with its mailbox, and the user counts for routing on every node.
    public func login(
        _ user: DirectoryUser, language: String, applicationName: String, mailboxCapacity: Int = 1_000, replayCapacity: Int = 200
    ) async throws -> Session {
        if let cap = limits.sessionsPerUser, sessions.count(of: user.userId) >= cap {
            Limits.refused("sessions_per_user")
            throw DomainError.tooManySessions("The user '\(user.userId)' already has \(cap) sessions, the most allowed.")
        }
        let now = clock.now()
        let session = sessions.add { id in
            Session(
                id: id, user: user, csrfToken: SessionSecrets.token(), cookieValue: SessionSecrets.cookieValue(),
                language: language, applicationName: applicationName, createdAt: now,
                mailbox: Mailbox(capacity: mailboxCapacity, replayCapacity: replayCapacity))
        }
        do {
            try await sessionStarted(session)
        } catch {
            sessions.remove(session.id)
            feed.remove(session, reason: "The session could not start.", shouldReconnect: false)
            throw error
        }
        return session
    }

    /// Starts watching for a session already in `sessions` (used by `login`, and by tests with their own sessions).
    public func sessionStarted(_ session: Session) async throws {
        try await submit { [self] batch in
            feed.add(session)
            return record(domain.userArrived(session.userId, on: node, at: clock.now()), in: &batch)
        }
    }

    /// Ends a session (logout, expiry, shutdown): its watches go, an open stream is told and closed.
    /// Returns false when the session had already ended.
    @discardableResult
    public func endSession(_ session: Session, reason: String, shouldReconnect: Bool) async -> Bool {
        guard sessions.remove(session.id) != nil else { return false }
        await sessionEnded(session, reason: reason, shouldReconnect: shouldReconnect)
        return true
    }

    /// Drops a session's watches and closes its mailbox; the user stops counting here once no session is left.
    public func sessionEnded(_ session: Session, reason: String, shouldReconnect: Bool) async {
        _ = try? await submit { [self] batch in
            feed.remove(session, reason: reason, shouldReconnect: shouldReconnect)
            guard !feed.hasSession(session.userId) else { return () }
            return record(domain.userLeft(session.userId, from: node, at: clock.now()), in: &batch)
        }
    }

    /// Ends sessions idle since before `cutoff` with no open stream; returns their ids.
    public func endIdleSessions(before cutoff: Date) async -> [String] {
        var ended: [String] = []
        for session in sessions.idle(before: cutoff)
        where await endSession(session, reason: "The session expired.", shouldReconnect: false) {
            ended.append(session.id)
        }
        return ended
    }

    /// Ends every session (their streams are told why, without reconnecting), then empties the store and the
    /// state: `POST /admin/reset`, so a test suite starts clean. New logins stay allowed.
    public func reset() async throws {
        if store.isShared { throw StoreResetUnsupported() }
        for session in sessions.all {
            await endSession(session, reason: "The server was reset.", shouldReconnect: false)
        }
        try await resetStore()
        logger.notice("reset: sessions ended, interactions and requests deleted")
    }

    /// Refuses new sessions and ends every session, telling streams to reconnect (graceful shutdown).
    public func endAllSessions(reason: String) async {
        sessions.stopAccepting()
        for session in sessions.all {
            await endSession(session, reason: reason, shouldReconnect: true)
        }
    }

    // MARK: Assistance

    /// An agent asks for help on an interaction; returns the new assistance id. `text` is checked first.
    public func requestAssistance(user: DirectoryUser, interactionId: String, text: String?) async throws -> String {
        let text = try DomainState.validText(text)
        let id = try await perform { [clock] state throws(DomainError) in
            try state.requestAssistance(by: user, interactionId: interactionId, text: text, at: clock.now())
        }
        assistanceRequests.increment()
        return id
    }

    /// The initiator completes ("Done") a request.
    public func completeAssistance(user: DirectoryUser, assistanceId: String) async throws {
        try await perform { state throws(DomainError) in try state.completeAssistance(by: user, assistanceId: assistanceId) }
    }

    /// A chat line from the initiator or an accepting supervisor.
    public func addChatLine(user: DirectoryUser, assistanceId: String, text: String?) async throws {
        let text = try DomainState.validText(text)
        try await perform { [clock, limits] state throws(DomainError) in
            try state.addChatLine(by: user, assistanceId: assistanceId, text: text, at: clock.now(), limits: limits)
        }
    }

    /// A supervisor accepts (3), ignores (2) and/or adds a chat line.
    public func supervisorAction(
        user: DirectoryUser, assistanceId: String, action: AssistanceParticipantAction?, text: String?
    ) async throws {
        let text = try text.map { text throws(DomainError) in try DomainState.validText(text) }
        if let action, action != .accepted, action != .ignored {
            throw DomainError.invalidProperty("action", "must be 3 (accept) or 2 (ignore)")
        }
        try await perform { [clock, directory, limits] state throws(DomainError) in
            try state.supervisorAction(
                by: user, assistanceId: assistanceId, action: action, text: text, at: clock.now(), directory: directory,
                limits: limits)
        }
    }

    // MARK: Interactions

    /// Creates an interaction (admin API): routed to a workgroup member present on any node, ACD-assigned
    /// to an agent, or non-ACD.
    public func createInteraction(
        workgroup: String?, agent: String?, type: String, remoteName: String, remoteId: String? = nil
    ) async throws -> Interaction {
        try await perform { [clock, directory] state throws(DomainError) in
            try state.createInteraction(
                workgroup: workgroup, agent: agent, type: type, remoteName: remoteName, remoteId: remoteId, at: clock.now(),
                directory: directory)
        }
    }

    /// Places an outbound, non-ACD call for `user` (connected at once; there is no telephony).
    public func placeCall(user: DirectoryUser, target: String) async throws -> Interaction {
        try await perform { [clock] state throws(DomainError) in try state.placeCall(by: user, target: target, at: clock.now()) }
    }

    /// The named attributes of an interaction the user may read (see `DomainState.interactionForAttributes`).
    public func attributes(of id: String, names: [String], user: DirectoryUser) throws -> [String: String] {
        let interaction = try domain.interactionForAttributes(id, user: user, directory: directory)
        return InteractionAttributes.values(of: interaction, names, directory: directory)
    }

    /// Sets custom attributes on an interaction the user may write.
    public func setAttributes(_ values: [String: String], on id: String, user: DirectoryUser) async throws {
        try await perform { [directory] state throws(DomainError) in
            try state.setAttributes(values, on: id, by: user, directory: directory)
        }
    }

    // MARK: Statuses

    /// A user's status as the wire shows it (`GET …/status/user-statuses/{userId}`).
    public func userStatus(_ userId: String) throws -> UserStatusBody {
        guard directory.user(userId) != nil else { throw DomainError.notFound("The user '\(userId)' does not exist.") }
        return feed.statusBody(userId, state: domain)
    }

    /// Sets a user's status (themselves, an administrator, or a supervisor of one of the user's workgroups).
    public func setStatus(_ update: StatusUpdate, for userId: String, by actor: DirectoryUser) async throws {
        _ = try await perform { [clock, directory] state throws(DomainError) in
            try state.setStatus(by: actor, for: userId, update, at: clock.now(), directory: directory)
        }
    }

    /// Disconnects an interaction and completes its active request. `userId` nil: the admin API.
    public func disconnectInteraction(_ id: String, userId: String?) async throws {
        try await perform { state throws(DomainError) in try state.disconnectInteraction(id, by: userId) }
    }

    /// An interaction by id (for the admin API).
    public func interaction(_ id: String) -> Interaction? { domain.interactions[id] }

    /// Every interaction in memory, by id (numeric order).
    public func allInteractions() -> [Interaction] {
        domain.interactions.values.sorted { ($0.id.count, $0.id) < ($1.id.count, $1.id) }
    }

    /// Whether `userId` counts for routing (has a session on some node).
    public func isPresent(_ userId: String) -> Bool { domain.isPresent(userId) }

    // MARK: Watches

    /// Creates or replaces a watch; a full snapshot follows once the batch commits.
    /// - Parameters:
    ///   - queue: the queues and attributes of a `.queue` watch.
    ///   - statuses: the users and properties (nil: all) of a `.userStatuses` watch.
    public func subscribe(
        sessionId: String, to key: WatchKey, queue: (ids: [QueueId], attributes: [String])? = nil,
        statuses: (userIds: [String], properties: [String]?)? = nil
    ) async throws {
        try await submit(onlyWatches: true) { [self] batch in
            if try feed.subscribe(sessionId: sessionId, to: key, queue: queue, statuses: statuses, state: domain) {
                batch.snapshots.append((sessionId, key))
            }
            return ()
        }
    }

    /// Cancels a watch; idempotent.
    public func unsubscribe(sessionId: String, from key: WatchKey) async throws {
        try await submit(onlyWatches: true) { [self] _ in try feed.unsubscribe(sessionId: sessionId, from: key) }
    }

    /// Sends every watch of a session a fresh snapshot (e.g. after a stream resumed too late to replay).
    public func resnapshot(sessionId: String) async throws {
        try await submit(onlyWatches: true) { [self] batch in
            let watch = try feed.watchesOf(sessionId)
            for key in watch.allKeys { batch.snapshots.append((sessionId, key)) }
            return ()
        }
    }

    /// How many watches of each kind are open (for metrics).
    public func subscriptionCounts() -> [(String, Int)] { feed.subscriptionCounts() }
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
