import Dispatch
import Foundation
import Hummingbird
import ICWSCore
import Logging

/// The outermost middleware: times every request once, after its answer (errors already rendered by
/// `ICWSResponseMiddleware`), and records it in the request metrics, the request journal
/// (`GET /admin/requests`) and, with `--access-log`, the log (label `openicws.access`: method, matched route,
/// so no session id, status, milliseconds, the session's user and the client address). Under an injected
/// delay (`POST /admin/faults`) it holds ICWS answers back.
struct RequestRecorder: RouterMiddleware {
    typealias Context = ICWSRequestContext
    let journal: RequestJournal
    let faults: Faults
    /// Set with `--access-log`, with the sessions whose users the lines name.
    let accessLog: (logger: Logger, sessions: SessionRegistry)?
    private let metrics = RequestMetricsCache()

    init(journal: RequestJournal, faults: Faults, accessLog: (logger: Logger, sessions: SessionRegistry)?) {
        self.journal = journal
        self.faults = faults
        self.accessLog = accessLog
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now()
        let path = request.uri.path
        var status = 500
        defer {
            let method = request.method.rawValue
            // A constant for paths no route matched: a label per path would let clients grow the metrics.
            let route = context.endpointPath ?? "unmatched"
            metrics.record(method: method, route: route, status: status, since: start)
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            let sessionId = Self.sessionId(in: path)
            journal.record(RequestJournal.Entry(
                at: Date(), method: method, path: route, status: status,
                durationMs: (milliseconds * 100).rounded() / 100, sessionId: sessionId))
            if let (logger, sessions) = accessLog {
                var user = "-"
                if let sessionId, case .live(let session) = sessions.lookup(sessionId) { user = session.userId }
                logger.info("\(method) \(route) \(status)", metadata: [
                    "status": "\(status)", "method": "\(method)", "route": "\(route)",
                    "ms": "\((milliseconds * 10).rounded() / 10)", "user": "\(user)", "address": "\(context.remoteAddress ?? "-")",
                ])
            }
        }
        let delay = faults.current.delayMs
        if delay > 0, path.hasPrefix("/icws/") { try await Task.sleep(for: .milliseconds(delay)) }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }

    /// The `{sid}` of `/icws/{sid}/…`.
    static func sessionId(in path: String) -> String? {
        guard path.hasPrefix("/icws/") else { return nil }
        let sid = path.dropFirst(6).prefix { $0 != "/" }
        return sid.isEmpty || sid == "connection" ? nil : String(sid)
    }
}
