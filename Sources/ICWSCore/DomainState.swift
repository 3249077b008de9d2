import Foundation

/// Interactions and assistance requests in memory, with an undo log so a batch whose commit
/// failed can be taken back exactly.
struct DomainState {
    private(set) var interactions: [String: Interaction] = [:]
    private(set) var requests: [String: AssistanceRequest] = [:]
    /// The active request of each interaction.
    private(set) var activeByInteraction: [String: String] = [:]
    /// Active request ids per workgroup.
    private(set) var activeByWorkgroup: [String: Set<String>] = [:]

    private enum Undo {
        case interaction(String, Interaction?)
        case request(String, AssistanceRequest?)
    }

    private var undoLog: [Undo] = []

    init(_ stored: StoredState) {
        for interaction in stored.interactions { apply(interaction: interaction, id: interaction.id) }
        for request in stored.requests { apply(request: request, id: request.id) }
    }

    /// Sets an interaction, remembering the old value until `forgetUndo()`.
    mutating func put(_ interaction: Interaction) {
        undoLog.append(.interaction(interaction.id, interactions[interaction.id]))
        apply(interaction: interaction, id: interaction.id)
    }

    /// Sets a request, remembering the old value until `forgetUndo()`.
    mutating func put(_ request: AssistanceRequest) {
        undoLog.append(.request(request.id, requests[request.id]))
        apply(request: request, id: request.id)
    }

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

    /// The batch committed: its changes stay.
    mutating func forgetUndo() { undoLog.removeAll(keepingCapacity: true) }

    /// The batch did not commit: takes back every change since the last `forgetUndo()`.
    mutating func undo() {
        for entry in undoLog.reversed() {
            switch entry {
            case .interaction(let id, let old): apply(interaction: old, id: id)
            case .request(let id, let old): apply(request: old, id: id)
            }
        }
        undoLog.removeAll(keepingCapacity: true)
    }

    private mutating func apply(interaction: Interaction?, id: String) {
        interactions[id] = interaction
    }

    private mutating func apply(request: AssistanceRequest?, id: String) {
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
