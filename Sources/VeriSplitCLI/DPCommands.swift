import ArgumentParser
import DP
import NeuralNet
import Foundation

/// `verisplit dp ...`: differential privacy tools.
struct DPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract:
            "Differential privacy: accountants (RDP, PLD), DP-SGD training, weight noising.",
        subcommands: [Account.self, Train.self, Noise.self, TrainLogReg.self])
}

extension DPCommand {
    /// `verisplit dp account`: epsilon of Poisson-subsampled Gaussian DP-SGD, or the noise
    /// multiplier that meets a target epsilon. Bad parameters exit with status 2 and one line
    /// naming the parameter, so scripts can rely on the status.
    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Epsilon of DP-SGD (Poisson-sampled Gaussian), or sigma for a target epsilon.",
            discussion: """
                Give --sigma to get epsilon, or --epsilon to solve for sigma. Numbers follow \
                Google's dp_accounting (RDP orders 1.1..10.9 step 0.1 and 12..63; PLD grid 1e-4).
                """)

        @Option(
            name: .customLong("q"), parsing: .unconditional,
            help: "Sampling rate in (0, 1] (batch size / dataset size).")
        var q: String?

        @Option(parsing: .unconditional, help: "Noise multiplier > 0 (noise std / clipping norm).")
        var sigma: String?

        @Option(
            parsing: .unconditional,
            help: "Target epsilon > 0; solves for sigma instead of --sigma.")
        var epsilon: String?

        @Option(parsing: .unconditional, help: "Number of steps >= 1.")
        var steps: String?

        @Option(parsing: .unconditional, help: "Delta in (0, 1).")
        var delta: String?

        @Option(help: "Accountant: rdp or pld.")
        var accountant: String = "rdp"

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            do {
                try execute()
            } catch {
                fail(error.description)
            }
        }

        private func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
            Foundation.exit(2)
        }

        private func number(_ text: String?, _ name: String) -> Double {
            guard let text else { fail("missing --\(name)") }
            guard let value = Double(text) else {
                fail("invalid \(name) = \(text): not a number")
            }
            return value
        }

        private func execute() throws(DPError) {
            guard let kind = AccountantKind(rawValue: accountant.lowercased()) else {
                fail("invalid accountant = \(accountant): must be rdp or pld")
            }
            let q = number(q, "q")
            let delta = number(delta, "delta")
            guard let stepsText = steps else { fail("missing --steps") }
            guard let steps = Int(stepsText) else {
                fail("invalid steps = \(stepsText): not an integer")
            }
            switch (sigma, epsilon) {
            case (.some, .some):
                fail("invalid sigma/epsilon: give either --sigma or --epsilon, not both")
            case (.none, .none):
                fail("missing --sigma (to get epsilon) or --epsilon (to solve for sigma)")
            case (.some(let sigmaText), .none):
                let sigma = number(sigmaText, "sigma")
                let mechanism = try PoissonSampledGaussian(
                    samplingRate: q, noiseMultiplier: sigma, steps: steps)
                let result = try kind.accountant.guarantee(for: mechanism, delta: delta)
                report(
                    kind: kind, q: q, steps: steps, delta: delta, sigma: sigma,
                    epsilon: result.epsilon, order: result.order, target: nil)
            case (.none, .some(let epsilonText)):
                let target = number(epsilonText, "epsilon")
                let solution = try SigmaCalibration.noiseMultiplier(
                    targetEpsilon: target, delta: delta, samplingRate: q, steps: steps,
                    accountant: kind.accountant,
                    relativeTolerance: kind == .rdp ? 1e-6 : 1e-4)
                report(
                    kind: kind, q: q, steps: steps, delta: delta, sigma: solution.sigma,
                    epsilon: solution.epsilon, order: solution.order, target: target)
            }
        }

        private func report(
            kind: AccountantKind, q: Double, steps: Int, delta: Double, sigma: Double,
            epsilon: Double, order: Double?, target: Double?
        ) {
            if json {
                var fields: [(String, String)] = [
                    ("accountant", "\"\(kind.rawValue)\""), ("q", jsonNumber(q)),
                    ("sigma", jsonNumber(sigma)), ("steps", String(steps)),
                    ("delta", jsonNumber(delta)), ("epsilon", jsonNumber(epsilon)),
                ]
                if let order { fields.append(("order", jsonNumber(order))) }
                if let target { fields.append(("target_epsilon", jsonNumber(target))) }
                print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
                return
            }
            let name = kind.rawValue.uppercased()
            if let target {
                print(
                    "sigma = \(sigma)  (\(name): epsilon = \(epsilon) <= target \(target) "
                        + "at delta = \(delta), q = \(q), steps = \(steps))")
            } else {
                let orderText = order.map { ", order \($0)" } ?? ""
                print(
                    "epsilon = \(epsilon)  (\(name)\(orderText); delta = \(delta), "
                        + "q = \(q), sigma = \(sigma), steps = \(steps))")
            }
        }

        private func jsonNumber(_ value: Double) -> String {
            value.isFinite ? "\(value)" : "null"
        }
    }
}

