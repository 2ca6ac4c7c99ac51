import NeuralNet

/// How image features are standardized before an attack's layer sees them.
///
/// QBI's bias `Phi^-1(1/B) sqrt(n)` assumes `w . x ~ N(0, n)`, i.e. standardized inputs. The paper
/// (Nowak et al. 2024) normalizes images per channel, as every image pipeline does (one mean and
/// deviation per colour channel over all pixels). Standardizing every pixel separately to N(0, 1)
/// makes the inputs look more like QBI's Gaussian model and raises its recall above what the
/// paper's setting gives, so it is an option, named in every output, not the default.
public enum Standardization: String, Sendable, Codable, CaseIterable {
    /// One mean and deviation per channel over all its pixels (the paper's setting; the default).
    case perChannel = "per-channel"
    /// One mean and deviation per feature (pixel): every feature N(0, 1) over the data.
    case perFeature = "per-feature"
}

/// Where victim batches and the attacker's auxiliary data come from.
public struct AttackData: Sendable {
    enum Source: Sendable {
        /// Fresh i.i.d. N(0, 1) features for every batch (already standardized per feature).
        case synthetic(dimension: Int)
        /// A pool of preprocessed samples (`[M, d]`) and labels.
        case pool(features: Tensor, labels: [Int])
    }

    let source: Source
    /// What the attacker knows from the same domain, preprocessed like the victims (`[M, d]`).
    /// For synthetic data it is drawn per trial instead (see `auxiliary(generator:)`).
    let auxiliaryPool: Tensor?
    public let classes: Int
    public let display: DisplayTransform
    public let name: String
    /// How the features were standardized: nil for synthetic data (i.i.d. N(0, 1) by construction).
    public let standardization: Standardization?

    /// `standardization`'s name for reports: "per-channel", "per-feature", or "none (synthetic
    /// N(0, 1))".
    public var standardizationName: String { standardization?.rawValue ?? "none (synthetic N(0, 1))" }

    /// Gaussian synthetic data of `dimension` features (shown as `height x width` tiles), with
    /// uniformly random labels.
    public static func synthetic(
        dimension: Int = 784, height: Int = 28, width: Int = 28, classes: Int = 10
    ) -> AttackData {
        AttackData(
            source: .synthetic(dimension: dimension), auxiliaryPool: nil, classes: classes,
            display: .raw(height: height, width: width), name: "synthetic Gaussian", standardization: nil)
    }

    /// Images: victims from `train`, auxiliary data from `test`, both standardized with the
    /// training set's statistics, per channel by default (the paper's setting) or per feature.
    /// - Parameter channels: how many channels a sample holds, each a contiguous block of
    ///   `sampleSize / channels` features; default `sampleShape[0]` for `[C, H, W]` samples, else 1.
    /// - Throws: `AttackError.shapeMismatch` if the splits' sample shapes differ or the sample size
    ///   is not a multiple of `channels`.
    public static func images(
        train: Dataset, test: Dataset, name: String,
        standardization: Standardization = .perChannel,
        channels: Int? = nil
    ) throws(AttackError) -> AttackData {
        guard train.sampleSize == test.sampleSize else {
            throw .shapeMismatch(context: "test samples", expected: train.sampleShape, got: test.sampleShape)
        }
        let shape = train.sampleShape
        let c = channels ?? (shape.count >= 3 ? shape[0] : 1)
        guard c >= 1, train.sampleSize % c == 0 else {
            throw .shapeMismatch(
                context: "\(channels ?? 0) channels of a sample", expected: [c, train.sampleSize / max(c, 1)],
                got: shape)
        }
        let s: Standardizer
        switch standardization {
        case .perFeature: s = Standardizer.fit(train, perFeature: true)
        case .perChannel: s = perChannelStandardizer(train, channels: c)
        }
        var victims = train.features
        s.apply(to: &victims)
        victims.reshape([train.count, train.sampleSize])
        var aux = test.features
        s.apply(to: &aux)
        aux.reshape([test.count, test.sampleSize])
        let (h, w) = shape.count >= 2 ? (shape[shape.count - 2], shape[shape.count - 1]) : (1, train.sampleSize)
        return AttackData(
            source: .pool(features: victims, labels: train.labels), auxiliaryPool: aux,
            classes: max(train.classCount, 2), display: .images(s, height: h, width: w), name: name,
            standardization: standardization)
    }

