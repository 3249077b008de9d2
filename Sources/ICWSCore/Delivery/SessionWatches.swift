import Foundation
import ICWSModel

/// What a watching client holds of one request's details, so a delta carries exactly what changed.
struct DetailsView: Equatable {
    var state: AssistanceRequestState
    var participantActions: [String: AssistanceParticipantAction]
    var participantCount: Int
    var lineCount: Int
}

/// A details watch: subscribed and waiting for its first snapshot, or showing what the client holds.
enum DetailsWatch: Equatable {
    case awaitingSnapshot
    case showing(DetailsView)
}

/// What a supervisor's list watch holds of one request.
struct SupervisorEntryView: Equatable {
    var action: AssistanceParticipantAction
    var state: AssistanceRequestState
}

/// How one request changed in a supervisor-assistance list view.
enum SupervisorListChange {
    case added(SupervisorAssistanceRequest)
    case changed(SupervisorAssistanceRequest)
    case removed
}

/// What the clients of one user's supervisor-assistance watches hold, shared by every such watch whose client
/// holds the same: a publication then updates it once for all of them, and each watch takes the change from it.
///
/// Every holder is a watch of the same user, and a holder's client holds exactly `entries`: the view is changed
/// in place only while each holder gets the matching delta (all of a user's watches are visited for each
/// request that concerns the user). A snapshot joins the user's latest view when it holds the same, and
/// otherwise starts a new one.
final class SupervisorListView {
    var entries: [String: SupervisorEntryView]
    /// The publication step that last updated `entries` (`ChangeFeed.visitStamp`), and what changed then: a
    /// holder visited in the same step takes that change instead of updating the view again.
    var stamp: UInt64 = 0
    var change: SupervisorListChange?

    init(_ entries: [String: SupervisorEntryView] = [:]) {
        self.entries = entries
    }
}

/// A queue watch: which queues, which attributes, and what the client holds.
struct QueueWatch {
    var queues: [QueueId]
    var attributeNames: [String]
    var view: [String: [String: String]] = [:]
}

/// A status watch: whose statuses, which properties (nil: all), and what the client holds.
struct StatusWatch {
    var userIds: [String]
    var properties: Set<String>?
    var view: [String: UserStatusBody] = [:]
}

/// A queue named in a queue subscription.
public struct QueueId: Sendable, Equatable, Hashable {
    /// 1 user queue, 2 workgroup queue.
    public var queueType: Int
    public var queueName: String

    public init(queueType: Int, queueName: String) {
        self.queueType = queueType
        self.queueName = queueName
    }
}

extension WatchKey {
    /// The details watch of `side` on request `id`.
    static func details(_ side: AssistanceSide, _ id: String) -> WatchKey {
        side == .agent ? .agentAssistanceDetails(id) : .supervisorAssistanceDetails(id)
    }

    /// The side and request of a details watch; nil for other watches.
    var details: (side: AssistanceSide, id: String)? {
        switch self {
        case .agentAssistanceDetails(let id): (.agent, id)
        case .supervisorAssistanceDetails(let id): (.supervisor, id)
        default: nil
        }
    }
}

/// One session's watches and, for each, the view its client holds.
final class SessionWatches {
    let session: Session
    /// `session.mailbox`, kept here so that a delivery touches no other object of the session.
    let mailbox: Mailbox
    /// `mailbox`'s address, for `Prefetch` (read without reference counting, which would touch the mailbox).
    let mailboxAddress: UnsafeRawPointer
    /// Ids the client holds in its agent-assistance list; nil when not watching.
    var agentList: Set<String>?
    /// The supervisor-assistance list view, often shared with the user's other watches; nil when not watching.
    var supervisorList: SupervisorListView?
    /// Details watches by side, then by assistance id.
    var details: [AssistanceSide: [String: DetailsWatch]] = [:]
    var queues: [String: QueueWatch] = [:]
    var statuses: StatusWatch?

    init(session: Session) {
        self.session = session
        self.mailbox = session.mailbox
        self.mailboxAddress = Prefetch.address(of: session.mailbox)
    }

    /// The bytes a fan-out reads from the object's start (its header and the fields above), for `Prefetch`.
    static var prefetchBytes: Int { 128 }

    var userId: String { session.userId }

    /// Every watch this session has, for re-snapshots.
    var allKeys: [WatchKey] {
        var keys: [WatchKey] = []
        if agentList != nil { keys.append(.agentAssistance) }
        keys += (details[.agent] ?? [:]).keys.sorted().map { .agentAssistanceDetails($0) }
        if supervisorList != nil { keys.append(.supervisorAssistance) }
        keys += (details[.supervisor] ?? [:]).keys.sorted().map { .supervisorAssistanceDetails($0) }
        keys += queues.keys.sorted().map { .queue($0) }
        if statuses != nil { keys.append(.userStatuses) }
        return keys
    }

    /// Whether any watch of this session shows assistance requests.
    var isWatchingRequests: Bool {
        agentList != nil || supervisorList != nil || details.values.contains { !$0.isEmpty }
    }

    var isWatchingAnything: Bool { isWatchingRequests || !queues.isEmpty || statuses != nil }

    /// How many watches this session holds.
    var count: Int {
        (agentList == nil ? 0 : 1) + (supervisorList == nil ? 0 : 1) + details.values.reduce(0) { $0 + $1.count } + queues.count
            + (statuses == nil ? 0 : 1)
    }

    /// Whether this session holds the watch `key`.
    func has(_ key: WatchKey) -> Bool {
        switch key {
        case .agentAssistance: agentList != nil
        case .supervisorAssistance: supervisorList != nil
        case .agentAssistanceDetails(let id): details[.agent]?[id] != nil
        case .supervisorAssistanceDetails(let id): details[.supervisor]?[id] != nil
        case .queue(let id): queues[id] != nil
        case .userStatuses: statuses != nil
        case .connection: false
        }
    }

    /// Ends every assistance watch (a fault); queue watches stay.
    func endAssistanceWatches() {
        agentList = nil
        supervisorList = nil
        details = [:]
    }
}
