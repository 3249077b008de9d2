import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Graceful shutdown of the real process")
struct ShutdownTests {
    @Test(
        "SIGTERM tells open streams to reconnect, closes them, keeps committed work, and exits 0",
        .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"))
    func sigterm() async throws {
        let executable = try #require(BuiltServer.executable)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-shutdown-\(UUID().uuidString)").path
        let port = try freeLoopbackPort()
        let server = try await ServerProcess(executable: executable, dataDirectory: data, port: port, adminToken: "t")
        defer { server.killHard() }

        let agent = try await server.login("agent1")
        let cookie = try #require(agent.headers.first { $0.0 == "Cookie" }?.1)
        let created = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        let requested = try await server.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"help"}"#)
        #expect(requested.status == .created)

        let stream = try await EventStreamRecorder.open(url: server.baseURL + "/icws/\(agent.sessionId)/messaging/messages", cookie: cookie)
        #expect(await stream.status == 200)
        try await Task.sleep(for: .milliseconds(200))
        kill(server.process.processIdentifier, SIGTERM)

        let events = try await stream.waitForEvents(1)
        let message = events[0].object
        #expect(message.type == connectionChangeType)
        #expect(message["shouldReconnect"] as? Bool == true)
        #expect(await stream.waitUntilClosed())

        let deadline = Date().addingTimeInterval(15)
        while server.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.process.isRunning, "the server did not exit after SIGTERM")
        #expect(server.process.terminationStatus == 0, "exit status \(server.process.terminationStatus); log:\n\(server.log)")

        // What was answered 201 before the shutdown is there after a restart.
        let again = try await ServerProcess(executable: executable, dataDirectory: data, port: try freeLoopbackPort(), adminToken: "t")
        defer { again.killHard() }
        let next = try await again.login("agent1")
        _ = try await again.send(next, .PUT, "/messaging/subscriptions/interactions/agent-assistance")
        let snapshot = try await again.send(next, .GET, "/messaging/messages")
        #expect((snapshot.array.first?["requestsAdded"] as? [String])?.count == 1)
    }
}
