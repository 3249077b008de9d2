import Foundation
import Histogram

extension Scenarios {
    /// Settings of the cross-node delivery scenario.
    public struct CrossNodeOptions: Sendable {
        /// Assistance requests per second, spread over the agents.
        public var rate = 200.0
        public var duration = 10.0
        /// SSE supervisors on the other node (node B).
        public var supervisors = 50
        /// SSE supervisors on the agents' node (node A), to tell cross-node cost from the commit's; 0 for none.
        public var localSupervisors = 0
        /// Agent sessions on node A, each with its own interaction.
        public var agents = 64
        public var loginConcurrency = 32
        public var grace = 5.0
        public init() {}
    }

    /// Agents on node A (`agentsOn`) raise assistance requests at a fixed rate (open loop) and complete them,
    /// each agent on its own interaction; supervisors on node B (`supervisorsOn`) watch `supervisor-assistance`
    /// on SSE. Latency is from writing the `POST …/agent-assistance` on A until each supervisor on B reads the
    /// `requestsAdded` message with its marker. `window` is called with `true` just before the load starts and
    /// with `false` once every request is answered (e.g. to read database counters).
    public static func crossNode(
        agentsOn nodeA: LoadTarget, supervisorsOn nodeB: LoadTarget, _ options: CrossNodeOptions,
        window: @Sendable (_ starting: Bool) async -> Void = { _ in }
    ) async throws -> LoadReport {
        let requests = max(1, Int(options.rate * options.duration))
        let sent = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let answered = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let due = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let state = RunState()
        let subscribers = options.supervisors + options.localSupervisors
        let supervisorIds = ["supervisor1", "supervisor2"]
        let agentIds = ["agent1", "agent2", "agent3"]
        var report = LoadReport(scenario: "multinode")

        // (on node B?, what it saw)
        let outcomes = try await withThrowingTaskGroup(of: (Bool, SubscriberOutcome)?.self) { group -> [(Bool, SubscriberOutcome)] in
            for index in 0..<subscribers {
                let remote = index < options.supervisors
                let target = remote ? nodeB : nodeA
                group.addTask {
                    while state.gate.load(ordering: .relaxed) >= options.loginConcurrency { try await Task.sleep(for: .milliseconds(2)) }
                    state.gate.add(1, ordering: .relaxed)
                    do {
                        return try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            do {
                                let session = try await connection.login(supervisorIds[index % 2], password: target.password)
                                try await connection.call(session, .PUT, "/messaging/subscriptions/interactions/supervisor-assistance", expect: 204)
                                try await connection.openEventStream(session)
                            } catch {
                                state.gate.add(-1, ordering: .relaxed)
                                throw error
                            }
                            state.gate.add(-1, ordering: .relaxed)
                            return (remote, try await readStream(&connection, requests: requests, state: state))
                        }
                    } catch {
                        if !Task.isCancelled { state.fail(error) }
                        return nil
                    }
                }
            }
            let allReady = await wait(seconds: 60 + Double(subscribers) / 20) {
                state.ready.load(ordering: .relaxed) + state.failures.load(ordering: .relaxed) >= subscribers
            }
            guard allReady, state.failures.load(ordering: .relaxed) == 0 else {
                group.cancelAll()
                throw LoadError("supervisors not ready: \(state.ready.load(ordering: .relaxed)) ready, \(state.failures.load(ordering: .relaxed)) failed; first error: \(state.firstError.withLock { $0 } ?? "none")")
            }

            // Agents log in on A and get an interaction each, then wait for the common start.
            let agentState = RunState()
            let startAt = Locked<UInt64>(0)
            try await withThrowingTaskGroup(of: Void.self) { agents in
                for agent in 0..<options.agents {
                    agents.addTask {
                        do {
                            try await LoadConnection.with(host: nodeA.host, port: nodeA.port) { connection in
                                let userId = agentIds[agent % agentIds.count]
                                let session = try await connection.login(userId, password: nodeA.password)
                                let interaction = try await connection.createInteraction(
                                    adminToken: nodeA.adminToken, workgroup: "Support", agent: userId)
                                agentState.ready.add(1, ordering: .relaxed)
                                while startAt.value == 0 { try await Task.sleep(for: .milliseconds(1)) }
                                let start = startAt.value
                                var index = agent
                                while index < requests {
                                    let dueAt = start + UInt64(Double(index) / options.rate * 1e9)
                                    let now = nowNanos()
                                    if dueAt > now { try await Task.sleep(for: .nanoseconds(Int(dueAt - now))) }
                                    let sentAt = nowNanos()
                                    let created = try await connection.call(
                                        session, .POST, "/interactions/\(interaction)/agent-assistance",
                                        body: #"{"text":"bench#\#(index)"}"#, expect: 201)
                                    let answeredAt = nowNanos()
                                    sent.withLock { $0[index] = sentAt }
                                    answered.withLock { $0[index] = answeredAt }
                                    due.withLock { $0[index] = dueAt }
                                    guard let id = LoadJSON.string("assistanceId", in: created.body) else { throw LoadError("no assistanceId") }
                                    try await connection.call(session, .DELETE, "/interactions/agent-assistance/\(id)", expect: 204)
                                    index += options.agents
                                }
                            }
                        } catch {
                            if !Task.isCancelled { agentState.fail(error) }
                            throw error
                        }
                    }
                }
                let ready = await wait(seconds: 60 + Double(options.agents) / 10) {
                    agentState.ready.load(ordering: .relaxed) + agentState.failures.load(ordering: .relaxed) >= options.agents
                }
                guard ready, agentState.failures.load(ordering: .relaxed) == 0 else {
                    agents.cancelAll()
                    group.cancelAll()
                    throw LoadError("agents not ready: \(agentState.ready.load(ordering: .relaxed)) ready; first error: \(agentState.firstError.withLock { $0 } ?? "none")")
                }
                await window(true)
                state.measuring.store(true, ordering: .relaxed)
                let start = nowNanos() + 20_000_000
                report.add("start_ns", Double(start))
                startAt.set(start)
                try await agents.waitForAll()
            }
            let loadSeconds = Double(nowNanos() - UInt64(report.value("start_ns") ?? 0)) / 1e9
            await window(false)
            let expected = subscribers * requests
            _ = await wait(seconds: options.grace) { state.markers.load(ordering: .relaxed) >= expected }
            try await Task.sleep(for: .milliseconds(300))
            report.add("load_seconds", loadSeconds)
            group.cancelAll()
            var outcomes: [(Bool, SubscriberOutcome)] = []
            while let outcome = try await group.next() {
                if let outcome { outcomes.append(outcome) }
            }
            return outcomes
        }
        report.remove("start_ns")

        let sentAt = sent.value
        let answeredAt = answered.value
        let dueAt = due.value
        var post = makeLatencyHistogram()
        var lag = makeLatencyHistogram()
        for index in 0..<requests where sentAt[index] != 0 {
            _ = post.record(answeredAt[index] - sentAt[index])
            _ = lag.record(sentAt[index] > dueAt[index] ? sentAt[index] - dueAt[index] : 0)
        }
        report.add("requests", Double(requests))
        report.add("requests_per_s", Double(requests) / max(report.value("load_seconds") ?? 1, 0.001))
        report.add("agents", Double(options.agents))
        report.addLatency("post_on_a_latency", post)
        report.add("send_lag_p99_ms", Double(lag.valueAtPercentile(99)) / 1e6)

        for remote in [true, false] {
            let seen = outcomes.filter { $0.0 == remote }.map(\.1)
            let wanted = remote ? options.supervisors : options.localSupervisors
            guard wanted > 0 else { continue }
            let prefix = remote ? "cross_node" : "same_node"
            var latency = makeLatencyHistogram()
            var missing = 0
            var duplicates = 0
            var deliveries = 0
            for outcome in seen {
                duplicates += outcome.duplicates
                deliveries += outcome.deliveries
                for index in 0..<requests {
                    let received = outcome.receivedAt[index]
                    if received == 0 || sentAt[index] == 0 { missing += 1; continue }
                    _ = latency.record(received > sentAt[index] ? received - sentAt[index] : 0)
                }
            }
            missing += (wanted - seen.count) * requests
            report.add("\(prefix)_supervisors", Double(wanted))
            report.add("\(prefix)_expected", Double(wanted * requests))
            report.add("\(prefix)_delivered", Double(latency.totalCount))
            report.add("\(prefix)_missing", Double(missing))
            report.add("\(prefix)_duplicates", Double(duplicates))
            report.add("\(prefix)_events", Double(deliveries))
            report.addLatency("\(prefix)_latency", latency)
        }
        report.note("latency: from writing the POST on node A to a supervisor reading its requestsAdded (cross_node: on node B)")
        return report
    }
}
