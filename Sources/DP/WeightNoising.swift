import NeuralNet

/// A model with noise added to its weights, and the record of what that noise claims.
public struct NoisedModel: Sendable {
    /// The noised tensors, with the input's metadata and `record` merged in.
    public var file: SafeTensorsFile
    public var record: PrivacyRecord
    /// The calibration behind the noise (DP-Weights and output perturbation).
    public var calibration: NoiseCalibration?
}

/// Post-training weight noise: i.i.d. Gaussian noise on every parameter of a saved model, with
/// the claim it supports written into the model's metadata. The input value is never changed.
public enum WeightNoising {
    /// Refuses a model holding a non-finite weight: noise on it, and any claim about it, would be
    /// meaningless. `output` marks the noised copy, where an overflow means `std` was far too
    /// large for Float32 weights (|w| < 3.4e38). O(parameters).
    static func checkFinite(_ file: SafeTensorsFile, output std: Double? = nil) throws(DPError) {
        for (name, tensor) in file.tensors {
            let finite = tensor.withUnsafeBufferPointer { p in p.allSatisfy(\.isFinite) }
            guard !finite else { continue }
            if let std {
                throw .invalidParameter(
                    name: "sigma", value: "\(std)", requirement: "must keep every noised weight a finite Float32",
                    hint:
                        "The noise overflowed tensor '\(name)'; the calibration inputs (clip, lr, sigma) are far too large."
                )
            }
            throw .modelState(name: name, detail: "holds a NaN or infinite weight; refusing to noise or certify it")
        }
    }

    /// A copy of `file` with N(0, std^2) added to every element of every tensor. O(parameters).
    public static func addingNoise(
        to file: SafeTensorsFile, standardDeviation std: Double, noise: inout GaussianSampler
    ) -> SafeTensorsFile {
        var out = file
        for i in out.tensors.indices {
            noise.addNoise(standardDeviation: std, to: &out.tensors[i].tensor)
        }
        return out
    }

    /// DP-Weights: the released calibration (`WeightNoise.dpWeights`, delta forced to 1/n^2)
    /// applied to every parameter. Recorded as `proven = false`: the formula is a heuristic.
    /// - Parameter hyperparameters: epochs, learning rate, clipping norm, dataset size and batch
    ///   size of the original training (from the command line or the model's metadata).
    /// - Throws: `DPError.metadata` naming the first missing hyperparameter, or the calibration's
    ///   `invalidParameter` errors.
    public static func dpWeights(
        _ file: SafeTensorsFile, epsilon: Double, hyperparameters h: TrainingHyperparameters,
        noise: inout GaussianSampler
    ) throws(DPError) -> NoisedModel {
        try Check.epsilon(epsilon)
        func need<T>(_ value: T?, _ key: String, _ option: String) throws(DPError) -> T {
            guard let value else {
                throw .metadata(
                    name: key,
                    detail: "DP-Weights needs it and the model's metadata lacks it; pass it "
                        + "explicitly (CLI: \(option))")
            }
            return value
        }
        let calibration = try WeightNoise.dpWeights(
            epsilon: epsilon, epochs: try need(h.epochs, "trained_epochs", "--train-epochs"),
            learningRate: try need(h.learningRate, "learning_rate", "--lr"),
            clippingNorm: try need(h.clippingNorm, "clip", "--clip"),
            datasetSize: try need(h.datasetSize, "dataset_size", "--dataset-size"),
            batchSize: try need(h.batchSize, "batch_size", "--batch-size"))
        try checkFinite(file)
        var out = addingNoise(to: file, standardDeviation: calibration.sigma, noise: &noise)
        try checkFinite(out, output: calibration.sigma)
        let record = PrivacyRecord(
            method: .dpWeights, sigma: calibration.sigma, epsilon: epsilon,
            delta: calibration.delta, proven: false, accountant: "none",
            clippingNorm: h.clippingNorm, noiseSource: noise.source.metadataValue,
            note: "HEURISTIC: DP-Weights released calibration (delta forced to 1/n^2); "
                + "not a proven DP guarantee"
                + (noise.source.isSeeded ? "; SEEDED noise (reproducible experiment, not a release)" : ""))
        out.metadata = record.merged(into: file.metadata)
        out.metadata.merge(h.metadata) { _, new in new }
        return NoisedModel(file: out, record: record, calibration: calibration)
    }

