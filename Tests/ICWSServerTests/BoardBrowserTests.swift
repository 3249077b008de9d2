import Foundation
import Testing

/// What the browser story needs: Debian's `chromium` and `chromium-driver`, and a Python with Selenium.
enum BoardBrowser {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("Tests/Browser/board_story.py")
    static let artifacts = packageRoot.appendingPathComponent("test-artifacts/board")

    /// A Python that can import Selenium (`OPENICWS_TEST_PYTHON`, Debian's, or the first on PATH).
    static let python: String? = {
        var candidates = ["/usr/bin/python3"]
        if let chosen = ProcessInfo.processInfo.environment["OPENICWS_TEST_PYTHON"] { candidates.insert(chosen, at: 0) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        candidates += path.split(separator: ":").map { "\($0)/python3" }
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate) else { return false }
            return (try? run(candidate, ["-c", "import selenium"], output: nil)) == 0
        }
    }()

    static func onPath(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// Whether everything is there (the test is skipped, with one line saying what to install, when not).
    static var available: Bool {
        BuiltServer.executable != nil && python != nil && onPath("chromedriver") && (onPath("chromium") || onPath("chromium-browser"))
    }

    /// Starts a program, its output going to `output` (or nowhere).
    static func start(_ program: String, _ arguments: [String], output: URL?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let output {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        return process
    }

    /// Runs a program to its end (blocking; for the quick probe above); returns its exit status.
    static func run(_ program: String, _ arguments: [String], output: URL?) throws -> Int32 {
        let process = try start(program, arguments, output: output)
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a program to its end without holding a thread; returns its exit status.
    static func runAsync(_ program: String, _ arguments: [String], output: URL) async throws -> Int32 {
        let process = try start(program, arguments, output: output)
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }
}

@Suite("Board in a real headless Chromium")
struct BoardBrowserTests {
    @Test(
        """
        a supervisor and an agent, each in a browser, with the keyboard alone: route, request, accept, chat both ways; \
        the server restarts and both pages reconnect and resume; chat again, Done; paused, stopped, resumed; \
        back to sign-in with the reason when the session ends; 1280 px and 390 px, contrast, no CSP violation
        """,
        .enabled(
            if: BoardBrowser.available,
            "no headless browser: install chromium, chromium-driver and python3-selenium (.ci/run does), and build openicws"),
        .timeLimit(.minutes(5)))
    func story() async throws {
        let python = try #require(BoardBrowser.python)
        let server = try #require(BuiltServer.executable)
        try FileManager.default.createDirectory(at: BoardBrowser.artifacts, withIntermediateDirectories: true)
        let log = BoardBrowser.artifacts.appendingPathComponent("story.log")
        let status = try await BoardBrowser.runAsync(
            python, [BoardBrowser.script.path, "--server", server.path, "--artifacts", BoardBrowser.artifacts.path], output: log)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "the board story failed (screenshots and logs in \(BoardBrowser.artifacts.path)):\n\(output)")
        for shot in ["supervisor-board.png", "agent-panel.png", "supervisor-board-390.png", "agent-panel-390.png", "supervisor-reconnecting.png"] {
            #expect(FileManager.default.fileExists(atPath: BoardBrowser.artifacts.appendingPathComponent(shot).path), "\(shot)")
        }
    }
}
