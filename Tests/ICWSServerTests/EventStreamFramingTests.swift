import Foundation
import NIOHTTP1
import Testing

@testable import ICWSServer

@Suite("Event stream framing on the wire")
struct EventStreamFramingTests {
    @Test(
        "an event stream's body is its SSE lines alone, with no chunk-size lines between them, and it ends with the connection",
        .enabled(if: BuiltServer.executable != nil, "the openicws executable was not found next to the test bundle; run `swift build` first"))
    func closeDelimited() async throws {
        let server = try await ServerProcess.start()
        defer { server.killHard() }
        let (agent, socket) = try await server.openRawStream("agent1")
        var received = socket.readUntilClosed(seconds: 1.0).text
        let created = try await server.request(
            .POST, "/admin/interactions", headers: [("Authorization", "Bearer t")], json: #"{"workgroup":"Support","agent":"agent1"}"#)
        let interaction = try #require(created.object["interactionId"] as? String)
        #expect(try await server.send(agent, .POST, "/interactions/\(interaction)/agent-assistance", json: #"{"text":"help"}"#).status == .created)
        received += socket.readUntilClosed(seconds: 1.0).text
        // Logging out ends the stream: its last message, then the close.
        #expect(try await server.send(agent, .DELETE, "/connection").status.code < 300)
        let last = socket.readUntilClosed(seconds: 5)
        received += last.text
        #expect(last.closed, "the server did not close the stream after the logout")

        let (head, _, body) = try #require(received.partitionOnce("\r\n\r\n"), "no response head in:\n\(received)")
        let headers = head.lowercased().components(separatedBy: "\r\n")
        #expect(headers.first == "http/1.1 200 ok", "\(head)")
        #expect(headers.contains("content-type: text/event-stream"), "\(head)")
        #expect(headers.contains("connection: close"), "\(head)")
        #expect(!headers.contains { $0.hasPrefix("transfer-encoding:") || $0.hasPrefix("content-length:") }, "\(head)")

        // Every line of the body is one an EventSource reads; nothing else sits between the events.
        let lines = body.components(separatedBy: "\n")
        let foreign = lines.filter { !($0.isEmpty || $0.hasPrefix("retry: ") || $0.hasPrefix("id: ") || $0.hasPrefix("data: ") || $0 == ":ping") }
        #expect(foreign.isEmpty, "lines an EventSource would not expect: \(foreign)\nbody:\n\(body)")
        #expect(body.hasPrefix("retry: "), "\(body)")
        #expect(body.hasSuffix("\n\n"), "the body does not end with a whole event:\n\(body)")
        let data = lines.filter { $0.hasPrefix("data: ") }
        #expect(data.contains { $0.contains(#""requestsAdded":["a1"]"#) }, "\(body)")
        #expect(data.last?.contains("connectionStateChangeMessage") == true, "\(body)")
    }

    @Test("responses are framed as NIO frames them, except event streams, which end with the connection")
    func framingRules() {
        func framed(_ status: HTTPResponseStatus, _ headers: [(String, String)], version: HTTPVersion = .http1_1) -> (BodyFraming, HTTPHeaders) {
            var head = HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers))
            let framing = BodyFraming.apply(to: &head)
            return (framing, head.headers)
        }
        let json = framed(.ok, [("Content-Type", "application/json"), ("Content-Length", "2")])
        #expect(json.0 == .contentLength && json.1["transfer-encoding"].isEmpty)

        let streamed = framed(.ok, [("Content-Type", "application/json")])
        #expect(streamed.0 == .chunked && streamed.1["transfer-encoding"] == ["chunked"])

        let events = framed(.ok, [("Content-Type", "text/event-stream"), ("Connection", "keep-alive")])
        #expect(events.0 == .untilClose)
        #expect(events.1["transfer-encoding"].isEmpty && events.1["connection"] == ["close"])

        let noContent = framed(.noContent, [("Content-Length", "0")])
        #expect(noContent.0 == .none && noContent.1["content-length"].isEmpty)

        // HTTP/1.0 knows no chunks: a body without a length ends with the connection.
        #expect(framed(.ok, [("Content-Type", "application/json")], version: .http1_0).0 == .untilClose)
    }
}

extension String {
    /// The text before and after the first `separator`, if it occurs.
    fileprivate func partitionOnce(_ separator: String) -> (String, String, String)? {
        guard let range = range(of: separator) else { return nil }
        return (String(self[..<range.lowerBound]), separator, String(self[range.upperBound...]))
    }
}
