import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel

/// Builds ICWS responses: JSON bodies with the ICWS content type, or empty ones.
enum ICWSResponse {
    /// `application/vnd.inin.icws+JSON` with upper-case `JSON`: some clients compare it literally.
    static let contentType = "application/vnd.inin.icws+JSON; charset=utf-8"

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let bytes = (try? JSONEncoder.icws.encode(value)) ?? Data("{}".utf8)
        return json(bytes: bytes, status: status, headers: headers)
    }

    static func json(bytes: some Collection<UInt8>, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentLength: "0"])
    }

    /// An ICWS error as status, body and headers.
    static func error(_ error: ICWSError, path: String) -> Response {
        var headers: HTTPFields = [:]
        if error.status == 401 {
            headers[.wwwAuthenticate] = path.hasPrefix("/admin")
                ? "Bearer realm=\"openicws-admin\""
                : "ICWS realm=\"ICWS\" location=\"/ICWS/connection\""
        }
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        if let allow = error.allow { headers[.allow] = allow }
        return json(error.body, status: HTTPResponse.Status(code: error.status), headers: headers)
    }
}

/// The request body read as a JSON object, whatever the `Content-Type` said.
struct JSONBody {
    let object: [String: Any]

    /// Reads and parses the body; an empty body is an empty object.
    static func read(_ request: Request, context: ICWSRequestContext) async throws -> JSONBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw ICWSError.invalidRepresentation("The request body is too large or could not be read.")
        }
        guard buffer.readableBytes > 0 else { return JSONBody(object: [:]) }
        let data = Data(buffer.readableBytesView)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return JSONBody(object: [:]) }
        guard let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw ICWSError.invalidRepresentation("The request body is not valid JSON.")
        }
        guard let object = parsed as? [String: Any] else {
            throw ICWSError.invalidRepresentation("The request body must be a JSON object.")
        }
        return JSONBody(object: object)
    }

    /// `__type`; nil when absent or null, 400 when not a string (`{"__type":{}}` is no known type).
    func type() throws -> String? { try string("__type") }

    func has(_ key: String) -> Bool {
        guard let value = object[key] else { return false }
        return !(value is NSNull)
    }

    /// A string property; nil when absent or null, 400 when of another type.
    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let text = object[key] as? String else { throw ICWSError.invalidProperty(key, "must be a string") }
        return text
    }

    /// A required string property.
    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw ICWSError.missingProperty(key) }
        return text
    }

    /// An integer property; nil when absent or null, 400 when not an integer.
    func int(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        guard let number = object[key] as? NSNumber, !isJSONBoolean(number), let value = Int(exactly: number.doubleValue) else {
            throw ICWSError.invalidProperty(key, "must be an integer")
        }
        return value
    }

    /// A boolean property; nil when absent or null, 400 when not `true`/`false`.
    func bool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        guard let number = object[key] as? NSNumber, isJSONBoolean(number) else { throw ICWSError.invalidProperty(key, "must be true or false") }
        return number.boolValue
    }

    /// An array property.
    func array(_ key: String) throws -> [Any]? {
        guard has(key) else { return nil }
        guard let list = object[key] as? [Any] else { throw ICWSError.invalidProperty(key, "must be an array") }
        return list
    }
}

extension Request {
    /// The first value of a header by name.
    func header(_ name: String) -> String? {
        guard let field = HTTPField.Name(name) else { return nil }
        return headers[field]
    }
}
