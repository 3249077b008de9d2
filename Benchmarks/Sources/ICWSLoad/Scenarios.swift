import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

/// Where the generator sends load.
public struct LoadTarget: Sendable {
    public var host: String
    public var port: Int
    public var adminToken: String
    public var password: String
    /// The server's process, when known: closed-loop scenarios then also report the server's CPU time.
    public var serverProcess: Int32?

    public init(
        host: String = "127.0.0.1", port: Int, adminToken: String = "bench", password: String = "1234", serverProcess: Int32? = nil
    ) {
        self.host = host
        self.port = port
        self.adminToken = adminToken
        self.password = password
        self.serverProcess = serverProcess
    }
}

/// Runs `body` for every item with at most `limit` at a time.
func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = items.makeIterator()
        for _ in 0..<min(limit, items.count) {
            if let item = iterator.next() { group.addTask { try await body(item) } }
        }
        while try await group.next() != nil {
            if let item = iterator.next() { group.addTask { try await body(item) } }
        }
    }
}

/// What one SSE subscriber saw.
struct SubscriberOutcome: Sendable {
    var receivedAt: [UInt64]
    var duplicates = 0
    var deliveries = 0
}

/// Counts subscribers that are ready (snapshot received) and marks the measurement window.
final class RunState: Sendable {
    let ready = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let measuring = Atomic<Bool>(false)
    let deliveries = Atomic<Int>(0)
    let markers = Atomic<Int>(0)
    let firstError = Mutex<String?>(nil)
    /// Logins in flight, to bound them.
    let gate = Atomic<Int>(0)

    func fail(_ error: any Error) {
        failures.add(1, ordering: .relaxed)
        firstError.withLock { if $0 == nil { $0 = "\(error)" } }
    }
}

/// Reads one event stream until cancelled, recording when each `bench#<n>` arrived. With `snapshotFirst`, the
/// first event is the stream's snapshot: it marks the subscriber ready and is not counted as a delivery.
func readStream(
    _ connection: inout LoadConnection, requests: Int, state: RunState, snapshotFirst: Bool = true
) async throws -> SubscriberOutcome {
    var outcome = SubscriberOutcome(receivedAt: Array(repeating: 0, count: requests))
    var scanner = StreamScanner()
    var isReady = !snapshotFirst
    let channel = connection.channel
    try await withTaskCancellationHandler {
        while !Task.isCancelled {
            let next: ByteBuffer?
            do {
                next = try await connection.nextChunk()
            } catch {
                // Closing the connection is how a subscriber is stopped.
                if Task.isCancelled { break }
                throw error
            }
            guard let chunk = next else { break }
            let now = nowNanos()
            var events = 0
            scanner.feed(chunk, event: { events += 1 }) { index in
                guard index >= 0, index < requests else { return }
                if outcome.receivedAt[index] != 0 {
                    outcome.duplicates += 1
                } else {
                    outcome.receivedAt[index] = now
                    state.markers.add(1, ordering: .relaxed)
                }
            }
            if !isReady, events > 0 {
                isReady = true
                state.ready.add(1, ordering: .relaxed)
                events -= 1
            }
            if state.measuring.load(ordering: .relaxed) {
                outcome.deliveries += events
                state.deliveries.add(events, ordering: .relaxed)
            }
        }
    } onCancel: {
        channel.close(promise: nil)
    }
    return outcome
}

/// One ICWS subscriber: logs in `userId` (at most `loginConcurrency` logins in flight across `gate`),
/// watches `watch`, opens its event stream and reads it until cancelled. `loggedIn` sees the session before
/// the stream opens. Failures are recorded in `state` (nil then).
func subscribe(
    _ target: LoadTarget, userId: String, watch: String, requests: Int, state: RunState, gate: RunState,
    loginConcurrency: Int, loggedIn: @Sendable (ICWSLoadSession) -> Void = { _ in }
) async -> SubscriberOutcome? {
    do {
        while gate.gate.load(ordering: .relaxed) >= loginConcurrency { try await Task.sleep(for: .milliseconds(2)) }
        gate.gate.add(1, ordering: .relaxed)
        return try await LoadConnection.with(host: target.host, port: target.port) { connection in
            do {
                let session = try await connection.login(userId, password: target.password)
                try await connection.call(session, .PUT, "/messaging/subscriptions/interactions/\(watch)", expect: 204)
                loggedIn(session)
                try await connection.openEventStream(session)
            } catch {
                gate.gate.add(-1, ordering: .relaxed)
                throw error
            }
            gate.gate.add(-1, ordering: .relaxed)
            return try await readStream(&connection, requests: requests, state: state)
        }
    } catch {
        if !Task.isCancelled { state.fail(error) }
        return nil
    }
}

