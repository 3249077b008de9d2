import ArgumentParser
import Foundation
import ICWSLoad

/// Two nodes on one PostgreSQL database: cross-node delivery latency, then durable write cycles on a
/// PostgreSQL node against a SQLite node.
struct Multinode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Two nodes on PostgreSQL: cross-node SSE delivery latency, then write cycles on PostgreSQL vs SQLite.",
        discussion: """
            Node A listens on --port, node B on the next port; the PostgreSQL and SQLite nodes of the write-cycle \
            phase on the two after. Every phase gets a fresh database (CREATE DATABASE through psql on the server \
            of --database-url), dropped afterwards. --no-baseline skips the SQLite run.
            """)
    @OptionGroup var common: Common
    @Option(help: "A PostgreSQL server (postgres://USER[:PASS]@HOST:PORT/DB); its DB is only used to create and drop the run's databases.")
    var databaseURL: String
    @Option(help: "Assistance requests per second raised on node A.") var rate = 200.0
    @Option(help: "Seconds of load.") var duration = 10.0
    @Option(help: "SSE supervisors on node B.") var supervisors = 50
    @Option(help: "SSE supervisors on node A too (same-node latency for comparison).") var localSupervisors = 0
    @Option(help: "Agent sessions on node A, each with its own interaction.") var agents = 64
    @Option(help: "Closed-loop connections of the write-cycle phase.") var connections = 64
    @Option(help: "Seconds of each write-cycle run (default: --duration).") var cycleDuration: Double?
    @Option(help: "The psql client used to create and drop databases.") var psql = "psql"

    func validate() throws {
        guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
            throw ValidationError("--database-url must start with postgres:// or postgresql://")
        }
        guard rate > 0, duration > 0, supervisors >= 1, agents >= 1, connections >= 1, localSupervisors >= 0 else {
            throw ValidationError("--rate, --duration, --supervisors, --agents and --connections must be positive")
        }
    }

    func run() async throws {
        print("file descriptor limit: \(raiseFileLimit())")
        let admin = PostgresAdmin(url: databaseURL, psql: psql)

        // Phase 1: two nodes on one database, agents on A, supervisors on B.
        var options = Scenarios.CrossNodeOptions()
        options.rate = rate
        options.duration = duration
        options.supervisors = supervisors
        options.localSupervisors = localSupervisors
        options.agents = agents
        let cross = try await admin.withDatabase { url, database in
            let nodeA = try await ServerProcess.openICWS(common.server, port: common.port, databaseURL: url, node: "bench-a")
            defer { nodeA.stop() }
            let nodeB = try await ServerProcess.openICWS(common.server, port: common.port + 1, databaseURL: url, node: "bench-b")
            defer { nodeB.stop() }
            let counters = Locked<[PostgresAdmin.Counters]>([])
            let nodeCPU = Locked<[[Double]]>([])
            var report = try await Scenarios.crossNode(
                agentsOn: LoadTarget(port: nodeA.port, adminToken: "bench"), supervisorsOn: LoadTarget(port: nodeB.port), options
            ) { _ in
                let nodes = [nodeA, nodeB].map { processCPUSeconds($0.process.processIdentifier) ?? 0 }
                nodeCPU.withLock { $0.append(nodes) }
                if let now = try? admin.counters(database: database) { counters.withLock { $0.append(now) } }
            }
            let nodes = nodeCPU.value
            if nodes.count == 2 {
                let seconds = report.value("load_seconds") ?? 1
                report.add("node_a_cpu_cores", (nodes[1][0] - nodes[0][0]) / seconds)
                report.add("node_b_cpu_cores", (nodes[1][1] - nodes[0][1]) / seconds)
            }
            let window = counters.value
            if window.count == 2 {
                let requests = report.value("requests") ?? 1
                // Each request is raised and completed: two commands.
                report.add("pg_xacts_per_command", Double(window[1].xid - window[0].xid) / (2 * requests))
                report.add("pg_wal_kb_per_command", (window[1].walBytes - window[0].walBytes) / 1024 / (2 * requests))
                let seconds = report.value("load_seconds") ?? 1
                report.add("pg_cpu_cores", window[1].cpuSeconds(since: window[0]) / seconds)
                report.add("pg_cpu_us_per_command", window[1].cpuSeconds(since: window[0]) / (2 * requests) * 1e6)
            }
            return report
        }

        // Phase 2: write cycles on one PostgreSQL node (fresh database), then on one SQLite node.
        let seconds = cycleDuration ?? duration
        let postgres = try await admin.withDatabase { url, database in
            let node = try await ServerProcess.openICWS(common.server, port: common.port + 2, databaseURL: url, node: "bench-w")
            let before = try? admin.counters(database: database)
            var report: LoadReport
            do {
                report = try await Scenarios.writes(
                    LoadTarget(port: node.port, adminToken: "bench", serverProcess: node.process.processIdentifier),
                    connections: connections, duration: seconds)
            } catch {
                node.stop()
                throw error
            }
            let after = try? admin.counters(database: database)
            node.stop()
            if let before, let after, let cycles = report.value("operations"), cycles > 0 {
                report.add("pg_xacts_per_cycle", Double(after.xid - before.xid) / cycles)
                report.add("pg_wal_kb_per_cycle", (after.walBytes - before.walBytes) / 1024 / cycles)
                let seconds = report.value("seconds") ?? 1
                report.add("pg_cpu_cores", after.cpuSeconds(since: before) / seconds)
                report.add("pg_cpu_us_per_cycle", after.cpuSeconds(since: before) / cycles * 1e6)
            }
            return report
        }
        var sqlite: LoadReport?
        if !common.noBaseline {
            var sqliteCommon = common
            sqliteCommon.port = common.port + 3
            sqlite = try await ServerProcess.withOpenICWS(sqliteCommon) { server in
                try await Scenarios.writes(
                    LoadTarget(port: server.port, adminToken: "bench", serverProcess: server.process.processIdentifier),
                    connections: connections, duration: seconds)
            }
        }

        var report = cross
        for (name, value) in postgres.figures { report.add("pg_writes_" + name.replacingOccurrences(of: "pg_", with: ""), value) }
        if let sqlite {
            for (name, value) in sqlite.figures { report.add("sqlite_writes_" + name, value) }
        }
        let p99 = report.value("cross_node_latency_p99_ms") ?? .infinity
        report.note("goal cross-node p99 ≤ 50 ms at \(Int(rate)) requests/s: \(p99 <= 50 ? "met" : "NOT met") (\(String(format: "%.1f", p99)) ms)")
        var ratios: [(String, Double)] = []
        if let sqlite, let pg = postgres.value("per_s"), let lite = sqlite.value("per_s"), lite > 0 {
            ratios.append(("pg_to_sqlite_cycles_per_s", pg / lite))
            report.note("goal PostgreSQL cycles ≥ 50 % of SQLite's: \(pg / lite >= 0.5 ? "met" : "NOT met") (\(Int(pg)) vs \(Int(lite)) cycles/s, \(String(format: "%.1f", 100 * pg / lite)) %)")
        }
        report.note("write cycles: \(connections) closed-loop connections, \(seconds) s each; PostgreSQL with the cluster's own durability settings")
        publish(report, baseline: nil, ratios: ratios)
    }
}

