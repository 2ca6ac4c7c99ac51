import NeuralNet

/// How DP-SGD forms its batches.
public enum BatchSampling: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every example joins each batch independently with probability q (Abadi et al. 2016). This
    /// is what the RDP and PLD accountants analyse, so the reported epsilon is a proven bound.
    case poisson
    /// Shuffle once per epoch and cut into fixed batches of B. Common in practice (and faster to
    /// converge per epoch), but it does NOT match the accountants' Poisson assumption: the epsilon
    /// printed for such a run is the Poisson figure for the same q and steps, shown for
    /// comparison only, and the model is recorded as `proven = false`.
    case shuffledFixedBatches = "shuffled-fixed-batches"

    /// Whether the accountants' epsilon is a proven bound for this sampling.
    public var matchesAccountant: Bool { self == .poisson }
}

/// The noise and clipping of one DP-SGD run (Abadi et al. 2016, "Deep Learning with Differential
/// Privacy", Algorithm 1): each per-sample gradient is clipped to L2 norm C, the clipped gradients
/// are summed, N(0, sigma^2 C^2 I) is added, and the sum is divided by the expected batch size
/// q n (not the drawn size, which would leak it and is what the accountant assumes).
public struct DPSGDConfiguration: Sendable, Hashable, Codable {
    /// C: every per-sample gradient (all parameters concatenated) is scaled to norm <= C.
    public let clippingNorm: Double
    /// sigma: the noise on the summed gradient has standard deviation sigma * C.
    public let noiseMultiplier: Double
    /// q n: the divisor of the noisy sum.
    public let expectedBatchSize: Double

    public init(
        clippingNorm: Double, noiseMultiplier: Double, expectedBatchSize: Double
    )
        throws(DPError)
    {
        try Check.positive(
            clippingNorm, "clip", hint: "Pass a clipping norm C > 0, e.g. 1.0.")
        try Check.positive(
            noiseMultiplier, "sigma",
            hint: "The noise multiplier must be positive; calibrate it with SigmaCalibration.")
        try Check.positive(
            expectedBatchSize, "batch",
            hint: "The expected batch size is q * dataset size, e.g. 64.")
        self.clippingNorm = clippingNorm
        self.noiseMultiplier = noiseMultiplier
        self.expectedBatchSize = expectedBatchSize
    }
}

/// What clipping did to one batch.
public struct ClippingStatistics: Sendable, Hashable, Codable {
    /// Number of per-sample gradients.
    public var batchSize: Int
    /// Fraction of them whose norm exceeded C (and was scaled down).
    public var clippedFraction: Double
    /// Mean and largest norm before clipping.
    public var meanNorm: Double
    public var maxNorm: Double
}

