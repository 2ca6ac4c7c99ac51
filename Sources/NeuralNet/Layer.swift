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

    public init(inputGradient: Bool = true, perSample: Bool = false) {
        self.inputGradient = inputGradient
        self.perSample = perSample
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
}

/// A wrapper that lets worker threads share raw pointers to disjoint memory.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
