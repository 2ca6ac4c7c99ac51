import Algebra
import Circuit
import Foundation
import Groth16
import Logging
import NeuralNet
import ProverPool
import SplitLearning
import XCTest
import ZKML

/// The tiny spec of the SplitLearning tests: proofs take a fraction of a second.
let tinySpecJSON = Data(
    """
    {"name": "tiny", "input": {"channels": 1, "height": 28, "width": 28},
     "client": {"out_channels": 1, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
     "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
     "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 12}
    """.utf8)

enum Fixture {
    static let spec: CircuitSpec = {
        do { return try CircuitSpec.load(tinySpecJSON) } catch { fatalError("tiny spec: \(error)") }
    }()
    static let keys: SplitKeys = {
        do { return try SplitKeys.developmentSetup(spec: spec) } catch { fatalError("setup: \(error)") }
    }()
    static let setup = SessionSetup(spec: spec, specData: tinySpecJSON, keys: keys)
    /// The spec and keys as the CLI names them (a key directory written once per process).
    static let keySource: KeySource = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledger-keys-\(UUID().uuidString)")
        let spec = directory.appendingPathComponent("tiny.json")
        do {
            try keys.write(to: directory.appendingPathComponent("keys"))
            try tinySpecJSON.write(to: spec)
        } catch {
            fatalError("writing the test keys: \(error)")
        }
        var source = KeySource(spec: spec.path)
        source.keys = directory.appendingPathComponent("keys").path
        return source
    }()
    static let data: Dataset = {
        do { return try MNISTFamily.load(.bundled).train.subset(Array(0..<512)) } catch {
            fatalError("bundled data: \(error)")
        }
    }()

    static func configuration(_ mode: SplitMode, steps: Int) -> LocalRunConfiguration {
        var c = LocalRunConfiguration()
        c.fixedScheduleSeed = 7
        c.mode = mode
        c.steps = steps
        c.pipelineDepth = 2
        return c
    }

    static func run(
        _ mode: SplitMode, steps: Int, pool: (any ProofService)? = nil, ledger: (any SessionLedger)? = nil
    ) async throws -> LocalRun.Result {
        var c = configuration(mode, steps: steps)
        c.clientProofService = pool
        c.serverProofService = pool
        c.sessionLedger = ledger
        return try await LocalRun.run(
            setup: setup, train: data, test: nil, configuration: c, logger: Logger(label: "test"))
    }

    /// A real proof job of `part` (the circuit of a sample step).
    static func job(_ part: CircuitSpec.Part, step: UInt64 = 0) throws -> ProofJob {
        let layers = try spec.sampleLayers(seed: 3)
        let x = [Int64](repeating: 17, count: spec.input.channels * spec.input.height * spec.input.width)
        // Built once: the circuit draws fresh commitment salts, and a test compares the proof
        // with the public inputs of the same witness.
        let built = Built(cs: try spec.build(part, input: x, label: 1, layers: layers, session: Fr(5), step: step))
        return ProofJob(step: step, part: part) { _ in built.cs }
    }
}

/// A built circuit handed to a job closure (read only after this point).
struct Built: @unchecked Sendable {
    let cs: ConstraintSystem<Fr>
}

/// One schema, its pool connection and workers for one test; dropped at the end.
final class PoolHarness: @unchecked Sendable {
    let database: PoolDatabase
    let schema: String
    /// The database URL with this harness's schema.
    let url: String
    var workers: [(ProverWorker, Task<Void, Error>)] = []

    init(baseURL: String? = nil) async throws {
        let (url, schema) = TestDatabase.schemaURL(try baseURL ?? TestDatabase.url())
        self.schema = schema
        self.url = url
        var logger = Logger(label: "pool-test")
        // VERISPLIT_TEST_POOL_LOG=warning (or debug) shows the pool's and the client's log.
        logger.logLevel =
            ProcessInfo.processInfo.environment["VERISPLIT_TEST_POOL_LOG"].flatMap(Logger.Level.init(rawValue:))
            ?? .error
        database = try await PoolDatabase.open(try PoolLocation(url: url), logger: logger)
    }

