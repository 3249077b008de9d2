import Foundation
import ICWSClient
import Synchronization
import Testing

/// Reads a client's `messages` in the background and keeps every message, so a test can wait on its views.
final class MessageCollector: Sendable {
    private final class Record: Sendable {
        let received = Mutex<[ReceivedMessage]>([])
        let failure = Mutex<(any Error)?>(nil)
        let finished = Mutex(false)
    }

    let client: ICWSClient
    private let record = Record()
    private let reader: Task<Void, Never>

    init(_ client: ICWSClient) {
        self.client = client
        let record = record
        reader = Task {
            do {
                for try await message in client.messages { record.received.withLock { $0.append(message) } }
            } catch {
                record.failure.withLock { $0 = error }
            }
            record.finished.withLock { $0 = true }
        }
    }

    /// Every message so far, in order.
    var messages: [ReceivedMessage] { record.received.withLock { $0 } }

    /// The error that ended the sequence, if one did.
    var error: (any Error)? { record.failure.withLock { $0 } }

    /// Waits until `condition` holds for the client's views (they are updated as messages are read).
    func waitUntil(_ what: String, seconds: Double = 10, _ condition: (ICWSViews) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(client.views) {
            if let error { Issue.record("the messages ended with \(error) while waiting for \(what)") }
            try #require(Date() < deadline, "timed out waiting for \(what); views: \(client.views)")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the sequence has ended (logout, session end); true when it did in time.
    func waitUntilFinished(seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if record.finished.withLock({ $0 }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Cancels the reading task.
    func stop() {
        reader.cancel()
    }
}

/// The base URL of a live test server.
func baseURL(_ http: ICWSTestClient) -> String { "http://127.0.0.1:\(http.port)" }
