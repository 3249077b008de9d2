import ArgumentParser
import Foundation
import Hummingbird
import ICWSLoad
#if canImport(Glibc)
import Glibc
#endif

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icws-bench",
        abstract: "Load scenarios against OpenICWS, each beside a minimal Hummingbird baseline measured in the same run.",
        subcommands: [Fanout.self, Center.self, Poll.self, Idle.self, Writes.self, Multinode.self, BaselineServerCommand.self])
}

/// Options every scenario shares.
struct Common: ParsableArguments {
    @Option(help: "The openicws binary (build it first: swift build -c release).")
    var server = "../.build/release/openicws"

    @Option(help: "Port for the server under test; the baseline uses the next one.")
    var port = 18_018

    @Flag(help: "Skip the baseline run.")
    var noBaseline = false

    @Option(help: "Event-loop threads of the load generator (default: one per core; it shares the machine with the servers).")
    var generatorThreads: Int?

    func validate() throws {
        guard let generatorThreads else { return }
        guard generatorThreads >= 1 else { throw ValidationError("--generator-threads must be at least 1") }
        useGeneratorThreads(generatorThreads)
    }
}

/// A server process the runner started.
struct ServerProcess {
    let process: Process
    let port: Int
    /// A data folder to remove when the server stops.
    var dataFolder: String?

    static func start(_ executable: String, _ arguments: [String], port: Int) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let server = ServerProcess(process: process, port: port)
        // Up to a minute: a server started under valgrind or heaptrack takes that long.
        for _ in 0..<1_200 {
            if canConnect(port) { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw ValidationError("\(executable) did not start listening on \(port)")
    }

    static func openICWS(_ common: Common, extraArguments: [String] = []) async throws -> ServerProcess {
        let data = NSTemporaryDirectory() + "icws-bench-\(UUID().uuidString)"
        var server = try await start(common.server, [
            "serve", "--port", String(common.port), "--data", data, "--admin-token", "bench", "--log-level", "error",
        ] + extraArguments, port: common.port)
        server.dataFolder = data
        return server
    }

    /// nginx with the nchan module on `port`, from a configuration written to a temporary folder: one
    /// worker per core, `/sub` an EventSource subscriber and `/pub` the publisher of one channel.
    static func nchan(port: Int) async throws -> ServerProcess {
        let folder = NSTemporaryDirectory() + "icws-bench-nchan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let module = "/usr/lib/nginx/modules/ngx_nchan_module.so"
        guard FileManager.default.fileExists(atPath: module), FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else {
            throw ValidationError("nginx with nchan is not installed: apt-get install nginx-light libnginx-mod-nchan")
        }
        let configuration = """
            load_module \(module);
            daemon off;
            worker_processes auto;
            worker_rlimit_nofile 65536;
            pid \(folder)/nginx.pid;
            error_log \(folder)/error.log warn;
            events { worker_connections 30000; }
            http {
                access_log off;
                client_body_temp_path \(folder);
                server {
                    listen 127.0.0.1:\(port) backlog=4096;
                    location = /sub { nchan_subscriber eventsource; nchan_channel_id bench; }
                    location = /pub { nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 16; }
                }
            }
            """
        try configuration.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        var server = try await start("/usr/sbin/nginx", ["-p", folder, "-c", folder + "/nginx.conf"], port: port)
        server.dataFolder = folder
        return server
    }

    /// Starts OpenICWS, runs `body` against it, and stops it whatever happens.
    static func withOpenICWS<T>(_ common: Common, _ body: (ServerProcess) async throws -> T) async throws -> T {
        let server = try await openICWS(common)
        defer { server.stop() }
        return try await body(server)
    }

    static func baseline(_ common: Common) async throws -> ServerProcess {
        try await start(CommandLine.arguments[0], ["baseline-server", "--port", String(common.port + 1)], port: common.port + 1)
    }

    /// Resident memory of the process in bytes (Linux /proc).
    var residentBytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kilobytes * 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        if let dataFolder { try? FileManager.default.removeItem(atPath: dataFolder) }
    }

    private static func canConnect(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Raises the open-file limit to the hard limit (10,000 streams need 10,000+ descriptors per process).
func raiseFileLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_cur)
}

