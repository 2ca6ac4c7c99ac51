import Foundation
import NeuralNet

// The `verisplit dp` commands as library calls: each takes typed settings, does the work, and
// returns a value that renders itself as text or encodes as one JSON value.

/// `dp account`: epsilon of Poisson-subsampled Gaussian DP-SGD for a noise multiplier, or the
/// noise multiplier that meets a target epsilon.
public struct PrivacyAccountingAnswer: Encodable, Sendable {
    public var accountant: String
    public var q: Double
    public var sigma: Double
    public var steps: Int
    public var delta: Double
    public var epsilon: Double
    /// The RDP order that gave the bound (nil for PLD).
    public var order: Double?
    /// Set when sigma was solved for this epsilon.
    public var targetEpsilon: Double?

    /// With `sigma`, the epsilon; with `targetEpsilon`, the calibrated sigma (RDP to relative
    /// tolerance 1e-6, PLD 1e-4). Exactly one of the two must be given.
    public static func compute(
        q: Double, sigma: Double?, targetEpsilon: Double?, steps: Int, delta: Double,
        accountant kind: AccountantKind
    ) throws(DPError) -> PrivacyAccountingAnswer {
        switch (sigma, targetEpsilon) {
        case (.some(let sigma), .none):
            let mechanism = try PoissonSampledGaussian(samplingRate: q, noiseMultiplier: sigma, steps: steps)
            let result = try kind.accountant.guarantee(for: mechanism, delta: delta)
            return PrivacyAccountingAnswer(
                accountant: kind.rawValue, q: q, sigma: sigma, steps: steps, delta: delta,
                epsilon: result.epsilon, order: result.order, targetEpsilon: nil)
        case (.none, .some(let target)):
            let solution = try SigmaCalibration.noiseMultiplier(
                targetEpsilon: target, delta: delta, samplingRate: q, steps: steps, accountant: kind.accountant,
                relativeTolerance: kind == .rdp ? 1e-6 : 1e-4)
            return PrivacyAccountingAnswer(
                accountant: kind.rawValue, q: q, sigma: solution.sigma, steps: steps,
                delta: delta, epsilon: solution.epsilon, order: solution.order,
                targetEpsilon: target)
        default:
            throw .invalidParameter(
                name: "sigma/epsilon",
                value: "\(sigma.map { "\($0)" } ?? "none")/\(targetEpsilon.map { "\($0)" } ?? "none")",
                requirement: "give exactly one of sigma and epsilon",
                hint: "Pass --sigma to get epsilon, or --epsilon to solve for sigma.")
        }
    }

    public var text: String {
        let name = accountant.uppercased()
        if let targetEpsilon {
            return "sigma = \(sigma)  (\(name): epsilon = \(epsilon) <= target \(targetEpsilon) "
                + "at delta = \(delta), q = \(q), steps = \(steps))"
        }
        let orderText = order.map { ", order \($0)" } ?? ""
        return
            "epsilon = \(epsilon)  (\(name)\(orderText); delta = \(delta), q = \(q), sigma = \(sigma), steps = \(steps))"
    }
}

extension DPTraining {
    /// Input preprocessing of DP training: x -> (x - 0.5) / 0.5. Fixed constants, not fitted on
    /// the private data, so preprocessing spends no privacy budget (a fitted mean/std would).
    public static let dataIndependentStandardizer = Standardizer(mean: [0.5], std: [0.5])

    /// Loads a `DataSource` argument's train and test splits.
    public static func loadData(_ argument: String) throws(DPError) -> (train: Dataset, test: Dataset) {
        do { return try MNISTFamily.load(DataSource(argument: argument)) } catch {
            throw .unreadable(name: "data \(argument)", detail: "\(error)")
        }
    }
}

/// `dp train`: the DP-SGD recipe. Resolves the model spec, loads and standardizes the data with
/// data-independent constants, calibrates sigma, trains with per-epoch accounting and writes the
/// model with its privacy record.
public struct DPTrainingRecipe: Sendable {
    public var model: String
    public var data: String
    public var out: String
    public var settings: DPTrainingSettings
    /// "sgd" or "adam", as recorded in the summary.
    public var optimizerName: String
    public var learningRate: Double

