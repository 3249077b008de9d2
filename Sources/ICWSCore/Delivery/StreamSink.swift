/// A stream that is told when its mailbox has work, instead of a task waiting on the mailbox: the server's
/// sink then writes from its connection's event loop, so a fan-out resumes no task per stream.
public protocol StreamSink: AnyObject, Sendable {
    /// Messages, a ping or the end wait for this stream. Called outside the mailbox's lock, and not again
    /// until the sink has taken everything (`Mailbox.take(for:)` answered nil).
    func wake()

    /// Wakes `sinks` (this one among them) together: the server submits one job per event loop.
    func wake(together sinks: [any StreamSink])
}
