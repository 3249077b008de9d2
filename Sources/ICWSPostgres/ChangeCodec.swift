import Foundation
import ICWSCore

/// How the change log stores a batch of events: a JSON array of `DomainEvent`s.
///
/// Dates are written as their `timeIntervalSinceReferenceDate` (seconds since 2001-01-01 UTC, a JSON number with
/// every digit a `Double` needs), so a date read back is exactly the date written. The format belongs to this
/// store; nodes of one cluster must run the same version.
enum ChangeCodec {
    static func encode(_ events: [DomainEvent]) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.timeIntervalSinceReferenceDate)
        }
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(events)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [DomainEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            Date(timeIntervalSinceReferenceDate: try decoder.singleValueContainer().decode(Double.self))
        }
        return try decoder.decode([DomainEvent].self, from: Data(text.utf8))
    }
}
