import ArgumentParser
import Foundation
import ICWSClient

/// `openicws simulate`: logs in agents and supervisors and drives assistance traffic through the SDK.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate traffic: route interactions to agents (admin API), raise requests, accept or ignore them, chat, complete.",
        discussion: """
            Every user logs in and watches (agents: agent-assistance, supervisors: supervisor-assistance) over
            the messages stream. For each request the simulator waits until every supervisor's view shows it
            before a supervisor acts, and until it has left their views after completion; a step that fails
            or waits more than --step-timeout seconds counts as an error. Passwords come from --credentials
            (a JSON object {"userId": "password"}), else --password / OPENICWS_PASSWORD, else a prompt.
            The last line printed is one JSON object: requests, accepted, ignored, completed, chatLines,
            interactions, messages, errors. The exit status is 1 when errors > 0.
            """)

    @OptionGroup var admin: AdminOptions

    @Option(help: "Agents to log in, comma-separated (members of --workgroup).")
    var agents = "agent1,agent2,agent3"

    @Option(help: "Supervisors to log in, comma-separated (supervisors of --workgroup).")
    var supervisors = "supervisor1,supervisor2"

    @Option(help: "Password for every user not in --credentials (default: OPENICWS_PASSWORD; asked for on a terminal).")
    var password: String?

    @Option(help: "A JSON file {\"userId\": \"password\"} with the users' passwords.")
    var credentials: String?

    @Option(help: "Assistance requests started per second.")
    var rate: Double = 2

    @Option(help: "Seconds to start requests for (requests under way then finish).")
    var duration: Double = 10

    @Option(help: "The workgroup interactions are routed through.")
    var workgroup = "Support"

    @Option(help: "Share of requests (0–1) a first supervisor ignores before another accepts (needs two supervisors).")
    var ignoreRatio: Double = 0.2

    @Option(help: "Seconds a step may wait for a message before it counts as an error.")
    var stepTimeout: Double = 10

    func validate() throws {
        guard rate > 0, rate <= 10_000 else { throw ValidationError("--rate must be above 0 and at most 10000") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard (0...1).contains(ignoreRatio) else { throw ValidationError("--ignore-ratio must be between 0 and 1") }
        guard stepTimeout > 0 else { throw ValidationError("--step-timeout must be positive") }
        guard !Self.list(agents).isEmpty else { throw ValidationError("--agents names nobody") }
        guard !Self.list(supervisors).isEmpty else { throw ValidationError("--supervisors names nobody") }
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The password of every user: from the credentials file, else the shared password.
    func passwords(for users: [String]) throws -> [String: String] {
        var known: [String: String] = [:]
        if let credentials {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: credentials))
            } catch {
                throw ValidationError("--credentials \(credentials): cannot be read (\(error.localizedDescription))")
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("--credentials \(credentials): expected a JSON object {\"userId\": \"password\"}")
            }
            for (user, value) in object {
                guard let text = value as? String else { throw ValidationError("--credentials \(credentials): the password of \(user) is not a string") }
                known[user] = text
            }
        }
        let missing = users.filter { known[$0] == nil }
        if !missing.isEmpty {
            guard let shared = ConnectionOptions.password(password, prompt: "Password for \(missing.joined(separator: ", ")): ") else {
                throw ValidationError("no password for \(missing.joined(separator: ", ")): give --password, --credentials or OPENICWS_PASSWORD")
            }
            for user in missing { known[user] = shared }
        }
        return known
    }

    func run() async throws {
        let admin = try admin.admin()
        let agents = Self.list(agents)
        let supervisors = Self.list(supervisors)
        let passwords = try passwords(for: agents + supervisors)
        let simulator = TrafficSimulator(
            server: admin.server, admin: admin, agents: agents, supervisors: supervisors, passwords: passwords, workgroup: workgroup,
            ignoreRatio: ignoreRatio, stepTimeout: .milliseconds(Int(stepTimeout * 1_000)))
        let (rate, duration) = (rate, duration)
        let tally = try await reportingICWSErrors {
            try await Terminal.runCancellableBySignals {
                try await simulator.run(rate: rate, duration: duration)
            }
        }
        Terminal.endProgress()
        Terminal.line("simulated \(String(format: "%.1f", tally.seconds)) s at \(rate) requests/s against \(admin.server) (\(agents.count) agents, \(supervisors.count) supervisors)")
        Terminal.line("  interactions \(tally.interactions), requests \(tally.requests), accepted \(tally.accepted), ignored \(tally.ignored), completed \(tally.completed), chat lines \(tally.chatLines)")
        Terminal.line("  messages received \(tally.messages), errors \(tally.errors)")
        Terminal.line(tally.json)
        if tally.errors > 0 { throw ExitCode(1) }
    }
}
