import Algebra
import Circuit
import Dispatch
import Foundation
import Groth16
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import SplitLearning
import ZKML

/// The proving keys a worker serves, by verifying-key hash (what a job names).
public struct WorkerKeys: Sendable {
    public struct Entry: Sendable {
        public let provingKey: ProvingKey
        public let r1cs: R1CS<Fr>
        public let hash: [UInt8]
    }

    public let entries: [String: Entry]

    public init(_ keys: [PartKey]) {
        var entries: [String: Entry] = [:]
        for key in keys {
            entries[SHA256.hex(key.verifyingKeyHash)] = Entry(
                provingKey: key.provingKey, r1cs: key.r1cs, hash: key.verifyingKeyHash)
        }
        self.entries = entries
    }

    public init(_ keys: SplitKeys) { self.init(CircuitSpec.Part.allCases.map { keys.key($0) }) }

    /// Every `proving.key` in `directory` and its immediate subdirectories (the layout
    /// `verisplit split keys` writes: one folder per part). A worker needs no spec: a job names
    /// its key by hash.
    public static func load(from directory: URL) throws(PoolError) -> WorkerKeys {
        let manager = FileManager.default
        var files: [URL] = []
        let direct = directory.appendingPathComponent("proving.key")
        if manager.fileExists(atPath: direct.path) { files.append(direct) }
        let children = (try? manager.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        for child in children.sorted(by: { $0.path < $1.path }) {
            let file = child.appendingPathComponent("proving.key")
            if manager.fileExists(atPath: file.path) { files.append(file) }
        }
        guard !files.isEmpty else {
            throw .keys(
                path: directory.path,
                reason:
                    "no proving.key here or in its subfolders; run `verisplit split keys` or `verisplit ceremony export-keys`"
            )
        }
        var keys: [PartKey] = []
        for file in files {
            let bytes: [UInt8]
            do { bytes = [UInt8](try Data(contentsOf: file)) } catch {
                throw .keys(path: file.path, reason: "cannot read (\(error.localizedDescription))")
            }
            do {
                let (key, r1cs) = try KeyFile.decode(bytes, file: file.path)
                keys.append(PartKey(part: .client, provingKey: key, r1cs: r1cs))
            } catch {
                throw .keys(path: file.path, reason: "\(error)")
            }
        }
        return WorkerKeys(keys)
    }
}

/// Faults a worker can be told to play, for the tests that show the pool survives them.
public struct WorkerFaults: Sendable {
    /// Store a wrong (but well-formed) proof for this many jobs: the party must refuse it.
    public var corruptProofs = 0
    /// Claim one job and then stop dead: no lease renewal, no result (a killed process).
    public var dieAfterClaim = false

    public init() {}
}

/// What a worker did.
public actor WorkerCounters {
    public struct Values: Sendable, Equatable {
        public var claimed = 0
        public var proved = 0
        /// Jobs failed for good (unknown key, malformed row, unsatisfied witness).
        public var failed = 0
        /// Jobs returned to the queue or parked after a transient error.
        public var retried = 0
        public var leasesLost = 0
        public var leasesReclaimed = 0
        public var corrupted = 0
    }

    public private(set) var values = Values()
    let metrics: WorkerMetrics?

    init(metrics: WorkerMetrics?) { self.metrics = metrics }

    func add(_ counter: WritableKeyPath<Values, Int>, _ n: Int = 1) {
        values[keyPath: counter] += n
        metrics?.record(counter, n)
    }
}

/// A prover worker: `concurrency` loops, each claiming the oldest queued job with
/// `FOR UPDATE SKIP LOCKED` (two workers never get the same job), proving it while renewing its
/// lease every third of the lease time, and storing the proof (erasing the witness) only if it
/// still holds the lease. Idle loops sleep until a `<schema>_jobs` notification or
/// `sweepInterval`, when any worker also requeues jobs whose lease expired (parking those whose
/// attempts ran out). A job with an unknown key, a malformed witness or an unsatisfied witness
/// fails for good with its reason; the worker keeps going. On graceful shutdown (SIGTERM) the
/// loops stop claiming, and a job being proved is finished and stored.
public final class ProverWorker: Service, Sendable {
    public let database: PoolDatabase
    public let keys: WorkerKeys
    public let concurrency: Int
    public let lease: Duration
    public let sweepInterval: Duration
    public let name: String
    public let counters: WorkerCounters
    let metrics: WorkerMetrics?
    let faults: FaultState
    let notifier = Notifier()
    let stopping = StopFlag()

