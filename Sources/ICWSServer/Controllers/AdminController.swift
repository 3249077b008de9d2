import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore

/// The administration API that stands in for the telephony/ACD side: create and disconnect interactions.
struct AdminController {
    let center: ContactCenter
    let adminToken: String?

    /// The 201 body of `POST /admin/interactions`; `workgroup` is `null` for non-ACD interactions.
    struct CreatedInteraction: Encodable {
        let interaction: Interaction

        enum CodingKeys: String, CodingKey { case interactionId, agent, workgroup, type, remoteName, state }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(interaction.id, forKey: .interactionId)
            try container.encode(interaction.agent, forKey: .agent)
            if let workgroup = interaction.workgroup {
                try container.encode(workgroup, forKey: .workgroup)
            } else {
                try container.encodeNil(forKey: .workgroup)
            }
            try container.encode(interaction.type, forKey: .type)
            try container.encode(interaction.remoteName, forKey: .remoteName)
            try container.encode(interaction.state.rawValue, forKey: .state)
        }
    }

    func addRoutes(to router: Router<ICWSRequestContext>) {
        router.resource("/admin/interactions", post: guarded(create))
        router.resource("/admin/interactions/:interactionId", get: guarded(show), delete: guarded(disconnect))
    }

    private func guarded(_ handler: @escaping ICWSHandler) -> ICWSHandler {
        { request, context in
            guard let adminToken else { throw ICWSError.notFound("The resource does not exist.") }
            let header = request.headers[.authorization] ?? ""
            guard header.hasPrefix("Bearer "), SessionSecrets.constantTimeEquals(String(header.dropFirst(7)), adminToken) else {
                throw ICWSError(status: 401, body: .init(errorId: "error.request.admin.unauthorized", message: "A valid admin token is required (Authorization: Bearer …)."))
            }
            // While the server drains for shutdown, nothing new is started.
            if request.method != .get && center.sessions.isDraining { throw ICWSError.shuttingDown }
            return try await handler(request, context)
        }
    }

    @Sendable func create(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, context: context)
        let interaction = try await center.createInteraction(
            workgroup: body.string("workgroup"), agent: body.string("agent"), type: body.string("type") ?? "call",
            remoteName: body.string("remoteName") ?? "")
        context.logger.info("interaction created", metadata: ["interactionId": "\(interaction.id)", "agent": "\(interaction.agent)"])
        return ICWSResponse.json(CreatedInteraction(interaction: interaction), status: .created)
    }

    @Sendable func show(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let id = context.parameters.get("interactionId") ?? ""
        guard let interaction = await center.interaction(id) else { throw ICWSError.notFound("The interaction '\(id)' does not exist.") }
        return ICWSResponse.json(CreatedInteraction(interaction: interaction))
    }

    @Sendable func disconnect(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        try await center.disconnectInteraction(context.parameters.get("interactionId") ?? "", userId: nil)
        return ICWSResponse.empty(.noContent)
    }
}