    public init(
        model: String, data: String, out: String, settings: DPTrainingSettings, optimizerName: String,
        learningRate: Double
    ) {
        self.model = model
        self.data = data
        self.out = out
        self.settings = settings
        self.optimizerName = optimizerName
        self.learningRate = learningRate
    }

    /// The recipe as `dp train` states it: the learning rate defaults by optimizer (0.05 for
    /// SGD with `momentum`, 0.002 for Adam); batch sampling and noise come from the system
    /// CSPRNG unless seeded, and a seed records the model proven=false (anyone who knows it
    /// can replay that randomness); `seed` seeds the initialization only.
    public init(
        model: String, data: String, out: String, epsilon: Double, delta: Double, epochs: Int, batchSize: Int,
        clip: Double, sampling: BatchSampling, accountant: AccountantKind, optimizer: TrainingRecipe.OptimizerChoice,
        learningRate: Double?, momentum: Double, seed: UInt64, samplingSeed: UInt64?, noiseSeed: UInt64?
    ) {
        let rate = learningRate ?? (optimizer == .sgd ? 0.05 : 0.002)
        let settings = DPTrainingSettings(
            targetEpsilon: epsilon, delta: delta, epochs: epochs, batchSize: batchSize, clippingNorm: clip,
            sampling: sampling, accountant: accountant,
            optimizer: optimizer == .sgd ? .sgd(learningRate: rate, momentum: momentum) : .adam(learningRate: rate),
            initializationSeed: seed, samplingSource: samplingSeed.map { .seeded($0) } ?? .system,
            noise: noiseSeed.map { .seeded($0) } ?? .system)
        self.init(
            model: model, data: data, out: out, settings: settings, optimizerName: optimizer.rawValue,
            learningRate: rate)
    }

