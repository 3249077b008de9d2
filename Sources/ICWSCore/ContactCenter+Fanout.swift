import Foundation
import ICWSModel

extension ContactCenter {
    /// After a commit: fresh snapshots for new watches, then one delta per watch for what the batch touched.
    func fanOut(_ batch: Batch) {
        var memo: [AnyHashable: [UInt8]] = [:]
        for (sessionId, key) in batch.snapshots {
            guard let watch = watches[sessionId], let message = snapshot(key, for: watch, memo: &memo) else { continue }
            deliver(message, to: watch)
        }
        if !batch.touchedRequests.isEmpty { fanOutRequests(unique(batch.touchedRequests), memo: &memo) }
        if !batch.touchedInteractions.isEmpty { fanOutQueues(unique(batch.touchedInteractions), memo: &memo) }
    }

    private func unique(_ ids: [String]) -> [String] {
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// Queues a message; when the mailbox is full, that watch's queued deltas collapse into a snapshot.
    func deliver(_ message: OutboundMessage, to watch: SessionWatches) {
        let mailbox = watch.session.mailbox
        switch mailbox.push(message) {
        case .queued:
            queuedCounter.increment()
        case .closed:
            break
        case .full:
            coalescedCounter.increment()
            var memo: [AnyHashable: [UInt8]] = [:]
            if let fresh = snapshot(message.watch, for: watch, memo: &memo), mailbox.collapse(message.watch, into: fresh) {
                return
            }
            // Other watches fill the queue too: replace everything with one snapshot per watch.
            let snapshots = watch.allKeys.compactMap { snapshot($0, for: watch, memo: &memo) }
            mailbox.replaceAll(with: snapshots)
        }
    }

    func encoded<T: Encodable & Hashable>(_ value: T, memo: inout [AnyHashable: [UInt8]]) -> [UInt8] {
        if let bytes = memo[AnyHashable(value)] { return bytes }
        let bytes = encode(value)
        memo[AnyHashable(value)] = bytes
        return bytes
    }

    // MARK: Snapshots

    /// A full (`isDelta:false`) message for one watch; resets the watch's view to it.
    func snapshot(_ key: WatchKey, for watch: SessionWatches, memo: inout [AnyHashable: [UInt8]]) -> OutboundMessage? {
        switch key {
        case .agentAssistance:
            guard watch.agentList != nil else { return nil }
            let ids = sortedIds(activeRequestIds().filter { domain.requests[$0]?.listsFor(watch.userId) == true })
            watch.agentList = Set(ids)
            let message = AssistanceRequestListMessage(isDelta: false, requestsAdded: ids)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .agentAssistanceDetails(let id):
            guard watch.agentDetails.keys.contains(id), let request = domain.requests[id] else { return nil }
            watch.agentDetails[id] = view(of: request)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(fullDetails(request), memo: &memo))
        case .supervisorAssistance:
            guard watch.supervisorList != nil else { return nil }
            var view: [String: SupervisorEntryView] = [:]
            var added: [SupervisorAssistanceRequest] = []
            for id in sortedIds(supervisedActiveIds(watch.userId)) {
                guard let request = domain.requests[id] else { continue }
                let entry = supervisorEntry(request, for: watch.userId)
                view[id] = SupervisorEntryView(action: entry.action, state: entry.state)
                added.append(entry)
            }
            watch.supervisorList = view
            let message = SupervisorAssistanceRequestMessage(isDelta: false, requestsAdded: added)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .supervisorAssistanceDetails(let id):
            guard watch.supervisorDetails.keys.contains(id), let request = domain.requests[id] else { return nil }
            watch.supervisorDetails[id] = view(of: request)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(fullDetails(request), memo: &memo))
        case .queue(let subscriptionId):
            guard var queue = watch.queues[subscriptionId] else { return nil }
            let contents = queueContents(queue)
            queue.view = contents
            watch.queues[subscriptionId] = queue
            let added = contents.keys.sorted().map { QueueInteraction(interactionId: $0, attributes: contents[$0] ?? [:]) }
            let message = QueueContentsMessage(isDelta: false, subscriptionId: subscriptionId, interactionsAdded: added)
            return OutboundMessage(watch: key, isDelta: false, json: encoded(message, memo: &memo))
        case .connection:
            return nil
        }
    }

    func activeRequestIds() -> [String] {
        domain.activeByWorkgroup.values.flatMap { $0 }
    }

    func supervisedActiveIds(_ userId: String) -> [String] {
        (directory.supervision[userId] ?? []).flatMap { domain.activeByWorkgroup[$0] ?? [] }
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

    // MARK: Deltas for requests

    private struct PendingLists {
        var agentAdded: [String] = []
        var agentRemoved: [String] = []
        var supervisorAdded: [SupervisorAssistanceRequest] = []
        var supervisorChanged: [SupervisorAssistanceRequest] = []
        var supervisorRemoved: [String] = []
        var details: [OutboundMessage] = []
    }

    private func fanOutRequests(_ ids: [String], memo: inout [AnyHashable: [UInt8]]) {
        // One entry per session touched, in the order first touched.
        var slots: [ObjectIdentifier: Int] = [:]
        var pending: [(watch: SessionWatches, lists: PendingLists)] = []
        func slot(_ watch: SessionWatches) -> Int {
            let key = ObjectIdentifier(watch)
            if let index = slots[key] { return index }
            slots[key] = pending.count
            pending.append((watch, PendingLists()))
            return pending.count - 1
        }
        for id in ids {
            guard let request = domain.requests[id] else { continue }
            let supervisors = directory.workgroups[request.workgroup]?.supervisors ?? []
            var seenUsers = Set<String>()
            for userId in [request.initiator] + request.participants.map(\.userId) + supervisors where seenUsers.insert(userId).inserted {
                // Most sessions (agents between requests) watch no request: skip the user's work then.
                guard let sessions = watchesByUser[userId], sessions.values.contains(where: \.isWatchingRequests) else { continue }
                // What this user should see is the same for all of the user's sessions: work it out once.
                let listed = request.listsFor(userId)
                let supervises = directory.supervises(userId, request.workgroup)
                let entry = supervises && request.isActive ? supervisorEntry(request, for: userId) : nil
                let entryView = entry.map { SupervisorEntryView(action: $0.action, state: $0.state) }
                for watch in sessions.values {
                    if let list = watch.agentList {
                        if listed && !list.contains(id) {
                            watch.agentList?.insert(id)
                            pending[slot(watch)].lists.agentAdded.append(id)
                        } else if !listed && list.contains(id) {
                            watch.agentList?.remove(id)
                            pending[slot(watch)].lists.agentRemoved.append(id)
                        }
                    }
                    if !watch.agentDetails.isEmpty,
                        let message = detailsDelta(request, key: .agentAssistanceDetails(id), watch: watch, memo: &memo)
                    {
                        pending[slot(watch)].lists.details.append(message)
                    }
                    if !watch.supervisorDetails.isEmpty,
                        let message = detailsDelta(request, key: .supervisorAssistanceDetails(id), watch: watch, memo: &memo)
                    {
                        pending[slot(watch)].lists.details.append(message)
                    }
                    if supervises, let known = watch.supervisorList {
                        let had = known[id]
                        if let entry, let entryView {
                            if had == nil {
                                pending[slot(watch)].lists.supervisorAdded.append(entry)
                            } else if had != entryView {
                                pending[slot(watch)].lists.supervisorChanged.append(entry)
                            }
                            if had != entryView { watch.supervisorList?[id] = entryView }
                        } else if had != nil {
                            watch.supervisorList?[id] = nil
                            pending[slot(watch)].lists.supervisorRemoved.append(id)
                        }
                    }
                }
            }
        }
        // Sessions of the same user usually get the same delta: compare with the last one built (cheap when
        // the strings are shared) before hashing it into the memo.
        var lastList: (AssistanceRequestListMessage, [UInt8])?
        var lastSupervisor: (SupervisorAssistanceRequestMessage, [UInt8])?
        for (watch, lists) in pending {
            if !lists.agentAdded.isEmpty || !lists.agentRemoved.isEmpty {
                let message = AssistanceRequestListMessage(
                    isDelta: true, requestsAdded: lists.agentAdded.isEmpty ? nil : lists.agentAdded,
                    requestsRemoved: lists.agentRemoved.isEmpty ? nil : lists.agentRemoved)
                let bytes = lastList?.0 == message ? lastList?.1 ?? [] : encoded(message, memo: &memo)
                lastList = (message, bytes)
                deliver(OutboundMessage(watch: .agentAssistance, isDelta: true, json: bytes), to: watch)
            }
            for message in lists.details { deliver(message, to: watch) }
            if !lists.supervisorAdded.isEmpty || !lists.supervisorChanged.isEmpty || !lists.supervisorRemoved.isEmpty {
                let message = SupervisorAssistanceRequestMessage(
                    isDelta: true,
                    requestsAdded: lists.supervisorAdded.isEmpty ? nil : lists.supervisorAdded,
                    requestsChanged: lists.supervisorChanged.isEmpty ? nil : lists.supervisorChanged,
                    requestsRemoved: lists.supervisorRemoved.isEmpty ? nil : lists.supervisorRemoved)
                let bytes = lastSupervisor?.0 == message ? lastSupervisor?.1 ?? [] : encoded(message, memo: &memo)
                lastSupervisor = (message, bytes)
                deliver(OutboundMessage(watch: .supervisorAssistance, isDelta: true, json: bytes), to: watch)
            }
        }
    }

    /// The delta of one details watch, or nil when it is not watched or nothing changed.
    private func detailsDelta(
        _ request: AssistanceRequest, key: WatchKey, watch: SessionWatches, memo: inout [AnyHashable: [UInt8]]
    ) -> OutboundMessage? {
        let stored: DetailsView??
        switch key {
        case .agentAssistanceDetails(let id): stored = watch.agentDetails[id]
        case .supervisorAssistanceDetails(let id): stored = watch.supervisorDetails[id]
        default: return nil
        }
        guard let stored, let known = stored else { return nil }
        let now = view(of: request)
        let added = request.participants.dropFirst(known.participantCount)
        let changed = request.participants.prefix(known.participantCount).filter { known.participantActions[$0.userId] != $0.action }
        let lines = request.lines.dropFirst(known.lineCount)
        guard known.state != request.state || !added.isEmpty || !changed.isEmpty || !lines.isEmpty else { return nil }
        switch key {
        case .agentAssistanceDetails(let id): watch.agentDetails[id] = now
        case .supervisorAssistanceDetails(let id): watch.supervisorDetails[id] = now
        default: break
        }
        let message = AssistanceRequestDetailsMessage(
            isDelta: true, assistanceId: request.id,
            state: known.state != request.state ? request.state : nil,
            participantsAdded: added.isEmpty ? nil : added.map { participant($0.userId, $0.action) },
            participantsChanged: changed.isEmpty ? nil : changed.map { participant($0.userId, $0.action) },
            messagesAdded: lines.isEmpty ? nil : lines.map(chatLine))
        return OutboundMessage(watch: key, isDelta: true, json: encoded(message, memo: &memo))
    }
}