    public init(
        database: PoolDatabase, keys: WorkerKeys, concurrency: Int = 1, lease: Duration = .seconds(30),
        sweepInterval: Duration = .seconds(2), name: String? = nil, faults: WorkerFaults = WorkerFaults(),
        metrics: WorkerMetrics? = nil
    ) {
        self.counters = WorkerCounters(metrics: metrics)
        self.metrics = metrics
        self.database = database
        self.keys = keys
        self.concurrency = max(1, concurrency)
        self.lease = lease
        self.sweepInterval = sweepInterval
        let host = ProcessInfo.processInfo.hostName
        let random = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        self.name = name ?? "\(host)/\(ProcessInfo.processInfo.processIdentifier)/\(random)"
        self.faults = FaultState(faults)
    }

    /// Runs until cancelled or a graceful shutdown.
    public func run() async throws {
        await notifier.start(
            configuration: database.listenConfiguration, channel: database.schema.jobsChannel,
            logger: database.logger)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for slot in 0..<concurrency {
                    group.addTask { await self.loop(slot: slot) }
                }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
        await notifier.stop()
    }

    /// How many times the worker's LISTEN was re-established after its connection was lost.
    public func relistens() async -> Int { await notifier.relistens }

    /// Stop claiming; jobs in progress finish.
    public func shutdown() async {
        await stopping.set()
        await notifier.wakeAll()
    }

    private var leaseSeconds: Double { Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18 }

    func loop(slot: Int) async {
        let owner = concurrency == 1 ? name : "\(name)#\(slot)"
        while !Task.isCancelled, !(await stopping.isSet) {
            let seen = await notifier.generation
            do {
                try await sweep()
                if let job = try await claim(owner: owner) {
                    await counters.add(\.claimed)
                    if await faults.takeDeath() {
                        database.logger.warning("worker \(owner): playing dead after claiming job \(job.id)")
                        return
                    }
                    await process(job, owner: owner)
                    continue
                }
            } catch {
                database.logger.warning("worker \(owner): \(error)")
            }
            _ = await notifier.waitForAny(after: seen, timeout: sweepInterval)
        }
    }

    struct ClaimedJob: Sendable {
        let id: Int64
        let part: String
        let step: Int64
        let keyHash: Data
        let witness: Data?
        let publicCount: Int32
        let attempts: Int32
    }

    /// Requeues (or parks) jobs whose lease expired; returns how many.
    @discardableResult
    public func sweep() async throws(PoolError) -> Int {
        let table = database.schema.jobs
        let rows = try await database.rows(
            """
            UPDATE \(unescaped: table) SET
                state = CASE WHEN attempts >= max_attempts THEN 'parked' ELSE 'queued' END,
                leases_expired = leases_expired + 1,
                error = 'the lease of worker ' || lease_owner || ' expired (attempt ' || attempts || ' of ' || max_attempts || ')',
                witness = CASE WHEN attempts >= max_attempts THEN NULL ELSE witness END,
                finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                lease_owner = NULL, lease_expires = NULL
            WHERE state = 'running' AND lease_expires < now()
            RETURNING id
            """, as: Int64.self)
        if !rows.isEmpty {
            await counters.add(\.leasesReclaimed, rows.count)
            database.logger.warning("requeued \(rows.count) job(s) whose worker's lease expired: \(rows)")
        }
        return rows.count
    }

    func claim(owner: String) async throws(PoolError) -> ClaimedJob? {
        let table = database.schema.jobs
        let rows = try await database.rows(
            """
            UPDATE \(unescaped: table) SET state = 'running', attempts = attempts + 1, lease_owner = \(owner),
                lease_expires = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = (
                SELECT id FROM \(unescaped: table)
                WHERE state = 'queued' AND (excluded_worker IS DISTINCT FROM \(owner) OR available_at <= now())
                ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, part, step, key_hash, witness, public_count, attempts
            """, as: (Int64, String, Int64, Data, Data?, Int32, Int32).self)
        return rows.first.map {
            ClaimedJob(
                id: $0.0, part: $0.1, step: $0.2, keyHash: $0.3, witness: $0.4, publicCount: $0.5, attempts: $0.6)
        }
    }

