import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A client allowed many parallel connections (the shared one stops at 8 per host).
let streamHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 2_000)
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// One server-sent event as a browser's EventSource would see it.
struct ServerSentEvent: Sendable {
    var id: String?
    var data: String
    var eventName: String?

    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }
}

/// What a stream produced next.
enum StreamItem: Sendable {
    case retry(Int)
    case comment(String)
    case event(ServerSentEvent)
    case closed
}

/// A real event stream over AsyncHTTPClient, sending only the cookie (like `EventSource`), read in
/// the background into a list the test can wait on.
actor EventStreamRecorder {
    private(set) var items: [StreamItem] = []
    private(set) var status: Int = 0
    private(set) var contentType: String?
    private var reader: Task<Void, Never>?

    /// Every event received so far.
    var events: [ServerSentEvent] {
        items.compactMap { if case .event(let event) = $0 { return event } else { return nil } }
    }

    var isClosed: Bool {
        items.contains { if case .closed = $0 { return true } else { return false } }
    }

    static func open(port: Int, session: ICWSTestSession, lastEventId: String? = nil) async throws -> EventStreamRecorder {
        try await open(url: "http://127.0.0.1:\(port)\(session.base)/messaging/messages", cookie: session.cookie, lastEventId: lastEventId)
    }

    static func open(url: String, cookie: String, lastEventId: String? = nil) async throws -> EventStreamRecorder {
        let recorder = EventStreamRecorder()
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Cookie", value: cookie)
        if let lastEventId { request.headers.add(name: "Last-Event-ID", value: lastEventId) }
        let response = try await streamHTTPClient.execute(request, timeout: .seconds(60))
        await recorder.start(response)
        return recorder
    }

    private func start(_ response: HTTPClientResponse) {
        status = Int(response.status.code)
        contentType = response.headers.first(name: "Content-Type")
        reader = Task { [weak self] in
            var pending = ""
            do {
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let range = pending.range(of: "\n\n") {
                        let block = String(pending[..<range.lowerBound])
                        pending.removeSubrange(..<range.upperBound)
                        await self?.append(Self.parse(block))
                    }
                }
            } catch {}
            await self?.append([.closed])
        }
    }

    private func append(_ new: [StreamItem]) {
        items += new
    }

    /// Drops the connection, like a browser tab closing.
    func close() {
        reader?.cancel()
    }

    /// Waits until at least `count` events arrived; fails the test after `seconds`.
    func waitForEvents(_ count: Int, seconds: Double = 10) async throws -> [ServerSentEvent] {
        let deadline = Date().addingTimeInterval(seconds)
        while events.count < count {
            if Date() > deadline || isClosed { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(events.count >= count, "expected \(count) events, got \(events.count): \(events.map(\.data))")
        return events
    }

    /// Waits until the server ended the stream.
    func waitUntilClosed(seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !isClosed && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isClosed
    }

    static func parse(_ block: String) -> [StreamItem] {
        var items: [StreamItem] = []
        var event = ServerSentEvent(id: nil, data: "", eventName: nil)
        var hasData = false
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                items.append(.comment(String(line.dropFirst())))
            } else if line.hasPrefix("retry:") {
                items.append(.retry(Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? -1))
            } else if line.hasPrefix("id:") {
                event.id = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("event:") {
                event.eventName = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                event.data += (hasData ? "\n" : "") + line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                hasData = true
            }
        }
        if hasData { items.append(.event(event)) }
        return items
    }
}

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`.
func eventually(_ seconds: Double = 5, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
