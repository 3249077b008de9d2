import Foundation

/// What the store holds at start-up.
public struct StoredState: Sendable {
    /// Interactions that are not disconnected.
    public var interactions: [Interaction]
    /// Requests that are not completed, with participants and lines.
    public var requests: [AssistanceRequest]
    /// The highest numeric interaction id ever stored (0 when none).
    public var highestInteractionNumber: Int64
    /// The highest numeric part of an assistance id ever stored (0 when none).
    public var highestAssistanceNumber: Int64
    /// Users present on live nodes (a shared store only), with the time they became present.
    public var presence: [PresenceRecord]
    /// The id of the newest change in the shared change log that this state includes (0 for a single-node store).
    public var lastChangeId: Int64
    /// Every status a user set (users without one are in the directory's initial status).
    public var statuses: [UserStatus]

    public init(
        interactions: [Interaction], requests: [AssistanceRequest], highestInteractionNumber: Int64,
        highestAssistanceNumber: Int64, presence: [PresenceRecord] = [], lastChangeId: Int64 = 0, statuses: [UserStatus] = []
    ) {
        self.statuses = statuses
        self.interactions = interactions
        self.requests = requests
        self.highestInteractionNumber = highestInteractionNumber
        self.highestAssistanceNumber = highestAssistanceNumber
        self.presence = presence
        self.lastChangeId = lastChangeId
    }
}

/// A user present on a node.
public struct PresenceRecord: Sendable, Equatable {
    public var userId: String
    public var node: String
    public var since: Date

    public init(userId: String, node: String, since: Date) {
        self.userId = userId
        self.node = node
        self.since = since
    }
}

/// Durable storage for the domain's events.
///
/// A single-node store (SQLite) only persists. A shared store (PostgreSQL) also keeps a change log that
/// every node reads, so that a change committed on one node reaches the watchers on every node.
public protocol AssistanceStore: Sendable {
    /// Whether other nodes write to this store too (then `changes(after:)` matters).
    var isShared: Bool { get }

    /// Reads what must be live after a restart.
    func load() async throws -> StoredState

    /// Commits one batch atomically and durably, and returns its change-log id (nil for a single-node store).
    ///
    /// A shared store first serialises this write with every other node's (a lock held until commit),
    /// then reads the changes committed since `lastApplied` and hands them to `prepare`, which applies them
    /// and returns the batch's own events, computed on that up-to-date state. A single-node store calls
    /// `prepare([])`. When `prepare` returns no events, nothing is written and the result is nil.
    /// A shared store may first call `prepare([])` without the lock and try to write optimistically (valid only
    /// if nothing was committed since `lastApplied`); when that fails, it calls `prepare` again under the lock.
    /// Each call replaces the previous one: the caller takes back what the previous call applied.
    /// Throws when nothing of the batch was committed (the changes handed to `prepare` stay committed).
    func commit(
        after lastApplied: Int64, node: String,
        _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64?

    /// The changes committed after `id`, in order (empty for a single-node store).
    func changes(after id: Int64) async throws -> [CommittedChange]

    /// Succeeds only when a write could succeed now (used to notice a store that recovered).
    func probe() async throws

    /// Releases the database.
    func close() async throws

    /// Yields whenever other nodes may have committed changes (a notification, or a reconnect after which
    /// some may have been missed). A single-node store never yields.
    func changeSignals() -> AsyncStream<Void>

    /// Records that `node` is alive and has applied the change log up to `applied` (a shared store prunes
    /// the log below what every live node applied).
    func heartbeat(node: String, applied: Int64) async throws

    /// The nodes whose last heartbeat is older than `seconds`, by the store's clock.
    func deadNodes(olderThan seconds: Double) async throws -> [String]

    /// Deletes every interaction, request, participant, chat line and user status (`POST /admin/reset`). Stores that
    /// cannot (a store shared by several nodes, whose other nodes would keep the old state) throw
    /// `StoreResetUnsupported`, the default.
    func reset() async throws
}

/// The store cannot be reset (see `AssistanceStore.reset()`).
public struct StoreResetUnsupported: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "this store cannot be reset while the server runs" }
}

extension AssistanceStore {
    public func reset() async throws { throw StoreResetUnsupported() }
}

