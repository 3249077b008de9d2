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
        self = try JSONDecoder().decode(Decoded.self, from: json).message
    }

    /// Reads `__type`, then the message of that type from the same decoder: the JSON is parsed once.
    private struct Decoded: Decodable {
        let message: ICWSMessage
        enum CodingKeys: String, CodingKey { case type = "__type" }

        init(from decoder: any Decoder) throws {
            switch try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .type) ?? "" {
            case ICWSType.assistanceRequestList: message = .assistanceRequestList(try AssistanceRequestListMessage(from: decoder))
            case ICWSType.assistanceRequestDetails: message = .assistanceRequestDetails(try AssistanceRequestDetailsMessage(from: decoder))
            case ICWSType.supervisorAssistanceRequest: message = .supervisorAssistanceRequest(try SupervisorAssistanceRequestMessage(from: decoder))
            case ICWSType.assistanceSubscriptionState: message = .subscriptionState(try AssistanceSubscriptionStateMessage(from: decoder))
            case ICWSType.queueContents: message = .queueContents(try QueueContentsMessage(from: decoder))
            case ICWSType.connectionStateChange: message = .connectionStateChange(try ConnectionStateChangeMessage(from: decoder))
            case let other: message = .unknown(type: other)
            }
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
