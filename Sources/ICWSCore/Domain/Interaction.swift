import Foundation

/// An interaction (call, chat, email) as the telephony/ACD side created it.
public struct Interaction: Sendable, Equatable, Codable {
    /// Interaction state.
    public enum State: String, Sendable, Equatable, Codable {
        case alerting, connected, disconnected
    }

    public var id: String
    public var type: String
    public var remoteName: String
    /// Set when the interaction was ACD-routed to a workgroup.
    public var workgroup: String?
    public var agent: String
    public var state: State
    public var createdAt: Date

    public init(id: String, type: String, remoteName: String, workgroup: String?, agent: String, state: State, createdAt: Date) {
        self.id = id
        self.type = type
        self.remoteName = remoteName
        self.workgroup = workgroup
        self.agent = agent
        self.state = state
        self.createdAt = createdAt
    }
}
