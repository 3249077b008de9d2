import Foundation
import ICWSCore
import ICWSStore

/// One empty database of a kind, which a test can open (and reopen) a store on.
struct StoreHarness: Sendable {
    let kind: StoreKind
    private let location: String

    /// Runs `body` with a harness on an empty database, and deletes the database afterwards.
    @discardableResult
    static func withEmpty<T: Sendable>(_ kind: StoreKind, _ body: (StoreHarness) async throws -> T) async throws -> T {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("openicws-contract-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await body(StoreHarness(kind: kind, location: directory))
        case .postgres:
            return try await PostgresTestDatabase.withFresh { url in
                try await body(StoreHarness(kind: kind, location: url))
            }
        }
    }

    /// Opens a store on this harness's database, runs `body`, and closes it.
    @discardableResult
    func withStore<T: Sendable>(_ body: (any AssistanceStore) async throws -> T) async throws -> T {
        switch kind {
        case .sqlite:
            let store = try await SQLiteAssistanceStore.open(directory: location)
            do {
                let result = try await body(store)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        case .postgres:
            return try await PostgresTestDatabase.withRunningStore(url: location) { store, _ in try await body(store) }
        }
    }
}
