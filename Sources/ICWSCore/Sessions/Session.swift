import Foundation
import Synchronization

/// A logged-in ICWS session: who it is, its secrets, and its one mailbox.
public final class Session: Sendable {
    public let id: String
    public let user: DirectoryUser
    public let csrfToken: String
    public let cookieValue: String
    public let language: String
    public let applicationName: String
    public let createdAt: Date
    public let mailbox: Mailbox
    private let lastActivityMillis: Atomic<Int64>
    private let openStreams: Atomic<Int>

    public init(
        id: String, user: DirectoryUser, csrfToken: String, cookieValue: String, language: String,
        applicationName: String, createdAt: Date, mailbox: Mailbox
    ) {
        self.id = id
        self.user = user
        self.csrfToken = csrfToken
        self.cookieValue = cookieValue
        self.language = language
        self.applicationName = applicationName
        self.createdAt = createdAt
        self.mailbox = mailbox
        self.lastActivityMillis = Atomic(Int64(createdAt.timeIntervalSince1970 * 1000))
        self.openStreams = Atomic(0)
    }

    /// The user id of the session.
    public var userId: String { user.userId }

    /// Records activity (any authenticated request) at `date`.
    public func touch(_ date: Date) {
        lastActivityMillis.store(Int64(date.timeIntervalSince1970 * 1000), ordering: .relaxed)
    }

    /// When the session was last active.
    public var lastActivity: Date {
        Date(timeIntervalSince1970: Double(lastActivityMillis.load(ordering: .relaxed)) / 1000)
    }

    /// Marks an event stream as open (+1) or closed (-1); a session with an open stream does not expire.
    public func streamOpened(_ delta: Int) {
        openStreams.add(delta, ordering: .relaxed)
    }

    /// Whether an event stream is open.
    public var hasOpenStream: Bool { openStreams.load(ordering: .relaxed) > 0 }
}

/// The live sessions by id, and the ids of recently ended ones (they answer 401 -2147221499).
public final class SessionRegistry: Sendable {
    struct State {
        var live: [String: Session] = [:]
        var ended: Set<String> = []
        var endedOrder: [String] = []
    }

    private let state = Mutex(State())
    private let endedMemory: Int
    private let draining = Atomic<Bool>(false)

    /// Refuses new sessions from now on (the node is shutting down).
    public func stopAccepting() { draining.store(true, ordering: .relaxed) }

    /// Whether new sessions are refused.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// - Parameter endedMemory: how many ended session ids to remember.
    public init(endedMemory: Int = 100_000) {
        self.endedMemory = endedMemory
    }

    /// What a session id refers to.
    public enum Lookup: Sendable {
        case live(Session)
        case ended
        case unknown
    }

    /// Looks up a session id.
    public func lookup(_ id: String) -> Lookup {
        state.withLock { state in
            if let session = state.live[id] { return .live(session) }
            return state.ended.contains(id) ? .ended : .unknown
        }
    }

    /// Adds a new session under a fresh random id built by `make`.
    public func add(_ make: (String) -> Session) -> Session {
        state.withLock { state in
            var id = SessionSecrets.sessionId()
            while state.live[id] != nil || state.ended.contains(id) { id = SessionSecrets.sessionId() }
            let session = make(id)
            state.live[id] = session
            return session
        }
    }

    /// Ends a session; returns it if it was live.
    @discardableResult
    public func remove(_ id: String) -> Session? {
        state.withLock { state in
            guard let session = state.live.removeValue(forKey: id) else { return nil }
            state.ended.insert(id)
            state.endedOrder.append(id)
            if state.endedOrder.count > endedMemory {
                let drop = state.endedOrder.count - endedMemory
                for old in state.endedOrder.prefix(drop) { state.ended.remove(old) }
                state.endedOrder.removeFirst(drop)
            }
            return session
        }
    }

    /// Every live session.
    public var all: [Session] { state.withLock { Array($0.live.values) } }

    /// How many sessions are live.
    public var count: Int { state.withLock { $0.live.count } }

    /// How many live sessions `userId` has.
    public func count(of userId: String) -> Int {
        state.withLock { state in state.live.values.count { $0.userId == userId } }
    }

    /// Live sessions idle since before `cutoff` with no open stream.
    public func idle(before cutoff: Date) -> [Session] {
        state.withLock { state in
            state.live.values.filter { !$0.hasOpenStream && $0.lastActivity < cutoff }
        }
    }
}
