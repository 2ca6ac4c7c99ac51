import Algebra
import Groth16
import ZKML

/// A dishonest party the CLI and tests can play, each against one guarantee of the protocol.
/// `verified` and `pipelined` sessions catch all of them; `ledger` catches only what its
/// commitments and frame checks see (`bad-commitment`, `garbage-frame`, `extreme-gradient`);
/// `plain` only frames that do not parse and values out of range.
///
/// Each plugs into an honest party's state machine as a `PartyTamper` (`tamper(attackStep:)`):
/// the machines have no adversary branches.
public enum Adversary: String, CaseIterable, Sendable, Codable {
    case none
    /// Server: returns the gradient of its own objective (here: the loss on another label, as a
    /// feature-space hijacking server trains the client toward its own target).
    case fsha
    /// Server: scales and shifts the true gradient.
    case scaleGradient = "scale-gradient"
    /// Client: sends activations that do not come from its committed weights.
    case forgedActivations = "forged-activations"
    /// Client: solves for a field-valued "input" that its committed convolution maps to the
    /// activations it wants, and proves the forward pass on it (defeated by the range checks
    /// and the dataset commitment).
    case forgedInput = "forged-input"
    /// Server: sends the proof of the previous step again.
    case replay
    /// Server: sends a valid proof made for another session.
    case wrongSession = "wrong-session"
    /// Server: its gradient does not open the commitment it sends.
    case badCommitment = "bad-commitment"
    /// Client: sends a frame of random bytes instead of its activations.
    case garbageFrame = "garbage-frame"
    /// Server: sends Int64.min and Int64.max as gradient values (a peer's input must never trap
    /// the honest side: every mode refuses it by its range check).
    case extremeGradient = "extreme-gradient"
    /// Client: trains on an image outside its committed set: the batch's first sample with one
    /// pixel changed, hashed to a fresh leaf and proven honestly, sent with the scheduled
    /// index's real Merkle path (caught by the dataset opening: natively for a batch, inside
    /// the one-sample forward proof otherwise).
    case offDataset = "off-dataset"

    public enum Side: String, Sendable { case client, server }

    public var side: Side? {
        switch self {
        case .none: return nil
        case .forgedActivations, .forgedInput, .garbageFrame, .offDataset: return .client
        case .fsha, .scaleGradient, .replay, .wrongSession, .badCommitment, .extremeGradient: return .server
        }
    }

    /// The adversaries a mode is expected to catch (the ledger baseline misses the rest).
    public func isCaught(by mode: SplitMode) -> Bool {
        switch (self, mode) {
        case (.none, _): return false
        case (.extremeGradient, _): return true
        case (_, .verified), (_, .pipelined): return true
        case (.badCommitment, .ledger), (.garbageFrame, .ledger), (.garbageFrame, .plain): return true
        default: return false
        }
    }

    /// The hook that plays this adversary at step `attackStep` (nil for `none`).
    public func tamper(attackStep: UInt64) -> (any PartyTamper)? {
        switch self {
        case .none: return nil
        case .fsha: return OtherObjective(attackStep: attackStep)
        case .scaleGradient: return ScaledGradient(attackStep: attackStep, extreme: false)
        case .extremeGradient: return ScaledGradient(attackStep: attackStep, extreme: true)
        case .forgedActivations: return ForgedActivations(attackStep: attackStep, solveInput: false)
        case .forgedInput: return ForgedActivations(attackStep: attackStep, solveInput: true)
        case .replay: return ReplayedProof(attackStep: attackStep)
        case .wrongSession: return OtherSession(attackStep: attackStep)
        case .badCommitment: return BadOpening(attackStep: attackStep)
        case .garbageFrame: return GarbageFrame(attackStep: attackStep)
        case .offDataset: return OffDataset(attackStep: attackStep)
        }
    }
}

/// What a dishonest server may change before its step: the labels it trains and proves on (one
/// per sample of the batch), and the session id its proof names.
public struct ServerPlan: Sendable {
    public let step: UInt64
    public var labels: [Int]
    public let classes: Int
    public var session: Fr
}

/// What a dishonest client may change before committing: the activations it sends (the batch's
/// rows one after another) and, for its forward proof, a forged input witness (the honest one
/// is the committed sample).
public struct ClientPlan: Sendable {
    public let step: UInt64
    public let layer: QuantizedConv2d
    /// The first sample's input.
    public let input: [Int64]
    /// The batch's samples, as committed (an off-dataset client replaces them; its forward
    /// pass and leaves then follow).
    public var samples: [[Int64]]
    public var activations: [Int64]
    /// 1.0 in the spec's fixed point.
    public let one: Int64
    public var forgedInput: [Fr]?
}

/// What leaves a party: a message, or bytes that are not one.
public enum Outgoing: Sendable {
    case message(Message)
    case raw([UInt8])

    var action: Action {
        switch self {
        case .message(let message): return .send(message)
        case .raw(let bytes): return .sendRaw(bytes)
        }
    }
}