    /// Trains; `plan` sees the calibrated plan before the first step, `epoch` each epoch's report.
    /// A diverged run throws `DPError.nonFinite` and writes nothing.
    public func run(
        plan onPlan: (DPSGDPlan) -> Void = { _ in },
        epoch: @escaping (DPEpochReport) -> Void = { _ in }
    ) throws(DPError) -> DPTrainingSummary {
        let spec: ModelSpec
        do { spec = try ModelSpec.resolve(model) } catch {
            throw .unreadable(name: "model \(model)", detail: "\(error)")
        }
        var (train, test) = try DPTraining.loadData(data)
        train.standardize(with: DPTraining.dataIndependentStandardizer)
        test.standardize(with: DPTraining.dataIndependentStandardizer)
        let dataName = DataSource(argument: data).description
        var context = DPTraining.dataIndependentStandardizer.metadata
        context["model"] = spec.name
        context["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
        context["data"] = dataName
        let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
        onPlan(plan)
        let result = try DPTraining.trainAndSave(
            spec: spec, train: train, test: test, settings: settings, plan: plan,
            context: context, to: URL(fileURLWithPath: out), progress: epoch)
        let r = result.record
        return DPTrainingSummary(
            model: spec.name, data: dataName, trainSamples: train.count, targetEpsilon: settings.targetEpsilon,
            delta: settings.delta, sigma: result.plan.noiseMultiplier, q: result.plan.samplingRate, steps: result.steps,
            clip: settings.clippingNorm, sampling: settings.sampling.rawValue, accountant: settings.accountant.rawValue,
            optimizer: optimizerName, learningRate: learningRate, noiseSource: settings.noise.metadataValue,
            samplingSource: settings.samplingSource.metadataValue, seeded: settings.options.seededRandomness,
            privacyUnit: r.privacyUnit?.rawValue ?? "", neighbouring: r.neighbouring?.rawValue ?? "", n: train.count,
            publicQuantities: r.publicQuantities, epochs: result.reports, epsilon: result.epsilon, proven: r.proven,
            note: r.note, testAccuracy: result.reports.last?.testAccuracy, out: out)
    }

    /// The calibration line and the warnings that apply (shuffled batches, seeded randomness).
    public static func planText(_ plan: DPSGDPlan, settings s: DPTrainingSettings) -> String {
        var lines = [
            "DP-SGD: sigma = \(plan.noiseMultiplier) for epsilon <= \(s.targetEpsilon) at delta = "
                + "\(s.delta) (\(s.accountant.rawValue.uppercased()); q = \(plan.samplingRate), "
                + "\(plan.totalSteps) steps, clip \(s.clippingNorm), \(s.sampling.rawValue) "
                + "sampling; batches: \(s.samplingSource), noise: \(s.noise))"
        ]
        if !s.sampling.matchesAccountant {
            lines.append(
                "WARNING: shuffled fixed batches do not match the accountant's Poisson "
                    + "assumption; the epsilon below is NOT a proven bound for this run.")
        }
        let seeded = s.options.seededRandomness
        if !seeded.isEmpty {
            lines.append(
                "WARNING: seeded \(seeded.joined(separator: " and ")): a reproducible experiment, "
                    + "not a release; the model is recorded proven=false.")
        }
        return lines.joined(separator: "\n")
    }

    /// One epoch's line: the epsilon spent, then the non-private training statistics, labelled.
    public static func epochText(_ r: DPEpochReport, of epochs: Int) -> String {
        let test = r.testAccuracy.map { String(format: "  test acc %.2f%%", $0 * 100) } ?? ""
        let order = r.order.map { String(format: ", order %g", $0) } ?? ""
        let p = r.nonPrivate
        return String(
            format:
                "epoch %d/%d%@  epsilon spent %.4f (%@%@, %d steps)%@  (%.2fs)  | not private: train loss %.4f, train acc %.2f%%, clipped %.0f%%",
            r.epoch, epochs, test, r.epsilon, r.accountant.uppercased(), order, r.steps,
            r.epsilonIsProven ? "" : " [not a proven bound]", r.seconds,
            p.trainLoss, p.trainAccuracy * 100, p.clippedFraction * 100)
    }
}

/// What `dp train` reports (its `--json` value).
public struct DPTrainingSummary: Encodable, Sendable {
    public var model: String
    public var data: String
    public var trainSamples: Int
    public var targetEpsilon: Double
    public var delta: Double
    public var sigma: Double
    public var q: Double
    public var steps: Int
    public var clip: Double
    public var sampling: String
    public var accountant: String
    public var optimizer: String
    public var learningRate: Double
    public var noiseSource: String
    public var samplingSource: String
    public var seeded: [String]
    public var privacyUnit: String
    public var neighbouring: String
    public var n: Int
    public var publicQuantities: [String]
    public var epochs: [DPEpochReport]
    public var epsilon: Double
    public var proven: Bool
    public var note: String
    public var testAccuracy: Float?
    public var out: String?

    public var text: String {
        "wrote \(out ?? ""): method=dpsgd, epsilon = \(epsilon), delta = \(delta), proven=\(proven)"
            + (seeded.isEmpty ? "" : " (seeded: \(seeded.joined(separator: ", ")))")
            + ", privacy unit one example, add-remove neighbours, n = \(n) and q = \(q) public"
            + (testAccuracy.map { String(format: ", test accuracy %.2f%%", $0 * 100) } ?? "")
    }
}

/// `dp noise`: Gaussian noise on a saved model's weights by one of the recorded methods, written
/// to a new file (the input is only read).
public struct WeightNoisingRequest: Sendable {
    public var model: String
    public var out: String
    public var method: PrivacyRecord.Method
    public var epsilon: Double
    public var delta: Double
    /// Overrides of the training hyperparameters in the model's metadata.
    public var hyperparameters: TrainingHyperparameters
    /// post-dpsgd: the extra noise std (default: the DP-Weights sigma at `epsilon`).
    public var sigma: Double?
    public var noiseSeed: UInt64?

