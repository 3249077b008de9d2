import Foundation
import ICWSCore
import ICWSModel
import ICWSPostgres
import Synchronization
import Testing

extension StoreSuites {
    /// What only the shared store does: several nodes on one database.
    @Suite(.enabled(if: StoreKind.postgresEnabled, "OPENICWS_TEST_DATABASE_URL is not set"))
    struct Postgres {
        /// Records what each `prepare` call was handed.
        final class Handed: Sendable {
            let calls = Mutex<[[CommittedChange]]>([])
            func record(_ changes: [CommittedChange]) { calls.withLock { $0.append(changes) } }
            var all: [[CommittedChange]] { calls.withLock { $0 } }
        }

        @Test("a change committed on node A reaches node B, in order and once")
        func changesReachTheOtherNode() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url) { a, _ in
                    try await PostgresTestDatabase.withRunningStore(url: url) { b, _ in
                        #expect(a.isShared)
                        let first = Fixtures.newRequest(1, interaction: "1")
                        let second: [DomainEvent] = [.chatLineAdded(assistanceId: "a1", position: 1, Fixtures.line("more", 5))]
                        #expect(try await a.commit(first, node: "A") == 1)
                        #expect(try await a.commit(after: 1, node: "A") { _ in second } == 2)
                        #expect(try await b.changes(after: 0) == [
                            CommittedChange(id: 1, node: "A", events: first), CommittedChange(id: 2, node: "A", events: second),
                        ])
                        #expect(try await b.changes(after: 1) == [CommittedChange(id: 2, node: "A", events: second)])
                        #expect(try await b.changes(after: 2) == [])

