import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// One HTTP/1.1 response as the closed-loop client reads it.
struct RawResponse {
    var status: Int
    var body: ByteBuffer
}

/// Reads HTTP/1.1 responses whose bodies have a `Content-Length` (or none), which is what both servers send
/// to the closed-loop requests. A chunked response is an error rather than a misread.
struct RawResponseParser {
    private var buffer = ByteBuffer()

    mutating func feed(_ chunk: inout ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 4096 {
            buffer.discardReadBytes()
        }
        buffer.writeBuffer(&chunk)
    }

    /// The next whole response, or nil until more bytes arrive.
    mutating func next() throws -> RawResponse? {
        guard let head = try buffer.withUnsafeReadableBytes({ try Self.parseHead($0) }) else { return nil }
        guard buffer.readableBytes >= head.length + head.bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: head.length)
        let body = buffer.readSlice(length: head.bodyLength) ?? ByteBuffer()
        return RawResponse(status: head.status, body: body)
    }

    /// Status, head length (through the blank line) and body length, once the head is complete.
    private static func parseHead(_ bytes: UnsafeRawBufferPointer) throws -> (status: Int, length: Int, bodyLength: Int)? {
        guard bytes.count >= 16 else { return nil }
        var end = -1
        var index = 12
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                end = index
                break
            }
            index += 1
        }
        guard end >= 0 else { return nil }
        // "HTTP/1.1 201 …"
        var status = 0
        for offset in 9..<12 {
            let digit = Int(bytes[offset]) - 48
            guard (0...9).contains(digit) else { throw LoadError("malformed status line") }
            status = status * 10 + digit
        }
        var bodyLength = 0
        var lineStart = 0
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, bytes[lineEnd] != 13 { lineEnd += 1 }
            if matches(bytes, lineStart, lineEnd, "content-length:") {
                var value = 0
                for offset in (lineStart + 15)..<lineEnd {
                    let digit = Int(bytes[offset]) - 48
                    if (0...9).contains(digit) { value = value * 10 + digit }
                }
                bodyLength = value
            } else if matches(bytes, lineStart, lineEnd, "transfer-encoding:") {
                throw LoadError("chunked responses are not read by the closed-loop client")
            }
            lineStart = lineEnd + 2
        }
        if status == 204 || status == 304 { bodyLength = 0 }
        return (status, end + 4, bodyLength)
    }

    /// Whether the line starts with `prefix` (lower-case ASCII), ignoring case.
    private static func matches(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard end - start >= count else { return false }
        let pointer = prefix.utf8Start
        for offset in 0..<count where bytes[start + offset] | 0x20 != pointer[offset] | 0x20 {
            return false
        }
        return true
    }
}

/// The requests of one closed-loop operation, each chosen from the previous response. One per connection,
/// used only on that connection's event loop.
protocol RawScript: AnyObject {
    /// The first request of the next operation.
    func first() -> ByteBuffer
    /// The next request of this operation, or nil when `response` completed it. Throws on an unexpected answer.
    func next(after response: RawResponse) throws -> ByteBuffer?
}

/// Builds one HTTP/1.1 request as bytes.
func rawRequest(_ method: String, _ path: String, host: String, headers: [(String, String)] = [], body: String? = nil) -> ByteBuffer {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    if let body {
        text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    } else {
        text += method == "POST" || method == "PUT" ? "Content-Length: 0\r\n\r\n" : "\r\n"
    }
    return ByteBuffer(string: text)
}

/// Stops the closed loop: each connection finishes its operation in flight, then reports.
final class RawLoopControl: Sendable {
    let stop = Atomic<Bool>(false)
}

/// What one closed-loop connection did.
struct RawLoopResult: Sendable {
    var operations: Int
    var histogram: Histogram<UInt64>
    /// Each request's latency, from its write to its whole response (an operation may have several).
    var requestHistogram: Histogram<UInt64>
}

