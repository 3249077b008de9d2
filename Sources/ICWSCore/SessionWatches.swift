import Foundation
import ICWSModel

/// What a watching client holds of one request's details, so a delta carries exactly what changed.
struct DetailsView {
    var state: AssistanceRequestState
    var participantActions: [String: AssistanceParticipantAction]
    var participantCount: Int
    var lineCount: Int
}

/// What a supervisor's list watch holds of one request.
struct SupervisorEntryView: Equatable {
    var action: AssistanceParticipantAction
    var state: AssistanceRequestState
}

/// A queue watch: which queues, which attributes, and what the client holds.
struct QueueWatch {
    var queues: [QueueId]
    var attributeNames: [String]
    var view: [String: [String: String]] = [:]
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

/// One session's watches and, for each, the view its client holds.
final class SessionWatches {
    let session: Session
    /// Ids the client holds in its agent-assistance list; nil when not watching.
    var agentList: Set<String>?
    var agentDetails: [String: DetailsView?] = [:]
    /// The supervisor-assistance list view; nil when not watching.
    var supervisorList: [String: SupervisorEntryView]?
    var supervisorDetails: [String: DetailsView?] = [:]
    var queues: [String: QueueWatch] = [:]

    init(session: Session) {
        self.session = session
    }

    var userId: String { session.userId }

    /// Every watch this session has, for re-snapshots.
    var allKeys: [WatchKey] {
        var keys: [WatchKey] = []
        if agentList != nil { keys.append(.agentAssistance) }
        keys += agentDetails.keys.sorted().map { .agentAssistanceDetails($0) }
        if supervisorList != nil { keys.append(.supervisorAssistance) }
        keys += supervisorDetails.keys.sorted().map { .supervisorAssistanceDetails($0) }
        keys += queues.keys.sorted().map { .queue($0) }
        return keys
    }

    /// Whether any watch of this session shows assistance requests.
    var isWatchingRequests: Bool {
        agentList != nil || supervisorList != nil || !agentDetails.isEmpty || !supervisorDetails.isEmpty
    }

    var isWatchingAnything: Bool { isWatchingRequests || !queues.isEmpty }
}
