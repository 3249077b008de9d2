import Foundation
import Synchronization

/// Which watch a queued message belongs to, so a slow consumer's deltas can be collapsed per watch.
public enum WatchKey: Hashable, Sendable {
    case agentAssistance
    case agentAssistanceDetails(String)
    case supervisorAssistance
    case supervisorAssistanceDetails(String)
    case queue(String)
    /// The status watch (`…/subscriptions/status/user-statuses`).
    case userStatuses
    /// Connection messages, never collapsed.
    case connection
}

/// A message's JSON, encoded once and shared by every mailbox it goes to.
///
/// The bytes are kept in an allocation of their own, apart from this object's reference count: during a
/// fan-out the core's thread counts a reference per mailbox while event loops copy the bytes out, and the two
/// never touch the same cache line.
public final class SharedJSON: @unchecked Sendable {
    /// Immutable once made.
    fileprivate let storage: UnsafeMutableRawBufferPointer

    public init(_ bytes: [UInt8]) {
        storage = .allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
    }

    deinit { storage.deallocate() }
}

/// A message ready for the wire: its JSON encoded once.
public struct OutboundMessage: @unchecked Sendable {
    public let watch: WatchKey
    public let isDelta: Bool
    /// Keeps the bytes alive.
    public let shared: SharedJSON
    /// `shared`'s bytes, read without touching `shared` itself (immutable, alive as long as `shared`).
    private let storage: UnsafeRawBufferPointer

    public init(watch: WatchKey, isDelta: Bool, json: SharedJSON) {
        self.watch = watch
        self.isDelta = isDelta
        self.shared = json
        self.storage = UnsafeRawBufferPointer(json.storage)
    }

    public init(watch: WatchKey, isDelta: Bool, json: [UInt8]) {
        self.init(watch: watch, isDelta: isDelta, json: SharedJSON(json))
    }

    /// The JSON, copied (for polls and tests; a stream uses `withBytes`).
    public var json: [UInt8] { Array(storage) }

    /// How many bytes the JSON has.
    public var byteCount: Int { storage.count }

    /// Calls `body` with the JSON's bytes, valid only inside `body`.
    @discardableResult
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(shared) { try body(storage) }
    }
}

/// A queued message with its per-session sequence number (the SSE `id`).
public struct MailboxEntry: Sendable {
    public let sequence: UInt64
    public let message: OutboundMessage

    /// Fills a slot until an entry is moved in.
    static let placeholder = MailboxEntry(sequence: 0, message: OutboundMessage(watch: .connection, isDelta: false, json: []))
}

/// One session's bounded message queue.
///
/// The core pushes; a poll drains it, or one event stream at a time takes from it. A bounded
/// replay buffer keeps what streams were sent so a reconnect with `Last-Event-ID` loses nothing.
public final class Mailbox: Sendable {
    /// What a push did.
    public enum PushResult: Sendable, Equatable {
        case queued
        /// The queue is full; nothing was queued. The caller collapses a watch into a snapshot.
        case full
        case closed
    }

    /// Why a mailbox closed.
    public struct Closure: Sendable, Equatable {
        public let reason: String
    }

    // What a delivery touches comes first: pushed by the core's thread, taken on an event loop.
    struct State {
        var queue = EntryQueue()
        var nextSequence: UInt64 = 1
        /// The stream that currently owns delivery; a newer stream takes over.
        var streamOwner: UInt64 = 0
        /// The attached stream's sink (the server's way) and its wake group, and whether it was woken and has
        /// not yet taken all.
        var sink: (owner: UInt64, sink: any StreamSink, group: any StreamWakeGroup)?
        var sinkWoken = false
        var pingRequested = false
        /// Keep-alive bookkeeping: whether the stream wrote messages since the last upkeep tick, and for how
        /// many ticks in a row it wrote nothing (pings included).
        var wroteSinceTick = false
        var silentTicks = 0
        var closure: Closure?
        var waiter: (owner: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var replay: ReplayRing

        /// Whom to tell that there is work: the waiting task, or the sink unless it is already woken. With
        /// `grouped`, the sink's group is named instead of the sink (a fan-out touches no sink).
        mutating func signal(grouped: Bool = false) -> Wake {
            if let continuation = waiter?.continuation {
                waiter = nil
                return Wake(continuation: continuation)
            }
            guard sink != nil, !sinkWoken else { return Wake() }
            sinkWoken = true
            return grouped ? Wake(group: sink?.group) : Wake(sink: sink?.sink)
        }
    }

    /// Who was told about new work; `fire()` tells them, outside the lock.
    struct Wake {
        var continuation: CheckedContinuation<Void, Never>?
        var sink: (any StreamSink)?
        var group: (any StreamWakeGroup)?

        func fire() {
            continuation?.resume()
            sink?.wake()
        }
    }

    /// How many messages may wait.
    public let capacity: Int
    /// How many sent messages are kept for replay.
    public let replayCapacity: Int
    /// The installed sink's `prefetchAddresses` (0 when none), kept apart from the lock so that a fan-out can
    /// name them a few streams ahead without taking it. Only ever prefetched: a stale address is harmless.
    let sinkAddress = Atomic<UInt>(0)
    let sinkCompanionAddress = Atomic<UInt>(0)
    /// Where the stream's next delivery writes into the replay ring (`ReplayRing.nextWriteAddresses`), for the
    /// same prefetch.
    let replayHeaderAddress = Atomic<UInt>(0)
    let replaySlotAddress = Atomic<UInt>(0)
    let state: Mutex<State>

