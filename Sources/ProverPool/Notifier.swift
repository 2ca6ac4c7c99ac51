import Logging
import PostgresNIO

/// Wakes tasks on PostgreSQL notifications of one channel, over a connection held from the
/// pool for as long as the notifier runs (reconnecting after a failure).
///
/// Waiting for a key (a job id) cannot miss a notification that arrived before the wait began:
/// payloads that found no waiter are kept (the last `memory` of them). Waiting for any
/// notification compares a generation counter read before the caller looked for work.
actor Notifier {
    private var keyed: [String: CheckedContinuation<Bool, Never>] = [:]
    private var unclaimed: Set<String> = []
    private var unclaimedOrder: [String] = []
    private let memory = 4096
    private var anyWaiters: [Int: (after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = [:]
    private var nextWaiter = 0
    private(set) var generation: UInt64 = 0
    private var ready: [CheckedContinuation<Void, Never>] = []
    private var listening = false
    private var task: Task<Void, Never>?

    /// Starts listening on `channel`; returns once the first LISTEN is in place.
    func start(client: PostgresClient, channel: String, logger: Logger) async {
        guard task == nil else { return }
        task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: channel) { notifications in
                            self.setListening(true)
                            for try await notification in notifications { self.notify(notification.payload) }
                        }
                    }
                } catch {
                    // The client was closed on purpose (the process is finishing): stop quietly.
                    if Task.isCancelled || (error as? PSQLError)?.code == .clientClosedConnection { break }
                    logger.warning("listening on \(channel) failed (\(String(reflecting: error))); reconnecting")
                }
                self.setListening(false)
                // Wake everyone: what they wait for may have happened while nobody listened.
                self.wakeAll()
                try? await Task.sleep(for: .milliseconds(200))
            }
            self.setListening(true)
        }
        if !listening { await withCheckedContinuation { ready.append($0) } }
    }

    func stop() {
        task?.cancel()
        task = nil
        wakeAll()
    }

    private func setListening(_ value: Bool) {
        listening = value
        if value {
            for continuation in ready { continuation.resume() }
            ready = []
        }
    }

    private func notify(_ payload: String) {
        generation &+= 1
        if let continuation = keyed.removeValue(forKey: payload) {
            continuation.resume(returning: true)
        } else if !unclaimed.contains(payload) {
            unclaimed.insert(payload)
            unclaimedOrder.append(payload)
            if unclaimedOrder.count > memory { unclaimed.remove(unclaimedOrder.removeFirst()) }
        }
        let due = anyWaiters.filter { $0.value.after < generation }
        for (id, waiter) in due {
            anyWaiters[id] = nil
            waiter.continuation.resume(returning: true)
        }
    }

    /// Resumes every waiter (shutdown, reconnect): callers re-check the database.
    func wakeAll() {
        generation &+= 1
        for (_, continuation) in keyed { continuation.resume(returning: false) }
        keyed = [:]
        for (_, waiter) in anyWaiters { waiter.continuation.resume(returning: false) }
        anyWaiters = [:]
    }

    /// Waits until `key` is notified (true) or `timeout` passes (false).
    func wait(for key: String, timeout: Duration) async -> Bool {
        if unclaimed.remove(key) != nil {
            unclaimedOrder.removeAll { $0 == key }
            return true
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(key)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            if let old = keyed.updateValue(continuation, forKey: key) { old.resume(returning: false) }
        }
    }

    private func expire(_ key: String) {
        keyed.removeValue(forKey: key)?.resume(returning: false)
    }

    /// Waits until a notification newer than `generation` arrives (true) or `timeout` passes.
    func waitForAny(after seen: UInt64, timeout: Duration) async -> Bool {
        if generation > seen { return true }
        let id = nextWaiter
        nextWaiter += 1
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expireAny(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            anyWaiters[id] = (seen, continuation)
        }
    }

    private func expireAny(_ id: Int) {
        anyWaiters.removeValue(forKey: id)?.continuation.resume(returning: false)
    }
}
