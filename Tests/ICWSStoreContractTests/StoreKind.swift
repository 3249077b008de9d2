import Foundation

/// The stores the contract suite runs against.
enum StoreKind: String, CustomStringConvertible, Sendable {
    case sqlite
    case postgres

    var description: String { rawValue }

    /// The URL of the PostgreSQL test database, when the environment names one.
    static let databaseURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["OPENICWS_TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }()

    /// SQLite always; PostgreSQL when `OPENICWS_TEST_DATABASE_URL` is set (otherwise one line says why not).
    static let all: [StoreKind] = {
        if databaseURL == nil {
            print(
                "ICWSStoreContractTests: PostgreSQL tests skipped: OPENICWS_TEST_DATABASE_URL is not set "
                    + "(run .ci/run, or eval \"$(bash scripts/postgres-test-cluster.sh start)\" first)")
            return [.sqlite]
        }
        return [.sqlite, .postgres]
    }()

    /// Whether the PostgreSQL-only tests run (evaluating `all` prints the skip line once).
    static var postgresEnabled: Bool { all.contains(.postgres) }
}
