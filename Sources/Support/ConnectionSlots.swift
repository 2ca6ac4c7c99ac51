/// A counting semaphore for connection slots: servers take one per accepted connection, so at
/// most `limit` are served at once and later ones wait (in the accept queue, since the accept
/// loop waits here). Used by the split server and the metrics endpoint.
public actor ConnectionSlots {
    public let limit: Int
    var used = 0
    var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { self.limit = max(limit, 1) }

    public func acquire() async {
        if used < limit {
            used += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    public func release() {
        if waiting.isEmpty { used -= 1 } else { waiting.removeFirst().resume() }
    }
}
