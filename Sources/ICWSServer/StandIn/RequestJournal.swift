import Foundation
import Hummingbird
import ICWSCore
import ICWSModel
import Logging
import Synchronization

/// The last HTTP requests the server answered, newest first, for `GET /admin/requests` (WireMock's request
/// journal is the convention). Never bodies, headers or query strings: the method, the matched route, the
/// status, the time it took and the session id.
public final class RequestJournal: Sendable {
    /// One answered request.
    public struct Entry: Sendable, Encodable {
        public let at: String
        public let method: String
        /// The route as registered (`/icws/{sid}/…`), or the path's first segment when no route matched.
        public let path: String
        public let status: Int
        public let durationMs: Double
        public let sessionId: String?
    }

    public let capacity: Int
    private let ring: Mutex<(entries: [Entry], next: Int, total: Int)>

    public init(capacity: Int = 1_000) {
        self.capacity = max(1, capacity)
        ring = Mutex(([], 0, 0))
    }

    func record(_ entry: Entry) {
        ring.withLock { ring in
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.next] = entry
            }
            ring.next = (ring.next + 1) % capacity
            ring.total += 1
        }
    }

    /// The newest `limit` entries, newest first, and how many were recorded since start.
    func newest(_ limit: Int) -> (entries: [Entry], total: Int) {
        ring.withLock { ring in
            var result: [Entry] = []
            var index = ring.next
            for _ in 0..<min(limit, ring.entries.count) {
                index = (index - 1 + ring.entries.count) % ring.entries.count
                result.append(ring.entries[index])
            }
            return (result, ring.total)
        }
    }
}

/// Records every answered request in the journal and, with `--access-log`, in the log (label
/// `openicws.access`: method, matched route, so no session id, status, milliseconds, the session's user and
/// the client address); under an injected delay, it holds ICWS answers back.
struct StandInMiddleware: RouterMiddleware {
    typealias Context = ICWSRequestContext
    let journal: RequestJournal
    let faults: Faults
    /// Set with `--access-log`, with the sessions whose users the lines name.
    let accessLog: (logger: Logger, sessions: SessionRegistry)?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
            let route = context.endpointPath ?? "/" + (path.split(separator: "/").first.map(String.init) ?? "")
            let sessionId = Self.sessionId(in: path)
            journal.record(RequestJournal.Entry(
                at: ISO8601DateFormatter().string(from: Date()), method: request.method.rawValue, path: route,
                status: status, durationMs: (milliseconds * 100).rounded() / 100, sessionId: sessionId))
            if let (logger, sessions) = accessLog {
                var user = "-"
                if let sessionId, case .live(let session) = sessions.lookup(sessionId) { user = session.userId }
                logger.info("\(request.method.rawValue) \(route) \(status)", metadata: [
                    "status": "\(status)", "method": "\(request.method.rawValue)", "route": "\(route)",
                    "ms": "\((milliseconds * 10).rounded() / 10)", "user": "\(user)", "address": "\(context.remoteAddress ?? "-")",
                ])
            }
        }
        let delay = faults.current.delayMs
        if delay > 0, path.hasPrefix("/icws/") { try await Task.sleep(for: .milliseconds(delay)) }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch {
            status = RequestMetricsMiddleware.status(of: error)
            throw error
        }
    }

    /// The `{sid}` of `/icws/{sid}/…`.
    static func sessionId(in path: String) -> String? {
        guard path.hasPrefix("/icws/") else { return nil }
        let sid = path.dropFirst(6).prefix { $0 != "/" }
        return sid.isEmpty || sid == "connection" ? nil : String(sid)
    }
}
