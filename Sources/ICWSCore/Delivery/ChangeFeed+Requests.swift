import Foundation
import ICWSModel

extension ChangeFeed {
    // MARK: Deltas for requests

    private struct PendingLists {
        var agentAdded: [String] = []
        var agentRemoved: [String] = []
        var supervisorAdded: [SupervisorAssistanceRequest] = []
        var supervisorChanged: [SupervisorAssistanceRequest] = []
        var supervisorRemoved: [String] = []
        var details: [OutboundMessage] = []
    }

    func publishRequests(_ ids: [String], state: DomainState, memo: inout [AnyHashable: SharedJSON]) {
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
        // One request changed (the usual commit): each watch is visited once, so its messages go out at once,
        // encoded once per kind of change (and per user, for the supervisor's entry) instead of gathered.
        let direct = ids.count == 1
        var agentAddedBytes: SharedJSON?
        var agentRemovedBytes: SharedJSON?
        for id in ids {
            guard let request = state.requests[id] else { continue }
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
                var supervisorBytes: (added: SharedJSON?, changed: SharedJSON?, removed: SharedJSON?)
                visitStamp &+= 1
                let stamp = visitStamp
                sessions.values.withUnsafeBufferPointer { watches in
                    for position in watches.indices {
                        // The watches and mailboxes of the sessions a few steps ahead, on their way meanwhile.
                        Prefetch.element(position + Prefetch.distance, of: watches, bytes: SessionWatches.prefetchBytes)
                        if position + Prefetch.distance / 2 < watches.count {
                            Prefetch.address(watches[position + Prefetch.distance / 2].mailboxAddress, bytes: Mailbox.prefetchBytes)
                        }
                        let watch = watches[position]
                        // Worked out first, so the watch's entry in `pending` is looked up once, and only if it changed.
                        var agentChange: Bool?
                        if watch.agentList != nil {
                            if listed {
                                if watch.agentList?.insert(id).inserted == true { agentChange = true }
                            } else if watch.agentList?.remove(id) != nil {
                                agentChange = false
                            }
                        }
                        // Most watches follow no request's details.
                        let agentDetails = watch.details.isEmpty ? nil : detailsDelta(request, side: .agent, watch: watch, memo: &memo)
                        let supervisorDetails = watch.details.isEmpty ? nil : detailsDelta(request, side: .supervisor, watch: watch, memo: &memo)
                        var supervisorChange: SupervisorListChange?
                        if supervises, let view = watch.supervisorList {
                            if view.stamp == stamp {
                                // Another watch holding this view was visited: the view is already up to date.
                                supervisorChange = view.change
                            } else {
                                // One lookup of the id in the view, updated in place.
                                if let entry, let entryView {
                                    let had = view.entries.updateValue(entryView, forKey: id)
                                    if had == nil {
                                        supervisorChange = .added(entry)
                                    } else if had != entryView {
                                        supervisorChange = .changed(entry)
                                    }
                                } else if view.entries.removeValue(forKey: id) != nil {
                                    supervisorChange = .removed
                                }
                                view.stamp = stamp
                                view.change = supervisorChange
                            }
                        }
                        guard agentChange != nil || agentDetails != nil || supervisorDetails != nil || supervisorChange != nil else { continue }
                        if direct {
                            if let added = agentChange {
                                let bytes = added
                                    ? cached(&agentAddedBytes, memo: &memo) { AssistanceRequestListMessage(isDelta: true, requestsAdded: [id], requestsRemoved: nil) }
                                    : cached(&agentRemovedBytes, memo: &memo) { AssistanceRequestListMessage(isDelta: true, requestsAdded: nil, requestsRemoved: [id]) }
                                deliver(OutboundMessage(watch: .agentAssistance, isDelta: true, json: bytes), to: watch, state: state)
                            }
                            if let agentDetails { deliver(agentDetails, to: watch, state: state) }
                            if let supervisorDetails { deliver(supervisorDetails, to: watch, state: state) }
                            let bytes: SharedJSON?
                            switch supervisorChange {
                            case .added(let entry)?:
                                bytes = cached(&supervisorBytes.added, memo: &memo) { SupervisorAssistanceRequestMessage(isDelta: true, requestsAdded: [entry]) }
                            case .changed(let entry)?:
                                bytes = cached(&supervisorBytes.changed, memo: &memo) { SupervisorAssistanceRequestMessage(isDelta: true, requestsChanged: [entry]) }
                            case .removed?:
                                bytes = cached(&supervisorBytes.removed, memo: &memo) { SupervisorAssistanceRequestMessage(isDelta: true, requestsRemoved: [id]) }
                            case nil:
                                bytes = nil
                            }
                            if let bytes { deliver(OutboundMessage(watch: .supervisorAssistance, isDelta: true, json: bytes), to: watch, state: state) }
                            continue
                        }
                        let index = slot(watch)
                        switch agentChange {
                        case true?: pending[index].lists.agentAdded.append(id)
                        case false?: pending[index].lists.agentRemoved.append(id)
                        case nil: break
                        }
                        if let agentDetails { pending[index].lists.details.append(agentDetails) }
                        if let supervisorDetails { pending[index].lists.details.append(supervisorDetails) }
                        switch supervisorChange {
                        case .added(let entry)?: pending[index].lists.supervisorAdded.append(entry)
                        case .changed(let entry)?: pending[index].lists.supervisorChanged.append(entry)
                        case .removed?: pending[index].lists.supervisorRemoved.append(id)
                        case nil: break
                        }
                    }
                }
            }
        }
        // Sessions of the same user usually get the same delta: compare with the last one built (cheap when
        // the strings are shared) before hashing it into the memo.
        var lastList: (AssistanceRequestListMessage, SharedJSON)?
        var lastSupervisor: (SupervisorAssistanceRequestMessage, SharedJSON)?
        for (watch, lists) in pending {
            if !lists.agentAdded.isEmpty || !lists.agentRemoved.isEmpty {
                let message = AssistanceRequestListMessage(
                    isDelta: true, requestsAdded: lists.agentAdded.isEmpty ? nil : lists.agentAdded,
                    requestsRemoved: lists.agentRemoved.isEmpty ? nil : lists.agentRemoved)
                let bytes = if let lastList, lastList.0 == message { lastList.1 } else { encoded(message, memo: &memo) }
                lastList = (message, bytes)
                deliver(OutboundMessage(watch: .agentAssistance, isDelta: true, json: bytes), to: watch, state: state)
            }
            for message in lists.details { deliver(message, to: watch, state: state) }
            if !lists.supervisorAdded.isEmpty || !lists.supervisorChanged.isEmpty || !lists.supervisorRemoved.isEmpty {
                let message = SupervisorAssistanceRequestMessage(
                    isDelta: true,
                    requestsAdded: lists.supervisorAdded.isEmpty ? nil : lists.supervisorAdded,
                    requestsChanged: lists.supervisorChanged.isEmpty ? nil : lists.supervisorChanged,
                    requestsRemoved: lists.supervisorRemoved.isEmpty ? nil : lists.supervisorRemoved)
                let bytes = if let lastSupervisor, lastSupervisor.0 == message { lastSupervisor.1 } else { encoded(message, memo: &memo) }
                lastSupervisor = (message, bytes)
                deliver(OutboundMessage(watch: .supervisorAssistance, isDelta: true, json: bytes), to: watch, state: state)
            }
        }
    }

    /// `slot`'s bytes, encoding `message()` (through the memo) the first time.
    private func cached<Message: Encodable & Hashable>(
        _ slot: inout SharedJSON?, memo: inout [AnyHashable: SharedJSON], _ message: () -> Message
    ) -> SharedJSON {
        if let slot { return slot }
        // Users who see the same entry share its encoding through the memo.
        let bytes = encoded(message(), memo: &memo)
        slot = bytes
        return bytes
    }

    /// The delta of one details watch, or nil when it is not watched or nothing changed.
    private func detailsDelta(
        _ request: AssistanceRequest, side: AssistanceSide, watch: SessionWatches, memo: inout [AnyHashable: SharedJSON]
    ) -> OutboundMessage? {
        // A watch still awaiting its snapshot gets that snapshot, which will include this change.
        guard case .showing(let known) = watch.details[side]?[request.id] else { return nil }
        let added = request.participants.dropFirst(known.participantCount)
        let changed = request.participants.prefix(known.participantCount).filter { known.participantActions[$0.userId] != $0.action }
        let lines = request.lines.dropFirst(known.lineCount)
        guard known.state != request.state || !added.isEmpty || !changed.isEmpty || !lines.isEmpty else { return nil }
        watch.details[side]?[request.id] = .showing(view(of: request))
        let message = AssistanceRequestDetailsMessage(
            isDelta: true, assistanceId: request.id,
            state: known.state != request.state ? request.state : nil,
            participantsAdded: added.isEmpty ? nil : added.map { participant($0.userId, $0.action) },
            participantsChanged: changed.isEmpty ? nil : changed.map { participant($0.userId, $0.action) },
            messagesAdded: lines.isEmpty ? nil : lines.map(chatLine))
        return OutboundMessage(watch: .details(side, request.id), isDelta: true, json: encoded(message, memo: &memo))
    }
}
