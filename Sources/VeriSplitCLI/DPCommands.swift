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
        var q: Double?

        @Option(parsing: .unconditional, help: "Noise multiplier > 0 (noise std / clipping norm).")
        var sigma: Double?

        @Option(
            parsing: .unconditional,
            help: "Target epsilon > 0; solves for sigma instead of --sigma.")
        var epsilon: Double?

        @Option(parsing: .unconditional, help: "Number of steps >= 1.")
        var steps: Int?

        @Option(parsing: .unconditional, help: "Delta in (0, 1).")
        var delta: Double?

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

        private func execute() throws(DPError) {
            guard let kind = AccountantKind(rawValue: accountant.lowercased()) else {
                fail("invalid accountant = \(accountant): must be rdp or pld")
            }
            guard let q else { fail("missing --q") }
            guard let delta else { fail("missing --delta") }
            guard let steps else { fail("missing --steps") }
            switch (sigma, epsilon) {
            case (.some, .some):
                fail("invalid sigma/epsilon: give either --sigma or --epsilon, not both")
            case (.none, .none):
                fail("missing --sigma (to get epsilon) or --epsilon (to solve for sigma)")
            case (.some(let sigma), .none):
                let mechanism = try PoissonSampledGaussian(
                    samplingRate: q, noiseMultiplier: sigma, steps: steps)
                let result = try kind.accountant.guarantee(for: mechanism, delta: delta)
                report(
                    kind: kind, q: q, steps: steps, delta: delta, sigma: sigma,
                    epsilon: result.epsilon, order: result.order, target: nil)
            case (.none, .some(let target)):
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

/// What the dp subcommands share: the privacy target's checks, data loading, JSON numbers.
/// Numeric options are typed (ArgumentParser parses them; the root maps a refused value to
/// status 2) and range-checked in each command's `validate()`.
enum DPArgs {
    /// Rejects a missing or non-positive epsilon and a delta outside (0, 1) up front, naming the
    /// parameter.
    static func privacyTarget(epsilon: Double?, delta: Double) throws(ValidationError) -> (Double, Double) {
        let eps = try OptionCheck.required(epsilon, "epsilon")
        guard eps > 0, eps.isFinite else {
            throw ValidationError("invalid epsilon = \(eps): must be > 0. Pass a privacy budget such as 1 or 8.")
        }
        guard delta > 0, delta < 1 else {
            throw ValidationError("invalid delta = \(delta): must lie in the open interval (0, 1). Use e.g. 1e-5.")
        }
        return (eps, delta)
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
                comparison only and the model is recorded as proven=false. Batch sampling and noise \
                come from the system CSPRNG; --sampling-seed and --noise-seed make them \
                reproducible, and either one records the model as proven=false (anyone who knows \
                the seed can replay that randomness). --seed seeds the initialization only. The \
                guarantee is for one example, add-remove neighbours, with n and q public. Train \
                loss, train accuracy and the clipped fraction are NOT private and are never stored \
                in the model. A NaN or infinite loss, gradient or weight stops training with exit \
                status 1 and no model written. Inputs are mapped to (x - 0.5) / 0.5 with fixed \
                constants (no privacy cost).
                """)

        @Option(help: "Model spec JSON file or bundled name (\(ModelSpec.bundledNames.joined(separator: ", "))).")
        var model: String = "mlp-784-128-10"
        @Option(parsing: .unconditional, help: "Target epsilon > 0.") var epsilon: Double?
        @Option(parsing: .unconditional, help: "Delta in (0, 1).") var delta: Double = 1e-5
        @Option(help: "Epochs (each round(n / batch) noisy steps).") var epochs: Int = 5
        @Option(help: "Expected batch size B (q = B / n).") var batch: Int = 64
        @Option(parsing: .unconditional, help: "Per-sample clipping norm C > 0.") var clip: Double = 1.0
        @OptionGroup var dataOptions: DataOptions
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Option(help: "Optimizer: sgd or adam.") var optimizer: String = "sgd"
        @Option(parsing: .unconditional, help: "Learning rate (default 0.05 for sgd, 0.002 for adam).")
        var lr: Double?
        @Option(parsing: .unconditional, help: "SGD momentum.") var momentum: Double = 0.9
        @Option(help: "Sampling: poisson (matches the accountant) or shuffled (does not).")
        var sampling: String = "poisson"
        @Option(help: "Accountant for calibration and the per-epoch readout: rdp or pld.")
        var accountant: String = "rdp"
        @Option(help: "Seed of the weight initialization only.") var seed: UInt64 = 1
        @Option(help: "Seed the batch sampling (reproducible experiments only: the model is then recorded proven=false).")
        var samplingSeed: UInt64?
        @Option(help: "Seed the Gaussian noise (reproducible experiments only: the model is then recorded proven=false).")
        var noiseSeed: UInt64?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            _ = try DPArgs.privacyTarget(epsilon: epsilon, delta: delta)
            try OptionCheck.atLeast(1, epochs, "epochs")
            try OptionCheck.atLeast(1, batch, "batch")
            try OptionCheck.finite(clip, "clip")
            guard clip > 0 else { throw ValidationError("invalid clip = \(clip): must be > 0, e.g. 1.0") }
            try OptionCheck.finite(lr, "lr")
            if let lr, lr <= 0 { throw ValidationError("invalid lr = \(lr): must be > 0") }
            try OptionCheck.finite(momentum, "momentum")
            guard (0..<1).contains(momentum) else { throw ValidationError("invalid momentum = \(momentum): must lie in [0, 1)") }
        }

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
            var samplingSource: String
            var seeded: [String]
            var privacyUnit: String
            var neighbouring: String
            var n: Int
            var publicQuantities: [String]
            var epochs: [DPEpochReport]
            var epsilon: Double
            var proven: Bool
            var note: String
            var testAccuracy: Float?
            var out: String?
        }

        func run() async throws {
            let (eps, delta) = try DPArgs.privacyTarget(epsilon: epsilon, delta: self.delta)
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
            let rate = lr ?? (optimizer == "sgd" ? 0.05 : 0.002)
            let settings = DPTrainingSettings(
                targetEpsilon: eps, delta: delta, epochs: epochs, batchSize: batch,
                clippingNorm: clip, sampling: samplingKind, accountant: kind,
                optimizer: optimizer == "sgd"
                    ? .sgd(learningRate: rate, momentum: momentum) : .adam(learningRate: rate),
                initializationSeed: seed,
                samplingSource: samplingSeed.map { .seeded($0) } ?? .system,
                noise: noiseSeed.map { .seeded($0) } ?? .system)
            guard let out else { dpFail("missing --out (where to write the trained model)") }

            let spec: ModelSpec
            do { spec = try ModelSpec.resolve(model) } catch { dpFail("\(error)") }
            var (train, test) = DPArgs.loadData(dataOptions.data)
            train.standardize(with: DPArgs.dataIndependentStandardizer)
            test.standardize(with: DPArgs.dataIndependentStandardizer)
            let dataName = DataSource(argument: dataOptions.data).description
            var context = DPArgs.dataIndependentStandardizer.metadata
            context["model"] = spec.name
            context["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
            context["data"] = dataName

            let result: DPTrainingResult
            do throws(DPError) {
                let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
                if !json { printPlan(plan, settings: settings) }
                result = try DPTraining.trainAndSave(
                    spec: spec, train: train, test: test, settings: settings, plan: plan,
                    context: context, to: URL(fileURLWithPath: out),
                    progress: { r in if !json { printEpoch(r, of: epochs) } })
            } catch .nonFinite(let name, let detail) {
                FileHandle.standardError.write(
                    Data(("error: " + DPError.nonFinite(name: name, detail: detail).description + "\n").utf8))
                Foundation.exit(1)
            } catch {
                dpFail(error.description)
            }
            let r = result.record
            let testAccuracy = result.reports.last?.testAccuracy
            if json {
                print(
                    jsonLine(
                        Summary(
                            model: spec.name, data: dataName, trainSamples: train.count,
                            targetEpsilon: eps, delta: delta, sigma: result.plan.noiseMultiplier,
                            q: result.plan.samplingRate, steps: result.steps, clip: clip,
                            sampling: samplingKind.rawValue, accountant: kind.rawValue,
                            optimizer: optimizer, learningRate: rate,
                            noiseSource: settings.noise.metadataValue,
                            samplingSource: settings.samplingSource.metadataValue,
                            seeded: settings.options.seededRandomness,
                            privacyUnit: r.privacyUnit?.rawValue ?? "",
                            neighbouring: r.neighbouring?.rawValue ?? "", n: train.count,
                            publicQuantities: r.publicQuantities, epochs: result.reports,
                            epsilon: result.epsilon, proven: r.proven, note: r.note,
                            testAccuracy: testAccuracy, out: out)))
            } else {
                let seeded = settings.options.seededRandomness
                print(
                    "wrote \(out): method=dpsgd, epsilon = \(result.epsilon), delta = \(delta), "
                        + "proven=\(r.proven)"
                        + (seeded.isEmpty ? "" : " (seeded: \(seeded.joined(separator: ", ")))")
                        + ", privacy unit one example, add-remove neighbours, n = \(train.count) and "
                        + "q = \(result.plan.samplingRate) public"
                        + (testAccuracy.map { String(format: ", test accuracy %.2f%%", $0 * 100) } ?? ""))
            }
        }

        private func printPlan(_ plan: DPSGDPlan, settings s: DPTrainingSettings) {
            print(
                "DP-SGD: sigma = \(plan.noiseMultiplier) for epsilon <= \(s.targetEpsilon) at delta = "
                    + "\(s.delta) (\(s.accountant.rawValue.uppercased()); q = \(plan.samplingRate), "
                    + "\(plan.totalSteps) steps, clip \(s.clippingNorm), \(s.sampling.rawValue) "
                    + "sampling; batches: \(s.samplingSource), noise: \(s.noise))")
            if !s.sampling.matchesAccountant {
                print(
                    "WARNING: shuffled fixed batches do not match the accountant's Poisson "
                        + "assumption; the epsilon below is NOT a proven bound for this run.")
            }
            let seeded = s.options.seededRandomness
            if !seeded.isEmpty {
                print(
                    "WARNING: seeded \(seeded.joined(separator: " and ")): a reproducible experiment, "
                        + "not a release; the model is recorded proven=false.")
            }
        }

        private func printEpoch(_ r: DPEpochReport, of epochs: Int) {
            let test = r.testAccuracy.map { String(format: "  test acc %.2f%%", $0 * 100) } ?? ""
            let order = r.order.map { String(format: ", order %g", $0) } ?? ""
            let p = r.nonPrivate
            print(
                String(
                    format: "epoch %d/%d%@  epsilon spent %.4f (%@%@, %d steps)%@  (%.2fs)  | not private: train loss %.4f, train acc %.2f%%, clipped %.0f%%",
                    r.epoch, epochs, test, r.epsilon, r.accountant.uppercased(), order, r.steps,
                    r.epsilonIsProven ? "" : " [not a proven bound]", r.seconds,
                    p.trainLoss, p.trainAccuracy * 100, p.clippedFraction * 100))
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
        @Option(parsing: .unconditional, help: "Epsilon > 0.") var epsilon: Double?
        @Option(parsing: .unconditional, help: "Delta in (0, 1).") var delta: Double = 1e-5
        @Option(help: "Output model (safetensors), must differ from --model.") var out: String?
        @Option(help: "dpweights, output-perturbation or post-dpsgd.") var method: String = "dpweights"
        @Option(help: "DP-Weights: training epochs E (default: metadata trained_epochs).")
        var trainEpochs: Int?
        @Option(parsing: .unconditional, help: "DP-Weights: learning rate (default: metadata).")
        var lr: Double?
        @Option(parsing: .unconditional, help: "DP-Weights: clipping norm C (default: metadata).")
        var clip: Double?
        @Option(help: "DP-Weights: dataset size n (default: metadata).") var datasetSize: Int?
        @Option(help: "DP-Weights: batch size B (default: metadata).") var batchSize: Int?
        @Option(parsing: .unconditional, help: "post-dpsgd: extra noise std (default: DP-Weights sigma at --epsilon).")
        var sigma: Double?
        @Option(help: "Seed the noise (reproducible experiments only; default: system CSPRNG).")
        var noiseSeed: UInt64?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            _ = try DPArgs.privacyTarget(epsilon: epsilon, delta: delta)
            try OptionCheck.atLeast(1, trainEpochs, "train-epochs")
            try OptionCheck.atLeast(1, batchSize, "batch-size")
            try OptionCheck.atLeast(2, datasetSize, "dataset-size")
            try OptionCheck.finite(lr, "lr")
            try OptionCheck.finite(clip, "clip")
            try OptionCheck.finite(sigma, "sigma")
        }

        func run() async throws {
            let (eps, delta) = try DPArgs.privacyTarget(epsilon: epsilon, delta: self.delta)
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
                epochs: trainEpochs, learningRate: lr, batchSize: batchSize, datasetSize: datasetSize, clippingNorm: clip)
            let extra = sigma
            var noise = GaussianSampler(noiseSeed.map { .seeded($0) } ?? .system)
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
        @Option(parsing: .unconditional, help: "L2 regularization gamma > 0.") var l2: Double = 0.01
        @Option(help: "Passes over the data.") var passes: Int = 10
        @Option(help: "Seed of the permutations.") var seed: UInt64 = 1
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            try OptionCheck.finite(l2, "l2")
            try OptionCheck.atLeast(1, passes, "passes")
        }

        func run() async throws {
            let gamma = l2
            let seedValue = seed
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
