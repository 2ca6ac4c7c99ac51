/// A trainable tensor of a layer together with its gradient.
public struct Parameter: Sendable {
    /// Short name inside the layer: `"weight"` or `"bias"` (file names are `layer.weight`).
    public let name: String
    /// Current value.
    public var value: Tensor
    /// Gradient of the mean batch loss, written by the last `backward`.
    public var gradient: Tensor
    /// Per-sample gradients, shape `[batch] + value.shape`, when the last backward asked for them.
    /// Entry n is the gradient of sample n's own loss; their mean equals `gradient`.
    public var perSampleGradient: Tensor?

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.gradient = Tensor(shape: value.shape)
        self.perSampleGradient = nil
    }
}

/// What a backward pass must compute besides the parameter gradients.
public struct BackwardOptions: Sendable {
    /// Compute the gradient with respect to the layer input (false for the first layer in training).
    public var inputGradient: Bool
    /// Also compute per-sample parameter gradients (DP-SGD), in the same pass.
    public var perSample: Bool
    /// DP-SGD's clipping without per-sample gradients: compute each sample's squared gradient
    /// norm over the layer's parameters (`perSampleSquaredNorms`) and keep what the clipped sum
    /// needs, but leave the parameter gradients for `setClippedGradientSum(factors:)`. A layer
    /// that cannot do this (`computesPerSampleNorms` false) is run with `perSample` instead.
    public var perSampleNorms: Bool

    public init(inputGradient: Bool = true, perSample: Bool = false, perSampleNorms: Bool = false) {
        self.inputGradient = inputGradient
        self.perSample = perSample
        self.perSampleNorms = perSampleNorms
    }
}

/// One layer of a `Sequential` model.
///
/// Layers are value types that cache what `backward` needs during a training `forward`. Inputs
/// carry the batch as their first dimension. Shapes are validated once, when a model is built from
/// a `ModelSpec`; inside the layers a wrong shape is a programmer error (precondition).
public protocol Layer: Sendable {
    /// The layer's name in the model (prefix of its parameter names in model files).
    var name: String { get }
    /// Trainable parameters (empty for parameter-free layers), weight first.
    var parameters: [Parameter] { get set }
    /// Output shape for one sample of the given input shape, or nil if the input does not fit.
    func outputShape(forInput shape: [Int]) -> [Int]?
    /// Forward pass on a batch. With `training`, caches what `backward` needs.
    mutating func forward(_ input: Tensor, training: Bool) -> Tensor
    /// Backward pass: stores parameter gradients and returns the input gradient (an empty tensor
    /// when `options.inputGradient` is false). Precondition: a training forward ran before.
    mutating func backward(_ gradOutput: Tensor, options: BackwardOptions) -> Tensor

    /// Whether `backward` honours `options.perSampleNorms` (Dense, Conv2d). Default: false.
    var computesPerSampleNorms: Bool { get }
    /// After a backward with `perSampleNorms` (or `perSample`): for each sample n, the squared
    /// L2 norm of sample n's gradient of its own loss over this layer's parameters. Empty for a
    /// layer without parameters.
    var perSampleSquaredNorms: [Double] { get }
    /// After that backward: sets every parameter's `gradient` to sum_n factors[n] g_n, with g_n
    /// sample n's gradient of its own loss (so all-ones factors give B times the mean-loss
    /// gradient), and drops what the backward kept for it.
    mutating func setClippedGradientSum(factors: [Float])
}

extension Layer {
    public var computesPerSampleNorms: Bool { false }

    /// From the materialized `perSampleGradient`s (the fallback for layers without their own).
    public var perSampleSquaredNorms: [Double] {
        var squares = [Double]()
        for p in parameters {
            guard let ps = p.perSampleGradient, let batch = ps.shape.first else { continue }
            if squares.isEmpty { squares = [Double](repeating: 0, count: batch) }
            let size = p.value.count
            ps.withUnsafeBufferPointer { g in
                for n in 0..<min(batch, squares.count) {
                    var s = 0.0
                    for i in (n * size)..<((n + 1) * size) { s += Double(g[i]) * Double(g[i]) }
                    squares[n] += s
                }
            }
        }
        return squares
    }

    /// From the materialized `perSampleGradient`s: sum_n factors[n] g_n. O(batch * parameters).
    public mutating func setClippedGradientSum(factors: [Float]) {
        for i in parameters.indices {
            guard let ps = parameters[i].perSampleGradient else { continue }
            let size = parameters[i].value.count
            var sum = Tensor(shape: parameters[i].value.shape)
            ps.withUnsafeBufferPointer { g in
                sum.withUnsafeMutableBufferPointer { acc in
                    for (n, f) in factors.enumerated() where n * size < g.count {
                        for j in 0..<size { acc[j] += f * g[n * size + j] }
                    }
                }
            }
            parameters[i].gradient = sum
            parameters[i].perSampleGradient = nil
        }
    }
}