/// Waits until `condition` holds or `seconds` pass.
func wait(seconds: Double, until condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}

/// The fan-out scenario and friends.
public enum Scenarios {
    /// Settings of the fan-out scenario.
    public struct FanoutOptions: Sendable {
        public var subscribers = 1_000
        public var rate = 20.0
        public var duration = 10.0
        public var agents = 6
        public var loginConcurrency = 64
        public var grace = 5.0
        public init() {}
    }

    /// N supervisors on SSE watch `supervisor-assistance`; agents raise requests at `rate`/s and complete
    /// them; latency is from the agent's POST being sent to each supervisor reading its `requestsAdded`.
    public static func fanout(_ target: LoadTarget, _ options: FanoutOptions) async throws -> LoadReport {
        let requests = max(1, Int(options.rate * options.duration))
        let sent = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let state = RunState()
        let supervisors = ["supervisor1", "supervisor2"]
        var report = LoadReport(scenario: "fanout")

        let outcomes = try await withThrowingTaskGroup(of: SubscriberOutcome?.self) { group -> [SubscriberOutcome] in
            // Subscribers log in a few at a time (bcrypt), then stay on their stream.
            for index in 0..<options.subscribers {
                group.addTask {
                    await subscribe(
                        target, userId: supervisors[index % 2], watch: "supervisor-assistance", requests: requests, state: state,
                        gate: state, loginConcurrency: options.loginConcurrency)
                }
            }
            let allReady = await wait(seconds: 120 + Double(options.subscribers) / 50) {
                state.ready.load(ordering: .relaxed) + state.failures.load(ordering: .relaxed) >= options.subscribers
            }
            guard allReady, state.failures.load(ordering: .relaxed) == 0 else {
                group.cancelAll()
                throw LoadError("subscribers not ready: \(state.ready.load(ordering: .relaxed)) ready, \(state.failures.load(ordering: .relaxed)) failed; first error: \(state.firstError.withLock { $0 } ?? "none")")
            }

            // Agents raise requests on a fixed schedule (open loop).
            state.measuring.store(true, ordering: .relaxed)
            let start = nowNanos()
            let cpuBefore = target.serverProcess.flatMap(processCPUTimes)
            try await withThrowingTaskGroup(of: Void.self) { agents in
                for agent in 0..<options.agents {
                    agents.addTask {
                        try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            let userId = "agent\(agent % 3 + 1)"
                            let session = try await connection.login(userId, password: target.password)
                            var index = agent
                            while index < requests {
                                try await sleepUntil(request: index, of: start, rate: options.rate)
                                let interaction = try await connection.createInteraction(
                                    adminToken: target.adminToken, workgroup: "Support", agent: userId)
                                let at = nowNanos()
                                sent.withLock { $0[index] = at }
                                let created = try await connection.call(
                                    session, .POST, "/interactions/\(interaction)/agent-assistance",
                                    body: #"{"text":"bench#\#(index)"}"#, expect: 201)
                                guard let id = LoadJSON.string("assistanceId", in: created.body) else { throw LoadError("no assistanceId") }
                                try await connection.call(session, .DELETE, "/interactions/agent-assistance/\(id)", expect: 204)
                                index += options.agents
                            }
                        }
                    }
                }
                try await agents.waitForAll()
            }
            let loadSeconds = Double(nowNanos() - start) / 1e9
            // Let deliveries drain (every subscriber has every request, or the grace time passed), then stop.
            let expected = options.subscribers * requests
            _ = await wait(seconds: options.grace) { state.markers.load(ordering: .relaxed) >= expected }
            try await Task.sleep(for: .milliseconds(300))
            if let cpuBefore, let cpuAfter = target.serverProcess.flatMap(processCPUTimes) {
                report.add("server_cpu_seconds", cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system)
                report.add("server_user_cpu_seconds", cpuAfter.user - cpuBefore.user)
            }
            report.add("load_seconds", loadSeconds)
            report.add("start_ns", Double(start))
            group.cancelAll()
            var outcomes: [SubscriberOutcome] = []
            while let outcome = try await group.next() {
                if let outcome { outcomes.append(outcome) }
            }
            return outcomes
        }

        addDeliveries(outcomes, sentAt: sent.withLock { $0 }, to: &report)
        report.add("requests", Double(requests))
        report.add("duplicates", Double(outcomes.reduce(0) { $0 + $1.duplicates }))
        return report
    }

