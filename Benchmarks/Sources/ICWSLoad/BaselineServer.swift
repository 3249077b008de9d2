import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The yardstick: a minimal Hummingbird server built by the same toolchain.
///
/// `GET /hello` answers a small body; `GET /events` is a bare SSE stream; `POST /broadcast?n=N`
/// sends one event to every open stream: the request's body (one line of JSON), or a marker of `n`.
/// Figures of OpenICWS are reported as ratios to it.
public enum BaselineServer {
    /// Mailboxes of the open streams.
    final class Streams: Sendable {
        let open = Mutex<[Int: AsyncStream<ByteBuffer>.Continuation]>([:])
        let next = Atomic<Int>(0)

        func add(_ continuation: AsyncStream<ByteBuffer>.Continuation) -> Int {
            let id = next.wrappingAdd(1, ordering: .relaxed).newValue
            open.withLock { $0[id] = continuation }
            return id
        }

        func remove(_ id: Int) { _ = open.withLock { $0.removeValue(forKey: id) } }

        func broadcast(_ buffer: ByteBuffer) -> Int {
            let all = open.withLock { Array($0.values) }
            for continuation in all { continuation.yield(buffer) }
            return all.count
        }
    }

    /// The baseline router.
    public static func router() -> Router<BasicRequestContext> {
        let router = Router()
        let streams = Streams()
        router.get("/hello") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "[]")))
        }
        router.get("/events") { request, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init { writer in
                let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
                let id = streams.add(continuation)
                defer { streams.remove(id) }
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    for await buffer in stream { try await writer.write(buffer) }
                }
                try await writer.finish(nil)
            })
        }
        router.post("/broadcast") { request, _ -> Response in
            let n = request.uri.queryParameters.get("n") ?? "0"
            // The request's body is the message, if it has one.
            let body = try await request.body.collect(upTo: 65_536)
            let data = body.readableBytes > 0 ? String(buffer: body) : "{\"problemDescription\":\"bench#\(n)\"}"
            let event = ByteBuffer(string: "id: \(n)\ndata: \(data)\n\n")
            let count = streams.broadcast(event)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "\(count)")))
        }
        return router
    }

    /// The baseline application on `host:port`.
    public static func application(host: String = "127.0.0.1", port: Int) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "baseline"))
    }
}