/// Prints both reports, the ratios and one JSON line with everything.
func publish(_ report: LoadReport, baseline: LoadReport?, ratios: [(String, Double)]) {
    print(report.table)
    if let baseline { print("\n" + baseline.table) }
    if !ratios.isEmpty {
        print("\nratios to the other servers measured in this run:")
        for (name, value) in ratios { print("  \(name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%.3f", value))") }
    }
    var json = report.jsonLine.dropLast()
    if let baseline { json += ",\"baseline\":" + baseline.jsonLine }
    for (name, value) in ratios { json += ",\"ratio_\(name)\":\(String(format: "%.4f", value))" }
    print("\n" + json + "}")
}

struct Fanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "N supervisors on SSE; agents raise requests at a rate.",
        discussion: """
            Each OpenICWS request reaches every supervisor twice: added, then removed when the agent completes it \
            (the two may coalesce into one snapshot for a supervisor that falls behind). The baseline and nchan \
            get the same load: per request, a publish carrying the request's marker, then once it is answered a \
            second publish (the removal). Latency runs from sending the first request (OpenICWS: the agent's POST; \
            the others: the first publish) to each subscriber reading its message. Rates run over the load or \
            until the last message arrived, whichever is longer; `deliveries` counts every message read, \
            `added_deliveries_per_s` the first of each pair only.
            """)
    @OptionGroup var common: Common
    @Option(help: "SSE subscribers (supervisor sessions).") var subscribers = 1_000
    @Option(help: "Assistance requests per second.") var rate = 20.0
    @Option(help: "Seconds of load.") var duration = 10.0
    @Option(help: "Agent connections raising requests.") var agents = 6
    @Flag(help: "Also run the same subscribers against nginx with the nchan module (Debian: apt-get install nginx-light libnginx-mod-nchan), on --port + 2.")
    var nchan = false
    @Option(help: "Runs of OpenICWS (each followed by nchan's with --nchan, so the two alternate); with more than one, each run's figures are printed, and the reports and ratios are of the medians.")
    var rounds = 1

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() async throws {
        print("file descriptor limit: \(raiseFileLimit())")
        var options = Scenarios.FanoutOptions()
        options.subscribers = subscribers
        options.rate = rate
        options.duration = duration
        options.agents = agents
        var runs: [LoadReport] = []
        var peerRuns: [LoadReport] = []
        for round in 1...rounds {
            runs.append(try await ServerProcess.withOpenICWS(common) { server in
                try await Scenarios.fanout(
                    LoadTarget(port: common.port, adminToken: "bench", serverProcess: server.process.processIdentifier), options)
            })
            if nchan {
                let peer = try await ServerProcess.nchan(port: common.port + 2)
                defer { peer.stop() }
                peerRuns.append(try await Scenarios.nchanFanout(
                    LoadTarget(port: common.port + 2, serverProcess: peer.process.processIdentifier), options))
            }
            if rounds > 1 {
                print("round \(round): openicws \(Self.summary(runs[round - 1]))"
                    + (nchan ? " | nchan \(Self.summary(peerRuns[round - 1]))" : ""))
                // Shown as each round ends, also when the output goes to a file.
                fflush(nil)
            }
        }
        let report = Self.report(of: runs)
        var baseline: LoadReport?
        var ratios: [(String, Double)] = []
        if !common.noBaseline {
            let yardstick = try await ServerProcess.baseline(common)
            baseline = try? await Scenarios.baselineFanout(
                LoadTarget(port: common.port + 1, serverProcess: yardstick.process.processIdentifier), options)
            yardstick.stop()
            if let baseline {
                ratios.append(("deliveries_per_s", (report.value("deliveries_per_s") ?? 0) / max(baseline.value("deliveries_per_s") ?? 1, 1)))
                ratios.append(("latency_p99", (report.value("latency_p99_ms") ?? 0) / max(baseline.value("latency_p99_ms") ?? 1, 0.001)))
            }
        }
        if nchan {
            let measured = Self.report(of: peerRuns)
            publish(measured, baseline: nil, ratios: [])
            for name in ["deliveries_per_s", "latency_p99_ms", "server_cpu_us_per_delivery"] {
                ratios.append(("vs_nchan_" + name, (report.value(name) ?? 0) / max(measured.value(name) ?? 1, 0.000_001)))
            }
        }
        publish(report, baseline: baseline, ratios: ratios)
    }

    /// One run's report as it is, or the medians of several.
    static func report(of runs: [LoadReport]) -> LoadReport {
        runs.count > 1 ? LoadReport.median(of: runs) : runs[0]
    }

    /// One run's p99, CPU per delivery, deliveries per second and missing messages, on one line.
    static func summary(_ report: LoadReport) -> String {
        String(
            format: "p99 %.1f ms, %.2f µs CPU per delivery, %.0f deliveries/s, %.0f missing",
            report.value("latency_p99_ms") ?? .nan, report.value("server_cpu_us_per_delivery") ?? .nan,
            report.value("deliveries_per_s") ?? .nan, report.value("missing") ?? .nan)
    }
}

