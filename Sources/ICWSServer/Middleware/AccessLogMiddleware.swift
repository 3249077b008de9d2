import Foundation
import Hummingbird
import ICWSCore
import Logging

/// `--access-log`: one line per request, after its answer (for an event stream: when the stream starts).
/// The route is logged as matched (`/icws/{sid}/…`), so session ids, which grant access with the cookie
/// and CSRF token, stay out of the log; the session's user and the client address say who it was.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ICWSRequestContext
    let logger = Logger(label: "openicws.access")
    let sessions: SessionRegistry

    /// The user of the session named in `/icws/{sid}/…`, if it is live.
    private func user(of path: String) -> String? {
        guard path.hasPrefix("/icws/") else { return nil }
        let sid = path.dropFirst(6).prefix { $0 != "/" }
        guard !sid.isEmpty, sid != "connection", case .live(let session) = sessions.lookup(String(sid)) else { return nil }
        return session.userId
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let user = user(of: request.uri.path)
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
            logger.info("\(request.method.rawValue) \(context.endpointPath ?? "(no route)") \(status)", metadata: [
                "status": "\(status)", "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "(no route)")",
                "ms": "\((milliseconds * 10).rounded() / 10)", "user": "\(user ?? "-")",
                "address": "\(context.remoteAddress ?? "-")",
            ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch {
            status = RequestMetricsMiddleware.status(of: error)
            throw error
        }
    }
}
