import CoreMetrics

/// The series a prover worker reports through swift-metrics (issue 20's operations list): jobs
/// claimed, proofs stored ("proofs per second" is their rate), jobs failed for good, leases lost
/// and expired leases reclaimed, and the latency of each proof from claim to stored proof.
///
/// Handles are made from an explicit factory, so a process can expose them (`MetricsEndpoint`
/// with a Prometheus registry) without bootstrapping the global `MetricsSystem`, and tests can
/// read them from a registry of their own. No label carries a job, a step or a witness: series
/// stay few, and nothing secret reaches the exposition.
public struct WorkerMetrics: Sendable {
    let claimed: Counter
    let proved: Counter
    let failed: Counter
    let retried: Counter
    let leasesLost: Counter
    let leasesReclaimed: Counter
    let corrupted: Counter
    let proofLatency: CoreMetrics.Timer

    public init(factory: any MetricsFactory) {
        func counter(_ name: String) -> Counter { Counter(label: name, dimensions: [], factory: factory) }
        claimed = counter("verisplit_prover_jobs_claimed_total")
        proved = counter("verisplit_prover_proofs_total")
        failed = counter("verisplit_prover_jobs_failed_total")
        retried = counter("verisplit_prover_jobs_retried_total")
        leasesLost = counter("verisplit_prover_leases_lost_total")
        leasesReclaimed = counter("verisplit_prover_leases_expired_total")
        corrupted = counter("verisplit_prover_proofs_corrupted_total")
        proofLatency = CoreMetrics.Timer(
            label: "verisplit_prover_proof_seconds", dimensions: [], preferredDisplayUnit: .seconds,
            factory: factory)
    }

    func record(_ counter: WritableKeyPath<WorkerCounters.Values, Int>, _ n: Int) {
        switch counter {
        case \WorkerCounters.Values.claimed: claimed.increment(by: n)
        case \WorkerCounters.Values.proved: proved.increment(by: n)
        case \WorkerCounters.Values.failed: failed.increment(by: n)
        case \WorkerCounters.Values.retried: retried.increment(by: n)
        case \WorkerCounters.Values.leasesLost: leasesLost.increment(by: n)
        case \WorkerCounters.Values.leasesReclaimed: leasesReclaimed.increment(by: n)
        case \WorkerCounters.Values.corrupted: corrupted.increment(by: n)
        default: break
        }
    }
}

/// The series a party's pool service reports: proof jobs enqueued, worker proofs accepted and
/// rejected (a proof that did not verify sends its job back to the queue), jobs that failed for
/// good, and the time from enqueueing a job to accepting its verified proof.
public struct PartyPoolMetrics: Sendable {
    let enqueued: Counter
    let accepted: Counter
    let rejected: Counter
    let failed: Counter
    let proofWait: CoreMetrics.Timer

    public init(factory: any MetricsFactory) {
        func counter(_ name: String) -> Counter { Counter(label: name, dimensions: [], factory: factory) }
        enqueued = counter("verisplit_party_proof_jobs_enqueued_total")
        accepted = counter("verisplit_party_proofs_accepted_total")
        rejected = counter("verisplit_party_proofs_rejected_total")
        failed = counter("verisplit_party_proof_jobs_failed_total")
        proofWait = CoreMetrics.Timer(
            label: "verisplit_party_proof_wait_seconds", dimensions: [], preferredDisplayUnit: .seconds,
            factory: factory)
    }

    func record(_ counter: WritableKeyPath<PartyPoolCounters.Values, Int>) {
        switch counter {
        case \PartyPoolCounters.Values.enqueued: enqueued.increment()
        case \PartyPoolCounters.Values.accepted: accepted.increment()
        case \PartyPoolCounters.Values.rejected: rejected.increment()
        case \PartyPoolCounters.Values.failed: failed.increment()
        default: break
        }
    }
}

/// The queue as the database sees it, for every party and worker on one schema: jobs per state
/// and the oldest queued job's age. Read at scrape time (one aggregate query per scrape), so
/// the gauges are exact when read and no loop polls the database between scrapes.
public struct QueueGauges: Sendable {
    let queued: Gauge
    let running: Gauge
    let parked: Gauge
    let failed: Gauge
    let oldestQueuedSeconds: Gauge

    public init(factory: any MetricsFactory) {
        func jobs(_ state: String) -> Gauge {
            Gauge(label: "verisplit_pool_jobs", dimensions: [("state", state)], factory: factory)
        }
        queued = jobs("queued")
        running = jobs("running")
        parked = jobs("parked")
        failed = jobs("failed")
        oldestQueuedSeconds = Gauge(label: "verisplit_pool_oldest_queued_seconds", dimensions: [], factory: factory)
    }

    /// One aggregate query over the jobs table; the gauges take its values.
    public func refresh(from database: PoolDatabase) async throws(PoolError) {
        let table = database.schema.jobs
        let rows = try await database.rows(
            """
            SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'running'),
                count(*) FILTER (WHERE state = 'parked'), count(*) FILTER (WHERE state = 'failed'),
                coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'queued')), 0)::float8
            FROM \(unescaped: table)
            """, as: (Int64, Int64, Int64, Int64, Double).self)
        guard let (q, r, p, f, age) = rows.first else { return }
        queued.record(q)
        running.record(r)
        parked.record(p)
        failed.record(f)
        oldestQueuedSeconds.record(age)
    }
}
