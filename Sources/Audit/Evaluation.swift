import Foundation
import NeuralNet

/// Everything measured about one attack's scores: ROC, summary metrics, the Clopper-Pearson
/// epsilon lower bound (threshold chosen on held-out scores; the optimistic post-hoc figure
/// beside it) and the one-run (Steinke et al. 2023) bound.
public struct AttackEvaluation: Sendable {
    public let attack: String
    public let memberScores: [Double]
    public let nonMemberScores: [Double]
    public let roc: ROCCurve
    public let metrics: MembershipMetrics
    public let epsilon: EmpiricalEpsilon
    public let oneRun: OneRunAudit.Result

    /// Evaluates scores (higher = member). Throws if a group has fewer than 2 scores or a score
    /// is NaN.
    public init(
        attack: String, memberScores: [Double], nonMemberScores: [Double], delta: Double,
        confidence: Double = 0.95
    ) throws(AuditError) {
        self.attack = attack
        self.memberScores = memberScores
        self.nonMemberScores = nonMemberScores
        roc = try ROCCurve(memberScores: memberScores, nonMemberScores: nonMemberScores)
        metrics = MembershipMetrics(roc: roc)
        epsilon = try EmpiricalEpsilon(
            memberScores: memberScores, nonMemberScores: nonMemberScores, delta: delta,
            confidence: confidence)
        oneRun = try OneRunAudit.audit(
            scores: memberScores + nonMemberScores,
            included: [Bool](repeating: true, count: memberScores.count)
                + [Bool](repeating: false, count: nonMemberScores.count),
            delta: delta, confidence: confidence)
    }
}

/// Settings of a membership-inference audit of one trained model.
public struct MIAConfiguration: Sendable {
    public var attack: AttackKind
    /// Shadow/reference models to train (LiRA, RMIA).
    public var shadowModels: Int
    public var seed: UInt64
    /// Members and non-members audited (each side is subsampled to this, and both sides to the
    /// same count, so the one-run bound's coin-flip model fits).
    public var examplesPerSide: Int
    public var delta: Double
    public var confidence: Double
    /// Where shadow models are cached; nil disables the cache.
    public var cacheDirectory: URL?
    public var attackParameters: AttackParameters
    public var showProgress: Bool

    public init(
        attack: AttackKind, shadowModels: Int = 16, seed: UInt64 = 1, examplesPerSide: Int = 1000, delta: Double = 1e-5,
        confidence: Double = 0.95, cacheDirectory: URL? = ShadowCache.defaultDirectory,
        attackParameters: AttackParameters = AttackParameters(), showProgress: Bool = true
    ) {
        self.attack = attack
        self.shadowModels = shadowModels
        self.seed = seed
        self.examplesPerSide = examplesPerSide
        self.delta = delta
        self.confidence = confidence
        self.cacheDirectory = cacheDirectory
        self.attackParameters = attackParameters
        self.showProgress = showProgress
    }
}

/// The outcome of `MembershipAudit.run`.
public struct MIAResult: Sendable {
    public let configuration: MIAConfiguration
    public let evaluation: AttackEvaluation
    public let membersAvailable: Int
    public let nonMembersAvailable: Int
    public let targetMemberAccuracy: Double
    public let targetNonMemberAccuracy: Double
    public let shadowCount: Int
    public let shadowCacheHits: Int
    public let shadowSeconds: Double
    public let trainerParameters: [(String, String)]
    public let seconds: Double
}

