import Foundation
import ICWSModel
import Metrics
import OrderedCollections

/// Every session's watches on this node, and the views their clients hold: turns committed events into
/// mailbox messages.
///
/// It knows nothing of HTTP or of stores, and it never changes the domain: it is handed the state after
/// the events were applied. Events committed on this node and on other nodes take the same path.
/// Owned by `ContactCenter` and used only on its actor.
final class ChangeFeed {
    /// Sessions by identity, in the order they were added. A fan-out writes streams in this order, as nginx's
    /// nchan writes its subscribers: a client holding many streams (a gateway, a wallboard server, a load
    /// generator) then reads them in the order it opened them, which keeps its own memory walk in step. Replayed
    /// over 2,000 sockets, a Python asyncio reader spent about 5 µs more CPU per message on streams written in
    /// random order than on the same streams written in the order it opened them.
    typealias SessionsInOrder = OrderedDictionary<ObjectIdentifier, SessionWatches>

    let directory: Directory
    let features: FeatureVersions
    let encoder: JSONEncoder
    private(set) var watches: [String: SessionWatches] = [:]
    /// Each user's sessions in the order they were opened, keyed by object identity (cheap to hash on the
    /// fan-out path). A fan-out visits them in that order, so the oldest stream is written first.
    private(set) var watchesByUser: [String: SessionsInOrder] = [:]

    /// The sessions with a queue watch, by user (a queue's change visits only these, not every session of
    /// the users concerned).
    private(set) var queueWatchersByUser: [String: SessionsInOrder] = [:]

    /// Each user's latest supervisor-assistance view, which a snapshot that shows the same joins.
    var supervisorViews: [String: SupervisorListView] = [:]
    /// Counts the publication's steps (one per request and user), so that a shared view is updated once per step.
    var visitStamp: UInt64 = 0

    /// The status watches, by watched user id.
    var statusWatchers: [String: SessionsInOrder] = [:]
    /// Since when users who never set a status are in the initial one (the node's start).
    var statusSince = Date()

    /// Mailboxes whose stream sinks to wake once the current publication is queued everywhere (one job per
    /// event loop).
    private var pendingWakes = StreamWakes()
    /// Messages queued since the last `wakeStreams()`, counted into `queuedCounter` there (once per publication).
    private var queuedSinceWake = 0

    let coalescedCounter = Counter(label: "openicws_messages_coalesced_total")
    let queuedCounter = Counter(label: "openicws_messages_queued_total")

    /// Watches one session may hold at once (`Limits.watchesPerSession`).
    let watchesPerSession: Int

    init(directory: Directory, features: FeatureVersions, encoder: JSONEncoder = .icws, watchesPerSession: Int = Limits().watchesPerSession) {
        self.directory = directory
        self.features = features
        self.encoder = encoder
        self.watchesPerSession = watchesPerSession
        pendingWakes.writesFirstBatchHere = true
    }

    // MARK: Sessions

    /// A session can now watch.
    /// Idempotent: a batch may run twice (see `AssistanceStore.commit`).
    func add(_ session: Session) {
        guard watches[session.id] == nil else { return }
        let watch = SessionWatches(session: session)
        watches[session.id] = watch
        watchesByUser[session.userId, default: [:]][ObjectIdentifier(watch)] = watch
    }

    /// A session's watches go; its stream is told why and closed.
    func remove(_ session: Session, reason: String, shouldReconnect: Bool) {
        if let watch = watches.removeValue(forKey: session.id) {
            setStatusWatch(nil, on: watch)
            watch.queues = [:]
            indexQueueWatches(of: watch)
            watchesByUser[session.userId]?[ObjectIdentifier(watch)] = nil
            if watchesByUser[session.userId]?.isEmpty == true {
                watchesByUser[session.userId] = nil
                supervisorViews[session.userId] = nil
            }
        }
        let message = ConnectionStateChangeMessage(reason: reason, shouldReconnect: shouldReconnect)
        session.mailbox.close(reason: reason, lastMessage: OutboundMessage(watch: .connection, isDelta: false, json: encode(message)))
    }

    /// Whether `userId` has a session on this node.
    func hasSession(_ userId: String) -> Bool { !(watchesByUser[userId]?.isEmpty ?? true) }

    /// The users with a session on this node.
    var localUsers: Set<String> { Set(watchesByUser.keys) }

    /// The session's watches, or `sessionEnded` when the session ended meanwhile.
    func watchesOf(_ sessionId: String) throws(DomainError) -> SessionWatches {
        guard let watch = watches[sessionId] else { throw .sessionEnded }
        return watch
    }

