import Foundation
import NeuralNet

/// `verisplit bench dp`: what the DP methods cost in accuracy and time on the bundled data, for
/// the MLP and the CNN (`cnn-small`). Rows per model: plain training; DP-SGD at each target
/// epsilon; DP-Weights noise on the plain model at the same nominal epsilons (heuristic, not
/// proven); then, once, output perturbation of L2 logistic regression at the same epsilons (proven
/// method). Time per epoch of DP-SGD vs plain (the fastest epoch of each run, the figure least
/// disturbed by other jobs on a shared machine). All randomness is seeded so the accuracies are
/// reproducible, so every row's claim is "seeded" or "heuristic", never "proven" (a release draws
/// its batches and noise from the system CSPRNG).
public struct DPMethodsBenchmark: Sendable {
    public var models: [String]
    public var data: String
    public var epochs: Int
    public var batchSize: Int
    public var lr: Double
    public var clip: Double
    public var delta: Double
    public var targets: [Double]
    public var l2: Double
    public var noiseDraws: Int
    public var seed: UInt64

    public init(
        models: [String], data: String, epochs: Int, batchSize: Int, lr: Double, clip: Double, delta: Double,
        targets: [Double], l2: Double, noiseDraws: Int, seed: UInt64
    ) {
        self.models = models
        self.data = data
        self.epochs = epochs
        self.batchSize = batchSize
        self.lr = lr
        self.clip = clip
        self.delta = delta
        self.targets = targets
        self.l2 = l2
        self.noiseDraws = noiseDraws
        self.seed = seed
    }

    public struct Row: Sendable {
        public var model: String
        public var method: String
        public var targetEpsilon: Double?
        public var epsilon: Double?
        public var delta: Double?
        public var sigma: Double?
        /// "seeded" (a proven method run with seeded randomness), "heuristic", or nil (no claim).
        public var claim: String?
        public var testAccuracy: Double
        public var epochSeconds: Double?
        /// The same model's plain epoch, for the ratio.
        public var plainEpochSeconds: Double?
    }

    /// The rows, and the title naming the data and the schedule.
    public func run() throws -> (rows: [Row], title: String) {
        let source = DataSource(argument: data)
        let (rawTrain, rawTest) = try MNISTFamily.load(source)
        var train = rawTrain
        var test = rawTest
        train.standardize(with: DPTraining.dataIndependentStandardizer)
        test.standardize(with: DPTraining.dataIndependentStandardizer)
        var rows = [Row]()
        for name in models {
            rows += try modelRows(try ModelSpec.resolve(name), train: train, test: test)
        }
        rows += try logisticRegressionRows(rawTrain: rawTrain, rawTest: rawTest)
        return (rows, "DP on \(source) (n = \(train.count), \(epochs) epochs, batch \(batchSize))")
    }

    /// Seed of weight-noise draw `draw` (DP-Weights and output perturbation) under `--seed`: seed 1
    /// gives draws 1, 2, ... as before `--seed` existed, so its figures reproduce; other seeds give
    /// other draws, so runs with different seeds show the spread of these rows too.
    private func drawSeed(_ draw: Int) -> UInt64 { UInt64(draw + 1) &+ (seed &- 1) &* 1_000_003 }

