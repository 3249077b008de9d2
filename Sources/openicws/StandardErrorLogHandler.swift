import Foundation
import Logging

/// Log lines on standard error, like swift-log's `StreamLogHandler`, but metadata is formatted only when
/// a line is written: Hummingbird sets a request id on every request, and formatting it eagerly showed
/// up in profiles even when nothing was logged.
struct StandardErrorLogHandler: LogHandler {
    /// `text`: one readable line per event; `json`: one JSON object per line, for log shippers.
    enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    private static let lock = NSLock()

    init(label: String, level: Logger.Level, format: Format = .text) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Control characters (a newline in a user id, say) written as escapes, so that nothing a client sends
    /// can start a log line of its own.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.properties.generalCategory == .control {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { current, _ in current } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = format == .json ? jsonLine(event, merged) : textLine(event, merged)
        Self.lock.lock()
        defer { Self.lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// The time of a log line, e.g. `2026-12-03T07:27:38Z` (a format style, not a date formatter made per line:
    /// making one costs more than the rest of a request).
    private static func now() -> String {
        Date().formatted(.iso8601)
    }

    private func textLine(_ event: LogEvent, _ merged: Logger.Metadata) -> String {
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.escaped("\($0.value)"))" }.joined(separator: " ")
        let message = Self.escaped("\(event.message)")
        return "\(Self.now()) \(event.level) \(label):\(fields.isEmpty ? "" : " " + fields) [\(event.source)] \(message)\n"
    }

    /// `{"time":…,"level":…,"label":…,"message":…,"source":…,"metadata":{…}}`; JSON escaping keeps each
    /// event on one line whatever a client sent.
    private func jsonLine(_ event: LogEvent, _ merged: Logger.Metadata) -> String {
        var object: [String: Any] = [
            "time": Self.now(), "level": event.level.rawValue, "label": label,
            "message": "\(event.message)", "source": event.source,
        ]
        if !merged.isEmpty { object["metadata"] = merged.mapValues { "\($0)" } }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return textLine(event, merged)
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
