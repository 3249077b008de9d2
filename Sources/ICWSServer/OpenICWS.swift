import Foundation
import Hummingbird
import HummingbirdCore
import ICWSCore
import ICWSStore
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The whole server: the domain, the sessions, the streams and the HTTP application around them.
public struct OpenICWS: Sendable {
    public let configuration: ServerConfiguration
    public let center: ContactCenter
    public let store: any AssistanceStore
    public let clock: any ICWSClock
    let streams: EventStreams
    let logger: Logger
    /// Failed logins per user id and address (one per server, shared by every router built from it).
    let throttle: LoginThrottle
    /// The threads that check login passwords, and the bound on logins waiting for them.
    let passwords: PasswordChecks
    /// Faults injected through the admin API, and the journal of answered requests.
    public let faults: Faults
    let journal: RequestJournal

    /// Opens the store (SQLite in `configuration.dataDirectory` unless `store` is given, e.g. a shared
    /// PostgreSQL store that is already running) and loads the state.
    public static func make(
        configuration: ServerConfiguration, directory: Directory, store givenStore: (any AssistanceStore)? = nil,
        clock: any ICWSClock = SystemClock(), logger: Logger = Logger(label: "openicws")
    ) async throws -> OpenICWS {
        let store: any AssistanceStore
        if let given = givenStore {
            store = given
        } else {
            store = try await SQLiteAssistanceStore.open(directory: configuration.dataDirectory, logger: logger)
        }
        let faults = Faults()
        let center = try await ContactCenter(
            directory: directory, store: FaultInjectingStore(base: store, faults: faults), features: configuration.features, clock: clock, logger: logger,
            node: configuration.node, limits: configuration.limits)
        configuration.limits.record()
        return OpenICWS(
            configuration: configuration, center: center, store: store, clock: clock,
            streams: EventStreams(center: center, configuration: configuration), logger: logger,
            throttle: LoginThrottle(.init(
                failuresPerUser: configuration.loginFailuresPerUser, failuresPerAddress: configuration.loginFailuresPerAddress,
                windowSeconds: configuration.loginFailureWindowSeconds)),
            passwords: PasswordChecks(
                threads: configuration.passwordThreads, maxWaitSeconds: configuration.maxLoginWaitSeconds,
                calibrate: { _ = directory.verifyPassword("calibration", for: "\u{0}") }),
            faults: faults, journal: RequestJournal())
    }

    /// The live sessions of this node.
    public var sessions: SessionRegistry { center.sessions }

    /// The router with every ICWS, admin and operations route. Tests that need no socket run it with `.router`;
    /// they must run `CommitPipeline(center:)` beside it.
    public func buildRouter() -> Router<ICWSRequestContext> {
        let router = Router(context: ICWSRequestContext.self)
        router.add(middleware: RequestRecorder(
            journal: journal, faults: faults,
            accessLog: configuration.accessLog ? (Logger(label: "openicws.access"), center.sessions) : nil))
        router.add(middleware: ICWSResponseMiddleware(corsOrigins: Set(configuration.corsOrigins)))
        let connection = ConnectionController(center: center, throttle: throttle, passwords: passwords, configuration: configuration, clock: clock)
        connection.addSessionlessRoutes(to: router)
        AdminController(center: center, adminToken: configuration.adminToken, faults: faults, journal: journal).addRoutes(to: router)
        OperationsController(openICWS: self).addRoutes(to: router)
        DocsController().addRoutes(to: router)
        BoardController().addRoutes(to: router)
        let session = router.group("/icws/:sid").add(middleware: SessionMiddleware(registry: center.sessions, clock: clock))
        connection.addSessionRoutes(to: session)
        let messaging = MessagingController(center: center, configuration: configuration, streams: streams)
        messaging.addRoutes(to: session)
        AssistanceController(center: center, configuration: configuration).addRoutes(to: session)
        let status = StatusController(center: center)
        status.addRoutes(to: session)
        status.addIconRoutes(to: router)
        CallsController(center: center).addRoutes(to: session)
        ConfigurationController(center: center).addRoutes(to: session)
        return router
    }

    /// The HTTP application, with the commit pipeline and the session upkeep (expiry, pings, store probe,
    /// node heartbeat) as services. The pipeline is added first, so it stops last: in-flight writes commit.
    public func buildApplication() -> some ApplicationProtocol {
        let group = MultiThreadedEventLoopGroup.singleton
        let counter = ConnectionCounter(policy: configuration.connections, group: group)
        let responder = buildRouter().buildResponder()
        var app = Application(
            responder: responder,
            server: .guardedHTTP1(counter: counter, responder: responder),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "OpenICWS", backlog: 1_024,
                // Past the cap plus the reserve, connections wait in the kernel's backlog: no descriptor is spent.
                availableConnectionsDelegate: BalancedAvailableConnections(
                    limit: MaximumAvailableConnections(counter.maxConnections + configuration.connections.reserve, logger: logger),
                    balancer: counter.balancer)),
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        // Stopped in reverse: the server, then the answers still being made, then the upkeep, then the pipeline.
        app.addServices(
            CommitPipeline(center: center), SessionUpkeepService(openICWS: self),
            AnswerDrain(counter: counter, limit: .seconds(configuration.shutdownGraceSeconds)))
        return app
    }

