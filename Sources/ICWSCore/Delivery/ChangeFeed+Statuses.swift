import Foundation
import ICWSModel

extension ChangeFeed {
    // MARK: Statuses

    /// Checks a status subscription: known users (any user may see any user's status, as in CIC's company
    /// directory). Property names the server does not know are ignored, so a client asking for more still works.
    func statusWatch(_ request: (userIds: [String], properties: [String]?)?) throws(DomainError) -> StatusWatch {
        guard let request, !request.userIds.isEmpty else { throw .missingProperty("userIds") }
        var ids: [String] = []
        for userId in request.userIds where !ids.contains(userId) {
            guard directory.user(userId) != nil else { throw .invalidProperty("userIds", "unknown user '\(userId)'") }
            ids.append(userId)
        }
        var properties: Set<String>?
        if let names = request.properties, !names.isEmpty { properties = Set(names) }
        return StatusWatch(userIds: ids, properties: properties)
    }

    /// Replaces a session's status watch (nil removes it) and keeps the index by watched user right.
    func setStatusWatch(_ new: StatusWatch?, on watch: SessionWatches) {
        let key = ObjectIdentifier(watch)
        for userId in watch.statuses?.userIds ?? [] {
            statusWatchers[userId]?[key] = nil
            if statusWatchers[userId]?.isEmpty == true { statusWatchers[userId] = nil }
        }
        watch.statuses = new
        for userId in new?.userIds ?? [] { statusWatchers[userId, default: [:]][key] = watch }
    }

    /// A user's whole status as the wire shows it.
    func statusBody(_ userId: String, state: DomainState) -> UserStatusBody {
        let status = state.status(of: userId, directory: directory, since: statusSince)
        let until = status.until.map(ICWSDate.string(from:))
        return UserStatusBody(
            userId: userId, statusId: status.statusId, notes: status.notes, forwardNumber: status.forwardNumber,
            untilDateTime: until ?? "", hasDate: status.hasDate, hasTime: status.hasTime,
            statusChanged: ICWSDate.string(from: status.changedAt), loggedIn: state.isPresent(userId), onPhone: state.isOnPhone(userId),
            until: until.map { UserStatusUntil(untilDateTime: $0, hasDate: status.hasDate, hasTime: status.hasTime) })
    }

    /// One delta per status watch that holds one of `userIds`, with only what changed.
    func publishStatuses(_ userIds: [String], state: DomainState, memo: inout [AnyHashable: SharedJSON]) {
        var bodies: [String: UserStatusBody] = [:]
        var watchers = SessionsInOrder()
        for userId in userIds {
            bodies[userId] = statusBody(userId, state: state)
            for (key, watch) in statusWatchers[userId] ?? [:] { watchers[key] = watch }
        }
        for watch in watchers.values {
            guard var statuses = watch.statuses else { continue }
            var changed: [UserStatusBody] = []
            for userId in statuses.userIds {
                guard let body = bodies[userId]?.keeping(statuses.properties) else { continue }
                if let old = statuses.view[userId], let delta = body.changes(since: old) { changed.append(delta) }
                statuses.view[userId] = body
            }
            watch.statuses = statuses
            guard !changed.isEmpty else { continue }
            let message = UserStatusMessage(isDelta: true, userStatusList: changed)
            deliver(OutboundMessage(watch: .userStatuses, isDelta: true, json: encoded(message, memo: &memo)), to: watch, state: state)
        }
    }
}
