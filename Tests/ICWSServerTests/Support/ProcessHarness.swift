import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `openicws` executable, found next to the test bundle (or in the package's `.build/debug`).
enum BuiltServer {
    static let executable: URL? = {
        var candidates: [URL] = []
        if let testBinary = Bundle.main.executableURL {
            // `.build/<triple>/debug/openicwsPackageTests.xctest` (Linux) or `…/debug/openicwsPackageTests.xctest/Contents/MacOS/…`.
            var folder = testBinary.deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(folder.appendingPathComponent("openicws"))
                folder = folder.deletingLastPathComponent()
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/openicws"))
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: url.path)
        }
    }()
}

/// A free TCP port on loopback (bound once with port 0, then released).
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw ProcessHarnessError.noPort }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw ProcessHarnessError.noPort }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ProcessHarnessError.noPort }
    return Int(UInt16(bigEndian: address.sin_port))
}

enum ProcessHarnessError: Error, CustomStringConvertible {
    case noPort
    case notListening(port: Int, log: String)
    case exitedEarly(status: Int32, log: String)

    var description: String {
        switch self {
        case .noPort: return "could not find a free loopback port"
        case .notListening(let port, let log): return "the server did not accept connections on port \(port) in time; log:\n\(log)"
        case .exitedEarly(let status, let log): return "the server exited with status \(status) before listening; log:\n\(log)"
        }
    }
}

/// An `openicws` process on a loopback port over a data folder, spoken to with AsyncHTTPClient.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logFile: URL

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Launches the executable and waits (bounded) until it answers HTTP.
    init(executable: URL, dataDirectory: String, port: Int, adminToken: String, extraArguments: [String] = []) async throws {
        self.port = port
        logFile = URL(fileURLWithPath: dataDirectory).deletingLastPathComponent()
            .appendingPathComponent("openicws-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.executableURL = executable
        process.arguments = [
            "serve", "--port", String(port), "--data", dataDirectory, "--admin-token", adminToken, "--log-level", "warning",
        ] + extraArguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await waitUntilListening()
    }

    private func waitUntilListening() async throws {
        for _ in 0..<150 {
            if !process.isRunning { throw ProcessHarnessError.exitedEarly(status: process.terminationStatus, log: log) }
            if let response = try? await request(.GET, "/icws/connection/server-time", timeout: .seconds(1)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessHarnessError.notListening(port: port, log: log)
    }

    /// Sends SIGKILL (no graceful shutdown of any kind) and waits for the process to go.
    func killHard() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, for cleanup.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    struct Reply: Sendable {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String

        var object: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
        var array: [[String: Any]] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []
        }
    }

    func request(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: String? = nil,
        timeout: TimeAmount = .seconds(10)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json { request.body = .bytes(ByteBuffer(string: json)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: response.status, headers: response.headers, body: String(buffer: body))
    }

    /// A logged-in session on this process.
    struct Login: Sendable {
        let sessionId: String
        let headers: [(String, String)]
    }

    func login(_ userId: String) async throws -> Login {
        let reply = try await request(.POST, "/icws/connection", headers: [("Accept-Language", "en-US")], json: loginBody(userID: userId))
        try #require(reply.status == .created, "login of \(userId) answered \(reply.status): \(reply.body)")
        let sid = try #require(reply.headers.first(name: "ININ-ICWS-Session-ID"))
        let csrf = try #require(reply.headers.first(name: "ININ-ICWS-CSRF-Token"))
        let cookie = try #require(reply.headers.first(name: "Set-Cookie"))
        return Login(sessionId: sid, headers: [("ININ-ICWS-CSRF-Token", csrf), ("Cookie", String(cookie.split(separator: ";")[0]))])
    }

    func send(_ login: Login, _ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> Reply {
        try await request(method, "/icws/\(login.sessionId)" + path, headers: login.headers, json: json)
    }

    /// Logs `userId` in, watches agent-assistance, and opens the session's event stream on a raw socket with the
    /// cookie alone (as `EventSource` does), plus `extraHeaders` lines (each ending in CRLF).
    func openRawStream(_ userId: String, extraHeaders: String = "") async throws -> (Login, RawSocket) {
        let login = try await login(userId)
        let cookie = try #require(login.headers.first { $0.0 == "Cookie" }?.1)
        let watched = try await send(login, .PUT, "/messaging/subscriptions/interactions/agent-assistance")
        try #require(watched.status == .noContent, "the watch answered \(watched.status)")
        let socket = try RawSocket(port: port)
        try socket.send(
            "GET /icws/\(login.sessionId)/messaging/messages HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                + "Cookie: \(cookie)\r\n\(extraHeaders)\r\n")
        return (login, socket)
    }
}
