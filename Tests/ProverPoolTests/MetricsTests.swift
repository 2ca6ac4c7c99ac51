import Foundation
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ProverPool
import Telemetry
import XCTest

/// One raw HTTP exchange: sends `request` as is and reads until the server closes.
func httpExchange(port: Int, _ request: [UInt8]) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(bytes: request))
        var text = ""
        for try await chunk in inbound { text += String(buffer: chunk) }
        return text
    }
}

func get(_ port: Int, _ path: String, method: String = "GET") async throws -> String {
    try await httpExchange(port: port, Array("\(method) \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
}

/// A running endpoint on an ephemeral port, stopped by `stop()`.
struct RunningEndpoint {
    let endpoint: MetricsEndpoint
    let task: Task<Void, Error>
    let port: Int

    static func start(
        _ registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () async -> Void = {}
    ) async throws -> RunningEndpoint {
        var logger = Logger(label: "metrics-test")
        logger.logLevel = .error
        let endpoint = MetricsEndpoint(
            registry: registry, port: 0, idleTimeout: .seconds(2), logger: logger, beforeScrape: beforeScrape)
        let task = Task { try await endpoint.run() }
        guard let port = await endpoint.port() else {
            task.cancel()
            throw XCTSkip("the metrics endpoint could not bind a loopback port")
        }
        return RunningEndpoint(endpoint: endpoint, task: task, port: port)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

final class MetricsEndpointTests: XCTestCase {
    /// The exposition of the registry at /metrics; 404, 405 and 413 for the rest; garbage and
    /// oversized requests close their connection and the endpoint keeps serving.
    func testServesTheRegistryAndRefusesEverythingElse() async throws {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "verisplit", metricName: "test", unitName: "total", helpText: "A test counter."))
        counter.increment(by: Int64(3))
        let scrapes = ScrapeCount()
        let running = try await RunningEndpoint.start(registry) { await scrapes.add() }

        let ok = try await get(running.port, "/metrics")
        XCTAssertTrue(ok.hasPrefix("HTTP/1.1 200 OK"), ok)
        XCTAssertTrue(ok.contains("text/plain; version=0.0.4"), ok)
        XCTAssertTrue(ok.contains("\nverisplit_test_total 3\n"), ok)
        let scraped = await scrapes.value
        XCTAssertEqual(scraped, 1, "the gauges are refreshed once per scrape")

        let missing = try await get(running.port, "/")
        XCTAssertTrue(missing.hasPrefix("HTTP/1.1 404"), missing)
        let posted = try await get(running.port, "/metrics", method: "POST")
        XCTAssertTrue(posted.hasPrefix("HTTP/1.1 405"), posted)
        let afterRefusals = await scrapes.value
        XCTAssertEqual(afterRefusals, 1, "refused requests do not read the database")

        let garbage = try await httpExchange(port: running.port, Array("\u{0}\u{1}\u{2} not http at all\r\n\r\n".utf8))
        XCTAssertFalse(garbage.contains("200 OK"), garbage)

        var big = Array("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".utf8)
        big += [UInt8](repeating: 0x41, count: 100_000)
        let tooLarge = try await httpExchange(port: running.port, big)
        XCTAssertTrue(tooLarge.hasPrefix("HTTP/1.1 413"), String(tooLarge.prefix(200)))

        // Two requests on one kept-alive connection, then the endpoint still answers anyone.
        let twice = try await httpExchange(
            port: running.port,
            Array(
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .utf8))
        XCTAssertEqual(twice.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 2, twice)
        let again = try await get(running.port, "/metrics")
        XCTAssertTrue(again.hasPrefix("HTTP/1.1 200 OK"), again)
        await running.stop()
    }

    /// A client that connects and sends nothing is closed after the idle timeout.
    func testIdleConnectionIsClosed() async throws {
        let running = try await RunningEndpoint.start(PrometheusCollectorRegistry())
        let started = ContinuousClock.now
        let silent = try await httpExchange(port: running.port, [])
        XCTAssertEqual(silent, "")
        XCTAssertLessThan(started.duration(to: .now), .seconds(20))
        await running.stop()
    }

    func testPortInUseIsAClearError() async throws {
        let first = try await RunningEndpoint.start(PrometheusCollectorRegistry())
        var logger = Logger(label: "metrics-test")
        logger.logLevel = .critical
        let second = MetricsEndpoint(registry: PrometheusCollectorRegistry(), port: first.port, logger: logger)
        do {
            try await second.run()
            XCTFail("a second endpoint bound a port in use")
        } catch let error as MetricsEndpointError {
            XCTAssertTrue("\(error)".contains("--metrics-port"), "\(error)")
        }
        await first.stop()
    }
}

actor ScrapeCount {
    var value = 0
    func add() { value += 1 }
}

final class PoolMetricsTests: XCTestCase {
    /// A worker and a party with metrics prove one job: the worker's and the party's series
    /// count it, its latency lands in both histograms, and the queue gauges read the table.
    func testWorkerPartyAndQueueSeries() async throws {
        let pool = try await PoolHarness()
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsEndpoint.factory(for: registry)
        let worker = ProverWorker(
            database: pool.database, keys: WorkerKeys(Fixture.keys), lease: .seconds(10),
            sweepInterval: .milliseconds(300), name: "metered", metrics: WorkerMetrics(factory: factory))
        let workerTask = Task { try await worker.run() }
        let service = await PostgresProofService.start(
            database: pool.database, timeout: .seconds(60),
            metrics: PartyPoolMetrics(factory: factory))
        _ = try await service.prove(try Fixture.job(.client), keys: Fixture.keys)
        await worker.shutdown()
        workerTask.cancel()
        _ = await workerTask.result

        // Two jobs nobody will claim: the gauges must see them queued.
        for step in 0..<2 {
            _ = try await service.enqueue(
                part: "client", step: UInt64(step), keyHash: [UInt8](repeating: 7, count: 32), witness: Data([1]),
                publicCount: 1)
        }
        let gauges = QueueGauges(factory: factory)
        let running = try await RunningEndpoint.start(registry) {
            try? await gauges.refresh(from: pool.database)
        }
        let text = try await get(running.port, "/metrics")
        for line in [
            "\nverisplit_prover_jobs_claimed_total 1\n",
            "\nverisplit_prover_proofs_total 1\n",
            "\nverisplit_prover_proof_seconds_count 1\n",
            "\nverisplit_party_proof_jobs_enqueued_total 3\n",
            "\nverisplit_party_proofs_accepted_total 1\n",
            "\nverisplit_party_proof_wait_seconds_count 1\n",
            "\nverisplit_pool_jobs{state=\"queued\"} 2",
            "\nverisplit_pool_jobs{state=\"running\"} 0",
        ] {
            XCTAssertTrue(text.contains(line), "missing \(line.debugDescription) in:\n\(text)")
        }
        XCTAssertFalse(text.contains("verisplit_party_proofs_rejected_total 1"), text)
        await running.stop()
        await service.stop()
        await pool.close()
    }

    /// `split server/client --db URL --metrics-port P`: the party's own endpoint serves its
    /// series and the queue gauges, a port in use is refused before any job is written, and
    /// `stop()` closes the endpoint.
    func testPartyEndpointFromItsURL() async throws {
        let (url, schema) = TestDatabase.schemaURL(try TestDatabase.url())
        var logger = Logger(label: "party-metrics-test")
        logger.logLevel = .error
        let service = try await PostgresProofService.connect(
            url: url, logger: logger, metricsAddress: .init(host: "127.0.0.1", port: 0))
        let port = try XCTUnwrap(service.metricsPort)
        _ = try await service.enqueue(
            part: "server", step: 0, keyHash: [UInt8](repeating: 9, count: 32), witness: Data([1]), publicCount: 1)
        let text = try await get(port, "/metrics")
        XCTAssertTrue(text.contains("\nverisplit_party_proof_jobs_enqueued_total 1\n"), text)
        XCTAssertTrue(text.contains("\nverisplit_pool_jobs{state=\"queued\"} 1"), text)

        do {
            _ = try await PostgresProofService.connect(
                url: url, logger: logger, metricsAddress: .init(host: "127.0.0.1", port: port))
            XCTFail("a second party bound the same metrics port")
        } catch let error as MetricsEndpointError {
            XCTAssertTrue("\(error)".contains("--metrics-port"), "\(error)")
        }
        await service.stop()
        do {
            _ = try await get(port, "/metrics")
            XCTFail("the endpoint still answers after stop()")
        } catch {}
        try? await service.database.execute(sql: "DROP SCHEMA \(schema) CASCADE")
        service.database.close()
    }
}
