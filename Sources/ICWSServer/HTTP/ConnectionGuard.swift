import Foundation
import Hummingbird
import HummingbirdCore
import ICWSModel
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
import Synchronization

/// How long a connection may take, and how many there may be. Every value is a flag of `openicws serve`.
public struct ConnectionPolicy: Sendable, Equatable {
    /// A request head must be complete this many seconds after its first byte (after the connection opened,
    /// for the first request).
    public var headTimeoutSeconds: Double = 10
    /// A request's body must have arrived this many seconds after its head.
    public var bodyTimeoutSeconds: Double = 30
    /// A connection with no request in flight (and so no event stream) is closed after this many seconds.
    public var idleTimeoutSeconds: Double = 60
    /// A connection whose socket stays unwritable this long (the client stopped reading) is closed.
    public var writeStallSeconds: Double = 30
    /// Connections served normally; nil: the descriptor limit minus `2 × reserve`. Beyond it, up to
    /// `reserve` more are accepted and answered 503 (but `/health`); beyond those, none are accepted.
    public var maxConnections: Int?
    /// Descriptors kept for the 503 answers and `/health`, and as many again for the database and logs.
    public var reserve = 64

    public init() {}

    /// The connection cap in force: the flag, or what the descriptor limit leaves.
    public var effectiveMaxConnections: Int {
        if let maxConnections { return maxConnections }
        return max(16, DescriptorLimit.current - 2 * reserve)
    }
}

/// The process's open-file limit.
public enum DescriptorLimit {
    /// The soft limit now in force.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        return Int(min(limit.rlim_cur, 1_048_576))
    }

    /// Raises the soft limit to the hard one (at most 1,048,576), as servers for many connections do.
    /// Returns the limit in force afterwards.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return current }
        let target = min(limit.rlim_max, 1_048_576)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return current
    }
}

/// Counts the open connections of one server, and what was closed and why (`/metrics`).
final class ConnectionCounter: Sendable {
    let policy: ConnectionPolicy
    let maxConnections: Int
    private let open = Atomic<Int>(0)
    /// Requests being answered (their tasks), on every connection.
    let answers = Atomic<Int>(0)
    private let gauge = Gauge(label: "openicws_connections")
    /// Spreads the connections over the event loops.
    let balancer: LoopBalancer

    init(policy: ConnectionPolicy, group: MultiThreadedEventLoopGroup) {
        self.policy = policy
        self.balancer = LoopBalancer(group: group)
        self.maxConnections = policy.effectiveMaxConnections
        Gauge(label: "openicws_limit", dimensions: [("limit", "max_connections")]).record(maxConnections)
        Gauge(label: "openicws_limit", dimensions: [("limit", "request_head_seconds")]).record(policy.headTimeoutSeconds)
        Gauge(label: "openicws_limit", dimensions: [("limit", "request_body_seconds")]).record(policy.bodyTimeoutSeconds)
        Gauge(label: "openicws_limit", dimensions: [("limit", "connection_idle_seconds")]).record(policy.idleTimeoutSeconds)
        Gauge(label: "openicws_limit", dimensions: [("limit", "write_stall_seconds")]).record(policy.writeStallSeconds)
    }

    /// Counts a new connection, on `loop`; true when it is beyond the cap.
    func opened(on loop: any EventLoop) -> Bool {
        balancer.opened(on: loop)
        let now = open.add(1, ordering: .relaxed).newValue
        gauge.record(now)
        return now > maxConnections
    }

    func closed(on loop: any EventLoop) {
        balancer.closed(on: loop)
        gauge.record(open.subtract(1, ordering: .relaxed).newValue)
    }

    /// Counts a connection the server closed, by reason.
    static func closedByServer(_ reason: String) {
        Counter(label: "openicws_connections_closed_total", dimensions: [("reason", reason)]).increment()
    }
}

/// A connection as the server hands it over: its channel, whose handlers answer its requests.
struct GuardedConnection: ServerChildChannelValue {
    let channel: any Channel
}

