import Foundation
import NeuralNet
import Report

/// Settings of a canary audit.
public struct CanaryConfiguration: Sendable {
    /// Number of canaries m; each is inserted with probability 1/2.
    public var canaries: Int
    /// Give each canary a random wrong label (mislabelled canaries are the easiest to detect, so
    /// they make the audit stronger; Jagielski et al. 2020, Nasr et al. 2021).
    public var mislabel: Bool
    public var seed: UInt64
    public var confidence: Double
    /// Delta for the bounds of a model that claims no privacy.
    public var defaultDelta: Double

    public init(
        canaries: Int = 1000, mislabel: Bool = true, seed: UInt64 = 1, confidence: Double = 0.95,
        defaultDelta: Double = 1e-5
    ) {
        self.canaries = canaries
        self.mislabel = mislabel
        self.seed = seed
        self.confidence = confidence
        self.defaultDelta = defaultDelta
    }
}

/// The outcome of a canary audit of one training method.
public struct CanaryAuditResult: Sendable {
    public let model: String
    public let claim: PrivacyClaim?
    /// The one-run bound (Steinke et al. 2023), best over the number of guesses (paper practice).
    public let oneRun: OneRunAudit.Result
    /// The one-run bound at a Bonferroni-corrected level over all guess counts tried, so the
    /// verdict is a valid `confidence` statement although the best count was picked after looking.
    public let oneRunCorrected: Double
    /// Membership metrics and the Clopper-Pearson bound over canaries IN vs OUT.
    public let evaluation: AttackEvaluation
    public let testAccuracy: Double
    public let canariesIncluded: Int
    public let trainingSetSize: Int
    public let trainerParameters: [(String, String)]
    public let seconds: Double

    /// True when the measured lower bound exceeds the claimed epsilon: the claim is false (at the
    /// audit's confidence), whatever its proof says.
    public var contradictsClaim: Bool {
        guard let claim, claim.epsilon.isFinite else { return false }
        return oneRunCorrected > claim.epsilon
    }

    /// "claim contradicted", "consistent", or "no claim".
    public var verdict: String {
        guard let claim else { return "no claim (epsilon = inf)" }
        return contradictsClaim
            ? "CONTRADICTED: measured > claimed \(shortEpsilon(claim.epsilon))" : "consistent with the claim"
    }
}

/// Canary audits: insert canaries with probability 1/2, train once, and measure how well a loss
/// attack tells the inserted from the held-out ones. The one-run theorem of Steinke, Nasr &
/// Jagielski (2023) turns that into an epsilon lower bound from a single training run.
public enum CanaryAudit {
    /// Canaries drawn from `source` (m distinct samples, seeded), relabelled to a uniformly random
    /// wrong class when `mislabel`, and independent fair-coin inclusion flags.
    public static func makeCanaries(
        from source: Dataset, configuration c: CanaryConfiguration
    ) throws(AuditError) -> (canaries: Dataset, included: [Bool]) {
        guard c.canaries >= 2 else {
            throw .invalidParameter(name: "canaries", value: "\(c.canaries)", requirement: "must be >= 2")
        }
        guard source.count >= c.canaries else {
            throw .tooFewExamples(what: "canary source", have: source.count, need: c.canaries)
        }
        var rng = SeededGenerator(seed: c.seed ^ 0xCA4A_81E5)
        var order = Array(0..<source.count)
        rng.shuffle(&order)
        let picked = source.subset(Array(order.prefix(c.canaries)))
        var labels = picked.labels
        if c.mislabel, source.classCount > 1 {
            for i in labels.indices {
                labels[i] = (labels[i] + 1 + rng.nextInt(below: source.classCount - 1)) % source.classCount
            }
        }
        let included = (0..<c.canaries).map { _ in rng.next() & 1 == 1 }
        do {
            return (try Dataset(features: picked.features, labels: labels, classCount: source.classCount), included)
        } catch {
            throw .mismatch(what: "canaries", detail: "\(error)", hint: "check the canary source data")
        }
    }

