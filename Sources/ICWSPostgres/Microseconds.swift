import Foundation

/// Dates in the tables are `timestamptz` (microsecond precision). They travel as whole microseconds since
/// 1970 so that a date with at most microsecond precision reads back equal to the one written.
enum Microseconds {
    /// SQL turning a bigint of microseconds since 1970 into a timestamptz.
    static func timestamp(_ column: String) -> String {
        "(timestamptz 'epoch' + \(column) * interval '1 microsecond')"
    }

    /// SQL turning a timestamptz into a bigint of microseconds since 1970.
    static func fromTimestamp(_ column: String) -> String {
        "(extract(epoch from \(column)) * 1000000)::bigint"
    }

    static func of(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func date(_ microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }
}
