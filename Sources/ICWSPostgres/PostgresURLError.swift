/// A connection URL that could not be used; the description says what is wrong with it.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the URL.
    public var problem: String

    /// An error describing `problem`.
    public init(_ problem: String) {
        self.problem = problem
    }

    /// A sentence naming the problem.
    public var description: String { "invalid PostgreSQL URL: \(problem)" }
}
