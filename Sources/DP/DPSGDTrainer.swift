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

/// Figures for one DP-SGD epoch, including the privacy spent so far.
public struct DPEpochReport: Sendable, Codable, Equatable {
    public var epoch: Int
    /// Noisy steps so far (cumulative).
    public var steps: Int
    /// Mean loss and accuracy on the (private) training batches, for the operator only.
    public var trainLoss: Float
    public var trainAccuracy: Float
    public var testAccuracy: Float?
    /// Epsilon spent after `steps` steps at the plan's delta.
    public var epsilon: Double
    /// RDP: the optimal order.
    public var order: Double?
    public var accountant: String
    /// False for shuffled fixed batches: then `epsilon` is the Poisson figure, not a bound.
    public var epsilonIsProven: Bool
    /// Mean drawn batch size and fraction of per-sample gradients that were clipped.
    public var meanBatchSize: Double
    public var clippedFraction: Double
    public var seconds: Double
}

/// Options of a DP-SGD training run besides the plan.
public struct DPSGDOptions: Sendable, Hashable {
    public var clippingNorm: Double
    public var sampling: BatchSampling
    /// Seed of the batch sampling (Poisson draws or shuffles). Which examples were drawn is not
    /// part of the release, so a seeded sampler is fine for the guarantee as long as the seed is
    /// not published alongside the model.
    public var samplingSeed: UInt64
    /// Source of the Gaussian noise (`.system` for releases, `.seeded` for reproducible runs).
    public var noise: NoiseSource

    public init(
        clippingNorm: Double, sampling: BatchSampling = .poisson, samplingSeed: UInt64 = 1,
        noise: NoiseSource = .system
    ) {
        self.clippingNorm = clippingNorm
        self.sampling = sampling
        self.samplingSeed = samplingSeed
        self.noise = noise
    }
}

/// DP-SGD training loops (Abadi et al. 2016, Algorithm 1) with a privacy readout per epoch.
public enum DPSGDTrainer {
    /// Trains `model` for `plan.epochs` epochs of `plan.stepsPerEpoch` noisy steps each, with any
    /// optimizer, and reports loss, accuracy and epsilon spent after every epoch (through
    /// `progress` and the return value). Deterministic when `options.noise` is seeded.
    public static func fit<O: Optimizer>(
        model: inout Sequential, optimizer: O, loss: Loss, train: Dataset, test: Dataset?,
        plan: DPSGDPlan, options: DPSGDOptions, progress: (DPEpochReport) -> Void = { _ in }
    ) throws(DPError) -> [DPEpochReport] {
        let configuration = try DPSGDConfiguration(
            clippingNorm: options.clippingNorm, noiseMultiplier: plan.noiseMultiplier,
            expectedBatchSize: plan.samplingRate * Double(train.count))
        var dp = DPOptimizer(base: optimizer, configuration: configuration, noise: options.noise)
        var sampler = SeededGenerator(seed: options.samplingSeed)
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
                let r = try dp.step(&model, features: x, labels: y, loss: loss)
                totalLoss += Double(r.loss) * Double(y.count)
                correct += r.correct
                seen += y.count
                clippedSum += r.clipping.clippedFraction * Double(y.count)
            }
            let steps = dp.steps
            let mechanism = try PoissonSampledGaussian(
                samplingRate: plan.samplingRate, noiseMultiplier: plan.noiseMultiplier,
                steps: steps)
            let spent = try plan.accountant.accountant.guarantee(for: mechanism, delta: plan.delta)
            let elapsed = clock.now - start
            let seconds =
                Double(elapsed.components.seconds)
                + Double(elapsed.components.attoseconds) * 1e-18
            let testAccuracy = test.map { Trainer.evaluate(model: model, loss: loss, data: $0).accuracy }
            let report = DPEpochReport(
                epoch: epoch, steps: steps,
                trainLoss: Float(totalLoss / Double(max(seen, 1))),
                trainAccuracy: Float(correct) / Float(max(seen, 1)), testAccuracy: testAccuracy,
                epsilon: spent.epsilon, order: spent.order, accountant: plan.accountant.rawValue,
                epsilonIsProven: options.sampling.matchesAccountant,
                meanBatchSize: Double(seen) / Double(max(batches.count, 1)),
                clippedFraction: clippedSum / Double(max(seen, 1)), seconds: seconds)
            progress(report)
            reports.append(report)
        }
        return reports
    }

    /// The record a DP-SGD model file carries (see `PrivacyRecord`).
    public static func record(
        plan: DPSGDPlan, options: DPSGDOptions, epsilonSpent: Double, steps: Int
    ) -> PrivacyRecord {
        let proven = options.sampling.matchesAccountant
        var seededNote = ""
        if case .seeded = options.noise {
            seededNote = "; noise was seeded (reproducible experiment, not a release)"
        }
        return PrivacyRecord(
            method: .dpsgd, sigma: plan.noiseMultiplier, epsilon: epsilonSpent, delta: plan.delta,
            proven: proven, accountant: plan.accountant.rawValue, samplingRate: plan.samplingRate,
            steps: steps, clippingNorm: options.clippingNorm, sampling: options.sampling.rawValue,
            sensitivity: nil, noiseSource: options.noise.metadataValue,
            note: (proven
                ? "DP-SGD (Abadi et al. 2016) with Poisson sampling; epsilon from the "
                    + "\(plan.accountant.rawValue.uppercased()) accountant is a proven bound"
                : "DP-SGD with shuffled fixed batches: the epsilon is the Poisson-sampling figure "
                    + "for comparison only, NOT a proven bound for this sampling") + seededNote)
    }
}

extension NoiseSource {
    /// "system" or "seeded" (the seed itself is not written to model files).
    public var metadataValue: String {
        switch self {
        case .system: return "system"
        case .seeded: return "seeded"
        }
    }
}