/// Runs a closed-loop scenario against OpenICWS, then hello-world GETs on the baseline with as many
/// connections, and publishes `operationsPerRequest × per_s` as a ratio of hello-world requests per second.
func closedLoopAgainstBaseline(
    _ common: Common, connections: Int, duration: Double, ratioName: String, requestsPerOperation: Double,
    _ scenario: (LoadTarget) async throws -> LoadReport
) async throws {
    _ = raiseFileLimit()
    let report = try await ServerProcess.withOpenICWS(common) { server in
        try await scenario(LoadTarget(port: common.port, adminToken: "bench", serverProcess: server.process.processIdentifier))
    }
    var baseline: LoadReport?
    var ratios: [(String, Double)] = []
    if !common.noBaseline {
        let yardstick = try await ServerProcess.baseline(common)
        baseline = try await Scenarios.baselineHello(
            LoadTarget(port: common.port + 1, serverProcess: yardstick.process.processIdentifier), connections: connections, duration: duration)
        yardstick.stop()
        ratios.append((ratioName, requestsPerOperation * (report.value("per_s") ?? 0) / max(baseline?.value("per_s") ?? 1, 1)))
    }
    publish(report, baseline: baseline, ratios: ratios)
}

struct Center: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: """
        A contact center: agents and supervisors each on an event stream, agents raising requests at a rate, \
        supervisors accepting and chatting on a share, agents completing each (a generated directory).
        """)
    @OptionGroup var common: Common
    @Option(help: "Agents, each with a stream and an agent-assistance watch.") var agents = 5_000
    @Option(help: "Supervisors, each with a stream and a supervisor-assistance watch.") var supervisors = 200
    @Option(help: "Workgroups (agents and supervisors spread evenly).") var workgroups = 20
    @Option(help: "Assistance requests per second, over all agents.") var rate = 100.0
    @Option(help: "Seconds of load.") var duration = 30.0
    @Option(help: "One request in this many is accepted by a supervisor, who chats one line, before completion.") var acceptEvery = 4

    func run() async throws {
        print("file descriptor limit: \(raiseFileLimit())")
        var options = Scenarios.CenterOptions()
        options.agents = agents
        options.supervisors = supervisors
        options.workgroups = workgroups
        options.rate = rate
        options.duration = duration
        options.acceptEvery = acceptEvery
        // The directory: every password 1234, hashed at cost 4 by the server's own command.
        let hasher = Process()
        hasher.executableURL = URL(fileURLWithPath: common.server)
        hasher.arguments = ["hash-password", "--cost", "4", "1234"]
        let pipe = Pipe()
        hasher.standardOutput = pipe
        try hasher.run()
        let hash = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        hasher.waitUntilExit()
        let file = NSTemporaryDirectory() + "icws-bench-center-\(UUID().uuidString).json"
        try Scenarios.centerDirectory(options, passwordHash: hash).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let server = try await ServerProcess.openICWS(common, extraArguments: ["--directory", file])
        defer { server.stop() }
        let before = server.residentBytes
        var report = try await Scenarios.center(
            LoadTarget(port: common.port, adminToken: "bench", serverProcess: server.process.processIdentifier), options)
        report.add("server_rss_mb", server.residentBytes / 1_048_576)
        report.add("server_rss_before_mb", before / 1_048_576)
        publish(report, baseline: nil, ratios: [])
    }
}

