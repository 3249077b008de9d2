import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP socket to a loopback port, for clients that misbehave on purpose: they send half a request,
/// send nothing, or stop reading. Blocking calls with timeouts; use from tests only.
final class RawSocket: @unchecked Sendable {
    private var fd: Int32

    /// Connects; `receiveBuffer` (bytes) is set before the connection, so the window stays small.
    init(port: Int, receiveBuffer: Int? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError.failed("socket", errno) }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw RawSocketError.failed("connect", error)
        }
    }

    deinit { close() }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw RawSocketError.failed("send", errno) }
            offset += sent
        }
    }

    /// What the server sent until it closed the connection (`closed` true), or until `seconds` passed.
    func readUntilClosed(seconds: Double) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return (String(decoding: received, as: UTF8.self), false) }
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollfd, 1, Int32(max(1, left * 1_000)))
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else {
                // 0: the server closed; <0: it reset the connection. Either way it is gone.
                return (String(decoding: received, as: UTF8.self), true)
            }
        }
    }

    /// Whether the server closed the connection within `seconds` (what it sent is dropped).
    func closedByServer(within seconds: Double) -> Bool {
        readUntilClosed(seconds: seconds).closed
    }

    /// Closes the sending side only (the client has nothing more to say but still reads).
    func shutdownWrite() {
        if fd >= 0 { _ = shutdown(fd, Int32(SHUT_WR)) }
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

enum RawSocketError: Error, CustomStringConvertible {
    case failed(String, Int32)

    var description: String {
        switch self {
        case .failed(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}

extension ServerProcess {
    /// The number `name` (with its labels, e.g. `x{reason="y"}`) has in `/metrics`, or nil.
    func metric(_ name: String) async throws -> Double? {
        let text = try await request(.GET, "/metrics").body
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// The `streams` count `/health` reports.
    func openStreams() async throws -> Int? {
        try await request(.GET, "/health").object["streams"] as? Int
    }

    /// Starts a process of the built executable in a new temporary data folder.
    static func start(_ arguments: [String] = []) async throws -> ServerProcess {
        let executable = try #require(BuiltServer.executable)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-hostile-\(UUID().uuidString)").path
        return try await ServerProcess(
            executable: executable, dataDirectory: data, port: try freeLoopbackPort(), adminToken: "t", extraArguments: arguments)
    }
}