/// Membership-inference audit of a trained model against known members and non-members.
public enum MembershipAudit {
    /// Audits `target` (trained on a set containing `members`, not containing `nonMembers`).
    ///
    /// Both sides are subsampled (seeded) to the same size n <= `examplesPerSide`; the 2n examples
    /// form the pool. Attacks with shadow models train `shadowModels` models with `trainer` on
    /// balanced random halves of the pool (each example IN for half of them), as in Carlini et al.
    /// (2022); RMIA's population samples are the non-members. Throws `AuditError` for data that
    /// does not fit the model.
    public static func run(
        spec: ModelSpec, target: Sequential, members: Dataset, nonMembers: Dataset,
        trainer: any ModelTrainer, configuration c: MIAConfiguration
    ) throws(AuditError) -> MIAResult {
        let start = Date()
        try check(spec: spec, data: members, role: "members (--train)")
        try check(spec: spec, data: nonMembers, role: "non-members (--test)")
        guard c.examplesPerSide >= 2 else {
            throw .invalidParameter(name: "examples", value: "\(c.examplesPerSide)", requirement: "must be >= 2")
        }
        guard c.delta >= 0, c.delta < 1 else {
            throw .invalidParameter(name: "delta", value: "\(c.delta)", requirement: "must lie in [0, 1)")
        }
        guard c.confidence > 0, c.confidence < 1 else {
            throw .invalidParameter(name: "confidence", value: "\(c.confidence)", requirement: "must lie in (0, 1)")
        }
        if c.attack.needsShadowModels, c.shadowModels < 4 {
            throw .invalidParameter(
                name: "shadow-models", value: "\(c.shadowModels)",
                requirement: "\(c.attack.rawValue) needs at least 4 (16 or more recommended)")
        }
        let n = min(c.examplesPerSide, members.count, nonMembers.count)
        guard n >= 2 else { throw .tooFewExamples(what: "members and non-members each", have: n, need: 2) }
        var rng = SeededGenerator(seed: c.seed)
        var mIdx = Array(0..<members.count), nIdx = Array(0..<nonMembers.count)
        rng.shuffle(&mIdx)
        rng.shuffle(&nIdx)
        let pool = try concatenate(
            members.subset(Array(mIdx.prefix(n)).sorted()), nonMembers.subset(Array(nIdx.prefix(n)).sorted()))
        let memberIdx = Array(0..<n), nonMemberIdx = Array(n..<(2 * n))
        let targetOut = try ExampleOutputs.evaluate(model: target, data: pool)
        var shadows: ShadowModels?
        if c.attack.needsShadowModels {
            let masks = ShadowTraining.balancedMasks(models: c.shadowModels, examples: pool.count, seed: c.seed)
            shadows = try ShadowTraining.train(
                spec: spec, pool: pool, masks: masks, trainer: trainer, seed: c.seed,
                cache: c.cacheDirectory.map(ShadowCache.init(directory:)),
                label: c.attack == .rmia || c.attack == .rmiaOffline ? "reference models" : "shadow models",
                showProgress: c.showProgress)
        }
        let all = memberIdx + nonMemberIdx
        let scores = try MembershipAttack.scores(
            c.attack, target: targetOut, examples: all, shadows: shadows,
            population: nonMemberIdx, parameters: c.attackParameters)
        let evaluation = try AttackEvaluation(
            attack: c.attack.rawValue, memberScores: Array(scores[0..<n]),
            nonMemberScores: Array(scores[n...]), delta: c.delta, confidence: c.confidence)
        return MIAResult(
            configuration: c, evaluation: evaluation, membersAvailable: members.count,
            nonMembersAvailable: nonMembers.count,
            targetMemberAccuracy: targetOut.accuracy(memberIdx),
            targetNonMemberAccuracy: targetOut.accuracy(nonMemberIdx),
            shadowCount: shadows?.count ?? 0, shadowCacheHits: shadows?.cacheHits ?? 0,
            shadowSeconds: shadows?.seconds ?? 0,
            trainerParameters: trainer.parameters, seconds: Date().timeIntervalSince(start))
    }

    /// Throws unless every sample of `data` has the spec's input size and every label has an output.
    public static func check(spec: ModelSpec, data: Dataset, role: String) throws(AuditError) {
        let expected = spec.inputShape.reduce(1, *)
        guard data.sampleSize == expected else {
            throw .mismatch(
                what: role,
                detail:
                    "samples have shape \(data.sampleShape) (\(data.sampleSize) values), the model expects \(spec.inputShape)",
                hint: "pass data with the model's input size")
        }
        guard data.classCount <= spec.outputSize, (data.labels.max() ?? 0) < spec.outputSize else {
            throw .mismatch(
                what: role,
                detail: "labels go up to \(data.labels.max() ?? 0) but the model has \(spec.outputSize) outputs",
                hint: "pass data labelled for this model")
        }
        guard data.count > 0 else { throw .tooFewExamples(what: role, have: 0, need: 2) }
    }

    /// The samples of `a` followed by those of `b` (same sample size required).
    public static func concatenate(_ a: Dataset, _ b: Dataset) throws(AuditError) -> Dataset {
        guard a.sampleSize == b.sampleSize else {
            throw .mismatch(
                what: "members and non-members", detail: "sample shapes \(a.sampleShape) and \(b.sampleShape) differ",
                hint: "pass two data sets of the same kind")
        }
        let storage = a.features.storage + b.features.storage
        do {
            let features = try Tensor(shape: [a.count + b.count] + a.sampleShape, storage: storage)
            return try Dataset(
                features: features, labels: a.labels + b.labels, classCount: max(a.classCount, b.classCount))
        } catch {
            throw .mismatch(what: "pooled data", detail: "\(error)", hint: "check the input data sets")
        }
    }
}