    // MARK: Subscriptions

    /// Creates or replaces a watch after checking the user may have it; its snapshot follows the commit.
    /// Returns false when there is nothing to snapshot.
    func subscribe(
        sessionId: String, to key: WatchKey, queue: (ids: [QueueId], attributes: [String])?,
        statuses: (userIds: [String], properties: [String]?)? = nil, state: DomainState
    ) throws(DomainError) -> Bool {
        let watch = try watchesOf(sessionId)
        let userId = watch.userId
        // Replacing a watch is always allowed; a new one only below the cap.
        if key != .connection, !watch.has(key), watch.count >= watchesPerSession {
            Limits.refused("watches_per_session")
            throw .limitReached("watchesPerSession", "The session holds \(watchesPerSession) watches, the most allowed; remove one first.")
        }
        switch key {
        case .agentAssistance:
            watch.agentList = []
        case .agentAssistanceDetails(let id), .supervisorAssistanceDetails(let id):
            let side = key.details?.side ?? .agent
            _ = try state.requestForDetails(id, userId: userId, side: side, directory: directory)
            watch.details[side, default: [:]][id] = .awaitingSnapshot
        case .supervisorAssistance:
            try requireSupervisor(userId)
            watch.supervisorList = SupervisorListView()
        case .queue(let subscriptionId):
            let ids = queue?.ids ?? []
            for id in ids { try checkQueueAccess(id, userId: userId) }
            watch.queues[subscriptionId] = QueueWatch(queues: ids, attributeNames: queue?.attributes ?? [])
            indexQueueWatches(of: watch)
        case .userStatuses:
            setStatusWatch(try statusWatch(statuses), on: watch)
        case .connection:
            return false
        }
        return true
    }

    /// Cancels a watch; idempotent.
    func unsubscribe(sessionId: String, from key: WatchKey) throws(DomainError) {
        let watch = try watchesOf(sessionId)
        switch key {
        case .agentAssistance: watch.agentList = nil
        case .agentAssistanceDetails(let id), .supervisorAssistanceDetails(let id):
            watch.details[key.details?.side ?? .agent]?[id] = nil
        case .supervisorAssistance:
            try requireSupervisor(watch.userId)
            watch.supervisorList = nil
        case .queue(let id):
            watch.queues[id] = nil
            indexQueueWatches(of: watch)
        case .userStatuses: setStatusWatch(nil, on: watch)
        case .connection: break
        }
    }

    /// Keeps `queueWatchersByUser` in step with whether `watch` has queue watches.
    private func indexQueueWatches(of watch: SessionWatches) {
        let key = ObjectIdentifier(watch)
        if watch.queues.isEmpty {
            guard queueWatchersByUser[watch.userId]?.removeValue(forKey: key) != nil else { return }
            if queueWatchersByUser[watch.userId]?.isEmpty == true { queueWatchersByUser[watch.userId] = nil }
        } else {
            queueWatchersByUser[watch.userId, default: [:]][key] = watch
        }
    }

    private func requireSupervisor(_ userId: String) throws(DomainError) {
        guard !(directory.supervision[userId] ?? []).isEmpty else {
            throw .accessDenied("You do not supervise any workgroup.")
        }
    }

    // MARK: Publishing

    /// After a commit (here or on another node): fresh snapshots for new watches, then one delta per
    /// watch for what the events touched.
    func publish(_ events: [DomainEvent], snapshots: [(sessionId: String, watch: WatchKey)] = [], state: DomainState) {
        defer { wakeStreams() }
        var memo: [AnyHashable: SharedJSON] = [:]
        for (sessionId, key) in snapshots {
            guard let watch = watches[sessionId], let message = snapshot(key, for: watch, state: state, memo: &memo) else { continue }
            deliver(message, to: watch, state: state)
        }
        var requestIds: [String] = []
        var interactionIds: [String] = []
        var seenRequests = Set<String>()
        var seenInteractions = Set<String>()
        for event in events {
            if let id = event.assistanceId, seenRequests.insert(id).inserted { requestIds.append(id) }
            if let id = event.interactionId, seenInteractions.insert(id).inserted { interactionIds.append(id) }
        }
        if !requestIds.isEmpty { publishRequests(requestIds, state: state, memo: &memo) }
        if !interactionIds.isEmpty { publishQueues(interactionIds, state: state, memo: &memo) }
        if !statusWatchers.isEmpty {
            var users: [String] = []
            var seenUsers = Set<String>()
            for event in events {
                for userId in event.statusUsers where statusWatchers[userId] != nil && seenUsers.insert(userId).inserted {
                    users.append(userId)
                }
            }
            if !users.isEmpty { publishStatuses(users, state: state, memo: &memo) }
        }
    }