/// Runs operations back to back on one connection, entirely on its event loop: no task switch per request,
/// so the generator spends its CPU on sockets rather than on scheduling.
final class RawClosedLoopHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: any RawScript
    private let control: RawLoopControl
    private let finished: EventLoopPromise<RawLoopResult>
    private var parser = RawResponseParser()
    private var histogram = makeLatencyHistogram()
    private var requestHistogram = makeLatencyHistogram()
    private var requestBegin: UInt64 = 0
    private var operations = 0
    private var begin: UInt64 = 0
    private var context: ChannelHandlerContext?
    private var done = false

    init(script: any RawScript, control: RawLoopControl, finished: EventLoopPromise<RawLoopResult>) {
        self.script = script
        self.control = control
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Sends the first operation's first request.
    func start() {
        guard let context, !done else { return }
        begin = nowNanos()
        requestBegin = begin
        context.writeAndFlush(wrapOutboundOut(script.first()), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        parser.feed(&chunk)
        do {
            while !done, let response = try parser.next() {
                let now = nowNanos()
                _ = requestHistogram.record(now - requestBegin)
                requestBegin = now
                if let request = try script.next(after: response) {
                    context.writeAndFlush(wrapOutboundOut(request), promise: nil)
                    continue
                }
                _ = histogram.record(now - begin)
                operations += 1
                if control.stop.load(ordering: .relaxed) {
                    finish(context: context)
                } else {
                    begin = now
                    context.writeAndFlush(wrapOutboundOut(script.first()), promise: nil)
                }
            }
        } catch {
            fail(error, context: context)
        }
    }

    /// Gives up on an operation the server never answered.
    func timeOut() {
        guard let context else { return }
        fail(LoadError("no answer within the closed-loop timeout"), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { fail(LoadError("the server closed a closed-loop connection"), context: context) }
        context.fireChannelInactive()
    }

    private func finish(context: ChannelHandlerContext) {
        done = true
        finished.succeed(RawLoopResult(operations: operations, histogram: histogram, requestHistogram: requestHistogram))
        context.close(promise: nil)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        finished.fail(error)
        context.close(promise: nil)
    }
}

extension Scenarios {
    /// `connections` connections each running `makeScript`'s operations back to back for `duration` seconds.
    /// `prepare` runs first for every connection (over an ordinary connection, e.g. to log in) and returns what
    /// the script needs.
    static func rawClosedLoop<Plan: Sendable>(
        _ target: LoadTarget, scenario: String, connections: Int, duration: Double,
        prepare: @escaping @Sendable (inout LoadConnection) async throws -> Plan,
        makeScript: @escaping @Sendable (Plan, _ host: String) -> any RawScript
    ) async throws -> LoadReport {
        let plans = try await withThrowingTaskGroup(of: Plan.self) { group in
            for _ in 0..<connections {
                group.addTask { try await LoadConnection.with(host: target.host, port: target.port) { try await prepare(&$0) } }
            }
            var plans: [Plan] = []
            while let plan = try await group.next() { plans.append(plan) }
            return plans
        }
        let control = RawLoopControl()
        let host = "\(target.host):\(target.port)"
        var channels: [(any Channel, NIOLoopBound<RawClosedLoopHandler>, EventLoopFuture<RawLoopResult>)] = []
        for plan in plans {
            let group = MultiThreadedEventLoopGroup.singleton
            let loop = group.next()
            let finished = loop.makePromise(of: RawLoopResult.self)
            let handler = try await loop.submit {
                NIOLoopBound(RawClosedLoopHandler(script: makeScript(plan, host), control: control, finished: finished), eventLoop: loop)
            }.get()
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler.value) }
                }
                .connect(host: target.host, port: target.port).get()
            channels.append((channel, handler, finished.futureResult))
        }
        let cpuBefore = target.serverProcess.flatMap(processCPUSeconds)
        let generatorBefore = generatorCPUSeconds()
        let machineBefore = MachineCPU.now()
        let start = nowNanos()
        for (channel, handler, _) in channels {
            channel.eventLoop.execute { handler.value.start() }
        }
        try await Task.sleep(for: .milliseconds(Int(duration * 1000)))
        control.stop.store(true, ordering: .relaxed)
        for (channel, handler, _) in channels {
            channel.eventLoop.scheduleTask(in: .seconds(30)) { handler.value.timeOut() }
        }
        var histogram = makeLatencyHistogram()
        var requestHistogram = makeLatencyHistogram()
        var operations = 0
        do {
            for (_, _, result) in channels {
                let part = try await result.get()
                operations += part.operations
                histogram.add(part.histogram)
                requestHistogram.add(part.requestHistogram)
            }
        } catch {
            for (channel, _, _) in channels { channel.close(promise: nil) }
            throw error
        }
        let seconds = Double(nowNanos() - start) / 1e9
        let cpuAfter = target.serverProcess.flatMap(processCPUSeconds)
        let generatorAfter = generatorCPUSeconds()
        let machineAfter = MachineCPU.now()
        var report = LoadReport(scenario: scenario)
        report.add("connections", Double(connections))
        report.add("seconds", seconds)
        report.add("operations", Double(operations))
        report.add("per_s", Double(operations) / seconds)
        report.addLatency("latency", histogram)
        if requestHistogram.totalCount > UInt64(operations) {
            // Operations of several requests: each request's latency too.
            report.add("requests_per_s", Double(requestHistogram.totalCount) / seconds)
            report.addLatency("request_latency", requestHistogram)
        }
        if let cpuBefore, let cpuAfter, operations > 0 {
            report.add("server_cpu_cores", (cpuAfter - cpuBefore) / seconds)
            report.add("server_cpu_us_per_op", (cpuAfter - cpuBefore) / Double(operations) * 1e6)
        }
        if let generatorBefore, let generatorAfter, operations > 0 {
            report.add("generator_cpu_us_per_op", (generatorAfter - generatorBefore) / Double(operations) * 1e6)
        }
        MachineCPU.report(machineBefore, machineAfter, into: &report)
        return report
    }
}