    /// Output perturbation of a logistic-regression model trained by
    /// `PrivateLogisticRegression.train`: Gaussian noise calibrated with the analytic Gaussian
    /// mechanism to the sensitivity 2L/(gamma n) read from the model's recorded assumptions
    /// (Chaudhuri et al. 2011; Wu et al. 2017). Recorded as `proven = true` when the noise comes
    /// from the system CSPRNG; seeded noise can be subtracted by anyone who knows the seed, so a
    /// seeded run is recorded `proven = false`. The guarantee is for replacing one example of a
    /// data set whose size n is public (the sensitivity's setting).
    /// - Throws: `DPError.metadata` if the model does not carry those assumptions.
    public static func outputPerturbation(
        _ file: SafeTensorsFile, epsilon: Double, delta: Double, noise: inout GaussianSampler
    ) throws(DPError) -> NoisedModel {
        try Check.epsilon(epsilon)
        try Check.delta(delta)
        let a = try LogisticRegressionAssumptions(metadata: file.metadata)
        let calibration = try WeightNoise.analyticGaussian(
            sensitivity: a.sensitivity, epsilon: epsilon, delta: delta)
        try checkFinite(file)
        var out = addingNoise(to: file, standardDeviation: calibration.sigma, noise: &noise)
        try checkFinite(out, output: calibration.sigma)
        var extra = a.metadata.filter { PrivacyRecord.ownedKeys.contains($0.key) }
        extra["l2"] = "\(a.l2)"
        let seeded = noise.source.isSeeded
        let record = PrivacyRecord(
            method: .outputPerturbation, sigma: calibration.sigma, epsilon: epsilon, delta: delta,
            proven: !seeded, accountant: "analytic-gaussian", sensitivity: a.sensitivity,
            noiseSource: noise.source.metadataValue, privacyUnit: .example,
            neighbouring: .replaceOne, datasetSize: a.datasetSize, publicQuantities: ["n"],
            note: "output perturbation of L2-regularized logistic regression trained by projected "
                + "SGD (Wu et al. 2017; Chaudhuri et al. 2011): sensitivity 2L/(gamma n) for "
                + "inputs clipped to norm 1, L = \(a.lipschitz), gamma = \(a.l2), "
                + "n = \(a.datasetSize); analytic Gaussian mechanism; privacy unit: one example; "
                + "neighbouring data sets: replace one example (replace-one), n published and "
                + "treated as public"
                + (seeded
                    ? "; SEEDED noise: NOT proven (reproducible experiment, not a release: anyone "
                        + "who knows the seed can subtract the noise)"
                    : ""),
            extra: extra)
        out.metadata = record.merged(into: file.metadata)
        return NoisedModel(file: out, record: record, calibration: calibration)
    }

    /// Extra weight noise on a DP-SGD model. Post-processing cannot weaken a DP guarantee, so the
    /// recorded epsilon, delta, proven flag and accounting stay those of the DP-SGD run; `sigma`
    /// becomes the total extra weight noise (independent Gaussians add in variance) and
    /// `dpsgd_sigma` keeps the training's noise multiplier. `noise_source` and `sampling_source`
    /// stay the training's; the extra noise's source is `post_noise_source` (post-processing with
    /// any randomness, seeded or not, keeps the guarantee).
    /// - Throws: `DPError.metadata` if the model carries no DP-SGD record.
    public static func postDPSGD(
        _ file: SafeTensorsFile, extraStandardDeviation std: Double, noise: inout GaussianSampler
    ) throws(DPError) -> NoisedModel {
        try Check.positive(
            std, "sigma", hint: "Pass the standard deviation of the extra weight noise, e.g. 0.01.")
        let base = try PrivacyRecord(metadata: file.metadata)
        let dpsgdSigma: String
        let previous: Double
        switch base.method {
        case .dpsgd:
            dpsgdSigma = "\(base.sigma)"
            previous = 0
        case .postDPSGD:
            guard let s = base.extra["dpsgd_sigma"] else {
                throw .metadata(name: "dpsgd_sigma", detail: "missing from a post-dpsgd model")
            }
            dpsgdSigma = s
            previous = base.sigma
        case .dpWeights, .outputPerturbation:
            throw .metadata(
                name: "method",
                detail: "is '\(base.method.rawValue)'; post-dpsgd noise needs a model trained by "
                    + "`verisplit dp train` (method dpsgd)")
        }
        try checkFinite(file)
        var out = addingNoise(to: file, standardDeviation: std, noise: &noise)
        try checkFinite(out, output: std)
        var record = base
        record.method = .postDPSGD
        record.sigma = (previous * previous + std * std).squareRoot()
        record.extra["dpsgd_sigma"] = dpsgdSigma
        record.extra["post_noise_source"] = noise.source.metadataValue
        record.note =
            "DP-SGD model with extra weight noise (post-processing): epsilon, delta and proven "
            + "are the DP-SGD run's. " + base.note
        out.metadata = record.merged(into: file.metadata)
        return NoisedModel(file: out, record: record, calibration: nil)
    }
}
