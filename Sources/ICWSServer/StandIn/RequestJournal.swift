import Foundation
import Hummingbird
import ICWSCore
import ICWSModel
import Logging
import Synchronization

/// The last HTTP requests the server answered, newest first, for `GET /admin/requests` (WireMock's request
/// journal is the convention). Never bodies, headers or query strings: the method, the matched route, the
/// status, the time it took and the session id.
public final class RequestJournal: Sendable {
    /// One answered request.
    public struct Entry: Sendable, Encodable {
        /// When it was answered (ISO 8601 in the journal's JSON; formatted only when the journal is read).
        public let at: Date
        public let method: String
        /// The route as registered (`/icws/{sid}/…`).
        public let path: String
        public let status: Int
        public let durationMs: Double
        public let sessionId: String?

        enum CodingKeys: String, CodingKey { case at, method, path, status, durationMs, sessionId }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(at.formatted(.iso8601), forKey: .at)
            try container.encode(method, forKey: .method)
            try container.encode(path, forKey: .path)
            try container.encode(status, forKey: .status)
            try container.encode(durationMs, forKey: .durationMs)
            try container.encodeIfPresent(sessionId, forKey: .sessionId)
        }
    }

    public let capacity: Int
    private let ring: Mutex<(entries: [Entry], next: Int, total: Int)>

    public init(capacity: Int = 1_000) {
        self.capacity = max(1, capacity)
        ring = Mutex(([], 0, 0))
    }

    func record(_ entry: Entry) {
        ring.withLock { ring in
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.next] = entry
            }
            ring.next = (ring.next + 1) % capacity
            ring.total += 1
        }
    }

    /// The newest `limit` entries, newest first, and how many were recorded since start.
    func newest(_ limit: Int) -> (entries: [Entry], total: Int) {
        ring.withLock { ring in
            var result: [Entry] = []
            var index = ring.next
            for _ in 0..<min(limit, ring.entries.count) {
                index = (index - 1 + ring.entries.count) % ring.entries.count
                result.append(ring.entries[index])
            }
            return (result, ring.total)
        }
    }
}