    /// Mean and deviation of each channel over all its pixels and samples (in Double), expanded to
    /// one entry per feature so `Standardizer.apply` and the display transform use them as is.
    /// Deviations below 1e-6 become 1. O(N * D).
    static func perChannelStandardizer(_ data: Dataset, channels c: Int) -> Standardizer {
        let d = data.sampleSize, block = d / c
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        data.features.withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                let ch = (i % d) / block
                let v = Double(p[i])
                sum[ch] += v
                sq[ch] += v * v
            }
        }
        let n = Double(max(1, data.count * block))
        var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 1, count: d)
        for ch in 0..<c {
            let m = sum[ch] / n
            let v = max(0, sq[ch] / n - m * m).squareRoot()
            for i in (ch * block)..<((ch + 1) * block) {
                mean[i] = Float(m)
                std[i] = v < 1e-6 ? 1 : Float(v)
            }
        }
        return Standardizer(mean: mean, std: std)
    }

    /// Features per sample.
    public var dimension: Int {
        switch source {
        case let .synthetic(d): return d
        case let .pool(features, _): return features.shape[1]
        }
    }

    /// A victim batch of `size` distinct samples (`[size, d]`) with labels.
    public func batch(
        size: Int, generator: inout SeededGenerator
    ) throws(AttackError) -> (inputs: Tensor, labels: [Int]) {
        try AttackError.require(size >= 1, "batch", size, "must be >= 1")
        switch source {
        case let .synthetic(d):
            let x = standardNormalTensor(shape: [size, d], generator: &generator)
            return (x, (0..<size).map { _ in generator.nextInt(below: classes) })
        case let .pool(features, labels):
            let m = features.shape[0]
            guard size <= m else { throw .insufficientAuxiliaryData(needed: size, available: m) }
            var order = Array(0..<m)
            for i in 0..<size { order.swapAt(i, i + generator.nextInt(below: m - i)) }
            let picked = Array(order[0..<size])
            let d = features.shape[1]
            let x = Tensor(shape: [size, d]) { out in
                features.withUnsafeBufferPointer { src in
                    for (r, i) in picked.enumerated() {
                        (out.baseAddress! + r * d).update(from: src.baseAddress! + i * d, count: d)
                    }
                }
            }
            return (x, picked.map { labels[$0] })
        }
    }

    /// The attacker's auxiliary data: the pool, or for synthetic data 1000 fresh draws.
    public func auxiliary(generator: inout SeededGenerator) -> Tensor {
        if let auxiliaryPool { return auxiliaryPool }
        return standardNormalTensor(shape: [1000, dimension], generator: &generator)
    }
}

/// Which protocol position the attacker holds.
public enum AttackEntryPoint: String, Sendable, Codable, CaseIterable {
    /// Malicious aggregator in one FedSGD round (`FedSGDRound`).
    case fedsgd
    /// Malicious split-learning server after an identity client half (`SplitLearningServer`).
    case split
}

/// One attacked client step, before any defense: the undefended gradient context of the
/// malicious layer, so several defenses can be applied to copies of the same step.
public struct PreparedRound: Sendable {
    public let layer: MaliciousLayer
    /// The batch in model space (`[B, d]`): what an exact reconstruction equals.
    public let originals: Tensor
    public let labels: [Int]
    /// The malicious layer's hook context as the client's hook receives it (undefended).
    public let context: GradientHookContext
    /// A, P, R from the layer's pre-activations on the batch.
    public let activation: ActivationMetrics
}

/// One measured trial: activation metrics and what the server actually reconstructed.
public struct TrialResult: Sendable, Codable, Equatable {
    public var active: Double
    public var precision: Double
    /// Fraction of samples recovered exactly from the (possibly defended) gradient the server got.
    public var recall: Double
    /// Fraction of samples that are some unit's only activator (the undefended potential; what
    /// `RecallTheory` predicts).
    public var structuralRecall: Double
    public var psnr: Double
    public var ssim: Double
}

/// The experiment every CLI command and benchmark cell runs.
public enum AttackTrial {
    /// Builds the malicious layer (seeded), draws a victim batch, and runs the client step through
    /// `entry`, capturing the malicious layer's gradient context before any defense.
    public static func prepare(
        kind: AttackKind, neurons: Int, batch: Int, data: AttackData, seed: UInt64,
        entry: AttackEntryPoint = .fedsgd,
        pairsOptions: PAIRSOptions = PAIRSOptions()
    ) throws(AttackError) -> PreparedRound {
        var rng = SeededGenerator(seed: seed)
        let (x, y) = try data.batch(size: batch, generator: &rng)
        let aux = data.auxiliary(generator: &rng)
        let layer = try MaliciousLayer.make(
            kind, neurons: neurons, inputSize: data.dimension, batchSize: batch,
            auxiliary: aux, generator: &rng, pairsOptions: pairsOptions)
        var captured: GradientHookContext?
        let capture: (inout GradientHookContext) -> Void = { ctx in
            if ctx.layerName == MaliciousModel.layerName { captured = ctx }
        }
        switch entry {
        case .fedsgd:
            let round = try FedSGDRound(layer: layer, classes: data.classes, generator: &rng)
            _ = try FedSGDRound.clientUpdate(model: round.model, inputs: x, labels: y, hook: capture)
        case .split:
            var server = try SplitLearningServer(layer: layer, classes: data.classes, generator: &rng)
            _ = try server.step(
                activations: SplitLearningServer.clientActivations(client: nil, inputs: x), labels: y,
                hook: capture)
        }
        guard let context = captured else {
            throw .missingGradient(parameter: MaliciousModel.layerName + ".weight", available: [])
        }
        let activation = ActivationMetrics.measure(preActivations: context.preActivations, units: layer.units)
        return PreparedRound(layer: layer, originals: x, labels: y, context: context, activation: activation)
    }

    /// Applies `defense` to a copy of the round's gradient context (exactly what the client's hook
    /// would do to that layer), inverts, and scores the reconstructions.
    public static func evaluate(
        _ round: PreparedRound, display: DisplayTransform,
        defense: (inout GradientHookContext) -> Void
    ) throws(AttackError)
        -> (result: TrialResult, inversion: Inversion, quality: ReconstructionQuality)
    {
        var ctx = round.context
        defense(&ctx)
        guard let db = ctx.biasGradient else {
            throw .missingGradient(parameter: MaliciousModel.layerName + ".bias", available: [])
        }
        let inversion = try GradientInversion.invert(
            weightGradient: ctx.weightGradient, biasGradient: db,
            units: round.layer.units)
        let quality = ReconstructionEvaluation.evaluate(
            originals: round.originals, inversion: inversion, display: display)
        let a = round.activation
        let result = TrialResult(
            active: a.active, precision: a.precision, recall: quality.exactRecall,
            structuralRecall: a.recall, psnr: quality.meanPSNR, ssim: quality.meanSSIM)
        return (result, inversion, quality)
    }
}
