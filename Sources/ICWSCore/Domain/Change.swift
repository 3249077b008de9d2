/// What a domain command decided: the events to commit, and the answer for its caller once they are committed.
///
/// A command reads `DomainState` and returns a `Change`; it never changes the state itself. The commit
/// pipeline applies the events, stores them and hands them to the change feed, so no command has to
/// remember to do any of that.
public struct Change<Result: Sendable>: Sendable {
    public var events: [DomainEvent]
    public var result: Result

    public init(_ events: [DomainEvent], result: Result) {
        self.events = events
        self.result = result
    }
}

extension Change where Result == Void {
    /// A change whose caller needs no answer.
    public init(_ events: [DomainEvent]) {
        self.init(events, result: ())
    }

    /// Nothing to do (an idempotent repeat).
    public static var none: Change<Void> { Change([]) }
}
