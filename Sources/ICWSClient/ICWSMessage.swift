import Foundation
import ICWSModel

/// One ICWS message, typed by its `__type`, with the ICWSModel type the server encodes it from.
public enum ICWSMessage: Sendable, Hashable {
    /// `assistanceRequestListMessage`: ids added to or removed from the agent-assistance list.
    case assistanceRequestList(AssistanceRequestListMessage)
    /// `assistanceRequestDetailsMessage`: one request in full, or what changed in it.
    case assistanceRequestDetails(AssistanceRequestDetailsMessage)
    /// `supervisorAssistanceRequestMessage`: requests added to, changed in or removed from a supervisor's list.
    case supervisorAssistanceRequest(SupervisorAssistanceRequestMessage)
    /// `assistanceRequestSubscriptionStateMessage`: the assistance watches are normal, suspended or faulted.
    case subscriptionState(AssistanceSubscriptionStateMessage)
    /// `queueContentsMessage`: interactions added to, changed in or removed from watched queues.
    case queueContents(QueueContentsMessage)
    /// `connectionStateChangeMessage`: the session ended (logout or expiry); the stream ends after it.
    case connectionStateChange(ConnectionStateChangeMessage)
    /// A message of a type this SDK does not know, by its `__type` (empty when it had none).
    case unknown(type: String)

    /// Whether the message is a delta (`isDelta:true`); `false` for snapshots and for unknown messages.
    public var isDelta: Bool {
        switch self {
        case .assistanceRequestList(let message): return message.isDelta
        case .assistanceRequestDetails(let message): return message.isDelta
        case .supervisorAssistanceRequest(let message): return message.isDelta
        case .subscriptionState(let message): return message.isDelta
        case .queueContents(let message): return message.isDelta
        case .connectionStateChange(let message): return message.isDelta
        case .unknown: return false
        }
    }

    /// Decodes one message object; throws when `json` is not an object or does not match its `__type`.
    public init(json: Data) throws {
        struct Probe: Decodable {
            let type: String?
            enum CodingKeys: String, CodingKey { case type = "__type" }
        }
        let decoder = JSONDecoder()
        switch try decoder.decode(Probe.self, from: json).type ?? "" {
        case ICWSType.assistanceRequestList: self = .assistanceRequestList(try decoder.decode(AssistanceRequestListMessage.self, from: json))
        case ICWSType.assistanceRequestDetails: self = .assistanceRequestDetails(try decoder.decode(AssistanceRequestDetailsMessage.self, from: json))
        case ICWSType.supervisorAssistanceRequest:
            self = .supervisorAssistanceRequest(try decoder.decode(SupervisorAssistanceRequestMessage.self, from: json))
        case ICWSType.assistanceSubscriptionState: self = .subscriptionState(try decoder.decode(AssistanceSubscriptionStateMessage.self, from: json))
        case ICWSType.queueContents: self = .queueContents(try decoder.decode(QueueContentsMessage.self, from: json))
        case ICWSType.connectionStateChange: self = .connectionStateChange(try decoder.decode(ConnectionStateChangeMessage.self, from: json))
        case let other: self = .unknown(type: other)
        }
    }
}

/// A message as it arrived: typed, the JSON text exactly as the server sent it, and its event id.
public struct ReceivedMessage: Sendable, Hashable {
    /// The typed message.
    public let message: ICWSMessage
    /// The message object's JSON, byte for byte as the server sent it (for logging or passing on).
    public let json: String
    /// The server-sent event id (`id:`), used for `Last-Event-ID` on reconnect; `nil` for polled messages.
    public let eventId: String?

    /// Creates a received message from its parts.
    public init(message: ICWSMessage, json: String, eventId: String?) {
        self.message = message
        self.json = json
        self.eventId = eventId
    }
}