/// Per-sample gradient clipping on the batched per-sample gradients that
/// `Sequential.backward(_:perSample: true)` computes in one pass (no B separate backward passes).
public enum PerSampleClipping {
    /// Scales every sample's gradient, all parameters together, by min(1, C / ||g_n||), in place
    /// in each parameter's `perSampleGradient`. Clipping the whole per-sample gradient (not each
    /// layer separately) is what bounds the sensitivity of the sum by C. O(batch * parameters).
    /// - Throws: `DPError.modelState` if a parameter has no per-sample gradient.
    @discardableResult
    public static func clip(
        _ model: inout Sequential, clippingNorm: Double
    ) throws(DPError)
        -> ClippingStatistics
    {
        try Check.positive(clippingNorm, "clip", hint: "Pass a clipping norm C > 0, e.g. 1.0.")
        let norms = try perSampleNorms(model)
        let c = clippingNorm
        let factors = factors(norms: norms, clippingNorm: c)
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                guard var ps = model.layers[l].parameters[p].perSampleGradient else { continue }
                // Detach the tensor from the layer first so the in-place scaling does not copy it.
                model.layers[l].parameters[p].perSampleGradient = nil
                let size = model.layers[l].parameters[p].value.count
                ps.withUnsafeMutableBufferPointer { g in
                    for (n, f) in factors.enumerated() where f != 1 {
                        for i in (n * size)..<((n + 1) * size) { g[i] *= f }
                    }
                }
                model.layers[l].parameters[p].perSampleGradient = ps
            }
        }
        let clipped = norms.filter { $0 > c }.count
        return ClippingStatistics(
            batchSize: norms.count,
            clippedFraction: norms.isEmpty ? 0 : Double(clipped) / Double(norms.count),
            meanNorm: norms.isEmpty ? 0 : norms.reduce(0, +) / Double(norms.count),
            maxNorm: norms.max() ?? 0)
    }

    /// min(1, C / norm) per sample, rounded down a little so that the clipped Float32 gradient's
    /// norm stays <= C after rounding.
    public static func factors(norms: [Double], clippingNorm c: Double) -> [Float] {
        norms.map { n -> Float in n > c ? Float(c / n) * (1 - 2 * Float.ulpOfOne) : 1 }
    }

    /// L2 norm of each sample's full gradient (Float32 SIMD partial sums, added in double).
    /// - Throws: `DPError.modelState` if a parameter lacks per-sample gradients or their batch
    ///   sizes differ.
    public static func perSampleNorms(_ model: Sequential) throws(DPError) -> [Double] {
        try perSampleNorms(model, checkOnly: false)
    }

    /// With `checkOnly`, validates and returns zeros of the batch's length without reading the
    /// gradients.
    static func perSampleNorms(_ model: Sequential, checkOnly: Bool) throws(DPError) -> [Double] {
        var squares: [Double]? = nil
        for layer in model.layers {
            for p in layer.parameters {
                let name = "\(layer.name).\(p.name)"
                guard let ps = p.perSampleGradient, let batch = ps.shape.first,
                    ps.count == batch * p.value.count
                else {
                    throw .modelState(
                        name: name,
                        detail: "has no per-sample gradient; run backward(_:perSample: true) "
                            + "on the batch before clipping")
                }
                if squares == nil { squares = [Double](repeating: 0, count: batch) }
                guard var sq = squares, sq.count == batch else {
                    throw .modelState(
                        name: name,
                        detail: "per-sample gradients cover \(batch) samples, other parameters "
                            + "\(squares?.count ?? 0); run one backward pass over the whole batch")
                }
                let size = p.value.count
                if !checkOnly {
                    ps.withUnsafeBufferPointer { g in
                        for n in 0..<batch {
                            sq[n] += RowKernels.squaredNorm(g, from: n * size, count: size)
                        }
                    }
                }
                squares = sq
            }
        }
        return (squares ?? []).map { $0.squareRoot() }
    }
}