struct Poll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sessions polling GET …/messaging/messages closed-loop.")
    @OptionGroup var common: Common
    @Option(help: "Polling connections (one session each).") var connections = 64
    @Option(help: "Seconds.") var duration = 10.0

    func run() async throws {
        try await closedLoopAgainstBaseline(common, connections: connections, duration: duration, ratioName: "per_s", requestsPerOperation: 1) {
            try await Scenarios.poll($0, connections: connections, duration: duration)
        }
    }
}

struct Writes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Durable request → complete cycles, closed-loop.")
    @OptionGroup var common: Common
    @Option(help: "Agent connections, each cycling on its own interaction.") var connections = 64
    @Option(help: "Seconds.") var duration = 10.0

    func run() async throws {
        // A cycle is two requests: the ratio compares requests per second with hello-world requests per second.
        try await closedLoopAgainstBaseline(
            common, connections: connections, duration: duration, ratioName: "requests_per_s", requestsPerOperation: 2
        ) {
            try await Scenarios.writes($0, connections: connections, duration: duration)
        }
    }
}

struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "N idle sessions, each with an open stream and two watches: server memory per session, and the server's CPU while they sit idle.")
    @OptionGroup var common: Common
    @Option(help: "Sessions.") var sessions = 1_000
    @Option(help: "Seconds over which the server's CPU is measured while the sessions sit idle (the server's ping interval by default, so every silent stream's keep-alive ping falls in it once).")
    var idleSeconds = 15.0

    func validate() throws {
        guard idleSeconds > 0 else { throw ValidationError("--idle-seconds must be positive") }
    }

    func run() async throws {
        print("file descriptor limit: \(raiseFileLimit())")
        var options = Scenarios.IdleOptions()
        options.sessions = sessions
        let after = Locked<Double>(0)
        let idleCPU = Locked<Double?>(nil)
        let (measured, before) = try await ServerProcess.withOpenICWS(common) { server in
            try await Task.sleep(for: .milliseconds(500))
            let before = server.residentBytes
            let report = try await Scenarios.idle(LoadTarget(port: common.port, adminToken: "bench"), options) {
                try await Task.sleep(for: .seconds(2))
                after.set(server.residentBytes)
                let pid = server.process.processIdentifier
                let cpuBefore = processCPUSeconds(pid)
                try await Task.sleep(for: .seconds(idleSeconds))
                if let cpuBefore, let cpuAfter = processCPUSeconds(pid) { idleCPU.set((cpuAfter - cpuBefore) / idleSeconds) }
            }
            return (report, before)
        }
        var report = measured
        report.add("server_rss_before_mb", before / 1_048_576)
        report.add("server_rss_after_mb", after.value / 1_048_576)
        report.add("bytes_per_session", (after.value - before) / Double(sessions))
        if let cpu = idleCPU.value {
            report.add("idle_seconds", idleSeconds)
            report.add("server_idle_cpu_ms_per_s", cpu * 1_000)
        }

        var baseline: LoadReport?
        var ratios: [(String, Double)] = []
        if !common.noBaseline {
            let yardstick = try await ServerProcess.baseline(common)
            try await Task.sleep(for: .milliseconds(500))
            let baseBefore = yardstick.residentBytes
            var fanout = Scenarios.FanoutOptions()
            fanout.subscribers = sessions
            fanout.rate = 1
            fanout.duration = 1
            fanout.grace = 2
            let baseAfter = Locked<Double>(0)
            // Hold bare streams open and read the baseline's memory while they are.
            let probe = Task {
                try await Task.sleep(for: .seconds(2 + Double(sessions) / 2_000))
                baseAfter.set(yardstick.residentBytes)
            }
            _ = try? await Scenarios.baselineFanout(LoadTarget(port: common.port + 1), fanout)
            _ = try? await probe.value
            yardstick.stop()
            var base = LoadReport(scenario: "baseline-idle")
            base.add("streams", Double(sessions))
            base.add("bytes_per_stream", (baseAfter.value - baseBefore) / Double(sessions))
            baseline = base
            ratios.append(("bytes_per_session", report.value("bytes_per_session")! / max(base.value("bytes_per_stream") ?? 1, 1)))
        }
        publish(report, baseline: baseline, ratios: ratios)
    }
}

struct BaselineServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "baseline-server", abstract: "Run the minimal Hummingbird baseline server.")
    @Option var port = 18_019

    func run() async throws {
        try await BaselineServer.application(port: port).runService()
    }
}
