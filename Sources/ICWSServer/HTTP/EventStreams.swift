import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Server-sent event streams on `GET /icws/{sid}/messaging/messages`, and their keep-alive pings.
final class EventStreams: Sendable {
    let center: ContactCenter
    let configuration: ServerConfiguration
    /// An open stream as the upkeep walks it: its session's mailbox, and since when its session has been seen
    /// ended.
    struct Live {
        let mailbox: Mailbox
        var endedSince: ContinuousClock.Instant?
    }

    /// The open streams by key. Their connections are kept apart, looked up only to close them, so that the
    /// once-a-second walk touches one object per stream (its mailbox), not its channel too.
    struct Open {
        var next: UInt64 = 0
        var streams: [UInt64: Live] = [:]
        var channels: [UInt64: any Channel] = [:]
    }

    private let live = Mutex(Open())
    private let gauge = Gauge(label: "openicws_sse_streams")
    private let delivered = Counter(label: "openicws_messages_delivered_total", dimensions: [("via", "sse")])

    init(center: ContactCenter, configuration: ServerConfiguration) {
        self.center = center
        self.configuration = configuration
    }

    /// How many streams are open.
    var count: Int { live.withLock { $0.streams.count } }

    /// The streams' share of the once-a-second upkeep, in one walk over them (each stream's session looked at
    /// once, and no list of the sessions made):
    /// - a stream whose session ended more than `grace` ago is closed: its goodbye was written if the socket
    ///   could take it, and a client that stopped reading does not keep it open;
    /// - every other stream that wrote nothing for `silentSeconds` is asked to write `:ping`; streams that
    ///   received messages meanwhile are left alone.
    func upkeep(grace: Duration, silentSeconds: Double) {
        // Clamped: `--sse-ping-seconds inf` (or 1e300) means never, and must not trap in the conversion.
        let ticks = Int(min(max(1, silentSeconds.rounded(.up)), Double(Int32.max)))
        let now = ContinuousClock.now
        var wakes = StreamWakes()
        let stuck = live.withLock { live -> [any Channel] in
            var stuck: [any Channel] = []
            var newlyEnded: [UInt64] = []
            for (key, entry) in live.streams {
                // One look at the mailbox: its tick, unless it is closed.
                if entry.mailbox.keepAliveTick(pingAfter: ticks, wakes: &wakes) { continue }
                if let since = entry.endedSince {
                    if now - since >= grace, let channel = live.channels[key] { stuck.append(channel) }
                } else {
                    newlyEnded.append(key)
                }
            }
            // Marked after the walk: a change under it would copy the whole list.
            for key in newlyEnded { live.streams[key]?.endedSince = now }
            return stuck
        }
        wakes.wakeAll()
        for channel in stuck {
            ConnectionCounter.closedByServer("stream_abandoned")
            channel.close(promise: nil)
        }
    }

    /// Closes the connection of every open stream (the end of a shutdown's grace period).
    func closeAll() {
        let channels = live.withLock { Array($0.channels.values) }
        for channel in channels { channel.close(promise: nil) }
    }

