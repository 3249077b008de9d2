import Foundation
import ICWSCore
import NIOHTTP1
import Testing

/// What the real binary writes to its log when clients misbehave, and what it never writes.
@Suite("Logs keep secrets and stay one line per event")
struct LogSafetyTests {
    @Test("at --log-level debug the admin token never appears; a user id with a newline cannot forge a log line")
    func secretsAndForgedLines() async throws {
        let executable = try #require(BuiltServer.executable, "build openicws first")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let token = "admin-secret-\(UUID().uuidString)"
        let server = try await ServerProcess(
            executable: executable, dataDirectory: folder.appendingPathComponent("data").path, port: try freeLoopbackPort(),
            adminToken: token, extraArguments: ["--log-level", "debug"])
        defer { server.stop() }

        let forged = "2026-01-01T00:00:00Z critical openicws: FORGED"
        let body = #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"t","userID":"nobody\n"#
            + forged + #"","password":"wrong"}"#
        let refused = try await server.request(.POST, "/icws/connection", headers: [("Accept-Language", "en-US")], json: body)
        #expect(refused.status == .badRequest)
        let created = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer \(token)")],
            json: #"{"agent":"agent1","type":"call","remoteName":"x"}"#)
        #expect(created.status == .created)
        try await Task.sleep(for: .milliseconds(200))

        let log = server.log
        #expect(log.contains("login refused"), "the refused login was not logged at all:\n\(log)")
        #expect(!log.contains(token), "the admin token is in the log")
        #expect(!log.split(separator: "\n").contains { $0.hasPrefix("2026-01-01T00:00:00Z") }, "a client forged a log line")
    }
}

@Suite("Log formats and the access log")
struct LogFormatTests {
    @Test("--log-format json writes one JSON object per line, a newline in a user id included; --access-log logs each request by route, status and user, without session ids")
    func jsonAndAccessLog() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await ServerProcess(
            executable: try #require(BuiltServer.executable), dataDirectory: folder.appendingPathComponent("data").path,
            port: try freeLoopbackPort(), adminToken: "t", extraArguments: ["--log-level", "info", "--log-format", "json", "--access-log"])
        defer { server.stop() }
        let body = #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"nobody\nFORGED","password":"x"}"#
        _ = try await server.request(.POST, "/icws/connection", headers: [("Accept-Language", "en-US")], json: body)
        let agent = try await server.login("agent1")
        _ = try await server.send(agent, .GET, "/connection")
        try await Task.sleep(for: .milliseconds(200))

        let lines = server.log.split(separator: "\n")
        let objects = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(objects.count == lines.count, "lines that are not JSON:\n\(lines.filter { !$0.hasPrefix("{") }.joined(separator: "\n"))")
        let refused = objects.first { $0["message"] as? String == "login refused" }
        #expect((refused?["metadata"] as? [String: String])?["userId"] == "nobody\nFORGED")
        let access = objects.filter { $0["label"] as? String == "openicws.access" }.compactMap { $0["metadata"] as? [String: String] }
        #expect(access.contains { $0["route"] == "/icws/connection" && $0["status"] == "400" && $0["method"] == "POST" })
        let own = access.first { $0["method"] == "GET" && $0["route"]?.hasSuffix("/connection") == true }
        #expect(own?["user"] == "agent1" && own?["status"] == "200", "\(access)")
        #expect(!server.log.contains(agent.sessionId + "/"), "a session id is in the access log")
    }
}

@Suite("Secrets")
struct SecretTests {
    @Test("a password with a NUL byte is refused even when what precedes the NUL is the password")
    func nulInPassword() {
        let directory = Directory.demo()
        #expect(directory.verifyPassword("1234", for: "agent1") != nil)
        #expect(directory.verifyPassword("1234\u{0}anything", for: "agent1") == nil)
    }

    @Test("token comparison: equal only when every byte and the length match")
    func tokenComparison() {
        #expect(SessionSecrets.constantTimeEquals("secret", "secret"))
        #expect(!SessionSecrets.constantTimeEquals("secre", "secret"))
        #expect(!SessionSecrets.constantTimeEquals("secretsecret", "secret"))
        #expect(!SessionSecrets.constantTimeEquals("", "secret"))
        #expect(!SessionSecrets.constantTimeEquals("secret", ""))
        #expect(SessionSecrets.constantTimeEquals("", ""))
        #expect(!SessionSecrets.constantTimeEquals("secreT", "secret"))
    }
}
