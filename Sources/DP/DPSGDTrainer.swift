import NeuralNet

/// The privacy plan of a DP-SGD run: sampling rate, step count and the noise multiplier that
/// meets the target, fixed before training starts (calibrating on the data would leak).
public struct DPSGDPlan: Sendable, Hashable, Codable {
    /// q = B / n.
    public let samplingRate: Double
    public let stepsPerEpoch: Int
    public let epochs: Int
    /// epochs * stepsPerEpoch.
    public var totalSteps: Int { epochs * stepsPerEpoch }
    /// sigma from `SigmaCalibration` for (targetEpsilon, delta) at q and totalSteps.
    public let noiseMultiplier: Double
    public let targetEpsilon: Double
    /// The accountant's epsilon at sigma after all steps (<= targetEpsilon).
    public let epsilon: Double
    public let delta: Double
    public let accountant: AccountantKind

    /// q = B/n and round(n/B) steps per epoch (1/q, so each example is expected once per epoch),
    /// then sigma calibrated with `accountant` (RDP: to 1e-6 relative; PLD: 1e-4).
    public static func calibrate(
        targetEpsilon: Double, delta: Double, datasetSize: Int, batchSize: Int, epochs: Int,
        accountant: AccountantKind = .rdp
    ) throws(DPError) -> DPSGDPlan {
        let (q, perEpoch) = try schedule(datasetSize: datasetSize, batchSize: batchSize)
        guard epochs >= 1 else {
            throw .invalidParameter(
                name: "epochs", value: "\(epochs)", requirement: "must be an integer >= 1",
                hint: "Pass the number of training epochs.")
        }
        let solution = try SigmaCalibration.noiseMultiplier(
            targetEpsilon: targetEpsilon, delta: delta, samplingRate: q,
            steps: epochs * perEpoch, accountant: accountant.accountant,
            relativeTolerance: accountant == .rdp ? 1e-6 : 1e-4)
        return DPSGDPlan(
            samplingRate: q, stepsPerEpoch: perEpoch, epochs: epochs,
            noiseMultiplier: solution.sigma, targetEpsilon: targetEpsilon,
            epsilon: solution.epsilon, delta: delta, accountant: accountant)
    }

    /// A plan with a given sigma (no calibration); `epsilon` is what the accountant reports.
    public static func fixed(
        noiseMultiplier: Double, delta: Double, datasetSize: Int, batchSize: Int, epochs: Int,
        accountant: AccountantKind = .rdp
    ) throws(DPError) -> DPSGDPlan {
        let (q, perEpoch) = try schedule(datasetSize: datasetSize, batchSize: batchSize)
        let mechanism = try PoissonSampledGaussian(
            samplingRate: q, noiseMultiplier: noiseMultiplier, steps: max(epochs, 0) * perEpoch)
        let eps = try accountant.accountant.epsilon(for: mechanism, delta: delta)
        return DPSGDPlan(
            samplingRate: q, stepsPerEpoch: perEpoch, epochs: epochs,
            noiseMultiplier: noiseMultiplier, targetEpsilon: eps, epsilon: eps, delta: delta,
            accountant: accountant)
    }

    static func schedule(datasetSize n: Int, batchSize b: Int) throws(DPError) -> (Double, Int) {
        guard n >= 1 else {
            throw .invalidParameter(
                name: "dataset-size", value: "\(n)", requirement: "must be >= 1",
                hint: "Train on a non-empty data set.")
        }
        guard b >= 1, b <= n else {
            throw .invalidParameter(
                name: "batch", value: "\(b)", requirement: "must lie in 1...\(n) (the dataset size)",
                hint: "Pass the expected batch size, e.g. 64; q = batch / dataset size.")
        }
        let q = Double(b) / Double(n)
        return (q, max(1, Int((Double(n) / Double(b)).rounded())))
    }
}

/// Statistics computed on the private training data without noise: the operator's progress
/// display only. They are not differentially private (each one is a function of every training
/// example), so they are printed labelled "not private", kept under `non_private` in JSON, and never
/// written into a model file or its privacy record.
public struct NonPrivateStatistics: Sendable, Codable, Equatable {
    /// Mean loss and accuracy over the epoch's (private) batches.
    public var trainLoss: Float
    public var trainAccuracy: Float
    /// Fraction of per-sample gradients whose norm exceeded the clipping norm.
    public var clippedFraction: Double
    /// Mean drawn batch size (the drawn sizes depend on the data set's size and the sampling).
    public var meanBatchSize: Double

    public init(trainLoss: Float, trainAccuracy: Float, clippedFraction: Double, meanBatchSize: Double) {
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.clippedFraction = clippedFraction
        self.meanBatchSize = meanBatchSize
    }
}