    /// The object's bytes, all of which a delivery touches (its header, the capacities, the addresses above, the
    /// lock and the state), for `Prefetch`: about five cache lines.
    public static var prefetchBytes: Int { 16 + 2 * 8 + 4 * 8 + MemoryLayout<Mutex<State>>.size }

    /// The bytes prefetched from each of a sink's addresses.
    static var sinkPrefetchBytes: Int { 256 }

    /// Prefetches the installed sink's objects (`StreamSink.prefetchAddresses`), without the lock. For a fan-out
    /// loop, a few streams before it reaches this mailbox.
    public func prefetchSink() {
        Self.prefetch(sinkAddress, bytes: Self.sinkPrefetchBytes)
        Self.prefetch(sinkCompanionAddress, bytes: Self.sinkPrefetchBytes)
        Self.prefetch(replayHeaderAddress, bytes: 1)
        Self.prefetch(replaySlotAddress, bytes: MemoryLayout<MailboxEntry>.stride)
    }

    /// Prefetches `bytes` bytes from the address kept in `address`, unless none is kept (0).
    private static func prefetch(_ address: borrowing Atomic<UInt>, bytes: Int) {
        if let pointer = UnsafeRawPointer(bitPattern: address.load(ordering: .relaxed)) {
            Prefetch.address(pointer, bytes: bytes)
        }
    }

    /// Records (or, with nil, forgets) the sink's addresses for `prefetchSink()`.
    func setSinkAddresses(_ sink: (any StreamSink)?) {
        let addresses = sink?.prefetchAddresses
        sinkAddress.store(UInt(bitPattern: addresses?.0), ordering: .relaxed)
        sinkCompanionAddress.store(UInt(bitPattern: addresses?.1), ordering: .relaxed)
    }

    public init(capacity: Int = 1_000, replayCapacity: Int = 200) {
        self.capacity = capacity
        self.replayCapacity = replayCapacity
        state = Mutex(State(replay: ReplayRing(capacity: replayCapacity)))
    }

    /// Queues a message unless full or closed.
    @discardableResult
    public func push(_ message: OutboundMessage) -> PushResult {
        var wakes = StreamWakes()
        let result = push(message, wakes: &wakes)
        wakes.wakeAll()
        return result
    }

    /// Queues a message; a sink to wake is added to `wakes` (woken together by the caller) instead.
    func push(_ message: OutboundMessage, wakes: inout StreamWakes) -> PushResult {
        let (result, wake) = state.withLock { state -> (PushResult, Wake) in
            if state.closure != nil { return (.closed, Wake()) }
            if state.queue.count >= capacity { return (.full, Wake()) }
            state.queue.append(MailboxEntry(sequence: state.nextSequence, message: message))
            state.nextSequence += 1
            return (.queued, state.signal(grouped: true))
        }
        wake.continuation?.resume()
        if let group = wake.group { wakes.add(self, group: group) }
        return result
    }

    /// Removes every queued message of `watch` and queues `snapshot` in their place.
    ///
    /// Returns false when, even so, there is no room (other watches fill the queue).
    public func collapse(_ watch: WatchKey, into snapshot: OutboundMessage) -> Bool {
        let (done, wake) = state.withLock { state -> (Bool, Wake) in
            if state.closure != nil { return (true, Wake()) }
            state.queue.removeAll { $0.message.watch == watch }
            guard state.queue.count < capacity else { return (false, Wake()) }
            state.queue.append(MailboxEntry(sequence: state.nextSequence, message: snapshot))
            state.nextSequence += 1
            return (true, state.signal())
        }
        wake.fire()
        return done
    }

    /// Replaces the whole queue with `snapshots` (one per watch), for when collapsing one watch is not enough.
    public func replaceAll(with snapshots: [OutboundMessage]) {
        let wake = state.withLock { state -> Wake in
            if state.closure != nil { return Wake() }
            state.queue.removeAll()
            for snapshot in snapshots.prefix(capacity) {
                state.queue.append(MailboxEntry(sequence: state.nextSequence, message: snapshot))
                state.nextSequence += 1
            }
            return state.signal()
        }
        wake.fire()
    }

    /// Takes every queued message (the destructive short poll).
    public func drain() -> [MailboxEntry] {
        state.withLock { $0.queue.takeAll() }
    }

    /// How many messages wait.
    public var count: Int { state.withLock { $0.queue.count } }

    /// Closes the mailbox after queueing a last message (e.g. `connectionStateChangeMessage`).
    public func close(reason: String, lastMessage: OutboundMessage?) {
        let wake = state.withLock { state -> Wake in
            guard state.closure == nil else { return Wake() }
            if let lastMessage {
                state.queue.append(MailboxEntry(sequence: state.nextSequence, message: lastMessage))
                state.nextSequence += 1
            }
            state.closure = Closure(reason: reason)
            return state.signal()
        }
        wake.fire()
    }
}
