/// A watch a session can hold. Each PUT is answered by a full snapshot (`isDelta:false`), then deltas.
public enum ICWSSubscription: Sendable, Hashable {
    /// The ids of the active requests the user takes part in (initiated, or accepted as a supervisor).
    case agentAssistance
    /// One request in full, then its changes, as its initiator (or an accepting supervisor) sees it.
    case agentAssistanceDetails(assistanceId: String)
    /// The active requests of every workgroup the user supervises (interactions feature 10).
    case supervisorAssistance
    /// One request in full, then its changes, as a supervisor of its workgroup sees it.
    case supervisorAssistanceDetails(assistanceId: String)
    /// The contents of user and workgroup queues, under a subscription id the client chooses.
    case queue(subscriptionId: String, queues: [QueueReference], attributes: [String])

    /// The path below `/icws/{sid}/messaging/subscriptions/`.
    var path: String {
        switch self {
        case .agentAssistance: return "interactions/agent-assistance"
        case .agentAssistanceDetails(let id): return "interactions/agent-assistance/\(ICWSPath.escape(id))"
        case .supervisorAssistance: return "interactions/supervisor-assistance"
        case .supervisorAssistanceDetails(let id): return "interactions/supervisor-assistance/\(ICWSPath.escape(id))"
        case .queue(let subscriptionId, _, _): return "queues/\(ICWSPath.escape(subscriptionId))"
        }
    }
}

/// A queue to watch: a user's own queue or a workgroup's queue.
public struct QueueReference: Sendable, Hashable {
    /// The ICWS `queueType`: 1 for a user queue, 2 for a workgroup queue.
    public let queueType: Int
    /// The user id or workgroup name.
    public let queueName: String

    /// Creates a reference from the ICWS `queueType` and `queueName`.
    public init(queueType: Int, queueName: String) {
        self.queueType = queueType
        self.queueName = queueName
    }

    /// The queue of the user `userId` (queueType 1).
    public static func user(_ userId: String) -> QueueReference { QueueReference(queueType: 1, queueName: userId) }

    /// The queue of the workgroup `name` (queueType 2); needs membership or supervision of it.
    public static func workgroup(_ name: String) -> QueueReference { QueueReference(queueType: 2, queueName: name) }
}

/// Percent-escaping for one path segment (ids the client did not make up may hold anything).
enum ICWSPath {
    /// RFC 3986's unreserved characters: everything else is escaped.
    private static let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func escape(_ segment: String) -> String {
        var result = ""
        for byte in segment.utf8 {
            if allowed.contains(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
