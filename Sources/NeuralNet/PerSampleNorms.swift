/// DP-SGD's clipping over a whole model without per-sample gradients.
///
/// `backwardPerSampleNorms` is one backward pass that returns each sample's gradient norm over
/// all parameters (its own loss, all layers together, which is what bounds DP-SGD's sensitivity)
/// while every layer keeps only what the clipped sum needs (Dense: dY; Conv2d: dY beside the
/// im2col columns already cached by the forward). `setClippedGradientSum(factors:)` then forms
/// `sum_n factors[n] g_n` layer by layer with the same GEMMs as a plain backward. Nothing
/// proportional to batch size times parameter count is allocated for Dense and Conv2d layers
/// (other parametric layers fall back to materialized per-sample gradients). This is the
/// book-keeping scheme of Bu et al. (2022): no second backward pass, the output gradients are
/// reused.
extension Sequential {
    /// Backpropagates `gradOutput` (of the mean loss) with `perSampleNorms`, and returns the L2
    /// norm of each sample's gradient of its own loss over all parameters. The parameters'
    /// `gradient`s are not updated until `setClippedGradientSum(factors:)`. No hooks run.
    /// Cost: a plain backward without the weight-gradient GEMMs, plus the norms.
    public mutating func backwardPerSampleNorms(_ gradOutput: Tensor) -> [Double] {
        _ = backwardKeepingNorms(gradOutput)
        var squares = [Double]()
        for layer in layers where !layer.parameters.isEmpty {
            let s = layer.perSampleSquaredNorms
            if squares.isEmpty {
                squares = s
            } else {
                precondition(
                    s.count == squares.count, "\(layer.name): norms over \(s.count) samples, expected \(squares.count)")
                for n in squares.indices { squares[n] += s[n] }
            }
        }
        return squares.map { $0.squareRoot() }
    }

    /// Every parameter's `gradient` becomes `sum_n factors[n] g_n` (g_n: sample n's gradient of its
    /// own loss) from the last `backwardPerSampleNorms`. Precondition: one factor per sample.
    public mutating func setClippedGradientSum(factors: [Float]) {
        for i in layers.indices where !layers[i].parameters.isEmpty {
            layers[i].setClippedGradientSum(factors: factors)
        }
    }
}

/// Vectorized reductions used by the per-sample norms. Explicit SIMD accumulators because a
/// Float reduction is not auto-vectorized (that would reassociate the sum); partial sums of 4096
/// elements are added in double.
enum Kernels {
    static func squaredNorm(_ g: UnsafeBufferPointer<Float>, from start: Int, count: Int) -> Double {
        guard let base = g.baseAddress, count > 0 else { return 0 }
        return squaredNorm(base + start, count: count)
    }

    static func squaredNorm(_ p: UnsafePointer<Float>, count: Int) -> Double {
        dot(p, p, count: count)
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 4096, count)
            var acc = SIMD16<Float>()
            while i + 16 <= end {
                acc +=
                    ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                    * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                i += 16
            }
            var block = Double(acc.sum())
            while i < end {
                block += Double(a[i]) * Double(b[i])
                i += 1
            }
            total += block
        }
        return total
    }
}