/// The DP-SGD gradient privatization (Abadi et al. 2016, Algorithm 1, lines "clip gradient",
/// "add noise"), usable with any NeuralNet optimizer: it rewrites the parameters' `gradient`
/// fields, and the optimizer (SGD, Adam, ...) then steps on those as usual. Optimizer state such as
/// Adam's moments is computed from the privatized gradient only, so it is post-processing.
///
/// Two ways to the same result: `privatizeGradients(_:perSampleNorms:...)` after
/// `Sequential.backwardPerSampleNorms` never materializes per-sample gradients (what training
/// uses: its cost is close to a plain step), and `privatizeGradients(_:configuration:noise:)`
/// from the materialized `perSampleGradient`s of `backward(perSample: true)`, O(batch x
/// parameters) memory, kept as the test oracle.
public enum DPSGD {
    /// Replaces every parameter's gradient by (sum_n clip_C(g_n) + N(0, sigma^2 C^2 I)) / (q n),
    /// where `norms` are the per-sample gradient norms the last `backwardPerSampleNorms` returned:
    /// factors min(1, C / norm_n), the clipped sum from `setClippedGradientSum`, then noise and
    /// scaling in one pass. Allocates O(parameters), never O(batch x parameters).
    /// - Throws: `DPError.nonFinite` if a norm is NaN or infinite (nothing is changed then).
    @discardableResult
    public static func privatizeGradients(
        _ model: inout Sequential, perSampleNorms norms: [Double], configuration: DPSGDConfiguration,
        noise: inout GaussianSampler
    ) throws(DPError) -> ClippingStatistics {
        let c = configuration.clippingNorm
        if let bad = norms.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite(
                name: "per-sample gradient", detail: "sample \(bad) of the batch has a gradient norm of \(norms[bad])")
        }
        model.setClippedGradientSum(factors: PerSampleClipping.factors(norms: norms, clippingNorm: c))
        let std = configuration.noiseMultiplier * c
        let scale = Float(1 / configuration.expectedBatchSize)
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                var g = model.layers[l].parameters[p].gradient
                model.layers[l].parameters[p].gradient = Tensor(shape: [0])
                noise.addNoise(standardDeviation: std, to: &g, scale: scale)
                model.layers[l].parameters[p].gradient = g
            }
        }
        let clipped = norms.filter { $0 > c }.count
        return ClippingStatistics(
            batchSize: norms.count,
            clippedFraction: norms.isEmpty ? 0 : Double(clipped) / Double(norms.count),
            meanNorm: norms.isEmpty ? 0 : norms.reduce(0, +) / Double(norms.count),
            maxNorm: norms.max() ?? 0)
    }

    /// Replaces every parameter's gradient by (sum_n clip_C(g_n) + N(0, sigma^2 C^2 I)) / (q n),
    /// using (and then discarding, so they are never reused for another step) the per-sample
    /// gradients of the last `backward(_:perSample: true)`. O(batch * parameters).
    @discardableResult
    public static func privatizeGradients(
        _ model: inout Sequential, configuration: DPSGDConfiguration, noise: inout GaussianSampler
    ) throws(DPError) -> ClippingStatistics {
        let c = configuration.clippingNorm
        // Validates that every parameter has per-sample gradients over one common batch.
        let batch = try PerSampleClipping.perSampleNorms(model, checkOnly: true).count
        // Detach the per-sample gradients (consumed by this step, never reused).
        var slots = [(layer: Int, parameter: Int, rows: Tensor, size: Int)]()
        var sums = [Tensor]()
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                guard let ps = model.layers[l].parameters[p].perSampleGradient else { continue }
                model.layers[l].parameters[p].perSampleGradient = nil
                let value = model.layers[l].parameters[p].value
                slots.append((l, p, ps, value.count))
                sums.append(Tensor(shape: value.shape))
            }
        }
        // Sample by sample: the norm over all parameters, then min(1, C/norm) times the sample's
        // gradient added to the sums. One sample's gradient (~0.4 MB for the 784-128-10 MLP)
        // stays in cache between the two, so the per-sample gradients are read from memory once.
        var norms = [Double]()
        norms.reserveCapacity(batch)
        for n in 0..<batch {
            var squared = 0.0
            for slot in slots {
                squared += slot.rows.withUnsafeBufferPointer { g in
                    RowKernels.squaredNorm(g, from: n * slot.size, count: slot.size)
                }
            }
            let norm = squared.squareRoot()
            // A NaN norm would pass `norm > C` as false and leave the gradient unclipped: stop.
            guard norm.isFinite else {
                throw .nonFinite(
                    name: "per-sample gradient",
                    detail: "sample \(n) of the batch has a gradient norm of \(norm)")
            }
            norms.append(norm)
            let factor = PerSampleClipping.factors(norms: [norm], clippingNorm: c)[0]
            for k in slots.indices {
                let slot = slots[k]
                slot.rows.withUnsafeBufferPointer { g in
                    sums[k].withUnsafeMutableBufferPointer { acc in
                        RowKernels.addScaledRow(g, from: n * slot.size, factor: factor, into: acc)
                    }
                }
            }
        }
        let std = configuration.noiseMultiplier * c
        let scale = Float(1 / configuration.expectedBatchSize)
        for (k, slot) in slots.enumerated() {
            var sum = sums[k]
            noise.addNoise(standardDeviation: std, to: &sum)
            sum.scale(by: scale)
            model.layers[slot.layer].parameters[slot.parameter].gradient = sum
        }
        let clipped = norms.filter { $0 > c }.count
        return ClippingStatistics(
            batchSize: norms.count,
            clippedFraction: norms.isEmpty ? 0 : Double(clipped) / Double(norms.count),
            meanNorm: norms.isEmpty ? 0 : norms.reduce(0, +) / Double(norms.count),
            maxNorm: norms.max() ?? 0)
    }

    /// The gradient of a step whose Poisson batch came out empty: noise only,
    /// N(0, sigma^2 C^2 I) / (q n). The step still counts for the accountant, and skipping it
    /// would reveal that the batch was empty.
    public static func noiseOnlyGradients(
        _ model: inout Sequential, configuration: DPSGDConfiguration, noise: inout GaussianSampler
    ) {
        let std = configuration.noiseMultiplier * configuration.clippingNorm
        let scale = Float(1 / configuration.expectedBatchSize)
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                var g = Tensor(shape: model.layers[l].parameters[p].value.shape)
                noise.addNoise(standardDeviation: std, to: &g, scale: scale)
                model.layers[l].parameters[p].gradient = g
                model.layers[l].parameters[p].perSampleGradient = nil
            }
        }
    }
}