extension ServerProcess {
    /// Starts an OpenICWS node on a PostgreSQL database.
    static func openICWS(_ executable: String, port: Int, databaseURL: String, node: String) async throws -> ServerProcess {
        try await start(executable, [
            "serve", "--port", String(port), "--database-url", databaseURL, "--node-id", node, "--admin-token", "bench",
            "--log-level", "error",
        ], port: port)
    }
}

/// Creates and drops the run's databases with `psql` on the server of a PostgreSQL URL.
struct PostgresAdmin: Sendable {
    let url: String
    let psql: String

    /// The cluster's transaction-id counter and WAL position, and the CPU seconds used so far by the
    /// backends of `database` and the cluster's background processes (WAL writer, checkpointer, …).
    struct Counters: Sendable {
        var xid: Int64
        var walBytes: Double
        var cpu: [Int32: Double]

        /// PostgreSQL CPU seconds from `before` to `self` (a backend that started in between counts from 0).
        func cpuSeconds(since before: Counters) -> Double {
            cpu.reduce(0) { $0 + $1.value - (before.cpu[$1.key] ?? 0) }
        }
    }

    /// Runs `body` with the URL of a fresh database, dropped afterwards.
    func withDatabase<T>(_ body: (_ url: String, _ name: String) async throws -> T) async throws -> T {
        let name = "icws_bench_" + UUID().uuidString.prefix(8).lowercased() + "_\(Int(Date().timeIntervalSince1970))"
        try run("CREATE DATABASE \(name)")
        defer { _ = try? run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        return try await body(try url(database: name), name)
    }

    func counters(database: String) throws -> Counters {
        // txid_current() takes an id itself: one per reading, negligible.
        let output = try run("SELECT txid_current(), pg_current_wal_lsn() - '0/0'::pg_lsn")
        let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|")
        guard parts.count == 2, let xid = Int64(parts[0]), let wal = Double(parts[1]) else {
            throw ValidationError("unexpected answer from psql: \(output)")
        }
        let pids = try run("SELECT pid FROM pg_stat_activity WHERE datname = '\(database)' OR datname IS NULL")
            .split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        var cpu: [Int32: Double] = [:]
        for pid in pids { cpu[pid] = processCPUSeconds(pid) }
        return Counters(xid: xid, walBytes: wal, cpu: cpu)
    }

    /// The URL with its database replaced by `database`.
    private func url(database: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw ValidationError("cannot parse --database-url") }
        components.path = "/" + database
        guard let string = components.string else { throw ValidationError("cannot build a URL for \(database)") }
        return string
    }

    /// Runs one statement with psql; returns its unaligned output.
    @discardableResult
    private func run(_ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [psql, "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("psql failed on \(sql): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
