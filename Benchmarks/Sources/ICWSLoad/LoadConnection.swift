import NIOCore
import NIOHTTP1
import NIOPosix

/// A response read whole.
public struct LoadResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: ByteBuffer

    public var text: String { String(buffer: body) }
}

/// A failed load operation.
public struct LoadError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One keep-alive HTTP/1.1 connection: cheap, one request at a time, or one event stream.
public struct LoadConnection: ~Copyable {
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private let host: String
    /// The underlying channel, to close the connection from outside (e.g. on cancellation).
    public let channel: any Channel

    /// Connects and runs `body` with the connection; closes it afterwards.
    public static func with<T: Sendable>(
        host: String, port: Int, _ body: (inout LoadConnection) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = LoadConnection(
                inbound: inbound.makeAsyncIterator(), outbound: outbound, host: "\(host):\(port)", channel: channel.channel)
            return try await body(&connection)
        }
    }

    private init(
        inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, host: String, channel: any Channel
    ) {
        self.inbound = inbound
        self.outbound = outbound
        self.host = host
        self.channel = channel
    }

    private func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: String?) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body {
            head.headers.add(name: "Content-Length", value: String(body.utf8.count))
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(string: body))), .end(nil)])
        } else {
            if method == .POST || method == .PUT { head.headers.add(name: "Content-Length", value: "0") }
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        }
    }

    /// Sends a request and reads the whole response.
    public mutating func request(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> LoadResponse {
        try await send(method, path, headers: headers, body: body)
        var status = 0
        var responseHeaders = HTTPHeaders()
        var buffer = ByteBuffer()
        while let part = try await inbound.next() {
            switch part {
            case .head(let head):
                status = Int(head.status.code)
                responseHeaders = head.headers
            case .body(var chunk):
                buffer.writeBuffer(&chunk)
            case .end:
                return LoadResponse(status: status, headers: responseHeaders, body: buffer)
            }
        }
        throw LoadError("connection closed during \(method) \(path)")
    }

    /// Sends a request whose response is a stream; returns its status once the head arrives.
    public mutating func openStream(_ path: String, headers: [(String, String)]) async throws -> Int {
        try await send(.GET, path, headers: headers, body: nil)
        while let part = try await inbound.next() {
            if case .head(let head) = part { return Int(head.status.code) }
        }
        throw LoadError("connection closed before the stream began")
    }

    /// The next chunk of an open stream; nil when it ended.
    public mutating func nextChunk() async throws -> ByteBuffer? {
        while let part = try await inbound.next() {
            switch part {
            case .body(let chunk): return chunk
            case .end: return nil
            case .head: continue
            }
        }
        return nil
    }
}
