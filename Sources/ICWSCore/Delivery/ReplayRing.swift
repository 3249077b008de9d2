/// The messages a stream was sent, newest `capacity` kept, for `Last-Event-ID` resumes. A ring: storage
/// grows only as messages are sent (an idle session holds next to nothing), and once full a new message
/// overwrites the oldest instead of shifting the rest.
struct ReplayRing {
    private var storage: [MailboxEntry] = []
    /// Where the oldest entry is, once the storage is full.
    private var head = 0
    let capacity: Int
    /// The highest sequence that fell out of the ring.
    private(set) var evictedThrough: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { storage.count }

    /// Keeps `entry`; once the ring is full, the oldest entry falls out.
    mutating func append(_ entry: consuming MailboxEntry) {
        guard capacity > 0 else {
            evictedThrough = entry.sequence
            return
        }
        if storage.count < capacity {
            storage.append(entry)
        } else {
            evictedThrough = storage[head].sequence
            storage[head] = entry
            head = (head + 1) % capacity
        }
    }

    /// Where the next `append` writes (its slot, and the storage's header that it reads first), as addresses for
    /// `Prefetch`: only ever prefetched, so one made stale by a later growth is harmless. Zero when nothing is
    /// stored yet.
    var nextWriteAddresses: (header: UInt, slot: UInt) {
        storage.withUnsafeBufferPointer { buffer -> (header: UInt, slot: UInt) in
            guard let base = buffer.baseAddress else { return (0, 0) }
            let index = storage.count < capacity ? storage.count : head
            // An array's header (its count and capacity) sits just before its first element.
            return (UInt(bitPattern: UnsafeRawPointer(base) - 32), UInt(bitPattern: UnsafeRawPointer(base + index)))
        }
    }

    /// Keeps `entries` by moving them in (no reference counting on their shared bytes, which other threads
    /// are handing on meanwhile); `entries` is left holding placeholders.
    mutating func move(from entries: inout [MailboxEntry]) {
        for index in entries.indices {
            var entry = MailboxEntry.placeholder
            swap(&entry, &entries[index])
            append(entry)
        }
    }

    /// The kept entries after `sequence`, oldest first.
    func entries(after sequence: UInt64) -> [MailboxEntry] {
        var result: [MailboxEntry] = []
        for offset in 0..<storage.count {
            let entry = storage[(head + offset) % storage.count]
            if entry.sequence > sequence { result.append(entry) }
        }
        return result
    }
}
