import ICWSModel

/// Every client-side view of one session, kept up to date by applying its messages in order.
///
/// After the messages up to some point are applied, each view equals what a fresh subscription would
/// send as its snapshot at that point: "what are my active requests now" is `agentAssistance.assistanceIds`.
public struct ICWSViews: Sendable, Hashable {
    /// The `agent-assistance` list.
    public var agentAssistance = AgentAssistanceList()
    /// The `supervisor-assistance` list.
    public var supervisorAssistance = SupervisorAssistanceList()
    /// Details watches, by assistance id.
    public var details: [String: AssistanceRequestDetails] = [:]
    /// Queue subscriptions, by subscription id.
    public var queues: [String: QueueContents] = [:]
    /// The state of the assistance watches from the last subscription state message (`normal` until one says otherwise).
    public var subscriptionState: SubscriptionState = .normal
    /// The error of the last subscription state message that carried one.
    public var subscriptionError: SubscriptionError?
    /// Whether the session has ended (a `connectionStateChangeMessage` arrived).
    public var sessionEnded = false

    /// Creates empty views.
    public init() {}

    /// Applies one message to the view it belongs to; messages of unknown types change nothing.
    public mutating func apply(_ message: ICWSMessage) {
        switch message {
        case .assistanceRequestList(let list):
            agentAssistance.apply(list)
        case .assistanceRequestDetails(let request):
            details[request.assistanceId, default: AssistanceRequestDetails(assistanceId: request.assistanceId)].apply(request)
        case .supervisorAssistanceRequest(let list):
            supervisorAssistance.apply(list)
        case .queueContents(let contents):
            queues[contents.subscriptionId, default: QueueContents(subscriptionId: contents.subscriptionId)].apply(contents)
        case .subscriptionState(let state):
            subscriptionState = state.state
            subscriptionError = state.error
        case .connectionStateChange:
            sessionEnded = true
        case .unknown:
            break
        }
    }

    /// Forgets the view of `subscription` (after an unsubscribe, so a stale view is not mistaken for a live one).
    public mutating func forget(_ subscription: ICWSSubscription) {
        switch subscription {
        case .agentAssistance: agentAssistance = AgentAssistanceList()
        case .supervisorAssistance: supervisorAssistance = SupervisorAssistanceList()
        case .agentAssistanceDetails(let id), .supervisorAssistanceDetails(let id): details[id] = nil
        case .queue(let id, _, _): queues[id] = nil
        }
    }
}
