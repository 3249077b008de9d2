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
        for header in headers {
            for piece in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
                let pair = piece.trimmingCharacters(in: .whitespaces)
                guard let equals = pair.firstIndex(of: "=") else { continue }
                if pair[..<equals] == name {
                    var value = pair[pair.index(after: equals)...]
                    if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
                    return String(value)
                }
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
