import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import Metrics
import Prometheus
import Synchronization

/// `/health` for load balancers and `/metrics` in Prometheus text format.
struct OperationsController {
    let openICWS: OpenICWS

    func addRoutes(to router: Router<ICWSRequestContext>) {
        router.resource("/health", get: { _, _ in
            let suspended = await openICWS.center.isStoreSuspended
            let body = """
                {"status":"\(suspended ? "degraded" : "ok")","sessions":\(openICWS.sessions.count),"streams":\(openICWS.openStreams),"store":"\(suspended ? "unavailable" : "ok")"}
                """
            var response = Response(
                status: suspended ? .serviceUnavailable : .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
            response.headers[.contentLength] = String(body.utf8.count)
            return response
        })
        router.resource("/metrics", get: { _, _ in
            await openICWS.recordCountedGauges()
            let bytes = ICWSMetrics.exposition()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        })
    }
}

/// The process-wide Prometheus registry behind swift-metrics.
public enum ICWSMetrics {
    /// Where every metric of the process is collected.
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// This build's version, in `--version`, `/icws/connection/version` and `openicws_build_info`.
    public static let version = "0.4.0"

    /// What each metric means: emitted as `# HELP` lines (swift-metrics has no help text of its own).
    static let help: [String: String] = [
        "openicws_build_info": "Always 1; the version label names this build.",
        "openicws_requests_total": "HTTP requests answered, by method, route and status code.",
        "openicws_request_duration_seconds": "Time to answer an HTTP request, by method, route and status code.",
        "openicws_logins_total": "Login attempts by result: ok, failed (wrong user or password), throttled (429), busy (503).",
        "openicws_assistance_requests_total": "Assistance requests created on this node.",
        "openicws_store_failures_total": "Commit batches the store failed (commit), refused as conflicting (conflict) or could not apply (log_gap).",
        "openicws_commit_duration_seconds": "Time the store took to commit a batch.",
        "openicws_commit_batch_size": "Jobs committed together in one batch.",
        "openicws_sessions": "Live ICWS sessions on this node.",
        "openicws_sse_streams": "Open server-sent event streams.",
        "openicws_subscriptions": "Watches held by sessions, by kind.",
        "openicws_connections": "Open TCP connections.",
        "openicws_event_loop_connections": "Open TCP connections on each event loop (new ones go to the loop with the fewest).",
        "openicws_connections_closed_total": "Connections the server closed, by reason (timeouts, write stall, over the cap, malformed request, abandoned stream).",
        "openicws_limit": "The limits in force, by name.",
        "openicws_limit_refusals_total": "Requests refused because a per-user limit was reached, by limit.",
        "openicws_messages_delivered_total": "Messages handed to clients, by transport (sse or poll).",
        "openicws_messages_queued_total": "Messages queued for sessions.",
        "openicws_messages_coalesced_total": "Queued deltas replaced by a snapshot because a session's mailbox was full.",
    ]

    /// The Prometheus text exposition, with a `# HELP` line before each metric's `# TYPE` line.
    static func exposition() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4_096)
        let typePrefix = Array("# TYPE ".utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: typePrefix) {
                let name = line.dropFirst(typePrefix.count).prefix { $0 != UInt8(ascii: " ") }
                if let text = help[String(decoding: name, as: UTF8.self)] {
                    out += Array("# HELP ".utf8) + name + [UInt8(ascii: " ")] + Array(text.utf8) + [UInt8(ascii: "\n")]
                }
            }
            out += line
            out.append(UInt8(ascii: "\n"))
        }
        if out.last == UInt8(ascii: "\n"), out.dropLast().last == UInt8(ascii: "\n") { out.removeLast() }
        return out
    }

    /// Points swift-metrics at the Prometheus registry (once per process; later calls do nothing).
    public static func bootstrap() {
        let first = bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000),
        ]
        MetricsSystem.bootstrap(factory)
        Metrics.Gauge(label: "openicws_build_info", dimensions: [("version", version)]).record(1)
    }
}

/// Request counters and timers by method, route and status, made once: making them per request showed up
/// in profiles.
final class RequestMetricsCache: Sendable {
    private let metrics = Mutex<[String: (Metrics.Counter, Metrics.Timer)]>([:])

    func record(method: String, route: String, status: Int, since start: DispatchTime) {
        let key = "\(method) \(route) \(status)"
        let (counter, timer) = metrics.withLock { metrics in
            if let found = metrics[key] { return found }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = (Metrics.Counter(label: "openicws_requests_total", dimensions: dimensions),
                        Metrics.Timer(label: "openicws_request_duration_seconds", dimensions: dimensions))
            metrics[key] = made
            return made
        }
        counter.increment()
        timer.recordInterval(since: start)
    }
}