    @discardableResult
    func startWorker(
        faults: WorkerFaults = WorkerFaults(), lease: Duration = .seconds(10), name: String? = nil,
        concurrency: Int = 1, keys: SplitKeys = Fixture.keys
    ) -> ProverWorker {
        let worker = ProverWorker(
            database: database, keys: WorkerKeys(keys), concurrency: concurrency, lease: lease,
            sweepInterval: .milliseconds(300), name: name, faults: faults)
        workers.append((worker, Task { try await worker.run() }))
        return worker
    }

    func service(maxAttempts: Int = 3) async -> PostgresProofService {
        await PostgresProofService.start(
            database: database, maxAttempts: maxAttempts, timeout: .seconds(60),
            retryGrace: .milliseconds(500), outage: .seconds(30))
    }

    func count(_ condition: String = "true") async throws -> Int {
        let sequence = try await database.scalar("SELECT count(*)::bigint FROM \(schema).proof_jobs WHERE \(condition)")
        return Int(sequence)
    }

    func text(_ sql: String) async throws -> String {
        try await database.text(sql)
    }

    func scalar(_ sql: String) async throws -> Int64 {
        try await database.scalar(sql)
    }

    /// Checks that the ledger holds `session` once per party: one run, `steps` rows (nothing
    /// lost, nothing duplicated), and that it verifies from the database.
    func assertLedger(_ session: Fr?, steps: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        let id = SHA256.hex(try XCTUnwrap(session, file: file, line: line).littleEndianBytes())
        for role in Role.allCases {
            let filter = "role = '\(role.rawValue)' AND encode(session, 'hex') = '\(id)'"
            let runs = try await scalar("SELECT count(*)::bigint FROM \(schema).ledger_runs WHERE \(filter)")
            let rows = try await scalar("SELECT count(*)::bigint FROM \(schema).ledger_steps WHERE \(filter)")
            let distinct = try await scalar(
                "SELECT count(DISTINCT step)::bigint FROM \(schema).ledger_steps WHERE \(filter)")
            XCTAssertEqual(runs, 1, "\(role) runs", file: file, line: line)
            XCTAssertEqual(rows, Int64(steps), "\(role) step rows", file: file, line: line)
            XCTAssertEqual(distinct, Int64(steps), "\(role) distinct steps", file: file, line: line)
        }
        let report = try await LedgerCheck(url: url, session: String(id.prefix(16)), keys: Fixture.keySource).run(
            logger: Logger(label: "test"))
        XCTAssertEqual(report.verdict, .ok, report.rendered(json: false), file: file, line: line)
    }

    func stopWorkers() async {
        for (worker, task) in workers {
            await worker.shutdown()
            task.cancel()
            _ = await task.result
        }
        workers = []
    }

    func close() async {
        await stopWorkers()
        try? await database.execute(sql: "DROP SCHEMA \(schema) CASCADE")
        database.close()
    }
}

final class ProverPoolSessionTests: XCTestCase {
    /// A session proved by two workers through the database ends with the weights of the same
    /// session proved in process, in verified and pipelined mode; every proof was checked by the
    /// party and no job row (hence no witness) is left.
    func testSessionOnThePoolMatchesInProcess() async throws {
        let pool = try await PoolHarness()
        pool.startWorker(name: "w1")
        pool.startWorker(name: "w2")
        let service = await pool.service()
        for mode in [SplitMode.verified, .pipelined] {
            let local = try await Fixture.run(mode, steps: 3)
            let pooled = try await Fixture.run(mode, steps: 3, pool: service)
            XCTAssertFalse(pooled.report.rejected, pooled.report.reason ?? "")
            XCTAssertEqual(pooled.report.stepsCompleted, 3, pooled.report.reason ?? "")
            XCTAssertEqual(pooled.clientLayer, local.clientLayer, "\(mode) client weights")
            XCTAssertEqual(pooled.serverLayer, local.serverLayer, "\(mode) server weights")
            XCTAssertNotNil(pooled.clientLayer)
        }
        let counters = await service.counters.values
        XCTAssertGreaterThanOrEqual(counters.accepted, 12)
        XCTAssertEqual(counters.accepted, counters.enqueued)
        XCTAssertEqual(counters.rejected, 0)
        let proved = await pool.workers[0].0.counters.values.proved + pool.workers[1].0.counters.values.proved
        XCTAssertEqual(proved, counters.accepted)
        let left = try await pool.count()
        XCTAssertEqual(left, 0, "accepted jobs are deleted")
        await service.stop()
        await pool.close()
    }