/// HTTP/1.1 connections served by handlers alone: NIO's codec, `ConnectionGuard` and `RequestDispatcher`,
/// which answers each request in a task of its own. No task or `NIOAsyncChannel` is kept per connection.
struct GuardedHTTP1Channel<Responder: HTTPResponder>: ServerChildChannel where Responder.Context == ICWSRequestContext {
    let responder: Responder
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<GuardedConnection> {
        channel.eventLoop.makeCompletedFuture {
            let guardHandler = ConnectionGuard(counter: counter, eventLoop: channel.eventLoop)
            // Small receive buffers: ICWS requests are small, and most connections are idle event streams.
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteTap(owner: guardHandler))
            // `ConnectionGuard` sets each response's framing headers (`BodyFraming`), and the encoder follows them.
            var encoder = HTTPResponseEncoder.Configuration()
            encoder.automaticallySetFramingHeaders = false
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: encoder, withDecoderLimitConfiguration: .init())
            try pipeline.addHandler(guardHandler)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(RequestDispatcher(responder: responder, counter: counter, logger: logger))
            return GuardedConnection(channel: channel)
        }
    }

    /// Nothing to wait for: the pipeline answers the connection's requests.
    func handle(value: GuardedConnection, logger: Logger) async {}
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the connection guard (timeouts, connection cap, ICWS bodies for malformed requests),
    /// answering with `responder` (the router's).
    static func guardedHTTP1<Responder: HTTPResponder>(counter: ConnectionCounter, responder: Responder) -> HTTPServerBuilder
    where Responder.Context == ICWSRequestContext {
        HTTPServerBuilder { _ in GuardedHTTP1Channel(responder: responder, counter: counter) }
    }
}