    /// Trains one model with `trainer` on `base` plus the included canaries and audits it.
    /// - Parameters:
    ///   - test: held-out data for the test accuracy.
    public static func run(
        spec: ModelSpec, base: Dataset, canaries: Dataset, included: [Bool], test: Dataset,
        trainer: any ModelTrainer, configuration c: CanaryConfiguration
    ) throws(AuditError) -> CanaryAuditResult {
        let start = Date()
        try MembershipAudit.check(spec: spec, data: base, role: "training data")
        try MembershipAudit.check(spec: spec, data: canaries, role: "canaries")
        guard included.count == canaries.count else {
            throw .mismatch(
                what: "canaries", detail: "\(included.count) flags for \(canaries.count) canaries",
                hint: "pass one flag per canary")
        }
        let inIdx = included.indices.filter { included[$0] }
        let trainSet = try MembershipAudit.concatenate(base, canaries.subset(inIdx))
        let model = try trainer.train(spec: spec, data: trainSet, seed: ShadowTraining.modelSeed(c.seed, 1_000_003))
        let out = try ExampleOutputs.evaluate(model: model, data: canaries)
        let scores = out.loss.map { -$0 }
        var claim = trainer.claim
        if let w = trainer as? DPWeightsModelTrainer { claim = w.claim(datasetSize: trainSet.count) }
        let delta = claim.map { $0.delta.isFinite ? $0.delta : c.defaultDelta } ?? c.defaultDelta
        let oneRun = try OneRunAudit.audit(scores: scores, included: included, delta: delta, confidence: c.confidence)
        let corrected = try OneRunAudit.audit(
            scores: scores, included: included, delta: delta,
            confidence: 1 - (1 - c.confidence) / Double(max(oneRun.curve.count, 1)))
        let evaluation = try AttackEvaluation(
            attack: "loss", memberScores: inIdx.map { scores[$0] },
            nonMemberScores: included.indices.filter { !included[$0] }.map { scores[$0] },
            delta: delta, confidence: c.confidence)
        let testAcc = try ExampleOutputs.evaluate(model: model, data: test).accuracy()
        return CanaryAuditResult(
            model: trainer.name, claim: claim, oneRun: oneRun, oneRunCorrected: corrected.best.epsilon,
            evaluation: evaluation, testAccuracy: testAcc, canariesIncluded: inIdx.count,
            trainingSetSize: trainSet.count, trainerParameters: trainer.parameters,
            seconds: Date().timeIntervalSince(start))
    }
}

/// Rendering of a canary audit over several training methods.
public struct CanaryReport: Sendable {
    public let results: [CanaryAuditResult]
    public let configuration: CanaryConfiguration
    public let context: ReportContext

    public init(results: [CanaryAuditResult], configuration: CanaryConfiguration, context: ReportContext) {
        self.results = results
        self.configuration = configuration
        self.context = context
    }

    /// JSON: `models` (one object per training method, headline keys first), parameters, seeds,
    /// versions. `epsilon_lower_bound` of each model is the one-run bound (Bonferroni-corrected
    /// over guess counts), the figure the verdict compares with the claim.
    public func json() -> JSONValue {
        .object([
            JSONMember(
                "models",
                .array(
                    results.map { r in
                        .object([
                            JSONMember("model", .string(r.model)),
                            JSONMember("claimed_epsilon", r.claim.map { .number($0.epsilon) } ?? .null),
                            JSONMember("claimed_delta", r.claim.map { .number($0.delta) } ?? .null),
                            JSONMember("claim_proven", r.claim.map { .bool($0.proven) } ?? .null),
                            JSONMember("claim_status", r.claim.map { .string($0.status.rawValue) } ?? .null),
                            JSONMember("epsilon_lower_bound", .number(r.oneRunCorrected)),
                            JSONMember("one_run_best_epsilon", .number(r.oneRun.best.epsilon)),
                            JSONMember("one_run_ceiling", .number(r.oneRun.ceiling)),
                            JSONMember("clopper_pearson_epsilon", .number(r.evaluation.epsilon.bound)),
                            JSONMember("threshold_selection", .string(EmpiricalEpsilon.thresholdSelection)),
                            JSONMember("clopper_pearson_ceiling", .number(r.evaluation.epsilon.ceiling)),
                            JSONMember(
                                "clopper_pearson_epsilon_lb_posthoc", .number(r.evaluation.epsilon.posthocBound)),
                            JSONMember("contradicts_claim", .bool(r.contradictsClaim)),
                            JSONMember("verdict", .string(r.verdict)),
                            JSONMember("auc", .number(r.evaluation.metrics.auc)),
                            JSONMember("tpr_at_fpr", tprObject(r.evaluation.metrics)),
                            JSONMember("test_accuracy", .number(r.testAccuracy)),
                            JSONMember("canaries_included", .int(r.canariesIncluded)),
                            JSONMember("training_set_size", .int(r.trainingSetSize)),
                            JSONMember(
                                "training", .object(r.trainerParameters.map { JSONMember($0.0, .string($0.1)) })),
                            JSONMember(
                                "one_run",
                                oneRunJSON(
                                    r.oneRun,
                                    note: "canaries inserted by independent fair coins; loss attack (score = -loss)")),
                            JSONMember("seconds", .number(r.seconds)),
                        ])
                    })),
            JSONMember(
                "parameters",
                .object([
                    JSONMember("canaries", .int(configuration.canaries)),
                    JSONMember("mislabelled", .bool(configuration.mislabel)),
                    JSONMember("confidence", .number(configuration.confidence)),
                    JSONMember("attack", .string("loss")),
                    JSONMember(
                        "verdict_rule",
                        .string(
                            "contradicted when the one-run lower bound, Bonferroni-corrected over the guess counts tried, exceeds the claimed epsilon"
                        )),
                ])),
            JSONMember("seeds", .object([JSONMember("audit", .string(String(configuration.seed)))])),
            JSONMember("inputs", .object(context.inputs.map { JSONMember($0.0, .string($0.1)) })),
            JSONMember("versions", .object(context.versions.map { JSONMember($0.0, .string($0.1)) })),
            JSONMember("command", .string(context.command)),
            JSONMember("created_utc", .string(ReportContext.timestamp)),
        ])
    }