    /// Sends every watch of every session a fresh snapshot (the store recovered, or the state was reloaded).
    func resnapshotAll(state: DomainState) {
        defer { wakeStreams() }
        var memo: [AnyHashable: SharedJSON] = [:]
        for watch in watches.values where watch.isWatchingAnything {
            for key in watch.allKeys {
                if let message = snapshot(key, for: watch, state: state, memo: &memo) { deliver(message, to: watch, state: state) }
            }
        }
    }

    /// Sends one subscription-state message to every session with an assistance watch.
    func broadcast(_ message: AssistanceSubscriptionStateMessage, state: DomainState) {
        defer { wakeStreams() }
        guard features.supports("interactions", 10) else { return }
        let json = SharedJSON(encode(message))
        for watch in watches.values {
            let keys = watch.allKeys.filter {
                switch $0 {
                case .queue, .userStatuses: false
                default: true
                }
            }
            guard let first = keys.first else { continue }
            deliver(OutboundMessage(watch: first, isDelta: false, json: json), to: watch, state: state)
        }
    }

    /// Ends every assistance watch (the store stayed down); returns how many sessions lost watches.
    func endAssistanceWatches() -> Int {
        var ended = 0
        for watch in watches.values where watch.isWatchingRequests || !watch.queues.isEmpty {
            watch.endAssistanceWatches()
            ended += 1
        }
        return ended
    }

    /// Queues a message; when the mailbox is full, that watch's queued deltas collapse into a snapshot.
    func deliver(_ message: OutboundMessage, to watch: SessionWatches, state: DomainState) {
        let mailbox = watch.mailbox
        switch mailbox.push(message, wakes: &pendingWakes) {
        case .queued:
            queuedSinceWake += 1
            // A large fan-out wakes its streams in batches, so their event loops start writing while the rest
            // is still being queued (instead of after the last watch).
            if pendingWakes.count >= Self.wakeBatch { wakeStreams(more: true) }
        case .closed:
            break
        case .full:
            coalescedCounter.increment()
            var memo: [AnyHashable: SharedJSON] = [:]
            if let fresh = snapshot(message.watch, for: watch, state: state, memo: &memo), mailbox.collapse(message.watch, into: fresh) {
                return
            }
            // Other watches fill the queue too: replace everything with one snapshot per watch.
            let snapshots = watch.allKeys.compactMap { snapshot($0, for: watch, state: state, memo: &memo) }
            mailbox.replaceAll(with: snapshots)
        }
    }

    /// How many streams a publication queues for before it wakes them.
    static let wakeBatch = 128

    /// Wakes the sinks of every mailbox that got messages, together; with `more`, a batch of a fan-out that
    /// goes on (its wakes share one lane).
    func wakeStreams(more: Bool = false) {
        if queuedSinceWake > 0, !more {
            queuedCounter.increment(by: queuedSinceWake)
            queuedSinceWake = 0
        }
        if more { pendingWakes.wakeSoFar() } else { pendingWakes.wakeAll() }
    }

    /// How many watches of each kind are open (for metrics; asked once a second, so counted in locals rather
    /// than a dictionary updated per watch).
    func subscriptionCounts() -> [(String, Int)] {
        var agent = 0, agentDetails = 0, supervisor = 0, supervisorDetails = 0, queues = 0, statuses = 0
        for watch in watches.values {
            if watch.agentList != nil { agent += 1 }
            if !watch.details.isEmpty {
                agentDetails += watch.details[.agent]?.count ?? 0
                supervisorDetails += watch.details[.supervisor]?.count ?? 0
            }
            if watch.supervisorList != nil { supervisor += 1 }
            queues += watch.queues.count
            if watch.statuses != nil { statuses += 1 }
        }
        return [
            ("agent-assistance", agent), ("agent-assistance-details", agentDetails), ("queues", queues),
            ("supervisor-assistance", supervisor), ("supervisor-assistance-details", supervisorDetails), ("user-statuses", statuses),
        ]
    }

    func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Our message types always encode; an empty object keeps the stream well-formed if one ever did not.
        (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    func encoded<T: Encodable & Hashable>(_ value: T, memo: inout [AnyHashable: SharedJSON]) -> SharedJSON {
        if let bytes = memo[AnyHashable(value)] { return bytes }
        let bytes = SharedJSON(encode(value))
        memo[AnyHashable(value)] = bytes
        return bytes
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