    /// A worker that stores a wrong (well-formed) proof: the party refuses it, the job goes back
    /// and the other worker proves it; the session's weights are unchanged.
    func testCorruptedProofIsRejectedAndRetriedElsewhere() async throws {
        let pool = try await PoolHarness()
        var faults = WorkerFaults()
        faults.corruptProofs = 1
        let liar = pool.startWorker(faults: faults, name: "liar")
        let service = await pool.service()
        // The liar alone takes the first job and corrupts it; the honest worker joins afterwards.
        let local = try await Fixture.run(.verified, steps: 2)
        let ledger = PostgresSessionLedger(database: pool.database)
        let session = Task { try await Fixture.run(.verified, steps: 2, pool: service, ledger: ledger) }
        while await liar.counters.values.corrupted == 0 { try await Task.sleep(for: .milliseconds(50)) }
        let honest = pool.startWorker(name: "honest")
        let pooled = try await session.value
        XCTAssertEqual(pooled.report.stepsCompleted, 2, pooled.report.reason ?? "")
        try await pool.assertLedger(pooled.report.session, steps: 2)
        XCTAssertEqual(pooled.clientLayer, local.clientLayer)
        XCTAssertEqual(pooled.serverLayer, local.serverLayer)
        let counters = await service.counters.values
        XCTAssertEqual(counters.rejected, 1, "the corrupted proof was refused")
        XCTAssertEqual(counters.accepted, counters.enqueued)
        let honestProved = await honest.counters.values.proved
        XCTAssertGreaterThan(honestProved, 0)
        await service.stop()
        await pool.close()
    }

    /// A worker claims a job and dies (no renewal, no result): its lease expires, another worker
    /// requeues and proves the job, and the session completes with the same weights.
    func testDeadWorkersLeaseExpiresAndAnotherWorkerFinishes() async throws {
        let pool = try await PoolHarness()
        var faults = WorkerFaults()
        faults.dieAfterClaim = true
        let dead = pool.startWorker(faults: faults, lease: .seconds(1), name: "doomed")
        let service = await pool.service()
        let local = try await Fixture.run(.verified, steps: 2)
        let ledger = PostgresSessionLedger(database: pool.database)
        let session = Task { try await Fixture.run(.verified, steps: 2, pool: service, ledger: ledger) }
        while await dead.counters.values.claimed == 0 { try await Task.sleep(for: .milliseconds(50)) }
        let survivor = pool.startWorker(lease: .seconds(5), name: "survivor")
        let pooled = try await session.value
        XCTAssertEqual(pooled.report.stepsCompleted, 2, pooled.report.reason ?? "")
        try await pool.assertLedger(pooled.report.session, steps: 2)
        XCTAssertEqual(pooled.clientLayer, local.clientLayer)
        XCTAssertEqual(pooled.serverLayer, local.serverLayer)
        let reclaimed = await survivor.counters.values.leasesReclaimed
        XCTAssertEqual(reclaimed, 1, "the dead worker's job was taken back once")
        await service.stop()
        await pool.close()
    }
}

