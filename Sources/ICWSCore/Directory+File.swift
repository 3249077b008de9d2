import Foundation
import HummingbirdBcrypt

/// Why a directory file could not be used; the description names the file and the field.
public struct DirectoryFileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let field: String
    public let problem: String

    public var description: String { "directory file \(file): \(field): \(problem)" }
}

extension Directory {
    /// Loads a directory JSON file (see README "Directory file").
    public static func load(file path: String) throws -> Directory {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DirectoryFileError(file: path, field: "(file)", problem: "cannot be read (\(error.localizedDescription))")
        }
        return try parse(data, file: path)
    }

    /// Parses directory JSON; `file` only names the source in errors.
    public static func parse(_ data: Data, file: String) throws -> Directory {
        func fail(_ field: String, _ problem: String) -> DirectoryFileError {
            DirectoryFileError(file: file, field: field, problem: problem)
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw fail("(file)", "is not valid JSON" + jsonErrorPosition(error, in: data))
        }
        /// A misspelt key would otherwise be ignored silently (and a right or a member lost).
        func onlyKnownKeys(_ object: [String: Any], _ known: [String], _ at: String) throws {
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail(at.isEmpty ? unknown : "\(at).\(unknown)", "unknown key (known here: \(known.joined(separator: ", ")))")
            }
        }
        guard let object = root as? [String: Any] else { throw fail("(file)", "must be a JSON object") }
        try onlyKnownKeys(object, ["users", "workgroups", "statuses"], "")
        guard let userList = object["users"] as? [Any] else { throw fail("users", "must be an array of users") }
        let workgroupList = object["workgroups"] ?? [Any]()
        guard let workgroupArray = workgroupList as? [Any] else { throw fail("workgroups", "must be an array") }

        func string(_ value: Any?, _ field: String, required: Bool = true) throws -> String? {
            guard let value, !(value is NSNull) else {
                if required { throw fail(field, "is missing") }
                return nil
            }
            guard let text = value as? String, !text.isEmpty else { throw fail(field, "must be a non-empty string") }
            return text
        }
        func bool(_ value: Any?, _ field: String) throws -> Bool {
            guard let value else { return false }
            // JSONSerialization gives NSNumber for both numbers and booleans; accept only true/false.
            guard let number = value as? NSNumber, isJSONBoolean(number) else { throw fail(field, "must be true or false") }
            return number.boolValue
        }

        func strings(_ value: Any?, _ field: String) throws -> [String] {
            guard let value else { return [] }
            guard let list = value as? [Any] else { throw fail(field, "must be an array of strings") }
            return try list.enumerated().map { offset, item in
                guard let text = item as? String, !text.isEmpty else { throw fail("\(field)[\(offset)]", "must be a non-empty string") }
                return text
            }
        }
        /// The directory's own statuses replace the default set; each needs an id, the flags default to false
        /// except `isSelectableStatus`.
        func statuses(_ value: Any?) throws -> [StatusMessage] {
            guard let value else { return StatusMessage.defaults }
            guard let list = value as? [Any], !list.isEmpty else { throw fail("statuses", "must be a non-empty array of statuses") }
            let flags = [
                "canHaveDate", "canHaveTime", "isDoNotDisturbStatus", "isSelectableStatus", "isPersistentStatus", "isForwardStatus",
                "isAfterCallWorkStatus", "isAcdStatus", "isAllowFollowUpStatus",
            ]
            var ids = Set<String>()
            return try list.enumerated().map { index, entry in
                let at = "statuses[\(index)]"
                guard let object = entry as? [String: Any] else { throw fail(at, "must be an object") }
                try onlyKnownKeys(object, ["statusId", "messageText", "groupTag", "iconUri", "systemId"] + flags, at)
                guard let id = try string(object["statusId"], "\(at).statusId") else { throw fail("\(at).statusId", "is missing") }
                guard ids.insert(id.lowercased()).inserted else { throw fail("\(at).statusId", "'\(id)' appears twice") }
                var status = StatusMessage(
                    statusId: id, messageText: try string(object["messageText"], "\(at).messageText", required: false),
                    groupTag: try string(object["groupTag"], "\(at).groupTag", required: false) ?? "",
                    iconUri: try string(object["iconUri"], "\(at).iconUri", required: false) ?? "",
                    systemId: try string(object["systemId"], "\(at).systemId", required: false))
                status.canHaveDate = try bool(object["canHaveDate"], "\(at).canHaveDate")
                status.canHaveTime = try bool(object["canHaveTime"], "\(at).canHaveTime")
                status.isDoNotDisturbStatus = try bool(object["isDoNotDisturbStatus"], "\(at).isDoNotDisturbStatus")
                status.isSelectableStatus = object["isSelectableStatus"] == nil ? true : try bool(object["isSelectableStatus"], "\(at).isSelectableStatus")
                status.isPersistentStatus = try bool(object["isPersistentStatus"], "\(at).isPersistentStatus")
                status.isForwardStatus = try bool(object["isForwardStatus"], "\(at).isForwardStatus")
                status.isAfterCallWorkStatus = try bool(object["isAfterCallWorkStatus"], "\(at).isAfterCallWorkStatus")
                status.isAcdStatus = try bool(object["isAcdStatus"], "\(at).isAcdStatus")
                status.isAllowFollowUpStatus = try bool(object["isAllowFollowUpStatus"], "\(at).isAllowFollowUpStatus")
                return status
            }
        }

        var users: [DirectoryUser] = []
        var seen = Set<String>()
        for (index, entry) in userList.enumerated() {
            let at = "users[\(index)]"
            guard let user = entry as? [String: Any] else { throw fail(at, "must be an object") }
            try onlyKnownKeys(user, ["userId", "displayName", "passwordHash", "rights", "administrator", "extension", "roles"], at)
            guard let userId = try string(user["userId"], "\(at).userId") else { continue }
            guard seen.insert(userId).inserted else { throw fail("\(at).userId", "'\(userId)' appears twice") }
            let displayName = try string(user["displayName"], "\(at).displayName", required: false) ?? userId
            guard let hash = try string(user["passwordHash"], "\(at).passwordHash") else { continue }
            guard Directory.isBcryptHash(hash) else {
                throw fail("\(at).passwordHash", "must be a bcrypt hash ($2a$/$2b$/$2y$, e.g. from `openicws hash-password`)")
            }
            var rights = UserRights(canRequestAssistanceFromSupervisor: false, showAssistanceButton: false)
            if let rawRights = user["rights"] {
                guard let rightsObject = rawRights as? [String: Any] else { throw fail("\(at).rights", "must be an object") }
                try onlyKnownKeys(rightsObject, ["canRequestAssistanceFromSupervisor", "showAssistanceButton"], "\(at).rights")
                rights.canRequestAssistanceFromSupervisor = try bool(
                    rightsObject["canRequestAssistanceFromSupervisor"], "\(at).rights.canRequestAssistanceFromSupervisor")
                rights.showAssistanceButton = try bool(rightsObject["showAssistanceButton"], "\(at).rights.showAssistanceButton")
            }
            var entry = DirectoryUser(userId: userId, displayName: displayName, passwordHash: hash, rights: rights)
            entry.administrator = try bool(user["administrator"], "\(at).administrator")
            entry.phoneExtension = try string(user["extension"], "\(at).extension", required: false) ?? ""
            entry.roles = try strings(user["roles"], "\(at).roles")
            users.append(entry)
        }

        var workgroups: [Workgroup] = []
        var seenGroups = Set<String>()
        for (index, entry) in workgroupArray.enumerated() {
            let at = "workgroups[\(index)]"
            guard let group = entry as? [String: Any] else { throw fail(at, "must be an object") }
            try onlyKnownKeys(group, ["name", "members", "supervisors", "extension", "roles"], at)
            guard let name = try string(group["name"], "\(at).name") else { continue }
            guard seenGroups.insert(name).inserted else { throw fail("\(at).name", "'\(name)' appears twice") }
            func userIds(_ key: String) throws -> [String] {
                guard let raw = group[key] else { return [] }
                guard let list = raw as? [Any] else { throw fail("\(at).\(key)", "must be an array of user ids") }
                return try list.enumerated().map { offset, item in
                    guard let id = item as? String else { throw fail("\(at).\(key)[\(offset)]", "must be a user id string") }
                    guard seen.contains(id) else { throw fail("\(at).\(key)[\(offset)]", "unknown user '\(id)'") }
                    return id
                }
            }
            var workgroup = Workgroup(name: name, members: try userIds("members"), supervisors: try userIds("supervisors"))
            workgroup.phoneExtension = try string(group["extension"], "\(at).extension", required: false) ?? ""
            workgroup.roles = try strings(group["roles"], "\(at).roles")
            workgroups.append(workgroup)
        }
        return Directory(users: users, workgroups: workgroups, statuses: try statuses(object["statuses"]))
    }

    /// " (line L, column C: what the parser said)", from Foundation's "… around character N." message.
    static func jsonErrorPosition(_ error: any Error, in data: Data) -> String {
        let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
        guard let range = detail.range(of: "character "),
            let offset = Int(detail[range.upperBound...].prefix(while: \.isNumber))
        else { return detail.isEmpty ? "" : " (\(detail))" }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        let what = detail[..<range.lowerBound].replacingOccurrences(of: " around ", with: "").trimmingCharacters(in: .whitespaces)
        return " (line \(line), column \(column): \(what.isEmpty ? "unexpected input" : what.lowercased()))"
    }

    /// Whether `hash` has the shape of a bcrypt hash with a cost Bcrypt accepts.
    static func isBcryptHash(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, ["2a", "2b", "2y"].contains(parts[1]),
            let cost = Int(parts[2]), (4...31).contains(cost), parts[3].count == 53
        else { return false }
        return true
    }

    /// The embedded demo directory: every password is `1234`.
    public static func demo() -> Directory {
        // Hashed at start so no secret is stored in the binary; cost 4 keeps start-up and logins quick.
        let hash = Bcrypt.hash("1234", cost: 4)
        let both = UserRights(canRequestAssistanceFromSupervisor: true, showAssistanceButton: true)
        func user(_ id: String, _ name: String, _ phoneExtension: String, _ roles: [String], _ rights: UserRights = both) -> DirectoryUser {
            var user = DirectoryUser(userId: id, displayName: name, passwordHash: hash, rights: rights)
            user.phoneExtension = phoneExtension
            user.roles = roles
            return user
        }
        var admin = user("admin", "Administrator", "1900", ["Administrator"])
        admin.administrator = true
        func workgroup(_ name: String, _ members: [String], _ supervisors: [String], _ phoneExtension: String) -> Workgroup {
            var workgroup = Workgroup(name: name, members: members, supervisors: supervisors)
            workgroup.phoneExtension = phoneExtension
            workgroup.roles = ["Agent"]
            return workgroup
        }
        return Directory(
            users: [
                user("agent1", "Agent One", "1001", ["Agent"]), user("agent2", "Agent Two", "1002", ["Agent"]),
                user("agent3", "Agent Three", "1003", ["Agent"]),
                user("agent4", "Agent Four", "1004", ["Agent"], UserRights(canRequestAssistanceFromSupervisor: false, showAssistanceButton: true)),
                user("supervisor1", "Supervisor One", "1101", ["Supervisor"]), user("supervisor2", "Supervisor Two", "1102", ["Supervisor"]),
                admin,
            ],
            workgroups: [
                workgroup("Support", ["agent1", "agent2", "agent3"], ["supervisor1", "supervisor2"], "2001"),
                workgroup("Sales", ["agent3", "agent4"], ["supervisor2"], "2002"),
            ])
    }
}

/// True when a `JSONSerialization` number came from JSON `true`/`false` rather than a number.
public func isJSONBoolean(_ number: NSNumber) -> Bool {
    #if canImport(Darwin)
    return CFGetTypeID(number) == CFBooleanGetTypeID()
    #else
    // On Linux JSONSerialization yields NSNumber whose objCType is "c" for booleans.
    return String(cString: number.objCType) == "c"
    #endif
}
