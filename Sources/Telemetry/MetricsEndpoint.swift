import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Support

/// A Prometheus scrape endpoint (`--metrics-port`): `GET /metrics` answers the registry's text
/// exposition (format 0.0.4); any other path is 404 and any other method 405.
///
/// It is a `Service`, so it runs in the process's `ServiceGroup` and stops with it on SIGTERM.
/// Whoever can reach the port reads the series, so it binds to loopback unless told otherwise;
/// the series carry counts and latencies only, never a witness, a key or a job's content.
/// Hostile clients get bounded work: request heads are bounded by NIO's HTTP decoder, a body
/// over 64 KiB closes the connection, an idle connection is closed after `idleTimeout`, and at
/// most `maxConnections` are served at once (later ones wait in the accept queue).
public final class MetricsEndpoint: Service, Sendable {
    public let registry: PrometheusCollectorRegistry
    public let host: String
    public let requestedPort: Int
    public let idleTimeout: TimeAmount
    public let maxConnections: Int
    let beforeScrape: @Sendable () async -> Void
    let logger: Logger
    let boundPort = NIOLockedValueBox<Int?>(nil)
    let ready = ReadySignal()

    /// `port` 0 binds an ephemeral port (read it from `port()` once running). `beforeScrape`
    /// runs before each exposition, for gauges read on demand (the pool's queue depth).
    public init(
        registry: PrometheusCollectorRegistry, host: String = "127.0.0.1", port: Int,
        idleTimeout: TimeAmount = .seconds(30), maxConnections: Int = 16, logger: Logger,
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) {
        self.registry = registry
        self.host = host
        self.requestedPort = port
        self.idleTimeout = idleTimeout
        self.maxConnections = max(1, maxConnections)
        self.logger = logger
        self.beforeScrape = beforeScrape
    }

    /// The bound port once `run` is listening (waits for it); nil if binding failed.
    public func port() async -> Int? {
        await ready.wait()
        return boundPort.withLockedValue { $0 }
    }

    public func run() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            let idle = idleTimeout
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 64)
                .bind(host: host, port: requestedPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                        try channel.pipeline.syncOperations.addHandler(CloseOnIdle())
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            await ready.signal()
            throw MetricsEndpointError.cannotBind(host: host, port: requestedPort, reason: "\(error)")
        }
        boundPort.withLockedValue { $0 = server.channel.localAddress?.port }
        await ready.signal()
        logger.info("metrics on http://\(host):\(server.channel.localAddress?.port ?? requestedPort)/metrics")
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        let slots = ConnectionSlots(limit: maxConnections)
                        for try await connection in inbound {
                            await slots.acquire()
                            group.addTask {
                                await self.serve(connection)
                                await slots.release()
                            }
                        }
                    }
                }
            } onCancel: {
                server.channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    static let maxBody = 64 * 1024

    /// Answers requests on one connection until the client closes it, asks to close it, or
    /// sends more than the limits allow.
    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        bodyBytes = 0
                    case .body(let buffer):
                        bodyBytes += buffer.readableBytes
                        if bodyBytes > Self.maxBody {
                            try await respond(outbound, status: .payloadTooLarge, body: "request body too large\n")
                            return
                        }
                    case .end:
                        guard let request = head else { return }
                        head = nil
                        let (status, body, type) = await answer(request)
                        try await respond(outbound, status: status, body: body, contentType: type)
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("metrics connection: \(error)")
        }
    }

    /// The status, body and content type for one request.
    func answer(_ request: HTTPRequestHead) async -> (HTTPResponseStatus, String, String) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard path == "/metrics" else { return (.notFound, "not found: the series are at /metrics\n", "text/plain") }
        guard request.method == .GET else {
            return (.methodNotAllowed, "only GET /metrics\n", "text/plain")
        }
        await beforeScrape()
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return (.ok, String(decoding: bytes, as: UTF8.self), "text/plain; version=0.0.4; charset=utf-8")
    }

    func respond(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, status: HTTPResponseStatus, body: String,
        contentType: String = "text/plain"
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
    }
}

extension MetricsEndpoint {
    /// A swift-metrics factory writing into `registry`, with latency buckets that fit proofs
    /// (10 ms to 5 min) rather than web requests.
    public static func factory(for registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            .seconds(120), .seconds(300),
        ]
        return factory
    }
}

/// Why the endpoint could not start.
public enum MetricsEndpointError: Error, CustomStringConvertible, Sendable {
    case cannotBind(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotBind(let host, let port, let reason):
            "cannot listen for metrics on \(host):\(port) (\(reason)); pick a free --metrics-port"
        }
    }
}

/// Closes a connection when `IdleStateHandler` reports it idle.
final class CloseOnIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Set once; `wait` returns after it is set.
actor ReadySignal {
    var isSet = false
    var waiting: [CheckedContinuation<Void, Never>] = []

    func signal() {
        isSet = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }

    func wait() async {
        if isSet { return }
        await withCheckedContinuation { waiting.append($0) }
    }
}
