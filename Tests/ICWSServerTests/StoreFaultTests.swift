import Foundation
import HTTPTypes
import Testing

/// Storage faults an unlucky operator causes while the server runs.
@Suite("Store faults")
struct StoreFaultTests {
    @Test("the data directory deleted under a running server: writes answer 503 and /health says degraded, instead of 201s lost at the next start")
    func deletedDataDirectory() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            try FileManager.default.removeItem(atPath: server.dataDirectory)

            let refused = try await agent.send(.post, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"help"}"#)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorId == "error.server.unavailable")
            // The probe keeps failing while the file is gone: health does not flip back to ok.
            try await Task.sleep(for: .milliseconds(1_500))
            let health = try await http.send(.get, "/health")
            #expect(health.status == .serviceUnavailable)
            #expect(health.object["status"] as? String == "degraded")
        }
    }
}
