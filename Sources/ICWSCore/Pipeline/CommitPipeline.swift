import ServiceLifecycle

/// Runs a `ContactCenter`'s commit pipeline as a service: batches commands, commits them, fans them out,
/// and catches up on the changes other nodes commit (woken by the store's change signals).
///
/// Add it before the HTTP server's services so that it stops after them: requests still in flight when
/// shutdown begins are committed.
public struct CommitPipeline: Service {
    public let center: ContactCenter

    public init(center: ContactCenter) {
        self.center = center
    }

    public func run() async throws {
        let center = center
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in center.storeChangeSignals() {
                        await center.requestCatchUp()
                    }
                }
                await center.runCommitPipeline()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            center.stopCommitPipeline()
        }
    }
}

extension ContactCenter {
    nonisolated func storeChangeSignals() -> AsyncStream<Void> { store.changeSignals() }
}
