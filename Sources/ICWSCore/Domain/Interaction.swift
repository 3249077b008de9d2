import Foundation

/// An interaction (call, chat, email) as the telephony/ACD side created it.
public struct Interaction: Sendable, Equatable, Codable {
    /// Interaction state.
    public enum State: String, Sendable, Equatable, Codable {
        case alerting, connected, disconnected
    }

    /// Who started it: the remote party (an ACD-routed or assigned interaction) or the agent (a placed call).
    public enum Direction: String, Sendable, Equatable, Codable {
        case incoming = "I", outgoing = "O"
    }

    public var id: String
    public var type: String
    public var remoteName: String
    /// Set when the interaction was ACD-routed to a workgroup.
    public var workgroup: String?
    public var agent: String
    public var state: State
    public var createdAt: Date
    public var direction: Direction
    /// The caller's or the target's number (`Eic_RemoteId`).
    public var remoteId: String
    /// Custom attributes clients set (`POST /icws/{sessionId}/interactions/{id}`).
    public var attributes: [String: String]

    public init(
        id: String, type: String, remoteName: String, workgroup: String?, agent: String, state: State, createdAt: Date,
        direction: Direction = .incoming, remoteId: String = "", attributes: [String: String] = [:]
    ) {
        self.id = id
        self.type = type
        self.remoteName = remoteName
        self.workgroup = workgroup
        self.agent = agent
        self.state = state
        self.createdAt = createdAt
        self.direction = direction
        self.remoteId = remoteId
        self.attributes = attributes
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, remoteName, workgroup, agent, state, createdAt, direction, remoteId, attributes
    }

    /// Decodes change-log entries written before direction, remote id and attributes existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id), type: try container.decode(String.self, forKey: .type),
            remoteName: try container.decode(String.self, forKey: .remoteName),
            workgroup: try container.decodeIfPresent(String.self, forKey: .workgroup),
            agent: try container.decode(String.self, forKey: .agent), state: try container.decode(State.self, forKey: .state),
            createdAt: try container.decode(Date.self, forKey: .createdAt),
            direction: try container.decodeIfPresent(Direction.self, forKey: .direction) ?? .incoming,
            remoteId: try container.decodeIfPresent(String.self, forKey: .remoteId) ?? "",
            attributes: try container.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:])
    }

    /// What the stores keep beside the original columns, as one JSON text (empty when nothing is set).
    public struct Extras: Codable, Equatable, Sendable {
        public var direction: Direction
        public var remoteId: String
        public var attributes: [String: String]
    }

    /// The extras as stored (`StoredJSON`): "" when the interaction has none (the common, routed case).
    public var extrasJSON: String {
        guard direction != .incoming || !remoteId.isEmpty || !attributes.isEmpty else { return "" }
        return (try? StoredJSON.encode(Extras(direction: direction, remoteId: remoteId, attributes: attributes))) ?? ""
    }

    /// Applies stored extras (from `extrasJSON`); ignores text that is empty or unreadable.
    public mutating func applyExtras(_ json: String?) {
        guard let json, !json.isEmpty, let extras = try? StoredJSON.decode(Extras.self, from: json) else { return }
        direction = extras.direction
        remoteId = extras.remoteId
        attributes = extras.attributes
    }
}
