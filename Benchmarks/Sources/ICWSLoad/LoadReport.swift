import Foundation
import Histogram

/// One scenario's figures, printed as a table and as one JSON line.
public struct LoadReport: Sendable {
    public let scenario: String
    /// Ordered figures: name → value.
    public private(set) var figures: [(String, Double)] = []
    public private(set) var notes: [String] = []

    public init(scenario: String) {
        self.scenario = scenario
    }

    public mutating func add(_ name: String, _ value: Double) { figures.append((name, value)) }

    /// Drops a figure (bookkeeping that should not be reported).
    public mutating func remove(_ name: String) { figures.removeAll { $0.0 == name } }
    public mutating func note(_ text: String) { notes.append(text) }

    /// Adds p50/p99/max in milliseconds from a histogram of nanoseconds.
    public mutating func addLatency(_ prefix: String, _ histogram: Histogram<UInt64>) {
        add("\(prefix)_p50_ms", Double(histogram.valueAtPercentile(50)) / 1e6)
        add("\(prefix)_p99_ms", Double(histogram.valueAtPercentile(99)) / 1e6)
        add("\(prefix)_max_ms", Double(histogram.max) / 1e6)
    }

    public func value(_ name: String) -> Double? { figures.first { $0.0 == name }?.1 }

    /// The median of each figure over `reports` (runs of one scenario), for the figures the first report has,
    /// with the number of runs as `rounds`; `missing` and `duplicates` are summed instead (a run that lost a
    /// message must show).
    public static func median(of reports: [LoadReport]) -> LoadReport {
        var median = LoadReport(scenario: reports.first?.scenario ?? "")
        median.add("rounds", Double(reports.count))
        for (name, _) in reports.first?.figures ?? [] {
            let values = reports.compactMap { $0.value(name) }.sorted()
            guard !values.isEmpty else { continue }
            if name == "missing" || name == "duplicates" {
                median.add(name, values.reduce(0, +))
                continue
            }
            let middle = values.count / 2
            median.add(name, values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2)
        }
        median.note("each figure is the median of \(reports.count) runs (missing and duplicates: their sum)")
        return median
    }

    /// A two-column table.
    public var table: String {
        let width = max(12, figures.map(\.0.count).max() ?? 0)
        var lines = ["scenario: \(scenario)"]
        for (name, value) in figures {
            let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + number)
        }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// `{"scenario":…, "<figure>": value, …}` on one line.
    public var jsonLine: String {
        var parts = ["\"scenario\":\"\(scenario)\""]
        for (name, value) in figures {
            parts.append("\"\(name)\":\(value.isFinite ? String(format: "%.6g", value) : "null")")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}

/// A latency histogram in nanoseconds up to one minute.
public func makeLatencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Monotonic nanoseconds.
@inline(__always) public func nowNanos() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// Waits until request `index` of an open-loop schedule that began at `start` (`nowNanos`) is due at `rate` per
/// second; returns at once when it is already late.
func sleepUntil(request index: Int, of start: UInt64, rate: Double) async throws {
    let due = start + UInt64(Double(index) / rate * 1e9)
    let now = nowNanos()
    if due > now { try await Task.sleep(for: .nanoseconds(Int(due - now))) }
}
