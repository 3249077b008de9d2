import Foundation
import ICWSServer
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
        // Most text is printable ASCII, where no character is a control but DEL: no scalar's category is looked up.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
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
        var text = line
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(STDERR_FILENO, bytes.baseAddress?.advanced(by: offset), bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    // Standard error is gone or full: the line is dropped rather than the server stopped.
                    break
                }
            }
        }
    }

    /// The time of a log line, e.g. `2026-12-03T07:27:38Z`, formatted at most once a second.
    private static let time = PerSecondText { Date(timeIntervalSince1970: TimeInterval($0)).formatted(.iso8601) }

    private static func now() -> String { time.now }

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
