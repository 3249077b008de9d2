import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A client command of the built `openicws`, run to its end: exit status, standard output and standard error.
func runClient(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = try clientProcess(arguments, environment: environment)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Standard error is read beside standard output so that neither pipe can fill up and block the command.
    let errors = DataBox()
    let reading = DispatchGroup()
    reading.enter()
    DispatchQueue.global().async {
        errors.data = err.fileHandleForReading.readDataToEndOfFile()
        reading.leave()
    }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    reading.wait()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.data, as: UTF8.self))
}

/// Bytes handed from a reading thread; the dispatch group's wait orders the accesses.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// A process for the built `openicws` with `environment` added to a clean one (no OPENICWS_* from the caller).
func clientProcess(_ arguments: [String], environment: [String: String]) throws -> Process {
    let process = Process()
    let executable = try #require(BuiltServer.executable)
    process.executableURL = executable
    process.arguments = arguments
    var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENICWS_") }
    for (key, value) in environment { base[key] = value }
    process.environment = base
    return process
}

/// Lines a running process writes, collected as they come.
final class ProcessLines: Sendable {
    private let text = Mutex("")

    init(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
    }

    var all: String { text.withLock { $0 } }
    var lines: [String] { all.split(separator: "\n").map(String.init) }

    /// Waits until a line satisfies `condition`; fails the test after `seconds`.
    @discardableResult
    func waitFor(_ what: String, seconds: Double = 10, _ condition: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = lines.first(where: condition) { return line }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what); output so far:\n\(all)")
        throw CancellationError()
    }
}