    func stream(for session: Session, request: Request, context: ICWSRequestContext) -> Response {
        let lastEventId = request.headers[.lastEventID].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        let headers: HTTPFields = [.contentType: "text/event-stream", .connection: "close", .init("X-Accel-Buffering")!: "no"]
        let logger = context.logger
        let channel = context.channel
        return Response(status: .ok, headers: headers, body: ResponseBody { [self] writer in
            let mailbox = session.mailbox
            let token = mailbox.attachStream()
            let key = live.withLock { live in
                live.next += 1
                live.streams[live.next] = Live(mailbox: session.mailbox)
                live.channels[live.next] = channel
                return live.next
            }
            session.streamOpened(1)
            gauge.record(count)
            logger.debug("stream opened", metadata: ["sessionId": "\(session.id)"])
            let ended = Atomic<Bool>(false)
            /// Once, when the stream is over (from the pump on the event loop, or from this task).
            let end: @Sendable () -> Void = { [self] in
                guard !ended.exchange(true, ordering: .relaxed) else { return }
                live.withLock { live in
                    live.streams[key] = nil
                    live.channels[key] = nil
                }
                session.streamOpened(-1)
                session.touch(Date())
                gauge.record(count)
                logger.debug("stream ended", metadata: ["sessionId": "\(session.id)"])
            }
            do {
                try await writer.write(ByteBuffer(string: "retry: \(configuration.sseRetryMilliseconds)\n\n"))
                if let lastEventId {
                    if let missed = mailbox.replay(after: lastEventId) {
                        if !missed.isEmpty { try await writer.write(Self.encode(missed)) }
                    } else {
                        try? await center.resnapshot(sessionId: session.id)
                    }
                }
                // From here the connection's event loop writes the stream, and this task is done: the guard
                // holds the response's end until the stream is over (nothing waits per idle stream but the
                // connection's own read).
                if await pumpFromEventLoop(channel: channel, mailbox: mailbox, token: token, onEnd: end) {
                    try? await writer.finish(nil)
                    return
                }
                // No connection guard in the pipeline (a test transport): a task writes the stream.
                try await request.body.consumeWithInboundCloseHandler { _ in
                    loop: while true {
                        switch await mailbox.nextStreamEvent(token) {
                        case .messages(let entries):
                            try await writer.write(Self.encode(entries))
                            delivered.increment(by: entries.count)
                        case .ping:
                            try await writer.write(ByteBuffer(string: ":ping\n\n"))
                        case .end:
                            break loop
                        }
                    }
                } onInboundClosed: {
                    mailbox.detachStream(token)
                }
            } catch {
                mailbox.detachStream(token)
                logger.debug("stream failed", metadata: ["sessionId": "\(session.id)", "error": "\(error)"])
            }
            end()
            try? await writer.finish(nil)
        })
    }

    /// Hands stream `token` to a `StreamPump` on the connection's event loop, which calls `onEnd` when the
    /// stream is over; false when the pipeline has no `ConnectionGuard` to write through.
    private func pumpFromEventLoop(
        channel: any Channel, mailbox: Mailbox, token: UInt64, onEnd: @escaping @Sendable () -> Void
    ) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            channel.eventLoop.execute { [delivered] in
                guard let connection = try? channel.pipeline.syncOperations.handler(type: ConnectionGuard.self) else {
                    continuation.resume(returning: false)
                    return
                }
                let pump = StreamPump(connection: connection, mailbox: mailbox, token: token, delivered: delivered, onFinish: onEnd)
                continuation.resume(returning: true)
                guard connection.isOpen else {
                    pump.finish()
                    return
                }
                connection.streamPump = pump
                if !mailbox.install(pump, for: token) { pump.finish() }
            }
        }
    }

    /// `id: <seq>\ndata: <json>\n\n` per message, no `event:` name.
    static func encode(_ entries: [MailboxEntry]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(entries.reduce(0) { $0 + $1.message.byteCount + 32 })
        for entry in entries { append(entry, to: &buffer) }
        return buffer
    }

    /// One message's `id: <seq>\ndata: <json>\n\n`.
    static func append(_ entry: borrowing MailboxEntry, to buffer: inout ByteBuffer) {
        buffer.writeStaticString("id: ")
        writeDecimal(entry.sequence, to: &buffer)
        buffer.writeStaticString("\ndata: ")
        entry.message.withBytes { buffer.writeBytes($0) }
        buffer.writeStaticString("\n\n")
    }
}

/// Writes a number's decimal digits without building a String (once per delivered message).
func writeDecimal(_ value: UInt64, to buffer: inout ByteBuffer) {
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    var rest = value
    withUnsafeMutableBytes(of: &digits) { raw in
        repeat {
            raw[19 - count] = UInt8(48 + rest % 10)
            rest /= 10
            count += 1
        } while rest > 0
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
    }
}
