import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Spreads connections over the event loops by how many each holds, so that each loop writes its share of
/// a fan-out.
///
/// NIO gives an accepted connection to its group's next loop in turn (`MultiThreadedEventLoopGroup.next()`,
/// round robin). Whatever else asks the group for a loop in between (under `serve`, every task resumed from a
/// thread that is not a loop does) moves that turn. And with two loops, a client that opens an even number of
/// connections per event stream (say a short request, then the stream) would land every stream on the same loop.
/// After each accept, the balancer turns the group's round robin (at most once per loop) so that the next
/// accepted connection goes to the loop holding the fewest open connections: in a steady state, most open
/// connections are event streams.
final class LoopBalancer: Sendable {
    private final class Load: Sendable {
        let open = Atomic<Int>(0)
        let gauge: Gauge

        init(position: Int) {
            gauge = Gauge(label: "openicws_event_loop_connections", dimensions: [("loop", "\(position)")])
        }
    }

    private let group: MultiThreadedEventLoopGroup
    /// The group's loops, in the order its round robin visits them.
    private let loops: [any EventLoop]
    private let positions: [ObjectIdentifier: Int]
    private let loads: [Load]

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        self.loops = loops
        self.positions = Dictionary(uniqueKeysWithValues: loops.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        self.loads = loops.indices.map { Load(position: $0) }
    }

    /// A connection opened on `loop` (one of the group's; other loops are not counted).
    func opened(on loop: any EventLoop) {
        guard let position = positions[ObjectIdentifier(loop)] else { return }
        let load = loads[position]
        load.gauge.record(load.open.add(1, ordering: .relaxed).newValue)
    }

    /// A connection counted by `opened(on:)` closed.
    func closed(on loop: any EventLoop) {
        guard let position = positions[ObjectIdentifier(loop)] else { return }
        let load = loads[position]
        load.gauge.record(load.open.subtract(1, ordering: .relaxed).newValue)
    }

    /// Turns the group's round robin so that its next loop is the one with the fewest open connections.
    func steerNextAccept() {
        guard loops.count > 1 else { return }
        var target = 0
        var least = Int.max
        for (position, load) in loads.enumerated() {
            let open = load.open.load(ordering: .relaxed)
            if open < least {
                least = open
                target = position
            }
        }
        // `next()` answers the loop at its turn and moves the turn on: stop once it answered the loop before
        // the target.
        let before = loops[(target + loops.count - 1) % loops.count]
        for _ in loops.indices {
            if group.next() === before { return }
        }
    }
}

/// Hummingbird's cap on open connections (`MaximumAvailableConnections`, which it checks before each
/// accept), also steering the next accept to the least loaded loop (`LoopBalancer`).
struct BalancedAvailableConnections: AvailableConnectionsDelegate {
    var limit: MaximumAvailableConnections
    let balancer: LoopBalancer

    mutating func connectionOpened() {
        limit.connectionOpened()
        balancer.steerNextAccept()
    }

    mutating func connectionClosed() {
        limit.connectionClosed()
    }

    func isAcceptingNewConnections() -> Bool {
        limit.isAcceptingNewConnections()
    }
}
