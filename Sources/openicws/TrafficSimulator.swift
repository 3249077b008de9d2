import Foundation
import ICWSClient
import Synchronization

/// What a simulation did; printed as its summary.
struct SimulationTally: Sendable {
    var interactions = 0
    var requests = 0
    var accepted = 0
    var ignored = 0
    var completed = 0
    var chatLines = 0
    var messages = 0
    var errors = 0
    var seconds = 0.0

    /// One JSON object with every count (sorted keys).
    var json: String {
        let object: [String: Any] = [
            "interactions": interactions, "requests": requests, "accepted": accepted, "ignored": ignored, "completed": completed,
            "chatLines": chatLines, "messages": messages, "errors": errors, "seconds": (seconds * 10).rounded() / 10,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// A step that waited too long for what it expected to see.
struct SimulationStepTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Drives assistance traffic with real sessions through the SDK.
final class TrafficSimulator: Sendable {
    let server: String
    let admin: ICWSAdmin
    let agents: [String]
    let supervisors: [String]
    let passwords: [String: String]
    let workgroup: String
    let ignoreRatio: Double
    let stepTimeout: Duration
    private let tally = Mutex(SimulationTally())
    private let reported = Atomic<Int>(0)

    init(
        server: String, admin: ICWSAdmin, agents: [String], supervisors: [String], passwords: [String: String], workgroup: String,
        ignoreRatio: Double, stepTimeout: Duration
    ) {
        self.server = server
        self.admin = admin
        self.agents = agents
        self.supervisors = supervisors
        self.passwords = passwords
        self.workgroup = workgroup
        self.ignoreRatio = ignoreRatio
        self.stepTimeout = stepTimeout
    }

    private func count(_ change: (inout SimulationTally) -> Void) {
        tally.withLock { change(&$0) }
    }

    /// Counts an error and prints the first few on standard error.
    private func failed(_ what: String, _ error: any Error) {
        count { $0.errors += 1 }
        if reported.add(1, ordering: .relaxed).newValue <= 10 {
            Terminal.endProgress()
            Terminal.error("error: \(what): \(error)")
        }
    }

    /// Logs everyone in, starts `rate` scenarios a second for `duration` seconds, waits for them, logs out.
    func run(rate: Double, duration: Double) async throws -> SimulationTally {
        var options = ICWSClient.Options()
        options.applicationName = "openicws simulate"
        let agentClients = try await login(agents, watching: .agentAssistance, options: options, alsoLogOut: [])
        let supervisorClients = try await login(supervisors, watching: .supervisorAssistance, options: options, alsoLogOut: agentClients)
        let (agentSessions, supervisorSessions) = (agentClients, supervisorClients)
        let everyone = agentClients + supervisorClients
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { readers in
            for client in everyone {
                readers.addTask { [self] in
                    do {
                        for try await _ in client.messages { count { $0.messages += 1 } }
                    } catch {
                        if !client.isLoggedOut { failed("the messages of \(client.userId)", error) }
                    }
                }
            }
            let total = max(1, Int((rate * duration).rounded()))
            let progress = Task { [self] in await showProgress(started: started, total: total) }
            await withTaskGroup(of: Void.self) { scenarios in
                for index in 0..<total {
                    let due = started + .milliseconds(Int(Double(index) / rate * 1_000))
                    if (try? await Task.sleep(until: due)) == nil { break }
                    scenarios.addTask { [self] in
                        await scenario(index, agent: agentSessions[index % agentSessions.count], supervisors: supervisorSessions)
                    }
                }
            }
            progress.cancel()
            await Self.logOut(everyone)
        }
        let elapsed = ContinuousClock.now - started
        return tally.withLock { tally in
            tally.seconds = elapsed / .seconds(1)
            return tally
        }
    }

    /// Logs `users` in, each watching `watch`; when one fails, logs out the ones already in (and `alsoLogOut`).
    private func login(
        _ users: [String], watching watch: ICWSSubscription, options: ICWSClient.Options, alsoLogOut: [ICWSClient]
    ) async throws -> [ICWSClient] {
        var clients: [ICWSClient] = []
        do {
            for user in users {
                let client = try await ICWSClient.connect(server: server, userId: user, password: passwords[user] ?? "", options: options)
                clients.append(client)
                try await client.subscribe(watch)
            }
            return clients
        } catch {
            await Self.logOut(alsoLogOut + clients)
            throw error
        }
    }

    /// Logs the clients out, also when the run was cancelled (Ctrl-C): in a task of its own, which the
    /// cancellation does not reach, or every logout would be cancelled before it is sent.
    private static func logOut(_ clients: [ICWSClient]) async {
        await Task {
            for client in clients { try? await client.logout() }
        }.value
    }

    private func showProgress(started: ContinuousClock.Instant, total: Int) async {
        guard Terminal.stderrIsTerminal else { return }
        while !Task.isCancelled {
            let now = tally.withLock { $0 }
            let elapsed = (ContinuousClock.now - started).components.seconds
            Terminal.progress("\(elapsed) s: \(now.requests)/\(total) requests, \(now.accepted) accepted, \(now.completed) completed, \(now.messages) messages, \(now.errors) errors")
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// One interaction from routing to hang-up, with its assistance request.
    private func scenario(_ index: Int, agent: ICWSClient, supervisors: [ICWSClient]) async {
        var step = "create an interaction for \(agent.userId)"
        do {
            let interaction = try await admin.createInteraction(workgroup: workgroup, agent: agent.userId, type: "call", remoteName: "Caller \(index + 1)")
            count { $0.interactions += 1 }
            step = "request assistance on \(interaction.interactionId)"
            let id = try await agent.requestAssistance(interactionId: interaction.interactionId, text: "Caller \(index + 1) needs a supervisor")
            count { $0.requests += 1 }
            step = "see \(id) on every supervisor's list"
            for supervisor in supervisors {
                try await waitUntil(supervisor, step) { $0.supervisorAssistance.requests[id] != nil }
            }
            var deciders = supervisors.shuffled()
            if deciders.count > 1, Double.random(in: 0..<1) < ignoreRatio {
                let ignoring = deciders.removeFirst()
                step = "\(ignoring.userId) ignores \(id)"
                try await ignoring.ignore(assistanceId: id)
                count { $0.ignored += 1 }
            }
            let accepting = deciders[0]
            step = "\(accepting.userId) accepts \(id)"
            try await accepting.accept(assistanceId: id)
            count { $0.accepted += 1 }
            step = "see \(id) accepted on \(accepting.userId)'s list"
            try await waitUntil(accepting, step) { $0.supervisorAssistance.requests[id]?.state == .accepted }
            step = "chat on \(id)"
            try await accepting.say(assistanceId: id, text: "What does the caller want?")
            try await agent.say(assistanceId: id, text: "A refund over my limit.")
            count { $0.chatLines += 2 }
            step = "\(agent.userId) completes \(id)"
            try await agent.complete(assistanceId: id)
            count { $0.completed += 1 }
            step = "see \(id) leave the lists"
            try await waitUntil(agent, step) { !$0.agentAssistance.assistanceIds.contains(id) }
            for supervisor in supervisors {
                try await waitUntil(supervisor, step) { $0.supervisorAssistance.requests[id] == nil }
            }
            step = "disconnect \(interaction.interactionId)"
            try await admin.disconnectInteraction(interaction.interactionId)
        } catch {
            if Task.isCancelled { return }
            failed(step, error)
        }
    }

    /// Waits until `client`'s views satisfy `condition`, checking every 10 ms, for at most the step timeout.
    private func waitUntil(_ client: ICWSClient, _ step: String, _ condition: (ICWSViews) -> Bool) async throws {
        let deadline = ContinuousClock.now + stepTimeout
        while !condition(client.views) {
            guard ContinuousClock.now < deadline else { throw SimulationStepTimeout(description: "not seen within \(stepTimeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