                        let handed = Handed()
                        let own: [DomainEvent] = [.interactionSaved(Fixtures.interaction("2"))]
                        let id = try await b.commit(after: 0, node: "B") { missed in
                            handed.record(missed)
                            return own
                        }
                        #expect(id == 3)
                        let next = try await b.commit(after: 3, node: "B") { missed in
                            handed.record(missed)
                            return []
                        }
                        #expect(next == nil)
                        // Each commit first tries optimistically (prepare gets nothing); B was behind, so its first
                        // commit ran again under the lock with A's two changes. A batch with no events always
                        // takes the lock, to hand over what was missed.
                        #expect(handed.all == [
                            [],
                            [CommittedChange(id: 1, node: "A", events: first), CommittedChange(id: 2, node: "A", events: second)],
                            [],
                            [],
                        ])
                        let aHanded = Handed()
                        _ = try await a.commit(after: 2, node: "A") { missed in
                            aHanded.record(missed)
                            return []
                        }
                        #expect(aHanded.all == [[], [CommittedChange(id: 3, node: "B", events: own)]])
                        let state = try await a.load()
                        #expect(state.lastChangeId == 3)
                        #expect(state.sortedInteractions.map(\.id) == ["1", "2"])
                    }
                }
            }
        }

        @Test("changeSignals yields on node B within a second of a commit on node A")
        func signalsReachTheOtherNode() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url) { a, _ in
                    try await PostgresTestDatabase.withRunningStore(url: url) { _, signals in
                        #expect(await signals.wait(atLeast: 1, within: 10), "no signal once LISTEN was established")
                        try await Task.sleep(for: .milliseconds(200))
                        let before = signals.current
                        try await a.commit(Fixtures.newRequest(1, interaction: "1"), node: "A")
                        #expect(await signals.wait(atLeast: before + 1, within: 1), "no signal within 1 s of a commit")
                    }
                }
            }
        }

        @Test("the database refuses a second active request for an interaction from another node")
        func oneActiveRequestPerInteraction() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url) { a, _ in
                    try await PostgresTestDatabase.withRunningStore(url: url) { b, _ in
                        try await a.commit(Fixtures.newRequest(1, interaction: "1"), node: "A")
                        let error = await #expect(throws: StoreConflict.self) {
                            try await b.commit(after: 1, node: "B") { _ in
                                [
                                    .requestSaved(Fixtures.header(2, interaction: "1")),
                                    .chatLineAdded(assistanceId: "a2", position: 0, Fixtures.line("me too", 3)),
                                ]
                            }
                        }
                        #expect(error?.constraint == "assistance_requests_one_active")
                        var state = try await b.load()
                        #expect(state.requests.map(\.id) == ["a1"])
                        #expect(state.highestAssistanceNumber == 1)
                        #expect(state.lastChangeId == 1)
                        #expect(try await b.changes(after: 0).map(\.id) == [1])

                        // Completing the old request and opening a new one in one batch is fine, in either order.
                        _ = try await b.commit(after: 1, node: "B") { _ in
                            [
                                .requestSaved(Fixtures.header(2, interaction: "1")),
                                .requestSaved(Fixtures.header(1, interaction: "1", state: .completed)),
                            ]
                        }
                        state = try await a.load()
                        #expect(state.requests.map(\.id) == ["a2"])
                    }
                }
            }
        }

        @Test("two nodes migrating at once both succeed")
        func concurrentMigrations() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url, migrate: false) { a, _ in
                    try await PostgresTestDatabase.withRunningStore(url: url, migrate: false) { b, _ in
                        async let first: Void = a.migrate()
                        async let second: Void = b.migrate()
                        _ = try await (first, second)
                        try await a.migrate()
                        // Each version recorded once, however many nodes migrated.
                        let versions = try await PostgresTestDatabase.scalar(url: url, "SELECT count(*) FROM schema_migrations")
                        #expect(versions == (try await PostgresTestDatabase.scalar(url: url, "SELECT max(version)::bigint FROM schema_migrations")))
                        #expect((versions ?? 0) >= 2)
                        try await b.commit(Fixtures.newRequest(1, interaction: "1"), node: "B")
                        #expect(try await a.load().requests.map(\.id) == ["a1"])
                    }
                }
            }
        }

        @Test("heartbeats: dead nodes by the database clock, pruning what every node applied, presence of live nodes")
        func heartbeatsAndPresence() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url) { store, _ in
                    try await store.commit([.presence(userId: "u1", node: "A", present: true, at: Fixtures.date(1))], node: "A")
                    try await store.commit([.presence(userId: "u2", node: "B", present: true, at: Fixtures.date(2))], node: "B")
                    try await store.commit([
                        .presence(userId: "u3", node: "A", present: true, at: Fixtures.date(3)),
                        .presence(userId: "u3", node: "A", present: false, at: Fixtures.date(4)),
                    ], node: "A")
                    // Presence counts only on nodes that sent a heartbeat.
                    #expect(try await store.load().presence == [])
                    try await store.heartbeat(node: "B", applied: 1, retainingChangesFor: 0)
                    try await store.heartbeat(node: "A", applied: 3, retainingChangesFor: 0)
                    #expect(try await store.load().presence == [
                        PresenceRecord(userId: "u1", node: "A", since: Fixtures.date(1)),
                        PresenceRecord(userId: "u2", node: "B", since: Fixtures.date(2)),
                    ])
                    // Change 1 was applied by both nodes, so it is gone; 2 and 3 remain.
                    #expect(try await store.changes(after: 1).map(\.id) == [2, 3])
                    await #expect(throws: ChangeLogPruned.self) { try await store.changes(after: 0) }
                    #expect(try await PostgresTestDatabase.scalar(url: url, "SELECT count(*) FROM changes") == 2)
                    // Recent changes are kept while the retention lasts.
                    try await store.heartbeat(node: "B", applied: 3)
                    #expect(try await PostgresTestDatabase.scalar(url: url, "SELECT count(*) FROM changes") == 2)

                    #expect(try await store.deadNodes(olderThan: 60) == [])
                    try await Task.sleep(for: .milliseconds(1200))
                    try await store.heartbeat(node: "A", applied: 3, retainingChangesFor: 0)
                    #expect(try await store.deadNodes(olderThan: 1) == ["B"])
                    #expect(try await PostgresTestDatabase.scalar(url: url, "SELECT count(*) FROM changes") == 0)

                    _ = try await store.commit(after: 3, node: "A") { _ in [.nodeGone(node: "B")] }
                    #expect(try await store.deadNodes(olderThan: 1) == [])
                    let state = try await store.load()
                    #expect(state.presence == [PresenceRecord(userId: "u1", node: "A", since: Fixtures.date(1))])
                    #expect(state.lastChangeId == 4)
                    #expect(try await PostgresTestDatabase.scalar(url: url, "SELECT count(*) FROM presence") == 1)
                }
            }
        }

        @Test(
            "the store fails fast while the database is down and works again after it restarts",
            .enabled(if: PostgresCluster.configured, "OPENICWS_TEST_PG_BIN / OPENICWS_TEST_PG_DATA are not set"))
        func databaseRestart() async throws {
            try await PostgresTestDatabase.withFresh { url in
                try await PostgresTestDatabase.withRunningStore(url: url, operationTimeout: .seconds(3)) { store, signals in
                    try await store.commit(Fixtures.newRequest(1, interaction: "1"), node: "A")
                    #expect(await signals.wait(atLeast: 1, within: 10))
                    let signalsBefore = signals.current

                    try PostgresCluster.stop()
                    let started = ContinuousClock.now
                    await #expect(throws: (any Error).self) {
                        try await store.commit(after: 1, node: "A") { _ in [.interactionSaved(Fixtures.interaction("2"))] }
                    }
                    let commitFailedAfter = ContinuousClock.now - started
                    await #expect(throws: (any Error).self) { try await store.probe() }
                    let probeFailedAfter = ContinuousClock.now - started
                    #expect(commitFailedAfter < .seconds(5), "a commit took \(commitFailedAfter) to fail")
                    #expect(probeFailedAfter < .seconds(10), "probe took \(probeFailedAfter) to fail")

                    try PostgresCluster.start()
                    let recovered = try await PostgresCluster.eventually(within: .seconds(60)) { try await store.probe() }
                    #expect(recovered)
                    #expect(try await store.commit(after: 1, node: "A") { _ in [.interactionSaved(Fixtures.interaction("2"))] } == 2)
                    #expect(await signals.wait(atLeast: signalsBefore + 1, within: 15), "no signal after LISTEN came back")
                    #expect(try await store.load().sortedInteractions.map(\.id) == ["1", "2"])
                }
            }
        }
    }
}
