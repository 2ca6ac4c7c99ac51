import ArgumentParser
import Logging
import ProverPool
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
        let report = try await PoolBenchmark.run(
            url: db, keys: specOptions.source, mode: try SplitMode.parse(mode), steps: steps,
            pipelineDepth: pipelineDepth, queueJobs: queueJobs, noopJobs: noopJobs, noopWorkers: noopWorkers,
            logger: try Logger.splitLogger(level: "error"))
        print(report.rendered(json: json))
    }
}
