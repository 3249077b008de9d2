import Foundation
import Synchronization

/// The wall clock the core reads, injected so expiry and timestamps are testable without sleeping.
public protocol ICWSClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's clock.
public struct SystemClock: ICWSClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to (tests).
public final class ManualClock: ICWSClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_704_464_553)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// Secrets and identifiers for sessions, from the system's cryptographic random source.
public enum SessionSecrets {
    /// A random session id of 10 digits (clients match `/icws/(\d+)/`).
    public static func sessionId() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 1_000_000_000...9_999_999_999, using: &generator))
    }

    /// 128 random bits as 32 hex digits.
    public static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    /// A random GUID-shaped string for the session cookie.
    public static func cookieValue() -> String {
        let t = Array(token())
        return String(t[0..<8]) + "-" + String(t[8..<12]) + "-" + String(t[12..<16]) + "-" + String(t[16..<20]) + "-" + String(t[20..<32])
    }

    /// Compares two secrets in time that depends only on their length.
    /// Compares what a client sent (`given`) with a secret (`expected`) in time that depends only on the
    /// secret's length: no early return, not even when the lengths differ.
    public static func constantTimeEquals(_ given: String, _ expected: String) -> Bool {
        let x = Array(given.utf8)
        let y = Array(expected.utf8)
        var difference: UInt8 = x.count == y.count ? 0 : 1
        for index in y.indices {
            let sent: UInt8 = x.isEmpty ? 0 : x[index % x.count]
            difference |= sent ^ y[index]
        }
        return difference == 0
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
