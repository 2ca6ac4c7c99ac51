import Logging
import NIOCore
import PostgresNIO

/// Wakes tasks on PostgreSQL notifications of one channel, over a connection of its own that it
/// re-opens and re-LISTENs on whenever it is lost (a database restart, a failover, a network
/// cut).
///
/// The LISTEN connection is deliberately not leased from the shared `PostgresClient`: a listener
/// holds its connection for as long as it runs, and the client's pool counts a leased connection
/// as one that will soon come back. After a restart every connection is re-made at once, and with
/// the listeners of a party and of its workers among the leases the pool stopped opening
/// connections for the queued queries while the listeners kept theirs: every query waited for a
/// connection that never came back, and the session hung (the CI hang of the first
/// retry-through-an-outage version).
///
/// A notification sent while nobody listened is lost. So once LISTEN is in place again after a
/// reconnect, every waiter is woken (`wait` returns false) to re-check the state it waits on
/// once: anything that changed during the outage is seen by that re-check, anything after it is
/// notified. In the steady state nobody polls.
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
    /// How many times LISTEN was put in place again after the connection was lost.
    private(set) var relistens = 0
    private var established = false
    /// Connection attempts failed in a row (the backoff grows with it).
    private var failures = 0

    /// Starts listening on `channel` over a connection made with `configuration`; returns once
    /// the first LISTEN is in place (or once `stop` is called).
    func start(configuration: PostgresConnection.Configuration, channel: String, logger: Logger) async {
        guard task == nil else { return }
        task = Task {
            var connectionID = 0
            while !Task.isCancelled {
                connectionID += 1
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration, id: connectionID, logger: logger)
                    defer { let _: EventLoopFuture<Void> = connection.close() }
                    try await connection.listen(on: channel) { notifications in
                        self.listenEstablished()
                        for try await notification in notifications { self.notify(notification.payload) }
                    }
                    // The sequence ended without an error: the connection is gone all the same.
                    if !Task.isCancelled {
                        logger.warning("listening on \(channel): the connection ended; reconnecting")
                    }
                } catch {
                    if Task.isCancelled { break }
                    if self.failures == 0 {
                        logger.warning("listening on \(channel) failed (\(String(reflecting: error))); reconnecting")
                    }
                }
                self.listening = false
                self.failures += 1
                // 100 ms, doubling, at most 1.6 s between attempts while the database is away.
                let backoff = Duration.milliseconds(100) * (1 << min(self.failures - 1, 4))
                try? await Task.sleep(for: backoff)
            }
            self.listening = false
            self.releaseReady()
        }
        if !listening { await withCheckedContinuation { ready.append($0) } }
    }

    func stop() {
        task?.cancel()
        task = nil
        releaseReady()
        wakeAll()
    }

    /// LISTEN is in place: `start` returns, and after a reconnect everyone re-checks once.
    private func listenEstablished() {
        listening = true
        failures = 0
        releaseReady()
        if established {
            relistens += 1
            wakeAll()
        }
        established = true
    }

    private func releaseReady() {
        for continuation in ready { continuation.resume() }
        ready = []
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

    /// Resumes every waiter with false (shutdown, LISTEN re-established): callers re-check the
    /// database.
    func wakeAll() {
        generation &+= 1
        for (_, continuation) in keyed { continuation.resume(returning: false) }
        keyed = [:]
        for (_, waiter) in anyWaiters { waiter.continuation.resume(returning: false) }
        anyWaiters = [:]
    }

    /// Waits until `key` is notified (true), or LISTEN was re-established or `timeout` passed
    /// (false: re-check). `epoch` is `relistens` as read before the caller last checked the
    /// state it waits on: if LISTEN was re-established since, a notification may have been lost
    /// in between, and the call returns false at once.
    func wait(for key: String, epoch: Int, timeout: Duration) async -> Bool {
        if unclaimed.remove(key) != nil {
            unclaimedOrder.removeAll { $0 == key }
            return true
        }
        guard epoch == relistens else { return false }
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
