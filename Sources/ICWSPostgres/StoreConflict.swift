import ICWSCore

/// The database refused a batch because it breaks one of its rules (a primary key or the
/// one-active-request-per-interaction index). Nothing of the batch was committed; retrying the same batch
/// fails the same way, unlike `StoreFailure.unavailable`.
public struct StoreConflict: StoreConflictError, CustomStringConvertible, Sendable {
    /// The constraint or index that refused the row, when the database named it.
    public var constraint: String?
    /// The database's message.
    public var message: String

    /// A conflict on `constraint`, described by `message`.
    public init(constraint: String?, message: String) {
        self.constraint = constraint
        self.message = message
    }

    /// A sentence naming the rule that was broken.
    public var description: String {
        "store conflict\(constraint.map { " on \($0)" } ?? ""): \(message)"
    }
}
