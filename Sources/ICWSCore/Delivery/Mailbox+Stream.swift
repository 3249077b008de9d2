import Foundation

/// What an event stream should do next.
public enum StreamEvent: Sendable {
    /// Write these messages.
    case messages([MailboxEntry])
    /// Nothing new: write a keep-alive comment.
    case ping
    /// Stop: the session ended, a newer stream took over, or the client went away.
    case end
}

extension Mailbox {
    /// Makes a new stream the one that receives messages; an older stream of the session ends.
    public func attachStream() -> UInt64 {
        let (token, wake) = state.withLock { state -> (UInt64, Wake) in
            state.streamOwner += 1
            state.pingRequested = false
            state.silentTicks = 0
            // The older stream, task or sink, is told so it sees that it lost the mailbox and ends.
            let wake = state.signal()
            if state.sink != nil {
                state.sink = nil
                state.sinkWoken = false
                setSinkAddresses(nil)
            }
            return (state.streamOwner, wake)
        }
        wake.fire()
        return token
    }

    /// Makes `sink` the way stream `token` is told about work (instead of `nextStreamEvent`); false when a
    /// newer stream took the mailbox meanwhile. The sink is woken at once if something waits.
    public func install(_ sink: any StreamSink, for token: UInt64) -> Bool {
        let group = sink.wakeGroup
        let (installed, wakeNow) = state.withLock { state -> (Bool, Bool) in
            guard state.streamOwner == token else { return (false, false) }
            state.sink = (token, sink, group)
            state.sinkWoken = true
            setSinkAddresses(sink)
            return (true, true)
        }
        if wakeNow { sink.wake() }
        return installed
    }

    /// What `take(for:encoding:)` found for a stream's sink.
    public enum Taken: Sendable, Equatable {
        /// This many messages went to `encode`. With `more` false nothing else waits, and the sink is woken
        /// again when something arrives; with `more` true, take again.
        case messages(Int, more: Bool)
        /// Nothing new: write a keep-alive comment, then take again.
        case ping
        /// Stop: the session ended, a newer stream took over, or the client went away.
        case end
        /// Nothing waits; the sink is woken again when something arrives.
        case nothing
    }

    /// For the sink of stream `token`: hands every waiting message to `encode`, in order, and keeps them for
    /// replay. `encode` runs under the mailbox's lock (the core may be pushing meanwhile): it should only copy
    /// bytes. One lock per delivery in the usual case, and no array handed out (a single message waits inline).
    public func take(for token: UInt64, encoding encode: (borrowing MailboxEntry) -> Void) -> Taken {
        state.withLock { state in
            if state.streamOwner != token { return .end }
            if !state.queue.isEmpty {
                let count = state.queue.moveAll(into: &state.replay, visiting: encode)
                let next = state.replay.nextWriteAddresses
                replayHeaderAddress.store(next.header, ordering: .relaxed)
                replaySlotAddress.store(next.slot, ordering: .relaxed)
                state.wroteSinceTick = true
                let more = state.closure != nil || state.pingRequested
                if !more, state.sink?.owner == token { state.sinkWoken = false }
                return .messages(count, more: more)
            }
            if state.closure != nil { return .end }
            if state.pingRequested {
                state.pingRequested = false
                return .ping
            }
            if state.sink?.owner == token { state.sinkWoken = false }
            return .nothing
        }
    }

    /// Ends the stream `token` (its client went away); queued messages stay for the next reader.
    public func detachStream(_ token: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.streamOwner == token { state.streamOwner += 1 }
            if state.sink?.owner == token {
                state.sink = nil
                state.sinkWoken = false
                setSinkAddresses(nil)
            }
            guard state.waiter?.owner == token else { return nil }
            let waiter = state.waiter?.continuation
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// One keep-alive tick (the server's upkeep calls it once a second): a stream that wrote nothing for
    /// `silentTicks` ticks in a row is asked for a `:ping`; a sink to wake is appended to `wakes` (woken
    /// together by the caller, one job per event loop). A stream that writes messages more often than that
    /// never gets one, and idle streams get theirs spread by their own last write, not all in the same tick.
    /// Returns false, having done nothing, when the mailbox is closed.
    @discardableResult
    public func keepAliveTick(pingAfter silentTicks: Int, wakes: inout StreamWakes) -> Bool {
        let (open, wake) = state.withLock { state -> (Bool, Wake?) in
            if state.closure != nil { return (false, nil) }
            if state.wroteSinceTick {
                state.wroteSinceTick = false
                state.silentTicks = 0
                return (true, nil)
            }
            state.silentTicks += 1
            guard state.silentTicks >= silentTicks else { return (true, nil) }
            state.silentTicks = 0
            state.pingRequested = true
            return (true, state.signal(grouped: true))
        }
        wake?.continuation?.resume()
        if let group = wake?.group { wakes.add(self, group: group) }
        return open
    }

    /// The sink installed for the current stream, if any: what a `StreamWakeGroup` wakes.
    public var installedSink: (any StreamSink)? {
        state.withLock { $0.sink?.sink }
    }

    /// What stream `token` should do now, if anything (under the lock).
    private static func nextEvent(_ state: inout State, token: UInt64, replayCapacity: Int) -> StreamEvent? {
        if state.streamOwner != token { return .end }
        if !state.queue.isEmpty {
            // The stream writes `entries`; the ring takes the queue's own copy of them.
            var entries: [MailboxEntry] = []
            _ = state.queue.moveAll(into: &state.replay) { entries.append(copy $0) }
            state.wroteSinceTick = true
            return .messages(entries)
        }
        if state.closure != nil { return .end }
        if state.pingRequested {
            state.pingRequested = false
            return .ping
        }
        return nil
    }

    /// Waits for the next thing stream `token` should do. Messages returned are kept for replay.
    public func nextStreamEvent(_ token: UInt64) async -> StreamEvent {
        while true {
            let event = state.withLock { state in Self.nextEvent(&state, token: token, replayCapacity: replayCapacity) }
            if let event { return event }
            if Task.isCancelled { return .end }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if Task.isCancelled || state.streamOwner != token || !state.queue.isEmpty
                            || state.closure != nil || state.pingRequested
                        {
                            return true
                        }
                        state.waiter = (token, continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard state.waiter?.owner == token else { return nil }
                    let waiter = state.waiter?.continuation
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume()
            }
        }
    }

    /// The messages after `lastEventId` that were already sent to a stream, or nil when some of them
    /// fell out of the replay buffer (the client then needs fresh snapshots).
    public func replay(after lastEventId: UInt64) -> [MailboxEntry]? {
        state.withLock { state in
            guard lastEventId >= state.replay.evictedThrough, lastEventId < state.nextSequence else { return nil }
            return state.replay.entries(after: lastEventId)
        }
    }
}