    /// Validates, proves and stores one claimed job.
    func process(_ job: ClaimedJob, owner: String) async {
        let claimedAt = ContinuousClock.now
        let entry: WorkerKeys.Entry
        let witness: [Fr]
        let opening: CommitmentOpening?
        do throws(JobDefect) {
            guard let found = keys.entries[SHA256.hex([UInt8](job.keyHash))] else {
                throw .unknownKey(hash: SHA256.hex([UInt8](job.keyHash)), known: keys.entries.keys.sorted())
            }
            entry = found
            guard let bytes = job.witness else { throw .missingWitness }
            guard Int(job.publicCount) == entry.r1cs.numPublic else {
                throw .keyMismatch(
                    "the job has \(job.publicCount) public values, the key's circuit \(entry.r1cs.numPublic)")
            }
            if entry.provingKey.commitment != nil {
                let decoded = try JobCodec.decodeCommittedWitness(
                    bytes, wires: entry.r1cs.numWires, publicCount: Int(job.publicCount))
                witness = decoded.witness
                opening = decoded.opening
            } else {
                witness = try JobCodec.decodeWitness(
                    bytes, wires: entry.r1cs.numWires, publicCount: Int(job.publicCount))
                opening = nil
            }
        } catch {
            await fail(job, owner: owner, reason: "\(error)")
            return
        }
        let renewal = Task { await self.renew(job.id, owner: owner) }
        defer { renewal.cancel() }
        let result: Result<Proof, Groth16Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(Groth16Error) {
                    // A committed circuit: the party made D, K and nu; the worker proves the rest
                    // (the Groth16 part, whose C carries -nu [eta/delta]_1) and checks it.
                    let proof: Proof
                    if let opening {
                        proof =
                            try Groth16.proveCommitted(
                                key: entry.provingKey, r1cs: entry.r1cs, witness: witness, opening: opening
                            ).proof
                    } else {
                        proof = try Groth16.prove(key: entry.provingKey, r1cs: entry.r1cs, witness: witness)
                    }
                    continuation.resume(returning: .success(proof))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        renewal.cancel()
        switch result {
        case .failure(let error):
            await fail(job, owner: owner, reason: "proving failed: \(error)")
        case .success(var proof):
            if await faults.takeCorruption() {
                proof.c = G1Affine.generator
                await counters.add(\.corrupted)
            }
            if await complete(job, owner: owner, proof: proof) {
                let elapsed = claimedAt.duration(to: .now).components
                metrics?.proofLatency.recordNanoseconds(
                    elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
            }
        }
    }

    /// Extends the lease every third of its length until cancelled.
    func renew(_ id: Int64, owner: String) async {
        let table = database.schema.jobs
        let period = lease / 3
        while true {
            do { try await Task.sleep(for: period) } catch { return }
            let rows = try? await database.rows(
                """
                UPDATE \(unescaped: table) SET lease_expires = now() + make_interval(secs => \(leaseSeconds))
                WHERE id = \(id) AND lease_owner = \(owner) AND state = 'running' RETURNING id
                """, as: Int64.self)
            if rows?.isEmpty == true {
                await counters.add(\.leasesLost)
                database.logger.warning("worker \(owner): lost the lease of job \(id); its proof will be dropped")
                return
            }
        }
    }

    /// Stores the proof; true if it was stored (the worker still held the lease).
    @discardableResult
    func complete(_ job: ClaimedJob, owner: String, proof: Proof) async -> Bool {
        do {
            if try await Self.storeProof(
                database, id: job.id, owner: owner, proof: ByteBuffer(bytes: proof.ethereumBytes))
            {
                await counters.add(\.proved)
                return true
            } else {
                await counters.add(\.leasesLost)
                database.logger.warning("worker \(owner): job \(job.id) was taken back before its proof was stored")
            }
        } catch {
            database.logger.warning("worker \(owner): storing the proof of job \(job.id) failed: \(error)")
        }
        return false
    }

    /// Stores a proof and erases the witness if `owner` still holds the job's lease (false: it
    /// was taken back, the proof is dropped).
    static func storeProof(
        _ database: PoolDatabase, id: Int64, owner: String, proof: ByteBuffer
    ) async throws(PoolError) -> Bool {
        let table = database.schema.jobs
        let rows = try await database.rows(
            """
            UPDATE \(unescaped: table) SET state = 'done', proof = \(proof), proved_by = \(owner),
                witness = NULL, lease_owner = NULL, lease_expires = NULL, error = NULL, finished_at = now()
            WHERE id = \(id) AND lease_owner = \(owner) AND state = 'running' RETURNING id
            """, as: Int64.self)
        return !rows.isEmpty
    }

    /// A permanent error: the job fails with `reason` and its witness is erased.
    func fail(_ job: ClaimedJob, owner: String, reason: String) async {
        let table = database.schema.jobs
        database.logger.error("worker \(owner): job \(job.id) (\(job.part), step \(job.step)) failed: \(reason)")
        let message = "worker \(owner): \(reason)"
        do {
            try await database.execute(
                """
                UPDATE \(unescaped: table) SET state = 'failed', error = \(message), witness = NULL,
                    lease_owner = NULL, lease_expires = NULL, finished_at = now()
                WHERE id = \(job.id) AND lease_owner = \(owner) AND state = 'running'
                """)
            await counters.add(\.failed)
        } catch {
            database.logger.warning("worker \(owner): marking job \(job.id) failed: \(error)")
        }
    }
}

actor StopFlag {
    private(set) var isSet = false
    func set() { isSet = true }
}

actor FaultState {
    var faults: WorkerFaults
    init(_ faults: WorkerFaults) { self.faults = faults }

    func takeCorruption() -> Bool {
        guard faults.corruptProofs > 0 else { return false }
        faults.corruptProofs -= 1
        return true
    }

    func takeDeath() -> Bool {
        guard faults.dieAfterClaim else { return false }
        faults.dieAfterClaim = false
        return true
    }
}