/// Figures for one DP-SGD epoch: the privacy spent so far, test accuracy on the public test
/// split, and (separately) the non-private statistics of the training batches.
public struct DPEpochReport: Sendable, Codable, Equatable {
    public var epoch: Int
    /// Noisy steps so far (cumulative).
    public var steps: Int
    /// Accuracy on the public test split (not a function of the private data beyond the model).
    public var testAccuracy: Float?
    /// Epsilon spent after `steps` steps at the plan's delta.
    public var epsilon: Double
    /// RDP: the optimal order.
    public var order: Double?
    public var accountant: String
    /// False for shuffled fixed batches: then `epsilon` is the Poisson figure, not a bound.
    public var epsilonIsProven: Bool
    public var seconds: Double
    /// Loss, accuracy, clipped fraction and batch size on the private batches, without noise.
    public var nonPrivate: NonPrivateStatistics
}

/// Options of a DP-SGD training run besides the plan.
public struct DPSGDOptions: Sendable, Hashable {
    public var clippingNorm: Double
    public var sampling: BatchSampling
    /// Source of the batch sampling (Poisson draws or shuffles). Amplification by subsampling
    /// assumes the adversary does not know which examples each batch drew, so only `.system`
    /// supports a proven claim; `.seeded` is for reproducible experiments.
    public var samplingSource: RandomSource
    /// Source of the Gaussian noise (`.system` for releases, `.seeded` for reproducible runs).
    public var noise: RandomSource

    public init(
        clippingNorm: Double, sampling: BatchSampling = .poisson,
        samplingSource: RandomSource = .system, noise: RandomSource = .system
    ) {
        self.clippingNorm = clippingNorm
        self.sampling = sampling
        self.samplingSource = samplingSource
        self.noise = noise
    }

    /// Which randomness was seeded ("sampling", "noise"), in that order; empty when both come
    /// from the system CSPRNG.
    public var seededRandomness: [String] {
        (samplingSource.isSeeded ? ["sampling"] : []) + (noise.isSeeded ? ["noise"] : [])
    }

    /// Whether the accountant's epsilon is a proven bound for a run with these options: Poisson
    /// sampling and every random choice from the system CSPRNG.
    public var supportsProvenClaim: Bool { sampling.matchesAccountant && seededRandomness.isEmpty }
}

/// DP-SGD training loops (Abadi et al. 2016, Algorithm 1) with a privacy readout per epoch.
public enum DPSGDTrainer {
    /// Trains `model` for `plan.epochs` epochs of `plan.stepsPerEpoch` noisy steps each, with any
    /// optimizer, and reports epsilon spent (and, apart, the non-private statistics) after every
    /// epoch through `progress` and the return value. Deterministic when both `options.noise` and
    /// `options.samplingSource` are seeded.
    /// - Throws: `DPError.nonFinite` as soon as a loss, a per-sample gradient norm or (at the end
    ///   of an epoch) a parameter is NaN or infinite: the run has diverged and its model must not
    ///   be released.
    public static func fit<O: Optimizer>(
        model: inout Sequential, optimizer: O, loss: Loss, train: Dataset, test: Dataset?,
        plan: DPSGDPlan, options: DPSGDOptions, progress: (DPEpochReport) -> Void = { _ in }
    ) throws(DPError) -> [DPEpochReport] {
        let configuration = try DPSGDConfiguration(
            clippingNorm: options.clippingNorm, noiseMultiplier: plan.noiseMultiplier,
            expectedBatchSize: plan.samplingRate * Double(train.count))
        var dp = DPOptimizer(base: optimizer, configuration: configuration, noise: options.noise)
        var sampler = DPRandomGenerator(options.samplingSource)
        let fixedBatch = max(1, Int(configuration.expectedBatchSize.rounded()))
        let clock = ContinuousClock()
        var reports = [DPEpochReport]()
        for epoch in 1...max(plan.epochs, 1) {
            let start = clock.now
            var totalLoss = 0.0
            var correct = 0
            var seen = 0
            var clippedSum = 0.0
            var batches: [[Int]]
            switch options.sampling {
            case .poisson:
                batches = (0..<plan.stepsPerEpoch).map { _ in
                    PoissonSampling.sample(
                        count: train.count, rate: plan.samplingRate, generator: &sampler)
                }
            case .shuffledFixedBatches:
                var order = Array(0..<train.count)
                sampler.shuffle(&order)
                batches = Dataset.batches(order, size: fixedBatch).map(Array.init)
            }
            for indices in batches {
                let (x, y) = train.batch(indices)
                let r: DPStepResult
                do throws(DPError) {
                    r = try dp.step(&model, features: x, labels: y, loss: loss)
                } catch {
                    guard case .nonFinite(let name, let detail) = error else { throw error }
                    throw .nonFinite(name: name, detail: "epoch \(epoch), step \(dp.steps): \(detail)")
                }
                totalLoss += Double(r.loss) * Double(y.count)
                correct += r.correct
                seen += y.count
                clippedSum += r.clipping.clippedFraction * Double(y.count)
            }
            try checkFinite(model, epoch: epoch)
            let steps = dp.steps
            let mechanism = try PoissonSampledGaussian(
                samplingRate: plan.samplingRate, noiseMultiplier: plan.noiseMultiplier,
                steps: steps)
            let spent = try plan.accountant.accountant.guarantee(for: mechanism, delta: plan.delta)
            let elapsed = clock.now - start
            let seconds = elapsed.inSeconds
            let testAccuracy = test.map { Trainer.evaluate(model: model, loss: loss, data: $0).accuracy }
            let report = DPEpochReport(
                epoch: epoch, steps: steps, testAccuracy: testAccuracy,
                epsilon: spent.epsilon, order: spent.order, accountant: plan.accountant.rawValue,
                epsilonIsProven: options.supportsProvenClaim, seconds: seconds,
                nonPrivate: NonPrivateStatistics(
                    trainLoss: Float(totalLoss / Double(max(seen, 1))),
                    trainAccuracy: Float(correct) / Float(max(seen, 1)),
                    clippedFraction: clippedSum / Double(max(seen, 1)),
                    meanBatchSize: Double(seen) / Double(max(batches.count, 1))))
            progress(report)
            reports.append(report)
        }
        return reports
    }

