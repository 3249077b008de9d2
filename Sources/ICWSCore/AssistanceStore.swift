import Foundation

/// One change to persist. A batch of them commits atomically or not at all.
public enum StoreOperation: Sendable, Equatable {
    /// Insert or replace an interaction.
    case saveInteraction(Interaction)
    /// Insert or replace a request's header (state, workgroup, initiator…), not its participants or lines.
    case saveRequest(AssistanceRequest)
    /// Insert or replace a participant's action; `position` keeps the order participants joined in.
    case saveParticipant(assistanceId: String, position: Int, AssistanceRequest.Participant)
    /// Append a chat line at `position`.
    case addChatLine(assistanceId: String, position: Int, AssistanceRequest.ChatLine)
}

/// What the store holds at start-up.
public struct StoredState: Sendable {
    /// Interactions that are not disconnected.
    public var interactions: [Interaction]
    /// Requests that are not completed, with participants and lines.
    public var requests: [AssistanceRequest]
    /// The highest numeric interaction id ever stored (0 when none).
    public var highestInteractionNumber: Int64
    /// The highest numeric part of an assistance id ever stored (0 when none).
    public var highestAssistanceNumber: Int64

    public init(interactions: [Interaction], requests: [AssistanceRequest], highestInteractionNumber: Int64, highestAssistanceNumber: Int64) {
        self.interactions = interactions
        self.requests = requests
        self.highestInteractionNumber = highestInteractionNumber
        self.highestAssistanceNumber = highestAssistanceNumber
    }
}

/// Durable storage for interactions and assistance requests.
public protocol AssistanceStore: Sendable {
    /// Reads what must be live after a restart.
    func load() async throws -> StoredState
    /// Commits the operations atomically and durably; throws when nothing was committed.
    func commit(_ operations: [StoreOperation]) async throws
    /// Releases the database.
    func close() async throws
}

/// A store kept in memory, for unit tests of the core; it can be told to fail like a broken disk.
public actor InMemoryAssistanceStore: AssistanceStore {
    private var interactions: [String: Interaction] = [:]
    private var requests: [String: AssistanceRequest] = [:]
    /// When true, `commit` and `load` throw.
    public var failing = false
    /// How many batches were committed.
    public private(set) var commits = 0

    public init() {}

    /// Makes later calls fail (or succeed again).
    public func setFailing(_ value: Bool) { failing = value }

    public func load() async throws -> StoredState {
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
        let live = requests.values.filter(\.isActive).sorted { $0.createdAt < $1.createdAt }
        return StoredState(
            interactions: interactions.values.filter { $0.state != .disconnected }.sorted { $0.id < $1.id },
            requests: live,
            highestInteractionNumber: interactions.keys.compactMap { Int64($0) }.max() ?? 0,
            highestAssistanceNumber: requests.keys.compactMap { AssistanceIdentifiers.number(of: $0) }.max() ?? 0)
    }

    public func commit(_ operations: [StoreOperation]) async throws {
        if failing { throw StoreFailure.unavailable("in-memory store set to fail") }
        commits += 1
        for operation in operations {
            switch operation {
            case .saveInteraction(let interaction):
                interactions[interaction.id] = interaction
            case .saveRequest(let request):
                var stored = request
                stored.participants = requests[request.id]?.participants ?? []
                stored.lines = requests[request.id]?.lines ?? []
                requests[request.id] = stored
            case .saveParticipant(let id, let position, let participant):
                if position < requests[id]?.participants.count ?? 0 {
                    requests[id]?.participants[position] = participant
                } else {
                    requests[id]?.participants.append(participant)
                }
            case .addChatLine(let id, _, let line):
                requests[id]?.lines.append(line)
            }
        }
    }

    public func close() async throws {}
}

/// A failure of the store: the change was not committed.
public enum StoreFailure: Error, CustomStringConvertible, Sendable {
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "store unavailable: \(why)"
        }
    }
}

/// Assistance ids are `a` followed by a number.
public enum AssistanceIdentifiers {
    public static func make(_ number: Int64) -> String { "a\(number)" }

    public static func number(of id: String) -> Int64? {
        guard id.first == "a" else { return nil }
        return Int64(id.dropFirst())
    }
}
