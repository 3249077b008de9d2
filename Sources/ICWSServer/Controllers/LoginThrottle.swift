import Foundation
import Metrics
import Synchronization

/// Failed logins per user id and per client address in a sliding window: past a limit, further attempts for
/// that id (or from that address) are refused with 429 until the oldest failure leaves the window. A success
/// clears the user id's failures.
final class LoginThrottle: Sendable {
    /// The limits; a limit of 0 turns that check off.
    struct Settings: Sendable, Equatable {
        var failuresPerUser = 10
        var failuresPerAddress = 50
        var windowSeconds: Double = 300
    }

    let settings: Settings
    private let failures = Mutex<[String: [Date]]>([:])
    /// Keys kept at most (an address flood cannot grow memory without bound).
    private let maxKeys = 100_000

    init(_ settings: Settings) {
        self.settings = settings
    }

    /// Seconds until an attempt for `userId` from `address` is allowed again, or nil when it is allowed now.
    func retryAfter(userId: String, address: String?, now: Date) -> Int? {
        let wait = failures.withLock { failures -> Double? in
            var waits: [Double] = []
            if let wait = Self.wait(failures["u:" + userId], limit: settings.failuresPerUser, window: settings.windowSeconds, now: now) {
                waits.append(wait)
            }
            if let address, let wait = Self.wait(failures["a:" + address], limit: settings.failuresPerAddress, window: settings.windowSeconds, now: now) {
                waits.append(wait)
            }
            return waits.max()
        }
        guard let wait else { return nil }
        return max(1, Int(wait.rounded(.up)))
    }

    /// Records a failed attempt.
    func failed(userId: String, address: String?, now: Date) {
        failures.withLock { failures in
            let cutoff = now.addingTimeInterval(-settings.windowSeconds)
            for key in ["u:" + userId] + (address.map { ["a:" + $0] } ?? []) {
                var times = failures[key, default: []].filter { $0 > cutoff }
                times.append(now)
                failures[key] = times
            }
            if failures.count > maxKeys {
                failures = failures.filter { $0.value.last.map { $0 > cutoff } ?? false }
            }
        }
    }

    /// A login succeeded: the user id's failures are forgotten.
    func succeeded(userId: String) {
        _ = failures.withLock { $0.removeValue(forKey: "u:" + userId) }
    }

    private static func wait(_ times: [Date]?, limit: Int, window: Double, now: Date) -> Double? {
        guard limit > 0, let times else { return nil }
        let recent = times.filter { now.timeIntervalSince($0) < window }
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return window - now.timeIntervalSince(oldest)
    }
}
