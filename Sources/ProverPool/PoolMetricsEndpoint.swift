import Logging
import Prometheus
import SplitLearning
import Telemetry

/// A Prometheus endpoint for one pool process (a worker or a party): a registry, the factory its
/// series are made from, and the queue gauges read from `database` at each scrape. Shared by
/// `WorkerProcess` and `PostgresProofService.connect(url:logger:metricsAddress:)`.
struct PoolMetricsEndpoint {
    let endpoint: MetricsEndpoint
    let factory: PrometheusMetricsFactory

    /// Refuses a port outside 0...65535 (0: any free port), before anything is opened.
    static func check(_ address: WorkerProcess.MetricsAddress) throws(SplitError) {
        guard (0...65535).contains(address.port) else {
            throw .invalidArgument("--metrics-port must be in 0...65535 (0: any free port)")
        }
    }

    init(database: PoolDatabase, address: WorkerProcess.MetricsAddress, logger: Logger) {
        let registry = PrometheusCollectorRegistry()
        factory = MetricsEndpoint.factory(for: registry)
        let gauges = QueueGauges(factory: factory)
        endpoint = MetricsEndpoint(
            registry: registry, host: address.host, port: address.port, logger: logger,
            beforeScrape: {
                do { try await gauges.refresh(from: database) } catch {
                    logger.warning("metrics: reading the queue depth failed: \(error)")
                }
            })
    }
}
