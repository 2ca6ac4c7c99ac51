import Foundation
import NeuralNet

/// The optimizer DP-SGD's privatized gradient feeds (post-processing, so any choice keeps the
/// guarantee).
public enum DPBaseOptimizer: Sendable, Hashable {
    case sgd(learningRate: Double, momentum: Double)
    case adam(learningRate: Double)

    /// "sgd" or "adam", as recorded in model metadata.
    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        }
    }

    public var learningRate: Double {
        switch self {
        case .sgd(let lr, _), .adam(let lr): return lr
        }
    }
}

/// Everything a DP-SGD training run is configured with (what `verisplit dp train` parses).
///
/// Randomness comes in three independent pieces: `initializationSeed` (the initial weights,
/// which carry no information about the data, so seeding them costs no privacy), and the batch
/// sampling and the noise, which must be secret for the accountant's epsilon to be a proven
/// bound: both default to the system CSPRNG, and seeding either one makes the record
/// `proven = false` with a note naming what was seeded.
public struct DPTrainingSettings: Sendable, Hashable {
    public var targetEpsilon: Double
    public var delta: Double
    public var epochs: Int
    /// Expected batch size B (q = B / n).
    public var batchSize: Int
    public var clippingNorm: Double
    public var sampling: BatchSampling
    public var accountant: AccountantKind
    public var optimizer: DPBaseOptimizer
    public var initializationSeed: UInt64
    public var samplingSource: RandomSource
    public var noise: RandomSource

    public init(
        targetEpsilon: Double, delta: Double = 1e-5, epochs: Int = 5, batchSize: Int = 64,
        clippingNorm: Double = 1, sampling: BatchSampling = .poisson,
        accountant: AccountantKind = .rdp,
        optimizer: DPBaseOptimizer = .sgd(learningRate: 0.05, momentum: 0.9),
        initializationSeed: UInt64 = 1, samplingSource: RandomSource = .system,
        noise: RandomSource = .system
    ) {
        self.targetEpsilon = targetEpsilon
        self.delta = delta
        self.epochs = epochs
        self.batchSize = batchSize
        self.clippingNorm = clippingNorm
        self.sampling = sampling
        self.accountant = accountant
        self.optimizer = optimizer
        self.initializationSeed = initializationSeed
        self.samplingSource = samplingSource
        self.noise = noise
    }

    /// The trainer's options (clipping, sampling and the two random sources).
    public var options: DPSGDOptions {
        DPSGDOptions(
            clippingNorm: clippingNorm, sampling: sampling, samplingSource: samplingSource,
            noise: noise)
    }
}

/// A finished DP-SGD run: the model, the privacy spent, and the metadata its file carries.
public struct DPTrainingResult: Sendable {
    public var model: Sequential
    public var plan: DPSGDPlan
    public var reports: [DPEpochReport]
    public var record: PrivacyRecord
    /// What the model file stores: the caller's context, the training hyperparameters and the
    /// privacy record. Never any statistic of the private data (see `NonPrivateStatistics`).
    public var metadata: [String: String]
    /// Epsilon spent after all steps, and the number of noisy steps.
    public var epsilon: Double { reports.last?.epsilon ?? plan.epsilon }
    public var steps: Int { reports.last?.steps ?? plan.totalSteps }
}

/// DP-SGD training of a model spec end to end: calibration, training, the privacy record, and
/// the model file (written only if training finished with finite weights).
public enum DPTraining {
    /// sigma calibrated for the settings on a training set of `datasetSize` examples.
    public static func plan(settings s: DPTrainingSettings, datasetSize: Int) throws(DPError) -> DPSGDPlan {
        try DPSGDPlan.calibrate(
            targetEpsilon: s.targetEpsilon, delta: s.delta, datasetSize: datasetSize,
            batchSize: s.batchSize, epochs: s.epochs, accountant: s.accountant)
    }

    /// Trains a fresh model of `spec` (initialized from `settings.initializationSeed`) with DP-SGD
    /// under `plan`, and builds its record and metadata. `context` is merged into the metadata
    /// first (model name, spec, data description, preprocessing).
    /// - Throws: `DPError.invalidParameter` if the data do not fit the spec, `DPError.nonFinite`
    ///   if training diverged, and the calibration's and trainer's errors.
    public static func train(
        spec: ModelSpec, train: Dataset, test: Dataset?, settings s: DPTrainingSettings,
        plan: DPSGDPlan, context: [String: String] = [:],
        progress: (DPEpochReport) -> Void = { _ in }
    ) throws(DPError) -> DPTrainingResult {
        var model = spec.makeModel(seed: s.initializationSeed)
        // Both splits must fit the model (sample size, every label below the outputs): the
        // training loops treat a mismatch as a programmer error and would trap.
        do {
            try model.check(train)
            if let test { try model.check(test) }
        } catch {
            throw .invalidParameter(
                name: "model", value: spec.name, requirement: "does not fit the data: \(error)",
                hint: "Pass a model spec whose input matches the data samples and with one output per class.")
        }
        let reports: [DPEpochReport]
        switch s.optimizer {
        case .sgd(let lr, let momentum):
            reports = try DPSGDTrainer.fit(
                model: &model, optimizer: SGD(learningRate: Float(lr), momentum: Float(momentum)),
                loss: spec.loss, train: train, test: test, plan: plan, options: s.options,
                progress: progress)
        case .adam(let lr):
            reports = try DPSGDTrainer.fit(
                model: &model, optimizer: Adam(learningRate: Float(lr)), loss: spec.loss,
                train: train, test: test, plan: plan, options: s.options, progress: progress)
        }
        let record = DPSGDTrainer.record(
            plan: plan, options: s.options, epsilonSpent: reports.last?.epsilon ?? plan.epsilon,
            steps: reports.last?.steps ?? plan.totalSteps, datasetSize: train.count)
        var meta = context
        meta["optimizer"] = s.optimizer.name
        meta.merge(
            TrainingHyperparameters(
                epochs: s.epochs, learningRate: s.optimizer.learningRate, batchSize: s.batchSize,
                datasetSize: train.count, clippingNorm: s.clippingNorm
            ).metadata
        ) { _, new in new }
        meta = record.merged(into: meta)
        return DPTrainingResult(
            model: model, plan: plan, reports: reports, record: record, metadata: meta)
    }

    /// `train`, then the model written to `url` with its metadata. If training throws (a NaN or
    /// infinite loss, gradient or weight included), nothing is written and any earlier file at
    /// `url` is left as it was.
    public static func trainAndSave(
        spec: ModelSpec, train: Dataset, test: Dataset?, settings: DPTrainingSettings,
        plan: DPSGDPlan, context: [String: String] = [:], to url: URL,
        progress: (DPEpochReport) -> Void = { _ in }
    ) throws(DPError) -> DPTrainingResult {
        let result = try self.train(
            spec: spec, train: train, test: test, settings: settings, plan: plan,
            context: context, progress: progress)
        do {
            try result.model.saveSafetensors(to: url, metadata: result.metadata)
        } catch {
            throw .writeFailed(name: url.path, detail: "\(error)")
        }
        return result
    }
}
