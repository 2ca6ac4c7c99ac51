import Algebra
import Commitment
import Foundation
import Logging
import NeuralNet
import ZKML

/// The client's settings for one session.
public struct ClientOptions: Sendable {
    public var mode: SplitMode = .verified
    /// Steps to train in total (a resumed session continues up to this count).
    public var steps: Int = 10
    /// Pipelined mode: how many steps either side may run ahead of the verified proofs. A
    /// dishonest server can steer the client's weights for up to this many steps before its
    /// first bad proof is detected (the client then rolls back), so the client refuses more than
    /// `maxPipelineDepth`.
    public var pipelineDepth: Int = 4
    public static let maxPipelineDepth = 8
    /// Seeds the initial weights.
    public var seed: UInt64 = 1
    /// Experiments only: draw the sample order from this public seed instead of the session's
    /// coin toss (so two sessions train on the same order); the server must allow it.
    public var fixedScheduleSeed: UInt64?
    /// Where `checkpoint.json` and `record.jsonl` go; nil keeps nothing on disk.
    public var stateDirectory: URL?
    /// Continue the session in `stateDirectory` instead of starting a new one.
    public var resume = false
    public var adversary: Adversary = .none
    /// The step at which a dishonest client acts.
    public var attackStep: UInt64 = 1
    /// Leave without a word after this many steps in this run, as a killed process would.
    public var stopAfterSteps: Int?
    /// Called after each step this side finished, with the number of steps done (progress displays).
    public var onStep: (@Sendable (UInt64) -> Void)?
    /// Where this party's proofs are made (nil: in this process).
    public var proofService: (any ProofService)?
    /// A durable ledger for the session's record and checkpoint (`--db`); it replaces
    /// `stateDirectory` when set.
    public var sessionLedger: (any SessionLedger)?
    /// With `resume`: the stored session to continue, read from `sessionLedger` by the caller
    /// (`loadStoredSession`); without it `resume` reads `stateDirectory`.
    public var storedSession: StoredSession?

    public init() {}

    /// Reads the session to resume from `sessionLedger` into `storedSession` (the client's most
    /// recent one); nothing without `resume` or a ledger.
    public mutating func loadStoredSession() async throws {
        guard resume, let sessionLedger else { return }
        guard let stored = try await sessionLedger.latest(role: .client) else {
            throw SplitError.invalidArgument("--resume: the ledger holds no client session to continue")
        }
        storedSession = stored
    }
}

/// The client side of a split session: owns the data and the bottom layer (the spec's
/// convolution) and trains it with the gradients the server returns, after checking them.
/// The protocol is `ClientStateMachine`; this type prepares its data and runs it over a
/// connection.
public struct SplitClient: Sendable {
    public let setup: SessionSetup
    public let data: Dataset
    public let options: ClientOptions
    public let logger: Logger
    /// The quantized samples and the dataset commitment, made before connecting (`prepare`).
    var prepared: ClientData?

    public init(setup: SessionSetup, data: Dataset, options: ClientOptions, logger: Logger = .split) {
        self.setup = setup
        self.data = data
        self.options = options
        self.logger = logger
    }

    /// Quantizes the training set and commits it (a leaf hash per sample and the Merkle tree),
    /// reading the secrets from the checkpoint on resume. Call it before connecting: a server
    /// times out a connection that stays silent while the client hashes its data. `run`
    /// prepares by itself if this was not called.
    public func prepare() throws -> SplitClient {
        var copy = self
        copy.prepared = try ClientData(setup: setup, data: data, options: options)
        return copy
    }

    /// The client's weights at the start of a new session (seeded, as the spec's sample layers).
    public static func initialLayer(spec: CircuitSpec, seed: UInt64) throws -> QuantizedConv2d {
        try spec.sampleLayers(seed: seed).client
    }

    /// The state machine for one connection.
    public func machine() throws -> ClientStateMachine {
        try ClientStateMachine(
            setup: setup, options: options, data: prepared ?? ClientData(setup: setup, data: data, options: options))
    }

    /// Runs the session over `channel` and closes it. Never throws: every failure ends up in
    /// the outcome's `reason`, with `rejected` set when this side refused a peer's message.
    public func run(over channel: FrameChannel) async -> (outcome: SessionOutcome, layer: QuantizedConv2d?) {
        let machine: ClientStateMachine
        do { machine = try self.machine() } catch {
            try? await channel.executeThenClose { _, _ in }
            var outcome = SessionOutcome()
            outcome.reason = "\(error)"
            outcome.error = error as? SplitError
            logger.warning("client: session with server ended: \(outcome.reason ?? "")")
            return (outcome, nil)
        }
        let store =
            options.sessionLedger.map { SessionStore.ledger($0, role: .client) }
            ?? options.stateDirectory.map { SessionStore.directory($0) } ?? .none
        let (outcome, final) = await SessionDriver.run(
            machine, over: channel, peerName: "server", keys: setup.keys, store: store,
            logger: logger, prover: options.proofService ?? InProcessProofService(),
            onProgress: options.onStep)
        return (outcome, final.layer)
    }
}