// MARK: - Shared helpers of the dp subcommands

/// Prints "error: message" to stderr and exits with status 2, the status every `dp` command uses
/// for bad parameters, unreadable files and models that do not fit the operation.
func dpFail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    Foundation.exit(2)
}

/// Parses command-line numbers with one clear line and status 2 on failure (ArgumentParser's own
/// typed options would exit with 64).
enum DPArgs {
    static func double(_ text: String?, _ name: String) -> Double? {
        guard let text else { return nil }
        guard let v = Double(text), v.isFinite else {
            dpFail("invalid \(name) = \(text): not a finite number")
        }
        return v
    }

    static func requiredDouble(_ text: String?, _ name: String) -> Double {
        guard let v = double(text, name) else { dpFail("missing --\(name)") }
        return v
    }

    static func int(_ text: String?, _ name: String, minimum: Int = 1) -> Int? {
        guard let text else { return nil }
        guard let v = Int(text), v >= minimum else {
            dpFail("invalid \(name) = \(text): must be an integer >= \(minimum)")
        }
        return v
    }

    static func seed(_ text: String?, _ name: String) -> UInt64? {
        guard let text else { return nil }
        guard let v = UInt64(text) else {
            dpFail("invalid \(name) = \(text): must be an unsigned 64-bit integer")
        }
        return v
    }

    /// Rejects epsilon <= 0 and delta outside (0, 1) up front, naming the parameter.
    static func privacyTarget(epsilon: String?, delta: String?) -> (Double, Double) {
        let eps = requiredDouble(epsilon, "epsilon")
        let d = requiredDouble(delta, "delta")
        guard eps > 0 else {
            dpFail("invalid epsilon = \(eps): must be > 0. Pass a privacy budget such as 1 or 8.")
        }
        guard d > 0, d < 1 else {
            dpFail("invalid delta = \(d): must lie in the open interval (0, 1). Use e.g. 1e-5.")
        }
        return (eps, d)
    }

    /// Input preprocessing of DP training: x -> (x - 0.5) / 0.5. Fixed constants, not fitted on
    /// the private data, so preprocessing spends no privacy budget (a fitted mean/std would).
    static let dataIndependentStandardizer = Standardizer(mean: [0.5], std: [0.5])

    static func loadData(_ argument: String) -> (train: Dataset, test: Dataset) {
        do {
            return try MNISTFamily.load(DataSource(argument: argument))
        } catch {
            dpFail("data: \(error)")
        }
    }

    static func jsonNumber(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return "\(value)"
    }
}

// MARK: - dp train

