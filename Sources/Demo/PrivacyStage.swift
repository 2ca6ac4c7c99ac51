import Audit
import Foundation
import NeuralNet
import Report
import ZKML

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

/// DP-Weights and DP-SGD at one epsilon on the split network, each audited for membership.
///
/// The audited network is the split architecture in float (`NeuralNet`): the client's Conv2d
/// 1->2, 7x7 stride 7 and ReLU, flattened to the 32-wide cut, and the server's Dense 32->10,
/// on pixels standardized with the members' mean and deviation (as `verisplit audit` does). It
/// is trained on a member set with the recipes of `Audit` (`PlainTrainer`,
/// `DPWeightsModelTrainer`, `DPSGDModelTrainer`, Adam at `learningRate`) rather than taken from
/// the verified session: a few dozen verified steps see a few dozen samples, too few members to
/// audit, and shadow-model attacks need every model trained by the same recipe. The plain model
/// is the undefended reference.
enum PrivacyStage {
    /// Adam's step for all three recipes: this 430-parameter network learns too slowly at the
    /// audit default of 1e-3 (about 50 % test accuracy after 5 epochs of the bundled subset, 72 %
    /// at 1e-2).
    static let learningRate: Float = 1e-2

    /// The float network of a circuit spec (cut after the flatten).
    static func floatModel(_ spec: CircuitSpec) throws -> ModelSpec {
        try ModelSpec(
            name: "\(spec.name)-float", inputShape: [spec.input.channels, spec.input.height, spec.input.width],
            layers: [
                .conv2d(
                    name: "conv", inChannels: spec.input.channels, outChannels: spec.client.outChannels,
                    kernel: spec.client.kernel,
                    stride: spec.client.stride, padding: 0, bias: true),
                .relu(name: "relu"), .flatten(name: "flatten"),
                .dense(name: "fc", inFeatures: spec.cutWidth, outFeatures: spec.server.outputs, bias: true),
            ], cut: 3)
    }

    static func run(
        sizes: DemoSizes, seed: UInt64, train: Dataset, test: Dataset, output: URL,
        versions: [(String, String)], stages: StageTracker
    ) throws -> PrivacySummary {
        let circuit = try CircuitSpec.load(EmbeddedSpec.data, file: EmbeddedSpec.name)
        let spec = try floatModel(circuit)
        let plain = try PlainTrainer(epochs: sizes.epochs, batchSize: 64, learningRate: learningRate)
        let trainers: [any ModelTrainer] = [
            plain,
            try DPWeightsModelTrainer(epsilon: sizes.epsilon, base: plain),
            try DPSGDModelTrainer(
                targetEpsilon: sizes.epsilon, epochs: sizes.dpEpochs, batchSize: 64, learningRate: learningRate),
        ]
        stages.begin(
            "\(sizes.auditAttack.rawValue) membership audit of plain, DP-Weights and DP-SGD at epsilon \(Demo.number(sizes.epsilon))",
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
