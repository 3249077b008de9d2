/// The `__type` URNs of the messages and bodies this server speaks.
public enum ICWSType {
    public static let assistanceRequestList = "urn:inin.com:interactions.assistance:assistanceRequestListMessage"
    public static let assistanceRequestDetails = "urn:inin.com:interactions.assistance:assistanceRequestDetailsMessage"
    public static let supervisorAssistanceRequest = "urn:inin.com:interactions.assistance:supervisorAssistanceRequestMessage"
    public static let assistanceSubscriptionState = "urn:inin.com:interactions.assistance:assistanceRequestSubscriptionStateMessage"
    public static let queueContents = "urn:inin.com:queues:queueContentsMessage"
    public static let connectionStateChange = "urn:inin.com:connection:connectionStateChangeMessage"
    public static let icAuthConnectionRequest = "urn:inin.com:connection:icAuthConnectionRequestSettings"
    public static let workstationSettings = "urn:inin.com:connection:workstationSettings"
    public static let stationlessSettings = "urn:inin.com:connection:stationlessSettings"
    public static let missingPropertyError = "urn:inin.com:common:missingPropertyError"
    public static let invalidPropertyError = "urn:inin.com:common:invalidPropertyError"
}

/// `assistanceRequestListMessage`: ids of the active requests the user takes part in.
public struct AssistanceRequestListMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.assistanceRequestList
    public var isDelta: Bool
    public var requestsAdded: [String]?
    public var requestsRemoved: [String]?

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, requestsAdded, requestsRemoved
    }

    public init(isDelta: Bool, requestsAdded: [String]? = nil, requestsRemoved: [String]? = nil) {
        self.isDelta = isDelta
        self.requestsAdded = requestsAdded
        self.requestsRemoved = requestsRemoved
    }
}

/// A participant of an assistance request as it appears in messages.
public struct AssistanceParticipant: Codable, Sendable, Hashable {
    public var userId: String
    public var displayName: String
    public var action: AssistanceParticipantAction

    public init(userId: String, displayName: String, action: AssistanceParticipantAction) {
        self.userId = userId
        self.displayName = displayName
        self.action = action
    }
}

/// A chat line of an assistance request; `timeAdded` is a compact ICWS date.
public struct AssistanceChatLine: Codable, Sendable, Hashable {
    public var text: String
    public var participantId: String
    public var timeAdded: String

    public init(text: String, participantId: String, timeAdded: String) {
        self.text = text
        self.participantId = participantId
        self.timeAdded = timeAdded
    }
}

/// `assistanceRequestDetailsMessage`: one request in full (`isDelta:false`) or what changed.
public struct AssistanceRequestDetailsMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.assistanceRequestDetails
    public var isDelta: Bool
    public var assistanceId: String
    public var interactionId: String?
    public var state: AssistanceRequestState?
    public var participantsAdded: [AssistanceParticipant]?
    public var participantsChanged: [AssistanceParticipant]?
    public var messagesAdded: [AssistanceChatLine]?

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, assistanceId, interactionId, state, participantsAdded, participantsChanged, messagesAdded
    }

    public init(
        isDelta: Bool, assistanceId: String, interactionId: String? = nil, state: AssistanceRequestState? = nil,
        participantsAdded: [AssistanceParticipant]? = nil, participantsChanged: [AssistanceParticipant]? = nil,
        messagesAdded: [AssistanceChatLine]? = nil
    ) {
        self.isDelta = isDelta
        self.assistanceId = assistanceId
        self.interactionId = interactionId
        self.state = state
        self.participantsAdded = participantsAdded
        self.participantsChanged = participantsChanged
        self.messagesAdded = messagesAdded
    }
}

/// One request as a supervisor sees it in `supervisorAssistanceRequestMessage`.
public struct SupervisorAssistanceRequest: Codable, Sendable, Hashable {
    public var assistanceId: String
    public var interactionId: String
    public var problemDescription: String
    public var workgroup: String
    public var initiator: AssistanceParticipant
    /// This supervisor's own action on the request.
    public var action: AssistanceParticipantAction
    public var state: AssistanceRequestState

