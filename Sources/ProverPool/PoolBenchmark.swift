import Algebra
import Foundation
import Logging
import NIOCore
import NeuralNet
import PostgresNIO
import Report
import SplitLearning
import ZKML

/// `verisplit bench prover-pool`: the same session proved in process and through the pool
/// with 1 and 2 workers (in this process, sharing its cores), and the queue's own costs.
public enum PoolBenchmark {
    public struct Report: Sendable {
        public var spec: String
        public var mode: SplitMode
        public var steps: Int
        public var inProcessSamplesPerSecond: Double
        /// (workers, samples per second)
        public var pool: [(workers: Int, samplesPerSecond: Double)]
        public var enqueueMilliseconds: Double
        public var claimMilliseconds: Double
        public var completeMilliseconds: Double
        public var noopWorkers: Int
        public var noopJobs: Int
        public var noopJobsPerSecond: Double
        public var witnessBytes: Int
        /// The same drain with a full server-part witness in every row.
        public var noopFullWitnessJobs: Int
        public var noopFullWitnessJobsPerSecond: Double
    }

    /// Runs the sessions (`steps` steps of `mode`, the same seeds and sample order each time)
    /// and the queue measurements (`queueJobs` jobs timed one by one, then `noopJobs` jobs
    /// drained by `noopWorkers` concurrent loops that claim and complete without proving), in a
    /// schema of its own that is dropped afterwards.
    public static func run(
        url: String, setup: SessionSetup, train: Dataset, mode: SplitMode, steps: Int, pipelineDepth: Int,
        queueJobs: Int = 200, noopJobs: Int = 5000, noopWorkers: Int = 64, logger: Logger
    ) async throws -> Report {
        guard let keys = setup.keys else {
            throw PoolError.keys(path: "-", reason: "the benchmark needs the spec's keys")
        }
        var location = try PoolLocation(url: url)
        location.schema = "bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let database = try await PoolDatabase.open(location, logger: logger)
        defer { database.close() }
        do {
            let report = try await measure(
                database: database, setup: setup, keys: keys, train: train, mode: mode, steps: steps,
                pipelineDepth: pipelineDepth, queueJobs: queueJobs, noopJobs: noopJobs,
                noopWorkers: noopWorkers, logger: logger)
            try? await database.execute(sql: "DROP SCHEMA \(location.schema) CASCADE")
            return report
        } catch {
            try? await database.execute(sql: "DROP SCHEMA \(location.schema) CASCADE")
            throw error
        }
    }