    /// Plain, DP-SGD at each target and DP-Weights rows of one model.
    private func modelRows(_ spec: ModelSpec, train: Dataset, test: Dataset) throws -> [Row] {
        var rows = [Row]()
        let name = spec.name

        // Plain training (shuffled batches, no clipping or noise).
        var plain = spec.makeModel(seed: seed)
        var sgd = SGD(learningRate: Float(lr), momentum: 0.9)
        let history = Trainer.fit(
            model: &plain, optimizer: &sgd, loss: spec.loss, train: train, test: test,
            epochs: epochs, batchSize: batchSize, seed: seed)
        let plainSeconds = history.map(\.seconds).min() ?? 0
        rows.append(
            Row(
                model: name, method: "plain", testAccuracy: Double(history.last?.testAccuracy ?? 0),
                epochSeconds: plainSeconds, plainEpochSeconds: plainSeconds))

        // DP-SGD at each target (Poisson sampling, RDP calibration, seeded noise).
        for eps in targets {
            var net = spec.makeModel(seed: seed)
            let plan = try DPSGDPlan.calibrate(
                targetEpsilon: eps, delta: delta, datasetSize: train.count, batchSize: batchSize,
                epochs: epochs)
            let reports = try DPSGDTrainer.fit(
                model: &net, optimizer: SGD(learningRate: Float(lr), momentum: 0.9), loss: spec.loss,
                train: train, test: test, plan: plan,
                options: DPSGDOptions(
                    clippingNorm: clip, samplingSource: .seeded(seed),
                    noise: .seeded(UInt64(eps * 1000) &+ (seed &- 1) &* 1_000_003)))
            rows.append(
                Row(
                    model: name, method: "dpsgd", targetEpsilon: eps, epsilon: reports.last?.epsilon, delta: delta,
                    sigma: plan.noiseMultiplier, claim: "seeded",
                    testAccuracy: Double(reports.last?.testAccuracy ?? 0),
                    epochSeconds: reports.map(\.seconds).min(), plainEpochSeconds: plainSeconds))
        }

        // DP-Weights on the plain model at the same nominal epsilons (mean over noise draws).
        let plainFile = SafeTensorsFile(tensors: plain.namedParameters.map { ($0.name, $0.value) })
        let hyper = TrainingHyperparameters(
            epochs: epochs, learningRate: lr, batchSize: batchSize, datasetSize: train.count,
            clippingNorm: clip)
        for eps in targets {
            var accuracy = 0.0
            var record: PrivacyRecord? = nil
            for draw in 0..<noiseDraws {
                var noise = GaussianSampler(.seeded(drawSeed(draw)))
                let noised = try WeightNoising.dpWeights(
                    plainFile, epsilon: eps, hyperparameters: hyper, noise: &noise)
                accuracy += try accuracyOf(noised.file, spec: spec, test: test)
                record = noised.record
            }
            rows.append(
                Row(
                    model: name, method: "dpweights (heuristic)", targetEpsilon: eps, epsilon: record?.epsilon,
                    delta: record?.delta, sigma: record?.sigma, claim: "heuristic",
                    testAccuracy: accuracy / Double(noiseDraws)))
        }

        return rows
    }

    /// Logistic regression, not private, and its output perturbation at each target.
    private func logisticRegressionRows(rawTrain: Dataset, rawTest: Dataset) throws -> [Row] {
        var rows = [Row]()
        let lrTrain = try PrivateLogisticRegression.preprocess(rawTrain)
        let lrTest = try PrivateLogisticRegression.preprocess(rawTest)
        let (logreg, assumptions) = try PrivateLogisticRegression.train(
            data: lrTrain, l2: l2, passes: 10, seed: seed)
        rows.append(
            Row(
                model: "logreg", method: "logreg (not private)",
                testAccuracy: Double(Trainer.evaluate(model: logreg, loss: .softmaxCrossEntropy, data: lrTest).accuracy)
            ))
        let lrFile = SafeTensorsFile(
            tensors: logreg.namedParameters.map { ($0.name, $0.value) }, metadata: assumptions.metadata)
        let lrSpec = try PrivateLogisticRegression.spec(features: lrTrain.sampleSize, classes: lrTrain.classCount)
        for eps in targets {
            var accuracy = 0.0
            var record: PrivacyRecord? = nil
            for draw in 0..<noiseDraws {
                var noise = GaussianSampler(.seeded(drawSeed(draw)))
                let noised = try WeightNoising.outputPerturbation(lrFile, epsilon: eps, delta: delta, noise: &noise)
                accuracy += try accuracyOf(noised.file, spec: lrSpec, test: lrTest)
                record = noised.record
            }
            rows.append(
                Row(
                    model: "logreg", method: "output-perturbation", targetEpsilon: eps, epsilon: eps, delta: delta,
                    sigma: record?.sigma, claim: "seeded", testAccuracy: accuracy / Double(noiseDraws)))
        }
        return rows
    }

    private func accuracyOf(_ file: SafeTensorsFile, spec: ModelSpec, test: Dataset) throws -> Double {
        var net = spec.makeModel()
        try net.loadParameters(file.byName)
        return Double(Trainer.evaluate(model: net, loss: spec.loss, data: test).accuracy)
    }

