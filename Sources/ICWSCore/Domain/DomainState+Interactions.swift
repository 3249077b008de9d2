import Foundation

/// The interaction and presence commands.
extension DomainState {
    /// The interaction types the admin API accepts.
    public static let interactionTypes: Set<String> = ["call", "chat", "email"]

    /// Creates an interaction: routed to the longest-idle member of `workgroup` present on any node and in an
    /// ACD status, ACD-assigned to `agent`, or (no workgroup) non-ACD. The answer is the interaction.
    /// - Parameter remoteId: the caller's number; nil leaves `Eic_RemoteId` to be made up from the id when read.
    public func createInteraction(
        workgroup: String?, agent: String?, type: String, remoteName: String, remoteId: String? = nil, at now: Date,
        directory: Directory
    ) throws(DomainError) -> Change<Interaction> {
        guard Self.interactionTypes.contains(type) else {
            throw .invalidProperty("type", "must be one of call, chat, email")
        }
        if let workgroup, directory.workgroups[workgroup] == nil {
            throw .invalidProperty("workgroup", "unknown workgroup '\(workgroup)'")
        }
        if let agent {
            guard directory.user(agent) != nil else { throw .invalidProperty("agent", "unknown user '\(agent)'") }
            if let workgroup, !directory.isMember(agent, of: workgroup) {
                throw .invalidProperty("agent", "'\(agent)' is not a member of '\(workgroup)'")
            }
        }
        guard workgroup != nil || agent != nil else { throw .missingProperty("workgroup") }
        let assignee: String
        if let agent {
            assignee = agent
        } else if let workgroup, let routed = longestIdleMember(of: workgroup, directory: directory) {
            assignee = routed
        } else {
            throw .noAgentAvailable("No member of '\(workgroup ?? "")' is logged in and in an available (ACD) status to take the interaction.")
        }
        let id = String(nextInteractionNumber)
        let interaction = Interaction(
            id: id, type: type, remoteName: remoteName, workgroup: workgroup, agent: assignee,
            state: .connected, createdAt: now, remoteId: remoteId ?? "")
        return Change([.interactionSaved(interaction)], result: interaction)
    }

    private func longestIdleMember(of workgroup: String, directory: Directory) -> String? {
        let members = directory.workgroups[workgroup]?.members ?? []
        return members.filter { isPresent($0) && isAcdAvailable($0, directory: directory) }.min { a, b in
            let left = lastRouted[a] ?? .distantPast
            let right = lastRouted[b] ?? .distantPast
            return left != right ? left < right : a < b
        }
    }

    /// Disconnects an interaction and completes its active request. `userId` nil: the admin API.
    public func disconnectInteraction(_ id: String, by userId: String?) throws(DomainError) -> Change<Void> {
        guard var interaction = interactions[id] else {
            throw .notFound("The interaction '\(id)' does not exist.")
        }
        if let userId, interaction.agent != userId {
            throw .accessDenied("The interaction is not assigned to you.")
        }
        guard interaction.state != .disconnected else { return .none }
        interaction.state = .disconnected
        var events: [DomainEvent] = [.interactionSaved(interaction)]
        if let active = activeByInteraction[id], let request = requests[active] {
            events.append(Self.completion(of: request))
        }
        return Change(events)
    }

    /// A user's first session on `node` began: the user now counts for routing.
    public func userArrived(_ userId: String, on node: String, at now: Date) -> Change<Void> {
        presence[userId]?.contains(node) == true ? .none : Change([.presence(userId: userId, node: node, present: true, at: now)])
    }

    /// A user's last session on `node` ended.
    public func userLeft(_ userId: String, from node: String, at now: Date) -> Change<Void> {
        presence[userId]?.contains(node) == true ? Change([.presence(userId: userId, node: node, present: false, at: now)]) : .none
    }
}
