import Foundation
import Logging
import ServiceLifecycle
import SplitLearning
import Telemetry

/// `verisplit prover`: one worker process with `concurrency` job loops on the pool at `url`,
/// serving the keys in `keysDirectory`, until SIGTERM or SIGINT. On either signal it stops
/// claiming, finishes and stores the proofs it is making, then closes its connections. With
/// `metrics`, a Prometheus endpoint serves the worker's series (`WorkerMetrics`) and the queue
/// as the database sees it (`QueueGauges`, read at each scrape).
public enum WorkerProcess {
    /// Where to serve `/metrics`.
    public struct MetricsAddress: Sendable {
        public var host: String
        public var port: Int

        public init(host: String = "127.0.0.1", port: Int) {
            self.host = host
            self.port = port
        }
    }

    public static func run(
        url: String, keysDirectory: URL, concurrency: Int, lease: Duration, metrics: MetricsAddress? = nil,
        logger: Logger
    ) async throws {
        guard (1...256).contains(concurrency), (.seconds(3)...Duration.seconds(3600)).contains(lease) else {
            throw SplitError.invalidArgument("--concurrency must be in 1...256 and --lease-seconds in 3...3600")
        }
        if let metrics { try PoolMetricsEndpoint.check(metrics) }
        let location = try PoolLocation(url: url)
        let keys = try WorkerKeys.load(from: keysDirectory)
        let database = try await PoolDatabase.open(location, logger: logger)
        defer { database.close() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var workerMetrics: WorkerMetrics?
        if let metrics {
            let pool = PoolMetricsEndpoint(database: database, address: metrics, logger: logger)
            workerMetrics = WorkerMetrics(factory: pool.factory)
            services.append(.init(service: pool.endpoint))
        }
        let worker = ProverWorker(
            database: database, keys: keys, concurrency: concurrency, lease: lease, metrics: workerMetrics)
        // Graceful shutdown runs in reverse order: the worker stops (finishing its proofs) while
        // the endpoint still serves, then the endpoint.
        services.append(.init(service: worker))
        logger.info(
            "prover \(worker.name): \(concurrency) job loop(s), \(keys.entries.count) key(s), schema \(location.schema) on \(location.host):\(location.port)/\(location.database)"
        )
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let counters = await worker.counters.values
        logger.info(
            "prover \(worker.name) stopped: \(counters.proved) proved, \(counters.failed) failed, \(counters.leasesReclaimed) expired leases reclaimed"
        )
    }
}
