/// Rectified linear unit, `max(0, x)` element-wise. Backward passes the gradient where x > 0
/// (the subgradient at 0 is taken as 0). O(count).
public struct ReLU: Layer {
    public let name: String
    public var parameters: [Parameter] = []
    private var cachedInput: Tensor?

    public init(name: String = "relu") { self.name = name }

    public func outputShape(forInput shape: [Int]) -> [Int]? { shape }

    /// One read and one write per element, branch-free (a select, so it vectorizes; a data-
    /// dependent branch mispredicts on half the activations). NaN passes through, so divergence
    /// shows.
    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor {
        let y = Tensor(
            uncheckedShape: input.shape,
            storage: [Float](unsafeUninitializedCapacity: input.count) { out, n in
                input.withUnsafeBufferPointer { x in
                    let count = x.count
                    guard let src = x.baseAddress, let dst = out.baseAddress else { return }
                    let (rs, rd) = (UnsafeRawPointer(src), UnsafeMutableRawPointer(dst))
                    var i = 0
                    while i + 16 <= count {
                        let v = rs.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                        rd.storeBytes(
                            of: v.replacing(with: 0, where: v .< 0), toByteOffset: 4 * i, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < count {
                        let v = src[i]
                        dst[i] = v < 0 ? 0 : v
                        i += 1
                    }
                }
                n = input.count
            })
        cachedInput = training ? input : nil
        return y
    }

    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        guard options.inputGradient else { return Tensor(shape: [0]) }
        precondition(gradOutput.count == x.count, "\(name): gradient shape \(gradOutput.shape)")
        return Tensor(
            uncheckedShape: x.shape,
            storage: [Float](unsafeUninitializedCapacity: x.count) { out, n in
                x.withUnsafeBufferPointer { px in
                    gradOutput.withUnsafeBufferPointer { pg in
                        let count = px.count
                        guard let xs = px.baseAddress, let gs = pg.baseAddress, let dst = out.baseAddress else {
                            return
                        }
                        let (rx, rg, rd) = (UnsafeRawPointer(xs), UnsafeRawPointer(gs), UnsafeMutableRawPointer(dst))
                        var i = 0
                        while i + 16 <= count {
                            let xv = rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                            let gv = rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                            rd.storeBytes(
                                of: gv.replacing(with: 0, where: .!(xv .> 0)), toByteOffset: 4 * i,
                                as: SIMD16<Float>.self)
                            i += 16
                        }
                        while i < count {
                            dst[i] = xs[i] > 0 ? gs[i] : 0
                            i += 1
                        }
                    }
                }
                n = x.count
            })
    }
}

/// Flattens each sample to one dimension: `[B, d1, d2, ...] -> [B, d1*d2*...]`. O(1) (shares storage).
public struct Flatten: Layer {
    public let name: String
    public var parameters: [Parameter] = []
    private var cachedShape: [Int] = []

    public init(name: String = "flatten") { self.name = name }

    public func outputShape(forInput shape: [Int]) -> [Int]? { [shape.reduce(1, *)] }

    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor {
        cachedShape = input.shape
        var y = input
        y.reshape([input.shape[0], input.count / max(input.shape[0], 1)])
        return y
    }

    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        guard options.inputGradient else { return Tensor(shape: [0]) }
        var g = gradOutput
        g.reshape(cachedShape)
        return g
    }
}

/// The pooling reduction: maximum or mean over each window.
public enum PoolingMode: String, Sendable {
    case max
    case average
}

/// 2-D max or average pooling over NCHW input, square window `kernel`, step `stride`, no padding.
/// Max pooling remembers the arg-max of each window; average pooling spreads the gradient evenly.
/// O(B*C*Ho*Wo*k*k).
public struct Pool2d: Layer {
    public let name: String
    public let mode: PoolingMode
    public let kernel: Int
    public let stride: Int
    public var parameters: [Parameter] = []
    private var cachedInputShape: [Int] = []
    private var argmax: [Int32] = []

