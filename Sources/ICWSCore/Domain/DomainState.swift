import Foundation

/// Interactions, assistance requests, who is present for routing, and the id counters, in memory.
///
/// `apply(_:)` is the only way to change it, and it keeps an undo log, so a batch whose commit failed is
/// taken back exactly (counters and routing state included).
public struct DomainState: Sendable {
    public private(set) var interactions: [String: Interaction] = [:]
    public private(set) var requests: [String: AssistanceRequest] = [:]
    /// The active request of each interaction.
    public private(set) var activeByInteraction: [String: String] = [:]
    /// Active request ids per workgroup.
    public private(set) var activeByWorkgroup: [String: Set<String>] = [:]
    /// The nodes each user has a session on (one node when the store is not shared).
    public private(set) var presence: [String: Set<String>] = [:]
    /// When each present agent last got an interaction (or became present): longest idle is routed first.
    public private(set) var lastRouted: [String: Date] = [:]
    /// Statuses users set; a user without one is in the directory's initial status.
    public private(set) var statuses: [String: UserStatus] = [:]
    /// How many connected interactions each agent has (`onPhone`).
    public private(set) var connectedCount: [String: Int] = [:]
    public private(set) var nextInteractionNumber: Int64
    public private(set) var nextAssistanceNumber: Int64

    private enum Undo {
        case interaction(String, Interaction?)
        case request(String, AssistanceRequest?)
        case presence(String, Set<String>?)
        case lastRouted(String, Date?)
        case counters(interaction: Int64, assistance: Int64)
        case status(String, UserStatus?)
    }

    private var undoLog: [Undo] = []
    /// Whether `apply` records undo entries (off while applying changes other nodes committed).
    private var recording = false

    /// The first interaction id handed out on an empty store.
    public static let firstInteractionNumber: Int64 = 1_000_000_001

    public init(_ stored: StoredState) {
        nextInteractionNumber = max(stored.highestInteractionNumber + 1, Self.firstInteractionNumber)
        nextAssistanceNumber = stored.highestAssistanceNumber + 1
        for interaction in stored.interactions { set(interaction: interaction, id: interaction.id) }
        for status in stored.statuses { statuses[status.userId] = status }
        for request in stored.requests { set(request: request, id: request.id) }
        for record in stored.presence {
            presence[record.userId, default: []].insert(record.node)
            if lastRouted[record.userId].map({ $0 > record.since }) ?? true { lastRouted[record.userId] = record.since }
        }
    }

    /// Whether `userId` has a session on some node.
    public func isPresent(_ userId: String) -> Bool { !(presence[userId]?.isEmpty ?? true) }

    // MARK: Applying events

    /// Applies events of this node's batch, remembering how to undo them until `forgetUndo()`.
    public mutating func apply(_ events: [DomainEvent]) {
        recording = true
        for event in events { apply(event) }
        recording = false
    }

    /// Applies events another node committed (or that are committed already): never undone.
    public mutating func applyCommitted(_ events: [DomainEvent]) {
        for event in events { apply(event) }
    }

    private mutating func apply(_ event: DomainEvent) {
        switch event {
        case .interactionSaved(let interaction):
            if interactions[interaction.id] == nil {
                // A new interaction was routed to its agent now.
                setLastRouted(interaction.agent, max(lastRouted[interaction.agent] ?? .distantPast, interaction.createdAt))
            }
            put(interaction)
            if let number = Int64(interaction.id), number >= nextInteractionNumber {
                setCounters(interaction: number + 1, assistance: nextAssistanceNumber)
            }
        case .requestSaved(let header):
            let old = requests[header.id]
            put(AssistanceRequest(header: header, participants: old?.participants ?? [], lines: old?.lines ?? []))
            if let number = AssistanceIdentifiers.number(of: header.id), number >= nextAssistanceNumber {
                setCounters(interaction: nextInteractionNumber, assistance: number + 1)
            }
        case .participantSaved(let id, let position, let participant):
            guard var request = requests[id] else { return }
            if position < request.participants.count {
                request.participants[position] = participant
            } else {
                request.participants.append(participant)
            }
            put(request)
        case .chatLineAdded(let id, let position, let line):
            guard var request = requests[id], position >= request.lines.count else { return }
            request.lines.append(line)
            put(request)
        case .presence(let userId, let node, let present, let at):
            var nodes = presence[userId] ?? []
            if present {
                if nodes.isEmpty && lastRouted[userId] == nil { setLastRouted(userId, at) }
                nodes.insert(node)
            } else {
                nodes.remove(node)
            }
            setPresence(userId, nodes)
        case .nodeGone(let node):
            for (userId, nodes) in presence where nodes.contains(node) {
                setPresence(userId, nodes.subtracting([node]))
            }
        case .statusSaved(let status):
            if recording { undoLog.append(.status(status.userId, statuses[status.userId])) }
            statuses[status.userId] = status
        }
    }

