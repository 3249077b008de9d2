import NIOCore

/// Scans an event stream's bytes without building strings: counts events (`\ndata:`) and reads the
/// `bench#<n>` marker the generator puts in every problem description.
public struct StreamScanner {
    private var tail: [UInt8] = []
    private static let data = Array("\ndata:".utf8)
    private static let marker = Array("bench#".utf8)

    public init() {}

    /// Feeds a chunk; calls `event` per event and `marker` per `bench#<n>` found.
    public mutating func feed(_ chunk: ByteBuffer, event: () -> Void, marker: (Int) -> Void) {
        var bytes = tail
        bytes.append(contentsOf: chunk.readableBytesView)
        let fresh = tail.count
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 10, index + Self.data.count <= count, index + Self.data.count > fresh, bytes[index + 1] == 100,
                Array(bytes[index..<(index + Self.data.count)]) == Self.data
            {
                event()
            } else if byte == 98, index + Self.marker.count < count, Array(bytes[index..<(index + Self.marker.count)]) == Self.marker {
                var cursor = index + Self.marker.count
                var value = 0
                while cursor < count, bytes[cursor] >= 48, bytes[cursor] <= 57 {
                    value = value * 10 + Int(bytes[cursor] - 48)
                    cursor += 1
                }
                // Count a marker once: when its terminator is in this chunk.
                if cursor < count, cursor >= fresh, cursor > index + Self.marker.count { marker(value) }
            }
            index += 1
        }
        tail = Array(bytes.suffix(32))
    }
}
