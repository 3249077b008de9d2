import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel

/// Requesting, chatting on, completing and (as a supervisor) acting on assistance requests; disconnect.
struct AssistanceController {
    let center: ContactCenter
    let configuration: ServerConfiguration

    func addRoutes(to group: RouterGroup<ICWSRequestContext>) {
        group.resource("/interactions/:interactionId/agent-assistance", post: request)
        group.resource("/interactions/:interactionId/disconnect", post: disconnect)
        group.resource("/interactions/agent-assistance/:assistanceId", post: chat, delete: complete)
        group.resource("/interactions/supervisor-assistance/:assistanceId", post: requiringFeature(configuration.features, "interactions", 10, supervisorAction))
    }

    @Sendable func request(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        let id = try await center.requestAssistance(
            user: session.user, interactionId: context.parameters.get("interactionId") ?? "", text: body.string("text"))
        context.logger.info("assistance requested", metadata: ["sessionId": "\(session.id)", "assistanceId": "\(id)"])
        // Ids are `a` and digits: nothing to escape, so the hot path skips JSONEncoder.
        return ICWSResponse.json(bytes: Array(#"{"assistanceId":"\#(id)"}"#.utf8), status: .created)
    }

    @Sendable func chat(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        try await center.addChatLine(
            user: session.user, assistanceId: context.parameters.get("assistanceId") ?? "", text: body.string("text"))
        return ICWSResponse.empty(.noContent)
    }

    @Sendable func complete(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        try await center.completeAssistance(user: session.user, assistanceId: context.parameters.get("assistanceId") ?? "")
        return ICWSResponse.empty(.noContent)
    }

    @Sendable func supervisorAction(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        let action = try body.int("action").map { raw -> AssistanceParticipantAction in
            guard let action = AssistanceParticipantAction(rawValue: raw) else {
                throw ICWSError.invalidProperty("action", "must be 3 (accept) or 2 (ignore)")
            }
            return action
        }
        try await center.supervisorAction(
            user: session.user, assistanceId: context.parameters.get("assistanceId") ?? "", action: action, text: body.string("text"))
        return ICWSResponse.empty(.noContent)
    }

    @Sendable func disconnect(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        try await center.disconnectInteraction(context.parameters.get("interactionId") ?? "", userId: session.userId)
        return ICWSResponse.empty(.noContent)
    }
}
