import Foundation
import ICWSCore
import ICWSPostgres
import Logging
import PostgresNIO

/// A database of its own for each PostgreSQL test, made on the cluster of `OPENICWS_TEST_DATABASE_URL`.
enum PostgresTestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "openicws.test.postgres")
        logger.logLevel = ProcessInfo.processInfo.environment["PGDEBUG"] == nil ? .critical : .debug
        return logger
    }()

    struct NotConfigured: Error {}

    /// Creates a new empty database, runs `body` with its URL, and drops it.
    @discardableResult
    static func withFresh<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        guard let baseURL = StoreKind.databaseURL else { throw NotConfigured() }
        let base = try PostgresURL(baseURL)
        let name = "openicws_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(base, "CREATE DATABASE \(name)")
        var url = "postgres://\(encode(base.user))"
        if let password = base.password { url += ":\(encode(password))" }
        url += "@\(base.host.contains(":") ? "[\(base.host)]" : base.host):\(base.port)/\(name)"
        do {
            let result = try await body(url)
            try? await admin(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return result
        } catch {
            try? await admin(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Runs one statement on the base test database, outside a transaction.
    static func admin(_ base: PostgresURL, _ sql: String) async throws {
        try await withConnection(base) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// The first column of the first row of `sql` run on the database at `url`, as an integer.
    static func scalar(url: String, _ sql: String) async throws -> Int64? {
        try await withConnection(try PostgresURL(url)) { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) {
                return value
            }
            return nil
        }
    }

    private static func withConnection<T: Sendable>(
        _ url: PostgresURL, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        let connection = try await PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: logger
        ).get()
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Starts a store on `url` (its `changeSignals()` counted from before `run()`), migrates, runs `body`,
    /// then closes the store and waits for `run()` to end.
    ///
    /// `operationTimeout` is generous by default: under the whole suite's parallel load a new PostgreSQL
    /// connection can take more than the server's 3 s, and only the tests of failing fast pass that.
    @discardableResult
    static func withRunningStore<T: Sendable>(
        url: String, migrate: Bool = true, operationTimeout: Duration = .seconds(10),
        _ body: (PostgresAssistanceStore, SignalCounter) async throws -> T
    ) async throws -> T {
        let store = try PostgresAssistanceStore.connect(url: url, logger: logger, operationTimeout: operationTimeout)
        let signals = SignalCounter(store.changeSignals())
        let running = Task { try await store.run() }
        do {
            if migrate { try await store.migrate() }
            let result = try await body(store, signals)
            try await store.close()
            try await running.value
            return result
        } catch {
            try? await store.close()
            _ = try? await running.value
            throw error
        }
    }
}
