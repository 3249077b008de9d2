import Foundation
import ICWSModel

extension ChangeFeed {
    /// A full (`isDelta:false`) message for one watch; resets the watch's view to it.
    func snapshot(_ key: WatchKey, for watch: SessionWatches, state: DomainState, memo: inout [AnyHashable: SharedJSON]) -> OutboundMessage? {
        switch key {
        case .agentAssistance:
            guard watch.agentList != nil else { return nil }
            let ids = sortedIds(activeRequestIds(state).filter { state.requests[$0]?.listsFor(watch.userId) == true })
            watch.agentList = Set(ids)
            let message = AssistanceRequestListMessage(isDelta: false, requestsAdded: ids)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .agentAssistanceDetails(let id), .supervisorAssistanceDetails(let id):
            let side = key.details?.side ?? .agent
            guard watch.details[side]?[id] != nil, let request = state.requests[id] else { return nil }
            watch.details[side]?[id] = .showing(view(of: request))
            return OutboundMessage(watch: key, isDelta: false, json: encoded(fullDetails(request), memo: &memo))
        case .supervisorAssistance:
            guard watch.supervisorList != nil else { return nil }
            var view: [String: SupervisorEntryView] = [:]
            var added: [SupervisorAssistanceRequest] = []
            for id in sortedIds(supervisedActiveIds(watch.userId, state)) {
                guard let request = state.requests[id] else { continue }
                let entry = supervisorEntry(request, for: watch.userId)
                view[id] = SupervisorEntryView(action: entry.action, state: entry.state)
                added.append(entry)
            }
            if let latest = supervisorViews[watch.userId], latest.entries == view {
                watch.supervisorList = latest
            } else {
                let fresh = SupervisorListView(view)
                supervisorViews[watch.userId] = fresh
                watch.supervisorList = fresh
            }
            let message = SupervisorAssistanceRequestMessage(isDelta: false, requestsAdded: added)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .queue(let subscriptionId):
            guard var queue = watch.queues[subscriptionId] else { return nil }
            let contents = queueContents(queue, state: state)
            queue.view = contents
            watch.queues[subscriptionId] = queue
            let added = contents.keys.sorted().map { QueueInteraction(interactionId: $0, attributes: contents[$0] ?? [:]) }
            let message = QueueContentsMessage(isDelta: false, subscriptionId: subscriptionId, interactionsAdded: added)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .userStatuses:
            guard var statuses = watch.statuses else { return nil }
            var list: [UserStatusBody] = []
            statuses.view = [:]
            for userId in statuses.userIds {
                let body = statusBody(userId, state: state).keeping(statuses.properties)
                statuses.view[userId] = body
                list.append(body)
            }
            watch.statuses = statuses
            let message = UserStatusMessage(isDelta: false, userStatusList: list)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .connection:
            return nil
        }
    }

    func activeRequestIds(_ state: DomainState) -> [String] {
        state.activeByWorkgroup.values.flatMap { $0 }
    }

    func supervisedActiveIds(_ userId: String, _ state: DomainState) -> [String] {
        (directory.supervision[userId] ?? []).flatMap { state.activeByWorkgroup[$0] ?? [] }
    }

    /// Ids in creation order (`a1`, `a2`, … `a10`).
    func sortedIds(_ ids: [String]) -> [String] {
        ids.sorted { (AssistanceIdentifiers.number(of: $0) ?? 0, $0) < (AssistanceIdentifiers.number(of: $1) ?? 0, $1) }
    }

    func participant(_ userId: String, _ action: AssistanceParticipantAction) -> AssistanceParticipant {
        AssistanceParticipant(userId: userId, displayName: directory.user(userId)?.displayName ?? userId, action: action)
    }

    func chatLine(_ line: AssistanceRequest.ChatLine) -> AssistanceChatLine {
        AssistanceChatLine(text: line.text, participantId: line.participantId, timeAdded: ICWSDate.string(from: line.timeAdded))
    }

    func fullDetails(_ request: AssistanceRequest) -> AssistanceRequestDetailsMessage {
        AssistanceRequestDetailsMessage(
            isDelta: false, assistanceId: request.id, interactionId: request.interactionId, state: request.state,
            participantsAdded: request.participants.map { participant($0.userId, $0.action) },
            messagesAdded: request.lines.map(chatLine))
    }

    func view(of request: AssistanceRequest) -> DetailsView {
        DetailsView(
            state: request.state,
            participantActions: Dictionary(request.participants.map { ($0.userId, $0.action) }, uniquingKeysWith: { a, _ in a }),
            participantCount: request.participants.count, lineCount: request.lines.count)
    }

    func supervisorEntry(_ request: AssistanceRequest, for userId: String) -> SupervisorAssistanceRequest {
        SupervisorAssistanceRequest(
            assistanceId: request.id, interactionId: request.interactionId, problemDescription: request.problemDescription,
            workgroup: request.workgroup, initiator: participant(request.initiator, .initiated),
            action: request.action(of: userId), state: request.state)
    }
}
