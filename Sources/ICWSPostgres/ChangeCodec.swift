import Foundation
import ICWSCore

/// How the change log stores a batch of events: a JSON array of `DomainEvent`s, in `StoredJSON`'s format
/// (dates as exact seconds since 2001), so a date read back is exactly the date written. The format belongs to
/// this store; nodes of one cluster must run the same version.
enum ChangeCodec {
    static func encode(_ events: [DomainEvent]) throws -> String {
        try StoredJSON.encode(events)
    }

    static func decode(_ text: String) throws -> [DomainEvent] {
        try StoredJSON.decode([DomainEvent].self, from: text)
    }
}
