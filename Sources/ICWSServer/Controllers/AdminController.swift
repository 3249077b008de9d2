import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore

/// The administration API that stands in for the telephony/ACD side: create and disconnect interactions.
struct AdminController {
    let center: ContactCenter
    let adminToken: String?
    let faults: Faults
    let journal: RequestJournal

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
        router.resource("/admin/interactions", get: guarded(list), post: guarded(create))
        router.resource("/admin/interactions/:interactionId", get: guarded(show), delete: guarded(disconnect))
        router.resource("/admin/requests", get: guarded(requests))
        router.resource("/admin/reset", post: guarded(reset))
        router.resource("/admin/faults", get: guarded(showFaults), post: guarded(injectFaults), delete: guarded(clearFaults))
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
            remoteName: body.string("remoteName") ?? "", remoteId: body.string("remoteId"))
        context.logger.info("interaction created", metadata: ["interactionId": "\(interaction.id)", "agent": "\(interaction.agent)"])
        return ICWSResponse.json(CreatedInteraction(interaction: interaction), status: .created)
    }

    /// `{"interactions":[…]}`, by id; those in memory (all live ones, the newest 10,000 disconnected).
    @Sendable func list(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        struct List: Encodable { let interactions: [CreatedInteraction] }
        let all = await center.allInteractions()
        return ICWSResponse.json(List(interactions: all.map(CreatedInteraction.init)))
    }

    /// `{"requests":[…newest first], "total": n}`: the journal, `limit` entries (default 100, at most its capacity).
    @Sendable func requests(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        struct Journal: Encodable {
            let requests: [RequestJournal.Entry]
            let total: Int
        }
        var limit = 100
        if let raw = request.uri.queryParameters.get("limit") {
            guard let value = Int(raw), value >= 1 else { throw ICWSError.invalidProperty("limit", "must be a positive integer") }
            limit = min(value, journal.capacity)
        }
        let (entries, total) = journal.newest(limit)
        return ICWSResponse.json(Journal(requests: entries, total: total))
    }

    /// Ends every session and deletes every interaction and assistance request: 204. A store shared by
    /// several nodes cannot be reset (409); a store that is down answers 503 and nothing is deleted.
    @Sendable func reset(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        do {
            try await center.reset()
        } catch is StoreResetUnsupported {
            throw ICWSError(status: 409, body: .init(
                errorId: "error.request.resetUnsupported",
                message: "A store shared by several nodes cannot be reset while they run; stop the nodes and empty the database instead."))
        } catch let error as DomainError {
            throw ICWSError(error)
        } catch {
            context.logger.error("reset failed", metadata: ["error": "\(error)"])
            throw ICWSError.storeUnavailable
        }
        context.logger.notice("reset by the admin API")
        return ICWSResponse.empty(.noContent)
    }

    @Sendable func showFaults(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        ICWSResponse.json(faults.current)
    }

    /// `{"store":"down"|"up"}` and/or `{"delayMs":N}` (0–60,000); answers the faults now in force.
    @Sendable func injectFaults(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, context: context)
        let store = try body.string("store")
        if let store, store != "down", store != "up" { throw ICWSError.invalidProperty("store", "must be \"down\" or \"up\"") }
        let delay = try body.int("delayMs")
        if let delay, !(0...60_000).contains(delay) { throw ICWSError.invalidProperty("delayMs", "must be between 0 and 60000") }
        guard store != nil || delay != nil else { throw ICWSError.missingProperty("store") }
        let now = faults.set { state in
            if let store { state.store = store }
            if let delay { state.delayMs = delay }
        }
        context.logger.notice("faults injected", metadata: ["store": "\(now.store)", "delayMs": "\(now.delayMs)"])
        // Watches show the store's state at once, not only at the next write.
        if store != nil { await center.checkStoreNow() }
        return ICWSResponse.json(now)
    }

    @Sendable func clearFaults(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        _ = faults.set { $0 = Faults.State() }
        context.logger.notice("faults cleared")
        await center.checkStoreNow()
        return ICWSResponse.empty(.noContent)
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
