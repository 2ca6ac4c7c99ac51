import Algebra
import Foundation
import Groth16
import Logging
import NIOCore
import PostgresNIO
import SplitLearning
import Telemetry

/// A party's proofs made by prover workers through the pool's job table.
///
/// For each job the party builds the circuit and checks its witness here (as the in-process
/// prover does), writes part, verifying-key hash, public count and witness to `proof_jobs`,
/// and sleeps until the job's `<schema>_done` notification. Nothing polls: the job's row is read
/// once after it was queued, once per notification, and once more each time the LISTEN
/// connection was re-established after a loss (a notification sent while it was down is gone),
/// until `timeout`. Database errors (a restart, a failover) are retried for up to `outage`, so
/// a session outlives a database restart. A `done` job's proof is verified against the job's public inputs under the
/// party's own verifying key before it is returned: workers are not trusted for soundness. A
/// proof that does not verify is counted, and the job goes back to the queue with the witness
/// written again, kept away from the worker that made it for `retryGrace` (another worker
/// takes it if there is one), and parked once its attempts run out. An accepted job's row is
/// deleted (the worker already erased its witness when it stored the proof).
public final class PostgresProofService: ProofService, Sendable {
    public let database: PoolDatabase
    public let maxAttempts: Int
    public let timeout: Duration
    public let retryGrace: Duration
    /// How long database errors are retried before a proof fails (a restart, a failover).
    public let outage: Duration
    let notifier = Notifier()
    public let counters: PartyPoolCounters
    let metrics: PartyPoolMetrics?
    /// The party's metrics endpoint, when `connect` started one; cancelled by `stop()`.
    let endpointTask: Task<Void, any Error>?
    /// The port the metrics endpoint listens on (nil: none).
    public let metricsPort: Int?

    public var runsConcurrently: Bool { true }

    /// Starts listening for finished jobs (returns once the LISTEN is in place).
    public static func start(
        database: PoolDatabase, maxAttempts: Int = 3, timeout: Duration = .seconds(900),
        retryGrace: Duration = .seconds(2), outage: Duration = .seconds(60), metrics: PartyPoolMetrics? = nil
    ) async -> PostgresProofService {
        await start(
            database: database, maxAttempts: maxAttempts, timeout: timeout, retryGrace: retryGrace, outage: outage,
            metrics: metrics, endpoint: nil)
    }

    static func start(
        database: PoolDatabase, maxAttempts: Int = 3, timeout: Duration = .seconds(900),
        retryGrace: Duration = .seconds(2), outage: Duration = .seconds(60), metrics: PartyPoolMetrics?,
        endpoint: (task: Task<Void, any Error>, port: Int)?
    ) async -> PostgresProofService {
        let service = PostgresProofService(
            database: database, maxAttempts: maxAttempts, timeout: timeout,
            retryGrace: retryGrace, outage: outage, metrics: metrics, endpoint: endpoint)
        await service.notifier.start(
            configuration: database.listenConfiguration, channel: database.schema.doneChannel,
            logger: database.logger)
        return service
    }

    private init(
        database: PoolDatabase, maxAttempts: Int, timeout: Duration, retryGrace: Duration, outage: Duration,
        metrics: PartyPoolMetrics?, endpoint: (task: Task<Void, any Error>, port: Int)?
    ) {
        self.outage = outage
        self.database = database
        self.endpointTask = endpoint?.task
        self.metricsPort = endpoint?.port
        self.counters = PartyPoolCounters(metrics: metrics)
        self.metrics = metrics
        self.maxAttempts = max(1, maxAttempts)
        self.timeout = timeout
        self.retryGrace = retryGrace
    }

    /// Stops listening (waiting calls re-check once and time out).
    public func stop() async {
        if let task = endpointTask {
            task.cancel()
            _ = await task.result
        }
        await notifier.stop()
    }

    /// How many times the party's LISTEN was re-established after its connection was lost.
    public func relistens() async -> Int { await notifier.relistens }

