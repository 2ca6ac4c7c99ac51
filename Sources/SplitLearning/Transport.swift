import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Support
import Synchronization

/// A connection carrying frames both ways, as the session code sees it.
public typealias FrameChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// TLS settings. The server presents `certificateChain`/`privateKey`; with
/// `requirePeerCertificate` (mutual TLS) it accepts only clients whose certificate chains to
/// `trustRoots`, so only enrolled clients can train. The client verifies the server against
/// `trustRoots` and `serverHostname`, and presents its own certificate for mutual TLS.
public struct TLSOptions: Sendable {
    public var certificateChain: String?
    public var privateKey: String?
    public var trustRoots: String?
    public var requirePeerCertificate: Bool
    public var serverHostname: String?

    public init(
        certificateChain: String? = nil, privateKey: String? = nil, trustRoots: String? = nil,
        requirePeerCertificate: Bool = false, serverHostname: String? = nil
    ) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.requirePeerCertificate = requirePeerCertificate
        self.serverHostname = serverHostname
    }

    func identity() throws -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource)? {
        guard let chainPath = certificateChain, let keyPath = privateKey else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(chainPath).map { NIOSSLCertificateSource.certificate($0) }
            return (chain, .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        } catch {
            throw SplitError.file(
                path: chainPath, reason: "cannot load the TLS certificate or key \(keyPath) (\(error))")
        }
    }

    func serverContext() throws -> NIOSSLContext {
        guard let identity = try identity() else {
            throw SplitError.invalidArgument("TLS needs both --tls-cert and --tls-key on the server")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.chain, privateKey: identity.key)
        configuration.minimumTLSVersion = .tlsv12
        if requirePeerCertificate {
            guard let roots = trustRoots else {
                throw SplitError.invalidArgument("mutual TLS needs --tls-ca: the CA that signed the enrolled clients")
            }
            configuration.trustRoots = .file(roots)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let roots = trustRoots { configuration.trustRoots = .file(roots) }
        if let identity = try identity() {
            configuration.certificateChain = identity.chain
            configuration.privateKey = identity.key
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Limits every connection works under: frames larger than `maxFrameBytes` and peers silent
/// for longer than `idleTimeout` close the connection.
public struct ConnectionLimits: Sendable {
    public var maxFrameBytes: Int
    public var idleTimeout: TimeAmount

    public init(maxFrameBytes: Int = Frame.defaultMaxBytes, idleTimeout: TimeAmount = .seconds(120)) {
        self.maxFrameBytes = maxFrameBytes
        self.idleTimeout = idleTimeout
    }
}

/// Closes the connection when nothing has been read for the idle timeout (a stalled peer must
/// not hold a server slot forever).
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(SplitError.connection("the peer sent nothing for too long; closed"))
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

enum Pipeline {
    /// TLS (optional), idle timeout, framing, then the async bridge.
    static func configure(
        _ channel: Channel, tls: NIOSSLContext?, serverHostname: String?, isServer: Bool,
        limits: ConnectionLimits
    ) throws -> FrameChannel {
        let sync = channel.pipeline.syncOperations
        if let tls {
            if isServer {
                try sync.addHandler(NIOSSLServerHandler(context: tls))
            } else {
                try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
            }
        }
        try sync.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
        try sync.addHandler(IdleCloser())
        try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxBytes: limits.maxFrameBytes)))
        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
        return try FrameChannel(wrappingChannelSynchronously: channel)
    }
}

/// A listening split server socket; `serve` accepts connections until `close`.
public struct Listener: Sendable {
    let channel: NIOAsyncChannel<FrameChannel, Never>

    public var port: Int { channel.channel.localAddress?.port ?? 0 }

    public static func bind(
        host: String, port: Int, tls: TLSOptions?, limits: ConnectionLimits = ConnectionLimits()
    ) async throws -> Listener {
        let context = try tls.map { try $0.serverContext() }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Pipeline.configure(channel, tls: context, serverHostname: nil, isServer: true, limits: limits)
                }
            }
        return Listener(channel: channel)
    }

    /// Accepts connections and runs `handle` on each, at most `maxConnections` at once (later
    /// ones wait in the accept queue), until the listener is closed.
    public func serve(maxConnections: Int, _ handle: @escaping @Sendable (FrameChannel) async -> Void) async throws {
        try await channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                let slots = ConnectionSlots(limit: maxConnections)
                for try await connection in inbound {
                    await slots.acquire()
                    group.addTask {
                        await handle(connection)
                        await slots.release()
                    }
                }
            }
        }
    }

    public func close() async {
        try? await channel.channel.close()
    }
}

public enum Connector {
    public static func connect(
        host: String, port: Int, tls: TLSOptions?, limits: ConnectionLimits = ConnectionLimits()
    ) async throws -> FrameChannel {
        let context = try tls.map { try $0.clientContext() }
        let hostname = tls?.serverHostname ?? host
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Pipeline.configure(
                            channel, tls: context, serverHostname: hostname, isServer: false, limits: limits)
                    }
                }
        } catch {
            throw SplitError.connection(
                "cannot connect to \(host):\(port) (\(error)); is `verisplit split server` listening there?")
        }
    }
}

/// Bytes and frames one side sent and received.
final class TrafficCounter: Sendable {
    private let state = Mutex<(sent: Int, received: Int)>((0, 0))

    func sent(_ bytes: Int) { state.withLock { $0.sent += bytes } }
    func received(_ bytes: Int) { state.withLock { $0.received += bytes } }
    var totals: (sent: Int, received: Int) { state.withLock { $0 } }
}
