import ICWSCore

/// The changes a node asked for were already deleted from the shared change log (every live node had
/// applied them, and this node was not counted as live). The node must reload its state with `load()`.
public struct ChangeLogPruned: ChangeLogGapError, CustomStringConvertible, Sendable {
    /// The id the node asked for changes after.
    public var after: Int64
    /// The oldest change still in the log.
    public var oldestAvailable: Int64

    /// The gap between `after` and `oldestAvailable`.
    public init(after: Int64, oldestAvailable: Int64) {
        self.after = after
        self.oldestAvailable = oldestAvailable
    }

    /// A sentence naming the gap.
    public var description: String {
        "the change log no longer holds the changes after \(after) (oldest is \(oldestAvailable)); reload the state"
    }
}
