import Foundation
import ICWSModel

extension ContactCenter {
    /// The interaction types the admin API accepts.
    public static let interactionTypes: Set<String> = ["call", "chat", "email"]

    /// Creates an interaction (admin API): routed to a workgroup member, ACD-assigned to an agent, or non-ACD.
    public func createInteraction(workgroup: String?, agent: String?, type: String, remoteName: String) async throws -> Interaction {
        guard Self.interactionTypes.contains(type) else {
            throw ICWSError.invalidProperty("type", "must be one of call, chat, email")
        }
        if let workgroup, directory.workgroups[workgroup] == nil {
            throw ICWSError.invalidProperty("workgroup", "unknown workgroup '\(workgroup)'")
        }
        if let agent {
            guard directory.user(agent) != nil else { throw ICWSError.invalidProperty("agent", "unknown user '\(agent)'") }
            if let workgroup, !directory.isMember(agent, of: workgroup) {
                throw ICWSError.invalidProperty("agent", "'\(agent)' is not a member of '\(workgroup)'")
            }
        }
        guard workgroup != nil || agent != nil else { throw ICWSError.missingProperty("workgroup") }
        return try await perform { [self] in
            let assignee: String
            if let agent {
                assignee = agent
            } else if let workgroup, let routed = longestIdleMember(of: workgroup) {
                assignee = routed
            } else {
                throw ICWSError.conflict(
                    "error.request.routing.noAgentAvailable", "No member of '\(workgroup ?? "")' is logged in to take the interaction.")
            }
            let now = clock.now()
            let id = String(nextInteractionNumber)
            nextInteractionNumber += 1
            let interaction = Interaction(
                id: id, type: type, remoteName: remoteName, workgroup: workgroup, agent: assignee, state: .connected, createdAt: now)
            lastRouted[assignee] = now
            domain.put(interaction)
            batch.operations.append(.saveInteraction(interaction))
            batch.touchedInteractions.append(id)
            return interaction
        }
    }

    private func longestIdleMember(of workgroup: String) -> String? {
        let members = directory.workgroups[workgroup]?.members ?? []
        return members.filter(isLoggedIn).min { a, b in
            let left = lastRouted[a] ?? .distantPast
            let right = lastRouted[b] ?? .distantPast
            return left != right ? left < right : a < b
        }
    }

    /// Disconnects an interaction and completes its active request. `userId` nil: the admin API.
    public func disconnectInteraction(_ id: String, userId: String?) async throws {
        try await perform { [self] in
            guard var interaction = domain.interactions[id] else {
                throw ICWSError.notFound("The interaction '\(id)' does not exist.")
            }
            if let userId, interaction.agent != userId {
                throw ICWSError.accessDenied("The interaction is not assigned to you.")
            }
            guard interaction.state != .disconnected else { return }
            interaction.state = .disconnected
            domain.put(interaction)
            batch.operations.append(.saveInteraction(interaction))
            batch.touchedInteractions.append(id)
            if let active = domain.activeByInteraction[id], let request = domain.requests[active] {
                complete(request)
            }
        }
    }

    /// An interaction by id (for the admin API).
    public func interaction(_ id: String) -> Interaction? { domain.interactions[id] }

    // MARK: Queues

    func checkQueueAccess(_ queue: QueueId, userId: String) throws {
        switch queue.queueType {
        case 1:
            guard directory.user(queue.queueName) != nil else {
                throw ICWSError.invalidProperty("queueIds", "unknown user queue '\(queue.queueName)'")
            }
            if queue.queueName == userId { return }
            let theirGroups = directory.memberships[queue.queueName] ?? []
            guard !theirGroups.isDisjoint(with: directory.supervision[userId] ?? []) else {
                throw ICWSError.accessDenied("You may not watch the user queue '\(queue.queueName)'.")
            }
        case 2:
            guard directory.workgroups[queue.queueName] != nil else {
                throw ICWSError.invalidProperty("queueIds", "unknown workgroup queue '\(queue.queueName)'")
            }
            guard directory.isMember(userId, of: queue.queueName) || directory.supervises(userId, queue.queueName) else {
                throw ICWSError.accessDenied("You may not watch the workgroup queue '\(queue.queueName)'.")
            }
        default:
            throw ICWSError.invalidProperty("queueType", "must be 1 (user) or 2 (workgroup)")
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

    func queueContents(_ watch: QueueWatch) -> [String: [String: String]] {
        var contents: [String: [String: String]] = [:]
        for interaction in domain.interactions.values where watch.queues.contains(where: { inQueue(interaction, $0) }) {
            contents[interaction.id] = attributes(of: interaction, watch.attributeNames)
        }
        return contents
    }

    /// The requested attributes as strings; unknown names come back empty.
    func attributes(of interaction: Interaction, _ names: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for name in names {
            switch name {
            case "Eic_CallId", "Eic_CallIdKey": result[name] = interaction.id
            case "Eic_State":
                switch interaction.state {
                case .alerting: result[name] = "A"
                case .connected: result[name] = "C"
                case .disconnected: result[name] = "I"
                }
            case "Eic_RemoteName": result[name] = interaction.remoteName
            case "Eic_WorkgroupName": result[name] = interaction.workgroup ?? ""
            case "Eic_ObjectType":
                switch interaction.type {
                case "chat": result[name] = "Chat"
                case "email": result[name] = "Email Object"
                default: result[name] = "Call"
                }
            case "Eic_UserName", "Eic_AssignedUserId": result[name] = interaction.agent
            case "Eic_CallDirection": result[name] = "I"
            case "Eic_CallStateString":
                result[name] = interaction.state == .disconnected ? "Disconnected" : interaction.state == .alerting ? "Alerting" : "Connected"
            default: result[name] = ""
            }
        }
        return result
    }

    func fanOutQueues(_ ids: [String], memo: inout [AnyHashable: [UInt8]]) {
        let interactions = ids.compactMap { domain.interactions[$0] }
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
            for watch in (watchesByUser[userId] ?? [:]).values {
                guard !watch.queues.isEmpty else { continue }
                for subscriptionId in watch.queues.keys.sorted() {
                    guard var queue = watch.queues[subscriptionId] else { continue }
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
                    deliver(OutboundMessage(watch: .queue(subscriptionId), isDelta: true, json: encoded(message, memo: &memo)), to: watch)
                }
            }
        }
    }
}
