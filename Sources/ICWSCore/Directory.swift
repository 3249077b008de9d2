import Foundation
import HummingbirdBcrypt

/// What a user may do (ICWS rights that matter for agent assistance).
public struct UserRights: Codable, Sendable, Equatable {
    public var canRequestAssistanceFromSupervisor: Bool
    public var showAssistanceButton: Bool

    public init(canRequestAssistanceFromSupervisor: Bool, showAssistanceButton: Bool) {
        self.canRequestAssistanceFromSupervisor = canRequestAssistanceFromSupervisor
        self.showAssistanceButton = showAssistanceButton
    }
}

/// A user of the directory.
public struct DirectoryUser: Sendable, Equatable {
    public var userId: String
    public var displayName: String
    public var passwordHash: String
    public var rights: UserRights
    /// May read the whole configuration (users, workgroups, roles) and set anyone's status.
    public var administrator = false
    /// The user's station extension (`Eic_LocalId` of the user's interactions).
    public var phoneExtension: String = ""
    /// Role names (configuration reads only).
    public var roles: [String] = []
}

/// A workgroup: its member agents and its supervisors.
public struct Workgroup: Sendable, Equatable {
    public var name: String
    public var members: [String]
    public var supervisors: [String]
    /// The workgroup queue's extension.
    public var phoneExtension: String = ""
    /// Role names (configuration reads only).
    public var roles: [String] = []
}

/// Users and workgroups, immutable once loaded.
public struct Directory: Sendable {
    public let users: [String: DirectoryUser]
    public let workgroups: [String: Workgroup]
    /// Workgroup names by member user id.
    public let memberships: [String: Set<String>]
    /// Workgroup names by supervisor user id.
    public let supervision: [String: Set<String>]
    /// The statuses users may be in, in the order clients list them; the first is the status of a user who
    /// never set one.
    public let statuses: [StatusMessage]
    private let statusIndex: [String: Int]
    private let timingHash: String

    public init(users: [DirectoryUser], workgroups: [Workgroup], statuses: [StatusMessage] = StatusMessage.defaults) {
        self.statuses = statuses.isEmpty ? StatusMessage.defaults : statuses
        self.statusIndex = Dictionary(
            self.statuses.enumerated().map { ($0.element.statusId.lowercased(), $0.offset) }, uniquingKeysWith: { first, _ in first })
        self.users = Dictionary(users.map { ($0.userId, $0) }, uniquingKeysWith: { first, _ in first })
        self.workgroups = Dictionary(workgroups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var memberships: [String: Set<String>] = [:]
        var supervision: [String: Set<String>] = [:]
        for workgroup in workgroups {
            for member in workgroup.members { memberships[member, default: []].insert(workgroup.name) }
            for supervisor in workgroup.supervisors { supervision[supervisor, default: []].insert(workgroup.name) }
        }
        self.memberships = memberships
        self.supervision = supervision
        // Unknown users are checked against a hash as costly as the costliest real one, so that the time of a
        // refusal does not tell which user ids exist.
        let cost = users.compactMap { Self.cost(of: $0.passwordHash) }.max() ?? 4
        self.timingHash = Bcrypt.hash("openicws-timing", cost: UInt8(clamping: min(max(cost, 4), 31)))
    }

    /// The bcrypt cost of the hash under unknown users (the directory's highest).
    public var timingHashCost: Int? { Self.cost(of: timingHash) }

    /// The cost field of a `$2a$`/`$2b$`/`$2y$` bcrypt hash.
    static func cost(of hash: String) -> Int? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[0].hasPrefix("2") else { return nil }
        return Int(parts[1])
    }

    /// The user, looked up by id.
    public func user(_ userId: String) -> DirectoryUser? { users[userId] }

    /// Whether `userId` supervises `workgroup`.
    public func supervises(_ userId: String, _ workgroup: String) -> Bool {
        supervision[userId]?.contains(workgroup) ?? false
    }

    /// The status with this id, compared case-insensitively (ICWS status ids are).
    public func status(_ statusId: String) -> StatusMessage? {
        statusIndex[statusId.lowercased()].map { statuses[$0] }
    }

    /// The status of a user who never set one.
    public var initialStatus: StatusMessage { statuses.first(where: \.isSelectableStatus) ?? statuses[0] }

    /// Whether `actor` may change `userId`'s status: themselves, an administrator, or a supervisor of one of
    /// the user's workgroups.
    public func mayManage(_ actor: DirectoryUser, _ userId: String) -> Bool {
        actor.userId == userId || actor.administrator
            || !(memberships[userId] ?? []).isDisjoint(with: supervision[actor.userId] ?? [])
    }

    /// Whether `userId` is a member agent of `workgroup`.
    public func isMember(_ userId: String, of workgroup: String) -> Bool {
        memberships[userId]?.contains(workgroup) ?? false
    }

    /// Checks a password against the user's bcrypt hash (any cost; `$2a$`, `$2b$`, `$2y$`).
    ///
    /// Slow by design: call it off the event loop.
    public func verifyPassword(_ password: String, for userId: String) -> DirectoryUser? {
        // bcrypt reads a password up to its first NUL: "1234\0anything" would pass for "1234".
        guard let user = users[userId], !password.utf8.contains(0) else {
            // Spend comparable time on unknown users so the answer does not reveal which ids exist.
            _ = Bcrypt.verify(password, hash: timingHash)
            return nil
        }
        var hash = user.passwordHash
        if hash.hasPrefix("$2y$") { hash = "$2b$" + hash.dropFirst(4) }
        return Bcrypt.verify(password, hash: hash) ? user : nil
    }

}
