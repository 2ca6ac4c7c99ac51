import ArgumentParser
import Foundation
import NeuralNet
import ProverPool
import Report
import SplitLearning

/// `verisplit bench prover-pool`: a session proved in process against the same session proved
/// by 1 and 2 pool workers, and the job queue's own costs.
struct BenchProverPool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prover-pool",
        abstract:
            "Samples/s in process vs through the PostgreSQL prover pool (1 and 2 workers), and the queue's per-job costs.",
        discussion: """
            The workers run in this process, on its cores: on one machine the pool can only add the queue's cost; its gain is \
            spreading proofs over machines. The queue figures (enqueue, claim, complete per job, and jobs/s drained by \
            --noop-workers loops that claim and complete without proving) say how many proving machines one database can feed. \
            Works in a schema of its own, dropped afterwards.
            """)
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "postgres://USER@HOST[:PORT]/DB (a database the benchmark may create a schema in).") var db: String
    @Option(help: "Session steps per run.") var steps: Int = 12
    @Option(help: "verified or pipelined.") var mode: String = "pipelined"
    @Option(help: "Pipelined mode's depth.") var pipelineDepth: Int = 4
    @Option(help: "Jobs timed one by one for enqueue/claim/complete.") var queueJobs: Int = 200
    @Option(help: "No-op jobs drained for the queue's throughput.") var noopJobs: Int = 5000
    @Option(help: "Concurrent no-op workers.") var noopWorkers: Int = 64
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await withAsyncInputErrors {
            let mode = try parseMode(self.mode)
            guard mode == .verified || mode == .pipelined else {
                throw InputError("--mode must be verified or pipelined")
            }
            guard steps >= 1, queueJobs >= 1, noopJobs >= 1, (1...512).contains(noopWorkers) else {
                throw InputError("--steps, --queue-jobs and --noop-jobs must be >= 1, --noop-workers in 1...512")
            }
            guard specOptions.keys != nil else {
                throw InputError("--keys DIR is needed: the workers prove with the keys")
            }
            let setup = try specOptions.load(mode: .verified)
            let (train, _) = try MNISTFamily.load(.bundled)
            let r = try await PoolBenchmark.run(
                url: db, setup: setup, train: train, mode: mode, steps: steps, pipelineDepth: pipelineDepth,
                queueJobs: queueJobs, noopJobs: noopJobs, noopWorkers: noopWorkers,
                logger: try splitLogger("error"))
            if json {
                let value = JSONValue.object([
                    "spec": .string(r.spec), "mode": .string(r.mode.rawValue), "steps": .int(r.steps),
                    "in_process_samples_per_s": .number(r.inProcessSamplesPerSecond),
                    "pool": .array(
                        r.pool.map {
                            .object(["workers": .int($0.workers), "samples_per_s": .number($0.samplesPerSecond)])
                        }),
                    "queue": .object([
                        "enqueue_ms": .number(r.enqueueMilliseconds), "claim_ms": .number(r.claimMilliseconds),
                        "complete_ms": .number(r.completeMilliseconds), "noop_workers": .int(r.noopWorkers),
                        "noop_jobs": .int(r.noopJobs), "noop_jobs_per_s": .number(r.noopJobsPerSecond),
                        "witness_bytes": .int(r.witnessBytes),
                        "noop_full_witness_jobs": .int(r.noopFullWitnessJobs),
                        "noop_full_witness_jobs_per_s": .number(r.noopFullWitnessJobsPerSecond),
                    ]),
                ])
                print(value.serialized(indent: nil))
            } else {
                var table = TextTable(header: ["prover", "samples/s", "x in process"])
                table.append(["in process", formatDecimal(r.inProcessSamplesPerSecond, digits: 3), "1.00"])
                for p in r.pool {
                    table.append([
                        "pool, \(p.workers) worker(s)", formatDecimal(p.samplesPerSecond, digits: 3),
                        formatDecimal(p.samplesPerSecond / r.inProcessSamplesPerSecond, digits: 2),
                    ])
                }
                print("\(r.mode.rawValue) session, spec \(r.spec), \(r.steps) steps")
                print(table.render())
                print(
                    String(
                        format:
                            "queue: enqueue %.2f ms (witness %d B), claim %.2f ms, complete %.2f ms per job; %d no-op workers drain %.0f jobs/s (2 KiB witnesses), %.0f jobs/s (full witnesses)",
                        r.enqueueMilliseconds, r.witnessBytes, r.claimMilliseconds, r.completeMilliseconds,
                        r.noopWorkers, r.noopJobsPerSecond,
                        r.noopFullWitnessJobsPerSecond))
            }
        }
    }
}
