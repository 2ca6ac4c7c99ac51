import Audit
import Foundation
import SplitLearning

/// How big each part of the demo is. `quick` fits the tests' one-minute budget, `full` the
/// README's "a few minutes" on a 2-core machine (both measured; see `Demo`).
public struct DemoSizes: Sendable, Equatable {
    /// Verified training steps (16 samples each with the embedded spec; proving dominates, at
    /// about 1.8 s per step).
    public var verifiedSteps: Int
    /// Steps of the plain-mode reference session (same sockets and arithmetic, no proofs).
    public var plainSteps: Int
    /// Dishonest servers played against a verified session, each for one step.
    public var adversaries: [Adversary]
    /// QBI: neurons of the malicious layer, the victim batch size and the number of seeds.
    public var qbiNeurons: Int
    public var qbiBatch: Int
    public var qbiSeeds: Int
    /// Audit: members (and as many non-members) per audited model.
    public var auditExamples: Int
    public var auditAttack: AttackKind
    /// Reference models for the shadow-model attacks (ignored by the loss attack).
    public var shadowModels: Int
    /// Epochs of the audited cnn-small's plain (and DP-Weights) and DP-SGD training. The full run's
    /// 20 / 15 keep its audit stage near a minute on 2 cores: at 50 / 30 (sized for the earlier
    /// 430-parameter audit model) the stage took 141 s of a 209 s demo (2026-12-03, load 1.2-1.4).
    public var epochs: Int
    public var dpEpochs: Int
    /// The one epsilon both DP methods are set to (delta 1e-5 for DP-SGD, 1/n^2 for DP-Weights).
    public var epsilon: Double

    public init(
        verifiedSteps: Int, plainSteps: Int, adversaries: [Adversary], qbiNeurons: Int, qbiBatch: Int, qbiSeeds: Int,
        auditExamples: Int, auditAttack: AttackKind, shadowModels: Int, epochs: Int, dpEpochs: Int, epsilon: Double
    ) {
        self.verifiedSteps = verifiedSteps
        self.plainSteps = plainSteps
        self.adversaries = adversaries
        self.qbiNeurons = qbiNeurons
        self.qbiBatch = qbiBatch
        self.qbiSeeds = qbiSeeds
        self.auditExamples = auditExamples
        self.auditAttack = auditAttack
        self.shadowModels = shadowModels
        self.epochs = epochs
        self.dpEpochs = dpEpochs
        self.epsilon = epsilon
    }

    /// `verisplit demo --quick`: under a minute.
    public static let quick = DemoSizes(
        verifiedSteps: 3, plainSteps: 1000, adversaries: [.fsha], qbiNeurons: 200, qbiBatch: 10, qbiSeeds: 2,
        auditExamples: 250, auditAttack: .loss, shadowModels: 0, epochs: 30, dpEpochs: 15, epsilon: 3)

    /// `verisplit demo`: a few minutes.
    public static let full = DemoSizes(
        verifiedSteps: 80, plainSteps: 2000, adversaries: [.fsha, .replay, .scaleGradient, .wrongSession],
        qbiNeurons: 500, qbiBatch: 20, qbiSeeds: 10, auditExamples: 1000, auditAttack: .rmia, shadowModels: 16,
        epochs: 20, dpEpochs: 15, epsilon: 3)

    /// Throws the first size that cannot work.
    public func validate() throws(DemoError) {
        func require(_ ok: Bool, _ name: String, _ value: Any, _ requirement: String) throws(DemoError) {
            if !ok { throw .invalidOption(name: name, value: "\(value)", requirement: requirement) }
        }
        try require(verifiedSteps >= 1, "verified steps", verifiedSteps, "must be >= 1")
        try require(plainSteps >= 1, "plain steps", plainSteps, "must be >= 1")
        try require(
            adversaries.allSatisfy { $0.side == .server }, "adversaries", adversaries.map(\.rawValue),
            "must all be server adversaries (\(Adversary.allCases.filter { $0.side == .server }.map(\.rawValue).joined(separator: ", ")))"
        )
        try require(
            qbiNeurons >= 1 && qbiBatch >= 2 && qbiSeeds >= 1, "qbi", "\(qbiNeurons)/\(qbiBatch)/\(qbiSeeds)",
            "needs neurons >= 1, batch >= 2, seeds >= 1")
        try require(auditExamples >= 2, "audit examples", auditExamples, "must be >= 2")
        try require(
            !auditAttack.needsShadowModels || (shadowModels >= 4 && shadowModels % 2 == 0), "shadow models",
            shadowModels,
            "\(auditAttack.rawValue) needs an even number >= 4")
        try require(epochs >= 1 && dpEpochs >= 1, "epochs", "\(epochs)/\(dpEpochs)", "must be >= 1")
        try require(epsilon > 0 && epsilon.isFinite, "epsilon", epsilon, "must be a finite number > 0")
    }
}

/// What `Demo.run` does and where it writes.
public struct DemoOptions: Sendable {
    public var quick: Bool
    /// The output folder (created; files in it are overwritten).
    public var output: URL
    public var sizes: DemoSizes
    public var seed: UInt64
    /// The `verisplit` executable: when set, the verified training runs its server as a separate
    /// OS process (`verisplit split server`); when nil, both parties run in this process (still
    /// over real loopback sockets), as the tests do.
    public var serverExecutable: URL?

    public init(
        quick: Bool = false, output: URL = URL(fileURLWithPath: "verisplit-demo"), sizes: DemoSizes? = nil,
        seed: UInt64 = 1,
        serverExecutable: URL? = nil
    ) {
        self.quick = quick
        self.output = output
        self.sizes = sizes ?? (quick ? .quick : .full)
        self.seed = seed
        self.serverExecutable = serverExecutable
    }
}

/// Why the demo stopped.
public enum DemoError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidOption(name: String, value: String, requirement: String)
    /// A stage failed; `reason` is the underlying error's text.
    case stage(String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, requirement): return "invalid \(name) = \(value): \(requirement)"
        case let .stage(stage, reason): return "demo stage '\(stage)' failed: \(reason)"
        case let .writeFailed(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}