    public init(
        model: String, out: String, method: PrivacyRecord.Method, epsilon: Double, delta: Double,
        hyperparameters: TrainingHyperparameters, sigma: Double?, noiseSeed: UInt64?
    ) {
        self.model = model
        self.out = out
        self.method = method
        self.epsilon = epsilon
        self.delta = delta
        self.hyperparameters = hyperparameters
        self.sigma = sigma
        self.noiseSeed = noiseSeed
    }

    public func run() throws(DPError) -> WeightNoisingReport {
        guard method != .dpsgd else {
            throw .invalidParameter(
                name: "method", value: "dpsgd", requirement: "must be dpweights, output-perturbation or post-dpsgd",
                hint: "Use `verisplit dp train` for DP-SGD.")
        }
        let inURL = URL(fileURLWithPath: model).standardizedFileURL.resolvingSymlinksInPath()
        let outURL = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath()
        guard inURL.path != outURL.path else {
            throw .invalidParameter(
                name: "out", value: out, requirement: "is the input file",
                hint: "The input is never modified; choose another path.")
        }
        guard FileManager.default.fileExists(atPath: inURL.path) else {
            throw .unreadable(name: "model \(model)", detail: "the file does not exist")
        }
        var noise = GaussianSampler(noiseSeed.map { .seeded($0) } ?? .system)
        let file: SafeTensorsFile
        do { file = try SafeTensors.read(inURL) } catch {
            throw .unreadable(name: "model \(model)", detail: "\(error)")
        }
        let h = hyperparameters.filling(from: TrainingHyperparameters(metadata: file.metadata))
        let result: NoisedModel
        switch method {
        case .dpWeights:
            result = try WeightNoising.dpWeights(file, epsilon: epsilon, hyperparameters: h, noise: &noise)
        case .outputPerturbation:
            result = try WeightNoising.outputPerturbation(file, epsilon: epsilon, delta: delta, noise: &noise)
        case .postDPSGD:
            let std: Double
            if let sigma {
                std = sigma
            } else {
                guard let e = h.epochs, let r = h.learningRate, let c = h.clippingNorm, let n = h.datasetSize,
                    let b = h.batchSize
                else {
                    throw .metadata(
                        name: "trained_epochs",
                        detail: "post-dpsgd needs --sigma, or training hyperparameters in the model's metadata")
                }
                std = try WeightNoise.dpWeights(
                    epsilon: epsilon, epochs: e, learningRate: r, clippingNorm: c,
                    datasetSize: n, batchSize: b
                ).sigma
            }
            result = try WeightNoising.postDPSGD(file, extraStandardDeviation: std, noise: &noise)
        case .dpsgd:
            preconditionFailure("refused above")
        }
        do { try SafeTensors.write(result.file, to: outURL) } catch {
            throw .writeFailed(name: out, detail: "\(error)")
        }
        let r = result.record
        return WeightNoisingReport(
            method: r.method.rawValue, sigma: r.sigma, epsilon: r.epsilon, delta: r.delta, proven: r.proven,
            heuristic: r.method == .dpWeights, sensitivity: r.sensitivity,
            parameters: result.file.tensors.reduce(0) { $0 + $1.tensor.count }, input: model, out: out, note: r.note,
            requestedEpsilon: epsilon, requestedDelta: delta, sigmaGiven: sigma != nil)
    }
}

/// What `dp noise` reports (its `--json` value).
public struct WeightNoisingReport: Encodable, Sendable {
    public var method: String
    public var sigma: Double
    public var epsilon: Double
    public var delta: Double
    public var proven: Bool
    public var heuristic: Bool
    public var sensitivity: Double?
    public var parameters: Int
    public var input: String
    public var out: String
    public var note: String
    var requestedEpsilon = 0.0
    var requestedDelta = 0.0
    var sigmaGiven = false

    enum CodingKeys: String, CodingKey {
        case method, sigma, epsilon, delta, proven, heuristic, sensitivity, parameters, input, out, note
    }

