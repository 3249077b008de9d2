/// An incremental `text/event-stream` parser: feed it bytes as they arrive, take events as they complete.
///
/// Lines end in LF, CR or CRLF (a CRLF split across two chunks counts once); `:` lines are comments;
/// `retry:` sets the reconnection delay; an event is dispatched at a blank line when it has data.
/// It holds at most one unfinished line and one unfinished event, plus the events of the last chunk.
public struct ServerSentEventParser: Sendable {
    /// One event of a `text/event-stream`, as the WHATWG EventSource parsing rules produce it.
    public struct Event: Sendable, Hashable {
        /// The event id: its own `id:` field, or the last one before it (ids persist, as in EventSource).
        public var id: String?
        /// The `event:` name, if any (ICWS sends none: every message is of the default `message` type).
        public var event: String?
        /// The `data:` lines joined with newlines.
        public var data: String

        /// Creates an event from its fields.
        public init(id: String? = nil, event: String? = nil, data: String) {
            self.id = id
            self.event = event
            self.data = data
        }
    }

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var data: [UInt8] = []
    private var hasData = false
    private var id: String?
    private var eventName: String?
    private var ready: [Event] = []
    private var readyIndex = 0

    /// The last `retry:` value in milliseconds, if the stream sent one.
    public private(set) var retryMilliseconds: Int?
    /// The last event id seen (`id:` fields persist across events, as in EventSource).
    public private(set) var lastEventId: String?

    /// Creates an empty parser.
    public init() {}

    /// Parses `bytes`; completed events become available through `nextEvent()`.
    public mutating func consume<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if lastWasCR {
                    lastWasCR = false
                } else {
                    endLine()
                }
            case UInt8(ascii: "\r"):
                lastWasCR = true
                endLine()
            default:
                lastWasCR = false
                line.append(byte)
            }
        }
    }

    /// The next completed event, in stream order, or `nil` until more bytes complete one.
    public mutating func nextEvent() -> Event? {
        guard readyIndex < ready.count else {
            if !ready.isEmpty {
                ready.removeAll(keepingCapacity: true)
                readyIndex = 0
            }
            return nil
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    /// Forgets an unfinished event (the connection dropped mid-event); keeps `lastEventId` and `retryMilliseconds`.
    public mutating func reset() {
        line.removeAll()
        lastWasCR = false
        data.removeAll()
        hasData = false
        id = nil
        eventName = nil
    }

    private mutating func endLine() {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch()
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var valueStart = colon.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = line[valueStart...]
        switch name {
        case "data":
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        case "id":
            // An id with a NUL is ignored, as EventSource does.
            if !value.contains(0) { id = String(decoding: value, as: UTF8.self) }
        case "event":
            eventName = String(decoding: value, as: UTF8.self)
        case "retry":
            if !value.isEmpty, value.allSatisfy({ $0 >= 48 && $0 <= 57 }), let milliseconds = Int(String(decoding: value, as: UTF8.self)) {
                retryMilliseconds = milliseconds
            }
        default:
            break
        }
    }

    private mutating func dispatch() {
        if let id { lastEventId = id }
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            id = nil
            eventName = nil
        }
        guard hasData else { return }
        ready.append(Event(id: lastEventId, event: eventName, data: String(decoding: data, as: UTF8.self)))
    }
}
