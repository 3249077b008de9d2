import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel

/// Statuses (feature `status`): the status messages, who may select which, users' statuses and their watch.
struct StatusController {
    let center: ContactCenter

    func addRoutes(to group: RouterGroup<ICWSRequestContext>) {
        group.resource("/status/status-messages", get: statusMessages)
        group.resource("/status/status-messages-user-access/:userId", get: userAccess)
        group.resource("/status/user-statuses/:userId", get: userStatus, put: setUserStatus)
        group.resource("/messaging/subscriptions/status/user-statuses", put: subscribe, delete: unsubscribe)
    }

    /// The status icons (`iconUri` is relative to the server's root, as ICWS clients resolve it): a small
    /// coloured disc per status group, as SVG. No session needed, like any image.
    func addIconRoutes(to router: Router<ICWSRequestContext>) {
        router.get("/status/icons/:file") { _, context -> Response in
            let file = context.parameters.get("file") ?? ""
            guard let status = center.directory.statuses.first(where: { $0.iconUri == "/status/icons/\(file)" }) else {
                throw ICWSError.notFound("No status has the icon '\(file)'.")
            }
            let colour = status.isAcdStatus ? "#2e7d32" : status.isDoNotDisturbStatus ? "#c62828" : status.isAfterCallWorkStatus ? "#1565c0" : "#ef6c00"
            let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="\#(colour)"/></svg>"#
            var headers: HTTPFields = [.contentType: "image/svg+xml", .cacheControl: "max-age=86400"]
            headers[.contentLength] = String(svg.utf8.count)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
        }
    }

    @Sendable func statusMessages(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        _ = try context.requireSession()
        return ICWSResponse.json(StatusMessageListBody(statusMessageList: center.directory.statuses))
    }

    /// Every selectable status: the directory grants them all to everyone.
    @Sendable func userAccess(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        _ = try context.requireSession()
        let userId = context.parameters.get("userId") ?? ""
        guard center.directory.user(userId) != nil else { throw ICWSError.notFound("The user '\(userId)' does not exist.") }
        let ids = center.directory.statuses.filter(\.isSelectableStatus).map(\.statusId)
        return ICWSResponse.json(StatusMessagesUserAccessBody(userId: userId, statusMessages: ids))
    }

    @Sendable func userStatus(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        _ = try context.requireSession()
        return ICWSResponse.json(try await center.userStatus(context.parameters.get("userId") ?? ""))
    }

    /// `userStatusUpdate`: `statusId`, and optionally `notes`, `forwardNumber` and the end date, either nested in
    /// `until` (ICWS's schema) or flat (`untilDateTime`, `hasDate`, `hasTime`). 202, with the new status.
    @Sendable func setUserStatus(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let userId = context.parameters.get("userId") ?? ""
        let body = try await JSONBody.read(request, context: context)
        var update = StatusUpdate(statusId: try body.requiredString("statusId"), notes: try body.string("notes"), forwardNumber: try body.string("forwardNumber"))
        let until: JSONBody
        if body.has("until") {
            guard let object = body.object["until"] as? [String: Any] else { throw ICWSError.invalidProperty("until", "must be an object") }
            until = JSONBody(object: object)
        } else {
            until = body
        }
        update.hasDate = try until.bool("hasDate") ?? false
        update.hasTime = try until.bool("hasTime") ?? false
        if let text = try until.string("untilDateTime"), !text.isEmpty {
            guard let date = ICWSDate.date(from: text) else {
                throw ICWSError.invalidProperty("untilDateTime", "must be an ICWS date such as 20261231T170000Z")
            }
            update.until = date
        }
        try await center.setStatus(update, for: userId, by: session.user)
        return ICWSResponse.json(try await center.userStatus(userId), status: .accepted)
    }

    @Sendable func subscribe(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        guard let rawIds = try body.array("userIds") else { throw ICWSError.missingProperty("userIds") }
        let userIds = try rawIds.map { raw -> String in
            guard let id = raw as? String else { throw ICWSError.invalidProperty("userIds", "must be an array of user ids") }
            return id
        }
        let properties = try body.array("userStatusProperties").map { list in
            try list.map { raw -> String in
                guard let name = raw as? String else { throw ICWSError.invalidProperty("userStatusProperties", "must be an array of strings") }
                return name
            }
        }
        try await center.subscribe(sessionId: session.id, to: .userStatuses, statuses: (userIds, properties))
        return ICWSResponse.empty(.ok)
    }

    @Sendable func unsubscribe(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        try await center.unsubscribe(sessionId: session.id, from: .userStatuses)
        return ICWSResponse.empty(.noContent)
    }
}

/// `GET …/status/status-messages`.
struct StatusMessageListBody: Encodable {
    var statusMessageList: [StatusMessageDetails]
}

/// `GET …/status/status-messages-user-access/{userId}`: the ids of the statuses the user may select.
struct StatusMessagesUserAccessBody: Encodable {
    var userId: String
    var statusMessages: [String]
}
