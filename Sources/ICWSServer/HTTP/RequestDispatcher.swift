import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Last in each connection's pipeline: gathers a request (head and whole body) on the event loop, answers it
/// in a task that lives as long as the answer is being made, and writes the response back through the
/// pipeline. Nothing waits per connection between requests: an idle keep-alive connection or a parked
/// event stream is only its channel and handlers (no connection task, no `NIOAsyncChannel`).
///
/// Requests on one connection are answered one after the other: while one is being answered, the handler
/// holds the channel's reads, and requests already decoded wait in order.
final class RequestDispatcher<Responder: HTTPResponder>: ChannelDuplexHandler, RemovableChannelHandler
where Responder.Context == ICWSRequestContext {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let responder: Responder
    private let logger: Logger
    private let counter: ConnectionCounter
    private var context: ChannelHandlerContext?
    /// The request being read.
    private var head: HTTPRequest?
    private var body = ByteBuffer()
    /// Whether an answer is being made, the requests read meanwhile, and a read held back for it.
    private var answering = false
    private var waiting: [Request] = []
    private var heldRead = false
    /// The client closed its side: close once the answers in hand are written.
    private var inputClosed = false

    init(responder: Responder, counter: ConnectionCounter, logger: Logger) {
        self.responder = responder
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        waiting.removeAll()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let next):
            // A head before the previous request's end: the connection is out of step; NIO's decoder never
            // does this, so it is a bug upstream, and the connection is closed rather than misread.
            guard head == nil else {
                context.close(promise: nil)
                return
            }
            head = next
            body = ByteBuffer()
        case .body(var chunk):
            // Parts of a request the guard refused arrive without a head and are dropped.
            guard head != nil else { return }
            // ICWS bodies are small (the guard refuses a declared one over the limit): kept whole, up to one byte
            // past the limit so the handler still answers "too large".
            let room = ICWSRequestContext.maxBodyBytes + 1 - body.readableBytes
            if room > 0, let kept = chunk.readSlice(length: min(room, chunk.readableBytes)) {
                if body.readableBytes == 0 && body.capacity == 0 { body = kept } else { body.writeImmutableBuffer(kept) }
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let request = Request(head: requestHead, body: RequestBody(buffer: body))
            body = ByteBuffer()
            if busy {
                waiting.append(request)
            } else {
                answer(request, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if !busy && waiting.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    /// Holds the channel's reads while an answer is being made (the client's next requests wait in the socket).
    func read(context: ChannelHandlerContext) {
        if busy {
            heldRead = true
        } else {
            context.read()
        }
    }

    // MARK: Answering

    private func answer(_ request: Request, context: ChannelHandlerContext) {
        answering = true
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let writer = ChannelResponseWriter(dispatcher: loopBound)
        Self.startAnswer(request, responder: responder, writer: writer, channel: channel, counter: counter, logger: logger)
    }

    private static func startAnswer(
        _ request: Request, responder: Responder, writer: ChannelResponseWriter<Responder>, channel: any Channel,
        counter: ConnectionCounter, logger: Logger
    ) {
        counter.answers.add(1, ordering: .relaxed)
        Task {
            await respond(to: request, responder: responder, writer: writer, channel: channel, logger: logger)
            counter.answers.subtract(1, ordering: .relaxed)
            let dispatcher = writer.dispatcher
            dispatcher.eventLoop.execute { dispatcher.value.answered() }
        }
    }

    /// Set while the socket takes no more: the next answer and the next read wait until it drains, so a
    /// client that sends requests without reading the answers cannot pile them up in memory.
    private var waitingForWritable = false
    private var busy: Bool { answering || waitingForWritable }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if waitingForWritable && context.channel.isWritable {
            waitingForWritable = false
            answered()
        }
        context.fireChannelWritabilityChanged()
    }

    /// On the event loop: the answer was written (or failed); the next request waiting, or reads resume.
    private func answered() {
        answering = false
        guard let context else { return }
        if !context.channel.isWritable && context.channel.isActive {
            waitingForWritable = true
            return
        }
        if !waiting.isEmpty {
            answer(waiting.removeFirst(), context: context)
        } else if inputClosed {
            context.close(promise: nil)
        } else if heldRead {
            heldRead = false
            context.read()
        }
    }

    private static func respond(
        to request: Request, responder: Responder, writer: ChannelResponseWriter<Responder>, channel: any Channel, logger: Logger
    ) async {
        let context = ICWSRequestContext(source: .init(channel: channel, logger: logger))
        var response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            // The ICWS middleware turns every error a route throws into an ICWS answer; this is the last resort.
            logger.error("request failed outside the ICWS middleware", metadata: ["error": "\(error)"])
            response = Response(status: .internalServerError)
        }
        response.headers[.date] = HTTPDate.now
        response.headers[.server] = "OpenICWS"
        do {
            try await writer.write(response)
        } catch {
            logger.trace("response not written", metadata: ["error": "\(error)"])
        }
    }

    /// On the event loop: writes response parts through this handler's place in the pipeline.
    fileprivate func write(_ parts: [HTTPResponsePart], flush: Bool, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        for (index, part) in parts.enumerated() {
            context.write(wrapOutboundOut(part), promise: index == parts.count - 1 ? promise : nil)
        }
        if flush { context.flush() }
    }
}

/// Once the HTTP server has stopped (every connection closed), waits until the answers still being made
/// are done (a client that left mid-request does not wait for its answer), so the commit pipeline, which
/// stops after this, still takes their writes.
struct AnswerDrain: Service {
    let counter: ConnectionCounter
    let limit: Duration

    func run() async throws {
        try? await gracefulShutdown()
        let deadline = ContinuousClock.now + limit
        while counter.answers.load(ordering: .relaxed) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Writes one response from its task. A body of known length goes out with its head and end in one trip to
/// the event loop; a streamed body (an event stream's first lines) is flushed and awaited write by write,
/// so a client that stops reading holds the task back instead of filling memory.
struct ChannelResponseWriter<Responder: HTTPResponder>: ResponseBodyWriter, Sendable where Responder.Context == ICWSRequestContext {
    let dispatcher: NIOLoopBound<RequestDispatcher<Responder>>
    private var pending: [HTTPResponsePart] = []
    private var streamed = false

    init(dispatcher: NIOLoopBound<RequestDispatcher<Responder>>) {
        self.dispatcher = dispatcher
    }

    consuming func write(_ response: Response) async throws {
        streamed = response.body.contentLength == nil
        pending.append(.head(response.head))
        try await response.body.write(self)
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        pending.append(.body(buffer))
        if streamed { try await send(flush: true, awaited: true) }
    }

    /// The end is written without waiting for it: an event stream's end is held by `ConnectionGuard` until the
    /// stream is over, long after this answer's task is done.
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        pending.append(.end(trailingHeaders))
        try await send(flush: true, awaited: false)
    }

    private mutating func send(flush: Bool, awaited: Bool) async throws {
        let parts = pending
        pending.removeAll()
        let dispatcher = self.dispatcher
        let loop = dispatcher.eventLoop
        let promise = awaited ? loop.makePromise(of: Void.self) : nil
        if loop.inEventLoop {
            dispatcher.value.write(parts, flush: flush, promise: promise)
        } else {
            loop.execute { dispatcher.value.write(parts, flush: flush, promise: promise) }
        }
        try await promise?.futureResult.get()
    }
}

/// A text that depends only on the current second (the `Date` header, a log line's time): made at most once a
/// second, and shared by everything that asks within it.
public final class PerSecondText: Sendable {
    private let make: @Sendable (time_t) -> String
    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// `make` turns a second since 1970 into the text.
    public init(_ make: @escaping @Sendable (time_t) -> String) {
        self.make = make
    }

    /// The text for the current second.
    public var now: String {
        var time = time_t()
        Foundation.time(&time)
        let second = Int(time)
        if let cached = cache.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        let text = make(time)
        cache.withLock { $0 = (second, text) }
        return text
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate).
enum HTTPDate {
    private static let text = PerSecondText { time in
        var time = time
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    static var now: String { text.now }
}