extension DPCommand {
    /// `verisplit dp train`: DP-SGD (Abadi et al. 2016) with sigma calibrated to a target
    /// (epsilon, delta) before training, epsilon spent printed per epoch, and the model written
    /// with its privacy record in the safetensors metadata.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train with DP-SGD to a target (epsilon, delta); write safetensors.",
            discussion: """
                Per-sample gradients are clipped to --clip, Gaussian noise sigma * clip is added to \
                their sum, which is divided by the expected batch size. sigma is calibrated with the \
                accountant (RDP by default) for q = batch / n and epochs * round(n / batch) steps. \
                Poisson sampling (default) matches the accountant; --sampling shuffled uses fixed \
                shuffled batches, which does NOT match it: the printed epsilon is then for \
                comparison only and the model is recorded as proven=false. Noise comes from the \
                system CSPRNG unless --noise-seed is given (reproducible, not for releases). \
                Inputs are mapped to (x - 0.5) / 0.5 with fixed constants (no privacy cost).
                """)

        @Option(help: "Model spec JSON file or bundled name (\(ModelSpec.bundledNames.joined(separator: ", "))).")
        var model: String = "mlp-784-128-10"
        @Option(parsing: .unconditional, help: "Target epsilon > 0.") var epsilon: String?
        @Option(parsing: .unconditional, help: "Delta in (0, 1).") var delta: String = "1e-5"
        @Option(help: "Epochs (each round(n / batch) noisy steps).") var epochs: String = "5"
        @Option(help: "Expected batch size B (q = B / n).") var batch: String = "64"
        @Option(parsing: .unconditional, help: "Per-sample clipping norm C > 0.") var clip: String = "1.0"
        @OptionGroup var dataOptions: DataOptions
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Option(help: "Optimizer: sgd or adam.") var optimizer: String = "sgd"
        @Option(parsing: .unconditional, help: "Learning rate (default 0.05 for sgd, 0.002 for adam).")
        var lr: String?
        @Option(parsing: .unconditional, help: "SGD momentum.") var momentum: String = "0.9"
        @Option(help: "Sampling: poisson (matches the accountant) or shuffled (does not).")
        var sampling: String = "poisson"
        @Option(help: "Accountant for calibration and the per-epoch readout: rdp or pld.")
        var accountant: String = "rdp"
        @Option(help: "Seed for initialization and batch sampling.") var seed: String = "1"
        @Option(help: "Seed the Gaussian noise (reproducible experiments only; default: system CSPRNG).")
        var noiseSeed: String?
        @Flag(help: "Print one JSON object.") var json = false

        struct Summary: Encodable {
            var model: String
            var data: String
            var trainSamples: Int
            var targetEpsilon: Double
            var delta: Double
            var sigma: Double
            var q: Double
            var steps: Int
            var clip: Double
            var sampling: String
            var accountant: String
            var optimizer: String
            var learningRate: Double
            var noiseSource: String
            var epochs: [DPEpochReport]
            var epsilon: Double
            var proven: Bool
            var testAccuracy: Float?
            var out: String?
        }

        func run() async throws {
            let (eps, delta) = DPArgs.privacyTarget(epsilon: epsilon, delta: self.delta)
            let epochs = DPArgs.int(epochs, "epochs") ?? 1
            let batch = DPArgs.int(batch, "batch") ?? 1
            let clip = DPArgs.requiredDouble(clip, "clip")
            guard clip > 0 else { dpFail("invalid clip = \(clip): must be > 0, e.g. 1.0") }
            guard let kind = AccountantKind(rawValue: accountant.lowercased()) else {
                dpFail("invalid accountant = \(accountant): must be rdp or pld")
            }
            let samplingKind: BatchSampling
            switch sampling.lowercased() {
            case "poisson": samplingKind = .poisson
            case "shuffled", BatchSampling.shuffledFixedBatches.rawValue:
                samplingKind = .shuffledFixedBatches
            default: dpFail("invalid sampling = \(sampling): must be poisson or shuffled")
            }
            guard ["sgd", "adam"].contains(optimizer) else {
                dpFail("invalid optimizer = \(optimizer): must be sgd or adam")
            }
            let rate = DPArgs.double(lr, "lr") ?? (optimizer == "sgd" ? 0.05 : 0.002)
            guard rate > 0 else { dpFail("invalid lr = \(rate): must be > 0") }
            let mom = DPArgs.requiredDouble(momentum, "momentum")
            guard (0..<1).contains(mom) else { dpFail("invalid momentum = \(mom): must lie in [0, 1)") }
            let seedValue = DPArgs.seed(seed, "seed") ?? 1
            let noise: NoiseSource = DPArgs.seed(noiseSeed, "noise-seed").map { .seeded($0) } ?? .system
            guard let out else { dpFail("missing --out (where to write the trained model)") }

            let spec: ModelSpec
            do { spec = try ModelSpec.resolve(model) } catch { dpFail("\(error)") }
            var (train, test) = DPArgs.loadData(dataOptions.data)
            train.standardize(with: DPArgs.dataIndependentStandardizer)
            test.standardize(with: DPArgs.dataIndependentStandardizer)
            var net = spec.makeModel(seed: seedValue)
            // Both splits must fit the model (sample size, every label below the outputs).
            do { try net.check(train); try net.check(test) } catch { dpFail("model: \(error)") }

            let plan: DPSGDPlan
            let reports: [DPEpochReport]
            let options = DPSGDOptions(
                clippingNorm: clip, sampling: samplingKind, samplingSeed: seedValue, noise: noise)
            do {
                plan = try DPSGDPlan.calibrate(
                    targetEpsilon: eps, delta: delta, datasetSize: train.count, batchSize: batch,
                    epochs: epochs, accountant: kind)
                if !json {
                    print(
                        "DP-SGD: sigma = \(plan.noiseMultiplier) for epsilon <= \(eps) at delta = "
                            + "\(delta) (\(kind.rawValue.uppercased()); q = \(plan.samplingRate), "
                            + "\(plan.totalSteps) steps, clip \(clip), \(samplingKind.rawValue) "
                            + "sampling, noise: \(noise))")
                    if !samplingKind.matchesAccountant {
                        print(
                            "WARNING: shuffled fixed batches do not match the accountant's Poisson "
                                + "assumption; the epsilon below is NOT a proven bound for this run.")
                    }
                }
                let progress: (DPEpochReport) -> Void = { r in
                    guard !json else { return }
                    let test = r.testAccuracy.map { String(format: "  test acc %.2f%%", $0 * 100) } ?? ""
                    let order = r.order.map { String(format: ", order %g", $0) } ?? ""
                    print(
                        String(
                            format: "epoch %d/%d  loss %.4f  acc %.2f%%%@  epsilon spent %.4f (%@%@, %d steps)%@  clipped %.0f%%  (%.2fs)",
                            r.epoch, epochs, r.trainLoss, r.trainAccuracy * 100, test, r.epsilon,
                            r.accountant.uppercased(), order, r.steps,
                            r.epsilonIsProven ? "" : " [not a bound: shuffled batches]",
                            r.clippedFraction * 100, r.seconds))
                }
                if optimizer == "sgd" {
                    reports = try DPSGDTrainer.fit(
                        model: &net, optimizer: SGD(learningRate: Float(rate), momentum: Float(mom)),
                        loss: spec.loss, train: train, test: test, plan: plan, options: options,
                        progress: progress)
                } else {
                    reports = try DPSGDTrainer.fit(
                        model: &net, optimizer: Adam(learningRate: Float(rate)), loss: spec.loss,
                        train: train, test: test, plan: plan, options: options, progress: progress)
                }
            } catch {
                dpFail(error.description)
            }
            let spent = reports.last?.epsilon ?? plan.epsilon
            let steps = reports.last?.steps ?? plan.totalSteps
            let record = DPSGDTrainer.record(
                plan: plan, options: options, epsilonSpent: spent, steps: steps)
            var meta = DPArgs.dataIndependentStandardizer.metadata
            meta["model"] = spec.name
            meta["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
            meta["data"] = DataSource(argument: dataOptions.data).description
            meta["optimizer"] = optimizer
            meta.merge(
                TrainingHyperparameters(
                    epochs: epochs, learningRate: rate, batchSize: batch,
                    datasetSize: train.count, clippingNorm: clip
                ).metadata
            ) { _, new in new }
            meta = record.merged(into: meta)
            do {
                try net.saveSafetensors(to: URL(fileURLWithPath: out), metadata: meta)
            } catch {
                dpFail("\(error)")
            }
            let testAccuracy = reports.last?.testAccuracy
            if json {
                print(
                    jsonLine(
                        Summary(
                            model: spec.name, data: DataSource(argument: dataOptions.data).description,
                            trainSamples: train.count, targetEpsilon: eps, delta: delta,
                            sigma: plan.noiseMultiplier, q: plan.samplingRate, steps: steps,
                            clip: clip, sampling: samplingKind.rawValue, accountant: kind.rawValue,
                            optimizer: optimizer, learningRate: rate,
                            noiseSource: noise.metadataValue, epochs: reports, epsilon: spent,
                            proven: record.proven, testAccuracy: testAccuracy, out: out)))
            } else {
                print(
                    "wrote \(out): method=dpsgd, epsilon = \(spent), delta = \(delta), "
                        + "proven=\(record.proven)"
                        + (testAccuracy.map { String(format: ", test accuracy %.2f%%", $0 * 100) } ?? ""))
            }
        }
    }
}