    /// Throws `DPError.nonFinite` naming the first parameter holding a NaN or an infinity. O(parameters).
    static func checkFinite(_ model: Sequential, epoch: Int) throws(DPError) {
        for layer in model.layers {
            for p in layer.parameters {
                let finite = p.value.withUnsafeBufferPointer { v in v.allSatisfy(\.isFinite) }
                guard finite else {
                    throw .nonFinite(
                        name: "\(layer.name).\(p.name)",
                        detail: "epoch \(epoch): a parameter became NaN or infinite (the training diverged)")
                }
            }
        }
    }

    /// The record a DP-SGD model file carries (see `PrivacyRecord`). `datasetSize` is n, which the
    /// record publishes together with q = B / n.
    public static func record(
        plan: DPSGDPlan, options: DPSGDOptions, epsilonSpent: Double, steps: Int, datasetSize: Int
    ) -> PrivacyRecord {
        let proven = options.supportsProvenClaim
        var note: String
        if !options.sampling.matchesAccountant {
            note =
                "DP-SGD with shuffled fixed batches: the epsilon is the Poisson-sampling figure "
                + "for comparison only, NOT a proven bound for this sampling"
        } else if proven {
            note =
                "DP-SGD (Abadi et al. 2016) with Poisson sampling, batch sampling and noise from "
                + "the system CSPRNG; epsilon from the \(plan.accountant.rawValue.uppercased()) "
                + "accountant is a proven bound"
        } else {
            note =
                "DP-SGD (Abadi et al. 2016) with Poisson sampling; the epsilon from the "
                + "\(plan.accountant.rawValue.uppercased()) accountant is NOT proven for this run"
        }
        let seeded = options.seededRandomness
        if !seeded.isEmpty {
            note +=
                "; SEEDED " + seeded.joined(separator: " and ")
                + " (reproducible experiment, not a release: anyone who knows the seed can replay "
                + (seeded == ["noise"]
                    ? "the noise" : seeded == ["sampling"] ? "the batches" : "the batches and the noise")
                + ")"
        }
        note +=
            "; privacy unit: one example; neighbouring data sets: add or remove one example "
            + "(add-remove); the data set size n = \(datasetSize) and the sampling rate q = "
            + "\(plan.samplingRate) are published and treated as public"
        return PrivacyRecord(
            method: .dpsgd, sigma: plan.noiseMultiplier, epsilon: epsilonSpent, delta: plan.delta,
            proven: proven, accountant: plan.accountant.rawValue, samplingRate: plan.samplingRate,
            steps: steps, clippingNorm: options.clippingNorm, sampling: options.sampling.rawValue,
            sensitivity: nil, noiseSource: options.noise.metadataValue,
            samplingSource: options.samplingSource.metadataValue, privacyUnit: .example,
            neighbouring: .addRemove, datasetSize: datasetSize, publicQuantities: ["n", "q"],
            note: note)
    }
}

extension RandomSource {
    /// "system" or "seeded" (the seed itself is not written to model files).
    public var metadataValue: String {
        switch self {
        case .system: return "system"
        case .seeded: return "seeded"
        }
    }
}
