/// Why the domain refused a command. No HTTP here: ICWSServer maps each case to a status and an ICWS body.
public enum DomainError: Error, Sendable, Equatable {
    /// A required property of the input is missing.
    case missingProperty(String)
    /// A property of the input is invalid: its name and why.
    case invalidProperty(String, String)
    /// An assistance rule was broken: the last part of the ICWS errorId, and a message.
    case assistance(String, String)
    /// The user may not do or see this.
    case accessDenied(String)
    /// The thing named does not exist.
    case notFound(String)
    /// No member of the workgroup is logged in on any node to take an interaction.
    case noAgentAvailable(String)
    /// A cap of `Limits` was reached: which one, and a message.
    case limitReached(String, String)
    /// The user has as many sessions on this node as `Limits.sessionsPerUser` allows.
    case tooManySessions(String)
    /// The session ended meanwhile.
    case sessionEnded
    /// The store could not commit: nothing was changed, the client may retry.
    case storeUnavailable
    /// The store refused the change because a change committed elsewhere conflicts with it; nothing was changed.
    case conflict(String)
}
