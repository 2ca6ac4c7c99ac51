import DP
import Foundation
import NeuralNet

/// DP-SGD's gradient perturbation as a client-side defense: clip every sample's gradient to L2
/// norm `clipNorm`, sum, add N(0, (noiseMultiplier * clipNorm)^2) to every coordinate, and divide
/// by the batch size. Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar, Zhang, "Deep Learning with
/// Differential Privacy", CCS 2016.
///
/// Clipping is per layer (McMahan, Ramage, Talwar, Zhang, "Learning Differentially Private
/// Recurrent Language Models", ICLR 2018): each layer's per-sample gradient (weight and bias
/// together) is clipped to `clipNorm` separately, so with L defended layers replacing one sample
/// of the batch moves the whole summed update by at most `2 clipNorm sqrt(L)`.
///
/// What it guarantees in the attack setting (`perRoundGuarantee`): the server sees the gradient
/// of one fixed batch, so there is no amplification by subsampling; one round is the Gaussian
/// mechanism with that sensitivity (replace-one neighbours: the batch size B is visible to the
/// server and fixed) and noise `noiseMultiplier * clipNorm`, and several rounds compose on top.
/// The noise comes from the system CSPRNG unless the defense is seeded (then it is an experiment:
/// anyone with the seed can subtract it).
///
/// Fully connected layers are clipped without materializing per-sample gradients: sample n's
/// gradient of its own loss is `B g_n x_n^T` (weight) and `B g_n` (bias), with g the hook's
/// `outputGradient` (of the mean loss), so its norm is `B |g_n| sqrt(|x_n|^2 + 1)` and the clipped
/// sum is one GEMM (Goodfellow 2015, "Efficient Per-Example Gradient Computations"). Other layers
/// use `perSampleGradient` and need `backward(perSample: true)`.
public struct GaussianGradientNoise: GradientDefense {
    public var clipNorm: Float
    public var noiseMultiplier: Float
    /// Layers to defend by name; nil means every parametric layer.
    public var layerNames: Set<String>?
    private var sampler: GaussianSampler

    /// - Throws: `DPError.invalidParameter` unless `clipNorm > 0` and `noiseMultiplier >= 0`.
    public init(
        clipNorm: Float = 1, noiseMultiplier: Float = 1, layerNames: Set<String>? = nil,
        noise: RandomSource = .system
    ) throws(DPError) {
        guard clipNorm > 0, clipNorm.isFinite, noiseMultiplier >= 0, noiseMultiplier.isFinite else {
            throw .invalidParameter(
                name: "clip/sigma", value: "\(clipNorm)/\(noiseMultiplier)",
                requirement: "need a clip norm > 0 and a noise multiplier >= 0",
                hint: "Use e.g. clip 1 and sigma 1.")
        }
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.layerNames = layerNames
        self.sampler = GaussianSampler(noise)
    }

    public var name: String { "dp" }

    /// Where the noise comes from.
    public var noiseSource: RandomSource { sampler.source }

    /// The guarantee of ONE defended round against a server that sees the update of one fixed
    /// batch: the Gaussian mechanism without amplification, sensitivity `2 C sqrt(layers)`
    /// (replace one example; `layers` = how many layers the defense clips separately in the
    /// update the server sees), noise `sigma C`, epsilon from the exact (analytic) privacy profile
    /// at `delta`. Rounds compose: T rounds cost more.
    /// - Throws: `DPError` for a zero noise multiplier (no guarantee) or delta outside (0, 1).
    public func perRoundGuarantee(delta: Double, layers: Int) throws(DPError) -> RoundGuarantee {
        guard noiseMultiplier > 0 else {
            throw .invalidParameter(
                name: "sigma", value: "0", requirement: "must be > 0 for any guarantee",
                hint: "Without noise the defense gives no differential privacy.")
        }
        guard layers >= 1 else {
            throw .invalidParameter(
                name: "layers", value: "\(layers)", requirement: "must be >= 1",
                hint: "Count the layers whose gradients the server sees.")
        }
        let sensitivity = 2 * Double(clipNorm) * Double(layers).squareRoot()
        let std = Double(noiseMultiplier) * Double(clipNorm)
        let eps = try WeightNoise.analyticGaussianEpsilon(sensitivity: sensitivity, sigma: std, delta: delta)
        return RoundGuarantee(
            epsilon: eps, delta: delta, noiseMultiplier: Double(noiseMultiplier),
            sensitivity: sensitivity, noiseStandardDeviation: std, layers: layers,
            noise: sampler.source.metadataValue)
    }

    public mutating func apply(to context: inout GradientHookContext) {
        guard layerNames?.contains(context.layerName) ?? true else { return }
        if context.isDense && context.parameters.count <= 2 && context.outputGradient.rank == 2 {
            applyDense(&context)
        } else {
            applyPerSample(&context)
        }
    }

