import ArgumentParser
import Foundation
import ICWSClient

/// `--server`, `--user`, `--password` (or `OPENICWS_SERVER`, `OPENICWS_USER`, `OPENICWS_PASSWORD`; on a
/// terminal a missing password is asked for without echo), shared by the client commands.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The server's URL (default: OPENICWS_SERVER, else http://127.0.0.1:8018).")
    var server: String?

    @Option(help: "User id to log in as (default: OPENICWS_USER).")
    var user: String?

    @Option(help: "Password (default: OPENICWS_PASSWORD; asked for without echo on a terminal). Prefer the variable or the prompt: flags show up in process lists.")
    var password: String?

    /// The server URL from the flag, the environment, or the default.
    var serverURL: String { ConnectionOptions.serverURL(server) }

    static func serverURL(_ flag: String?) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let value = ProcessInfo.processInfo.environment["OPENICWS_SERVER"], !value.isEmpty { return value }
        return "http://127.0.0.1:8018"
    }

    /// The user id, or a usage error naming the flag and the variable.
    func userId() throws -> String {
        if let user, !user.isEmpty { return user }
        if let value = ProcessInfo.processInfo.environment["OPENICWS_USER"], !value.isEmpty { return value }
        throw ValidationError("no user: give --user or set OPENICWS_USER")
    }

    /// The password from the flag, the environment, or a prompt on a terminal.
    func passwordText(for userId: String) throws -> String {
        if let typed = Self.password(password, prompt: "Password for \(userId): ") { return typed }
        throw ValidationError("no password: give --password or set OPENICWS_PASSWORD (or run on a terminal to be asked)")
    }

    /// `flag`, else `OPENICWS_PASSWORD`, else what is typed at `prompt` on a terminal (nil off a terminal).
    static func password(_ flag: String?, prompt: String) -> String? {
        flag ?? ProcessInfo.processInfo.environment["OPENICWS_PASSWORD"] ?? Terminal.readPassword(prompt: prompt)
    }

    /// `flag`, else `OPENICWS_ADMIN_TOKEN`; nil when neither gives a non-empty token.
    static func adminToken(_ flag: String?) -> String? {
        let token = flag ?? ProcessInfo.processInfo.environment["OPENICWS_ADMIN_TOKEN"]
        return token?.isEmpty == false ? token : nil
    }

    /// Logs in with these options.
    func connect(applicationName: String = "openicws command line") async throws -> ICWSClient {
        let userId = try userId()
        let password = try passwordText(for: userId)
        var options = ICWSClient.Options()
        options.applicationName = applicationName
        return try await ICWSClient.connect(server: serverURL, userId: userId, password: password, options: options)
    }
}

/// `--server` and `--admin-token` (or `OPENICWS_ADMIN_TOKEN`) for the admin API commands.
struct AdminOptions: ParsableArguments {
    @Option(help: "The server's URL (default: OPENICWS_SERVER, else http://127.0.0.1:8018).")
    var server: String?

    @Option(help: "The server's admin token (default: OPENICWS_ADMIN_TOKEN).")
    var adminToken: String?

    /// The admin client, or a usage error when no token is given.
    func admin() throws -> ICWSAdmin {
        guard let token = ConnectionOptions.adminToken(adminToken) else {
            throw ValidationError("no admin token: give --admin-token or set OPENICWS_ADMIN_TOKEN")
        }
        return ICWSAdmin(server: ConnectionOptions.serverURL(server), token: token)
    }
}

/// Runs a client command body: an ICWS error is printed on standard error and exits 1.
func reportingICWSErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ICWSClientError {
        Terminal.error("error: \(error)")
        throw ExitCode(1)
    }
}
