/// `assistanceRequestState`: none (waiting) 0, accepted 1, completed 2.
public enum AssistanceRequestState: Int, Codable, Sendable {
    case waiting = 0
    case accepted = 1
    case completed = 2
}

/// `assistanceRequestParticipantAction`: none 0, initiated 1, ignored 2, accepted 3.
public enum AssistanceParticipantAction: Int, Codable, Sendable {
    case none = 0
    case initiated = 1
    case ignored = 2
    case accepted = 3
}

/// `connectionState`: none 0, up 1, down 2.
public enum ConnectionState: Int, Codable, Sendable {
    case none = 0
    case up = 1
    case down = 2
}

/// Subscription state (interactions feature 10): none 0, normal 1, suspended 2, faulted 3.
public enum SubscriptionState: Int, Codable, Sendable {
    case none = 0
    case normal = 1
    case suspended = 2
    case faulted = 3
}
