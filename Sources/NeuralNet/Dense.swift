/// Fully connected layer: `y = x W^T + b`, W of shape `[out, in]` (PyTorch layout, so model files
/// interoperate), b of shape `[out]`.
///
/// Forward is one GEMM (B x in x out); backward is two GEMMs (dW = dY^T X, dX = dY W) plus a
/// column sum for db. Per-sample gradients are outer products dy_n x_n^T, O(B * in * out) memory.
///
/// DP-SGD's per-sample norms need none of that memory (Goodfellow 2015, "Efficient Per-Example
/// Gradient Computations"): sample n's gradient of its own loss is `B dy_n x_n^T` (weight) and
/// `B dy_n` (bias), whose squared norm is `B^2 |dy_n|^2 (|x_n|^2 + 1)`, O(B (in + out)); and the
/// clipped sum `sum_n f_n B dy_n x_n^T` is the usual weight-gradient GEMM with row n of dY scaled
/// by `B f_n` (`setClippedGradientSum`).
public struct Dense: Layer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    public var parameters: [Parameter]
    private var cachedInput: Tensor?
    /// Kept by a `perSampleNorms` backward for `setClippedGradientSum`: dY `[B, out]`.
    private var normsGradOutput: Tensor?
    public private(set) var perSampleSquaredNorms: [Double] = []

    public var computesPerSampleNorms: Bool { true }

    /// A layer with zero weights (a `WeightInit` or `Sequential.setParameter` fills them).
    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "Dense sizes must be positive")
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        var params = [Parameter(name: "weight", value: Tensor(shape: [outFeatures, inFeatures]))]
        if bias { params.append(Parameter(name: "bias", value: Tensor(shape: [outFeatures]))) }
        self.parameters = params
    }

    /// A layer with the given weights (`[out, in]`) and optional bias (`[out]`); "custom" init.
    public init(name: String, weight: Tensor, bias: Tensor?) throws(TensorError) {
        guard weight.rank == 2, weight.shape.allSatisfy({ $0 > 0 }) else {
            throw .shapeMismatch(context: "\(name).weight", expected: [-1, -1], got: weight.shape)
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw .shapeMismatch(context: "\(name).bias", expected: [weight.shape[0]], got: bias.shape)
        }
        self.init(name: name, inFeatures: weight.shape[1], outFeatures: weight.shape[0], bias: bias != nil)
        parameters[0].value = weight
        if let bias { parameters[1].value = bias }
    }

    public func outputShape(forInput shape: [Int]) -> [Int]? {
        shape == [inFeatures] ? [outFeatures] : nil
    }

    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor {
        let batch = input.shape[0]
        precondition(
            input.count == batch * inFeatures, "\(name): input \(input.shape) does not have \(inFeatures) features")
        var x = input
        if x.rank != 2 { x.reshape([batch, inFeatures]) }
        var y = Tensor(shape: [batch, outFeatures])
        let (inF, outF) = (inFeatures, outFeatures)
        x.withUnsafeBufferPointer { px in
            parameters[0].value.withUnsafeBufferPointer { pw in
                y.withUnsafeMutableBufferPointer { py in
                    GEMM.sgemm(
                        transposeA: false, transposeB: true, m: batch, n: outF, k: inF,
                        alpha: 1, a: px.baseAddress!, lda: inF, b: pw.baseAddress!, ldb: inF,
                        beta: 0, c: py.baseAddress!, ldc: outF)
                }
            }
        }
        if parameters.count > 1 {
            parameters[1].value.withUnsafeBufferPointer { pb in
                y.withUnsafeMutableBufferPointer { py in
                    for n in 0..<batch {
                        let row = n * outF
                        for o in 0..<outF { py[row + o] += pb[o] }
                    }
                }
            }
        }
        cachedInput = training ? x : nil
        return y
    }

    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        let batch = x.shape[0]
        let (inF, outF) = (inFeatures, outFeatures)
        precondition(gradOutput.count == batch * outF, "\(name): gradient shape \(gradOutput.shape)")
        let hasBias = parameters.count > 1
        if options.perSampleNorms {
            perSampleSquaredNorms = Dense.squaredNorms(gradOutput, x, batch: batch, inF: inF, outF: outF, bias: hasBias)
            var g = gradOutput
            g.reshape([batch, outF])
            normsGradOutput = g
            for i in parameters.indices { parameters[i].perSampleGradient = nil }
            return inputGradient(gradOutput, batch: batch, wanted: options.inputGradient)
        }
        normsGradOutput = nil
        perSampleSquaredNorms = []
        var dW = Tensor(shape: [outF, inF])
        gradOutput.withUnsafeBufferPointer { pg in
            x.withUnsafeBufferPointer { px in
                dW.withUnsafeMutableBufferPointer { pd in
                    GEMM.sgemm(
                        transposeA: true, transposeB: false, m: outF, n: inF, k: batch,
                        alpha: 1, a: pg.baseAddress!, lda: outF, b: px.baseAddress!, ldb: inF,
                        beta: 0, c: pd.baseAddress!, ldc: inF)
                }
            }
        }
        parameters[0].gradient = dW
        if hasBias {
            var db = Tensor(shape: [outF])
            gradOutput.withUnsafeBufferPointer { pg in
                db.withUnsafeMutableBufferPointer { pd in
                    for n in 0..<batch {
                        for o in 0..<outF { pd[o] += pg[n * outF + o] }
                    }
                }
            }
            parameters[1].gradient = db
        }
        if options.perSample {
            let scale = Float(batch)
            let psW = Tensor(shape: [batch, outF, inF]) { out in
                gradOutput.withUnsafeBufferPointer { pg in
                    x.withUnsafeBufferPointer { px in
                        for n in 0..<batch {
                            let xr = px.baseAddress! + n * inF
                            for o in 0..<outF {
                                let g = scale * pg[n * outF + o]
                                let dst = out.baseAddress! + (n * outF + o) * inF
                                for i in 0..<inF { dst[i] = g * xr[i] }
                            }
                        }
                    }
                }
            }
            parameters[0].perSampleGradient = psW
            if hasBias {
                var psb = gradOutput
                psb.reshape([batch, outF])
                psb.scale(by: scale)
                parameters[1].perSampleGradient = psb
            }
        } else {
            for i in parameters.indices { parameters[i].perSampleGradient = nil }
        }
        return inputGradient(gradOutput, batch: batch, wanted: options.inputGradient)
    }

    /// dX = dY W, or an empty tensor when not `wanted`.
    private func inputGradient(_ gradOutput: Tensor, batch: Int, wanted: Bool) -> Tensor {
        guard wanted else { return Tensor(shape: [0]) }
        let (inF, outF) = (inFeatures, outFeatures)
        var dX = Tensor(shape: [batch, inF])
        gradOutput.withUnsafeBufferPointer { pg in
            parameters[0].value.withUnsafeBufferPointer { pw in
                dX.withUnsafeMutableBufferPointer { pd in
                    GEMM.sgemm(
                        transposeA: false, transposeB: false, m: batch, n: inF, k: outF,
                        alpha: 1, a: pg.baseAddress!, lda: outF, b: pw.baseAddress!, ldb: inF,
                        beta: 0, c: pd.baseAddress!, ldc: inF)
                }
            }
        }
        return dX
    }

    /// `B^2 |dy_n|^2 (|x_n|^2 + [bias])` per sample, in double. O(B (in + out)).
    static func squaredNorms(_ g: Tensor, _ x: Tensor, batch: Int, inF: Int, outF: Int, bias: Bool) -> [Double] {
        let b2 = Double(batch) * Double(batch)
        var out = [Double](repeating: 0, count: batch)
        g.withUnsafeBufferPointer { pg in
            x.withUnsafeBufferPointer { px in
                for n in 0..<batch {
                    let gg = Kernels.squaredNorm(pg, from: n * outF, count: outF)
                    let xx = Kernels.squaredNorm(px, from: n * inF, count: inF) + (bias ? 1 : 0)
                    out[n] = b2 * gg * xx
                }
            }
        }
        return out
    }

    /// Weight gradient `sum_n factors[n] B dy_n x_n^T` and bias `sum_n factors[n] B dy_n`, from the
    /// dY kept by the last `perSampleNorms` backward: one GEMM, as in a plain backward.
    public mutating func setClippedGradientSum(factors: [Float]) {
        guard let g = normsGradOutput, let x = cachedInput else { return }
        let batch = x.shape[0]
        precondition(factors.count == batch, "\(name): \(factors.count) clipping factors for a batch of \(batch)")
        let (inF, outF) = (inFeatures, outFeatures)
        var scaled = g
        let b = Float(batch)
        scaled.withUnsafeMutableBufferPointer { p in
            for n in 0..<batch {
                let f = b * factors[n]
                for o in 0..<outF { p[n * outF + o] *= f }
            }
        }
        var dW = Tensor(shape: [outF, inF])
        scaled.withUnsafeBufferPointer { pg in
            x.withUnsafeBufferPointer { px in
                dW.withUnsafeMutableBufferPointer { pd in
                    GEMM.sgemm(
                        transposeA: true, transposeB: false, m: outF, n: inF, k: batch,
                        alpha: 1, a: pg.baseAddress!, lda: outF, b: px.baseAddress!, ldb: inF,
                        beta: 0, c: pd.baseAddress!, ldc: inF)
                }
            }
        }
        parameters[0].gradient = dW
        if parameters.count > 1 {
            var db = Tensor(shape: [outF])
            scaled.withUnsafeBufferPointer { pg in
                db.withUnsafeMutableBufferPointer { pd in
                    for n in 0..<batch {
                        for o in 0..<outF { pd[o] += pg[n * outF + o] }
                    }
                }
            }
            parameters[1].gradient = db
        }
        normsGradOutput = nil
    }
}
