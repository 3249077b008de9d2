import CICWSPrefetch

/// The CPU's prefetch hint for fan-out loops (`CICWSPrefetch`).
///
/// A fan-out touches a few objects per stream (its session's watches, its mailbox, the stream's pump and its
/// connection) that the other streams' work, and whatever else ran, pushed out of the caches since its last message.
/// Each first touch then waits for memory, and one waits after the other, because every mailbox's lock is an
/// atomic instruction that lets no later load start early. Naming the objects of the streams a few steps ahead
/// lets those misses run meanwhile. A prefetch never faults, changes nothing, and costs a few cycles when the
/// line is already there.
public enum Prefetch {
    /// How many streams ahead a loop names the first object it will touch (the next is named at half of it,
    /// once the first has arrived and can be read).
    @inlinable public static var distance: Int { 8 }

    /// Prefetches `bytes` bytes from `address`: an object's, kept as an address so that naming it needs no
    /// reference counting, which would touch the object and wait for it.
    @inlinable @inline(__always)
    public static func address(_ address: UnsafeRawPointer, bytes: Int) {
        icws_prefetch(address, bytes)
    }

    /// `object`'s address, to keep for `address(_:bytes:)` (taken without retaining the object).
    @inlinable
    public static func address(of object: AnyObject) -> UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
    }

    /// Prefetches the object at `index` of `objects`, if there is one.
    @inlinable @inline(__always)
    public static func element<T: AnyObject>(_ index: Int, of objects: UnsafeBufferPointer<T>, bytes: Int) {
        guard index < objects.count, let base = objects.baseAddress else { return }
        // The reference's bits, read as an address: touching the element as an object could retain it.
        icws_prefetch(UnsafeRawPointer(base + index).load(as: UnsafeRawPointer.self), bytes)
    }
}
