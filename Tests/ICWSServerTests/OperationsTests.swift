import Foundation
import HTTPTypes
import ICWSServer
import Testing

@Suite("Operations: health, metrics, CORS")
struct OperationsTests {
    /// The value of the Prometheus sample `name` (with its labels, if any) among `lines`.
    static func sample(_ name: String, in lines: [String]) -> Double? {
        lines.first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("/health answers ok with session and stream counts")
    func health() async throws {
        try await TestServer.make().run { http in
            _ = try await http.session("agent1")
            let result = try await http.send(.get, "/health")
            #expect(result.status == .ok)
            #expect(result.object["status"] as? String == "ok")
            #expect(result.object["sessions"] as? Int == 1)
        }
    }

    @Test("/metrics exposes sessions, streams, queued messages, commits and request latency in Prometheus text")
    func metrics() async throws {
        ICWSMetrics.bootstrap()
        let server = try await TestServer.make()
        try await server.run { http in
            let agent = try await http.session("agent1")
            _ = try await agent.watchAgentAssistance()
            let stream = try await EventStreamRecorder.open(port: http.port, session: agent)
            _ = try await stream.waitForEvents(1)
            _ = try await http.request(by: agent)
            let result = try await http.send(.get, "/metrics")
            #expect(result.status == .ok)
            #expect(result.header("Content-Type")?.hasPrefix("text/plain") == true)
            for name in [
                "openicws_sse_streams", "openicws_messages_queued_total", "openicws_messages_delivered_total",
                "openicws_request_duration_seconds_bucket", "openicws_commit_batch_size_count",
                "openicws_commit_duration_seconds_bucket",
            ] {
                #expect(result.text.contains(name), "missing \(name)")
            }
            // Sessions and watches are counted when /metrics is read, not by a timer: this session and its
            // watch show at once. (Other tests' servers share the process's registry and record their own
            // counts when read, so a scrape is retried if one of them wrote in between.)
            var counted = false
            for _ in 0..<3 where !counted {
                let lines = try await http.send(.get, "/metrics").text.split(separator: "\n").map(String.init)
                func value(_ name: String) -> Double { Self.sample(name, in: lines) ?? 0 }
                counted = value("openicws_sessions") >= 1 && value(#"openicws_subscriptions{kind="agent-assistance"}"#) >= 1
            }
            #expect(counted, "openicws_sessions and openicws_subscriptions{kind=\"agent-assistance\"} count this session")
            await stream.close()
        }
    }

    @Test("/metrics counts requests that end in errors under their status, logins by result, assistance requests, and explains each metric with # HELP")
    func errorsAndCounters() async throws {
        ICWSMetrics.bootstrap()
        let server = try await TestServer.make()
        try await server.run { http in
            let agent = try await http.session("agent1")
            #expect(try await http.login("agent1", password: "wrong").status == .badRequest)
            #expect(try await http.send(.get, "/no/such/thing").status == .notFound)
            _ = try await http.request(by: agent)
            let text = try await http.send(.get, "/metrics").text
            let lines = text.split(separator: "\n").map(String.init)
            func value(_ prefix: String) -> Double? { Self.sample(prefix, in: lines) }
            #expect((value(#"openicws_requests_total{method="POST",route="/icws/connection",status="400"}"#) ?? 0) >= 1, "\(text)")
            #expect((value(#"openicws_requests_total{method="POST",route="/icws/connection",status="201"}"#) ?? 0) >= 1)
            #expect(lines.contains { $0.hasPrefix("openicws_requests_total{") && $0.contains(#"status="404""#) })
            #expect(lines.contains { $0.hasPrefix("openicws_request_duration_seconds_count{") && $0.contains(#"status="400""#) })
            #expect((value(#"openicws_logins_total{result="failed"}"#) ?? 0) >= 1)
            #expect((value(#"openicws_logins_total{result="ok"}"#) ?? 0) >= 1)
            #expect((value("openicws_assistance_requests_total") ?? 0) >= 1)
            #expect(value(#"openicws_build_info{version="\#(ICWSMetrics.version)"}"#) == 1)
            // Every metric family is explained.
            for type in lines where type.hasPrefix("# TYPE ") {
                let name = type.split(separator: " ")[2]
                #expect(lines.contains { $0.hasPrefix("# HELP \(name) ") }, "no # HELP for \(name)")
            }
        }
    }

    @Test("a draining node refuses logins with 503 error.server.notAcceptingConnections and an alternateHostList")
    func draining() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            server.openICWS.sessions.stopAccepting()
            let result = try await http.login("agent1")
            #expect(result.status == .serviceUnavailable)
            #expect(result.errorId == "error.server.notAcceptingConnections")
            #expect(result.object["alternateHostList"] as? [String] == [])
        }
    }

    @Test("CORS: a configured origin is echoed with credentials; others get no CORS headers; preflight answers 204")
    func cors() async throws {
        try await TestServer.make(configure: { $0.corsOrigins = ["https://desk.example"] }).run { http in
            let allowed = try await http.send(.get, "/icws/connection/version", headers: [.origin: "https://desk.example"])
            #expect(allowed.header("Access-Control-Allow-Origin") == "https://desk.example")
            #expect(allowed.header("Access-Control-Allow-Credentials") == "true")
            #expect(allowed.header("Vary") == "Origin")
            #expect(allowed.header("Access-Control-Expose-Headers")?.contains("ININ-ICWS-CSRF-Token") == true)

            let foreign = try await http.send(.get, "/icws/connection/version", headers: [.origin: "https://evil.example"])
            #expect(foreign.header("Access-Control-Allow-Origin") == nil)

            let preflight = try await http.send(.options, "/icws/connection", headers: [
                .origin: "https://desk.example", .accessControlRequestMethod: "POST",
                .accessControlRequestHeaders: "content-type, x-icws-devtools-correlationid",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.header("Access-Control-Allow-Headers") == "content-type, x-icws-devtools-correlationid")
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("PUT") == true)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://desk.example")
        }
    }
}
