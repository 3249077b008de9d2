import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel
import Metrics
import NIOCore

/// Messages (short poll or event stream), heartbeat, and the subscription resources.
struct MessagingController {
    let center: ContactCenter
    let configuration: ServerConfiguration
    let streams: EventStreams
    let polled = Counter(label: "openicws_messages_delivered_total", dimensions: [("via", "poll")])

    func addRoutes(to group: RouterGroup<ICWSRequestContext>) {
        group.resource("/messaging/messages", get: messages)
        group.resource("/messaging/heartbeat", post: { _, _ in ICWSResponse.empty(.noContent) })
        let base = "/messaging/subscriptions"
        group.resource("\(base)/interactions/agent-assistance", put: subscribe { _ in .agentAssistance }, delete: unsubscribe { _ in .agentAssistance })
        group.resource(
            "\(base)/interactions/agent-assistance/:assistanceId",
            put: subscribe { .agentAssistanceDetails($0.parameters.get("assistanceId") ?? "") },
            delete: unsubscribe { .agentAssistanceDetails($0.parameters.get("assistanceId") ?? "") })
        group.resource(
            "\(base)/interactions/supervisor-assistance",
            put: supervisorFeature(subscribe { _ in .supervisorAssistance }),
            delete: supervisorFeature(unsubscribe { _ in .supervisorAssistance }))
        group.resource(
            "\(base)/interactions/supervisor-assistance/:assistanceId",
            put: supervisorFeature(subscribe { .supervisorAssistanceDetails($0.parameters.get("assistanceId") ?? "") }),
            delete: supervisorFeature(unsubscribe { .supervisorAssistanceDetails($0.parameters.get("assistanceId") ?? "") }))
        group.resource("\(base)/queues/:subscriptionId", put: subscribeQueue, delete: unsubscribe { .queue($0.parameters.get("subscriptionId") ?? "") })
    }

    func supervisorFeature(_ handler: @escaping ICWSHandler) -> ICWSHandler {
        requiringFeature(configuration.features, "interactions", 10, handler)
    }

    @Sendable func messages(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let accept = request.headers[values: .accept].joined(separator: ",").lowercased()
        if accept.contains("text/event-stream") && configuration.features.supports("messaging", 2) {
            return streams.stream(for: session, request: request, context: context)
        }
        // While a stream is open, messages belong to it; a poll beside it gets none.
        let entries = session.hasOpenStream ? [] : session.mailbox.drain()
        if !entries.isEmpty { polled.increment(by: entries.count) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(entries.reduce(2) { $0 + $1.message.byteCount + 1 })
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            entry.message.withBytes { buffer.writeBytes($0) }
        }
        buffer.writeInteger(UInt8(ascii: "]"))
        return ICWSResponse.json(bytes: buffer.readableBytesView)
    }

    func subscribe(_ key: @escaping @Sendable (ICWSRequestContext) -> WatchKey) -> ICWSHandler {
        { _, context in
            let session = try context.requireSession()
            try await center.subscribe(sessionId: session.id, to: key(context))
            return ICWSResponse.empty(.noContent)
        }
    }

    func unsubscribe(_ key: @escaping @Sendable (ICWSRequestContext) -> WatchKey) -> ICWSHandler {
        { _, context in
            let session = try context.requireSession()
            try await center.unsubscribe(sessionId: session.id, from: key(context))
            return ICWSResponse.empty(.noContent)
        }
    }

    @Sendable func subscribeQueue(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let subscriptionId = context.parameters.get("subscriptionId") ?? ""
        let body = try await JSONBody.read(request, context: context)
        guard let rawQueues = try body.array("queueIds") else { throw ICWSError.missingProperty("queueIds") }
        let queues = try rawQueues.map { raw -> QueueId in
            guard let object = raw as? [String: Any] else { throw ICWSError.invalidProperty("queueIds", "each entry must be an object") }
            let entry = JSONBody(object: object)
            // Some clients (the ICWS JavaScript SDK's samples) send the queue type as a string: "1" (or its name).
            let type: Int
            if let text = entry.object["queueType"] as? String {
                let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
                guard let number = Int(trimmed) ?? ["user": 1, "workgroup": 2][trimmed] else {
                    throw ICWSError.invalidProperty("queueType", "must be 1 (user) or 2 (workgroup)")
                }
                type = number
            } else if let number = try entry.int("queueType") {
                type = number
            } else {
                throw ICWSError.missingProperty("queueType")
            }
            return QueueId(queueType: type, queueName: try entry.requiredString("queueName"))
        }
        let attributes = try (body.array("attributeNames") ?? []).map { raw -> String in
            guard let name = raw as? String else { throw ICWSError.invalidProperty("attributeNames", "must be an array of strings") }
            return name
        }
        try await center.subscribe(sessionId: session.id, to: .queue(subscriptionId), queue: (queues, attributes))
        return ICWSResponse.empty(.ok)
    }
}