final class ProverPoolJobTests: XCTestCase {
    /// Bad rows fail with a clear error each, and a good job queued behind them is still proved.
    func testMalformedRowsAndUnknownKeysFailClearlyAndTheRestKeepsWorking() async throws {
        let pool = try await PoolHarness()
        let worker = pool.startWorker()
        let service = await pool.service()
        let key = Fixture.keys.key(.client)
        let wires = key.r1cs.numWires, publicCount = key.r1cs.numPublic
        let one = JobCodec.encodeWitness([Fr.one] + [Fr](repeating: .zero, count: wires - 1))
        var aboveModulus = one
        aboveModulus.replaceSubrange(32..<64, with: [UInt8](repeating: 0xff, count: 32))
        let zeroFirst = JobCodec.encodeWitness([Fr](repeating: .zero, count: wires))
        let cases: [(hash: [UInt8], witness: Data, publicCount: Int, expect: String)] = [
            ([UInt8](repeating: 7, count: 32), one, publicCount, "no proving key with verifying-key hash 0707"),
            (key.verifyingKeyHash, one.prefix(one.count - 32), publicCount, "the witness is \(one.count - 32) bytes"),
            (key.verifyingKeyHash, one + Data([1]), publicCount, "the witness is \(one.count + 1) bytes"),
            (key.verifyingKeyHash, aboveModulus, publicCount, "witness element 1 is not below the field modulus"),
            (key.verifyingKeyHash, zeroFirst, publicCount, "wire 0 must be the constant 1"),
            (key.verifyingKeyHash, one, publicCount + 1, "public values"),
            // Well-formed but unsatisfied: the worker's prover refuses it.
            (key.verifyingKeyHash, one, publicCount, "proving failed"),
        ]
        var ids: [Int64] = []
        for c in cases {
            ids.append(
                try await service.enqueue(
                    part: "client", step: 0, keyHash: c.hash, witness: c.witness, publicCount: c.publicCount))
        }
        // A real job behind the bad ones.
        let job = try Fixture.job(.client)
        let proof = try await service.prove(job, keys: Fixture.keys)
        let prepared = try await PreparedProofJob.prepare(job, keys: Fixture.keys)
        XCTAssertTrue(proof.verifies(key: key.verifyingKey, statement: prepared.publicInputs))
        for (id, c) in zip(ids, cases) {
            do {
                _ = try await service.result(of: id, witness: c.witness) { _ in true }
                XCTFail("job \(id) should have failed (\(c.expect))")
            } catch let error as PoolError {
                guard case .jobFailed(_, let state, let message) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(state, "failed")
                XCTAssertTrue(message.contains(c.expect), "\(message) lacks \(c.expect)")
            }
        }
        let failed = await worker.counters.values.failed
        XCTAssertEqual(failed, cases.count)
        let witnessesLeft = try await pool.count("witness IS NOT NULL")
        XCTAssertEqual(witnessesLeft, 0, "failed jobs keep no witness")
        await service.stop()
        await pool.close()
    }

    /// Inserting the same request twice (the party's retry after a reply lost to a restart)
    /// gives the same job: one row, not a second job that a worker would prove and nobody read.
    func testRetriedInsertOfOneRequestMakesOneJob() async throws {
        let pool = try await PoolHarness()
        let service = await pool.service()
        let key = Fixture.keys.key(.client)
        let witness = JobCodec.encodeWitness([Fr.one] + [Fr](repeating: .zero, count: key.r1cs.numWires - 1))
        let request = UUID()
        let first = try await service.enqueue(
            part: "client", step: 0, keyHash: key.verifyingKeyHash, witness: witness,
            publicCount: key.r1cs.numPublic, request: request)
        let again = try await service.enqueue(
            part: "client", step: 0, keyHash: key.verifyingKeyHash, witness: witness,
            publicCount: key.r1cs.numPublic, request: request)
        XCTAssertEqual(again, first)
        let rows = try await pool.count()
        XCTAssertEqual(rows, 1)
        let other = try await service.enqueue(
            part: "client", step: 0, keyHash: key.verifyingKeyHash, witness: witness,
            publicCount: key.r1cs.numPublic)
        XCTAssertNotEqual(other, first, "another request is another job")
        await service.stop()
        await pool.close()
    }