    public var text: String {
        var line: String
        switch PrivacyRecord.Method(rawValue: method) {
        case .dpWeights:
            line =
                "HEURISTIC, NOT A PROVEN DP GUARANTEE: DP-Weights released calibration, "
                + "sigma = \(sigma) on each of \(parameters) parameters; claimed epsilon = "
                + "\(epsilon), delta forced to 1/n^2 = \(delta) (--delta \(requestedDelta) not used)"
        case .outputPerturbation:
            line =
                "proven: output perturbation, sensitivity 2L/(gamma n) = \(sensitivity ?? .nan), "
                + "sigma = \(sigma) on each of \(parameters) parameters, (epsilon, delta) = (\(epsilon), \(delta))"
        case .postDPSGD:
            line =
                "post-processing of a DP-SGD model: extra weight noise, total sigma = \(sigma); "
                + "the privacy claim stays the DP-SGD one: epsilon = \(epsilon), delta = "
                + "\(delta), proven=\(proven) (--epsilon \(requestedEpsilon) only sized the noise"
                + (sigmaGiven ? "; --sigma given, --epsilon unused)" : ")")
        default:
            line = ""
        }
        return (line.isEmpty ? "" : line + "\n") + "wrote \(out): method=\(method), proven=\(proven)"
    }
}

/// `dp train-logreg`: the L2-regularized logistic regression whose output perturbation is proven
/// (Wu et al. 2017), written with its assumptions in the metadata. The model itself is not private.
public struct LogisticRegressionRecipe: Sendable {
    public var data: String
    public var l2: Double
    public var passes: Int
    public var seed: UInt64
    public var out: String

    public init(data: String, l2: Double, passes: Int, seed: UInt64, out: String) {
        self.data = data
        self.l2 = l2
        self.passes = passes
        self.seed = seed
        self.out = out
    }

    public func run() throws(DPError) -> LogisticRegressionReport {
        let (rawTrain, rawTest) = try DPTraining.loadData(data)
        let train = try PrivateLogisticRegression.preprocess(rawTrain)
        let test = try PrivateLogisticRegression.preprocess(rawTest)
        let trained = try PrivateLogisticRegression.train(data: train, l2: l2, passes: passes, seed: seed)
        let spec = try PrivateLogisticRegression.spec(features: train.sampleSize, classes: train.classCount)
        let a = trained.assumptions
        var meta = a.metadata
        meta["model"] = spec.name
        meta["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
        meta["data"] = DataSource(argument: data).description
        meta["trained_epochs"] = "\(passes)"
        do { try trained.model.saveSafetensors(to: URL(fileURLWithPath: out), metadata: meta) } catch {
            throw .writeFailed(name: out, detail: "\(error)")
        }
        return LogisticRegressionReport(
            l2: l2, passes: passes, n: a.datasetSize, lipschitz: a.lipschitz, sensitivity: a.sensitivity,
            trainAccuracy: Trainer.evaluate(model: trained.model, loss: .softmaxCrossEntropy, data: train).accuracy,
            testAccuracy: Trainer.evaluate(model: trained.model, loss: .softmaxCrossEntropy, data: test).accuracy,
            out: out)
    }
}

/// What `dp train-logreg` reports (its `--json` value).
public struct LogisticRegressionReport: Encodable, Sendable {
    public var l2: Double
    public var passes: Int
    public var n: Int
    public var lipschitz: Double
    public var sensitivity: Double
    public var trainAccuracy: Float
    public var testAccuracy: Float
    public var out: String

    public var text: String {
        String(
            format: "logistic regression (gamma = %g, %d passes, n = %d): train acc %.2f%%, test acc %.2f%%",
            l2, passes, n, trainAccuracy * 100, testAccuracy * 100)
            + "\noutput-perturbation sensitivity 2L/(gamma n) = \(sensitivity) (L = \(lipschitz)); "
            + "wrote \(out) (not private until noised)"
    }
}