    static func measure(
        database: PoolDatabase, setup: SessionSetup, keys: SplitKeys, train: Dataset, mode: SplitMode, steps: Int,
        pipelineDepth: Int, queueJobs: Int, noopJobs: Int, noopWorkers: Int, logger: Logger
    ) async throws -> Report {
        func session(_ service: (any ProofService)?) async throws -> Double {
            var c = LocalRunConfiguration()
            c.mode = mode
            c.steps = steps
            c.pipelineDepth = pipelineDepth
            c.fixedScheduleSeed = 7
            c.clientProofService = service
            c.serverProofService = service
            let start = ContinuousClock.now
            let report = try await LocalRun.run(setup: setup, train: train, test: nil, configuration: c, logger: logger)
                .report
            let seconds = (ContinuousClock.now - start).seconds
            guard !report.rejected, report.stepsCompleted == UInt64(steps) else {
                throw PoolError.database("benchmark session stopped early: \(report.reason ?? "?")")
            }
            return Double(steps * setup.spec.batch) / seconds
        }
        let inProcess = try await session(nil)
        var pool: [(Int, Double)] = []
        for workers in [1, 2] {
            let service = await PostgresProofService.start(database: database)
            let running = (0..<workers).map { i in
                let worker = ProverWorker(database: database, keys: WorkerKeys(keys), name: "bench-\(workers)-\(i)")
                return (worker, Task { try await worker.run() })
            }
            let rate = try await session(service)
            for (worker, task) in running {
                await worker.shutdown()
                _ = await task.result
            }
            await service.stop()
            pool.append((workers, rate))
        }

        // The queue alone: a server-part-sized witness, timed per operation.
        let r1cs = keys.key(.server).r1cs
        let witness = Data(repeating: 0, count: r1cs.numWires * JobCodec.elementBytes)
        let service = await PostgresProofService.start(database: database)
        defer { Task { await service.stop() } }
        let probe = ProverWorker(database: database, keys: WorkerKeys(keys), name: "bench-probe")
        var enqueue = 0.0, claim = 0.0, complete = 0.0
        let fakeProof = ByteBuffer(bytes: [UInt8](repeating: 1, count: 256))
        for _ in 0..<queueJobs {
            var start = ContinuousClock.now
            _ = try await service.enqueue(
                part: "server", step: 0, keyHash: keys.server.verifyingKeyHash, witness: witness,
                publicCount: r1cs.numPublic)
            enqueue += (ContinuousClock.now - start).seconds
            start = ContinuousClock.now
            guard let job = try await probe.claim(owner: "bench-probe") else {
                throw PoolError.database("benchmark: no job to claim")
            }
            claim += (ContinuousClock.now - start).seconds
            start = ContinuousClock.now
            _ = try await ProverWorker.storeProof(database, id: job.id, owner: "bench-probe", proof: fakeProof)
            complete += (ContinuousClock.now - start).seconds
        }
        try await database.execute(sql: "DELETE FROM \(database.schema.jobs)")

        // Throughput of the queue with `noopWorkers` loops that claim and complete at once:
        // rows with a 2 KiB witness (the queue's own cost), then rows with a full server-part
        // witness (the bytes every real job moves).
        func drain(jobs: Int, witnessBytes: Int) async throws -> (Int, Double) {
            try await database.execute(
                sql: """
                    INSERT INTO \(database.schema.jobs) (part, step, key_hash, witness, public_count)
                    SELECT 'server', g, '\\x00'::bytea, decode(repeat('00', \(witnessBytes)), 'hex'), 1 FROM generate_series(1, \(jobs)) AS g
                    """)
            let start = ContinuousClock.now
            let drained = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<noopWorkers {
                    group.addTask {
                        var n = 0
                        while let job = try await probe.claim(owner: "noop-\(i)") {
                            _ = try await ProverWorker.storeProof(
                                database, id: job.id, owner: "noop-\(i)", proof: fakeProof)
                            n += 1
                        }
                        return n
                    }
                }
                return try await group.reduce(0, +)
            }
            let seconds = (ContinuousClock.now - start).seconds
            try await database.execute(sql: "DELETE FROM \(database.schema.jobs)")
            return (drained, seconds)
        }
        let (drained, noopSeconds) = try await drain(jobs: noopJobs, witnessBytes: 64 * JobCodec.elementBytes)
        let fullJobs = max(1, min(noopJobs, 256))
        let (fullDrained, fullSeconds) = try await drain(jobs: fullJobs, witnessBytes: witness.count)
        return Report(
            spec: setup.spec.name, mode: mode, steps: steps, inProcessSamplesPerSecond: inProcess,
            pool: pool.map { (workers: $0.0, samplesPerSecond: $0.1) },
            enqueueMilliseconds: enqueue * 1000 / Double(queueJobs),
            claimMilliseconds: claim * 1000 / Double(queueJobs),
            completeMilliseconds: complete * 1000 / Double(queueJobs), noopWorkers: noopWorkers, noopJobs: drained,
            noopJobsPerSecond: Double(drained) / noopSeconds, witnessBytes: witness.count,
            noopFullWitnessJobs: fullDrained, noopFullWitnessJobsPerSecond: Double(fullDrained) / fullSeconds)
    }

}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension PoolBenchmark {
    /// Checks the settings, loads the spec and the keys the workers prove with, and runs the
    /// benchmark on the bundled data (`run(url:setup:...)`).
    public static func run(
        url: String, keys: KeySource, mode: SplitMode, steps: Int, pipelineDepth: Int, queueJobs: Int, noopJobs: Int,
        noopWorkers: Int, logger: Logger
    ) async throws -> Report {
        guard mode.usesProofs else { throw SplitError.invalidArgument("--mode must be verified or pipelined") }
        guard steps >= 1, queueJobs >= 1, noopJobs >= 1, (1...512).contains(noopWorkers) else {
            throw SplitError.invalidArgument(
                "--steps, --queue-jobs and --noop-jobs must be >= 1, --noop-workers in 1...512")
        }
        guard keys.keys != nil else {
            throw SplitError.invalidArgument("--keys DIR is needed: the workers prove with the keys")
        }
        let setup = try keys.load(mode: .verified)
        let (train, _) = try MNISTFamily.load(.bundled)
        return try await run(
            url: url, setup: setup, train: train, mode: mode, steps: steps, pipelineDepth: pipelineDepth,
            queueJobs: queueJobs, noopJobs: noopJobs, noopWorkers: noopWorkers, logger: logger)
    }
}

extension PoolBenchmark.Report {
    /// A table of samples/s against the in-process run and a line of queue costs, or one JSON object.
    public func rendered(json: Bool) -> String {
        if json {
            return JSONValue.object([
                "spec": .string(spec), "mode": .string(mode.rawValue), "steps": .int(steps),
                "in_process_samples_per_s": .number(inProcessSamplesPerSecond),
                "pool": .array(
                    pool.map { .object(["workers": .int($0.workers), "samples_per_s": .number($0.samplesPerSecond)]) }),
                "queue": .object([
                    "enqueue_ms": .number(enqueueMilliseconds), "claim_ms": .number(claimMilliseconds),
                    "complete_ms": .number(completeMilliseconds), "noop_workers": .int(noopWorkers),
                    "noop_jobs": .int(noopJobs), "noop_jobs_per_s": .number(noopJobsPerSecond),
                    "witness_bytes": .int(witnessBytes), "noop_full_witness_jobs": .int(noopFullWitnessJobs),
                    "noop_full_witness_jobs_per_s": .number(noopFullWitnessJobsPerSecond),
                ]),
            ]).serialized(indent: nil)
        }
        var table = TextTable(header: ["prover", "samples/s", "x in process"])
        table.append(["in process", formatDecimal(inProcessSamplesPerSecond, digits: 3), "1.00"])
        for p in pool {
            table.append([
                "pool, \(p.workers) worker(s)", formatDecimal(p.samplesPerSecond, digits: 3),
                formatDecimal(p.samplesPerSecond / inProcessSamplesPerSecond, digits: 2),
            ])
        }
        return [
            "\(mode.rawValue) session, spec \(spec), \(steps) steps", table.render(),
            String(
                format:
                    "queue: enqueue %.2f ms (witness %d B), claim %.2f ms, complete %.2f ms per job; %d no-op workers drain %.0f jobs/s (2 KiB witnesses), %.0f jobs/s (full witnesses)",
                enqueueMilliseconds, witnessBytes, claimMilliseconds, completeMilliseconds, noopWorkers,
                noopJobsPerSecond, noopFullWitnessJobsPerSecond),
        ].joined(separator: "\n")
    }
}