/// What a client commits to before a session: its samples in fixed point (validated against the
/// spec's input range and classes), the dataset commitment with its secret, the schedule secret,
/// and on resume the stored session those came from.
public struct ClientData: Sendable {
    public let samples: [[Int64]]
    public let labels: [Int]
    let datasetSecret: [UInt8]
    let scheduleSecret: [UInt8]
    /// The committed training set (modes with commitments).
    let dataset: CommittedDataset?
    public let announcement: DatasetAnnouncement
    /// On resume: the checkpoint and record this client continues from.
    let stored: StoredSession?
    let checkpointPath: String?

    /// The client's data for `options`; with `options.resume`, the stored session comes from
    /// `options.stateDirectory`.
    public init(setup: SessionSetup, data: Dataset, options: ClientOptions) throws {
        var stored = options.resume ? options.storedSession : nil
        var path: String?
        if stored == nil, let directory = options.stateDirectory {
            let files = SessionFiles(directory: directory)
            path = files.checkpointURL.path
            if options.resume { stored = try files.readSession() }
        }
        if options.resume, stored == nil {
            throw SplitError.invalidArgument(
                options.sessionLedger == nil
                    ? "--resume needs a checkpoint in --state DIR; none found"
                    : "--resume: call loadStoredSession() first (the ledger is read asynchronously)")
        }
        try self.init(setup: setup, data: data, options: options, resuming: stored, checkpointPath: path)
    }

    /// The client's data, resuming `stored` when given (its secrets are reused, so the dataset
    /// and schedule commitments come out as they were announced).
    public init(
        setup: SessionSetup, data: Dataset, options: ClientOptions, resuming stored: StoredSession?,
        checkpointPath: String? = nil
    ) throws {
        let spec = setup.spec
        let mode = options.mode
        guard data.count > 0 else { throw SplitError.invalidArgument("the client has no training samples") }
        let size = spec.inputCount
        guard size == data.features.count / data.count else {
            throw SplitError.invalidArgument(
                "the data's samples do not have the spec's input shape \(spec.input.channels)x\(spec.input.height)x\(spec.input.width)"
            )
        }
        let layout = spec.inputLayout, classes = spec.server.outputs
        let pixels = data.features.storage
        var samples: [[Int64]] = []
        samples.reserveCapacity(data.count)
        for n in 0..<data.count {
            let values = try pixels[(n * size)..<((n + 1) * size)].map { try spec.quantizeInput($0) }
            if let bad = values.firstIndex(where: { !layout.contains($0) }) {
                throw SplitError.invalidArgument(
                    "sample \(n), value \(bad) = \(values[bad]) is outside the spec's input range [0, 2^\(layout.bits)) (input.bits)"
                )
            }
            samples.append(values)
        }
        for (n, label) in data.labels.enumerated() where !(0..<classes).contains(label) {
            throw SplitError.invalidArgument("sample \(n) has label \(label), not one of the spec's \(classes) classes")
        }
        if let stored {
            let checkpoint = stored.checkpoint
            guard checkpoint.mode == mode, checkpoint.specHash == setup.specHash else {
                throw SplitError.rejected(
                    step: 0,
                    .notResumable(
                        reason:
                            "the checkpoint is for mode \(checkpoint.mode.rawValue) and spec \(Hex.encode(checkpoint.specHash).prefix(12)), not this session's"
                    ))
            }
            guard let datasetSecret = checkpoint.datasetSecret, datasetSecret.count == 32,
                let scheduleSecret = checkpoint.scheduleSecret, scheduleSecret.count == 32
            else {
                throw SplitError.file(
                    path: checkpointPath ?? "checkpoint",
                    reason: "the checkpoint lacks the dataset and schedule secrets")
            }
            self.datasetSecret = datasetSecret
            self.scheduleSecret = scheduleSecret
        } else {
            datasetSecret = SecureRandom.bytes(32)
            scheduleSecret = SecureRandom.bytes(32)
        }
        self.stored = stored
        self.checkpointPath = checkpointPath
        var root = Fr.zero
        var dataset: CommittedDataset?
        if mode.usesCommitments {
            do {
                let committed = try CommittedDataset(
                    values: samples, labels: data.labels, classes: classes,
                    layout: layout, depth: spec.datasetDepth, secret: datasetSecret)
                root = committed.root
                dataset = committed
            } catch {
                throw SplitError.invalidArgument(error.description)
            }
        }
        let fixed = options.fixedScheduleSeed
        announcement = DatasetAnnouncement(
            root: root, size: UInt64(samples.count),
            scheduleCommitment: fixed == nil ? SampleSchedule.commitment(to: scheduleSecret) : [],
            fixedScheduleSeed: fixed)
        self.samples = samples
        labels = data.labels
        self.dataset = dataset
    }
}