/// The result of one DP-SGD step. Loss, accuracy and the clipping statistics are computed on the
/// private batch without noise: they are for the operator's progress display (labelled "not
/// private") and must not be released.
public struct DPStepResult: Sendable, Hashable {
    public var loss: Float
    public var correct: Int
    public var clipping: ClippingStatistics
}

/// A DP-SGD optimizer step around any NeuralNet optimizer: forward, loss, one backward pass that
/// yields per-sample gradient norms without per-sample gradients, the clipped sum, noise, then the
/// base optimizer's update.
///
/// Why not a gradient hook: clipping bounds the norm of each sample's gradient over all layers
/// together, and a per-layer hook sees one layer at a time; the step needs the whole model.
public struct DPOptimizer<Base: Optimizer>: Sendable {
    public var base: Base
    public let configuration: DPSGDConfiguration
    public private(set) var noise: GaussianSampler
    /// Noisy steps taken so far (each one counts for the accountant, empty batches included).
    public private(set) var steps = 0

    public init(base: Base, configuration: DPSGDConfiguration, noise: NoiseSource) {
        self.base = base
        self.configuration = configuration
        self.noise = GaussianSampler(noise)
    }

    /// One noisy step on the batch (`features` `[k] + sampleShape`, k may be 0).
    /// - Throws: `DPError.nonFinite` if the loss or a per-sample gradient norm is NaN or infinite
    ///   (the model is then left without an update for this step).
    public mutating func step(
        _ model: inout Sequential, features: Tensor, labels: [Int], loss: Loss
    ) throws(DPError) -> DPStepResult {
        defer { steps += 1 }
        guard !labels.isEmpty else {
            DPSGD.noiseOnlyGradients(&model, configuration: configuration, noise: &noise)
            base.step(&model)
            return DPStepResult(
                loss: 0, correct: 0,
                clipping: ClippingStatistics(
                    batchSize: 0, clippedFraction: 0, meanNorm: 0, maxNorm: 0))
        }
        let out = model.forward(features, training: true)
        let r = loss.evaluate(output: out, labels: labels)
        guard r.loss.isFinite else {
            throw .nonFinite(name: "loss", detail: "the batch loss is \(r.loss)")
        }
        let norms = model.backwardPerSampleNorms(r.gradient)
        let stats = try DPSGD.privatizeGradients(
            &model, perSampleNorms: norms, configuration: configuration, noise: &noise)
        base.step(&model)
        return DPStepResult(loss: r.loss, correct: r.correct, clipping: stats)
    }
}

/// Vectorized loops over rows of per-sample gradients. Written with explicit SIMD accumulators
/// because a Float reduction is not auto-vectorized (that would reassociate the sum), and without
/// fused multiply-add, which on the default x86-64 target compiles to a libm call per lane.
enum RowKernels {
    /// Sum of squares of `count` elements from `start`: 16-lane Float32 partial sums over blocks
    /// of 4096 elements, each block added in double precision.
    static func squaredNorm(_ g: UnsafeBufferPointer<Float>, from start: Int, count: Int) -> Double {
        guard let base = g.baseAddress, count > 0 else { return 0 }
        let raw = UnsafeRawPointer(base + start)
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 4096, count)
            var acc = SIMD16<Float>()
            while i + 16 <= end {
                let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                acc += v * v
                i += 16
            }
            var block = Double(acc.sum())
            while i < end {
                let v = Double(base[start + i])
                block += v * v
                i += 1
            }
            total += block
        }
        return total
    }

    /// acc[i] += factor * g[start + i] for i in 0..<acc.count.
    static func addScaledRow(
        _ g: UnsafeBufferPointer<Float>, from start: Int, factor: Float,
        into acc: UnsafeMutableBufferPointer<Float>
    ) {
        guard let src = g.baseAddress, let dst = acc.baseAddress else { return }
        let row = UnsafeRawPointer(src + start)
        let out = UnsafeMutableRawPointer(dst)
        let f = SIMD16<Float>(repeating: factor)
        let count = acc.count
        var i = 0
        while i + 16 <= count {
            let a = out.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            let v = row.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            out.storeBytes(of: a + f * v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            dst[i] += factor * src[start + i]
            i += 1
        }
    }
}