    /// A job whose proofs keep failing verification is parked after its attempts, with the
    /// reason, and the party gets that error instead of waiting forever.
    func testJobFailingRepeatedlyIsParked() async throws {
        let pool = try await PoolHarness()
        var faults = WorkerFaults()
        faults.corruptProofs = 100
        let liar = pool.startWorker(faults: faults, name: "liar")
        let service = await pool.service(maxAttempts: 3)
        do {
            _ = try await service.prove(try Fixture.job(.server), keys: Fixture.keys)
            XCTFail("a job whose every proof is wrong must not succeed")
        } catch let error as PoolError {
            guard case .jobFailed(_, let state, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(state, "parked")
            XCTAssertTrue(message.contains("does not verify"), message)
        }
        let counters = await service.counters.values
        XCTAssertEqual(counters.rejected, 3)
        let corrupted = await liar.counters.values.corrupted
        XCTAssertEqual(corrupted, 3)
        let parkedWithoutWitness = try await pool.count("state = 'parked' AND witness IS NULL AND rejections = 3")
        XCTAssertEqual(parkedWithoutWitness, 1)
        await service.stop()
        await pool.close()
    }

    /// Two workers racing for jobs never prove the same job twice (SKIP LOCKED), and the
    /// migrations are idempotent when run again.
    func testConcurrentClaimsAreExclusiveAndMigrationsIdempotent() async throws {
        let pool = try await PoolHarness()
        let again = try await PoolDatabase.open(pool.database.location)
        again.close()
        let a = pool.startWorker(name: "a", concurrency: 2)
        let b = pool.startWorker(name: "b", concurrency: 2)
        let service = await pool.service()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for step in 0..<6 {
                group.addTask {
                    _ = try await service.prove(try Fixture.job(.client, step: UInt64(step)), keys: Fixture.keys)
                }
            }
            try await group.waitForAll()
        }
        let proved = await a.counters.values.proved + b.counters.values.proved
        XCTAssertEqual(proved, 6)
        let claimed = await a.counters.values.claimed + b.counters.values.claimed
        XCTAssertEqual(claimed, 6)
        await service.stop()
        await pool.close()
    }
}

/// Bad input to the parsers, no database needed.
final class ProverPoolParsingTests: XCTestCase {
    func testDatabaseURLs() throws {
        let location = try PoolLocation(url: "postgres://alice:secret@db.local:6543/jobs?schema=party_a")
        XCTAssertEqual(location.host, "db.local")
        XCTAssertEqual(location.port, 6543)
        XCTAssertEqual(location.username, "alice")
        XCTAssertEqual(location.password, "secret")
        XCTAssertEqual(location.database, "jobs")
        XCTAssertEqual(location.schema, "party_a")
        XCTAssertEqual(try PoolLocation(url: "postgresql://bob@h/d").schema, "verisplit")
        for bad in [
            "", "http://a@h/d", "postgres://h/d", "postgres://a@/d", "postgres://a@h",
            "postgres://a@h/d?schema=Robert'); DROP",
            "postgres://a@h/d?schema=1abc", "postgres://a@h/d?sslmode=maybe", "postgres://a@h/d?foo=1",
            "postgres://a@h:0/d",
        ] {
            XCTAssertThrowsError(try PoolLocation(url: bad), bad)
        }
        // Messages never show the password.
        do { _ = try PoolLocation(url: "postgres://a:hunter2@h/d?sslmode=x") } catch {
            XCTAssertFalse("\(error)".contains("hunter2"))
        }
    }

    func testWitnessAndProofDecoding() throws {
        let witness = [Fr.one, Fr(UInt64(5)), -Fr.one]
        let data = JobCodec.encodeWitness(witness)
        XCTAssertEqual(try JobCodec.decodeWitness(data, wires: 3, publicCount: 1), witness)
        XCTAssertThrowsError(try JobCodec.decodeWitness(data, wires: 4, publicCount: 1))
        XCTAssertThrowsError(try JobCodec.decodeWitness(data.dropLast(), wires: 3, publicCount: 1))
        XCTAssertThrowsError(try JobCodec.decodeWitness(data, wires: 3, publicCount: 3))
        var high = data
        high[95] = 0xff
        XCTAssertThrowsError(try JobCodec.decodeWitness(high, wires: 3, publicCount: 1)) {
            XCTAssertEqual($0 as? JobDefect, .nonCanonical(index: 2))
        }
        XCTAssertThrowsError(try JobCodec.decodeProof(Data(repeating: 0, count: 255)))
        XCTAssertThrowsError(try JobCodec.decodeProof(Data(repeating: 0xff, count: 256)))
    }
}

