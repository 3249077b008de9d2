/// A mailbox's waiting messages, oldest first. The first is kept inline, beside the mailbox's lock: the usual
/// delivery (one message between two takes) then touches no storage of its own, on the core's thread that
/// queues it or on the event loop that takes it.
struct EntryQueue {
    private var first: MailboxEntry?
    /// The messages after the first.
    private var rest: [MailboxEntry] = []

    /// The storage kept between deliveries, in messages: a burst's larger storage is let go.
    static let keptCapacity = 16

    var isEmpty: Bool { first == nil }
    var count: Int { first == nil ? 0 : 1 + rest.count }

    mutating func append(_ entry: consuming MailboxEntry) {
        if first == nil {
            first = entry
        } else {
            rest.append(entry)
        }
    }

    mutating func removeAll() {
        first = nil
        rest = []
    }

    /// Removes the messages for which `shouldRemove` is true, keeping the others in order.
    mutating func removeAll(where shouldRemove: (MailboxEntry) -> Bool) {
        var kept = takeAll()
        kept.removeAll(where: shouldRemove)
        for entry in kept { append(entry) }
    }

    /// Every message, oldest first; the queue is left empty.
    mutating func takeAll() -> [MailboxEntry] {
        guard let head = first.take() else { return [] }
        var all = [head]
        all.append(contentsOf: rest)
        rest = []
        return all
    }

    /// Hands every message to `visit`, oldest first, then moves it into `ring` (no reference counting on its
    /// bytes); returns how many there were. The queue is left empty.
    mutating func moveAll(into ring: inout ReplayRing, visiting visit: (borrowing MailboxEntry) -> Void) -> Int {
        guard let head = first.take() else { return 0 }
        visit(head)
        ring.append(head)
        guard !rest.isEmpty else { return 1 }
        for index in rest.indices { visit(rest[index]) }
        let count = 1 + rest.count
        ring.move(from: &rest)
        if rest.capacity > Self.keptCapacity {
            rest = []
        } else {
            rest.removeAll(keepingCapacity: true)
        }
        return count
    }
}
