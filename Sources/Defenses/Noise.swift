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
/// together) is clipped to `clipNorm` separately, so with L defended layers the whole update has
/// sensitivity `clipNorm * sqrt(L)`, and its privacy is that of the Gaussian mechanism with noise
/// multiplier `noiseMultiplier / sqrt(L)` (`guarantee(...)` accounts for it with the DP module).
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
    private var generator: SeededGenerator

    public init(clipNorm: Float = 1, noiseMultiplier: Float = 1, layerNames: Set<String>? = nil, seed: UInt64 = 0) {
        precondition(clipNorm > 0 && noiseMultiplier >= 0, "clip norm must be > 0 and the noise multiplier >= 0")
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.layerNames = layerNames
        self.generator = SeededGenerator(seed: seed)
    }

    public var name: String { "dp" }

    /// The (epsilon, delta) guarantee of training with this defense on `layers` layers for `steps`
    /// steps with Poisson sampling rate `samplingRate`, from the DP module's accountant.
    public func guarantee(samplingRate: Double, steps: Int, delta: Double, layers: Int,
                          accountant: AccountantKind = .rdp) throws(DPError) -> PrivacyGuarantee {
        let mechanism = try PoissonSampledGaussian(
            samplingRate: samplingRate, noiseMultiplier: Double(noiseMultiplier) / Double(max(layers, 1)).squareRoot(),
            steps: steps)
        return try accountant.accountant.guarantee(for: mechanism, delta: delta)
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
            preconditionFailure("""
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
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] += std * generator.nextNormal() }
        }
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
