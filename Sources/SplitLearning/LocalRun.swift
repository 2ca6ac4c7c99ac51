import Algebra
import Commitment
import Foundation
import Logging
import NeuralNet
import ZKML

/// One client and one server on loopback in one process, over real sockets: `verisplit split
/// run`, the tests and the benchmark use it.
public struct LocalRunConfiguration: Sendable {
    public var mode: SplitMode = .verified
    public var steps = 10
    public var pipelineDepth = 4
    public var adversary: Adversary = .none
    public var attackStep: UInt64 = 1
    public var clientSeed: UInt64 = 1
    public var serverSeed: UInt64 = 2
    /// Experiments only: both parties use this public sample order (so two runs, or two modes,
    /// train on the same samples); nil draws it from the session's coin toss.
    public var fixedScheduleSeed: UInt64?
    /// Client state in `DIR/client`, server state in `DIR/server`.
    public var stateDirectory: URL?
    public var resume = false
    public var stopClientAfter: Int?
    public var serverTLS: TLSOptions?
    public var clientTLS: TLSOptions?
    public var limits = ConnectionLimits()
    /// The client's per-step callback (`ClientOptions.onStep`).
    public var onStep: (@Sendable (UInt64) -> Void)?
    /// Where each party's proofs are made (nil: in this process). One process runs both
    /// parties here, so they may share a pool; real deployments give each party its own.
    public var clientProofService: (any ProofService)?
    public var serverProofService: (any ProofService)?
    /// A durable ledger both parties write, each under its role (`--db`); it replaces
    /// `stateDirectory` when set.
    public var sessionLedger: (any SessionLedger)?

    public init() {}

    /// The client's side of this configuration (shared by the in-process and two-process runs).
    var clientOptions: ClientOptions {
        var options = ClientOptions()
        options.mode = mode
        options.steps = steps
        options.pipelineDepth = pipelineDepth
        options.seed = clientSeed
        options.fixedScheduleSeed = fixedScheduleSeed
        options.stateDirectory = stateDirectory?.appendingPathComponent("client")
        options.resume = resume
        options.stopAfterSteps = stopClientAfter
        options.onStep = onStep
        options.proofService = clientProofService
        options.sessionLedger = sessionLedger
        if adversary.side == .client {
            options.adversary = adversary
            options.attackStep = attackStep
        }
        return options
    }
}

/// What `verisplit split run --json` prints.
public struct LocalRunReport: Sendable, Codable {
    public var mode: SplitMode
    public var adversary: Adversary
    public var stepsCompleted: UInt64
    public var rejected: Bool
    /// Why the honest side (or, without an adversary, either side) refused a message.
    public var rejection: Rejection?
    public var reason: String?
    /// The typed error behind `reason`, in this process (not in the JSON form).
    public var error: SplitError?
    /// Which side refused a message, if one did (JSON: "client" or "server").
    public var rejectedBy: Role?
    public var session: Fr?
    public var transcriptHead: Digest?
    public var client: PartyStats
    public var server: PartyStats
    public var testAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case mode, adversary, rejected, rejection, reason, session, client, server
        case stepsCompleted = "steps_completed", rejectedBy = "rejected_by", transcriptHead = "transcript_head"
        case testAccuracy = "test_accuracy"
    }

    public init(
        mode: SplitMode, adversary: Adversary, stepsCompleted: UInt64, rejected: Bool, rejection: Rejection?,
        reason: String?,
        rejectedBy: Role?, session: Fr?, transcriptHead: Digest?, client: PartyStats, server: PartyStats,
        testAccuracy: Double?
    ) {
        self.mode = mode
        self.adversary = adversary
        self.stepsCompleted = stepsCompleted
        self.rejected = rejected
        self.rejection = rejection
        self.reason = reason
        self.rejectedBy = rejectedBy
        self.session = session
        self.transcriptHead = transcriptHead
        self.client = client
        self.server = server
        self.testAccuracy = testAccuracy
    }

    /// JSON: the session id and the transcript head in hex ("" when absent).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(SplitMode.self, forKey: .mode)
        adversary = try c.decode(Adversary.self, forKey: .adversary)
        stepsCompleted = try c.decode(UInt64.self, forKey: .stepsCompleted)
        rejected = try c.decode(Bool.self, forKey: .rejected)
        rejection = try c.decodeIfPresent(Rejection.self, forKey: .rejection)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        rejectedBy = try c.decodeIfPresent(Role.self, forKey: .rejectedBy)
        session = try c.field(.session)
        transcriptHead = try c.digest(.transcriptHead)
        client = try c.decode(PartyStats.self, forKey: .client)
        server = try c.decode(PartyStats.self, forKey: .server)
        testAccuracy = try c.decodeIfPresent(Double.self, forKey: .testAccuracy)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(adversary, forKey: .adversary)
        try c.encode(stepsCompleted, forKey: .stepsCompleted)
        try c.encode(rejected, forKey: .rejected)
        try c.encodeIfPresent(rejection, forKey: .rejection)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(rejectedBy, forKey: .rejectedBy)
        try c.encode(Hex.field(session), forKey: .session)
        try c.encode(transcriptHead?.hex ?? "", forKey: .transcriptHead)
        try c.encode(client, forKey: .client)
        try c.encode(server, forKey: .server)
        try c.encodeIfPresent(testAccuracy, forKey: .testAccuracy)
    }
}