/// The cluster part of `AssistanceStore` for a store that only this node writes: no signals, no other nodes.
/// Conform to this explicitly; a shared store implements each requirement itself (no silent default).
public protocol SingleNodeStore: AssistanceStore {}

extension SingleNodeStore {
    public var isShared: Bool { false }
    public func changes(after id: Int64) async throws -> [CommittedChange] { [] }
    public func changeSignals() -> AsyncStream<Void> { AsyncStream { _ in } }
    public func heartbeat(node: String, applied: Int64) async throws {}
    public func deadNodes(olderThan seconds: Double) async throws -> [String] { [] }
}

extension AssistanceStore {
    /// Commits `events` with nothing to catch up on (tests and single-node use).
    @discardableResult
    public func commit(_ events: [DomainEvent], node: String = "local") async throws -> Int64? {
        try await commit(after: 0, node: node) { _ in events }
    }
}

/// A store kept in memory, for unit tests of the core; it can be told to fail like a broken disk.
public actor InMemoryAssistanceStore: SingleNodeStore {
    private var interactions: [String: Interaction] = [:]
    private var requests: [String: AssistanceRequest] = [:]
    private var statuses: [String: UserStatus] = [:]
    /// When true, `commit`, `probe` and `load` throw.
    public var failing = false
    /// How many batches were committed.
    public private(set) var commits = 0

    public init() {}

    public func reset() async throws {
        if failing { throw StoreFailure.unavailable("the in-memory store is set to fail") }
        interactions = [:]
        requests = [:]
        statuses = [:]
    }

    /// Makes later calls fail (or succeed again).
    public func setFailing(_ value: Bool) { failing = value }

    public func load() async throws -> StoredState {
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
        let live = requests.values.filter(\.isActive).sorted { $0.createdAt < $1.createdAt }
        return StoredState(
            interactions: interactions.values.filter { $0.state != .disconnected }.sorted { $0.id < $1.id },
            requests: live,
            highestInteractionNumber: interactions.keys.compactMap { Int64($0) }.max() ?? 0,
            highestAssistanceNumber: requests.keys.compactMap { AssistanceIdentifiers.number(of: $0) }.max() ?? 0,
            statuses: statuses.values.sorted { $0.userId < $1.userId })
    }

    public func commit(
        after lastApplied: Int64, node: String, _ prepare: @Sendable ([CommittedChange]) async throws -> [DomainEvent]
    ) async throws -> Int64? {
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
        let events = try await prepare([]).filter(\.isDurableOnOneNode)
        guard !events.isEmpty else { return nil }
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
        commits += 1
        for event in events {
            switch event {
            case .interactionSaved(let interaction):
                interactions[interaction.id] = interaction
            case .requestSaved(let header):
                requests[header.id] = AssistanceRequest(
                    header: header, participants: requests[header.id]?.participants ?? [], lines: requests[header.id]?.lines ?? [])
            case .participantSaved(let id, let position, let participant):
                if position < requests[id]?.participants.count ?? 0 {
                    requests[id]?.participants[position] = participant
                } else {
                    requests[id]?.participants.append(participant)
                }
            case .chatLineAdded(let id, _, let line):
                requests[id]?.lines.append(line)
            case .statusSaved(let status):
                statuses[status.userId] = status
            case .presence, .nodeGone:
                break
            }
        }
        return nil
    }

    public func probe() async throws {
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
    }

    public func close() async throws {}
}

/// A failure of the store: the change was not committed.
public enum StoreFailure: Error, CustomStringConvertible, Sendable {
    /// The database could not be reached or written.
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "store unavailable: \(why)"
        }
    }
}

/// Thrown by a store whose database refused a batch because a rule (a constraint) forbids it: a change
/// committed elsewhere conflicts with it. Nothing was stored, and the store is healthy.
public protocol StoreConflictError: Error, CustomStringConvertible {}

/// Thrown by a shared store when the change log no longer holds the changes a node asked for (they were
/// pruned while the node was presumed dead): the node must reload its state.
public protocol ChangeLogGapError: Error {}

/// Assistance ids are `a` followed by a number.
public enum AssistanceIdentifiers {
    public static func make(_ number: Int64) -> String { "a\(number)" }

    public static func number(of id: String) -> Int64? {
        guard id.first == "a" else { return nil }
        return Int64(id.dropFirst())
    }
}