    public init(
        assistanceId: String, interactionId: String, problemDescription: String, workgroup: String,
        initiator: AssistanceParticipant, action: AssistanceParticipantAction, state: AssistanceRequestState
    ) {
        self.assistanceId = assistanceId
        self.interactionId = interactionId
        self.problemDescription = problemDescription
        self.workgroup = workgroup
        self.initiator = initiator
        self.action = action
        self.state = state
    }
}

/// `supervisorAssistanceRequestMessage`: the active requests of the workgroups a user supervises.
public struct SupervisorAssistanceRequestMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.supervisorAssistanceRequest
    public var isDelta: Bool
    public var requestsAdded: [SupervisorAssistanceRequest]?
    public var requestsChanged: [SupervisorAssistanceRequest]?
    public var requestsRemoved: [String]?

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, requestsAdded, requestsChanged, requestsRemoved
    }

    public init(
        isDelta: Bool, requestsAdded: [SupervisorAssistanceRequest]? = nil,
        requestsChanged: [SupervisorAssistanceRequest]? = nil, requestsRemoved: [String]? = nil
    ) {
        self.isDelta = isDelta
        self.requestsAdded = requestsAdded
        self.requestsChanged = requestsChanged
        self.requestsRemoved = requestsRemoved
    }
}

/// The nested error of a subscription state message.
public struct SubscriptionError: Codable, Sendable, Hashable {
    public var errorId: String?
    public var message: String

    public init(errorId: String?, message: String) {
        self.errorId = errorId
        self.message = message
    }
}

/// `assistanceRequestSubscriptionStateMessage` (interactions feature 10).
public struct AssistanceSubscriptionStateMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.assistanceSubscriptionState
    public var isDelta = false
    public var state: SubscriptionState
    public var error: SubscriptionError?

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, state, error
    }

    public init(state: SubscriptionState, error: SubscriptionError? = nil) {
        self.state = state
        self.error = error
    }
}

/// `connectionStateChangeMessage`, sent when a session ends under an open stream.
public struct ConnectionStateChangeMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.connectionStateChange
    public var isDelta = false
    public var previousConnectionState: ConnectionState
    public var newConnectionState: ConnectionState
    public var reason: String
    public var shouldReconnect: Bool

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, previousConnectionState, newConnectionState, reason, shouldReconnect
    }

    public init(reason: String, shouldReconnect: Bool) {
        self.previousConnectionState = .up
        self.newConnectionState = .down
        self.reason = reason
        self.shouldReconnect = shouldReconnect
    }
}

/// One interaction in a `queueContentsMessage`, with the requested attributes as strings.
public struct QueueInteraction: Codable, Sendable, Hashable {
    public var interactionId: String
    public var attributes: [String: String]

    public init(interactionId: String, attributes: [String: String]) {
        self.interactionId = interactionId
        self.attributes = attributes
    }
}

/// `queueContentsMessage`: what is in the watched queues.
public struct QueueContentsMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.queueContents
    public var isDelta: Bool
    public var subscriptionId: String
    public var interactionsAdded: [QueueInteraction]?
    public var interactionsChanged: [QueueInteraction]?
    public var interactionsRemoved: [String]?

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, subscriptionId, interactionsAdded, interactionsChanged, interactionsRemoved
    }

    public init(
        isDelta: Bool, subscriptionId: String, interactionsAdded: [QueueInteraction]? = nil,
        interactionsChanged: [QueueInteraction]? = nil, interactionsRemoved: [String]? = nil
    ) {
        self.isDelta = isDelta
        self.subscriptionId = subscriptionId
        self.interactionsAdded = interactionsAdded
        self.interactionsChanged = interactionsChanged
        self.interactionsRemoved = interactionsRemoved
    }
}
