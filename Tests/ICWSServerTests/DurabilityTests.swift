import Foundation
import HTTPTypes
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Durability: an acknowledged assistance request survives a restart")
struct DurabilityTests {
    @Test("In process: a request made before a restart is in the snapshot after it; the old session is gone")
    func survivesRestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-durable-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let (id, completed, oldSession) = try await TestServer.make(dataDirectory: folder).run { http in
            let agent = try await http.session("agent1")
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistanceId(interaction, text: "survive this")
            // A completed request must stay completed across the restart.
            let other = try await http.createInteraction(agent: "agent1")
            let completed = try await agent.requestAssistanceId(other, text: "done soon")
            #expect(try await agent.complete(completed).status == .noContent)
            return (id, completed, agent)
        }

        try await TestServer.make(dataDirectory: folder).run { http in
            let old = try await http.send(.get, oldSession.base + "/connection", headers: oldSession.authHeaders)
            #expect(old.status == .unauthorized, "\(old.text)")
            #expect(old.header("WWW-Authenticate") == icwsWWWAuthenticate)

            let agent = try await http.session("agent1")
            #expect(try await agent.watchAgentAssistance().status == .noContent)
            let snapshot = try await agent.poll()
            #expect(snapshot.first?.type == listType)
            #expect(snapshot.first?.isDelta == false)
            #expect(snapshot.first?.strings("requestsAdded") == [id], "\(snapshot)")
            #expect(snapshot.first?.strings("requestsAdded")?.contains(completed) == false)

            // Its details came back too.
            #expect(try await agent.send(.put, "/messaging/subscriptions/interactions/agent-assistance/\(id)").status == .noContent)
            let details = try await agent.poll().first
            #expect(details?.objects("messagesAdded")?.first?["text"] as? String == "survive this")
        }
    }

    @Test(
        "kill -9: a request answered 201 is in the watch snapshot after the process restarts",
        .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"),
        .timeLimit(.minutes(2)))
    func survivesSIGKILL() async throws {
        let executable = try #require(BuiltServer.executable)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-kill9-\(UUID().uuidString)")
        let data = root.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: root.path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let token = "kill9-token-\(UUID().uuidString)"

        let first = try await ServerProcess(executable: executable, dataDirectory: data, port: try freeLoopbackPort(), adminToken: token)
        var ids: [String] = []
        do {
            let agent = try await first.login("agent1")
            for index in 0..<3 {
                let created = try await first.request(
                    .POST, "/admin/interactions", headers: [("Authorization", "Bearer \(token)")],
                    json: #"{"type":"call","workgroup":"Support","agent":"agent1"}"#)
                try #require(created.status == .created, "create interaction answered \(created.status): \(created.body)")
                let interaction = try #require(created.object["interactionId"] as? String)
                let requested = try await first.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"help \#(index)"}"#)
                try #require(requested.status == .created, "request assistance answered \(requested.status): \(requested.body)")
                ids.append(try #require(requested.object["assistanceId"] as? String))
            }
        } catch {
            first.killHard()
            throw error
        }
        // No graceful shutdown: the 201s alone must have made the requests durable.
        first.killHard()
        #expect(first.process.terminationReason == .uncaughtSignal)
        #expect(first.process.terminationStatus == SIGKILL)

        let second = try await ServerProcess(executable: executable, dataDirectory: data, port: try freeLoopbackPort(), adminToken: token)
        defer { second.stop() }
        let agent = try await second.login("agent1")
        let put = try await second.send(agent, .PUT, "/messaging/subscriptions/interactions/agent-assistance")
        #expect(put.status == .noContent, "\(put.body)")
        var snapshot: [String: Any]?
        for _ in 0..<20 where snapshot == nil {
            let poll = try await second.send(agent, .GET, "/messaging/messages")
            #expect(poll.status == .ok)
            snapshot = poll.array.first { $0["__type"] as? String == listType && $0["isDelta"] as? Bool == false }
            if snapshot == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let added = try #require(snapshot?["requestsAdded"] as? [String], "no snapshot arrived; log:\n\(second.log)")
        #expect(Set(added) == Set(ids), "after kill -9 the snapshot holds \(added), expected \(ids)")
    }
}
