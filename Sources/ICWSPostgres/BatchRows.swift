import Foundation
import ICWSCore
import ICWSModel

/// A batch of events as the rows each table must receive: one array per column, ready for `unnest`.
///
/// A key that appears twice keeps its last value (one `INSERT … ON CONFLICT` statement may not touch a row
/// twice), so the result is the same as applying the events one by one.
struct BatchRows {
    struct InteractionRow { var id, type, remoteName, workgroup, agent, state: String; var hasWorkgroup: Bool; var createdAt: Int64; var extras: String }
    struct StatusRow { var userId, status: String }
    struct RequestRow { var id: String; var number: Int64; var interactionId, workgroup, initiator: String; var state: Int16; var createdAt: Int64 }
    struct ParticipantRow { var assistanceId: String; var position: Int32; var userId: String; var action: Int16 }
    struct LineRow { var assistanceId: String; var position: Int32; var participantId, text: String; var timeAdded: Int64 }
    struct PresenceKey: Hashable { var userId, node: String }
    /// `since` in microseconds for a present user, nil for one that left.
    struct PresenceChange { var since: Int64? }

    private(set) var interactions = OrderedRows<String, InteractionRow>()
    private(set) var requests = OrderedRows<String, RequestRow>()
    private(set) var participants = OrderedRows<[String], ParticipantRow>()
    private(set) var lines = OrderedRows<[String], LineRow>()
    private(set) var statuses = OrderedRows<String, StatusRow>()
    /// Users that became present or absent, applied after the nodes below were cleared.
    private(set) var presence = OrderedRows<PresenceKey, PresenceChange>()
    /// Nodes whose presence rows and node row go, before `presence` is applied.
    private(set) var goneNodes: [String] = []

    init(_ events: [DomainEvent]) {
        for event in events {
            switch event {
            case .interactionSaved(let i):
                interactions[i.id] = InteractionRow(
                    id: i.id, type: i.type, remoteName: i.remoteName, workgroup: i.workgroup ?? "", agent: i.agent,
                    state: i.state.rawValue, hasWorkgroup: i.workgroup != nil, createdAt: Microseconds.of(i.createdAt),
                    extras: i.extrasJSON)
            case .statusSaved(let status):
                statuses[status.userId] = StatusRow(userId: status.userId, status: (try? StoredJSON.encode(status)) ?? "{}")
            case .requestSaved(let r):
                requests[r.id] = RequestRow(
                    id: r.id, number: AssistanceIdentifiers.number(of: r.id) ?? 0, interactionId: r.interactionId,
                    workgroup: r.workgroup, initiator: r.initiator, state: Int16(r.state.rawValue),
                    createdAt: Microseconds.of(r.createdAt))
            case .participantSaved(let id, let position, let p):
                participants[[id, String(position)]] = ParticipantRow(
                    assistanceId: id, position: Int32(clamping: position), userId: p.userId, action: Int16(p.action.rawValue))
            case .chatLineAdded(let id, let position, let line):
                lines[[id, String(position)]] = LineRow(
                    assistanceId: id, position: Int32(clamping: position), participantId: line.participantId, text: line.text,
                    timeAdded: Microseconds.of(line.timeAdded))
            case .presence(let userId, let node, let present, let at):
                presence[PresenceKey(userId: userId, node: node)] = PresenceChange(since: present ? Microseconds.of(at) : nil)
            case .nodeGone(let node):
                // Rows of this node set earlier in the batch are deleted with the node anyway.
                presence.removeAll { $0.node == node }
                if !goneNodes.contains(node) { goneNodes.append(node) }
            }
        }
    }

    /// Whether the batch changes presence (users arriving or leaving, nodes gone): those rows take statements of
    /// their own.
    var touchesPresence: Bool { !presence.entries.isEmpty || !goneNodes.isEmpty }

    /// The request rows with completed ones first, so that a batch completing one request and opening
    /// another for the same interaction never has two active rows at once (the unique index checks each row).
    var requestsCompletedFirst: [RequestRow] {
        let completed = Int16(AssistanceRequestState.completed.rawValue)
        return requests.values.filter { $0.state == completed } + requests.values.filter { $0.state != completed }
    }
}
