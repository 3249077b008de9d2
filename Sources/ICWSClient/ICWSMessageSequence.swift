import AsyncHTTPClient
import Foundation
import ICWSModel
import NIOCore
import NIOHTTP1

/// The messages of one session as an `AsyncSequence`; see `ICWSClient.messages`.
public struct ICWSMessageSequence: AsyncSequence, Sendable {
    /// Each element is one message, typed, with its JSON text and event id.
    public typealias Element = ReceivedMessage

    let client: ICWSClient

    /// Starts reading: opens the event stream (or starts polling) on the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client)
    }

    /// Reads messages one at a time; nothing is read ahead beyond the bytes of the last network read.
    public struct Iterator: AsyncIteratorProtocol {
        let client: ICWSClient
        private var body: HTTPClientResponse.Body.AsyncIterator?
        private var parser = ServerSentEventParser()
        private var polled: [(json: Substring, message: ICWSMessage)] = []
        private var polledIndex = 0
        private var lastPollWasEmpty = false
        private var failures = 0
        private var finished = false

        init(client: ICWSClient) {
            self.client = client
        }

        /// The next message; `nil` once the session was logged out or ended, or the task was cancelled.
        public mutating func next() async throws -> ReceivedMessage? {
            while !finished {
                if Task.isCancelled || client.isLoggedOut {
                    finished = true
                    break
                }
                if client.usesEventStream {
                    if let event = parser.nextEvent() {
                        return deliver(json: Substring(event.data), eventId: event.id)
                    }
                    guard var reading = body else {
                        try await open()
                        continue
                    }
                    let chunk: ByteBuffer?
                    do {
                        chunk = try await reading.next()
                    } catch {
                        chunk = nil
                    }
                    body = reading
                    if let chunk {
                        parser.consume(chunk.readableBytesView)
                        continue
                    }
                    // The stream ended: reopen it after the server's retry delay, resuming after the last id.
                    body = nil
                    parser.reset()
                    if Task.isCancelled || client.isLoggedOut { continue }
                    guard await pause(reconnectDelay) else { continue }
                    client.countReconnect()
                } else {
                    if polledIndex < polled.count {
                        let next = polled[polledIndex]
                        polledIndex += 1
                        client.record(next.message, eventId: nil)
                        return ReceivedMessage(message: next.message, json: String(next.json), eventId: nil)
                    }
                    if lastPollWasEmpty {
                        guard await pause(client.options.pollInterval) else { continue }
                    }
                    try await poll()
                }
            }
            return nil
        }

        private var reconnectDelay: Duration {
            parser.retryMilliseconds.map { .milliseconds($0) } ?? client.options.reconnectDelay
        }

        private mutating func deliver(json: Substring, eventId: String?) -> ReceivedMessage {
            let message = (try? ICWSMessage(json: Data(json.utf8))) ?? .unknown(type: "")
            client.record(message, eventId: eventId)
            return ReceivedMessage(message: message, json: String(json), eventId: eventId)
        }

        /// Sleeps; false when the task was cancelled meanwhile (the loop then ends).
        private mutating func pause(_ duration: Duration) async -> Bool {
            do {
                try await Task.sleep(for: duration)
                return true
            } catch {
                finished = true
                return false
            }
        }

        /// Counts a failed attempt; throws `error` once `maxReconnectAttempts` failed in a row, else waits.
        private mutating func failed(_ error: ICWSClientError) async throws {
            if error.isSessionEnded {
                if client.isLoggedOut {
                    finished = true
                    return
                }
                throw error
            }
            failures += 1
            if let limit = client.options.maxReconnectAttempts, failures > limit { throw error }
            _ = await pause(reconnectDelay)
        }

        private mutating func open() async throws {
            var headers = [("Accept", "text/event-stream"), ("Cookie", client.cookie)]
            if let lastEventId = client.lastEventId { headers.append(("Last-Event-ID", lastEventId)) }
            let response: HTTPClientResponse
            do {
                response = try await client.transport.stream("/icws/\(client.sessionId)/messaging/messages", headers: headers)
            } catch let error as ICWSClientError {
                try await failed(error)
                return
            } catch {
                finished = true
                return
            }
            guard response.status == .ok else {
                let text = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
                try await failed(ICWSReply.error(status: Int(response.status.code), body: text))
                return
            }
            let type = response.headers.first(name: "Content-Type") ?? ""
            guard type.lowercased().hasPrefix("text/event-stream") else {
                throw ICWSClientError(status: 200, message: "The messages URL answered \(type), not text/event-stream.")
            }
            failures = 0
            parser.reset()
            body = response.body.makeAsyncIterator()
        }

        private mutating func poll() async throws {
            let reply: ICWSReply
            do {
                reply = try await client.send(.GET, "/messaging/messages")
            } catch let error as ICWSClientError {
                lastPollWasEmpty = true
                try await failed(error)
                return
            }
            failures = 0
            let text = String(buffer: reply.body)
            guard let elements = JSONArrayElements.split(text) else {
                throw ICWSClientError(status: reply.status, message: "The polled messages were not a JSON array.")
            }
            polled = elements.map { json in (json, (try? ICWSMessage(json: Data(json.utf8))) ?? .unknown(type: "")) }
            polledIndex = 0
            lastPollWasEmpty = polled.isEmpty
        }
    }
}

/// Splits a JSON array's text into its elements' texts, unchanged, without decoding them.
enum JSONArrayElements {
    static func split(_ text: String) -> [Substring]? {
        let utf8 = text.utf8
        var index = utf8.startIndex
        func skipSpace() {
            while index < utf8.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(utf8[index]) { index = utf8.index(after: index) }
        }
        skipSpace()
        guard index < utf8.endIndex, utf8[index] == UInt8(ascii: "[") else { return nil }
        index = utf8.index(after: index)
        var elements: [Substring] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start: String.Index?
        while index < utf8.endIndex {
            let byte = utf8[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                    if start == nil { start = index }
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if start == nil { start = index }
                    depth += 1
                case UInt8(ascii: "}"):
                    depth -= 1
                case UInt8(ascii: "]") where depth > 0:
                    depth -= 1
                case UInt8(ascii: ","), UInt8(ascii: "]"):
                    if depth == 0 {
                        if let first = start {
                            elements.append(Substring(text[first..<index]).trimmingSuffixSpace())
                            start = nil
                        }
                        if byte == UInt8(ascii: "]") { return elements }
                    }
                case 0x20, 0x09, 0x0A, 0x0D:
                    break
                default:
                    if start == nil { start = index }
                }
            }
            index = utf8.index(after: index)
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSuffixSpace() -> Substring {
        var result = self
        while let last = result.last, last == " " || last == "\n" || last == "\r" || last == "\t" { result.removeLast() }
        return result
    }
}
