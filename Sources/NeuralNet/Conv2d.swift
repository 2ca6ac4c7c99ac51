/// 2-D convolution (cross-correlation, as in PyTorch) over NCHW input, via im2col + GEMM.
///
/// Weight `[out, in, k, k]`, bias `[out]`, square kernel, equal stride and zero padding on both
/// axes. For each sample, im2col unrolls the input into a `[in*k*k, Ho*Wo]` matrix, and the output is
/// `W[out, in*k*k] * cols + b`. Samples run in parallel (one single-threaded GEMM each), which
/// is also what makes per-sample weight gradients (dY_n * cols_n^T) free: the batch gradient is
/// their sum. Training caches the im2col matrices: O(B * in*k*k * Ho*Wo) floats.
///
/// DP-SGD's per-sample norms (`perSampleNorms` backward) never keep B weight gradients. Per sample
/// n, with S = Ho*Wo and R = in*k*k, the squared norm of `G_n = B dY_n cols_n^T` is found one of
/// two ways, whichever costs less for this layer (the mixed strategy of Bu et al. 2022):
/// - the ghost norm (Li et al. 2021): `|G_n|^2 = B^2 <dY_n^T dY_n, cols_n^T cols_n>`, two S x S Gram
///   matrices, O(S^2 (out + R)) flops and 2 S^2 floats of scratch per thread;
/// - instantiation: `G_n` into an out x R scratch per thread and its norm, O(S out R), discarded
///   before the next sample.
/// The clipped sum `sum_n f_n G_n` is then the plain weight-gradient loop with each sample's GEMM
/// scaled by `B f_n` (`setClippedGradientSum`).
public struct Conv2d: Layer {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public var parameters: [Parameter]
    private var cachedCols: [Float] = []
    private var cachedInputShape: [Int] = []
    /// Kept by a `perSampleNorms` backward for `setClippedGradientSum`: dY `[B, out, Ho, Wo]`.
    private var normsGradOutput: Tensor?
    public private(set) var perSampleSquaredNorms: [Double] = []

    public var computesPerSampleNorms: Bool { true }

    /// How a `perSampleNorms` backward finds each sample's weight-gradient norm.
    public enum NormStrategy: String, Sendable {
        /// Gram matrices of dY_n and cols_n (no per-sample gradient formed).
        case ghost
        /// One per-sample gradient at a time in a per-thread scratch.
        case instantiate
    }

    /// The cheaper strategy for an input of `[C, H, W]`: ghost when S^2 (out + R) < S out R.
    public func normStrategy(forInput shape: [Int]) -> NormStrategy {
        guard let out = outputShape(forInput: shape) else { return .instantiate }
        let s = out[1] * out[2], r = inChannels * kernel * kernel
        return s * s * (outChannels + r) < s * outChannels * r ? .ghost : .instantiate
    }

