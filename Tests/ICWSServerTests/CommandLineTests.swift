import Foundation
import ICWSServer
import Testing

/// Runs the built `openicws` with arguments; returns exit status and everything it printed.
func runCommand(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    let executable = try #require(BuiltServer.executable)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(
    "The openicws command",
    .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"))
struct CommandLineTests {
    @Test("a broken directory file stops start-up with a message naming the file and the field")
    func brokenDirectory() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).json")
        try Data(#"{"users":[{"userId":"agent1","passwordHash":"1234"}]}"#.utf8).write(to: file)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)").path
        let result = try runCommand(["serve", "--directory", file.path, "--data", data, "--port", String(try freeLoopbackPort())])
        #expect(result.status != 0)
        #expect(result.output.contains(file.path))
        #expect(result.output.contains("users[0].passwordHash"))
    }

    @Test("a directory file with a JSON syntax error names the line and column; an unknown key is refused; no users is a warning")
    func directoryFileMistakes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let hash = "$2b$04$abcdefghijklmnopqrstuu5Jq1Y8cV1s4nVZ8XQw0m1Yb5m3Jk1mO"
        let cases: [(String, String, [String])] = [
            ("syntax.json", "{\n  \"users\": [\n    {\"userId\": \"a\",, }\n  ]\n}", ["line 3, column 20"]),
            ("typo.json", #"{"users":[{"userId":"a","passwordHash":"\#(hash)","rigths":{}}]}"#, ["users[0].rigths", "unknown key"]),
            ("rights.json", #"{"users":[{"userId":"a","passwordHash":"\#(hash)","rights":{"canRequestAssistance":true}}]}"#,
             ["users[0].rights.canRequestAssistance", "unknown key"]),
            ("group.json", #"{"users":[],"workgroups":[{"name":"W","member":["a"]}]}"#, ["workgroups[0].member"]),
        ]
        for (name, text, expected) in cases {
            let file = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: file)
            let result = try runCommand(["serve", "--directory", file.path, "--data", folder.appendingPathComponent("data").path, "--port", "0"])
            #expect(result.status == 2, "\(name): exit \(result.status)")
            for fragment in expected { #expect(result.output.contains(fragment), "\(name): \(result.output)") }
        }
    }

    @Test("a --data that is a file, or cannot be created, or holds something that is not a database, names the path and the fix and exits 2")
    func dataFolderProblems() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let garbage = folder.appendingPathComponent("garbage")
        try FileManager.default.createDirectory(at: garbage, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 8_192).write(to: garbage.appendingPathComponent("openicws.sqlite"))
        let cases: [(String, String)] = [
            (file.path, "is a file, not a folder"),
            (file.appendingPathComponent("below").path, "the folder cannot be created (Not a directory)"),
            (garbage.path, "cannot be prepared"),
        ]
        for (path, problem) in cases {
            let result = try runCommand(["serve", "--data", path, "--port", "0"])
            #expect(result.status == 2, "\(path): exit \(result.status)\n\(result.output)")
            #expect(result.output.contains("--data \(path): ") && result.output.contains(problem), "\(result.output)")
            #expect(!result.output.contains("NSCocoaErrorDomain"), "\(result.output)")
        }
    }

    @Test("a second server on the same --data is refused at start-up, naming the lock, instead of sharing the file")
    func secondServerRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await ServerProcess(
            executable: try #require(BuiltServer.executable), dataDirectory: folder.appendingPathComponent("data").path,
            port: try freeLoopbackPort(), adminToken: "t")
        defer { first.stop() }
        let second = try runCommand(["serve", "--data", folder.appendingPathComponent("data").path, "--port", "0"])
        #expect(second.status == 2)
        #expect(second.output.contains("locked by another process"), "\(second.output)")
    }

    @Test("--version prints the version the server reports")
    func version() throws {
        let result = try runCommand(["--version"])
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == ICWSMetrics.version)
    }

    @Test("hash-password prints a bcrypt hash that a directory file accepts and login verifies")
    func hashPassword() async throws {
        let printed = try runCommand(["hash-password", "--cost", "5"], input: "open sesame\n")
        #expect(printed.status == 0)
        let hash = printed.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hash.hasPrefix("$2b$05$"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("staff-\(UUID().uuidString).json")
        try Data("""
            {"workgroups":[{"name":"Desk","members":["ann"],"supervisors":[]}],
             "users":[{"userId":"ann","displayName":"Ann","passwordHash":"\(hash)","rights":{"canRequestAssistanceFromSupervisor":true}}]}
            """.utf8).write(to: file)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)").path
        let server = try await ServerProcess(
            executable: try #require(BuiltServer.executable), dataDirectory: data, port: try freeLoopbackPort(), adminToken: "t",
            extraArguments: ["--directory", file.path])
        defer { server.killHard() }
        let body = #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"ann","password":"open sesame"}"#
        let ok = try await server.request(.POST, "/icws/connection", headers: [("Accept-Language", "en")], json: body)
        #expect(ok.status == .created)
        #expect(ok.object["userDisplayName"] as? String == "Ann")
        let demoUser = try await server.request(
            .POST, "/icws/connection", headers: [("Accept-Language", "en")],
            json: #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"agent1","password":"1234"}"#)
        #expect(demoUser.status == .badRequest)
    }

    @Test("--help documents every serve option")
    func help() throws {
        let result = try runCommand(["serve", "--help"])
        #expect(result.status == 0)
        for option in ["--host", "--port", "--data", "--directory", "--admin-token", "--emulate", "--session-idle-seconds", "--sse-ping-seconds", "--cors-origin"] {
            #expect(result.output.contains(option), "missing \(option)")
        }
    }

    @Test("a port already in use stops start-up with one line naming the address and a non-zero exit, not a crash")
    func portInUse() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-port-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let executable = try #require(BuiltServer.executable)
        let first = try await ServerProcess(
            executable: executable, dataDirectory: folder.appendingPathComponent("first").path, port: try freeLoopbackPort(),
            adminToken: "t")
        defer { first.stop() }
        let (status, output) = try runCommand(["serve", "--port", String(first.port), "--data", folder.appendingPathComponent("second").path])
        #expect(status == 1, "exit status \(status); output:\n\(output)")
        #expect(output.contains("cannot serve on 127.0.0.1:\(first.port)"), "\(output)")
        #expect(!output.contains("Assertion failed"))
    }
}