    public init(name: String, mode: PoolingMode, kernel: Int, stride: Int? = nil) {
        precondition(kernel > 0 && (stride ?? kernel) > 0, "pooling sizes must be positive")
        self.name = name
        self.mode = mode
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func outputShape(forInput shape: [Int]) -> [Int]? {
        guard shape.count == 3, shape[1] >= kernel, shape[2] >= kernel else { return nil }
        return [shape[0], (shape[1] - kernel) / stride + 1, (shape[2] - kernel) / stride + 1]
    }

    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "\(name): input \(input.shape) is not [B, C, H, W]")
        guard let out = outputShape(forInput: Array(input.shape.dropFirst())) else {
            preconditionFailure("\(name): input \(input.shape) smaller than window \(kernel)")
        }
        let (planes, h, w, ho, wo) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3], out[1], out[2])
        let (k, s, mode) = (kernel, stride, self.mode)
        var indices = [Int32](repeating: 0, count: mode == .max && training ? planes * ho * wo : 0)
        let inv = 1 / Float(k * k)
        let y = Tensor(shape: [input.shape[0], input.shape[1], ho, wo]) { py in
            input.withUnsafeBufferPointer { px in
                indices.withUnsafeMutableBufferPointer { pi in
                    for p in 0..<planes {
                        let plane = p * h * w
                        for oy in 0..<ho {
                            for ox in 0..<wo {
                                let o = (p * ho + oy) * wo + ox
                                if mode == .max {
                                    var best = plane + oy * s * w + ox * s
                                    var bestValue = px[best]
                                    for ky in 0..<k {
                                        let row = plane + (oy * s + ky) * w + ox * s
                                        for kx in 0..<k where px[row + kx] > bestValue {
                                            bestValue = px[row + kx]
                                            best = row + kx
                                        }
                                    }
                                    py[o] = bestValue
                                    if !pi.isEmpty { pi[o] = Int32(truncatingIfNeeded: best) }
                                } else {
                                    var sum: Float = 0
                                    for ky in 0..<k {
                                        let row = plane + (oy * s + ky) * w + ox * s
                                        for kx in 0..<k { sum += px[row + kx] }
                                    }
                                    py[o] = sum * inv
                                }
                            }
                        }
                    }
                }
            }
        }
        cachedInputShape = training ? input.shape : []
        argmax = indices
        return y
    }

    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        precondition(!cachedInputShape.isEmpty, "\(name): backward without a training forward")
        guard options.inputGradient else { return Tensor(shape: [0]) }
        let shape = cachedInputShape
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        precondition(gradOutput.count == planes * ho * wo, "\(name): gradient shape \(gradOutput.shape)")
        let (k, s, mode) = (kernel, stride, self.mode)
        let inv = 1 / Float(k * k)
        return Tensor(shape: shape) { dx in
            gradOutput.withUnsafeBufferPointer { pg in
                if mode == .max {
                    argmax.withUnsafeBufferPointer { pi in
                        for o in 0..<pg.count { dx[Int(pi[o])] += pg[o] }
                    }
                    return
                }
                for p in 0..<planes {
                    for oy in 0..<ho {
                        for ox in 0..<wo {
                            let g = pg[(p * ho + oy) * wo + ox] * inv
                            for ky in 0..<k {
                                let row = p * h * w + (oy * s + ky) * w + ox * s
                                for kx in 0..<k { dx[row + kx] += g }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 2-D max pooling (window `kernel`, step `stride`, default `kernel`); see `Pool2d`.
public struct MaxPool2d: Layer {
    private var pool: Pool2d
    public var name: String { pool.name }
    public var kernel: Int { pool.kernel }
    public var stride: Int { pool.stride }
    public var parameters: [Parameter] {
        get { [] }
        set { precondition(newValue.isEmpty, "MaxPool2d has no parameters") }
    }

    public init(name: String = "maxpool", kernel: Int, stride: Int? = nil) {
        pool = Pool2d(name: name, mode: .max, kernel: kernel, stride: stride)
    }

    public func outputShape(forInput shape: [Int]) -> [Int]? { pool.outputShape(forInput: shape) }
    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor { pool.forward(input, training: training) }
    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        pool.backward(gradOutput, options: options)
    }
}

/// 2-D average pooling (window `kernel`, step `stride`, default `kernel`); see `Pool2d`.
public struct AvgPool2d: Layer {
    private var pool: Pool2d
    public var name: String { pool.name }
    public var kernel: Int { pool.kernel }
    public var stride: Int { pool.stride }
    public var parameters: [Parameter] {
        get { [] }
        set { precondition(newValue.isEmpty, "AvgPool2d has no parameters") }
    }

    public init(name: String = "avgpool", kernel: Int, stride: Int? = nil) {
        pool = Pool2d(name: name, mode: .average, kernel: kernel, stride: stride)
    }

    public func outputShape(forInput shape: [Int]) -> [Int]? { pool.outputShape(forInput: shape) }
    public mutating func forward(_ input: Tensor, training: Bool) -> Tensor { pool.forward(input, training: training) }
    public mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor {
        pool.backward(gradOutput, options: options)
    }
}