final class ProverProcessTests: XCTestCase {
    /// A real `verisplit prover` process is killed with SIGKILL while it holds a job's lease in
    /// the middle of a verified session on the pool with the step ledger: the lease expires, an
    /// in-process worker requeues and proves the job, and the session ends with the in-process
    /// weights and each step once per party in the ledger. (If the process stored its proof
    /// before the kill landed, the round is repeated with a new session; the test needs one kill
    /// mid-proof.)
    func testKilledWorkerProcessJobIsFinishedByAnother() async throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map {
            $0.appendingPathComponent("verisplit")
        }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("no verisplit executable next to the test bundle")
        }
        let pool = try await PoolHarness()
        let keysDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pool-keys-\(UUID().uuidString)")
        try Fixture.keys.write(to: keysDirectory)
        defer { try? FileManager.default.removeItem(at: keysDirectory) }
        let service = await pool.service()
        let ledger = PostgresSessionLedger(database: pool.database)
        let local = try await Fixture.run(.verified, steps: 2)
        var killedMidProof = false
        for _ in 0..<5 where !killedMidProof {
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "prover", "--db", pool.url, "--keys", keysDirectory.path, "--lease-seconds", "3", "--log-level",
                "error",
            ]
            process.standardInput = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // Wait for the worker to listen (a job queued before then is still claimed by its first sweep).
            try await Task.sleep(for: .milliseconds(300))
            let session = Task { try await Fixture.run(.verified, steps: 2, pool: service, ledger: ledger) }
            let deadline = ContinuousClock.now + .seconds(30)
            var owner = ""
            while ContinuousClock.now < deadline {
                owner = try await pool.text(
                    "SELECT coalesce(max(lease_owner), '') FROM \(pool.schema).proof_jobs WHERE state = 'running'")
                if !owner.isEmpty { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            XCTAssertFalse(owner.isEmpty, "the worker process never claimed a job")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let stillLeased = try await pool.count("state = 'running' AND lease_owner = '\(owner)'")
            killedMidProof = stillLeased == 1
            let survivor = pool.startWorker(lease: .seconds(5), name: "survivor")
            let pooled = try await bounded("the session after the kill", seconds: 120) { try await session.value }
            XCTAssertFalse(pooled.report.rejected, pooled.report.reason ?? "")
            XCTAssertEqual(pooled.report.stepsCompleted, 2, pooled.report.reason ?? "")
            XCTAssertEqual(pooled.clientLayer, local.clientLayer, "client weights after the kill")
            XCTAssertEqual(pooled.serverLayer, local.serverLayer, "server weights after the kill")
            try await pool.assertLedger(pooled.report.session, steps: 2)
            if killedMidProof {
                let reclaimed = await survivor.counters.values.leasesReclaimed
                XCTAssertEqual(reclaimed, 1, "the killed worker's lease was reclaimed")
            }
            await pool.stopWorkers()
        }
        XCTAssertTrue(killedMidProof, "no round killed the worker while it held the lease")
        await service.stop()
        await pool.close()
    }
}

