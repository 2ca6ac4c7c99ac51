import Foundation
import Logging
import ZKML

/// The server's settings.
public struct ServerOptions: Sendable {
    /// Modes this server accepts.
    public var modes: Set<SplitMode> = Set(SplitMode.allCases)
    /// Seeds the initial weights of every new session's head.
    public var seed: UInt64 = 2
    /// Root of the per-session state (`sessions/<id>/checkpoint.json`, `record.jsonl`).
    public var stateDirectory: URL?
    public var maxPipelineDepth = 16
    public var maxSteps: UInt64 = 10_000_000
    public var adversary: Adversary = .none
    /// The step at which a dishonest server acts.
    public var attackStep: UInt64 = 1
    /// Experiments only: accept clients that ask for a fixed sample order (`fixed_schedule`)
    /// instead of the session's coin toss. Off for a real deployment.
    public var allowFixedSchedule = false
    /// Where this party's proofs are made (nil: in this process).
    public var proofService: (any ProofService)?
    /// A durable ledger for the sessions' records and checkpoints (`--db`); it replaces
    /// `stateDirectory` when set.
    public var sessionLedger: (any SessionLedger)?

    public init() {}
}

/// The server side of split sessions: runs the top layer (the spec's Dense head with its
/// loss) for each connected client, checking every message before training on it. The protocol
/// is `ServerStateMachine`; this type runs one per connection.
public struct SplitServer: Sendable {
    public let setup: SessionSetup
    public let options: ServerOptions
    public let logger: Logger

    public init(setup: SessionSetup, options: ServerOptions, logger: Logger = .split) {
        self.setup = setup
        self.options = options
        self.logger = logger
    }

    public static func initialLayer(spec: CircuitSpec, seed: UInt64) throws -> QuantizedDense {
        try spec.sampleLayers(seed: seed).server
    }

    /// The state machine for one connection.
    public func machine() throws -> ServerStateMachine {
        try ServerStateMachine(setup: setup, options: options)
    }

    /// Serves one connection to its end; never throws (see `SessionOutcome.reason`).
    public func handle(_ channel: FrameChannel) async -> (outcome: SessionOutcome, layer: QuantizedDense?) {
        let remote = channel.channel.remoteAddress?.description ?? "client"
        let machine: ServerStateMachine
        do { machine = try self.machine() } catch {
            try? await channel.executeThenClose { _, _ in }
            var outcome = SessionOutcome()
            outcome.reason = "\(error)"
            outcome.error = error as? SplitError
            return (outcome, nil)
        }
        let store =
            options.sessionLedger.map { SessionStore.ledger($0, role: .server) }
            ?? options.stateDirectory.map { SessionStore.perSession(root: $0) } ?? .none
        let (outcome, final) = await SessionDriver.run(
            machine, over: channel, peerName: remote, keys: setup.keys, store: store, logger: logger,
            prover: options.proofService ?? InProcessProofService())
        return (outcome, final.layer)
    }
}