// MARK: - dp noise

extension DPCommand {
    /// `verisplit dp noise`: Gaussian noise on a saved model's weights, with the claim recorded in
    /// the output's metadata. The input file is only read.
    struct Noise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add Gaussian noise to saved weights (DP-Weights, output perturbation, post-DP-SGD).",
            discussion: """
                --method dpweights (default): the DP-Weights calibration as released by its author, \
                sigma = sqrt(2 ln(1.25/delta)) (E lr C) / (epsilon n B) + 0.009760 / epsilon^0.078008 \
                with delta forced to 1/n^2. HEURISTIC: not a proven DP guarantee. E, lr, C, n, B come \
                from the options or the model's metadata. \
                --method output-perturbation: for a model from `verisplit dp train-logreg`; noise \
                calibrated to the proven sensitivity 2L/(gamma n) (analytic Gaussian mechanism). \
                --method post-dpsgd: extra noise on a `verisplit dp train` model (--sigma, or the \
                DP-Weights sigma at --epsilon); post-processing, so the recorded epsilon stays the \
                DP-SGD one. Noise comes from the system CSPRNG unless --noise-seed is given.
                """)

        @Option(help: "Input model (safetensors); never modified.") var model: String?
        @Option(parsing: .unconditional, help: "Epsilon > 0.") var epsilon: String?
        @Option(parsing: .unconditional, help: "Delta in (0, 1).") var delta: String = "1e-5"
        @Option(help: "Output model (safetensors), must differ from --model.") var out: String?
        @Option(help: "dpweights, output-perturbation or post-dpsgd.") var method: String = "dpweights"
        @Option(help: "DP-Weights: training epochs E (default: metadata trained_epochs).")
        var trainEpochs: String?
        @Option(parsing: .unconditional, help: "DP-Weights: learning rate (default: metadata).")
        var lr: String?
        @Option(parsing: .unconditional, help: "DP-Weights: clipping norm C (default: metadata).")
        var clip: String?
        @Option(help: "DP-Weights: dataset size n (default: metadata).") var datasetSize: String?
        @Option(help: "DP-Weights: batch size B (default: metadata).") var batchSize: String?
        @Option(parsing: .unconditional, help: "post-dpsgd: extra noise std (default: DP-Weights sigma at --epsilon).")
        var sigma: String?
        @Option(help: "Seed the noise (reproducible experiments only; default: system CSPRNG).")
        var noiseSeed: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let (eps, delta) = DPArgs.privacyTarget(epsilon: epsilon, delta: self.delta)
            guard let method = PrivacyRecord.Method(rawValue: method.lowercased()),
                method != .dpsgd
            else {
                dpFail("invalid method = \(method): must be dpweights, output-perturbation or post-dpsgd")
            }
            guard let model else { dpFail("missing --model (the safetensors file to noise)") }
            guard let out else { dpFail("missing --out (where to write the noised model)") }
            let inURL = URL(fileURLWithPath: model).standardizedFileURL.resolvingSymlinksInPath()
            let outURL = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath()
            guard inURL.path != outURL.path else {
                dpFail("--out is the input file \(model); the input is never modified, choose another path")
            }
            guard FileManager.default.fileExists(atPath: inURL.path) else {
                dpFail("model file \(model) does not exist")
            }
            let cli = TrainingHyperparameters(
                epochs: DPArgs.int(trainEpochs, "train-epochs"),
                learningRate: DPArgs.double(lr, "lr"),
                batchSize: DPArgs.int(batchSize, "batch-size"),
                datasetSize: DPArgs.int(datasetSize, "dataset-size", minimum: 2),
                clippingNorm: DPArgs.double(clip, "clip"))
            let extra = DPArgs.double(sigma, "sigma")
            var noise = GaussianSampler(
                DPArgs.seed(noiseSeed, "noise-seed").map { .seeded($0) } ?? .system)
            let result: NoisedModel
            do {
                let file = try SafeTensors.read(inURL)
                switch method {
                case .dpWeights:
                    result = try WeightNoising.dpWeights(
                        file, epsilon: eps,
                        hyperparameters: cli.filling(from: TrainingHyperparameters(metadata: file.metadata)),
                        noise: &noise)
                case .outputPerturbation:
                    result = try WeightNoising.outputPerturbation(
                        file, epsilon: eps, delta: delta, noise: &noise)
                case .postDPSGD:
                    let std: Double
                    if let extra {
                        std = extra
                    } else {
                        let h = cli.filling(from: TrainingHyperparameters(metadata: file.metadata))
                        guard let e = h.epochs, let r = h.learningRate, let c = h.clippingNorm,
                            let n = h.datasetSize, let b = h.batchSize
                        else {
                            dpFail("post-dpsgd needs --sigma, or training hyperparameters in the model's metadata")
                        }
                        std = try WeightNoise.dpWeights(
                            epsilon: eps, epochs: e, learningRate: r, clippingNorm: c,
                            datasetSize: n, batchSize: b
                        ).sigma
                    }
                    result = try WeightNoising.postDPSGD(file, extraStandardDeviation: std, noise: &noise)
                case .dpsgd:
                    dpFail("invalid method = dpsgd: use `verisplit dp train`")
                }
                try SafeTensors.write(result.file, to: outURL)
            } catch let error as DPError {
                dpFail(error.description)
            } catch {
                dpFail("\(error)")
            }
            report(result, method: method, requestedEpsilon: eps, requestedDelta: delta, out: out, input: model)
        }

        private func report(
            _ result: NoisedModel, method: PrivacyRecord.Method, requestedEpsilon: Double,
            requestedDelta: Double, out: String, input: String
        ) {
            let r = result.record
            let parameters = result.file.tensors.reduce(0) { $0 + $1.tensor.count }
            if json {
                let fields: [(String, String)] = [
                    ("method", "\"\(r.method.rawValue)\""), ("sigma", DPArgs.jsonNumber(r.sigma)),
                    ("epsilon", DPArgs.jsonNumber(r.epsilon)), ("delta", DPArgs.jsonNumber(r.delta)),
                    ("proven", r.proven ? "true" : "false"),
                    ("heuristic", r.method == .dpWeights ? "true" : "false"),
                    ("sensitivity", DPArgs.jsonNumber(r.sensitivity)),
                    ("parameters", "\(parameters)"), ("input", jsonLine(input)),
                    ("out", jsonLine(out)), ("note", jsonLine(r.note)),
                ]
                print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
                return
            }
            switch method {
            case .dpWeights:
                print(
                    "HEURISTIC, NOT A PROVEN DP GUARANTEE: DP-Weights released calibration, "
                        + "sigma = \(r.sigma) on each of \(parameters) parameters; claimed epsilon = "
                        + "\(r.epsilon), delta forced to 1/n^2 = \(r.delta) (--delta \(requestedDelta) not used)")
            case .outputPerturbation:
                print(
                    "proven: output perturbation, sensitivity 2L/(gamma n) = \(r.sensitivity ?? .nan), "
                        + "sigma = \(r.sigma) on each of \(parameters) parameters, (epsilon, delta) = "
                        + "(\(r.epsilon), \(r.delta))")
            case .postDPSGD:
                print(
                    "post-processing of a DP-SGD model: extra weight noise, total sigma = \(r.sigma); "
                        + "the privacy claim stays the DP-SGD one: epsilon = \(r.epsilon), delta = "
                        + "\(r.delta), proven=\(r.proven) (--epsilon \(requestedEpsilon) only sized the noise"
                        + (sigma == nil ? ")" : "; --sigma given, --epsilon unused)"))
            case .dpsgd:
                break
            }
            print("wrote \(out): method=\(r.method.rawValue), proven=\(r.proven)")
        }
    }
}

