/// Values by key in first-insertion order, where setting a key again replaces its value in place.
struct OrderedRows<Key: Hashable, Value> {
    private var keys: [Key] = []
    private var byKey: [Key: Value] = [:]

    var isEmpty: Bool { keys.isEmpty }

    var values: [Value] { keys.compactMap { byKey[$0] } }

    var entries: [(key: Key, value: Value)] { keys.compactMap { key in byKey[key].map { (key, $0) } } }

    subscript(key: Key) -> Value? {
        get { byKey[key] }
        set {
            if byKey[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            byKey[key] = newValue
        }
    }

    mutating func removeAll(where shouldRemove: (Key) -> Bool) {
        keys.removeAll(where: shouldRemove)
        byKey = byKey.filter { !shouldRemove($0.key) }
    }
}
