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
            var bytes: [UInt8] = []
            ICWSMetrics.registry.emit(into: &bytes)
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
    }
}

/// Records request latency per route.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = ICWSRequestContext
    /// Timers by method and route, made once: making one per request showed up in profiles.
    private let timers = TimerCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now()
        let response = try await next(request, context)
        timers.timer(method: request.method.rawValue, route: context.endpointPath ?? "unmatched").recordInterval(since: start)
        return response
    }
}

final class TimerCache: Sendable {
    private let timers = Mutex<[String: Timer]>([:])

    func timer(method: String, route: String) -> Timer {
        let key = method + " " + route
        return timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = Timer(label: "openicws_request_duration_seconds", dimensions: [("method", method), ("route", route)])
            timers[key] = timer
            return timer
        }
    }
}