    private mutating func applyDense(_ context: inout GradientHookContext) {
        let x = context.input, g = context.outputGradient
        let (batch, inF, outF) = (x.shape[0], x.shape[1], g.shape[1])
        let hasBias = context.parameters.count > 1
        let b = Float(batch)
        // scaled[n] = c_n * g_n, c_n = min(1, C / |per-sample gradient|).
        var scaled = g
        x.withUnsafeBufferPointer { px in
            scaled.withUnsafeMutableBufferPointer { pg in
                for n in 0..<batch {
                    var xx: Float = hasBias ? 1 : 0
                    for i in 0..<inF { xx += px[n * inF + i] * px[n * inF + i] }
                    var gg: Float = 0
                    for o in 0..<outF { gg += pg[n * outF + o] * pg[n * outF + o] }
                    let norm = b * (gg * xx).squareRoot()
                    let factor = norm > clipNorm ? clipNorm / norm : 1
                    for o in 0..<outF { pg[n * outF + o] *= factor }
                }
            }
        }
        // Mean of clipped per-sample gradients = (1/B) sum_n B c_n g_n x_n^T = scaled^T x.
        var dW = Tensor.matmul(scaled, x, transposeA: true)
        addNoise(&dW, std: noiseMultiplier * clipNorm / b)
        context.weightGradient = dW
        if hasBias {
            var db = Tensor(shape: [outF])
            scaled.withUnsafeBufferPointer { pg in
                db.withUnsafeMutableBufferPointer { pd in
                    for n in 0..<batch {
                        for o in 0..<outF { pd[o] += pg[n * outF + o] }
                    }
                }
            }
            addNoise(&db, std: noiseMultiplier * clipNorm / b)
            context.biasGradient = db
        }
    }

    private mutating func applyPerSample(_ context: inout GradientHookContext) {
        let perSample = context.parameters.map(\.perSampleGradient)
        guard let first = perSample.first ?? nil, let batch = first.shape.first, batch > 0 else {
            preconditionFailure(
                """
                GaussianGradientNoise: layer \(context.layerName) is not fully connected and has no per-sample \
                gradients; run backward with perSample: true
                """)
        }
        var norms = [Double](repeating: 0, count: batch)
        for ps in perSample {
            guard let ps else { continue }
            let size = ps.count / batch
            ps.withUnsafeBufferPointer { p in
                for n in 0..<batch {
                    for i in (n * size)..<((n + 1) * size) { norms[n] += Double(p[i]) * Double(p[i]) }
                }
            }
        }
        let factors = norms.map { Float(min(1, Double(clipNorm) / max($0.squareRoot(), 1e-30))) }
        for p in context.parameters.indices {
            guard let ps = perSample[p] else { continue }
            let size = ps.count / batch
            var mean = Tensor(shape: context.parameters[p].gradient.shape)
            ps.withUnsafeBufferPointer { src in
                mean.withUnsafeMutableBufferPointer { dst in
                    for n in 0..<batch {
                        let f = factors[n] / Float(batch)
                        for i in 0..<size { dst[i] += f * src[n * size + i] }
                    }
                }
            }
            addNoise(&mean, std: noiseMultiplier * clipNorm / Float(batch))
            context.parameters[p].gradient = mean
        }
    }

    private mutating func addNoise(_ t: inout Tensor, std: Float) {
        guard std > 0 else { return }
        sampler.addNoise(standardDeviation: Double(std), to: &t)
    }
}

/// One round of the Gaussian-noise defense against a server that sees one fixed batch's update:
/// the (epsilon, delta) of the Gaussian mechanism, per round and unamplified.
public struct RoundGuarantee: Sendable, Hashable, Codable {
    public let epsilon: Double
    public let delta: Double
    public let noiseMultiplier: Double
    /// L2 sensitivity of the summed update, 2 C sqrt(layers), and the noise standard deviation.
    public let sensitivity: Double
    public let noiseStandardDeviation: Double
    public let layers: Int
    /// "system" or "seeded".
    public let noise: String
    public var neighbouring: String { "replace-one" }
    public var amplification: String { "none" }
    /// The label every output carries with the figure.
    public var label: String {
        "per round, unamplified: Gaussian mechanism on one fixed batch (replace-one, sensitivity 2C sqrt(\(layers)))"
            + (noise == "seeded" ? "; SEEDED noise, not a guarantee for this run" : "")
    }
}

/// Plain top-k gradient pruning (the "gradient pruning" defense of Zhu, Liu, Han, "Deep Leakage
/// from Gradients", NeurIPS 2019): every parameter's gradient keeps its `keepFraction` entries of
/// largest magnitude (`ceil(count * keepFraction)` of them) and the rest become zero.
public struct TopKPruning: GradientDefense {
    public var keepFraction: Double
    /// Layers to defend by name; nil means every parametric layer.
    public var layerNames: Set<String>?

    public init(keepFraction: Double = 0.1, layerNames: Set<String>? = nil) {
        precondition(keepFraction > 0 && keepFraction <= 1, "keep fraction must lie in (0, 1]")
        self.keepFraction = keepFraction
        self.layerNames = layerNames
    }

    public var name: String { "prune" }

    public mutating func apply(to context: inout GradientHookContext) {
        guard layerNames?.contains(context.layerName) ?? true else { return }
        for p in context.parameters.indices {
            var g = context.parameters[p].gradient
            let k = Int((Double(g.count) * keepFraction - 1e-9).rounded(.up))
            let kept = largestIndices(g.storage.map { abs($0) }, count: k)
            var keep = [Bool](repeating: false, count: g.count)
            for i in kept { keep[i] = true }
            g.withUnsafeMutableBufferPointer { v in
                for i in 0..<v.count where !keep[i] { v[i] = 0 }
            }
            context.parameters[p].gradient = g
        }
    }
}
