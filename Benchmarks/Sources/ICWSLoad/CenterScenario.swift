import Foundation
import Histogram
import NIOCore
import Synchronization

extension Scenarios {
    /// Settings of the contact-center scenario.
    public struct CenterOptions: Sendable {
        public var agents = 5_000
        public var supervisors = 200
        public var workgroups = 20
        /// Assistance requests per second, over all agents.
        public var rate = 100.0
        public var duration = 30.0
        /// One request in `acceptEvery` is accepted by a supervisor, who chats one line, before the agent completes it.
        public var acceptEvery = 4
        /// Connections that carry the agents' and supervisors' calls (sessions are not bound to connections).
        public var callers = 32
        public var loginConcurrency = 64
        public var grace = 10.0
        public init() {}
    }

    /// The users of the generated directory: `agent<n>` in workgroup `wg<n % workgroups>`, and
    /// `supervisor<n>` supervising workgroup `wg<n % workgroups>`.
    public static func centerDirectory(_ options: CenterOptions, passwordHash: String) -> String {
        var users: [String] = []
        var members = Array(repeating: [String](), count: options.workgroups)
        var supervisors = Array(repeating: [String](), count: options.workgroups)
        let rights = #"{"canRequestAssistanceFromSupervisor":true,"showAssistanceButton":true}"#
        for index in 0..<options.agents {
            users.append(#"{"userId":"agent\#(index)","passwordHash":"\#(passwordHash)","rights":\#(rights)}"#)
            members[index % options.workgroups].append("\"agent\(index)\"")
        }
        for index in 0..<options.supervisors {
            users.append(#"{"userId":"supervisor\#(index)","passwordHash":"\#(passwordHash)"}"#)
            supervisors[index % options.workgroups].append("\"supervisor\(index)\"")
        }
        let groups = (0..<options.workgroups).map { group in
            #"{"name":"wg\#(group)","members":[\#(members[group].joined(separator: ","))],"supervisors":[\#(supervisors[group].joined(separator: ","))]}"#
        }
        return #"{"users":[\#(users.joined(separator: ",\n"))],"workgroups":[\#(groups.joined(separator: ",\n"))]}"#
    }

    /// A contact center at work: every agent and supervisor on an event stream (agents watch their own
    /// requests, supervisors their workgroup's); agents raise requests at `rate`/s, a supervisor accepts and
    /// chats on one in `acceptEvery`, and the agent completes each. Latency runs from sending the request's
    /// POST to each of its workgroup's supervisors receiving it; every supervisor must receive every request of
    /// its workgroup exactly once.
    public static func center(_ target: LoadTarget, _ options: CenterOptions) async throws -> LoadReport {
        let requests = max(1, Int(options.rate * options.duration))
        let sentAt = Locked<[UInt64]>(Array(repeating: 0, count: requests))
        let supervisorState = RunState()
        let agentState = RunState()
        var report = LoadReport(scenario: "center")
        let people = options.agents + options.supervisors
        let gate = supervisorState
        let counts = CenterCounts()

        // Sessions first (the callers act for them), then their streams.
        let sessions = Locked<[String: ICWSLoadSession]>([:])
        let outcomes = try await withThrowingTaskGroup(of: (Int?, SubscriberOutcome)?.self) { group -> [(Int?, SubscriberOutcome)] in
            for person in 0..<people {
                let isSupervisor = person >= options.agents
                let watched: Int? = isSupervisor ? (person - options.agents) % options.workgroups : nil
                let userId = isSupervisor ? "supervisor\(person - options.agents)" : "agent\(person)"
                let state = isSupervisor ? supervisorState : agentState
                group.addTask {
                    let outcome = await subscribe(
                        target, userId: userId, watch: isSupervisor ? "supervisor-assistance" : "agent-assistance",
                        requests: requests, state: state, gate: gate, loginConcurrency: options.loginConcurrency,
                        loggedIn: { session in sessions.withLock { $0[userId] = session } })
                    return outcome.map { (watched, $0) }
                }
            }
            let allReady = await wait(seconds: 120 + Double(people) / 50) {
                supervisorState.ready.load(ordering: .relaxed) + agentState.ready.load(ordering: .relaxed)
                    + supervisorState.failures.load(ordering: .relaxed) + agentState.failures.load(ordering: .relaxed) >= people
            }
            let failures = supervisorState.failures.load(ordering: .relaxed) + agentState.failures.load(ordering: .relaxed)
            guard allReady, failures == 0 else {
                group.cancelAll()
                let first = supervisorState.firstError.withLock { $0 } ?? agentState.firstError.withLock { $0 } ?? "none"
                throw LoadError("people not ready: \(supervisorState.ready.load(ordering: .relaxed) + agentState.ready.load(ordering: .relaxed)) of \(people), \(failures) failed; first error: \(first)")
            }
            let known = sessions.withLock { $0 }
            supervisorState.measuring.store(true, ordering: .relaxed)
            agentState.measuring.store(true, ordering: .relaxed)
            let start = nowNanos()
            let cpuBefore = target.serverProcess.flatMap(processCPUSeconds)
            // The callers work through the schedule: request `index` is raised by agent `index % agents`.
            try await withThrowingTaskGroup(of: Void.self) { callers in
                for caller in 0..<options.callers {
                    callers.addTask {
                        try await LoadConnection.with(host: target.host, port: target.port) { connection in
                            var index = caller
                            while index < requests {
                                defer { index += options.callers }
                                try await sleepUntil(request: index, of: start, rate: options.rate)
                                let agentIndex = index % options.agents
                                let workgroup = agentIndex % options.workgroups
                                guard let agent = known["agent\(agentIndex)"] else { continue }
                                do {
                                    let interaction = try await connection.createInteraction(
                                        adminToken: target.adminToken, workgroup: "wg\(workgroup)", agent: "agent\(agentIndex)")
                                    sentAt.withLock { $0[index] = nowNanos() }
                                    let created = try await connection.call(
                                        agent, .POST, "/interactions/\(interaction)/agent-assistance", body: #"{"text":"bench#\#(index)"}"#, expect: 201)
                                    guard let id = LoadJSON.string("assistanceId", in: created.body) else { throw LoadError("no assistanceId") }
                                    if index % options.acceptEvery == 0 {
                                        // A supervisor of the workgroup accepts and writes one line.
                                        let supervisorIndex = workgroup + options.workgroups * (index / options.workgroups % max(1, options.supervisors / options.workgroups))
                                        if let supervisor = known["supervisor\(supervisorIndex)"] {
                                            try await connection.call(
                                                supervisor, .POST, "/interactions/supervisor-assistance/\(id)",
                                                body: #"{"action":3,"text":"on my way"}"#, expect: 204)
                                            counts.accepted.add(1, ordering: .relaxed)
                                        }
                                    }
                                    try await connection.call(agent, .DELETE, "/interactions/agent-assistance/\(id)", expect: 204)
                                } catch {
                                    counts.failures.add(1, ordering: .relaxed)
                                }
                            }
                        }
                    }
                }
                try await callers.waitForAll()
            }
            let loadSeconds = Double(nowNanos() - start) / 1e9
            let perWorkgroup = options.supervisors / options.workgroups
            let expected = requests * perWorkgroup
            _ = await wait(seconds: options.grace) { supervisorState.markers.load(ordering: .relaxed) >= expected }
            try await Task.sleep(for: .milliseconds(300))
            if let cpuBefore, let cpuAfter = target.serverProcess.flatMap(processCPUSeconds) {
                report.add("server_cpu_us_per_request", (cpuAfter - cpuBefore) * 1e6 / Double(requests))
            }
            report.add("load_seconds", loadSeconds)
            report.add("accepted", Double(counts.accepted.load(ordering: .relaxed)))
            report.add("call_failures", Double(counts.failures.load(ordering: .relaxed)))
            group.cancelAll()
            var outcomes: [(Int?, SubscriberOutcome)] = []
            while let outcome = try await group.next() {
                if let outcome { outcomes.append(outcome) }
            }
            return outcomes
        }

        let sent = sentAt.withLock { $0 }
        var latency = makeLatencyHistogram()
        var missing = 0
        var duplicates = 0
        var supervisorMessages = 0
        var agentMessages = 0
        for (watched, outcome) in outcomes {
            guard let workgroup = watched else {
                agentMessages += outcome.deliveries
                continue
            }
            supervisorMessages += outcome.deliveries
            duplicates += outcome.duplicates
            // Every request of the supervisor's workgroup, once.
            for index in 0..<requests where (index % options.agents) % options.workgroups == workgroup {
                let received = outcome.receivedAt[index]
                if received == 0 { missing += 1; continue }
                _ = latency.record(received > sent[index] ? received - sent[index] : 0)
            }
        }
        report.add("agents", Double(options.agents))
        report.add("supervisors", Double(options.supervisors))
        report.add("requests", Double(requests))
        report.add("requests_per_s", Double(requests) / max(report.value("load_seconds") ?? 1, 0.001))
        report.add("supervisor_messages", Double(supervisorMessages))
        report.add("agent_messages", Double(agentMessages))
        report.addLatency("latency", latency)
        report.add("missing", Double(missing))
        // An accepted request shows again in its supervisors' lists (it changed): those repeats are expected.
        let expectedRepeats = Int(report.value("accepted") ?? 0) * (options.supervisors / options.workgroups)
        report.add("duplicates", Double(max(0, duplicates - expectedRepeats)))
        report.add("changed_repeats", Double(min(duplicates, expectedRepeats)))
        return report
    }
}

/// What the callers of the center scenario counted.
final class CenterCounts: Sendable {
    let accepted = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
}
