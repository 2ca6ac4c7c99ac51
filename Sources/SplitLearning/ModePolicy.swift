/// The modes of a split session, from the strongest to none.
public enum SplitMode: String, CaseIterable, Sendable, Codable {
    /// Every message carries its proof and is verified before use.
    case verified
    /// Both sides train up to `pipelineDepth` steps ahead of the proofs, which follow in
    /// `ProofBundle` frames; a failed proof rolls the receiver back to its last verified state.
    case pipelined
    /// Hash-chained commitments only: catches tampering in transit, not a wrong computation.
    case ledger
    /// No integrity at all: the speed reference.
    case plain

    public var usesProofs: Bool { self == .verified || self == .pipelined }
    public var usesCommitments: Bool { self != .plain }

    /// The policy a session in this mode follows (`depth`: pipelined mode's window).
    public func policy(pipelineDepth depth: Int) -> any ModePolicy {
        switch self {
        case .verified: return VerifiedMode()
        case .pipelined: return PipelinedMode(depth: depth)
        case .ledger: return LedgerMode()
        case .plain: return PlainMode()
        }
    }
}

/// How a mode's messages carry their proofs.
public enum ProofDelivery: Sendable, Equatable {
    /// No proofs.
    case none
    /// In the message they prove, verified before the message is used.
    case inline
    /// In `ProofBundle` frames that follow the message, at most `depth` steps behind; a proof
    /// that fails rolls the receiver back to its last verified state and ends the session.
    case deferred(depth: Int)
}

/// Everything in which the modes differ, so the parties' state machines ask their policy instead
/// of branching on the mode: whether messages carry commitments (hiding commitments, transcript
/// links, weight-commitment chains, the dataset root), how proofs travel, and hence which steps
/// a party keeps when a session ends early and when a step's record is complete.
public protocol ModePolicy: Sendable {
    var mode: SplitMode { get }
    var commitments: Bool { get }
    var proofs: ProofDelivery { get }
}

extension ModePolicy {
    public var usesProofs: Bool { proofs != .none }

    /// Proofs follow their messages (pipelined mode).
    public var defersProofs: Bool {
        if case .deferred = proofs { return true }
        return false
    }

    /// The pipeline window (0 outside pipelined mode).
    public var depth: Int {
        if case .deferred(let depth) = proofs { return depth }
        return 0
    }

    /// The steps a party keeps of `done`, when its peer's proofs are verified through `verified`:
    /// everything it did, except in deferred mode, where steps beyond the verified ones roll back.
    public func keptSteps(done: UInt64, verified: UInt64) -> UInt64 {
        if case .deferred = proofs { return min(done, verified) }
        return done
    }

    /// A step record is complete (final, to be written to the record file) when it has its
    /// gradient, the client's weights after the update (modes with commitments) and all three
    /// proofs (modes with proofs).
    public func isComplete(_ record: StepRecord) -> Bool {
        guard !record.gradient.isEmpty else { return false }
        if commitments, record.clientWeightsAfter == nil { return false }
        if usesProofs { return record.forwardProof != nil && record.serverProof != nil && record.updateProof != nil }
        return true
    }
}

/// Proofs in every message, verified before use.
public struct VerifiedMode: ModePolicy {
    public var mode: SplitMode { .verified }
    public var commitments: Bool { true }
    public var proofs: ProofDelivery { .inline }
    public init() {}
}

/// Proofs in their own frames, up to `depth` steps behind the messages.
public struct PipelinedMode: ModePolicy {
    public let depth: Int
    public var mode: SplitMode { .pipelined }
    public var commitments: Bool { true }
    public var proofs: ProofDelivery { .deferred(depth: depth) }
    public init(depth: Int) { self.depth = depth }
}

/// Commitments and the hash chain, no proofs: the baseline that cannot tell a wrong computation.
public struct LedgerMode: ModePolicy {
    public var mode: SplitMode { .ledger }
    public var commitments: Bool { true }
    public var proofs: ProofDelivery { .none }
    public init() {}
}

/// No integrity at all: the speed reference.
public struct PlainMode: ModePolicy {
    public var mode: SplitMode { .plain }
    public var commitments: Bool { false }
    public var proofs: ProofDelivery { .none }
    public init() {}
}