/// A dishonest party's hook into its own state machine (tests and `split run --adversary`):
/// the step it computes and proves, the values it commits to, and each message as it leaves.
/// Defaults change nothing.
public protocol PartyTamper: Sendable {
    /// Server, before its step.
    func plan(_ plan: inout ServerPlan)
    /// Client, before committing to its activations.
    func plan(_ plan: inout ClientPlan)
    /// Server: the gradient it commits to and sends.
    func gradient(_ values: inout [Int64], step: UInt64)
    /// Either side: each message as it leaves (after its commitments and proofs were made).
    mutating func outgoing(_ message: Message) -> Outgoing
}

extension PartyTamper {
    public func plan(_ plan: inout ServerPlan) {}
    public func plan(_ plan: inout ClientPlan) {}
    public func gradient(_ values: inout [Int64], step: UInt64) {}
    public mutating func outgoing(_ message: Message) -> Outgoing { .message(message) }
}

/// fsha: the step (gradient, update and proof) on another label than the client's (the first
/// sample's, in a batch).
struct OtherObjective: PartyTamper {
    let attackStep: UInt64
    func plan(_ plan: inout ServerPlan) {
        if plan.step == attackStep, !plan.labels.isEmpty { plan.labels[0] = (plan.labels[0] + 1) % plan.classes }
    }
}

/// scale-gradient (2g + 1 in the first value) and extreme-gradient (Int64.min and Int64.max),
/// committed to and sent in place of the true gradient; the proof stays the honest one.
struct ScaledGradient: PartyTamper {
    let attackStep: UInt64
    let extreme: Bool
    func gradient(_ values: inout [Int64], step: UInt64) {
        guard step == attackStep else { return }
        values = values.enumerated().map { j, g in
            extreme ? (j == 0 ? .min : j == 1 ? .max : g) : 2 &* g &+ (j == 0 ? 1 : 0)
        }
    }
}

/// forged-activations (the first value moved by 1.0 after the honest forward pass) and
/// forged-input (the same target, with an input solved over the field that the committed
/// convolution maps to it, proven as the forward pass's witness).
struct ForgedActivations: PartyTamper {
    let attackStep: UInt64
    let solveInput: Bool
    func plan(_ plan: inout ClientPlan) {
        guard plan.step == attackStep else { return }
        var target = plan.activations
        if !target.isEmpty { target[0] += plan.one }
        guard solveInput else {
            plan.activations = target
            return
        }
        // Sent only if a witness exists; the adversary proves it, satisfied or not. The batched
        // forward circuit takes no field-valued input, so with a batch the forged activations
        // go out with the honest proof (and are refused like forged-activations).
        guard target.count == plan.layer.outputCount else {
            plan.activations = target
            return
        }
        if let forged = InputForgery.solve(plan.layer, input: plan.input, target: target) {
            plan.forgedInput = forged
            plan.activations = target
        }
    }
}

/// off-dataset: the first sample's first pixel moved within the input range, so the image is
/// (almost surely) in no committed leaf.
struct OffDataset: PartyTamper {
    let attackStep: UInt64
    func plan(_ plan: inout ClientPlan) {
        guard plan.step == attackStep, !plan.samples.isEmpty, !plan.samples[0].isEmpty else { return }
        plan.samples[0][0] = plan.samples[0][0] == 0 ? 1 : 0
    }
}

/// replay: the proof of the previous step, in the gradient (inline) or its proof bundle (deferred).
struct ReplayedProof: PartyTamper {
    let attackStep: UInt64
    var previous: StepProof?
    init(attackStep: UInt64) { self.attackStep = attackStep }

    mutating func outgoing(_ message: Message) -> Outgoing {
        switch message {
        case .gradient(var g):
            let honest = g.proof
            if g.step == attackStep, honest != nil, let previous { g.proof = previous }
            previous = honest ?? previous
            return .message(.gradient(g))
        case .proof(var bundle):
            let honest = bundle.proof
            if bundle.step == attackStep, let previous { bundle.proof = previous }
            previous = honest ?? previous
            return .message(.proof(bundle))
        default:
            return .message(message)
        }
    }
}

/// wrong-session: a valid proof of the step, made for another session id.
struct OtherSession: PartyTamper {
    let attackStep: UInt64
    func plan(_ plan: inout ServerPlan) {
        if plan.step == attackStep { plan.session = plan.session + Fr(1) }
    }
}

/// bad-commitment: a salt that does not open the gradient's commitment.
struct BadOpening: PartyTamper {
    let attackStep: UInt64
    mutating func outgoing(_ message: Message) -> Outgoing {
        guard case .gradient(var g) = message, g.step == attackStep, g.salt != nil else { return .message(message) }
        g.salt = Fr.random()
        return .message(.gradient(g))
    }
}

/// garbage-frame: random bytes where the activations should be.
struct GarbageFrame: PartyTamper {
    let attackStep: UInt64
    mutating func outgoing(_ message: Message) -> Outgoing {
        guard case .activations(let a) = message, a.step == attackStep else { return .message(message) }
        return .raw(SecureRandom.bytes(64))
    }
}