    /// The rows as an aligned table under `title`, or (`json`) as one JSON array of objects.
    public static func render(_ rows: [Row], title: String, json: Bool) -> String {
        func num(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.6g", $0) : "null" } ?? "null" }
        if json {
            let objects = rows.map { r -> String in
                var f = ["\"model\": \"\(r.model)\"", "\"method\": \"\(r.method)\""]
                f.append("\"target_epsilon\": \(num(r.targetEpsilon))")
                f.append("\"epsilon\": \(num(r.epsilon))")
                f.append("\"delta\": \(num(r.delta))")
                f.append("\"sigma\": \(num(r.sigma))")
                f.append("\"proven\": \(r.claim == nil ? "null" : "false")")
                f.append("\"claim\": \(r.claim.map { "\"\($0)\"" } ?? "null")")
                f.append("\"test_accuracy\": \(num(r.testAccuracy))")
                f.append("\"epoch_seconds\": \(num(r.epochSeconds))")
                f.append(
                    "\"epoch_time_vs_plain\": \(num(r.epochSeconds.flatMap { s in r.plainEpochSeconds.map { s / $0 } }))"
                )
                return "{" + f.joined(separator: ", ") + "}"
            }
            return "[" + objects.joined(separator: ", ") + "]"
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        var lines = [title]
        lines.append(
            "  " + pad("model", 15) + "  " + pad("method", 22) + "  " + pad("target eps", 10) + "  " + pad("epsilon", 9)
                + "  "
                + pad("delta", 8) + "  " + pad("sigma", 9) + "  " + pad("claim", 9) + "  test acc  s/epoch (vs plain)")
        for r in rows {
            let time =
                r.epochSeconds.map { s in
                    String(format: "%.3f (%.2fx)", s, r.plainEpochSeconds.map { s / $0 } ?? .nan)
                } ?? "-"
            let cells = [
                pad(r.model, 15), pad(r.method, 22), pad(r.targetEpsilon.map { String(format: "%g", $0) } ?? "-", 10),
                pad(r.epsilon.map { String(format: "%.4g", $0) } ?? "-", 9),
                pad(r.delta.map { String(format: "%.2g", $0) } ?? "-", 8),
                pad(r.sigma.map { String(format: "%.4g", $0) } ?? "-", 9),
                pad(r.claim ?? "-", 9),
                pad(String(format: "%.2f%%", r.testAccuracy * 100), 8), time,
            ]
            lines.append("  " + cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

/// `verisplit bench dp-accountant`: wall time of one accountant call for the DP-SGD setting of
/// the issue (q = 256/60000, sigma = 1.1, 14,062 steps, delta = 1e-5); the requirement is < 50 ms
/// for RDP, PLD is reported alongside.
public enum AccountantBenchmark {
    /// Median wall time over `rdpRuns` RDP and `pldRuns` PLD calls (each at least 1).
    public static func table(rdpRuns: Int, pldRuns: Int) throws(DPError) -> BenchTable {
        let mechanism = try PoissonSampledGaussian(samplingRate: 256.0 / 60000.0, noiseMultiplier: 1.1, steps: 14_062)
        let delta = 1e-5
        let (rdpMs, rdp) = try medianMilliseconds(runs: max(rdpRuns, 1)) { () throws(DPError) in
            try RDPAccountant().guarantee(for: mechanism, delta: delta)
        }
        let (pldMs, pld) = try medianMilliseconds(runs: max(pldRuns, 1)) { () throws(DPError) in
            try PLDAccountant().guarantee(for: mechanism, delta: delta)
        }
        return BenchTable(
            title: "DP accountant, one call (median wall time)",
            rows: [
                ("q", mechanism.samplingRate), ("sigma", mechanism.noiseMultiplier), ("steps", mechanism.steps),
                ("delta", delta),
                ("rdp_ms", rdpMs), ("rdp_epsilon", rdp.epsilon), ("rdp_order", rdp.order ?? .nan),
                ("pld_ms", pldMs), ("pld_epsilon", pld.epsilon),
            ])
    }

    /// Times `runs` calls (at least one) and returns the median and the last value.
    static func medianMilliseconds<T>(runs: Int, _ body: () throws(DPError) -> T) throws(DPError) -> (Double, T) {
        let clock = ContinuousClock()
        func timed() throws(DPError) -> (Double, T) {
            let start = clock.now
            let value = try body()
            return ((clock.now - start).inSeconds * 1e3, value)
        }
        var (first, last) = try timed()
        var times = [first]
        for _ in 1..<max(runs, 1) {
            (first, last) = try timed()
            times.append(first)
        }
        times.sort()
        return (times[times.count / 2], last)
    }
}
