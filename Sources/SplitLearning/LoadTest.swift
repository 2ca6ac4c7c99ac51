import Algebra
import Foundation
import Logging
import NIOCore
import NIOPosix
import NeuralNet
import ZKML

/// Many clients against one server on loopback at once: honest sessions, clients that send
/// garbage (random envelopes, oversized length headers, truncated frames) and clients that
/// stall. The server must keep serving the honest ones, each to the same weights as an
/// undisturbed run, with bounded memory.
public struct LoadTestConfiguration: Sendable {
    /// The public sample order every honest client and the reference session use.
    public static let scheduleSeed: UInt64 = 1
    public var mode: SplitMode = .ledger
    public var honestClients = 8
    public var garbageClients = 8
    public var stallingClients = 4
    public var steps = 5
    public var maxConnections = 8
    public var idleTimeout: TimeAmount = .seconds(2)
    /// The whole test's time limit.
    public var timeLimit: Duration = .seconds(300)

    public init() {}
}

public struct LoadTestReport: Sendable, Codable {
    public var honestCompleted: Int
    public var honestExpected: Int
    /// Honest sessions whose weights equal a single undisturbed session's.
    public var honestIntact: Int
    public var garbageRefused: Int
    public var stallingClosed: Int
    public var seconds: Double
    public var peakRSSMegabytes: Double
    public var rssGrowthMegabytes: Double
    public var failures: [String]

    enum CodingKeys: String, CodingKey {
        case seconds, failures
        case honestCompleted = "honest_completed", honestExpected = "honest_expected", honestIntact = "honest_intact"
        case garbageRefused = "garbage_refused", stallingClosed = "stalling_closed"
        case peakRSSMegabytes = "peak_rss_mb", rssGrowthMegabytes = "rss_growth_mb"
    }
}

public enum LoadTest {
    public static func run(
        setup: SessionSetup, train: Dataset, configuration c: LoadTestConfiguration,
        logger: Logger = .split
    ) async throws -> LoadTestReport {
        let rssBefore = ProcessMemory.residentMegabytes
        let start = now()
        // The reference: one undisturbed session.
        var reference = LocalRunConfiguration()
        reference.mode = c.mode
        reference.steps = c.steps
        reference.fixedScheduleSeed = LoadTestConfiguration.scheduleSeed
        let expected = try await LocalRun.run(
            setup: setup, train: train, test: nil, configuration: reference, logger: logger)

        var serverOptions = ServerOptions()
        serverOptions.allowFixedSchedule = true
        let server = SplitServer(setup: setup, options: serverOptions, logger: logger)
        let limits = ConnectionLimits(maxFrameBytes: 1 << 20, idleTimeout: c.idleTimeout)
        let listener = try await Listener.bind(host: "127.0.0.1", port: 0, tls: nil, limits: limits)
        let port = listener.port
        let serving = Task {
            try await listener.serve(maxConnections: c.maxConnections) { _ = await server.handle($0) }
        }
        defer { serving.cancel() }

        enum Result: Sendable { case honest(Bool, Bool, String?), garbage(Bool), stalled(Bool) }
        // Every honest client commits its data before any connection opens, so all of them
        // arrive while the garbage and the stalling ones do.
        var options = ClientOptions()
        options.mode = c.mode
        options.steps = c.steps
        // The same sample order as the reference, so intact clients end with its weights.
        options.fixedScheduleSeed = LoadTestConfiguration.scheduleSeed
        let client = try SplitClient(setup: setup, data: train, options: options, logger: logger).prepare()
        let results: [Result] = try await withThrowingTaskGroup(of: Result.self) { group in
            for _ in 0..<c.honestClients {
                group.addTask {
                    let channel = try await Connector.connect(
                        host: "127.0.0.1", port: port, tls: nil, limits: ConnectionLimits())
                    let (outcome, layer) = await client.run(over: channel)
                    let done = outcome.completedSteps == UInt64(c.steps) && outcome.reason == nil
                    return .honest(done, layer == expected.clientLayer, outcome.reason)
                }
            }
            for index in 0..<c.garbageClients {
                group.addTask { .garbage(await sendGarbage(port: port, kind: index % 3)) }
            }
            for _ in 0..<c.stallingClients {
                group.addTask { .stalled(await stall(port: port, limit: c.idleTimeout + .seconds(30))) }
            }
            group.addTask {
                try await Task.sleep(for: c.timeLimit)
                throw SplitError.connection("load test exceeded its \(c.timeLimit) limit")
            }
            var collected: [Result] = []
            while collected.count < c.honestClients + c.garbageClients + c.stallingClients,
                let result = try await group.next()
            {
                collected.append(result)
            }
            group.cancelAll()
            return collected
        }
        await listener.close()
        var report = LoadTestReport(
            honestCompleted: 0, honestExpected: c.honestClients, honestIntact: 0, garbageRefused: 0,
            stallingClosed: 0, seconds: now() - start, peakRSSMegabytes: ProcessMemory.peakResidentMegabytes,
            rssGrowthMegabytes: ProcessMemory.residentMegabytes - rssBefore, failures: [])
        for result in results {
            switch result {
            case .honest(let done, let intact, let reason):
                if done {
                    report.honestCompleted += 1
                } else {
                    report.failures.append("honest client: \(reason ?? "incomplete")")
                }
                if intact { report.honestIntact += 1 }
            case .garbage(let refused): if refused { report.garbageRefused += 1 }
            case .stalled(let closed): if closed { report.stallingClosed += 1 }
            }
        }
        return report
    }

    /// A raw connection (no framing) for clients that do not speak the protocol.
    static func rawConnect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends one kind of garbage; true when the server closed the connection on it.
    static func sendGarbage(port: Int, kind: Int) async -> Bool {
        do {
            let channel = try await rawConnect(port: port)
            return try await channel.executeThenClose { inbound, outbound in
                var bytes = ByteBuffer()
                switch kind {
                case 0:  // a valid length and version, random contents
                    Frame.write((0..<200).map { _ in UInt8.random(in: 0...255) }, into: &bytes)
                case 1:  // a length header far above the frame limit
                    bytes.writeInteger(UInt32.max)
                    bytes.writeBytes([1, 2, 3])
                default:  // half a frame, then nothing more: the idle timeout must close it
                    bytes.writeInteger(UInt32(1000))
                    bytes.writeBytes([Frame.version] + Array(repeating: 7, count: 100))
                }
                try await outbound.write(bytes)
                // Drain whatever the server answers until it closes the connection.
                for try await _ in inbound {}
                return true
            }
        } catch {
            // A reset is also the server refusing the connection.
            return true
        }
    }

    /// Connects and says nothing; true when the server closed the connection within `limit`.
    static func stall(port: Int, limit: TimeAmount) async -> Bool {
        do {
            let channel = try await rawConnect(port: port)
            let closed = channel.channel.closeFuture
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await closed.get()
                    return true
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(limit.nanoseconds))
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                try? await channel.channel.close()
                return first
            }
        } catch {
            return true
        }
    }
}
