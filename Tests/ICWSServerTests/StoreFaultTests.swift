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

/// A 2 MiB tmpfs mounted for one test (needs root, as CI has); nil where mounting is not allowed.
final class SmallTmpfs: @unchecked Sendable {
    let path: String

    /// Whether this process may mount a tmpfs (checked once, by mounting and unmounting one).
    static let available: Bool = {
        guard let probe = SmallTmpfs(sizeKiB: 64) else { return false }
        probe.unmount()
        return true
    }()

    init?(sizeKiB: Int) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-tmpfs-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil,
            (try? runTool(["mount", "-t", "tmpfs", "-o", "size=\(sizeKiB)k", "tmpfs", path])) == 0
        else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
    }

    /// Writes zeros into `name` until the file system is full.
    func fill(_ name: String) {
        let handle = FileManager.default.createFile(atPath: "\(path)/\(name)", contents: nil) ? FileHandle(forWritingAtPath: "\(path)/\(name)") : nil
        let chunk = Data(count: 4_096)
        while let handle, (try? handle.write(contentsOf: chunk)) != nil {}
        try? handle?.close()
    }

    func unmount() {
        _ = try? runTool(["umount", "-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private func runTool(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite(
    "Store faults on a real full disk",
    .enabled(if: SmallTmpfs.available, "mounting a tmpfs needs root (CI runs as root); the full-disk test is skipped"),
    .enabled(if: BuiltServer.executable != nil, "run `swift build` first"))
struct FullDiskTests {
    @Test("a 2 MiB tmpfs filled to the brim: writes answer 503, /health stays degraded (no flapping), watches get state 2 then state 3; freed, writes work again; the server never dies and maps no -shm file")
    func fullDisk() async throws {
        let disk = try #require(SmallTmpfs(sizeKiB: 2_048))
        defer { disk.unmount() }
        let server = try await ServerProcess(
            executable: try #require(BuiltServer.executable), dataDirectory: disk.path + "/data", port: try freeLoopbackPort(),
            adminToken: "t", extraArguments: ["--store-fault-seconds", "3"])
        defer { server.killHard() }
        func createInteraction() async throws -> ServerProcess.Reply {
            try await server.request(
                .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        }
        #expect(try await createInteraction().status == .created)
        #expect(!FileManager.default.fileExists(atPath: disk.path + "/data/openicws.sqlite-shm"), "a -shm file is mapped")

        let agent = try await server.login("agent1")
        let cookie = try #require(agent.headers.first { $0.0 == "Cookie" }?.1)
        #expect(try await server.send(agent, .PUT, "/messaging/subscriptions/interactions/agent-assistance").status == .noContent)
        let stream = try await EventStreamRecorder.open(url: server.baseURL + "/icws/\(agent.sessionId)/messaging/messages", cookie: cookie)
        _ = try await stream.waitForEvents(1)

        disk.fill("filler")
        #expect(try await createInteraction().status == .serviceUnavailable)
        let suspended = try await stream.waitForIndexed("state 2", seconds: 10) { $0.subscriptionState == 2 }
        // While the disk stays full, /health stays degraded: the probe is a real write.
        for _ in 0..<4 {
            let health = try await server.request(.GET, "/health")
            #expect(health.status == .serviceUnavailable && health.object["status"] as? String == "degraded", "\(health.body)")
            try await Task.sleep(for: .milliseconds(500))
        }
        _ = try await stream.waitForIndexed("state 3", from: suspended.index, seconds: 10) { $0.subscriptionState == 3 }
        #expect(try await createInteraction().status == .serviceUnavailable)

        try FileManager.default.removeItem(atPath: disk.path + "/filler")
        #expect(await eventually(10) { (try? await server.request(.GET, "/health").status) == .ok })
        #expect(try await createInteraction().status == .created)
        #expect(server.process.isRunning, "the server died:\n\(server.log)")
        await stream.close()
    }
}
