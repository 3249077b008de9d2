/// A stream that is told when its mailbox has work, instead of a task waiting on the mailbox: the server's
/// sink then writes from its connection's event loop, so a fan-out resumes no task per stream.
public protocol StreamSink: AnyObject, Sendable {
    /// Messages, a ping or the end wait for this stream. Called outside the mailbox's lock, and not again
    /// until the sink has taken everything (`Mailbox.take(for:encoding:)` answered `.nothing`).
    func wake()

    /// Who wakes this sink together with others (the server: one group per event loop). Asked once, when the
    /// sink is installed, so that a fan-out never touches the sinks themselves.
    var wakeGroup: any StreamWakeGroup { get }
}

/// Wakes many sinks at once (the server: one job on their event loop).
public protocol StreamWakeGroup: AnyObject, Sendable {
    /// Wakes the sinks installed in `mailboxes`, all of this group: each is found with `Mailbox.installedSink`.
    func wake(_ mailboxes: [Mailbox])
}

/// Mailboxes whose sinks are to be woken, by group: filled while a publication queues, then woken together.
public struct StreamWakes {
    private var groups: [(id: ObjectIdentifier, group: any StreamWakeGroup, mailboxes: [Mailbox])] = []
    /// How many mailboxes wait to be woken.
    public private(set) var count = 0

    public init() {}

    mutating func add(_ mailbox: Mailbox, group: any StreamWakeGroup) {
        let id = ObjectIdentifier(group)
        count += 1
        // Few groups (one per event loop): a list compared by identity, no hashing per stream.
        for index in groups.indices where groups[index].id == id {
            groups[index].mailboxes.append(mailbox)
            return
        }
        groups.append((id, group, [mailbox]))
    }

    /// Wakes every mailbox's sink, one call per group, and empties the list.
    public mutating func wakeAll() {
        guard count > 0 else { return }
        let woken = groups
        groups.removeAll(keepingCapacity: true)
        count = 0
        for (_, group, mailboxes) in woken { group.wake(mailboxes) }
    }
}
