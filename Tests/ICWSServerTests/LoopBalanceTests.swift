import Foundation
import Testing

@Suite("Event streams spread over the event loops")
struct LoopBalanceTests {
    @Test(
        "streams opened each after a short connection (which would give every stream the same loop in turn) end up split evenly",
        .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"),
        .enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1, "one core: the server has one event loop"))
    func evenSplit() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        let streams = 24
        var logins: [ServerProcess.Login] = []
        for index in 0..<streams {
            let login = try await server.login("supervisor\(1 + index % 2)")
            #expect(try await server.send(login, .PUT, "/messaging/subscriptions/interactions/supervisor-assistance", json: "{}").status == .noContent)
            logins.append(login)
        }
        var sockets: [RawSocket] = []
        for login in logins {
            // A short connection, answered and closed, then the stream: with two loops taken in turn, every stream
            // would get the same one.
            let probe = try RawSocket(port: server.port)
            try probe.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(probe.readUntilClosed(seconds: 2).closed)
            let cookie = try #require(login.headers.first { $0.0 == "Cookie" }?.1)
            let socket = try RawSocket(port: server.port)
            try socket.send(
                "GET /icws/\(login.sessionId)/messaging/messages HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nCookie: \(cookie)\r\n\r\n")
            #expect(socket.readUntilClosed(seconds: 0.3).text.contains("supervisorAssistanceRequestMessage"))
            sockets.append(socket)
        }
        #expect(try await server.openStreams() == streams)

        let perLoop = try await Self.connectionsPerLoop(server)
        // NIO makes one loop per core it may use (a CPU quota can leave one even on a machine with two).
        try #require(!perLoop.isEmpty, "no openicws_event_loop_connections in /metrics")
        guard perLoop.count > 1 else { return }
        // The streams, plus the connection asking for the figures.
        #expect(perLoop.reduce(0, +) >= streams, "\(perLoop)")
        let spread = (perLoop.max() ?? 0) - (perLoop.min() ?? 0)
        #expect(spread <= 3, "connections per event loop: \(perLoop)")
        withExtendedLifetime(sockets) {}
    }

    /// `openicws_event_loop_connections{loop="N"}` from `/metrics`, for loops 0, 1, … while there are any.
    static func connectionsPerLoop(_ server: ServerProcess) async throws -> [Int] {
        var counts: [Int] = []
        while let value = try await server.metric(#"openicws_event_loop_connections{loop="\#(counts.count)"}"#) {
            counts.append(Int(value))
        }
        return counts
    }
}
