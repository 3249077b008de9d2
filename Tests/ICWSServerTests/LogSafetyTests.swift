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