    /// A batched circuit (a commitment to witness wires) is prepared by the party up to the
    /// challenge: it commits to the committed wires itself (two MSMs over them), derives the
    /// challenge and finishes the witness, and queues the witness with the opening; the worker
    /// makes the Groth16 part, and the party checks the committed proof under its own key.
    public func prove(_ job: ProofJob, keys: SplitKeys) async throws -> StepProof {
        let prepared = try await PreparedProofJob.prepare(job, keys: keys)
        let key = keys.key(job.part)
        let witness =
            prepared.opening.map { JobCodec.encodeWitness(prepared.witness, opening: $0) }
            ?? JobCodec.encodeWitness(prepared.witness)
        let enqueuedAt = ContinuousClock.now
        // One request key for every attempt: a retried insert returns the row the first made.
        let request = UUID()
        let id = try await retrying("queueing a \(job.part.rawValue) proof") {
            try await self.enqueue(
                part: job.part.rawValue, step: job.step, keyHash: key.verifyingKeyHash, witness: witness,
                publicCount: prepared.publicInputs.count, request: request)
        }
        let opening = prepared.opening
        let proof = try await result(of: id, witness: witness) { proof in
            guard let opening else {
                return StepProof.plain(proof).verifies(key: key.verifyingKey, statement: prepared.publicInputs)
            }
            let committed = CommittedProof(proof: proof, commitment: opening.commitment, knowledge: opening.knowledge)
            return StepProof.committed(committed).verifies(
                key: key.verifyingKey, statement: Array(prepared.publicInputs.dropLast()))
        }
        if let metrics {
            let waited = enqueuedAt.duration(to: .now).components
            metrics.proofWait.recordNanoseconds(waited.seconds * 1_000_000_000 + waited.attoseconds / 1_000_000_000)
        }
        guard let opening else { return .plain(proof) }
        let committed = CommittedProof(proof: proof, commitment: opening.commitment, knowledge: opening.knowledge)
        if let link = prepared.link { return .linked(committed, link: link) }
        return .committed(committed)
    }

    /// Writes a job row and returns its id (the insert notifies the workers). Idempotent per
    /// `request`: inserting the same request again (a retry after a lost reply) returns the id of
    /// the row already there and queues nothing new.
    public func enqueue(
        part: String, step: UInt64, keyHash: [UInt8], witness: Data, publicCount: Int, request: UUID = UUID()
    ) async throws(PoolError) -> Int64 {
        let table = database.schema.jobs
        let rows = try await database.rows(
            """
            INSERT INTO \(unescaped: table) (part, step, key_hash, witness, public_count, max_attempts, request)
            VALUES (\(part), \(Int64(clamping: step)), \(ByteBuffer(bytes: keyHash)), \(ByteBuffer(bytes: witness)), \(Int32(clamping: publicCount)), \(Int32(clamping: maxAttempts)), \(request))
            ON CONFLICT (request) DO UPDATE SET request = EXCLUDED.request
            RETURNING id
            """, as: Int64.self)
        guard let id = rows.first else { throw .database("the insert of a proof job returned no id") }
        await counters.add(\.enqueued)
        return id
    }

    /// Waits for job `id` to end; returns its proof once `accept` says it verifies.
    public func result(of id: Int64, witness: Data, accept: @Sendable (Proof) -> Bool) async throws -> Proof {
        let table = database.schema.jobs
        let deadline = ContinuousClock.now + timeout
        while true {
            if Task.isCancelled {
                // The session is over: the job (and its witness) goes, whatever its state.
                try? await database.execute("DELETE FROM \(unescaped: table) WHERE id = \(id)")
                throw CancellationError()
            }
            let epoch = await notifier.relistens
            let rows = try await retrying("reading proof job \(id)") {
                try await self.database.rows(
                    """
                    SELECT state, proof, coalesce(error, ''), coalesce(proved_by, '') FROM \(unescaped: table) WHERE id = \(id)
                    """, as: (String, Data?, String, String).self)
            }
            guard let (state, proofBytes, error, worker) = rows.first else {
                throw PoolError.jobFailed(id: id, state: "missing", error: "the job row disappeared")
            }
            switch state {
            case "done":
                let proof = try? JobCodec.decodeProof(proofBytes ?? Data())
                if let proof, accept(proof) {
                    try await retrying("deleting proof job \(id)") {
                        try await self.database.execute("DELETE FROM \(unescaped: table) WHERE id = \(id)")
                    }
                    await counters.add(\.accepted)
                    return proof
                }
                await counters.add(\.rejected)
                database.logger.warning(
                    "proof job \(id): the proof from worker \(worker) does not verify; retrying elsewhere")
                try await retrying("requeueing proof job \(id)") {
                    try await self.reject(id, witness: witness, worker: worker)
                }
                continue
            case "failed", "parked":
                await counters.add(\.failed)
                throw PoolError.jobFailed(id: id, state: state, error: error)
            default:
                break
            }
            let now = ContinuousClock.now
            guard now < deadline else {
                try? await database.execute(
                    """
                    UPDATE \(unescaped: table) SET state = 'failed', witness = NULL, error = 'the party stopped waiting', finished_at = now()
                    WHERE id = \(id) AND state IN ('queued', 'running')
                    """)
                throw PoolError.timedOut(id: id, seconds: Double(timeout.components.seconds))
            }
            _ = await notifier.wait(for: String(id), epoch: epoch, timeout: deadline - now)
        }
    }