final class DatabaseRestartTests: XCTestCase {
    /// The database restarts (fast shutdown, every connection cut) in the middle of a session on
    /// the pool: the party re-listens and re-checks its jobs, workers reconnect, a job whose proof
    /// could not be stored is taken back when its lease expires, and the session ends with the
    /// weights of the in-process session. Runs on a cluster of its own (it must be able to restart
    /// it). Every wait is bounded: a session that does not survive fails the test with what it
    /// was waiting for and the job table as the database sees it, instead of hanging CI.
    func testSessionSurvivesADatabaseRestart() async throws {
        let cluster: TestDatabase.Cluster
        switch TestDatabase.startOwnCluster() {
        case .success(let started): cluster = started
        case .failure(let reason):
            let message = "DATABASE RESTART TEST SKIPPED: \(reason)"
            FileHandle.standardError.write(Data(("\n*** " + message + " ***\n").utf8))
            throw XCTSkip(message)
        }
        defer { cluster.stop() }
        let restart = try XCTUnwrap(cluster.restart)
        let pool = try await PoolHarness(baseURL: cluster.url)
        let first = pool.startWorker(lease: .seconds(3), name: "w1")
        let second = pool.startWorker(lease: .seconds(3), name: "w2")
        let service = await pool.service()
        let steps = 4
        let local = try await Fixture.run(.verified, steps: steps)
        let ledger = PostgresSessionLedger(database: pool.database, outage: .seconds(60))
        let session = Task { try await Fixture.run(.verified, steps: steps, pool: service, ledger: ledger) }
        do {
            try await waitUntil("the first two proofs of the session on the pool", seconds: 120) {
                await service.counters.values.accepted >= 2
            }
            let acceptedBefore = await service.counters.values.accepted
            try restart()
            let pooled = try await bounded("the session after the database restart", seconds: 180) {
                try await session.value
            }
            XCTAssertFalse(pooled.report.rejected, pooled.report.reason ?? "")
            XCTAssertEqual(pooled.report.stepsCompleted, UInt64(steps), pooled.report.reason ?? "")
            XCTAssertEqual(pooled.clientLayer, local.clientLayer, "client weights after the restart")
            XCTAssertEqual(pooled.serverLayer, local.serverLayer, "server weights after the restart")
            let acceptedAfter = await service.counters.values.accepted
            XCTAssertGreaterThan(acceptedAfter, acceptedBefore, "the session had ended before the restart")
            let claimed = await first.counters.values.claimed
            XCTAssertGreaterThan(claimed, 0)
            // Every listener saw its connection cut and put LISTEN back in place.
            let relistens = (await service.relistens(), await first.relistens(), await second.relistens())
            XCTAssertGreaterThanOrEqual(relistens.0, 1, "the party re-listened")
            XCTAssertGreaterThanOrEqual(relistens.1, 1, "worker w1 re-listened")
            XCTAssertGreaterThanOrEqual(relistens.2, 1, "worker w2 re-listened")
            // The shared query pool serves again (a stuck lease would leave this waiting).
            let rows = try await bounded("a query after the session", seconds: 30) { try await pool.count() }
            XCTAssertEqual(rows, 0, "job rows left after the session")
            // The ledger written through the restart: each step once per party, and it verifies.
            try await bounded("checking the ledger", seconds: 60) {
                try await pool.assertLedger(pooled.report.session, steps: steps)
            }
            await service.stop()
            // The workers' loops answer a shutdown (none is stuck in a query).
            try await bounded("stopping the workers", seconds: 30) { await pool.stopWorkers() }
        } catch {
            session.cancel()
            XCTFail("\(error); \(await Self.diagnosis(pool, service))")
            await service.stop()
        }
        pool.database.close()
    }

    /// The party's counters and the job table (itself read with a bound), for a failure message.
    static func diagnosis(_ pool: PoolHarness, _ service: PostgresProofService) async -> String {
        let counters = await service.counters.values
        let jobs: String
        do {
            jobs = try await bounded("reading the job table", seconds: 10) {
                try await pool.text(
                    """
                    SELECT coalesce(string_agg(id || ':' || state || '/' || attempts || '/' || coalesce(lease_owner, '-'), ' '
                        ORDER BY id), 'none') FROM \(pool.schema).proof_jobs
                    """)
            }
        } catch {
            jobs = "unreadable (\(error))"
        }
        return "party counters \(counters); jobs (id:state/attempts/lease owner) \(jobs)"
    }
}
