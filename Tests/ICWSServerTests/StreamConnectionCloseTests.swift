import Foundation
import Testing

@Suite("Event streams of clients that send Connection: close")
struct StreamConnectionCloseTests {
    @Test(
        "a stream requested with Connection: close (Python's urllib sends it) stays open and delivers, closing only when it ends",
        .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"))
    func connectionClose() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        let (agent, socket) = try await server.openRawStream("agent1", extraHeaders: "Connection: close\r\n")
        let first = socket.readUntilClosed(seconds: 1.5)
        #expect(!first.closed, "the server closed the stream right after opening it:\n\(first.text)")
        #expect(first.text.contains("assistanceRequestListMessage"), "\(first.text)")

        // Still open: a change made now arrives on it.
        let created = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        #expect(try await server.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"help"}"#).status == .created)
        let later = socket.readUntilClosed(seconds: 1.5)
        #expect(!later.closed)
        #expect(later.text.contains(#""requestsAdded":["a1"]"#), "\(later.text)")
    }
}
