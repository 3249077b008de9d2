import Foundation

/// The parts of a `postgres://USER:PASS@HOST:PORT/DB` (or `postgresql://…`) connection URL.
///
/// User and password are percent-decoded; the port defaults to 5432; the database defaults to the user name
/// (PostgreSQL's own rule). TLS is not configured, so only `sslmode=disable`, `allow` or `prefer` are accepted
/// (a plain connection is made); `application_name` is passed on to the server.
public struct PostgresURL: Sendable, Equatable {
    /// The user to authenticate as.
    public var user: String
    /// The password, if the URL has one.
    public var password: String?
    /// The host name or IP address (without brackets for IPv6).
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The database to open.
    public var database: String
    /// The `application_name` query parameter, if given.
    public var applicationName: String?

    /// A URL made of its parts.
    public init(user: String, password: String?, host: String, port: Int = 5432, database: String, applicationName: String? = nil) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.applicationName = applicationName
    }

    /// Parses `string`, throwing a `PostgresURLError` that names what is wrong.
    public init(_ string: String) throws {
        let rest: Substring
        if string.hasPrefix("postgres://") {
            rest = string.dropFirst("postgres://".count)
        } else if string.hasPrefix("postgresql://") {
            rest = string.dropFirst("postgresql://".count)
        } else {
            throw PostgresURLError("the scheme must be postgres:// or postgresql://")
        }
        var beforeQuery = rest
        var applicationName: String?
        if let questionMark = rest.firstIndex(of: "?") {
            beforeQuery = rest[..<questionMark]
            for pair in rest[rest.index(after: questionMark)...].split(separator: "&") where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                let value = try Self.decode(parts.count > 1 ? parts[1] : "", what: "parameter \(name)")
                switch name {
                case "sslmode":
                    guard ["disable", "allow", "prefer"].contains(value) else {
                        throw PostgresURLError("sslmode=\(value) is not supported (this store connects without TLS; use sslmode=disable)")
                    }
                case "application_name":
                    applicationName = value
                default:
                    throw PostgresURLError("unsupported parameter \"\(name)\" (supported: sslmode, application_name)")
                }
            }
        }
        var authority = beforeQuery
        var database = ""
        if let slash = beforeQuery.firstIndex(of: "/") {
            authority = beforeQuery[..<slash]
            database = try Self.decode(beforeQuery[beforeQuery.index(after: slash)...], what: "database name")
            if database.contains("/") { throw PostgresURLError("the database name must not contain \"/\"") }
        }
        guard let at = authority.lastIndex(of: "@") else {
            throw PostgresURLError("the user is missing (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        if let colon = userInfo.firstIndex(of: ":") {
            user = try Self.decode(userInfo[..<colon], what: "user")
            password = try Self.decode(userInfo[userInfo.index(after: colon)...], what: "password")
        } else {
            user = try Self.decode(userInfo, what: "user")
            password = nil
        }
        guard !user.isEmpty else { throw PostgresURLError("the user is empty") }
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw PostgresURLError("the IPv6 host lacks its closing \"]\"") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw PostgresURLError("unexpected text after the IPv6 host: \(after)") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty else { throw PostgresURLError("the host is missing") }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw PostgresURLError("the port \"\(portText)\" is not a number between 1 and 65535")
            }
            self.port = port
        } else {
            port = 5432
        }
        self.database = database.isEmpty ? user : database
        self.applicationName = applicationName
    }

    private static func decode(_ text: Substring, what: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw PostgresURLError("the \(what) has an invalid percent-encoding")
        }
        return decoded
    }
}