/// One per connection, between NIO's HTTP/1 decoder and Hummingbird. It
/// - closes a connection whose request head or body is too slow, that idles too long between requests,
///   or whose client stopped reading (`ConnectionPolicy`);
/// - answers connections beyond the cap with 503 (but `/health`) and closes them;
/// - answers requests NIO cannot parse with an ICWS body (431 for oversized heads) instead of a bare 400;
/// - closes after the answer when the client did not ask to keep the connection (HTTP/1.0).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let counter: ConnectionCounter
    private let headTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let writeStall: TimeAmount

    private var counted = false
    private var overLimit = false
    /// Requests whose head was read and whose response has not ended.
    private var inFlight = 0
    private var readingBody = false
    private var headAt = NIODeadline.now()
    /// When the connection last had nothing in flight, and whether a request was ever read on it.
    private var idleSince = NIODeadline.now()
    private var servedOne = false
    /// The first byte of a request head not yet complete.
    private var headStartedAt: NIODeadline?
    private var unwritableSince: NIODeadline?
    /// The request being refused (503 beyond the cap): its parts are dropped.
    private var refusing = false
    /// Close once the response in flight ends (HTTP/1.0, or a body left unread).
    private var closeAfterResponse = false
    private var closing = false
    /// The answer was sent and the output closed: what still arrives is dropped.
    private(set) var discarding = false
    /// The earliest deadline in force (`LoopDeadlines` checks it), if any.
    private(set) var deadline: NIODeadline?
    private let deadlines: LoopDeadlines
    /// This handler's place in the pipeline, while it is in one (event streams write from it).
    private var context: ChannelHandlerContext?
    /// Whether the channel is active and takes more data, kept from its events so the stream pump's checks
    /// per stream and write are a load.
    private(set) var isOpen = false
    private(set) var isWritable = true
    /// The channel's core, where an event stream's bytes go when the socket did not take them: what
    /// the pipeline's head would do with them, without walking the pipeline (no outbound handler but NIO's
    /// HTTP encoder, which these bytes skip, stands between).
    private var core: (any ChannelCore)?
    /// Whether the body of the response in flight ends with the connection (an event stream, or HTTP/1.0
    /// without a length): its bytes then go to the socket as they are.
    private var bodyUntilClose = false
    /// The connection's socket, for an event stream's sends: looked up by the first stream write that may go
    /// straight to it (the lookup is a dynamic cast, which the many connections that never stream would pay for
    /// nothing), and gone once the connection closes or the channel does not expose it.
    private var socket = StreamSocket.notLookedUp
    /// Whether NIO may still hold bytes of this connection not yet written (checked before sending past it).
    private var nioHolds = true
    /// Whether bytes were handed to NIO since the last flush.
    private var handedToNIO = false
    /// The event stream this connection serves, if any: pumped again when the socket drains.
    var streamPump: StreamPump? {
        didSet {
            if oldValue != nil && streamPump == nil { streamEnded() }
        }
    }
    /// The end of an event stream's response, held back while its pump writes (Hummingbird's task is done
    /// with the response before the stream is over).
    private var heldEnd: (NIOAny, EventLoopPromise<Void>?)?
    let eventLoop: any EventLoop

    init(counter: ConnectionCounter, eventLoop: any EventLoop) {
        self.counter = counter
        self.eventLoop = eventLoop
        self.deadlines = LoopDeadlines.of(eventLoop)
        let policy = counter.policy
        func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1_000_000_000)) }
        headTimeout = amount(policy.headTimeoutSeconds)
        bodyTimeout = amount(policy.bodyTimeoutSeconds)
        idleTimeout = amount(policy.idleTimeoutSeconds)
        writeStall = amount(policy.writeStallSeconds)
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        core = context.channel._channelCore
        isOpen = context.channel.isActive
        isWritable = context.channel.isWritable
        counted = true
        overLimit = counter.opened(on: context.eventLoop)
        idleSince = .now()
        armTimer(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        self.context = nil
        core = nil
        socket = .unavailable
        isOpen = false
        streamPump?.finish()
        if counted {
            counted = false
            counter.closed(on: context.eventLoop)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(var head):
            headStartedAt = nil
            inFlight += 1
            readingBody = true
            servedOne = true
            headAt = .now()
            if overLimit && inFlight == 1 && !Self.isHealth(head.uri) {
                respondAndClose(context, reason: "over_limit", status: .serviceUnavailable, error: ICWSErrorBody(
                    errorId: "error.server.unavailable",
                    message: "The server has too many connections open (\(counter.maxConnections)); retry later."))
                return
            }
            // A body larger than any ICWS request is refused before it is awaited (a 10 GB Content-Length
            // would otherwise hold the connection until the body timeout).
            if inFlight == 1, let declared = head.headers.first(name: "content-length").flatMap(Int.init),
                declared > ICWSRequestContext.maxBodyBytes {
                respondAndClose(context, reason: "body_too_large", status: .badRequest, error: ICWSErrorBody(
                    errorId: "error.request.invalidRepresentation",
                    message: "The request body is too large (\(declared) bytes; at most \(ICWSRequestContext.maxBodyBytes))."))
                return
            }
            if !head.isKeepAlive {
                closeAfterResponse = true
                if !head.headers.contains(name: "connection") { head.headers.add(name: "Connection", value: "close") }
                else { head.headers.replaceOrAdd(name: "Connection", value: "close") }
            }
            armTimer(context)
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body:
            if !refusing { context.fireChannelRead(data) }
        case .end:
            readingBody = false
            // The body deadline is over: an event stream (or any answer still being made) has no deadline now.
            armTimer(context)
            if !refusing { context.fireChannelRead(data) }
        }
    }

    /// From `ByteTap`: bytes arrived before NIO decoded them.
    func bytesArrived(_ context: ChannelHandlerContext) {
        if inFlight == 0 && headStartedAt == nil && !closing {
            headStartedAt = .now()
            armTimer(context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        isOpen = true
        context.fireChannelActive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        if isWritable {
            unwritableSince = nil
            streamPump?.pumpCounted()
        } else if unwritableSince == nil {
            unwritableSince = .now()
            armTimer(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if discarding { return }
        guard let parserError = error as? HTTPParserError, inFlight == 0, !closing else {
            context.fireErrorCaught(error)
            return
        }
        if case .headerOverflow = parserError {
            respondAndClose(context, reason: "malformed_request", status: .requestHeaderFieldsTooLarge, error: ICWSErrorBody(
                errorId: "error.request.headersTooLarge", message: "The request line or headers are too large."))
        } else {
            respondAndClose(context, reason: "malformed_request", status: .badRequest, error: ICWSErrorBody(
                errorId: "error.request.malformed", message: "The request is not valid HTTP/1.1 (\(parserError))."))
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            bodyUntilClose = BodyFraming.apply(to: &head) == .untilClose
            // Only the close can end such a body.
            if bodyUntilClose { closeAfterResponse = true }
            // A body still unread when the answer starts (a refused upload) cannot be skipped: close after.
            if readingBody && inFlight == 1 { closeAfterResponse = true }
            // Requests sent back to back are answered in order; the close comes after the last one's answer.
            if closeAfterResponse && inFlight == 1 { head.headers.replaceOrAdd(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if streamPump != nil {
                heldEnd = (data, promise)
                return
            }
            inFlight -= 1
            if inFlight == 0 {
                idleSince = .now()
                if closeAfterResponse {
                    closing = true
                    disarm()
                    let flushed = context.writeAndFlush(data)
                    flushed.cascade(to: promise)
                    if readingBody {
                        flushed.assumeIsolated().whenComplete { [self] _ in linger(context) }
                    } else {
                        context.close(promise: nil)
                    }
                    return
                }
                armTimer(context)
            }
            context.write(data, promise: promise)
        }
    }

    // MARK: Event streams

    /// The pump let go: write the held end of the response, and close (an event stream's response says
    /// `Connection: close`).
    private func streamEnded() {
        guard let context else { return }
        closeAfterResponse = true
        if let (data, promise) = heldEnd {
            heldEnd = nil
            write(context: context, data: data, promise: promise)
        }
    }

    /// Sends part of an event stream's body (after Hummingbird wrote the response head), which ends with the
    /// connection and so needs no framing, past NIO's encoder and the pipeline's walk: straight to the socket
    /// while NIO holds nothing back for it (one `send` per delivery, as a C server does), else into NIO's write
    /// queue, which also takes whatever the socket did not (a slow reader) and meets any error (and closes the
    /// channel). `bytes` may be reused afterwards.
    func sendStream(_ bytes: inout ByteBuffer) {
        guard bodyUntilClose else {
            context?.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
            handedToNIO = true
            return
        }
        if nioHolds, let context {
            // Until what NIO took is written, later bytes queue behind it.
            nioHolds = ((try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 1) != 0
            if !nioHolds, case .notLookedUp = socket {
                let found = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
                socket = found.map(StreamSocket.open) ?? .unavailable
            }
        }
        if !nioHolds, case .open(let socket) = socket {
            let sent = bytes.withUnsafeReadableBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == bytes.readableBytes { return }
            if sent > 0 { bytes.moveReaderIndex(forwardBy: sent) }
        }
        guard let core else { return }
        // The rest keeps the scratch buffer's storage; the next delivery's write then copies it (copy on write).
        nioHolds = true
        handedToNIO = true
        core.write0(NIOAny(bytes), promise: nil)
    }

    /// Flushes what `sendStream` handed to NIO, if anything.
    func flushStream() {
        guard handedToNIO else { return }
        handedToNIO = false
        if let core, bodyUntilClose { core.flush0() } else { context?.flush() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        socket = .unavailable
        streamPump?.finish()
        context.fireChannelInactive()
    }

    /// A client that shuts its side of an event stream is gone: close (other requests may half-close).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let pump = streamPump, case ChannelEvent.inputClosed = event {
            pump.finish()
            context.close(promise: nil)
        }
        // The server is shutting down: an idle connection closes now, a busy one after its answer.
        if event is ChannelShouldQuiesceEvent {
            if inFlight == 0 {
                close(context)
            } else {
                closeAfterResponse = true
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Deadlines

    /// The deadlines that apply now, each with the reason a connection past it is closed: the write stall,
    /// and the body's, the head's or the idle deadline, whichever phase the connection is in.
    private func pendingDeadlines() -> [(deadline: NIODeadline, reason: String)] {
        var deadlines: [(deadline: NIODeadline, reason: String)] = []
        if let unwritableSince { deadlines.append((unwritableSince + writeStall, "write_stall")) }
        if readingBody {
            deadlines.append((headAt + bodyTimeout, "body_timeout"))
        } else if inFlight == 0 {
            if let headStartedAt {
                deadlines.append((headStartedAt + headTimeout, "head_timeout"))
            } else if servedOne {
                deadlines.append((idleSince + idleTimeout, "idle_timeout"))
            } else {
                deadlines.append((idleSince + headTimeout, "head_timeout"))
            }
        }
        return deadlines
    }

    /// Makes the earliest deadline in force the one `LoopDeadlines` checks.
    private func armTimer(_ context: ChannelHandlerContext) {
        let next = closing ? nil : pendingDeadlines().map(\.deadline).min()
        guard next != deadline else { return }
        deadline = next
        deadlines.set(self, next)
    }

    /// No deadline any more (closing).
    private func disarm() {
        guard deadline != nil else { return }
        deadline = nil
        deadlines.set(self, nil)
    }

    /// From `LoopDeadlines`: the deadline passed; close for the reason it stood for, or keep the next one.
    func deadlineReached() {
        guard let context else {
            disarm()
            return
        }
        let now = NIODeadline.now()
        if let reason = pendingDeadlines().first(where: { now >= $0.deadline })?.reason {
            ConnectionCounter.closedByServer(reason)
            close(context)
        } else {
            armTimer(context)
        }
    }

    // MARK: Answers of its own

    /// Answers the request itself (its parts are dropped), counts the connection as closed for `reason`,
    /// and closes after the answer.
    private func respondAndClose(_ context: ChannelHandlerContext, reason: String, status: HTTPResponseStatus, error: ICWSErrorBody) {
        ConnectionCounter.closedByServer(reason)
        refusing = true
        closing = true
        disarm()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let json = (try? encoder.encode(error)) ?? Data("{\"message\":\"\(status.reasonPhrase)\"}".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json;charset=UTF-8")
        headers.add(name: "Content-Length", value: String(json.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Server", value: "OpenICWS")
        if status == .serviceUnavailable { headers.add(name: "Retry-After", value: "5") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in linger(context) }
    }

    /// Stops sending but reads (and drops) what the client still sends, for up to two seconds, then closes:
    /// closing a socket with unread input resets it, and the client would lose the answer.
    private func linger(_ context: ChannelHandlerContext) {
        discarding = true
        context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        _ = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        disarm()
        context.close(promise: nil)
    }

    private static func isHealth(_ uri: String) -> Bool {
        uri == "/health" || uri.hasPrefix("/health?")
    }
}

/// First in the pipeline: tells the guard when bytes of a new request start to arrive.
final class ByteTap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let owner: ConnectionGuard
    private var ownerContext: ChannelHandlerContext?

    init(owner: ConnectionGuard) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if owner.discarding { return }
        if ownerContext == nil { ownerContext = try? context.pipeline.syncOperations.context(handler: owner) }
        if let ownerContext { owner.bytesArrived(ownerContext) }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ownerContext = nil
    }
}

/// How a response's body is delimited on the wire. NIO's encoder does not choose (its automatic framing is
/// off): `apply` sets the headers it follows.
enum BodyFraming: Equatable {
    /// No body (1xx, 204, 304).
    case none
    case contentLength
    case chunked
    /// The body ends when the server closes the connection: an event stream (`Connection: close`, as nginx's
    /// nchan sends it: an EventSource reads `id:`/`data:` lines with no chunk-size lines between them), or an
    /// HTTP/1.0 response without a length.
    case untilClose

    /// Sets `head`'s framing headers as NIO's automatic framing would, except that an event stream is not
    /// chunked.
    static func apply(to head: inout HTTPResponseHead) -> BodyFraming {
        guard head.status.mayHaveResponseBody else {
            head.headers.remove(name: "content-length")
            head.headers.remove(name: "transfer-encoding")
            return .none
        }
        if head.headers.contains(name: "content-length") {
            head.headers.remove(name: "transfer-encoding")
            return .contentLength
        }
        guard head.version.major == 1 && head.version.minor >= 1 else { return .untilClose }
        if head.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true {
            head.headers.remove(name: "transfer-encoding")
            head.headers.replaceOrAdd(name: "connection", value: "close")
            return .untilClose
        }
        head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        return .chunked
    }
}

/// An event stream's socket, as `ConnectionGuard` knows it.
private enum StreamSocket {
    case notLookedUp
    case open(CInt)
    /// The channel does not expose it, or the connection closed.
    case unavailable
}