    /// The baseline for fan-out: N bare SSE streams on the baseline server, one broadcast per "request".
    public static func baselineFanout(_ target: LoadTarget, _ options: FanoutOptions) async throws -> LoadReport {
        try await broadcastFanout(target, options, scenario: "baseline-fanout", subscribePath: "/events") { connection, index, removal in
            _ = try await connection.request(
                .POST, "/broadcast?n=\(index)", headers: [("Content-Type", "application/json")], body: peerMessage(index, removal: removal))
        }
    }

    /// The same load on nginx with the nchan module: N EventSource subscribers of one channel, two publishes
    /// per "request", the first carrying the same marker as OpenICWS's `requestsAdded`.
    public static func nchanFanout(_ target: LoadTarget, _ options: FanoutOptions) async throws -> LoadReport {
        try await broadcastFanout(target, options, scenario: "nchan-fanout", subscribePath: "/sub") { connection, index, removal in
            let response = try await connection.request(
                .POST, "/pub", headers: [("Content-Type", "application/json")], body: peerMessage(index, removal: removal))
            guard (200..<300).contains(response.status) else { throw LoadError("nchan publish answered \(response.status)") }
        }
    }

    /// What a peer publishes for request `index`: OpenICWS's messages to a supervisor, of the same shape and
    /// size, so that subscribers read the same bytes from every server (the first carries the marker).
    static func peerMessage(_ index: Int, removal: Bool) -> String {
        let type = #""__type":"urn:inin.com:interactions.assistance:supervisorAssistanceRequestMessage","isDelta":true"#
        if removal { return #"{\#(type),"requestsRemoved":["a\#(index + 1)"]}"# }
        return #"{\#(type),"requestsAdded":[{"action":0,"assistanceId":"a\#(index + 1)","#
            + #""initiator":{"action":1,"displayName":"Agent One","userId":"agent1"},"interactionId":"\#(1_000_000_001 + index)","#
            + #""problemDescription":"bench#\#(index)","state":0,"workgroup":"Support"}]}"#
    }

    /// N SSE subscribers of a peer server and, per "request" at the scenario's rate (from as many publishing
    /// connections as OpenICWS has agents), the two messages OpenICWS sends each supervisor:
    /// `publish(connection, index, false)` (the request added, which is timed), then once it is answered
    /// `publish(connection, index, true)` (the request removed, as the agent completes it).
    static func broadcastFanout(
        _ target: LoadTarget, _ options: FanoutOptions, scenario: String, subscribePath: String,
        publish: @escaping @Sendable (inout LoadConnection, Int, Bool) async throws -> Void
    ) async throws -> LoadReport {
        let requests = max(1, Int(options.rate * options.duration))
        let sent = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let state = RunState()
        var report = LoadReport(scenario: scenario)
        let outcomes = try await withThrowingTaskGroup(of: SubscriberOutcome?.self) { group -> [SubscriberOutcome] in
            for _ in 0..<options.subscribers {
                group.addTask {
                    do {
                        return try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            let status = try await connection.openStream(subscribePath, headers: [("Accept", "text/event-stream")])
                            guard status == 200 else { throw LoadError("baseline stream answered \(status)") }
                            // The baseline sends no snapshot: its retry line counts as ready.
                            state.ready.add(1, ordering: .relaxed)
                            return try await readStream(&connection, requests: requests, state: state, snapshotFirst: false)
                        }
                    } catch {
                        if !Task.isCancelled { state.fail(error) }
                        return nil
                    }
                }
            }
            _ = await wait(seconds: 120) { state.ready.load(ordering: .relaxed) + state.failures.load(ordering: .relaxed) >= options.subscribers }
            try await Task.sleep(for: .milliseconds(300))
            state.measuring.store(true, ordering: .relaxed)
            let start = nowNanos()
            let cpuBefore = target.serverProcess.flatMap(processTreeCPUTimes)
            // As many publishers as OpenICWS's agents, taking the requests by turns as they do.
            try await withThrowingTaskGroup(of: Void.self) { publishers in
                for publisher in 0..<options.agents {
                    publishers.addTask {
                        try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            for index in stride(from: publisher, to: requests, by: options.agents) {
                                try await sleepUntil(request: index, of: start, rate: options.rate)
                                let at = nowNanos()
                                sent.withLock { $0[index] = at }
                                try await publish(&connection, index, false)
                                try await publish(&connection, index, true)
                            }
                        }
                    }
                }
                try await publishers.waitForAll()
            }
            report.add("load_seconds", Double(nowNanos() - start) / 1e9)
            report.add("start_ns", Double(start))
            let expected = options.subscribers * requests
            _ = await wait(seconds: options.grace) { state.markers.load(ordering: .relaxed) >= expected }
            try await Task.sleep(for: .milliseconds(300))
            if let cpuBefore, let cpuAfter = target.serverProcess.flatMap(processTreeCPUTimes) {
                report.add("server_cpu_seconds", cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system)
                report.add("server_user_cpu_seconds", cpuAfter.user - cpuBefore.user)
            }
            group.cancelAll()
            var outcomes: [SubscriberOutcome] = []
            while let outcome = try await group.next() { if let outcome { outcomes.append(outcome) } }
            return outcomes
        }
        addDeliveries(outcomes, sentAt: sent.withLock { $0 }, to: &report)
        return report
    }

    /// Adds what the subscribers read to `report`: their number, every message read and its rate, the rate
    /// of first messages (`bench#<n>` markers), the latency of each from its send, how many never came, and the
    /// server's CPU per message read. Rates run over the load, or until the last message arrived if that is
    /// later (`window_seconds`, which replaces `start_ns`).
    static func addDeliveries(_ outcomes: [SubscriberOutcome], sentAt: [UInt64], to report: inout LoadReport) {
        var latency = makeLatencyHistogram()
        var missing = 0
        var lastArrival: UInt64 = 0
        for outcome in outcomes {
            for (index, received) in outcome.receivedAt.enumerated() {
                if received == 0 { missing += 1; continue }
                lastArrival = max(lastArrival, received)
                _ = latency.record(received > sentAt[index] ? received - sentAt[index] : 0)
            }
        }
        let start = UInt64(report.value("start_ns") ?? 0)
        let window = max(report.value("load_seconds") ?? 1, Double(lastArrival > start ? lastArrival - start : 0) / 1e9)
        report.add("window_seconds", window)
        report.remove("start_ns")
        let deliveries = outcomes.reduce(0) { $0 + $1.deliveries }
        report.add("subscribers", Double(outcomes.count))
        report.add("deliveries", Double(deliveries))
        report.add("deliveries_per_s", Double(deliveries) / max(window, 0.001))
        report.add("added_deliveries_per_s", Double(latency.totalCount) / max(window, 0.001))
        report.addLatency("latency", latency)
        report.add("missing", Double(missing))
        if let cpu = report.value("server_cpu_seconds") {
            // The server's CPU (user + system) from the first request to the drain, per message read.
            report.add("server_cpu_us_per_delivery", cpu * 1e6 / Double(max(deliveries, 1)))
            report.remove("server_cpu_seconds")
            // The part in user space (the rest is the kernel's, mostly the socket writes every server pays).
            if let user = report.value("server_user_cpu_seconds") {
                report.add("server_user_cpu_us_per_delivery", user * 1e6 / Double(max(deliveries, 1)))
                report.remove("server_user_cpu_seconds")
            }
        }
    }

    /// `connections` sessions polling `GET …/messaging/messages` closed-loop.
    public static func poll(_ target: LoadTarget, connections: Int, duration: Double) async throws -> LoadReport {
        try await rawClosedLoop(target, scenario: "poll", connections: connections, duration: duration, prepare: { connection in
            try await connection.login("agent\(Int.random(in: 1...3))", password: target.password)
        }, makeScript: { session, host in
            FixedRequestScript(
                rawRequest("GET", session.base + "/messaging/messages", host: host, headers: session.headers), expect: 200)
        })
    }

    /// The baseline for polling: hello-world GETs on the baseline server.
    public static func baselineHello(_ target: LoadTarget, connections: Int, duration: Double) async throws -> LoadReport {
        try await rawClosedLoop(target, scenario: "baseline-hello", connections: connections, duration: duration, prepare: { _ in () }, makeScript: { _, host in
            FixedRequestScript(rawRequest("GET", "/hello", host: host), expect: 200)
        })
    }

    /// Durable request → complete cycles by `connections` agents, each on its own interaction.
    public static func writes(_ target: LoadTarget, connections: Int, duration: Double) async throws -> LoadReport {
        var report = try await rawClosedLoop(target, scenario: "writes", connections: connections, duration: duration, prepare: { connection in
            let userId = "agent\(Int.random(in: 1...3))"
            let session = try await connection.login(userId, password: target.password)
            let interaction = try await connection.createInteraction(adminToken: target.adminToken, workgroup: "Support", agent: userId)
            return (session, interaction)
        }, makeScript: { plan, host in
            WriteCycleScript(session: plan.0, interaction: plan.1, host: host)
        })
        report.note("one operation = one request (201) + one complete (204), each committed to the store before it is answered")
        return report
    }

    /// Settings of the idle scenario.
    public struct IdleOptions: Sendable {
        public var sessions = 1_000
        public var loginConcurrency = 64
        public init() {}
    }

    /// N sessions, each with an open stream and two watches, held open; returns once all are established.
    /// `measure` is called while they are open (e.g. to read the server's memory).
    public static func idle(
        _ target: LoadTarget, _ options: IdleOptions, measure: @Sendable () async throws -> Void
    ) async throws -> LoadReport {
        let state = RunState()
        let users = ["agent1", "agent2", "agent3"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            let gate = state
            for index in 0..<options.sessions {
                group.addTask {
                    while gate.gate.load(ordering: .relaxed) >= options.loginConcurrency { try await Task.sleep(for: .milliseconds(2)) }
                    gate.gate.add(1, ordering: .relaxed)
                    do {
                        try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            let userId = users[index % users.count]
                            let session: ICWSLoadSession
                            do {
                                session = try await connection.login(userId, password: target.password)
                                try await connection.call(session, .PUT, "/messaging/subscriptions/interactions/agent-assistance", expect: 204)
                                try await connection.call(
                                    session, .PUT, "/messaging/subscriptions/queues/mine",
                                    body: #"{"queueIds":[{"queueType":1,"queueName":"\#(userId)"}],"attributeNames":["Eic_State","Eic_RemoteName"]}"#,
                                    expect: 200)
                                try await connection.openEventStream(session)
                            } catch {
                                gate.gate.add(-1, ordering: .relaxed)
                                throw error
                            }
                            gate.gate.add(-1, ordering: .relaxed)
                            _ = try await readStream(&connection, requests: 1, state: state)
                        }
                    } catch {
                        if !Task.isCancelled { state.fail(error) }
                    }
                }
            }
            // Both watches' snapshots arrive on the stream; one event is enough to know it is live.
            let established = await wait(seconds: 120 + Double(options.sessions) / 50) {
                state.ready.load(ordering: .relaxed) + state.failures.load(ordering: .relaxed) >= options.sessions
            }
            guard established, state.failures.load(ordering: .relaxed) == 0 else {
                group.cancelAll()
                throw LoadError("sessions not established: \(state.ready.load(ordering: .relaxed)) ready, \(state.failures.load(ordering: .relaxed)) failed; first error: \(state.firstError.withLock { $0 } ?? "none")")
            }
            try await measure()
            group.cancelAll()
        }
        var report = LoadReport(scenario: "idle")
        report.add("sessions", Double(options.sessions))
        report.add("established", Double(state.ready.load(ordering: .relaxed)))
        return report
    }
}

/// A value shared between tasks behind a lock.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
    /// The current value.
    public var value: Value { mutex.withLock { $0 } }
    /// Replaces the value.
    public func set(_ value: Value) { mutex.withLock { $0 = value } }
}
