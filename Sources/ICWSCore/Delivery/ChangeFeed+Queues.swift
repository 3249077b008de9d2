import Foundation
import ICWSModel

extension ChangeFeed {
    // MARK: Queues

    func checkQueueAccess(_ queue: QueueId, userId: String) throws(DomainError) {
        switch queue.queueType {
        case 1:
            guard directory.user(queue.queueName) != nil else {
                throw DomainError.invalidProperty("queueIds", "unknown user queue '\(queue.queueName)'")
            }
            if queue.queueName == userId { return }
            let theirGroups = directory.memberships[queue.queueName] ?? []
            guard !theirGroups.isDisjoint(with: directory.supervision[userId] ?? []) else {
                throw DomainError.accessDenied("You may not watch the user queue '\(queue.queueName)'.")
            }
        case 2:
            guard directory.workgroups[queue.queueName] != nil else {
                throw DomainError.invalidProperty("queueIds", "unknown workgroup queue '\(queue.queueName)'")
            }
            guard directory.isMember(userId, of: queue.queueName) || directory.supervises(userId, queue.queueName) else {
                throw DomainError.accessDenied("You may not watch the workgroup queue '\(queue.queueName)'.")
            }
        default:
            throw DomainError.invalidProperty("queueType", "must be 1 (user) or 2 (workgroup)")
        }
    }

    func inQueue(_ interaction: Interaction, _ queue: QueueId) -> Bool {
        guard interaction.state != .disconnected else { return false }
        switch queue.queueType {
        case 1: return interaction.agent == queue.queueName
        case 2: return interaction.workgroup == queue.queueName
        default: return false
        }
    }

    func queueContents(_ watch: QueueWatch, state: DomainState) -> [String: [String: String]] {
        var contents: [String: [String: String]] = [:]
        for interaction in state.interactions.values where watch.queues.contains(where: { inQueue(interaction, $0) }) {
            contents[interaction.id] = attributes(of: interaction, watch.attributeNames)
        }
        return contents
    }

    /// The requested attributes as strings; unknown names come back empty.
    func attributes(of interaction: Interaction, _ names: [String]) -> [String: String] {
        InteractionAttributes.values(of: interaction, names, directory: directory)
    }

    func publishQueues(_ ids: [String], state: DomainState, memo: inout [AnyHashable: SharedJSON]) {
        guard !queueWatchersByUser.isEmpty else { return }
        let interactions = ids.compactMap { state.interactions[$0] }
        var users = Set<String>()
        for interaction in interactions {
            users.insert(interaction.agent)
            // Supervisors may watch their members' user queues; members and supervisors watch workgroup queues.
            for group in directory.memberships[interaction.agent] ?? [] {
                users.formUnion(directory.workgroups[group]?.supervisors ?? [])
            }
            if let group = interaction.workgroup, let workgroup = directory.workgroups[group] {
                users.formUnion(workgroup.members)
                users.formUnion(workgroup.supervisors)
            }
        }
        for userId in users.sorted() {
            for watch in (queueWatchersByUser[userId] ?? [:]).values {
                for subscriptionId in watch.queues.keys.sorted() {
                    // Taken out while it changes, so its view is updated in place (not copied on write).
                    guard var queue = watch.queues.removeValue(forKey: subscriptionId) else { continue }
                    var added: [QueueInteraction] = []
                    var changed: [QueueInteraction] = []
                    var removed: [String] = []
                    for interaction in interactions {
                        let member = queue.queues.contains { inQueue(interaction, $0) }
                        let known = queue.view[interaction.id]
                        if member {
                            let now = attributes(of: interaction, queue.attributeNames)
                            if known == nil {
                                added.append(QueueInteraction(interactionId: interaction.id, attributes: now))
                            } else if known != now {
                                changed.append(QueueInteraction(interactionId: interaction.id, attributes: now))
                            }
                            queue.view[interaction.id] = now
                        } else if known != nil {
                            queue.view[interaction.id] = nil
                            removed.append(interaction.id)
                        }
                    }
                    watch.queues[subscriptionId] = queue
                    guard !added.isEmpty || !changed.isEmpty || !removed.isEmpty else { continue }
                    let message = QueueContentsMessage(
                        isDelta: true, subscriptionId: subscriptionId, interactionsAdded: added.isEmpty ? nil : added,
                        interactionsChanged: changed.isEmpty ? nil : changed, interactionsRemoved: removed.isEmpty ? nil : removed)
                    deliver(OutboundMessage(watch: .queue(subscriptionId), isDelta: true, json: encoded(message, memo: &memo)), to: watch, state: state)
                }
            }
        }
    }
}