@Suite(
    "The client commands of openicws against a live server process",
    .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found; run `swift build` first"))
struct ClientCommandTests {
    static func startServer() async throws -> ServerProcess {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-cli-\(UUID().uuidString)").path
        return try await ServerProcess(executable: try #require(BuiltServer.executable), dataDirectory: data, port: try freeLoopbackPort(), adminToken: "cli-token")
    }

    @Test("interactions, request, accept, say, complete, ignore: results on stdout, ICWS errors on stderr with a non-zero exit")
    func actionCommands() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let admin = ["--server", server.baseURL, "--admin-token", "cli-token"]
        let created = try runClient(["interactions", "create", "--workgroup", "Support", "--agent", "agent1"] + admin)
        #expect(created.status == 0, "\(created)")
        let interaction = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!interaction.isEmpty && interaction.allSatisfy(\.isNumber), "\(created)")

        // Connection from the environment this time.
        let agentEnvironment = ["OPENICWS_SERVER": server.baseURL, "OPENICWS_USER": "agent1", "OPENICWS_PASSWORD": "1234"]
        let requested = try runClient(["request", interaction, "--text", "Refund over my limit"], environment: agentEnvironment)
        #expect(requested.status == 0, "\(requested)")
        let id = requested.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("a"), "\(requested)")

        let supervisor = ["--server", server.baseURL, "--user", "supervisor1", "--password", "1234"]
        let ignored = try runClient(["ignore", id, "--server", server.baseURL, "--user", "supervisor2", "--password", "1234"])
        #expect(ignored.status == 0 && ignored.stdout == "ignored \(id)\n", "\(ignored)")
        let accepted = try runClient(["accept", id] + supervisor)
        #expect(accepted.status == 0 && accepted.stdout == "accepted \(id)\n", "\(accepted)")
        let said = try runClient(["say", id, "--text", "How much?"] + supervisor)
        #expect(said.status == 0 && said.stdout == "said on \(id)\n", "\(said)")
        let agentSaid = try runClient(["say", id, "--text", "300"], environment: agentEnvironment)
        #expect(agentSaid.status == 0, "\(agentSaid)")

        // A second request on the same interaction is refused while the first is active: the ICWS error, exit 1.
        let again = try runClient(["request", interaction, "--text", "again"], environment: agentEnvironment)
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("error.request.assistance.alreadyActive") && again.stderr.contains("HTTP 400"), "\(again)")
        #expect(again.stdout.isEmpty)

        let completed = try runClient(["complete", id], environment: agentEnvironment)
        #expect(completed.status == 0 && completed.stdout == "completed \(id)\n", "\(completed)")
        let details = try await server.login("agent1")
        #expect(try await server.send(details, .PUT, "/messaging/subscriptions/interactions/agent-assistance").status == .noContent)
        let snapshot = try await server.send(details, .GET, "/messaging/messages").array
        #expect(snapshot.first?["requestsAdded"] as? [String] == [], "the request is still active: \(snapshot)")

        // A wrong password: the login error with its id and code.
        let refused = try runClient(["complete", id, "--server", server.baseURL, "--user", "agent1", "--password", "nope"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error.request.connection.authenticationFailure") && refused.stderr.contains("-2147221503"), "\(refused)")
        // No password and no terminal: a usage error, not a hang.
        let noPassword = try runClient(["complete", id, "--server", server.baseURL, "--user", "agent1"])
        #expect(noPassword.status != 0 && noPassword.stderr.contains("OPENICWS_PASSWORD"), "\(noPassword)")

        let listed = try runClient(["interactions", "list"] + admin)
        #expect(listed.status == 0 && listed.stdout.contains(interaction) && listed.stdout.contains("agent agent1"), "\(listed)")
        let disconnected = try runClient(["interactions", "disconnect", interaction], environment: ["OPENICWS_SERVER": server.baseURL, "OPENICWS_ADMIN_TOKEN": "cli-token"])
        #expect(disconnected.status == 0, "\(disconnected)")
        let json = try runClient(["interactions", "list", "--json"] + admin)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((json.stdout.split(separator: "\n").first ?? "").utf8)) as? [String: Any])
        #expect(object["interactionId"] as? String == interaction && object["state"] as? String == "disconnected", "\(json)")
        let badToken = try runClient(["interactions", "list", "--server", server.baseURL, "--admin-token", "wrong"])
        #expect(badToken.status == 1 && badToken.stderr.contains("HTTP 401"), "\(badToken)")
        let noToken = try runClient(["interactions", "list", "--server", server.baseURL])
        #expect(noToken.status != 0 && noToken.stderr.contains("OPENICWS_ADMIN_TOKEN"), "\(noToken)")
    }

    @Test("watch supervisor-assistance --json prints every message as one JSON line at once; Ctrl-C logs out and exits 0")
    func watchJSON() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let process = try clientProcess(
            ["watch", "supervisor-assistance", "--json", "--server", server.baseURL, "--user", "supervisor1", "--password", "1234"], environment: [:])
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let stdout = ProcessLines(out)
        let stderr = ProcessLines(err)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try await stdout.waitFor("the snapshot") { $0.contains("supervisorAssistanceRequestMessage") && $0.contains(#""isDelta":false"#) }
        let session = try #require(try await stderr.waitFor("the session id") { $0.contains("session ") }
            .split(separator: "session ").last?.prefix { $0.isNumber })

        let agent = try await server.login("agent1")
        let created = try await server.request(.POST, "/admin/interactions", headers: [("Authorization", "Bearer cli-token")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        let requested = try await server.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"watch me"}"#)
        let id = try #require(requested.object["assistanceId"] as? String)
        let added = try await stdout.waitFor("the new request") { $0.contains(#""requestsAdded""#) && $0.contains(id) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(added.utf8)) as? [String: Any])
        #expect(object["__type"] as? String == "urn:inin.com:interactions.assistance:supervisorAssistanceRequestMessage")
        #expect(object["isDelta"] as? Bool == true)
        _ = try await server.send(agent, .DELETE, "/interactions/agent-assistance/\(id)")
        try await stdout.waitFor("the removal") { $0.contains(#""requestsRemoved":["\#(id)"]"#) }
        // Every line is one JSON object; nothing else on stdout.
        for line in stdout.lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)") }

        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "\(stderr.all)")
        // Logged out: the request journal shows the session's DELETE …/connection answered 200.
        let journal = try await server.request(.GET, "/admin/requests?limit=50", headers: [("Authorization", "Bearer cli-token")])
        let entries = try #require(journal.object["requests"] as? [[String: Any]])
        #expect(entries.contains { $0["method"] as? String == "DELETE" && ($0["path"] as? String ?? "").hasSuffix("/connection")
            && $0["sessionId"] as? String == String(session) && $0["status"] as? Int == 200 }, "\(entries)")
        #expect(stderr.all.contains("logged out"))
    }

    @Test("watch agent-assistance without --json: one readable line per change, no colour off a terminal")
    func watchReadable() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let process = try clientProcess(["watch", "agent-assistance"], environment: [
            "OPENICWS_SERVER": server.baseURL, "OPENICWS_USER": "agent1", "OPENICWS_PASSWORD": "1234",
        ])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let stdout = ProcessLines(out)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try await stdout.waitFor("the empty snapshot") { $0.hasSuffix("no active requests") }
        let agent = try await server.login("agent1")
        let supervisor = try await server.login("supervisor1")
        let created = try await server.request(.POST, "/admin/interactions", headers: [("Authorization", "Bearer cli-token")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        let id = try #require(try await server.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"Refund please"}"#).object["assistanceId"] as? String)
        try await stdout.waitFor("the request") { $0.contains("\(id) on interaction \(interaction): waiting") }
        try await stdout.waitFor("the problem") { $0.contains("\(id) agent1: Refund please") }
        _ = try await server.send(supervisor, .POST, "/interactions/supervisor-assistance/\(id)", json: #"{"action":3,"text":"On it"}"#)
        try await stdout.waitFor("the acceptance") { $0.contains("\(id) is now accepted") }
        try await stdout.waitFor("the supervisor's line") { $0.contains("\(id) supervisor1: On it") }
        _ = try await server.send(agent, .DELETE, "/interactions/agent-assistance/\(id)")
        try await stdout.waitFor("the end") { $0.contains("\(id) left your list") }
        #expect(!stdout.all.contains("\u{1B}["), "colour codes written to a pipe")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("simulate runs a few seconds with zero errors; its last line is a JSON summary that matches the server")
    func simulator() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString).json")
        try Data(#"{"agent1":"1234","agent2":"1234","supervisor1":"1234"}"#.utf8).write(to: credentials)
        defer { try? FileManager.default.removeItem(at: credentials) }
        let result = try runClient([
            "simulate", "--server", server.baseURL, "--admin-token", "cli-token", "--agents", "agent1,agent2,agent3",
            "--supervisors", "supervisor1,supervisor2", "--credentials", credentials.path, "--password", "1234", "--rate", "5", "--duration", "3",
        ])
        #expect(result.status == 0, "\(result)")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(summary["errors"] as? Int == 0, "\(result)")
        #expect(summary["requests"] as? Int == 15)
        #expect(summary["accepted"] as? Int == 15)
        #expect(summary["completed"] as? Int == 15)
        #expect((summary["messages"] as? Int ?? 0) >= 15 * 5, "\(summary)")
        // What the server saw: 15 interactions, every one disconnected.
        let listed = try await server.request(.GET, "/admin/interactions", headers: [("Authorization", "Bearer cli-token")])
        let interactions = try #require(listed.object["interactions"] as? [[String: Any]])
        #expect(interactions.count == 15 && interactions.allSatisfy { $0["state"] as? String == "disconnected" })

        // A wrong password for one user: the login error, exit 1.
        let refused = try runClient([
            "simulate", "--server", server.baseURL, "--admin-token", "cli-token", "--agents", "agent1", "--supervisors", "supervisor1",
            "--password", "wrong", "--rate", "1", "--duration", "1",
        ])
        #expect(refused.status == 1 && refused.stderr.contains("authenticationFailure"), "\(refused)")
    }
}
