import Foundation
import Testing

/// `Benchmarks/publish-cost.py`, which PERFORMANCE.md's figures for publishing alone come from, run small against
/// the built server: every request of every pair must be answered 201, and each run's CPU must be measured and
/// split by thread.
@Suite("The publishing-cost benchmark")
struct PublishCostTests {
    static let script = BoardBrowser.packageRoot.appendingPathComponent("Benchmarks/publish-cost.py")

    @Test(
        "two runs of 4 pairs: each run is reported and its CPU per pair is the sum of the event loops', SQLite's thread's and the rest; with --loops 1 the server runs one event loop",
        .enabled(if: BuiltServer.executable != nil && AsyncioRoundsTests.python != nil, "needs python3 and a built openicws"),
        .timeLimit(.minutes(2)),
        arguments: [0, 1])
    func smallRuns(loops: Int) async throws {
        let server = try #require(BuiltServer.executable)
        let (status, output) = try await AsyncioRoundsTests.runScript(
            Self.script, ["--server", server.path, "--pairs", "4", "--spacing", "10", "--rounds", "2"] + (loops > 0 ? ["--loops", "\(loops)"] : []))
        #expect(status == 0, "the benchmark failed:\n\(output)")

        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("run ") && $0.contains("us per pair") }.count == 2, "one line per run:\n\(output)")
        let last = try #require(lines.last { $0.hasPrefix("{") }, "a JSON report last:\n\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(report["rounds"] as? Int == 2)
        #expect(report["pairs"] as? Int == 4)
        #expect(report["failed"] as? Int == 0)
        let runs = try #require(report["runs"] as? [[String: Any]], "\(last)")
        #expect(runs.count == 2)
        for run in runs {
            let total = run["cpu_us_per_pair"] as? Double ?? 0
            let loopsPart = run["event_loops_us_per_pair"] as? Double ?? 0
            let sqlitePart = run["sqlite_us_per_pair"] as? Double ?? 0
            let otherPart = run["other_us_per_pair"] as? Double ?? -1
            // Every pair reads and answers two requests on the loops, and commits twice on SQLite's thread.
            #expect(loopsPart > 0 && sqlitePart > 0 && otherPart >= 0, "\(run)")
            #expect(abs(total - (loopsPart + sqlitePart + otherPart)) < 0.5, "the parts add up to the whole: \(run)")
            let threads = run["event_loop_threads"] as? Int ?? 0
            #expect(loops == 1 ? threads == 1 : threads >= 1, "\(run)")
        }
    }

    @Test(
        "a server that cannot start is a failed run and exit status 1",
        .enabled(if: AsyncioRoundsTests.python != nil, "needs python3"),
        .timeLimit(.minutes(1)))
    func failedRun() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-openicws-\(UUID().uuidString)")
        let (status, output) = try await AsyncioRoundsTests.runScript(Self.script, ["--server", missing.path, "--pairs", "1", "--rounds", "1"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("run 1: failed"), "\(output)")
        let last = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(output)")
        #expect(last.contains("\"failed\": 1"), "\(last)")
    }
}