    /// Runs until SIGTERM/SIGINT; on shutdown, streams are told to reconnect and closed before the
    /// HTTP server drains, then the store closes.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: buildApplication()),
                .init(service: ShutdownCoordinator(openICWS: self)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            // E.g. the port is taken: close the database before the error ends the process.
            try? await store.close()
            throw error
        }
        try await store.close()
        logger.info("stopped")
    }

    /// Ends sessions idle longer than the idle timeout (no open stream, no request).
    public func reapIdleSessions() async {
        let cutoff = clock.now().addingTimeInterval(-configuration.sessionIdleSeconds)
        for id in await center.endIdleSessions(before: cutoff) {
            logger.info("session expired", metadata: ["sessionId": "\(id)"])
        }
    }

    /// Records the gauges that are counted rather than kept up to date (sessions, watches by kind): called when
    /// `/metrics` is read, so that nothing walks every session while nobody looks.
    func recordCountedGauges() async {
        Gauge(label: "openicws_sessions").record(sessions.count)
        for (kind, count) in await center.subscriptionCounts() {
            Gauge(label: "openicws_subscriptions", dimensions: [("kind", kind)]).record(count)
        }
    }

    /// Ends every session and tells open streams to reconnect (graceful shutdown).
    public func endAllSessions(reason: String) async {
        await center.endAllSessions(reason: reason)
    }

    /// How many event streams are open.
    public var openStreams: Int { streams.count }
}

/// Once a second: pings streams that were silent for the ping interval, closes streams abandoned after their
/// session ended, and probes a failing store; every few seconds, expires idle sessions. With a shared store,
/// it also beats this node's heartbeat and retires nodes that stopped beating.
struct SessionUpkeepService: Service {
    let openICWS: OpenICWS

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            let streamGrace = Duration.seconds(openICWS.configuration.abandonedStreamSeconds)
            var sinceHeartbeat = Double.infinity
            // Idle sessions are looked for every sixtieth of the idle timeout (1 to 10 s; 5 s by default), not
            // every second: the look visits every session, and a session then ends at most that late.
            let reapEvery = min(10, max(1, (openICWS.configuration.sessionIdleSeconds / 60).rounded(.down)))
            var sinceReap = 0.0
            while !Task.isCancelled {
                if sinceHeartbeat >= openICWS.configuration.heartbeatSeconds {
                    sinceHeartbeat = 0
                    await openICWS.center.maintainPresence(deadAfter: openICWS.configuration.nodeTimeoutSeconds)
                }
                try await Self.sleep(.seconds(1), on: MultiThreadedEventLoopGroup.singleton.any())
                sinceHeartbeat += 1
                sinceReap += 1
                if sinceReap >= reapEvery {
                    sinceReap = 0
                    await openICWS.reapIdleSessions()
                }
                await openICWS.center.probeStore()
                await openICWS.center.faultWatches(ifSuspendedLongerThan: openICWS.configuration.storeFaultSeconds)
                openICWS.streams.upkeep(grace: streamGrace, silentSeconds: openICWS.configuration.ssePingSeconds)
            }
        }
    }
}

extension SessionUpkeepService {
    /// Sleeps on `loop`'s own timer; throws when the task is cancelled, as `Task.sleep` does. Under `serve`,
    /// where NIO's loops run Swift's tasks, `Task.sleep` wakes Dispatch's timer thread and one of its workers
    /// before the loop that resumes the task: about a quarter of an idle server's CPU, once a second.
    static func sleep(_ amount: TimeAmount, on loop: any EventLoop) async throws {
        let scheduled = loop.scheduleTask(in: amount) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}

/// On shutdown, before the HTTP server drains: sessions end with `shouldReconnect:true`; streams get a
/// moment to write that goodbye and are then closed, read or not. If anything still holds the process
/// after `--shutdown-grace-seconds`, it exits anyway (every acknowledged write is already committed).
struct ShutdownCoordinator: Service {
    let openICWS: OpenICWS

    func run() async throws {
        try? await gracefulShutdown()
        let grace = openICWS.configuration.shutdownGraceSeconds
        let logger = openICWS.logger
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: grace)
            logger.warning("shutdown took longer than --shutdown-grace-seconds; exiting now", metadata: ["graceSeconds": "\(grace)"])
            exit(0)
        }
        logger.info("shutting down: closing sessions and streams")
        await openICWS.endAllSessions(reason: "The server is shutting down.")
        // Streams write their goodbye if their socket can take it; those that cannot are closed.
        let streamGrace = min(5, grace / 2)
        let deadline = ContinuousClock.now + .seconds(streamGrace)
        while openICWS.streams.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if openICWS.streams.count > 0 {
            logger.info("closing streams that did not take their last message", metadata: ["streams": "\(openICWS.streams.count)"])
            openICWS.streams.closeAll()
        }
    }
}

extension OpenICWS: CustomStringConvertible, CustomDebugStringConvertible {
    /// Short and without secrets: ServiceLifecycle logs every service (which holds this) by its description.
    public var description: String { "OpenICWS(\(configuration))" }

    public var debugDescription: String { description }
}