/// One request per operation, always the same, answered with `expect`.
final class FixedRequestScript: RawScript {
    private let request: ByteBuffer
    private let expect: Int

    init(_ request: ByteBuffer, expect: Int) {
        self.request = request
        self.expect = expect
    }

    func first() -> ByteBuffer { request }

    func next(after response: RawResponse) throws -> ByteBuffer? {
        guard response.status == expect else {
            throw LoadError("answered \(response.status), expected \(expect): \(String(buffer: response.body))")
        }
        return nil
    }
}

/// A durable write cycle: `POST …/agent-assistance` (201), then `DELETE …/agent-assistance/{id}` (204).
final class WriteCycleScript: RawScript {
    private let create: ByteBuffer
    private let completePrefix: String
    private let completeSuffix: String
    private var created = false

    init(session: ICWSLoadSession, interaction: String, host: String) {
        create = rawRequest(
            "POST", session.base + "/interactions/\(interaction)/agent-assistance", host: host, headers: session.headers,
            body: #"{"text":"write cycle"}"#)
        completePrefix = "DELETE \(session.base)/interactions/agent-assistance/"
        completeSuffix = " HTTP/1.1\r\nHost: \(host)\r\n" + session.headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
    }

    func first() -> ByteBuffer {
        created = false
        return create
    }

    func next(after response: RawResponse) throws -> ByteBuffer? {
        if created {
            guard response.status == 204 else { throw LoadError("complete answered \(response.status): \(String(buffer: response.body))") }
            return nil
        }
        guard response.status == 201, let id = LoadJSON.string("assistanceId", in: response.body) else {
            throw LoadError("request answered \(response.status): \(String(buffer: response.body))")
        }
        created = true
        var buffer = ByteBuffer()
        buffer.reserveCapacity(completePrefix.utf8.count + id.utf8.count + completeSuffix.utf8.count)
        buffer.writeString(completePrefix)
        buffer.writeString(id)
        buffer.writeString(completeSuffix)
        return buffer
    }
}
