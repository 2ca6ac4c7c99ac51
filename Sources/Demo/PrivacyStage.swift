import Audit
import Foundation
import NeuralNet
import Report

/// One audited model of stage 4.
public struct AuditedModel: Sendable {
    /// `plain`, `dpweights-eps3`, `dpsgd-eps3`, ...
    public var name: String
    public var claimedEpsilon: Double?
    public var claimedDelta: Double?
    /// Whether the claim is a proof (DP-SGD's accountant with secret randomness).
    public var proven: Bool?
    /// "proven", "seeded" (the demo's DP-SGD: an accountant's bound for the algorithm, but this
    /// run's batches and noise were seeded for reproducibility) or "heuristic" (DP-Weights).
    public var claimStatus: String?
    public var testAccuracy: Double
    public var auc: Double
    /// TPR at FPR <= 0.1 %.
    public var tprAtLowFPR: Double
    /// Clopper-Pearson (95 %) empirical epsilon lower bound with the threshold chosen on held-out
    /// scores, and the most this audit could show.
    public var epsilonLowerBound: Double
    public var epsilonCeiling: Double
    /// OPTIMISTIC: the best threshold chosen on the same scores (for comparison only).
    public var epsilonLowerBoundPosthoc: Double
    /// The audit's report.html, relative to the output folder.
    public var report: String
    public var seconds: Double
}

/// Stage 4's result.
public struct PrivacySummary: Sendable {
    public var model: String
    public var attack: String
    public var membersPerSide: Int
    public var shadowModels: Int
    public var epsilon: Double
    public var models: [AuditedModel]
}

/// DP-Weights and DP-SGD at one epsilon on the bundled `cnn-small`, each audited for membership.
///
/// The audited network is the bundled spec `cnn-small` (Conv2d 1->8 3x3, ReLU, max-pool, Conv2d
/// 8->16 3x3, ReLU, average-pool, Dense 784->10; 9,098 parameters), on pixels standardized with
/// the members' mean and deviation (as `verisplit audit` does). Issue 21 made DP-SGD on it cost
/// about 1.3 plain epochs, so the demo audits this CNN rather than a float twin of the tiny
/// circuit network. It is trained on a member set with the recipes of `Audit` (`PlainTrainer`,
/// `DPWeightsModelTrainer`, `DPSGDModelTrainer`) rather than taken from the verified session: a
/// few dozen verified steps see a few dozen samples, too few members to audit, and shadow-model
/// attacks need every model trained by the same recipe. The plain model is the undefended
/// reference.
///
/// Cost: (1 + shadow models) trainings per recipe, each `epochs` (DP-SGD: `dpEpochs`) passes over
/// about `auditExamples` examples; at the full size (1000 members, 16 RMIA reference models) that
/// is about a million cnn-small sample passes (measured time in README.md, "Demo").
enum PrivacyStage {
    /// The audited spec (bundled).
    static let modelName = "cnn-small"
    /// Adam's step for plain training (and so DP-Weights): the audit's default.
    static let learningRate: Float = 1e-3
    /// Adam's step for DP-SGD: `DPSGDModelTrainer`'s default (the noisy clipped mean is smaller
    /// than a plain gradient, so a larger step keeps the epochs the same).
    static let dpLearningRate: Float = 2e-3

    static func run(
        sizes: DemoSizes, seed: UInt64, train: Dataset, test: Dataset, output: URL,
        versions: [(String, String)], stages: StageTracker
    ) throws -> PrivacySummary {
        let spec = try ModelSpec.bundled(modelName)
        let plain = try PlainTrainer(epochs: sizes.epochs, batchSize: 64, learningRate: learningRate)
        let trainers: [any ModelTrainer] = [
            plain,
            try DPWeightsModelTrainer(epsilon: sizes.epsilon, base: plain),
            try DPSGDModelTrainer(
                targetEpsilon: sizes.epsilon, epochs: sizes.dpEpochs, batchSize: 64, learningRate: dpLearningRate),
        ]
        stages.begin(
            "\(sizes.auditAttack.rawValue) membership audit of \(spec.name) trained plain, with DP-Weights and with DP-SGD at epsilon \(Demo.number(sizes.epsilon))",
            units: trainers.count)
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<train.count)
        rng.shuffle(&order)
        var members = train.subset(Array(order.prefix(min(sizes.auditExamples, train.count))).sorted())
        var nonMembers = test
        let standardizer = Standardizer.fit(members)
        members.standardize(with: standardizer)
        nonMembers.standardize(with: standardizer)
        var models = [AuditedModel]()
        for (i, trainer) in trainers.enumerated() {
            stages.progress.update(i, detail: "training and auditing \(trainer.name)")
            let start = Date()
            let target = try trainer.train(spec: spec, data: members, seed: seed)
            let accuracy = try ExampleOutputs.evaluate(model: target, data: nonMembers).accuracy()
            let claim = (trainer as? DPWeightsModelTrainer)?.claim(datasetSize: members.count) ?? trainer.claim
            let config = MIAConfiguration(
                attack: sizes.auditAttack, shadowModels: sizes.shadowModels, seed: seed,
                examplesPerSide: sizes.auditExamples, delta: claim?.delta ?? 1e-5,
                cacheDirectory: nil, showProgress: false)
            let result = try MembershipAudit.run(
                spec: spec, target: target, members: members, nonMembers: nonMembers,
                trainer: trainer, configuration: config)
            let folder = "audit-\(trainer.name)"
            let report = MIAReport(
                result: result,
                context: ReportContext(
                    versions: versions,
                    inputs: [
                        ("model", "\(spec.name) (\(trainer.name)), trained on \(members.count) members"),
                        ("members", "bundled Fashion-MNIST train subset, seeded sample"),
                        ("non-members", "bundled Fashion-MNIST test subset"),
                    ],
                    command: "verisplit demo"))
            try report.write(to: output.appendingPathComponent(folder))
            let e = result.evaluation
            models.append(
                AuditedModel(
                    name: trainer.name, claimedEpsilon: claim?.epsilon, claimedDelta: claim?.delta,
                    proven: claim?.proven,
                    claimStatus: claim?.status.rawValue,
                    testAccuracy: accuracy, auc: e.metrics.auc, tprAtLowFPR: e.metrics.tprAtFPR[1],
                    epsilonLowerBound: e.epsilon.bound, epsilonCeiling: e.epsilon.ceiling,
                    epsilonLowerBoundPosthoc: e.epsilon.posthocBound, report: "\(folder)/report.html",
                    seconds: Date().timeIntervalSince(start)))
        }
        stages.end(
            models.map {
                "\($0.name) AUC \(formatDecimal($0.auc, digits: 3)), eps LB \(formatDecimal($0.epsilonLowerBound, digits: 2))"
            }.joined(separator: "; "))
        return PrivacySummary(
            model: spec.name, attack: sizes.auditAttack.rawValue,
            membersPerSide: min(sizes.auditExamples, members.count, nonMembers.count),
            shadowModels: sizes.auditAttack.needsShadowModels ? sizes.shadowModels : 0, epsilon: sizes.epsilon,
            models: models)
    }
}
