/// The `__type` URNs of the status feature.
extension ICWSType {
    public static let userStatusMessage = "urn:inin.com:status:userStatusMessage"
    public static let createCallParameters = "urn:inin.com:interactions:createCallParameters"
}

/// One entry of `statusMessageList` (`GET /icws/{sessionId}/status/status-messages`): a status a user can be
/// in, its text and the flags that drive routing and clients.
public struct StatusMessageDetails: Codable, Sendable, Hashable {
    /// The id clients send (`Available`, `Do not disturb`); compared case-insensitively, as ICWS says.
    public var statusId: String
    public var messageText: String
    public var groupTag: String
    public var iconUri: String
    public var canHaveDate: Bool
    public var canHaveTime: Bool
    public var isDoNotDisturbStatus: Bool
    public var isSelectableStatus: Bool
    public var isPersistentStatus: Bool
    public var isForwardStatus: Bool
    public var isAfterCallWorkStatus: Bool
    /// The ACD offers interactions only to agents in a status with this flag.
    public var isAcdStatus: Bool
    public var isAllowFollowUpStatus: Bool
    public var systemId: String

    /// `messageText` and `systemId` default to the id; the flags to false, but `isSelectableStatus`.
    public init(
        statusId: String, messageText: String? = nil, groupTag: String = "", iconUri: String = "", canHaveDate: Bool = false,
        canHaveTime: Bool = false, isDoNotDisturbStatus: Bool = false, isSelectableStatus: Bool = true,
        isPersistentStatus: Bool = false, isForwardStatus: Bool = false, isAfterCallWorkStatus: Bool = false,
        isAcdStatus: Bool = false, isAllowFollowUpStatus: Bool = false, systemId: String? = nil
    ) {
        self.statusId = statusId
        self.messageText = messageText ?? statusId
        self.groupTag = groupTag
        self.iconUri = iconUri
        self.canHaveDate = canHaveDate
        self.canHaveTime = canHaveTime
        self.isDoNotDisturbStatus = isDoNotDisturbStatus
        self.isSelectableStatus = isSelectableStatus
        self.isPersistentStatus = isPersistentStatus
        self.isForwardStatus = isForwardStatus
        self.isAfterCallWorkStatus = isAfterCallWorkStatus
        self.isAcdStatus = isAcdStatus
        self.isAllowFollowUpStatus = isAllowFollowUpStatus
        self.systemId = systemId ?? statusId
    }
}

/// `until` of a user status: when the status ends, for statuses that allow a date or a time.
public struct UserStatusUntil: Codable, Sendable, Hashable {
    /// ICWS compact date (`yyyyMMdd'T'HHmmss'Z'`).
    public var untilDateTime: String
    public var hasDate: Bool
    public var hasTime: Bool

    public init(untilDateTime: String, hasDate: Bool, hasTime: Bool) {
        self.untilDateTime = untilDateTime
        self.hasDate = hasDate
        self.hasTime = hasTime
    }
}

/// A user's status on the wire (`GET …/status/user-statuses/{userId}` and `userStatusMessage` entries).
///
/// Every property but `userId` is optional: a delta, or a watch that asked for some properties only, carries
/// just those.
public struct UserStatusBody: Codable, Sendable, Hashable {
    public var userId: String
    public var statusId: String?
    public var notes: String?
    public var forwardNumber: String?
    /// ICWS compact date (`yyyyMMdd'T'HHmmss'Z'`).
    public var untilDateTime: String?
    public var hasDate: Bool?
    public var hasTime: Bool?
    /// When the status was set (ICWS compact date).
    public var statusChanged: String?
    public var loggedIn: Bool?
    public var onPhone: Bool?
    /// The same end date as `untilDateTime`/`hasDate`/`hasTime`, nested as ICWS's schema has it; present only when set.
    public var until: UserStatusUntil?

    public init(
        userId: String, statusId: String? = nil, notes: String? = nil, forwardNumber: String? = nil, untilDateTime: String? = nil,
        hasDate: Bool? = nil, hasTime: Bool? = nil, statusChanged: String? = nil, loggedIn: Bool? = nil, onPhone: Bool? = nil,
        until: UserStatusUntil? = nil
    ) {
        self.until = until
        self.userId = userId
        self.statusId = statusId
        self.notes = notes
        self.forwardNumber = forwardNumber
        self.untilDateTime = untilDateTime
        self.hasDate = hasDate
        self.hasTime = hasTime
        self.statusChanged = statusChanged
        self.loggedIn = loggedIn
        self.onPhone = onPhone
    }

    /// One optional property, by the name a `userStatusProperties` list gives it: copied and compared the same
    /// way by `keeping(_:)` and `changes(since:)`. (`until` is handled apart: it carries three others along.)
    private struct Field: Sendable {
        let name: String
        let copy: @Sendable (inout UserStatusBody, UserStatusBody) -> Void
        let differs: @Sendable (UserStatusBody, UserStatusBody) -> Bool

        init<T: Equatable & Sendable>(_ name: String, _ path: any WritableKeyPath<UserStatusBody, T?> & Sendable) {
            self.name = name
            copy = { $0[keyPath: path] = $1[keyPath: path] }
            differs = { $0[keyPath: path] != $1[keyPath: path] }
        }
    }

    private static let fields: [Field] = [
        Field("notes", \.notes), Field("forwardNumber", \.forwardNumber), Field("untilDateTime", \.untilDateTime),
        Field("hasDate", \.hasDate), Field("hasTime", \.hasTime), Field("statusChanged", \.statusChanged),
        Field("loggedIn", \.loggedIn), Field("onPhone", \.onPhone),
    ]

    /// Only the named properties (and `userId` and `statusId`, always sent); nil keeps all.
    public func keeping(_ properties: Set<String>?) -> UserStatusBody {
        guard let properties else { return self }
        var result = UserStatusBody(userId: userId, statusId: statusId)
        if properties.contains("until") {
            result.until = until
            result.untilDateTime = untilDateTime
            result.hasDate = hasDate
            result.hasTime = hasTime
        }
        for field in Self.fields where properties.contains(field.name) { field.copy(&result, self) }
        return result
    }

    /// What changed from `old` to this one (with `userId` and `statusId`, always sent), for a delta; nil when
    /// nothing did.
    public func changes(since old: UserStatusBody) -> UserStatusBody? {
        var result = UserStatusBody(userId: userId, statusId: statusId)
        var changed = statusId != old.statusId
        for field in Self.fields where field.differs(self, old) {
            field.copy(&result, self)
            changed = true
        }
        if until != old.until {
            result.until = until ?? UserStatusUntil(untilDateTime: "", hasDate: false, hasTime: false)
            changed = true
        }
        return changed ? result : nil
    }
}

/// `userStatusMessage`: the statuses of the watched users (all of them, or the changed ones in a delta).
public struct UserStatusMessage: Codable, Sendable, Hashable {
    public var type = ICWSType.userStatusMessage
    public var isDelta: Bool
    public var userStatusList: [UserStatusBody]

    enum CodingKeys: String, CodingKey {
        case type = "__type", isDelta, userStatusList
    }

    public init(isDelta: Bool, userStatusList: [UserStatusBody]) {
        self.isDelta = isDelta
        self.userStatusList = userStatusList
    }
}
