import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel

/// Placing calls and reading or writing interaction attributes (feature `interactions`).
struct CallsController {
    let center: ContactCenter

    func addRoutes(to group: RouterGroup<ICWSRequestContext>) {
        group.resource("/interactions", post: placeCall)
        group.resource("/interactions/:interactionId", get: attributes, post: setAttributes)
    }

    /// `createCallParameters`: an outbound, non-ACD call on the caller's queue, connected at once (there is no
    /// telephony). `additionalAttributes` become custom attributes; `workgroup`, `callMadeStage`,
    /// `accountCodeId` and `notes` are accepted and not used. 201 with `interactionId`.
    @Sendable func placeCall(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        if let type = try body.type(), type != ICWSType.createCallParameters {
            throw ICWSError.invalidProperty("__type", "only \(ICWSType.createCallParameters) is supported")
        }
        let target = try body.requiredString("target")
        // Accepted and not used, but still checked: a wrong type is a client's mistake worth telling.
        for key in ["workgroup", "accountCodeId", "notes"] { _ = try body.string(key) }
        _ = try body.int("callMadeStage")
        let extra = try Self.stringMap(body, "additionalAttributes") ?? [:]
        let call = try await center.placeCall(user: session.user, target: target)
        if !extra.isEmpty {
            try await center.setAttributes(extra, on: call.id, user: session.user)
        }
        context.logger.info("call placed", metadata: ["sessionId": "\(session.id)", "interactionId": "\(call.id)"])
        // `attributes` is not in ICWS's interactionCreated, but a client library (ICWSRubyGem) reads it from
        // this answer to seed its attribute cache: the attributes set with the call.
        return ICWSResponse.json(CallCreated(interactionId: call.id, attributes: extra), status: .created)
    }

    /// `?select=a,b`: those attributes, "" for one that is not set; without `select`, only `Eic_CallId`.
    @Sendable func attributes(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let select = request.uri.queryParameters.getAll("select").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let names = select.isEmpty ? ["Eic_CallId"] : select
        let values = try await center.attributes(of: context.parameters.get("interactionId") ?? "", names: names, user: session.user)
        return ICWSResponse.json(["attributes": values])
    }

    /// `interactionAttributesUpdate`: `{"attributes": {name: value}}`. 200, no body.
    @Sendable func setAttributes(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        guard let values = try Self.stringMap(body, "attributes") else { throw ICWSError.missingProperty("attributes") }
        try await center.setAttributes(values, on: context.parameters.get("interactionId") ?? "", user: session.user)
        return ICWSResponse.empty(.ok)
    }

    /// `interactionCreated`.
    struct CallCreated: Encodable {
        var interactionId: String
        var attributes: [String: String]
    }

    /// An object of strings (numbers and booleans are taken as their text, as lenient clients send them).
    static func stringMap(_ body: JSONBody, _ key: String) throws -> [String: String]? {
        guard body.has(key) else { return nil }
        guard let object = body.object[key] as? [String: Any] else { throw ICWSError.invalidProperty(key, "must be an object of strings") }
        var result: [String: String] = [:]
        for (name, value) in object {
            switch value {
            case let text as String: result[name] = text
            case let number as NSNumber: result[name] = isJSONBoolean(number) ? (number.boolValue ? "true" : "false") : number.stringValue
            default: throw ICWSError.invalidProperty(key, "the value of '\(name)' must be a string")
            }
        }
        return result
    }
}
