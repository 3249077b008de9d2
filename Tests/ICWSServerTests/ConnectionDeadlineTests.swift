@testable import ICWSServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Testing

/// Which deadline a connection holds in each phase of a request. Every connection with a deadline is walked by
/// its event loop's sweeps, so a connection that cannot time out (a request being answered, an event stream)
/// must hold none: with thousands of streams open, their leftover deadlines made every sweep walk them all.
@Suite("Connection deadlines")
struct ConnectionDeadlineTests {
    /// A connection guard on an embedded channel, whose loop's deadlines belong to this test alone.
    struct Connection {
        let channel: EmbeddedChannel
        let guardHandler: ConnectionGuard
        let deadlines: LoopDeadlines

        init() throws {
            let loop = EmbeddedEventLoop()
            channel = EmbeddedChannel(loop: loop)
            guardHandler = ConnectionGuard(counter: ConnectionCounter(policy: ConnectionPolicy(), group: .singleton), eventLoop: loop)
            try channel.pipeline.syncOperations.addHandler(guardHandler)
            deadlines = LoopDeadlines.of(loop)
        }

        func receive(_ part: HTTPServerRequestPart) throws {
            try channel.writeInbound(part)
        }

        func answer() throws {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Length", value: "0")
            try channel.writeOutbound(HTTPServerResponsePart.head(head))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
    }

    static func head(_ method: HTTPMethod, _ uri: String, contentLength: Int? = nil) -> HTTPServerRequestPart {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        if let contentLength { head.headers.add(name: "Content-Length", value: "\(contentLength)") }
        return .head(head)
    }

    @Test("a request whose body has arrived holds no deadline while it is answered, as an event stream does")
    func noDeadlineWhileAnswering() throws {
        let connection = try Connection()
        // A new connection must send its head in time.
        #expect(connection.guardHandler.deadline != nil)
        #expect(connection.deadlines.count == 1)

        try connection.receive(Self.head(.GET, "/icws/s1/messaging/messages"))
        // Its body (none here) must arrive in time.
        #expect(connection.deadlines.count == 1)
        try connection.receive(.end(nil))
        // Read in full: nothing can time out while the answer is made, or while a stream lasts.
        #expect(connection.guardHandler.deadline == nil)
        #expect(connection.deadlines.count == 0)
    }

    @Test("a body still arriving keeps its deadline, and the idle deadline follows the answer")
    func bodyThenIdle() throws {
        let connection = try Connection()
        try connection.receive(Self.head(.POST, "/icws/connection", contentLength: 4))
        try connection.receive(.body(ByteBuffer(string: "{}")))
        let bodyDeadline = try #require(connection.guardHandler.deadline)
        #expect(connection.deadlines.count == 1)

        try connection.receive(.body(ByteBuffer(string: "  ")))
        try connection.receive(.end(nil))
        #expect(connection.deadlines.count == 0)

        try connection.answer()
        // Kept alive: it may now sit idle until the idle deadline, later than the body's was.
        let idleDeadline = try #require(connection.guardHandler.deadline)
        #expect(idleDeadline > bodyDeadline)
        #expect(connection.deadlines.count == 1)
    }
}
