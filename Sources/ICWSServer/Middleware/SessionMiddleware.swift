import HTTPTypes
import Hummingbird
import ICWSCore

/// Checks the session id, CSRF token and session cookie of every `/icws/{sid}/…` request.
///
/// Order: unknown session (401 code 1) or ended session (401 -2147221499), then CSRF (code 2)
/// unless the request is the messages GET, then the `icws_{sid}` cookie (code 4).
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ICWSRequestContext
    let registry: SessionRegistry
    let clock: any ICWSClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let sessionId = context.parameters.get("sid") else { throw ICWSError.sessionRequired }
        let session: Session
        switch registry.lookup(sessionId) {
        case .live(let live): session = live
        case .ended: throw ICWSError.sessionEnded
        case .unknown: throw ICWSError.sessionRequired
        }
        let csrfOptional = request.method == .get && request.uri.path.hasSuffix("/messaging/messages")
        if !csrfOptional {
            guard let token = request.headers[.icwsCSRFToken], SessionSecrets.constantTimeEquals(token, session.csrfToken) else {
                throw ICWSError.csrfTokenMissing
            }
        }
        guard let cookie = Self.cookieValue(named: "icws_\(sessionId)", in: request.headers[values: .cookie]),
            SessionSecrets.constantTimeEquals(cookie, session.cookieValue)
        else {
            throw ICWSError.cookieMissing
        }
        session.touch(clock.now())
        var context = context
        context.session = session
        return try await next(request, context)
    }

    /// Finds a cookie leniently: clients send `a=b; c=d`, or echo the whole `Set-Cookie` string with
    /// `Path=…; HttpOnly` attributes, sometimes several cookies joined by commas.
    static func cookieValue(named name: String, in headers: [String]) -> String? {
        let key = Array(name.utf8)
        for header in headers {
            // Scanned as bytes: this runs on every request, and string splitting showed up in profiles.
            let bytes = Array(header.utf8)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ";"), bytes[end] != UInt8(ascii: ",") { end += 1 }
                var low = start
                var high = end
                while low < high, bytes[low] == UInt8(ascii: " ") || bytes[low] == UInt8(ascii: "\t") { low += 1 }
                while high > low, bytes[high - 1] == UInt8(ascii: " ") || bytes[high - 1] == UInt8(ascii: "\t") { high -= 1 }
                if high - low > key.count, bytes[low + key.count] == UInt8(ascii: "="), bytes[low..<(low + key.count)].elementsEqual(key) {
                    var valueStart = low + key.count + 1
                    var valueEnd = high
                    if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\""), bytes[valueEnd - 1] == UInt8(ascii: "\"") {
                        valueStart += 1
                        valueEnd -= 1
                    }
                    return String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
                }
                start = end + 1
            }
        }
        return nil
    }
}

extension HTTPField.Name {
    static let icwsCSRFToken = HTTPField.Name("ININ-ICWS-CSRF-Token")!
    static let icwsSessionID = HTTPField.Name("ININ-ICWS-Session-ID")!
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let pragma = HTTPField.Name("Pragma")!
}