    private mutating func put(_ interaction: Interaction) {
        if recording { undoLog.append(.interaction(interaction.id, interactions[interaction.id])) }
        set(interaction: interaction, id: interaction.id)
    }

    private mutating func put(_ request: AssistanceRequest) {
        if recording { undoLog.append(.request(request.id, requests[request.id])) }
        set(request: request, id: request.id)
    }

    private mutating func setPresence(_ userId: String, _ nodes: Set<String>) {
        if recording { undoLog.append(.presence(userId, presence[userId])) }
        presence[userId] = nodes.isEmpty ? nil : nodes
        if nodes.isEmpty {
            if recording { undoLog.append(.lastRouted(userId, lastRouted[userId])) }
            lastRouted[userId] = nil
        }
    }

    private mutating func setLastRouted(_ userId: String, _ date: Date) {
        if recording { undoLog.append(.lastRouted(userId, lastRouted[userId])) }
        lastRouted[userId] = date
    }

    private mutating func setCounters(interaction: Int64, assistance: Int64) {
        if recording { undoLog.append(.counters(interaction: nextInteractionNumber, assistance: nextAssistanceNumber)) }
        nextInteractionNumber = interaction
        nextAssistanceNumber = assistance
    }

    // MARK: Undo

    /// The batch committed: its changes stay.
    public mutating func forgetUndo() { undoLog.removeAll(keepingCapacity: true) }

    /// The batch did not commit: takes back every change since the last `forgetUndo()`.
    public mutating func undo() {
        for entry in undoLog.reversed() {
            switch entry {
            case .interaction(let id, let old): set(interaction: old, id: id)
            case .request(let id, let old): set(request: old, id: id)
            case .presence(let userId, let old): presence[userId] = old
            case .lastRouted(let userId, let old): lastRouted[userId] = old
            case .status(let userId, let old): statuses[userId] = old
            case .counters(let interaction, let assistance):
                nextInteractionNumber = interaction
                nextAssistanceNumber = assistance
            }
        }
        undoLog.removeAll(keepingCapacity: true)
    }

    // MARK: Memory bound

    /// Drops a completed request from memory (it stays in the store). Not undoable: call after a commit.
    mutating func forget(requestId id: String) {
        guard requests[id]?.isActive == false else { return }
        requests[id] = nil
    }

    /// Drops a disconnected interaction from memory (it stays in the store). Not undoable: call after a commit.
    mutating func forget(interactionId id: String) {
        guard interactions[id]?.state == .disconnected else { return }
        interactions[id] = nil
    }

    private mutating func set(interaction: Interaction?, id: String) {
        if let old = interactions[id], old.state == .connected {
            connectedCount[old.agent, default: 1] -= 1
            if connectedCount[old.agent] == 0 { connectedCount[old.agent] = nil }
        }
        interactions[id] = interaction
        if let interaction, interaction.state == .connected { connectedCount[interaction.agent, default: 0] += 1 }
    }

    private mutating func set(request: AssistanceRequest?, id: String) {
        if let old = requests[id], old.isActive {
            activeByWorkgroup[old.workgroup]?.remove(id)
            if activeByInteraction[old.interactionId] == id { activeByInteraction[old.interactionId] = nil }
        }
        requests[id] = request
        if let request, request.isActive {
            activeByWorkgroup[request.workgroup, default: []].insert(id)
            activeByInteraction[request.interactionId] = id
        }
    }
}
