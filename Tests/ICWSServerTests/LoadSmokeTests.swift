import Foundation
import Hummingbird
import HummingbirdTesting
import ICWSLoad
import Testing

/// Each benchmark scenario, for seconds and small N: checks correctness (nothing missing), not speed.
@Suite("Load generator smoke runs")
struct LoadSmokeTests {
    @Test("fanout: every supervisor stream receives every request exactly once")
    func fanout() async throws {
        try await TestServer.make().run { http in
            var options = Scenarios.FanoutOptions()
            options.subscribers = 20
            options.rate = 20
            options.duration = 1
            options.agents = 3
            let report = try await Scenarios.fanout(LoadTarget(port: http.port, adminToken: adminToken), options)
            #expect(report.value("subscribers") == 20)
            #expect(report.value("requests") == 20)
            #expect(report.value("missing") == 0)
            #expect(report.value("duplicates") == 0)
            // At least one message per request per subscriber (an add and a remove may share one message).
            #expect((report.value("deliveries") ?? 0) >= Double(20 * 20), "\(report.table)")
            #expect(report.jsonLine.hasPrefix(#"{"scenario":"fanout""#))
        }
    }

    @Test("poll and writes: closed loops run without errors and count operations")
    func pollAndWrites() async throws {
        try await TestServer.make().run { http in
            let target = LoadTarget(port: http.port, adminToken: adminToken)
            let poll = try await Scenarios.poll(target, connections: 4, duration: 0.5)
            #expect((poll.value("operations") ?? 0) > 0)
            let writes = try await Scenarios.writes(target, connections: 4, duration: 0.5)
            #expect((writes.value("operations") ?? 0) > 0)
        }
    }

    @Test("idle: every session gets its stream and watches established")
    func idle() async throws {
        try await TestServer.make().run { http in
            var options = Scenarios.IdleOptions()
            options.sessions = 30
            let report = try await Scenarios.idle(LoadTarget(port: http.port, adminToken: adminToken), options) {}
            #expect(report.value("established") == 30)
        }
    }

    @Test("baseline: hello-world GETs and the bare SSE broadcaster deliver everything")
    func baseline() async throws {
        let app = BaselineServer.application(port: 0)
        try await app.test(.live) { client in
            let target = LoadTarget(port: client.port ?? 0)
            let hello = try await Scenarios.baselineHello(target, connections: 4, duration: 0.5)
            #expect((hello.value("operations") ?? 0) > 0)
            var options = Scenarios.FanoutOptions()
            options.subscribers = 10
            options.rate = 20
            options.duration = 0.5
            options.grace = 0.5
            let fanout = try await Scenarios.baselineFanout(target, options)
            #expect(fanout.value("subscribers") == 10)
            #expect(fanout.value("missing") == 0)
            // Ten requests, each carried twice to each of the ten subscribers (added, then removed), as OpenICWS does.
            #expect(fanout.value("deliveries") == 200)
            let added = (fanout.value("added_deliveries_per_s") ?? 0) * (fanout.value("window_seconds") ?? 0)
            #expect(abs(added - 100) < 0.5, "first messages counted: \(added)")
        }
    }
}
