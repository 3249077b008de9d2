import Foundation
import ICWSClient
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Clients that misbehave on purpose, against the real process: they send nothing, send half a request,
/// stop reading an event stream, open too many connections or send what is not HTTP.
@Suite(
    "Hostile clients", .serialized,
    .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found; run `swift build` first"))
struct HostileClientTests {
    /// A stream whose client never reads: the agent watches its request's details while 8 snapshots of
    /// about 1 MB each are queued for it, more than the kernel's socket buffers take.
    private func stuckStream(on server: ServerProcess, agent: String) async throws -> (ServerProcess.Login, RawSocket) {
        let login = try await server.login(agent)
        let created = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"\#(agent)"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        let line = String(repeating: "x", count: 2_000)
        let requested = try await server.send(login, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"\#(line)"}"#)
        let assistanceId = try #require(requested.object["assistanceId"] as? String, "\(requested.body)")
        for _ in 0..<499 {
            let chat = try await server.send(login, .POST, "/interactions/agent-assistance/\(assistanceId)", json: #"{"text":"\#(line)"}"#)
            try #require(chat.status.code < 300, "chat answered \(chat.status): \(chat.body)")
        }
        let socket = try RawSocket(port: server.port, receiveBuffer: 4_096)
        let headers = login.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        try socket.send("GET /icws/\(login.sessionId)/messaging/messages HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\(headers)\r\n")
        #expect(await eventually(5) { (try? await server.openStreams()) == 1 })
        for _ in 0..<8 {
            _ = try await server.send(login, .PUT, "/messaging/subscriptions/interactions/agent-assistance/\(assistanceId)")
            _ = try await server.send(login, .DELETE, "/messaging/subscriptions/interactions/agent-assistance/\(assistanceId)")
        }
        return (login, socket)
    }

    @Test("a stream whose client stopped reading is closed 5 s after logout, and SIGTERM still exits 0 within the grace period, refusing admin writes while it drains")
    func stuckStreamAtLogoutAndShutdown() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }

        let (first, firstSocket) = try await stuckStream(on: server, agent: "agent1")
        let loggedOut = try await server.send(first, .DELETE, "/connection")
        #expect(loggedOut.status.code < 300)
        #expect(await eventually(9) { (try? await server.openStreams()) == 0 }, "the stuck stream outlived its logout")
        #expect(firstSocket.closedByServer(within: 5))

        let (_, secondSocket) = try await stuckStream(on: server, agent: "agent2")
        let stopAsked = Date()
        kill(server.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        let refused = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        #expect(refused.status == .serviceUnavailable)
        #expect(refused.object["errorId"] as? String == "error.server.unavailable")

        while server.process.isRunning && Date().timeIntervalSince(stopAsked) < 20 { try await Task.sleep(for: .milliseconds(50)) }
        let took = Date().timeIntervalSince(stopAsked)
        #expect(!server.process.isRunning, "still running 20 s after SIGTERM")
        #expect(took < 10.5, "exit took \(took) s; --shutdown-grace-seconds is 10")
        #expect(server.process.terminationStatus == 0, "log:\n\(server.log)")
        #expect(secondSocket.closedByServer(within: 1))
    }

    @Test("on SIGTERM an idle keep-alive connection is closed at once and the process exits without waiting out the grace period")
    func idleKeepAliveAtShutdown() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        let keepAlive = try RawSocket(port: server.port)
        try keepAlive.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(!keepAlive.readUntilClosed(seconds: 0.5).closed)
        let stopAsked = Date()
        kill(server.process.processIdentifier, SIGTERM)
        #expect(keepAlive.closedByServer(within: 3), "the idle connection stayed open during the drain")
        while server.process.isRunning && Date().timeIntervalSince(stopAsked) < 15 { try await Task.sleep(for: .milliseconds(50)) }
        let took = Date().timeIntervalSince(stopAsked)
        #expect(!server.process.isRunning)
        #expect(took < 5, "exit took \(took) s with one idle connection")
        #expect(server.process.terminationStatus == 0)
    }

    @Test("a client that stops reading its stream is disconnected after --write-stall-seconds, logged in or not")
    func writeStall() async throws {
        let server = try await ServerProcess.start(["--write-stall-seconds", "2"])
        defer { server.killHard() }
        let (_, socket) = try await stuckStream(on: server, agent: "agent1")
        #expect(await eventually(8) { (try? await server.openStreams()) == 0 })
        #expect(socket.closedByServer(within: 2))
        #expect(try await server.metric(#"openicws_connections_closed_total{reason="write_stall"}"#) == 1)
    }

    @Test("a client that reads slowly gets every message, whole and in order (what its socket could not take waits in NIO's queue behind what was sent)")
    func slowReaderGetsEverything() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        // Eight snapshots of a 1 MB chat reach a client whose receive window is 4 KB and that does not read yet:
        // the server's sends meet a full socket, and the rest must queue in order behind them.
        let (_, socket) = try await stuckStream(on: server, agent: "agent1")
        try await Task.sleep(for: .seconds(1))
        let (text, closed) = socket.readUntilClosed(seconds: 6)
        #expect(!closed)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.first?.lowercased().contains("text/event-stream") == true)
        // The body is the events themselves (it ends with the connection): nothing between them, none cut short.
        let payload = Array(text.utf8.dropFirst((parts.first?.utf8.count ?? 0) + 4))
        let lines = String(decoding: payload, as: UTF8.self).components(separatedBy: "\n")
        let foreign = lines.filter { !($0.isEmpty || $0.hasPrefix("retry: ") || $0.hasPrefix("id: ") || $0.hasPrefix("data: ") || $0 == ":ping") }
        #expect(foreign.isEmpty, "lines that are not SSE fields: \(foreign.map { $0.prefix(40) })")
        #expect(payload.suffix(2) == [10, 10], "the last event was cut short")
        var parser = ServerSentEventParser()
        parser.consume(payload)
        var ids: [Int] = []
        var snapshots = 0
        while let event = parser.nextEvent() {
            ids.append(Int(event.id ?? "") ?? -1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any], "not JSON: \(event.data.prefix(80))")
            if object["isDelta"] as? Bool == false, let lines = object["messagesAdded"] as? [Any] {
                #expect(lines.count == 500)
                snapshots += 1
            }
        }
        #expect(ids == ids.sorted() && Set(ids).count == ids.count && !ids.contains(-1), "ids out of order: \(ids)")
        #expect(snapshots == 8, "\(snapshots) of 8 details snapshots arrived whole")
    }

    @Test("silent sockets, half-sent heads and bodies, and idle keep-alive connections are closed; a quiet event stream is not")
    func slowAndIdleConnections() async throws {
        let server = try await ServerProcess.start([
            "--request-head-timeout-seconds", "1", "--request-body-timeout-seconds", "2", "--connection-idle-seconds", "3",
        ])
        defer { server.killHard() }

        let silent = try RawSocket(port: server.port)
        let halfHead = try RawSocket(port: server.port)
        try halfHead.send("GET /health HTTP/1.1\r\nHost: x\r\n")
        let halfBody = try RawSocket(port: server.port)
        try halfBody.send("POST /icws/connection HTTP/1.1\r\nHost: x\r\nAccept-Language: en-US\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"userID\":")
        let hugeBody = try RawSocket(port: server.port)
        try hugeBody.send("POST /icws/connection HTTP/1.1\r\nHost: x\r\nAccept-Language: en-US\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n")

        // A stream that receives nothing but pings (every 15 s) must outlive the idle timeout.
        let agent = try await server.login("agent1")
        let stream = try RawSocket(port: server.port)
        try stream.send("GET /icws/\(agent.sessionId)/messaging/messages HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
            + agent.headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n")

        let opened = Date()
        #expect(silent.closedByServer(within: 4), "a socket that sent nothing stayed open")
        #expect(halfHead.closedByServer(within: 4), "half a request head stayed open")
        #expect(halfBody.closedByServer(within: 4), "half a body stayed open")
        let huge = hugeBody.readUntilClosed(seconds: 1)
        #expect(huge.closed, "a 10 GB Content-Length with no body hung its connection")
        #expect(huge.text.hasPrefix("HTTP/1.1 400") && huge.text.contains("error.request.invalidRepresentation"), "\(huge.text)")

        let keepAlive = try RawSocket(port: server.port)
        try keepAlive.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let idle = keepAlive.readUntilClosed(seconds: 6)
        #expect(idle.text.hasPrefix("HTTP/1.1 200"))
        #expect(idle.closed, "an idle keep-alive connection stayed open")

        #expect(Date().timeIntervalSince(opened) > 3)
        #expect(!stream.readUntilClosed(seconds: 0.2).closed, "the event stream was closed as idle")
        #expect(try await server.openStreams() == 1)
        #expect((try await server.metric(#"openicws_connections_closed_total{reason="head_timeout"}"#) ?? 0) >= 2)
        #expect((try await server.metric(#"openicws_connections_closed_total{reason="idle_timeout"}"#) ?? 0) >= 1)
        #expect((try await server.metric(#"openicws_connections_closed_total{reason="body_timeout"}"#) ?? 0) >= 1)
    }

    @Test("past --max-connections the server answers 503 with an ICWS body, still answers /health, and serves again when connections close")
    func connectionCap() async throws {
        let server = try await ServerProcess.start(["--max-connections", "3"])
        defer { server.killHard() }
        // AsyncHTTPClient keeps pooled connections: count those the test holds on top.
        try await Task.sleep(for: .milliseconds(200))
        let pooled = Int(try await server.metric("openicws_connections") ?? 0)
        let held = try (0..<max(0, 3 - pooled)).map { _ in try RawSocket(port: server.port) }
        try await Task.sleep(for: .milliseconds(200))

        let over = try RawSocket(port: server.port)
        try over.send("GET /icws/connection/version HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = over.readUntilClosed(seconds: 5)
        #expect(answer.closed)
        #expect(answer.text.hasPrefix("HTTP/1.1 503"), "\(answer.text)")
        #expect(answer.text.contains(#""errorId":"error.server.unavailable""#))

        let health = try RawSocket(port: server.port)
        try health.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(health.readUntilClosed(seconds: 5).text.hasPrefix("HTTP/1.1 200"))

        for socket in held { socket.close() }
        try await Task.sleep(for: .milliseconds(300))
        let again = try RawSocket(port: server.port)
        try again.send("GET /icws/connection/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(again.readUntilClosed(seconds: 5).text.hasPrefix("HTTP/1.1 200"))
        #expect((try await server.metric(#"openicws_connections_closed_total{reason="over_limit"}"#) ?? 0) >= 1)
    }

    @Test("what is not HTTP gets an ICWS error body (431 for oversized heads); HTTP/1.0 closes after the answer; 405 names Allow")
    func edgesOfHTTP() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        func exchange(_ request: [UInt8]) throws -> String {
            let socket = try RawSocket(port: server.port)
            try socket.send(request)
            let reply = socket.readUntilClosed(seconds: 5)
            #expect(reply.closed, "the connection stayed open after: \(reply.text.prefix(80))")
            return reply.text
        }
        let cases: [(String, String, String)] = [
            ("bare LF", "GET /health HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400"),
            ("unknown method", "BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"),
            ("Content-Length with Transfer-Encoding",
             "POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400"),
            ("200 KB URL", "GET /" + String(repeating: "a", count: 200_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 431"),
            ("200 KB header", "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 200_000) + "\r\n\r\n", "HTTP/1.1 431"),
        ]
        for (name, request, status) in cases {
            let reply = try exchange(Array(request.utf8))
            #expect(reply.hasPrefix(status), "\(name): \(reply.prefix(200))")
            let body = reply.components(separatedBy: "\r\n\r\n").dropFirst().joined()
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            #expect(json?["errorId"] is String && json?["message"] is String, "\(name): body \(body.prefix(200))")
        }

        let old = try exchange(Array("GET /health HTTP/1.0\r\n\r\n".utf8))
        #expect(old.contains(#""status":"ok""#))

        let notAllowed = try await server.request(.DELETE, "/icws/connection/version")
        #expect(notAllowed.status == .methodNotAllowed)
        #expect(notAllowed.headers.first(name: "Allow") == "GET")
    }

    @Test("requests sent back to back on one connection are answered in order; a client that half-closes after its request gets the answer, then the close")
    func pipelinedAndHalfClosed() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }

        let login = #"{"userID":"agent1","password":"1234"}"#
        let socket = try RawSocket(port: server.port)
        try socket.send(
            "GET /icws/connection/version HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /icws/connection HTTP/1.1\r\nHost: x\r\nAccept-Language: en-us\r\nContent-Type: application/json\r\nContent-Length: \(login.utf8.count)\r\n\r\n\(login)"
                + "GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let reply = socket.readUntilClosed(seconds: 10)
        #expect(reply.closed, "the connection stayed open after Connection: close")
        // A response follows the previous one's body directly (its length is given, no line break after it).
        let statuses = reply.text.matches(of: /HTTP\/1\.1 \d{3}/).map { String(reply.text[$0.range]) }
        #expect(statuses == ["HTTP/1.1 200", "HTTP/1.1 201", "HTTP/1.1 404", "HTTP/1.1 200"], "\(reply.text.prefix(600))")
        let version = try #require(reply.text.range(of: "majorVersion"))
        let session = try #require(reply.text.range(of: "sessionId"))
        let health = try #require(reply.text.range(of: #""status":"ok""#))
        #expect(version.lowerBound < session.lowerBound && session.lowerBound < health.lowerBound)
        // Only the answer after which the connection closes says so.
        #expect(reply.text.components(separatedBy: "Connection: close").count == 2, "\(reply.text.prefix(600))")

        let halfClosed = try RawSocket(port: server.port)
        try halfClosed.send("GET /icws/connection/version HTTP/1.1\r\nHost: x\r\n\r\n")
        halfClosed.shutdownWrite()
        let answer = halfClosed.readUntilClosed(seconds: 5)
        #expect(answer.text.hasPrefix("HTTP/1.1 200") && answer.text.contains("majorVersion"), "\(answer.text.prefix(300))")
        #expect(answer.closed, "the server kept a half-closed connection open after answering")
    }
}
