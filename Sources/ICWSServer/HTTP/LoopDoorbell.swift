#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Runs jobs on one event loop, woken by a byte on a socket pair that the loop reads, instead of by NIO's
/// `execute` (an `eventfd` on Linux).
///
/// Why: a fan-out's lane hands its turn from one event loop to the next when a job ends (`WakeLane`). The
/// kernel treats a write to a socket as a hand-over (a "sync" wake-up, which recent kernels pass on through
/// epoll): while the waker is the only task on its core, it runs the woken loop on that same core, where the
/// waker is about to wait. An `eventfd` write is a plain wake-up, which puts the woken loop back on the core
/// it last used, often the one where a subscriber on the same machine is reading, and takes that core from
/// it. nginx's workers signal each other over socket pairs, and share one core the same way during a fan-out.
///
/// One per event loop, kept for the process's life (its write end is never closed: another thread may be
/// ringing). When the loop shuts down, the read end closes and later jobs go through `execute`.
final class LoopDoorbell: Sendable {
    private let eventLoop: any EventLoop
    private let writeEnd: CInt
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        /// A byte was sent and the loop has not taken the jobs yet: later jobs need no byte of their own.
        var rung = false
        /// The read end could not be registered, or the byte could not be sent: jobs go through `execute`.
        var broken = false
    }
    private let state = Mutex(State())

    /// A doorbell for `eventLoop`, or nil if no socket pair could be made (then `execute` is used).
    static func make(for eventLoop: any EventLoop) -> LoopDoorbell? {
        var fds: [CInt] = [-1, -1]
        #if canImport(Glibc)
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { return nil }
        let bell = LoopDoorbell(eventLoop: eventLoop, writeEnd: fds[1])
        let readEnd = fds[0]
        NIOPipeBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Reader(bell: bell)) }
            }
            .takingOwnershipOfDescriptor(input: readEnd)
            .whenFailure { _ in
                close(readEnd)
                bell.fail()
            }
        return bell
    }

    private init(eventLoop: any EventLoop, writeEnd: CInt) {
        self.eventLoop = eventLoop
        self.writeEnd = writeEnd
    }

    /// Runs `job` on the event loop soon, from any thread.
    func ring(_ job: @escaping @Sendable () -> Void) {
        let sendsByte = state.withLock { state -> Bool? in
            if state.broken { return nil }
            state.jobs.append(job)
            defer { state.rung = true }
            return !state.rung
        }
        switch sendsByte {
        case nil:
            eventLoop.execute(job)
        case true?:
            var byte: UInt8 = 1
            #if canImport(Glibc)
            let flags = CInt(MSG_DONTWAIT) | CInt(MSG_NOSIGNAL)
            #else
            let flags = MSG_DONTWAIT
            #endif
            if send(writeEnd, &byte, 1, flags) != 1 { fail() }
        case false?:
            break
        }
    }

    /// On the event loop: the byte arrived; runs every job rung so far.
    fileprivate func runJobs() {
        let jobs = state.withLock { state in
            state.rung = false
            return state.jobs.take()
        }
        for job in jobs { job() }
    }

    /// The bell cannot ring: what waits, and every later job, goes through `execute`.
    private func fail() {
        let jobs = state.withLock { state in
            state.broken = true
            return state.jobs.take()
        }
        for job in jobs { eventLoop.execute(job) }
    }

    /// Reads the doorbell's bytes on its event loop.
    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let bell: LoopDoorbell
        init(bell: LoopDoorbell) { self.bell = bell }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
        func channelReadComplete(context: ChannelHandlerContext) { bell.runJobs() }
        func channelInactive(context: ChannelHandlerContext) { bell.fail() }
    }
}

extension Array {
    /// The elements, leaving the array empty.
    fileprivate mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &self)
        return taken
    }
}
