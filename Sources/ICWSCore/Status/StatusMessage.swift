import Foundation
import ICWSModel

/// A status a user can be in: the wire type, so what the directory holds is what clients receive.
public typealias StatusMessage = StatusMessageDetails

extension StatusMessageDetails {
    /// The set that ships when the directory file names none (CIC's usual defaults). `Available` comes first:
    /// it is the status of a user who never set one.
    public static let defaults: [StatusMessage] = [
        StatusMessage(statusId: "Available", groupTag: "Available", iconUri: "/status/icons/available.png", isAcdStatus: true),
        StatusMessage(
            statusId: "Available, Follow-up", messageText: "Available – Follow-up", groupTag: "Available",
            iconUri: "/status/icons/available-follow-up.png", isAcdStatus: true, isAllowFollowUpStatus: true),
        StatusMessage(
            statusId: "Away from desk", groupTag: "Away", iconUri: "/status/icons/away.png", canHaveDate: true, canHaveTime: true),
        StatusMessage(statusId: "At lunch", groupTag: "Away", iconUri: "/status/icons/lunch.png", canHaveDate: true, canHaveTime: true),
        StatusMessage(
            statusId: "Do not disturb", groupTag: "Do Not Disturb", iconUri: "/status/icons/do-not-disturb.png",
            isDoNotDisturbStatus: true),
        StatusMessage(
            statusId: "Follow up", messageText: "Follow up", groupTag: "After Call Work", iconUri: "/status/icons/follow-up.png",
            isAfterCallWorkStatus: true, isAllowFollowUpStatus: true),
        StatusMessage(
            statusId: "Gone home", groupTag: "Away", iconUri: "/status/icons/gone-home.png", canHaveDate: true, canHaveTime: true,
            isPersistentStatus: true),
    ]
}

/// A user's current status, as stored: the status id and what the user added to it.
public struct UserStatus: Sendable, Equatable, Codable {
    public var userId: String
    /// The canonical id of a `StatusMessage`.
    public var statusId: String
    public var notes: String
    public var forwardNumber: String
    /// Until when the status holds, when the status allows a date or a time.
    public var until: Date?
    public var hasDate: Bool
    public var hasTime: Bool
    /// When the status was set.
    public var changedAt: Date

    public init(
        userId: String, statusId: String, notes: String = "", forwardNumber: String = "", until: Date? = nil,
        hasDate: Bool = false, hasTime: Bool = false, changedAt: Date
    ) {
        self.userId = userId
        self.statusId = statusId
        self.notes = notes
        self.forwardNumber = forwardNumber
        self.until = until
        self.hasDate = hasDate
        self.hasTime = hasTime
        self.changedAt = changedAt
    }
}

/// What a client asked to set (`PUT …/status/user-statuses/{userId}`).
public struct StatusUpdate: Sendable, Equatable {
    public var statusId: String
    public var notes: String?
    public var forwardNumber: String?
    public var until: Date?
    public var hasDate: Bool
    public var hasTime: Bool

    public init(statusId: String, notes: String? = nil, forwardNumber: String? = nil, until: Date? = nil, hasDate: Bool = false, hasTime: Bool = false) {
        self.statusId = statusId
        self.notes = notes
        self.forwardNumber = forwardNumber
        self.until = until
        self.hasDate = hasDate
        self.hasTime = hasTime
    }
}
