import ArgumentParser
import DP
import Foundation
import NeuralNet

/// `verisplit bench dp`: what the DP methods cost in accuracy and time on the bundled data, for
/// the MLP and the CNN (`cnn-small`). Rows per model: plain training; DP-SGD at epsilon 1, 3, 8;
/// DP-Weights noise on the plain model at the same nominal epsilons (heuristic, not proven); then,
/// once, output perturbation of L2 logistic regression at the same epsilons (proven method). Time per epoch of DP-SGD vs plain (the fastest epoch of each run, which
/// is the figure least disturbed by other jobs on a shared machine). All randomness is seeded so
/// the accuracies are reproducible, so every row's claim is "seeded" or "heuristic", never
/// "proven" (a release draws its batches and noise from the system CSPRNG); `--json` prints one
/// JSON array with one object per row.
struct BenchDP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract: "Accuracy and epoch time: plain vs DP-SGD vs DP-Weights vs output perturbation.")

    @Option(help: "Model spec files or bundled names, comma-separated.") var model: String = "mlp-784-128-10,cnn-small"
    @Option(help: "Data: bundled, system, auto or an IDX directory.") var data: String = "bundled"
    @Option(help: "Epochs (plain and DP-SGD).") var epochs: Int = 5
    @Option(help: "(Expected) batch size.") var batchSize: Int = 64
    @Option(help: "SGD learning rate (momentum 0.9), plain and DP-SGD.") var lr: Double = 0.05
    @Option(help: "DP-SGD clipping norm (also the C of the DP-Weights formula).") var clip: Double = 1
    @Option(help: "Delta for DP-SGD and output perturbation.") var delta: Double = 1e-5
    @Option(help: "Comma-separated target epsilons.") var epsilons = PositiveNumbers([1, 3, 8])
    @Option(help: "L2 strength gamma of the logistic regression.") var l2: Double = 0.01
    @Option(help: "Noise draws averaged for the weight-noise rows.") var noiseDraws: Int = 5
    @Option(help: "Seed of initialization, shuffling, batch sampling and noise (runs with different seeds show the spread).")
    var seed: UInt64 = 1
    @Flag(help: "Print one JSON array (one object per row).") var json = false

    struct Row {
        var model: String
        var method: String
        var targetEpsilon: Double?
        var epsilon: Double?
        var delta: Double?
        var sigma: Double?
        /// "seeded" (a proven method run with seeded randomness), "heuristic", or nil (no claim).
        var claim: String?
        var testAccuracy: Double
        var epochSeconds: Double?
        /// The same model's plain epoch, for the ratio.
        var plainEpochSeconds: Double?
    }

    func validate() throws {
        guard epochs > 0, batchSize > 0, lr > 0, clip > 0, l2 > 0, noiseDraws > 0 else {
            throw ValidationError("--epochs, --batch-size, --lr, --clip, --l2 and --noise-draws must be positive")
        }
        guard delta > 0, delta < 1 else { throw ValidationError("--delta must lie in (0, 1)") }
    }

    /// Positive, finite and at least one (`PositiveNumbers` refuses anything else while parsing).
    private var targets: [Double] { epsilons.values }

    /// Seed of weight-noise draw `draw` (DP-Weights and output perturbation) under `--seed`: seed 1
    /// gives draws 1, 2, ... as before `--seed` existed, so its figures reproduce; other seeds give
    /// other draws, so runs with different seeds show the spread of these rows too.
    private func drawSeed(_ draw: Int) -> UInt64 { UInt64(draw + 1) &+ (seed &- 1) &* 1_000_003 }

    func run() async throws {
        let source = DataSource(argument: data)
        let (rawTrain, rawTest) = try MNISTFamily.load(source)
        var train = rawTrain
        var test = rawTest
        train.standardize(with: DPArgs.dataIndependentStandardizer)
        test.standardize(with: DPArgs.dataIndependentStandardizer)
        var rows = [Row]()
        for name in model.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            rows += try modelRows(try ModelSpec.resolve(name), train: train, test: test)
        }
        rows += try logisticRegressionRows(rawTrain: rawTrain, rawTest: rawTest)
        printRows(rows, title: "DP on \(source) (n = \(train.count), \(epochs) epochs, batch \(batchSize))")
    }

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
            Row(model: name, method: "plain", testAccuracy: Double(history.last?.testAccuracy ?? 0),
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
                options: DPSGDOptions(clippingNorm: clip, samplingSource: .seeded(seed),
                                     noise: .seeded(UInt64(eps * 1000) &+ (seed &- 1) &* 1_000_003)))
            rows.append(
                Row(model: name, method: "dpsgd", targetEpsilon: eps, epsilon: reports.last?.epsilon, delta: delta,
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
                Row(model: name, method: "dpweights (heuristic)", targetEpsilon: eps, epsilon: record?.epsilon,
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
            Row(model: "logreg", method: "logreg (not private)",
                testAccuracy: Double(Trainer.evaluate(model: logreg, loss: .softmaxCrossEntropy, data: lrTest).accuracy)))
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
                Row(model: "logreg", method: "output-perturbation", targetEpsilon: eps, epsilon: eps, delta: delta,
                    sigma: record?.sigma, claim: "seeded", testAccuracy: accuracy / Double(noiseDraws)))
        }
        return rows
    }

    private func accuracyOf(_ file: SafeTensorsFile, spec: ModelSpec, test: Dataset) throws -> Double {
        var net = spec.makeModel()
        try net.loadParameters(file.byName)
        return Double(Trainer.evaluate(model: net, loss: spec.loss, data: test).accuracy)
    }

    private func printRows(_ rows: [Row], title: String) {
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
                f.append("\"epoch_time_vs_plain\": \(num(r.epochSeconds.flatMap { s in r.plainEpochSeconds.map { s / $0 } }))")
                return "{" + f.joined(separator: ", ") + "}"
            }
            print("[" + objects.joined(separator: ", ") + "]")
            return
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        print(title)
        print("  " + pad("model", 15) + "  " + pad("method", 22) + "  " + pad("target eps", 10) + "  " + pad("epsilon", 9) + "  "
              + pad("delta", 8) + "  " + pad("sigma", 9) + "  " + pad("claim", 9) + "  test acc  s/epoch (vs plain)")
        for r in rows {
            let time = r.epochSeconds.map { s in
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
            print("  " + cells.joined(separator: "  "))
        }
    }
}
