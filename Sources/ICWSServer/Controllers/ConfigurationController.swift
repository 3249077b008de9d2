import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import ICWSCore
import ICWSModel

/// Configuration reads (feature `configuration`): users, workgroups and roles from the directory file.
///
/// Administrators see everything; a supervisor sees the workgroups they supervise, those workgroups' members
/// and supervisors, and their roles; anyone else gets 403. The directory is a file, so writes answer 405.
struct ConfigurationController {
    let center: ContactCenter

    enum Kind: String, CaseIterable {
        case user, workgroup, role
        var plural: String { rawValue + "s" }
    }

    func addRoutes(to group: RouterGroup<ICWSRequestContext>) {
        for kind in Kind.allCases {
            group.resource("/configuration/\(kind.plural)", get: { request, context in try list(kind, request, context) })
            group.resource("/configuration/\(kind.plural)/:id", get: { request, context in try item(kind, request, context) })
        }
        group.resource("/configuration/defaults/:kind", get: defaults)
    }

    // MARK: Handlers

    func list(_ kind: Kind, _ request: Request, _ context: ICWSRequestContext) throws -> Response {
        let session = try context.requireSession()
        let query = try ConfigurationQuery(request.uri.queryParameters)
        let scope = try Scope(user: session.user, directory: center.directory)
        var items = objects(kind, scope: scope)
        items = items.filter { query.matches($0) }
        items.sort { query.ordered($0, $1) }
        return try Self.json(["items": items.map { query.selecting($0) }])
    }

    func item(_ kind: Kind, _ request: Request, _ context: ICWSRequestContext) throws -> Response {
        let session = try context.requireSession()
        let query = try ConfigurationQuery(request.uri.queryParameters)
        let scope = try Scope(user: session.user, directory: center.directory)
        let id = context.parameters.get("id") ?? ""
        guard let object = objects(kind, scope: scope).first(where: { Self.id(of: $0) == id }) else {
            throw ICWSError.notFound("The \(kind.rawValue) '\(id)' does not exist or is not visible to you.")
        }
        return try Self.json(query.selecting(object))
    }

    /// An object of the kind with every property at its default.
    @Sendable func defaults(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        _ = try Scope(user: session.user, directory: center.directory)
        guard let kind = Kind(rawValue: context.parameters.get("kind") ?? "") else {
            throw ICWSError.notFound("Defaults exist for user, workgroup and role.")
        }
        let empty: [String: Any] = ["id": "", "displayName": "", "uri": ""]
        var object: [String: Any] = ["configurationId": empty]
        switch kind {
        case .user:
            object["extension"] = ""
            object["workgroups"] = [Any]()
            object["roles"] = ["actualValue": [Any](), "effectiveValue": [Any]()]
        case .workgroup:
            object["extension"] = ""
            object["members"] = [Any]()
            object["supervisors"] = [Any]()
            object["roles"] = [Any]()
            object["hasQueue"] = true
            object["isActive"] = true
        case .role:
            object["users"] = [Any]()
            object["workgroups"] = [Any]()
        }
        return try Self.json(object)
    }

    // MARK: The objects

    /// What one user may see.
    struct Scope {
        var users: Set<String>
        var workgroups: Set<String>
        var everything: Bool

        init(user: DirectoryUser, directory: Directory) throws {
            if user.administrator {
                everything = true
                users = []
                workgroups = []
                return
            }
            let supervised = directory.supervision[user.userId] ?? []
            guard !supervised.isEmpty else {
                throw ICWSError.accessDenied("Configuration is readable by administrators, and by supervisors for their workgroups.")
            }
            everything = false
            workgroups = supervised
            var users: Set<String> = [user.userId]
            for name in supervised {
                users.formUnion(directory.workgroups[name]?.members ?? [])
                users.formUnion(directory.workgroups[name]?.supervisors ?? [])
            }
            self.users = users
        }
    }