    static let header = [
        "model", "claimed eps", "empirical eps (95%)", "best one-run", "CP eps", "ceiling", "AUC", "test acc",
        "verdict",
    ]

    func rows() -> [[String]] {
        results.map { r in
            [
                r.model,
                r.claim.map { shortEpsilon($0.epsilon) + ($0.proven ? "" : " (\($0.status.rawValue))") } ?? "inf",
                fmt(r.oneRunCorrected), fmt(r.oneRun.best.epsilon), fmt(r.evaluation.epsilon.bound),
                fmt(r.oneRun.ceiling),
                fmt(r.evaluation.metrics.auc), fmt(r.testAccuracy), r.verdict,
            ]
        }
    }

    /// The terminal table.
    public func table() -> String { TextTable(header: CanaryReport.header, rows: rows()).render() }

    /// The HTML report.
    public func html() -> String {
        var report = HTMLReport(
            title: "Canary audit: empirical vs claimed epsilon",
            subtitle: "VeriSplit privacy audit, \(ReportContext.timestamp)")
        var summary: [HTMLBlock] = [.table(header: CanaryReport.header, rows: rows())]
        let contradicted = results.filter(\.contradictsClaim)
        summary.append(
            .note(
                contradicted.isEmpty
                    ? "No claim is contradicted: every measured lower bound is at most the claimed epsilon. A lower bound below the claim does not prove the claim."
                    : "Contradicted: " + contradicted.map(\.model).joined(separator: ", ")
                        + ". With \(pct(configuration.confidence)) confidence these trainings leak more than their claimed epsilon allows."
            ))
        summary.append(
            .paragraph(
                "Empirical eps: the one-run lower bound of Steinke, Nasr & Jagielski (2023) from \(configuration.canaries) canaries, each inserted by a fair coin, at a Bonferroni-corrected level over the guess counts tried (a valid \(pct(configuration.confidence)) statement). Best one-run: the maximum over guess counts as the paper reports it. CP eps: Clopper-Pearson bound treating the canaries as IN/OUT examples, threshold chosen on a held-out half of them. Ceiling: the most any attack could certify with \(configuration.canaries) canaries."
            ))
        report.sections.append(HTMLSection(heading: "Summary", blocks: summary))
        for r in results {
            report.sections.append(
                HTMLSection(
                    heading: r.model,
                    blocks: [
                        .figures(
                            [Figures.oneRun(r.oneRun, claimed: r.claim?.epsilon)]
                                + Figures.roc(r.evaluation.roc, title: r.model)),
                        .figures([
                            Figures.histogram(
                                members: r.evaluation.memberScores, nonMembers: r.evaluation.nonMemberScores,
                                attack: "loss, \(r.model)")
                        ]),
                        .paragraph(Figures.oneRunCaption(r.oneRun)),
                        .keyValues(
                            r.trainerParameters + [
                                ("claim", r.claim?.note ?? "none"), ("canaries included", "\(r.canariesIncluded)"),
                                ("training set size", "\(r.trainingSetSize)"),
                            ]),
                    ]))
        }
        report.sections.append(
            HTMLSection(
                heading: "Setup",
                blocks: [
                    .keyValues(
                        context.inputs + [
                            ("canaries", "\(configuration.canaries)"), ("mislabelled", "\(configuration.mislabel)"),
                            ("seed", "\(configuration.seed)"),
                        ]),
                    .table(header: ["component", "version"], rows: context.versions.map { [$0.0, $0.1] }),
                    .preformatted(context.command),
                ]))
        return report.render()
    }

    @discardableResult
    public func write(to directory: URL) throws(AuditError) -> (json: URL, html: URL) {
        try writeReportFiles(json: json(), html: html(), directory: directory)
    }
}