// MARK: - dp train-logreg

extension DPCommand {
    /// `verisplit dp train-logreg`: the L2-regularized logistic regression whose output
    /// perturbation `dp noise --method output-perturbation` can prove.
    struct TrainLogReg: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-logreg",
            abstract: "Train L2-regularized multinomial logistic regression for proven output perturbation.",
            discussion: """
                Inputs: x - 0.5 clipped to L2 norm 1, plus a bias feature (||x_aug|| <= sqrt 2). \
                Projected SGD, one example per step, eta_t = min(1/beta, 1/(gamma t)), projection \
                radius L0/gamma. The model's metadata records gamma, L, n and the other \
                assumptions; the sensitivity of the released weights is 2L/(gamma n) (Wu et al. 2017). \
                The written model itself is NOT private: noise it with \
                `verisplit dp noise --method output-perturbation`.
                """)

        @OptionGroup var dataOptions: DataOptions
        @Option(parsing: .unconditional, help: "L2 regularization gamma > 0.") var l2: String = "0.01"
        @Option(help: "Passes over the data.") var passes: String = "10"
        @Option(help: "Seed of the permutations.") var seed: String = "1"
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let gamma = DPArgs.requiredDouble(l2, "l2")
            let passes = DPArgs.int(passes, "passes") ?? 1
            let seedValue = DPArgs.seed(seed, "seed") ?? 1
            guard let out else { dpFail("missing --out (where to write the model)") }
            let (rawTrain, rawTest) = DPArgs.loadData(dataOptions.data)
            let trained: (model: Sequential, assumptions: LogisticRegressionAssumptions)
            let train: Dataset
            let test: Dataset
            let spec: ModelSpec
            do {
                train = try PrivateLogisticRegression.preprocess(rawTrain)
                test = try PrivateLogisticRegression.preprocess(rawTest)
                trained = try PrivateLogisticRegression.train(
                    data: train, l2: gamma, passes: passes, seed: seedValue)
                spec = try PrivateLogisticRegression.spec(
                    features: train.sampleSize, classes: train.classCount)
            } catch {
                dpFail(error.description)
            }
            let a = trained.assumptions
            var meta = a.metadata
            meta["model"] = spec.name
            meta["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
            meta["data"] = DataSource(argument: dataOptions.data).description
            meta["trained_epochs"] = "\(passes)"
            do {
                try trained.model.saveSafetensors(to: URL(fileURLWithPath: out), metadata: meta)
            } catch {
                dpFail("\(error)")
            }
            let trainAcc = Trainer.evaluate(model: trained.model, loss: .softmaxCrossEntropy, data: train).accuracy
            let testAcc = Trainer.evaluate(model: trained.model, loss: .softmaxCrossEntropy, data: test).accuracy
            if json {
                print(
                    "{\"l2\": \(gamma), \"passes\": \(passes), \"n\": \(a.datasetSize), "
                        + "\"lipschitz\": \(a.lipschitz), \"sensitivity\": \(a.sensitivity), "
                        + "\"train_accuracy\": \(trainAcc), \"test_accuracy\": \(testAcc), "
                        + "\"out\": \(jsonLine(out))}")
            } else {
                print(
                    String(
                        format: "logistic regression (gamma = %g, %d passes, n = %d): train acc %.2f%%, test acc %.2f%%",
                        gamma, passes, a.datasetSize, trainAcc * 100, testAcc * 100))
                print(
                    "output-perturbation sensitivity 2L/(gamma n) = \(a.sensitivity) (L = \(a.lipschitz)); "
                        + "wrote \(out) (not private until noised)")
            }
        }
    }
}