public enum LocalRun {
    public struct Result: Sendable {
        public let report: LocalRunReport
        public let clientLayer: QuantizedConv2d?
        public let serverLayer: QuantizedDense?
    }

    public static func run(
        setup: SessionSetup, train: Dataset, test: Dataset?, configuration c: LocalRunConfiguration,
        logger: Logger = .split
    ) async throws -> Result {
        var serverOptions = ServerOptions()
        serverOptions.seed = c.serverSeed
        serverOptions.allowFixedSchedule = c.fixedScheduleSeed != nil
        serverOptions.proofService = c.serverProofService
        serverOptions.stateDirectory = c.stateDirectory?.appendingPathComponent("server")
        serverOptions.sessionLedger = c.sessionLedger
        if c.adversary.side == .server {
            serverOptions.adversary = c.adversary
            serverOptions.attackStep = c.attackStep
        }
        var clientOptions = c.clientOptions
        try await clientOptions.loadStoredSession()
        let server = SplitServer(setup: setup, options: serverOptions, logger: logger)
        let listener = try await Listener.bind(host: "127.0.0.1", port: 0, tls: c.serverTLS, limits: c.limits)
        let results = ServerResults()
        let serving = Task {
            try await listener.serve(maxConnections: 4) { channel in
                let result = await server.handle(channel)
                await results.add(result.outcome, result.layer)
            }
        }
        // Commit the training set before connecting (the server times out a silent connection).
        let client = try SplitClient(setup: setup, data: train, options: clientOptions, logger: logger).prepare()
        let clientResult: (outcome: SessionOutcome, layer: QuantizedConv2d?)
        do {
            let channel = try await Connector.connect(
                host: "127.0.0.1", port: listener.port, tls: c.clientTLS, limits: c.limits)
            clientResult = await client.run(over: channel)
        } catch {
            await listener.close()
            serving.cancel()
            throw error
        }
        let serverResult = await results.next()
        await listener.close()
        _ = try? await serving.value

        let honest =
            c.adversary.side == .server ? clientResult.outcome : c.adversary.side == .client ? serverResult.0 : nil
        let rejectedBy: Role?
        if clientResult.outcome.rejected {
            rejectedBy = .client
        } else if serverResult.0.rejected {
            rejectedBy = .server
        } else {
            rejectedBy = nil
        }
        var accuracy: Double?
        if let test, let conv = clientResult.layer, let head = serverResult.1 {
            accuracy = try Evaluation.accuracy(conv: conv, head: head, spec: setup.spec, data: test)
        }
        var report = LocalRunReport(
            mode: c.mode, adversary: c.adversary,
            stepsCompleted: honest?.completedSteps
                ?? min(clientResult.outcome.completedSteps, serverResult.0.completedSteps),
            rejected: honest?.rejected ?? (rejectedBy != nil),
            rejection: honest?.rejection ?? clientResult.outcome.rejection ?? serverResult.0.rejection,
            reason: honest?.reason ?? clientResult.outcome.reason ?? serverResult.0.reason,
            rejectedBy: rejectedBy, session: clientResult.outcome.session,
            transcriptHead: clientResult.outcome.transcriptHead,
            client: clientResult.outcome.stats, server: serverResult.0.stats, testAccuracy: accuracy)
        report.error = honest?.error ?? clientResult.outcome.error ?? serverResult.0.error
        return Result(report: report, clientLayer: clientResult.layer, serverLayer: serverResult.1)
    }
}

/// Collects the server's session results for the run that waits on them.
actor ServerResults {
    var results: [(SessionOutcome, QuantizedDense?)] = []
    var waiting: CheckedContinuation<(SessionOutcome, QuantizedDense?), Never>?

    func add(_ outcome: SessionOutcome, _ layer: QuantizedDense?) {
        if let waiting {
            self.waiting = nil
            waiting.resume(returning: (outcome, layer))
        } else {
            results.append((outcome, layer))
        }
    }

    func next() async -> (SessionOutcome, QuantizedDense?) {
        if !results.isEmpty { return results.removeFirst() }
        return await withCheckedContinuation { waiting = $0 }
    }
}

/// Test accuracy of the split model as the circuits compute it (fixed point).
public enum Evaluation {
    public static func accuracy(
        conv: QuantizedConv2d, head: QuantizedDense, spec: CircuitSpec, data: Dataset
    ) throws -> Double {
        let size = spec.input.channels * spec.input.height * spec.input.width
        let pixels = data.features.storage
        var correct = 0
        for n in 0..<data.count {
            let x = try pixels[(n * size)..<((n + 1) * size)].map { try spec.quantizeInput($0) }
            let logits = try head.forward(try conv.forward(x))
            let predicted = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            if predicted == data.labels[n] { correct += 1 }
        }
        return Double(correct) / Double(max(data.count, 1))
    }
}
