import Foundation
import NIOCore
import NIOHTTP1

/// An ICWS session as the load generator holds it.
public struct ICWSLoadSession: Sendable {
    public let sessionId: String
    public let csrfToken: String
    public let cookie: String

    /// The headers of an authenticated call.
    public var headers: [(String, String)] { [("ININ-ICWS-CSRF-Token", csrfToken), ("Cookie", cookie)] }
    public var base: String { "/icws/\(sessionId)" }
}

extension LoadConnection {
    /// Logs in with the ICWS body and headers a real client sends.
    public mutating func login(_ userId: String, password: String) async throws -> ICWSLoadSession {
        let body = #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"icws-bench","userID":"\#(userId)","password":"\#(password)"}"#
        let response = try await request(.POST, "/icws/connection", headers: [("Accept-Language", "en-US")], body: body)
        guard response.status == 201, let sid = response.headers.first(name: "ININ-ICWS-Session-ID"),
            let csrf = response.headers.first(name: "ININ-ICWS-CSRF-Token"),
            let cookie = response.headers.first(name: "Set-Cookie")?.split(separator: ";").first
        else { throw LoadError("login of \(userId) answered \(response.status): \(response.text)") }
        return ICWSLoadSession(sessionId: sid, csrfToken: csrf, cookie: String(cookie))
    }

    /// A call that must answer `expect`.
    @discardableResult
    public mutating func call(
        _ session: ICWSLoadSession, _ method: HTTPMethod, _ path: String, body: String? = nil, expect: Int
    ) async throws -> LoadResponse {
        let response = try await request(method, session.base + path, headers: session.headers, body: body)
        guard response.status == expect else {
            throw LoadError("\(method) \(path) answered \(response.status), expected \(expect): \(response.text)")
        }
        return response
    }

    /// Creates an interaction through the admin API; returns its id.
    public mutating func createInteraction(adminToken: String, workgroup: String, agent: String) async throws -> String {
        let response = try await request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer \(adminToken)")],
            body: #"{"workgroup":"\#(workgroup)","agent":"\#(agent)","type":"call","remoteName":"Load"}"#)
        guard response.status == 201, let id = LoadJSON.string("interactionId", in: response.body) else {
            throw LoadError("create interaction answered \(response.status): \(response.text)")
        }
        return id
    }

    /// Opens the session's event stream (cookie only, like `EventSource`).
    public mutating func openEventStream(_ session: ICWSLoadSession) async throws {
        let status = try await openStream(
            session.base + "/messaging/messages", headers: [("Accept", "text/event-stream"), ("Cookie", session.cookie)])
        guard status == 200 else { throw LoadError("event stream answered \(status)") }
    }
}

/// Just enough JSON reading for the generator's hot paths.
public enum LoadJSON {
    /// The string value of `"key":"value"` in `buffer`, without a full parse.
    public static func string(_ key: String, in buffer: ByteBuffer) -> String? {
        let needle = Array("\"\(key)\":\"".utf8)
        return buffer.withUnsafeReadableBytes { bytes -> String? in
            guard bytes.count >= needle.count else { return nil }
            var index = 0
            while index + needle.count <= bytes.count {
                if bytes[index] == needle[0], (1..<needle.count).allSatisfy({ bytes[index + $0] == needle[$0] }) {
                    let start = index + needle.count
                    guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                }
                index += 1
            }
            return nil
        }
    }
}
