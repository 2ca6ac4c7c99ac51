import ArgumentParser
import Foundation
import Logging
import ProverPool
import SplitLearning

/// `verisplit prover`: a prover worker for a party's pool.
struct ProverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prover",
        abstract: "Run a prover worker: claim proof jobs from a party's PostgreSQL pool, prove them, store the proofs.",
        discussion: """
            Workers are not trusted for soundness (the party verifies every proof before it uses it) but they see \
            witnesses, which are secrets: run them only on machines of the party that owns the database. \
            SIGTERM or SIGINT: stop claiming, finish the proofs in progress, exit 0.
            """)
    @Option(help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?schema=NAME&sslmode=disable|require] (the party's --db).")
    var db: String
    @Option(help: "Key directory: proving.key files here or one folder down (`split keys` output).") var keys: String
    @Option(help: "Jobs proved at once by this process.") var concurrency: Int = 1
    @Option(help: "Seconds a claimed job stays leased without renewal (renewed every third of it while proving).")
    var leaseSeconds: Int = 30
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "Serve Prometheus metrics on this port at /metrics (proofs, latency, leases, queue depth).")
    var metricsPort: Int?
    @Option(help: "Address the metrics endpoint binds to (anyone who reaches it reads the series).")
    var metricsHost: String = "127.0.0.1"

    func run() async throws {
        try await WorkerProcess.run(
            url: db, keysDirectory: URL(fileURLWithPath: keys), concurrency: concurrency,
            lease: .seconds(leaseSeconds),
            metrics: metricsPort.map { WorkerProcess.MetricsAddress(host: metricsHost, port: $0) },
            logger: try Logger.splitLogger(level: logLevel))
    }
}