    func objects(_ kind: Kind, scope: Scope) -> [[String: Any]] {
        let directory = center.directory
        let users = directory.users.values.filter { scope.everything || scope.users.contains($0.userId) }
        let workgroups = directory.workgroups.values.filter { scope.everything || scope.workgroups.contains($0.name) }
        func userId(_ id: String) -> [String: Any] { Self.configurationId(id, directory.user(id)?.displayName ?? id, "users") }
        func groupId(_ name: String) -> [String: Any] { Self.configurationId(name, name, "workgroups") }
        func roleId(_ name: String) -> [String: Any] { Self.configurationId(name, name, "roles") }
        switch kind {
        case .user:
            return users.map { user in
                let groups = (directory.memberships[user.userId] ?? []).union(directory.supervision[user.userId] ?? []).sorted()
                let roles = user.roles.map(roleId)
                return [
                    "configurationId": userId(user.userId), "extension": user.phoneExtension, "workgroups": groups.map(groupId),
                    "roles": ["actualValue": roles, "effectiveValue": roles],
                ]
            }
        case .workgroup:
            return workgroups.map { group in
                [
                    "configurationId": groupId(group.name), "extension": group.phoneExtension, "members": group.members.map(userId),
                    "supervisors": group.supervisors.map(userId), "roles": group.roles.map(roleId), "hasQueue": true,
                    "isActive": true,
                ]
            }
        case .role:
            var roleUsers: [String: [String]] = [:]
            var roleGroups: [String: [String]] = [:]
            for user in users { for role in user.roles { roleUsers[role, default: []].append(user.userId) } }
            for group in workgroups { for role in group.roles { roleGroups[role, default: []].append(group.name) } }
            return Set(roleUsers.keys).union(roleGroups.keys).map { role in
                [
                    "configurationId": roleId(role), "users": (roleUsers[role] ?? []).sorted().map(userId),
                    "workgroups": (roleGroups[role] ?? []).sorted().map(groupId),
                ]
            }
        }
    }

    static func configurationId(_ id: String, _ displayName: String, _ collection: String) -> [String: Any] {
        ["id": id, "displayName": displayName, "uri": "/configuration/\(collection)/\(id)"]
    }

    static func id(of object: [String: Any]) -> String {
        (object["configurationId"] as? [String: Any])?["id"] as? String ?? ""
    }

    static func json(_ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return ICWSResponse.json(bytes: data)
    }
}

/// `select`, `where`, `orderBy` and `rightsFilter`, read the way real clients send them.
struct ConfigurationQuery {
    struct Condition {
        enum Operator: String { case eq, sw, ct }
        var path: [String]
        var op: Operator
        var value: String
    }

    /// nil: every property (`select=*`); empty: only `configurationId`.
    var select: Set<String>?
    var conditions: [Condition] = []
    var orderBy: [String] = ["configurationId", "id"]
    var descending = false

    init(_ parameters: FlatDictionary<Substring, Substring>) throws {
        var values: [String: String] = [:]
        for (key, value) in parameters {
            // Some clients join two parameters without the `&` (`orderBy=configurationId.idrightsFilter=admin`).
            var key = String(key)
            var value = String(value)
            while let glued = ["rightsFilter=", "select=", "where=", "orderBy="].compactMap({ value.range(of: $0) }).first {
                values[key] = String(value[..<glued.lowerBound])
                key = String(value[glued.lowerBound..<glued.upperBound].dropLast())
                value = String(value[glued.upperBound...])
            }
            values[key] = value
        }
        if let select = values["select"] {
            let names = select.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            self.select = names.contains("*") ? nil : Set(names)
        } else {
            self.select = []
        }
        if let text = values["where"], !text.isEmpty {
            conditions = try text.split(separator: ",").map { part in
                let words = part.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
                guard words.count == 3, let op = Condition.Operator(rawValue: words[1].lowercased()) else {
                    throw ICWSError.invalidProperty("where", "each condition is 'property eq|sw|ct value', e.g. 'configurationId.id sw agent'")
                }
                return Condition(path: words[0].split(separator: ".").map(String.init), op: op, value: words[2])
            }
        }
        if let text = values["orderBy"], !text.isEmpty {
            let words = text.split(separator: " ").map(String.init)
            orderBy = words[0].split(separator: ".").map(String.init)
            descending = words.count > 1 && words[1].lowercased() == "desc"
        }
        if let rights = values["rightsFilter"], !["view", "admin", ""].contains(rights.lowercased()) {
            throw ICWSError.invalidProperty("rightsFilter", "must be view or admin")
        }
    }

    static func text(_ object: [String: Any], _ path: [String]) -> String? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        switch current {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    func matches(_ object: [String: Any]) -> Bool {
        conditions.allSatisfy { condition in
            guard let text = Self.text(object, condition.path)?.lowercased() else { return false }
            let value = condition.value.lowercased()
            switch condition.op {
            case .eq: return text == value
            case .sw: return text.hasPrefix(value)
            case .ct: return text.contains(value)
            }
        }
    }

    func ordered(_ a: [String: Any], _ b: [String: Any]) -> Bool {
        let left = Self.text(a, orderBy) ?? ""
        let right = Self.text(b, orderBy) ?? ""
        let order = left.localizedStandardCompare(right)
        let tie = ConfigurationController.id(of: a) < ConfigurationController.id(of: b)
        if order == .orderedSame { return descending ? !tie : tie }
        return descending ? order == .orderedDescending : order == .orderedAscending
    }

    func selecting(_ object: [String: Any]) -> [String: Any] {
        guard let select else { return object }
        return object.filter { $0.key == "configurationId" || select.contains($0.key) }
    }
}