    /// Runs a database operation, retrying for up to `outage` (every half second) when the
    /// database cannot be reached or restarts, so a session outlives a database restart. Every
    /// operation retried this way is idempotent: reads, the delete of an accepted job, the
    /// requeue of a rejected one (it matches only a `done` row), and the insert (keyed by its
    /// request).
    func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        try await database.retrying(what, outage: outage, body)
    }

    /// Puts a job whose proof did not verify back in the queue (or parks it when its attempts
    /// are used up), with its witness written again and away from `worker` for `retryGrace`.
    func reject(_ id: Int64, witness: Data, worker: String) async throws(PoolError) {
        let table = database.schema.jobs
        let grace = Double(retryGrace.components.seconds) + Double(retryGrace.components.attoseconds) / 1e18
        let message = "the proof from worker \(worker) does not verify against the job's public inputs"
        try await database.execute(
            """
            UPDATE \(unescaped: table) SET
                rejections = rejections + 1,
                state = CASE WHEN attempts >= max_attempts THEN 'parked' ELSE 'queued' END,
                witness = CASE WHEN attempts >= max_attempts THEN NULL ELSE \(ByteBuffer(bytes: witness)) END,
                finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                proof = NULL, error = \(message), excluded_worker = proved_by,
                available_at = now() + make_interval(secs => \(grace))
            WHERE id = \(id) AND state = 'done'
            """)
    }
}

/// What a party's pool service did (tests and metrics read it).
public actor PartyPoolCounters {
    public struct Values: Sendable, Equatable {
        public var enqueued = 0
        public var accepted = 0
        /// Proofs from workers that did not verify (each sent the job back).
        public var rejected = 0
        public var failed = 0
    }

    public private(set) var values = Values()
    let metrics: PartyPoolMetrics?

    init(metrics: PartyPoolMetrics?) { self.metrics = metrics }

    func add(_ counter: WritableKeyPath<Values, Int>) {
        values[keyPath: counter] += 1
        metrics?.record(counter)
    }
}

extension PostgresProofService {
    /// A party's pool from its `--db` URL: connects, migrates the schema, starts listening.
    public static func connect(
        url: String, logger: Logger, metrics: PartyPoolMetrics? = nil
    ) async throws(PoolError) -> PostgresProofService {
        let database = try await PoolDatabase.open(try PoolLocation(url: url), logger: logger)
        return await start(database: database, metrics: metrics)
    }

    /// A party's pool from its `--db` URL with a Prometheus endpoint at `metricsAddress`
    /// (`--metrics-port`) serving the party's series (`PartyPoolMetrics`) and the queue gauges
    /// until `stop()`. Throws if the endpoint cannot listen, before any job is written.
    public static func connect(
        url: String, logger: Logger, metricsAddress: WorkerProcess.MetricsAddress
    ) async throws -> PostgresProofService {
        try PoolMetricsEndpoint.check(metricsAddress)
        let database = try await PoolDatabase.open(try PoolLocation(url: url), logger: logger)
        let pool = PoolMetricsEndpoint(database: database, address: metricsAddress, logger: logger)
        let endpoint = pool.endpoint
        let task = Task { try await endpoint.run() }
        guard let port = await endpoint.port() else {
            let failure = await task.result
            database.close()
            if case .failure(let error) = failure { throw error }
            throw MetricsEndpointError.cannotBind(
                host: metricsAddress.host, port: metricsAddress.port, reason: "the endpoint stopped")
        }
        return await start(
            database: database, metrics: PartyPoolMetrics(factory: pool.factory), endpoint: (task, port))
    }
}
