import Foundation

/// Statuses: what each user is in, who may set it, and what it means for routing.
extension DomainState {
    /// The user's status: the one stored, or the directory's initial status since `since`.
    public func status(of userId: String, directory: Directory, since: Date) -> UserStatus {
        statuses[userId] ?? UserStatus(userId: userId, statusId: directory.initialStatus.statusId, changedAt: since)
    }

    /// Whether the ACD may offer the user an interaction: a status with `isAcdStatus` (an unknown stored status,
    /// left by an older directory file, counts as not available).
    public func isAcdAvailable(_ userId: String, directory: Directory) -> Bool {
        guard let stored = statuses[userId] else { return directory.initialStatus.isAcdStatus }
        return directory.status(stored.statusId)?.isAcdStatus ?? false
    }

    /// Whether the user has a connected interaction.
    public func isOnPhone(_ userId: String) -> Bool { (connectedCount[userId] ?? 0) > 0 }

    /// Sets `userId`'s status for `actor`: the user themselves, an administrator, or a supervisor of one of the
    /// user's workgroups. The status must exist and be selectable; a date and time apply only where the status
    /// allows them. Setting the same status again records a new `statusChanged` time, as CIC does.
    public func setStatus(
        by actor: DirectoryUser, for userId: String, _ update: StatusUpdate, at now: Date, directory: Directory
    ) throws(DomainError) -> Change<UserStatus> {
        guard directory.user(userId) != nil else { throw .notFound("The user '\(userId)' does not exist.") }
        guard directory.mayManage(actor, userId) else {
            throw .accessDenied("You may set only your own status, or that of the members of the workgroups you supervise.")
        }
        guard let status = directory.status(update.statusId) else {
            throw .invalidProperty("statusId", "unknown status '\(update.statusId)'")
        }
        guard status.isSelectableStatus else { throw .invalidProperty("statusId", "the status '\(status.statusId)' cannot be selected") }
        let notes = update.notes ?? ""
        let forward = update.forwardNumber ?? ""
        guard notes.count <= Limits.statusTextLength, forward.count <= Limits.statusTextLength else {
            throw .invalidProperty(notes.count > Limits.statusTextLength ? "notes" : "forwardNumber", "is longer than \(Limits.statusTextLength) characters")
        }
        let hasDate = update.hasDate && status.canHaveDate
        let hasTime = update.hasTime && status.canHaveTime
        let saved = UserStatus(
            userId: userId, statusId: status.statusId, notes: notes, forwardNumber: status.isForwardStatus ? forward : "",
            until: hasDate || hasTime ? update.until : nil, hasDate: hasDate, hasTime: hasTime, changedAt: now)
        return Change([.statusSaved(saved)], result: saved)
    }
}
