import Foundation
import Logging
import ServiceLifecycle
import SplitLearning

/// `verisplit prover`: one worker process with `concurrency` job loops on the pool at `url`,
/// serving the keys in `keysDirectory`, until SIGTERM or SIGINT. On either signal it stops
/// claiming, finishes and stores the proofs it is making, then closes its connections.
public enum WorkerProcess {
    public static func run(
        url: String, keysDirectory: URL, concurrency: Int, lease: Duration, logger: Logger
    ) async throws {
        guard (1...256).contains(concurrency), (.seconds(3)...Duration.seconds(3600)).contains(lease) else {
            throw SplitError.invalidArgument("--concurrency must be in 1...256 and --lease-seconds in 3...3600")
        }
        let location = try PoolLocation(url: url)
        let keys = try WorkerKeys.load(from: keysDirectory)
        let database = try await PoolDatabase.open(location, logger: logger)
        defer { database.close() }
        let worker = ProverWorker(database: database, keys: keys, concurrency: concurrency, lease: lease)
        logger.info(
            "prover \(worker.name): \(concurrency) job loop(s), \(keys.entries.count) key(s), schema \(location.schema) on \(location.host):\(location.port)/\(location.database)"
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: worker)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let counters = await worker.counters.values
        logger.info(
            "prover \(worker.name) stopped: \(counters.proved) proved, \(counters.failed) failed, \(counters.leasesReclaimed) expired leases reclaimed"
        )
    }
}
