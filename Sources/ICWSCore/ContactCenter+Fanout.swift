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
        var pendingBySession: [String: PendingLists] = [:]
        var order: [String] = []
        func touch(_ sessionId: String, _ change: (inout PendingLists) -> Void) {
            if pendingBySession[sessionId] == nil { order.append(sessionId) }
            change(&pendingBySession[sessionId, default: PendingLists()])
        }
        for id in ids {
            guard let request = domain.requests[id] else { continue }
            var people = [request.initiator] + request.participants.map(\.userId)
            let supervisors = directory.workgroups[request.workgroup]?.supervisors ?? []
            people += supervisors
            var seenUsers = Set<String>()
            for userId in people where seenUsers.insert(userId).inserted {
                for sessionId in sessionsByUser[userId] ?? [] {
                    guard let watch = watches[sessionId] else { continue }
                    if let list = watch.agentList {
                        let should = request.listsFor(userId)
                        if should && !list.contains(id) {
                            watch.agentList?.insert(id)
                            touch(sessionId) { $0.agentAdded.append(id) }
                        } else if !should && list.contains(id) {
                            watch.agentList?.remove(id)
                            touch(sessionId) { $0.agentRemoved.append(id) }
                        }
                    }
                    if let message = detailsDelta(request, key: .agentAssistanceDetails(id), watch: watch, memo: &memo) {
                        touch(sessionId) { $0.details.append(message) }
                    }
                    if let message = detailsDelta(request, key: .supervisorAssistanceDetails(id), watch: watch, memo: &memo) {
                        touch(sessionId) { $0.details.append(message) }
                    }
                    if let list = watch.supervisorList, directory.supervises(userId, request.workgroup) {
                        let known = list[id]
                        if request.isActive {
                            let entry = supervisorEntry(request, for: userId)
                            let now = SupervisorEntryView(action: entry.action, state: entry.state)
                            if known == nil {
                                touch(sessionId) { $0.supervisorAdded.append(entry) }
                            } else if known != now {
                                touch(sessionId) { $0.supervisorChanged.append(entry) }
                            }
                            watch.supervisorList?[id] = now
                        } else if known != nil {
                            watch.supervisorList?[id] = nil
                            touch(sessionId) { $0.supervisorRemoved.append(id) }
                        }
                    }
                }
            }
        }
        for sessionId in order {
            guard let watch = watches[sessionId], let pending = pendingBySession[sessionId] else { continue }
            if !pending.agentAdded.isEmpty || !pending.agentRemoved.isEmpty {
                let message = AssistanceRequestListMessage(
                    isDelta: true, requestsAdded: pending.agentAdded.isEmpty ? nil : pending.agentAdded,
                    requestsRemoved: pending.agentRemoved.isEmpty ? nil : pending.agentRemoved)
                deliver(OutboundMessage(watch: .agentAssistance, isDelta: true, json: encoded(message, memo: &memo)), to: watch)
            }
            for message in pending.details { deliver(message, to: watch) }
            if !pending.supervisorAdded.isEmpty || !pending.supervisorChanged.isEmpty || !pending.supervisorRemoved.isEmpty {
                let message = SupervisorAssistanceRequestMessage(
                    isDelta: true,
                    requestsAdded: pending.supervisorAdded.isEmpty ? nil : pending.supervisorAdded,
                    requestsChanged: pending.supervisorChanged.isEmpty ? nil : pending.supervisorChanged,
                    requestsRemoved: pending.supervisorRemoved.isEmpty ? nil : pending.supervisorRemoved)
                deliver(OutboundMessage(watch: .supervisorAssistance, isDelta: true, json: encoded(message, memo: &memo)), to: watch)
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
