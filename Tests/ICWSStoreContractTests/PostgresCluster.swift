import Foundation

/// Stops and starts the test cluster (`OPENICWS_TEST_PG_BIN`, `OPENICWS_TEST_PG_DATA`), to simulate a
/// database restart. As root, `pg_ctl` runs as the `postgres` user that owns the cluster.
enum PostgresCluster {
    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    private static var bin: String? { ProcessInfo.processInfo.environment["OPENICWS_TEST_PG_BIN"].flatMap { $0.isEmpty ? nil : $0 } }
    private static var data: String? { ProcessInfo.processInfo.environment["OPENICWS_TEST_PG_DATA"].flatMap { $0.isEmpty ? nil : $0 } }

    static var configured: Bool { StoreKind.databaseURL != nil && bin != nil && data != nil }

    static func stop() throws {
        try pgCtl(["--mode=fast", "--wait", "stop"])
    }

    static func start() throws {
        guard let data else { throw CommandFailed(description: "OPENICWS_TEST_PG_DATA is not set") }
        let log = ((data as NSString).deletingLastPathComponent as NSString).appendingPathComponent("server.log")
        try pgCtl(["--log=\(log)", "--wait", "start"])
    }

    /// Retries `attempt` until it succeeds or `limit` passes; whether it succeeded.
    static func eventually(within limit: Duration, _ attempt: () async throws -> Void) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            do {
                try await attempt()
                return true
            } catch {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        return false
    }

    private static func pgCtl(_ arguments: [String]) throws {
        guard let bin, let data else { throw CommandFailed(description: "OPENICWS_TEST_PG_BIN/DATA are not set") }
        var command = ["\(bin)/pg_ctl", "--pgdata=\(data)", "--silent"] + arguments
        if getuid() == 0 { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        // posix_spawn and waitpid rather than Foundation's Process: the server that `pg_ctl start` leaves running
        // inherits Process's internal pipe, and waiting for the command would then wait for the server to exit.
        var pid = pid_t()
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, command[0], nil, nil, &argv, environ)
        guard spawned == 0 else { throw CommandFailed(description: "cannot run \(command[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            throw CommandFailed(description: "\(command.joined(separator: " ")) failed with status \(status)")
        }
    }
}