    /// A layer with zero weights (filled by a `WeightInit` or `Sequential.setParameter`).
    public init(
        name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
        padding: Int = 0, bias: Bool = true
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
            "Conv2d sizes must be positive")
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        var params = [Parameter(name: "weight", value: Tensor(shape: [outChannels, inChannels, kernel, kernel]))]
        if bias { params.append(Parameter(name: "bias", value: Tensor(shape: [outChannels]))) }
        self.parameters = params
    }

    public func outputShape(forInput shape: [Int]) -> [Int]? {
        Self.outputShape(
            forInput: shape, inChannels: inChannels, outChannels: outChannels, kernel: kernel,
            stride: stride, padding: padding)
    }

    /// The output shape for a `[C, H, W]` input, or nil; needs no layer (so no weights allocated).
    static func outputShape(
        forInput shape: [Int], inChannels: Int, outChannels: Int, kernel: Int,
        stride: Int, padding: Int
    ) -> [Int]? {
        guard shape.count == 3, shape[0] == inChannels else { return nil }
        let ho = (shape[1] + 2 * padding - kernel) / stride + 1
        let wo = (shape[2] + 2 * padding - kernel) / stride + 1
        guard shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel, ho > 0, wo > 0 else { return nil }
        return [outChannels, ho, wo]
    }

    /// Geometry of one call: (H, W, Ho, Wo, rows = in*k*k, spatial = Ho*Wo).
    private func geometry(_ shape: [Int]) -> (h: Int, w: Int, ho: Int, wo: Int, rows: Int, spatial: Int) {
        precondition(
            shape.count == 4 && shape[1] == inChannels, "\(name): input \(shape) is not [B, \(inChannels), H, W]")
        guard let out = outputShape(forInput: Array(shape.dropFirst())) else {
            preconditionFailure("\(name): input \(shape) too small for kernel \(kernel)")
        }
        return (shape[2], shape[3], out[1], out[2], inChannels * kernel * kernel, out[1] * out[2])
    }

    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input.shape)
        let batch = input.shape[0]
        let oc = outChannels
        let colsPerSample = g.rows * g.spatial
        let threads = min(GEMM.defaultThreads, batch)
        // Training keeps every sample's columns for backward; inference reuses one per thread.
        var cols = [Float](repeating: 0, count: (training ? batch : threads) * colsPerSample)
        var y = Tensor(shape: [batch, oc, g.ho, g.wo])
        let hasBias = parameters.count > 1
        let bias = hasBias ? parameters[1].value.storage : []
        let geo = ConvGeometry(
            channels: inChannels, h: g.h, w: g.w, kernel: kernel, stride: stride,
            padding: padding, ho: g.ho, wo: g.wo)
        input.withUnsafeBufferPointer { px in
            parameters[0].value.withUnsafeBufferPointer { pw in
                y.withUnsafeMutableBufferPointer { py in
                    cols.withUnsafeMutableBufferPointer { pc in
                        let ptr = UnsafeSendable((px.baseAddress!, pw.baseAddress!, py.baseAddress!, pc.baseAddress!))
                        Parallel.forEachChunk(batch, chunks: threads) { chunk, range in
                            let (x, w, out, colBase) = ptr.value
                            for n in range {
                                let c = colBase + (training ? n : chunk) * colsPerSample
                                geo.im2col(x + n * g.h * g.w * geo.channels, into: c)
                                let yn = out + n * oc * g.spatial
                                GEMM.sgemm(
                                    transposeA: false, transposeB: false, m: oc, n: g.spatial, k: g.rows,
                                    alpha: 1, a: w, lda: g.rows, b: c, ldb: g.spatial,
                                    beta: 0, c: yn, ldc: g.spatial, threads: 1)
                                if hasBias {
                                    for o in 0..<oc {
                                        let b = bias[o]
                                        for s in 0..<g.spatial { yn[o * g.spatial + s] += b }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if training {
            cachedCols = cols
            cachedInputShape = input.shape
        } else {
            cachedCols = []
        }
        return y
    }

    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        precondition(!cachedInputShape.isEmpty && !cachedCols.isEmpty, "\(name): backward without a training forward")
        let inputShape = cachedInputShape
        let g = geometry(inputShape)
        let batch = inputShape[0]
        let oc = outChannels
        precondition(gradOutput.count == batch * oc * g.spatial, "\(name): gradient shape \(gradOutput.shape)")
        let colsPerSample = g.rows * g.spatial
        let wCount = oc * g.rows
        let threads = min(GEMM.defaultThreads, batch)
        let hasBias = parameters.count > 1
        let norms = options.perSampleNorms
        let perSample = options.perSample && !norms
        let scale = Float(batch)
        // Per-thread partial sums of dW and db (or the per-sample tensors directly).
        let strategy = normStrategy(forInput: Array(inputShape.dropFirst()))
        let normScratch = !norms ? 0 : (strategy == .ghost ? 2 * g.spatial * g.spatial : wCount)
        var partialW = [Float](repeating: 0, count: perSample || norms ? 0 : threads * wCount)
        var partialB = [Float](repeating: 0, count: perSample || norms ? 0 : threads * oc)
        var squares = [Double](repeating: 0, count: norms ? batch : 0)
        var nscratch = [Float](repeating: 0, count: threads * normScratch)
        var psW = [Float](repeating: 0, count: perSample ? batch * wCount : 0)
        var psB = [Float](repeating: 0, count: perSample && hasBias ? batch * oc : 0)
        var dX = [Float](repeating: 0, count: options.inputGradient ? inputShape.reduce(1, *) : 0)
        var scratch = [Float](repeating: 0, count: options.inputGradient ? threads * colsPerSample : 0)
        let geo = ConvGeometry(
            channels: inChannels, h: g.h, w: g.w, kernel: kernel, stride: stride,
            padding: padding, ho: g.ho, wo: g.wo)
        let wantInput = options.inputGradient
        let inPerSample = inChannels * g.h * g.w
        gradOutput.withUnsafeBufferPointer { pg in
            cachedCols.withUnsafeBufferPointer { pc in
                parameters[0].value.withUnsafeBufferPointer { pw in
                    partialW.withUnsafeMutableBufferPointer { ppw in
                        partialB.withUnsafeMutableBufferPointer { ppb in
                            psW.withUnsafeMutableBufferPointer { ppsw in
                                psB.withUnsafeMutableBufferPointer { ppsb in
                                    dX.withUnsafeMutableBufferPointer { pdx in
                                        scratch.withUnsafeMutableBufferPointer { psc in
                                            squares.withUnsafeMutableBufferPointer { psq in
                                                nscratch.withUnsafeMutableBufferPointer { pns in
                                                    let p = UnsafeSendable(
                                                        (
                                                            pg.baseAddress!, pc.baseAddress!, pw.baseAddress!,
                                                            ppw.baseAddress,
                                                            ppb.baseAddress, ppsw.baseAddress, ppsb.baseAddress,
                                                            pdx.baseAddress,
                                                            psc.baseAddress
                                                        ))
                                                    let q = UnsafeSendable((psq.baseAddress, pns.baseAddress))
                                                    Parallel.forEachChunk(batch, chunks: threads) { chunk, range in
                                                        let (gy, cols, w, pW, pB, sW, sB, dx, sc) = p.value
                                                        let (sq, ns) = q.value
                                                        for n in range {
                                                            let gn = gy + n * oc * g.spatial
                                                            let cn = cols + n * colsPerSample
                                                            if norms {
                                                                sq![n] =
                                                                    Conv2d.squaredNorm(
                                                                        gn, cn, oc: oc, rows: g.rows,
                                                                        spatial: g.spatial,
                                                                        bias: hasBias, strategy: strategy,
                                                                        scratch: ns! + chunk * normScratch)
                                                                    * Double(scale) * Double(scale)
                                                            } else {
                                                                // dW (+)= dY_n [oc x spatial] * cols_n^T [spatial x rows]
                                                                let (dst, alpha, beta):
                                                                    (UnsafeMutablePointer<Float>, Float, Float) =
                                                                        perSample
                                                                        ? (sW! + n * wCount, scale, 0)
                                                                        : (pW! + chunk * wCount, 1, 1)
                                                                GEMM.sgemm(
                                                                    transposeA: false, transposeB: true, m: oc,
                                                                    n: g.rows, k: g.spatial,
                                                                    alpha: alpha, a: gn, lda: g.spatial, b: cn,
                                                                    ldb: g.spatial,
                                                                    beta: beta, c: dst, ldc: g.rows, threads: 1)
                                                                if hasBias {
                                                                    for o in 0..<oc {
                                                                        var s: Float = 0
                                                                        for t in 0..<g.spatial {
                                                                            s += gn[o * g.spatial + t]
                                                                        }
                                                                        if perSample {
                                                                            sB![n * oc + o] = scale * s
                                                                        } else {
                                                                            pB![chunk * oc + o] += s
                                                                        }
                                                                    }
                                                                }
                                                            }
                                                            if wantInput {
                                                                // dcols = W^T [rows x oc] * dY_n [oc x spatial], then col2im.
                                                                let dc = sc! + chunk * colsPerSample
                                                                GEMM.sgemm(
                                                                    transposeA: true, transposeB: false, m: g.rows,
                                                                    n: g.spatial, k: oc,
                                                                    alpha: 1, a: w, lda: g.rows, b: gn, ldb: g.spatial,
                                                                    beta: 0, c: dc, ldc: g.spatial, threads: 1)
                                                                geo.col2im(dc, addingInto: dx! + n * inPerSample)
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if norms {
            perSampleSquaredNorms = squares
            normsGradOutput = gradOutput
            for i in parameters.indices { parameters[i].perSampleGradient = nil }
            guard wantInput else { return Tensor(shape: [0]) }
            return Tensor(uncheckedShape: inputShape, storage: dX)
        }
        normsGradOutput = nil
        perSampleSquaredNorms = []
        var dW = Tensor(shape: parameters[0].value.shape)
        var db = Tensor(shape: [oc])
        if perSample {
            let inv = 1 / scale
            dW.withUnsafeMutableBufferPointer { d in
                for n in 0..<batch { for i in 0..<wCount { d[i] += psW[n * wCount + i] } }
                for i in 0..<wCount { d[i] *= inv }
            }
            if hasBias {
                db.withUnsafeMutableBufferPointer { d in
                    for n in 0..<batch { for o in 0..<oc { d[o] += psB[n * oc + o] } }
                    for o in 0..<oc { d[o] *= inv }
                }
            }
            parameters[0].perSampleGradient = Tensor(uncheckedShape: [batch] + parameters[0].value.shape, storage: psW)
            if hasBias { parameters[1].perSampleGradient = Tensor(uncheckedShape: [batch, oc], storage: psB) }
        } else {
            dW.withUnsafeMutableBufferPointer { d in
                for t in 0..<threads { for i in 0..<wCount { d[i] += partialW[t * wCount + i] } }
            }
            db.withUnsafeMutableBufferPointer { d in
                for t in 0..<threads { for o in 0..<oc { d[o] += partialB[t * oc + o] } }
            }
            for i in parameters.indices { parameters[i].perSampleGradient = nil }
        }
        parameters[0].gradient = dW
        if hasBias { parameters[1].gradient = db }
        guard wantInput else { return Tensor(shape: [0]) }
        return Tensor(uncheckedShape: inputShape, storage: dX)
    }
}

extension Conv2d {
    /// `|dY_n cols_n^T|^2 + [bias] |row sums of dY_n|^2` for one sample (without the B^2), by
    /// `strategy`, with `scratch` of 2 S^2 (ghost) or out R (instantiate) floats. Accumulated in
    /// double.
    static func squaredNorm(
        _ gn: UnsafePointer<Float>, _ cn: UnsafePointer<Float>, oc: Int, rows: Int, spatial: Int,
        bias: Bool, strategy: NormStrategy, scratch: UnsafeMutablePointer<Float>
    ) -> Double {
        var total = 0.0
        switch strategy {
        case .ghost:
            // A = dY_n^T dY_n, C = cols_n^T cols_n (S x S each); |G|^2 = <A, C>.
            let ss = spatial * spatial
            let a = scratch, c = scratch + ss
            GEMM.sgemm(
                transposeA: true, transposeB: false, m: spatial, n: spatial, k: oc,
                alpha: 1, a: gn, lda: spatial, b: gn, ldb: spatial, beta: 0, c: a, ldc: spatial, threads: 1)
            GEMM.sgemm(
                transposeA: true, transposeB: false, m: spatial, n: spatial, k: rows,
                alpha: 1, a: cn, lda: spatial, b: cn, ldb: spatial, beta: 0, c: c, ldc: spatial, threads: 1)
            total = Kernels.dot(UnsafePointer(a), UnsafePointer(c), count: ss)
        case .instantiate:
            GEMM.sgemm(
                transposeA: false, transposeB: true, m: oc, n: rows, k: spatial,
                alpha: 1, a: gn, lda: spatial, b: cn, ldb: spatial, beta: 0, c: scratch, ldc: rows, threads: 1)
            total = Kernels.squaredNorm(UnsafePointer(scratch), count: oc * rows)
        }
        if bias {
            for o in 0..<oc {
                var s: Float = 0
                for t in 0..<spatial { s += gn[o * spatial + t] }
                total += Double(s) * Double(s)
            }
        }
        return total
    }

    /// `sum_n factors[n] B dY_n cols_n^T` (and the bias sums), from the dY kept by the last
    /// `perSampleNorms` backward: the plain weight-gradient loop with sample n's GEMM scaled.
    public mutating func setClippedGradientSum(factors: [Float]) {
        guard let gradOutput = normsGradOutput, !cachedInputShape.isEmpty else { return }
        let inputShape = cachedInputShape
        let g = geometry(inputShape)
        let batch = inputShape[0]
        precondition(factors.count == batch, "\(name): \(factors.count) clipping factors for a batch of \(batch)")
        let oc = outChannels
        let colsPerSample = g.rows * g.spatial
        let wCount = oc * g.rows
        let threads = min(GEMM.defaultThreads, batch)
        let hasBias = parameters.count > 1
        let scale = Float(batch)
        var partialW = [Float](repeating: 0, count: threads * wCount)
        var partialB = [Float](repeating: 0, count: threads * oc)
        gradOutput.withUnsafeBufferPointer { pg in
            cachedCols.withUnsafeBufferPointer { pc in
                partialW.withUnsafeMutableBufferPointer { ppw in
                    partialB.withUnsafeMutableBufferPointer { ppb in
                        factors.withUnsafeBufferPointer { pf in
                            let p = UnsafeSendable(
                                (pg.baseAddress!, pc.baseAddress!, ppw.baseAddress!, ppb.baseAddress!, pf.baseAddress!))
                            Parallel.forEachChunk(batch, chunks: threads) { chunk, range in
                                let (gy, cols, pW, pB, f) = p.value
                                for n in range {
                                    let alpha = scale * f[n]
                                    guard alpha != 0 else { continue }
                                    let gn = gy + n * oc * g.spatial
                                    GEMM.sgemm(
                                        transposeA: false, transposeB: true, m: oc, n: g.rows, k: g.spatial,
                                        alpha: alpha, a: gn, lda: g.spatial, b: cols + n * colsPerSample,
                                        ldb: g.spatial,
                                        beta: 1, c: pW + chunk * wCount, ldc: g.rows, threads: 1)
                                    if hasBias {
                                        for o in 0..<oc {
                                            var s: Float = 0
                                            for t in 0..<g.spatial { s += gn[o * g.spatial + t] }
                                            pB[chunk * oc + o] += alpha * s
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var dW = Tensor(shape: parameters[0].value.shape)
        dW.withUnsafeMutableBufferPointer { d in
            for t in 0..<threads { for i in 0..<wCount { d[i] += partialW[t * wCount + i] } }
        }
        parameters[0].gradient = dW
        if hasBias {
            var db = Tensor(shape: [oc])
            db.withUnsafeMutableBufferPointer { d in
                for t in 0..<threads { for o in 0..<oc { d[o] += partialB[t * oc + o] } }
            }
            parameters[1].gradient = db
        }
        normsGradOutput = nil
    }
}

/// Index arithmetic shared by im2col and col2im for one sample.
struct ConvGeometry: Sendable {
    let channels, h, w, kernel, stride, padding, ho, wo: Int

    /// The output columns `ox` whose input column `ox * stride - padding + kj` lies in `0..<w`.
    @inline(__always)
    func validColumns(_ kj: Int) -> Range<Int> {
        // ox * stride >= padding - kj  and  ox * stride <= w - 1 + padding - kj
        let lo = max(0, (padding - kj + stride - 1) / stride)
        let top = w - 1 + padding - kj
        let hi = top < 0 ? 0 : min(wo, top / stride + 1)
        return lo..<max(lo, hi)
    }

    /// Unrolls one sample `[C, H, W]` into `[C*k*k, Ho*Wo]` (zeros where the window leaves the
    /// padded input). Per row of the window the in-bounds columns are computed once, so the inner
    /// loop has no bounds test (a copy when the stride is 1). O(C*k*k*Ho*Wo).
    func im2col(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<channels {
            let plane = x + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let dst = cols + row * ho * wo
                    let valid = validColumns(kj)
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ki
                        let d = dst + oy * wo
                        guard iy >= 0, iy < h, !valid.isEmpty else {
                            d.update(repeating: 0, count: wo)
                            continue
                        }
                        if valid.lowerBound > 0 { d.update(repeating: 0, count: valid.lowerBound) }
                        if valid.upperBound < wo {
                            (d + valid.upperBound).update(repeating: 0, count: wo - valid.upperBound)
                        }
                        let src = plane + iy * w - padding + kj
                        if stride == 1 {
                            (d + valid.lowerBound).update(from: src + valid.lowerBound, count: valid.count)
                        } else {
                            for ox in valid { d[ox] = src[ox * stride] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each column entry back to the input pixel it came from.
    func col2im(_ cols: UnsafePointer<Float>, addingInto x: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<channels {
            let plane = x + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let src = cols + row * ho * wo
                    let valid = validColumns(kj)
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ki
                        guard iy >= 0, iy < h else { continue }
                        let s = src + oy * wo
                        let dst = plane + iy * w - padding + kj
                        for ox in valid { dst[ox * stride] += s[ox] }
                    }
                    row += 1
                }
            }
        }
    }
}
