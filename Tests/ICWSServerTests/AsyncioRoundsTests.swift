import Foundation
import Testing

/// `Benchmarks/asyncio-rounds.py`, the asyncio check in alternating rounds that PERFORMANCE.md's figures come
/// from, run small against the built server: it must start the server itself, deliver every message to every
/// stream, and report each run and the medians.
@Suite("The asyncio check's rounds driver")
struct AsyncioRoundsTests {
    static let script = BoardBrowser.packageRoot.appendingPathComponent("Benchmarks/asyncio-rounds.py")
    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        return (["/usr/bin/python3"] + path.split(separator: ":").map { "\($0)/python3" })
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    /// nginx with Debian's nchan module: then the driver alternates with it, as the figures do.
    static let nchan = FileManager.default.fileExists(atPath: "/usr/lib/nginx/modules/ngx_nchan_module.so")
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")

    /// Runs the driver small (20 streams, 4 events at 10 per second) against the built server with `options`;
    /// returns its exit status and what it printed.
    static func runDriver(_ options: [String]) async throws -> (status: Int32, output: String) {
        let server = try #require(BuiltServer.executable)
        return try await runScript(Self.script, ["--server", server.path, "--streams", "20", "--events", "4", "--rate", "10"] + options)
    }

    /// Runs `script` (one of `Benchmarks/`) with python3 and `arguments`; returns its exit status and what it
    /// printed.
    static func runScript(_ script: URL, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let python = try #require(Self.python)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(script.deletingPathExtension().lastPathComponent)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("output.log")
        let status = try await BoardBrowser.runAsync(python, [script.path] + arguments, output: log)
        return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test(
        "two rounds of 20 streams and 4 events: every message arrives, each run is reported, then the medians (and the ratios to nchan when it is installed); publishing on new connections, and on one kept-alive connection",
        .enabled(if: BuiltServer.executable != nil && python != nil, "needs python3 and a built openicws"),
        .timeLimit(.minutes(3)),
        arguments: [false, true])
    func smallRounds(keepAlive: Bool) async throws {
        var options = ["--rounds", "2"]
        if !Self.nchan { options.append("--no-nchan") }
        if keepAlive { options.append("--keep-alive") }
        let (status, output) = try await Self.runDriver(options)
        #expect(status == 0, "the driver failed:\n\(output)")

        let lines = output.split(separator: "\n").map(String.init)
        let runs = lines.filter { $0.hasPrefix("round ") }
        #expect(runs.count == (Self.nchan ? 4 : 2), "one line per run:\n\(output)")
        #expect(runs.filter { $0.contains("openicws") }.count == 2, "\(output)")
        #expect(runs.allSatisfy { $0.contains("missing 0") }, "\(output)")

        let last = try #require(lines.last { $0.hasPrefix("{") }, "a JSON report last:\n\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["rounds"] as? Int == 2)
        #expect(report["keep_alive"] as? Bool == keepAlive)
        let ours = try #require(report["openicws"] as? [String: Any], "\(last)")
        #expect(ours["missing"] as? Int == 0)
        // Two publishing requests per event, each on its own connection, or one connection per run kept alive.
        #expect(ours["publish_connections"] as? Int == (keepAlive ? 2 : 2 * 4 * 2), "\(last)")
        // The client's model of OpenICWS's message (what `--nchan-payload icws` has nchan publish) is the message
        // itself: every event's message on the first stream, byte for byte.
        #expect(ours["model_matches"] as? Int == 2 * 4, "\(last)")
        #expect((ours["p99_ms"] as? Double ?? 0) > 0, "a latency was measured: \(last)")
        #expect((ours["p99_ms"] as? Double ?? 0) >= (ours["p50_ms"] as? Double ?? .infinity), "\(last)")
        if Self.nchan {
            let theirs = try #require(report["nchan"] as? [String: Any], "\(last)")
            #expect(theirs["missing"] as? Int == 0)
            #expect(theirs["publish_connections"] as? Int == (keepAlive ? 2 : 2 * 4), "\(last)")
            #expect(report["ratio"] is [String: Any], "\(last)")
        } else {
            #expect(report["nchan"] == nil, "\(last)")
        }
    }

    @Test(
        "with --split-cpu, every round runs again with that few streams, and each server's CPU per event at the two stream counts is split into publishing per event and delivering per message",
        .enabled(if: BuiltServer.executable != nil && python != nil, "needs python3 and a built openicws"),
        .timeLimit(.minutes(3)))
    func cpuSplit() async throws {
        let (status, output) = try await Self.runDriver(["--rounds", "1", "--split-cpu", "2"] + (Self.nchan ? [] : ["--no-nchan"]))
        #expect(status == 0, "the driver failed:\n\(output)")
        let runs = output.split(separator: "\n").filter { $0.hasPrefix("round ") }
        let servers = Self.nchan ? 2 : 1
        #expect(runs.filter { $0.contains("streams 20 ") }.count == servers, "\(output)")
        #expect(runs.filter { $0.contains("streams 2 ") }.count == servers, "the second runs have 2 streams:\n\(output)")
        #expect(runs.allSatisfy { $0.contains("missing 0") }, "\(output)")

        let last = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "a JSON report last:\n\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["split_cpu"] as? Int == 2)
        for name in Self.nchan ? ["openicws", "nchan"] : ["openicws"] {
            let server = try #require(report[name] as? [String: Any], "\(last)")
            let split = try #require(server["cpu_split"] as? [String: Any], "\(name): \(last)")
            #expect(split["streams"] as? [Int] == [2, 20], "\(last)")
            let perEvent = try #require(split["cpu_ms_per_event"] as? [Double], "\(last)")
            let publishing = try #require(split["publishing_cpu_ms_per_event"] as? Double, "\(last)")
            let delivering = try #require(split["delivery_cpu_us_per_message"] as? Double, "\(last)") / 1000
            // Both measured points lie on the line the split gives: publishing + streams x delivering.
            #expect(abs(publishing + 2 * delivering - perEvent[0]) < 0.002, "\(name): \(split)")
            #expect(abs(publishing + 20 * delivering - perEvent[1]) < 0.002, "\(name): \(split)")
            // The point at 20 streams is the rounds' own: their CPU over their events.
            let perMessage = try #require(server["server_cpu_us_per_message"] as? Double, "\(last)")
            #expect(abs(perEvent[1] - perMessage * 20 / 1000) < 0.01, "\(name): \(split), \(perMessage) us/message")
        }
        if Self.nchan {
            let ratio = try #require(report["ratio"] as? [String: Any], "\(last)")
            #expect(ratio.keys.contains("delivery_cpu_per_message"), "\(last)")
        }
    }

    @Test(
        "with --nchan-payload icws, nchan publishes OpenICWS's message for each event, and the reader finds every key in it",
        .enabled(if: BuiltServer.executable != nil && python != nil && nchan, "needs python3, a built openicws, and nginx with nchan"),
        .timeLimit(.minutes(3)))
    func equalPayloads() async throws {
        let (status, output) = try await Self.runDriver(["--rounds", "1", "--nchan-payload", "icws"])
        #expect(status == 0, "the driver failed:\n\(output)")
        let last = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "a JSON report last:\n\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["nchan_payload"] as? String == "icws", "\(last)")
        // The reader looked for the key inside the ICWS message on nchan's streams too, and found all 80.
        let theirs = try #require(report["nchan"] as? [String: Any], "\(last)")
        #expect(theirs["payload"] as? String == "icws" && theirs["missing"] as? Int == 0, "\(last)")
        let ours = try #require(report["openicws"] as? [String: Any], "\(last)")
        #expect(ours["missing"] as? Int == 0 && ours["model_matches"] as? Int == 4, "\(last)")
    }

    @Test(
        "with --against, a second openicws binary runs in every round too, right after the first, and its medians and the first's ratios to them are reported; a binary that is not there is refused",
        .enabled(if: BuiltServer.executable != nil && python != nil, "needs python3 and a built openicws"),
        .timeLimit(.minutes(3)))
    func againstAnotherBuild() async throws {
        let server = try #require(BuiltServer.executable)
        let (status, output) = try await Self.runDriver(["--rounds", "2", "--no-nchan", "--against", server.path])
        #expect(status == 0, "the driver failed:\n\(output)")
        let runs = output.split(separator: "\n").filter { $0.hasPrefix("round ") }
        // Alternating: each round runs --server's build, then the other one.
        #expect(runs.map { $0.split(separator: " ")[2] } == ["openicws", "against", "openicws", "against"], "\(output)")
        #expect(runs.allSatisfy { $0.contains("missing 0") }, "\(output)")

        let last = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "a JSON report last:\n\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["against_server"] as? String == server.path, "\(last)")
        let other = try #require(report["against"] as? [String: Any], "\(last)")
        #expect(other["missing"] as? Int == 0 && other["model_matches"] as? Int == 2 * 4, "\(last)")
        let ratio = try #require(report["ratio_against"] as? [String: Any], "\(last)")
        let ours = try #require(report["openicws"] as? [String: Any], "\(last)")
        let p99 = try #require(ratio["p99"] as? Double, "\(last)")
        let expected = try #require(ours["p99_ms"] as? Double) / (try #require(other["p99_ms"] as? Double))
        #expect(abs(p99 - expected) < 0.001, "the p99 ratio is --server's median over the other's: \(last)")
        #expect(report["nchan"] == nil, "\(last)")

        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-openicws-\(UUID().uuidString)")
        let (refused, message) = try await Self.runDriver(["--rounds", "1", "--no-nchan", "--against", missing.path])
        #expect(refused == 2, "argparse refuses the option:\n\(message)")
        #expect(message.contains("--against"), "\(message)")
    }
}
