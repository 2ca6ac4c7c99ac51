/// Errors from reading or replacing a model's parameters by name.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case unknownParameter(String, known: [String])
    case shapeMismatch(parameter: String, expected: [Int], got: [Int])
    case missingParameter(String)
    case inputShape(expectedPerSample: [Int], got: [Int])
    case labelOutOfRange(sample: Int, label: Int, outputs: Int)
    case layersRejectInput([Int])

    public var description: String {
        switch self {
        case let .unknownParameter(name, known):
            return "no parameter named '\(name)'; the model has: \(known.joined(separator: ", "))"
        case let .shapeMismatch(name, expected, got):
            return "parameter '\(name)' has shape \(expected), the given tensor has \(got)"
        case let .missingParameter(name):
            return "the file has no tensor '\(name)' that the model needs"
        case let .inputShape(expected, got):
            return "input \(got) is not a batch of samples of shape \(expected)"
        case let .labelOutOfRange(sample, label, outputs):
            return "label \(label) of sample \(sample) is not below the model's \(outputs) outputs"
        case let .layersRejectInput(shape):
            return "the model's layers do not accept its own input shape \(shape)"
        }
    }
}

/// What a gradient hook sees for one parametric layer during backward, before the optimizer step.
///
/// Defenses plug in here: edit `parameters[i].gradient` (and `perSampleGradient`) in place; the
/// edits are written back to the layer. `preActivations` is the layer's output on the batch (for
/// Dense/Conv2d, the values before the following ReLU), so e.g. AGGP can count positive
/// pre-activations per neuron. `outputGradient` is dLoss/d(layer output) on the batch (for Dense,
/// `[B, out]`): with `input` it gives every sample's gradient norm without materializing per-sample
/// gradients (what DP clipping needs).
public struct GradientHookContext: Sendable {
    public let layerIndex: Int
    public let layerName: String
    public let input: Tensor
    public let preActivations: Tensor
    public let outputGradient: Tensor
    public var parameters: [Parameter]

    /// The weight gradient (first parameter), editable.
    public var weightGradient: Tensor {
        get { parameters[0].gradient }
        set { parameters[0].gradient = newValue }
    }

    /// The bias gradient, editable; nil for layers without bias.
    public var biasGradient: Tensor? {
        get { parameters.count > 1 ? parameters[1].gradient : nil }
        set { if let newValue, parameters.count > 1 { parameters[1].gradient = newValue } }
    }
}

/// A feed-forward model: layers applied in order to a batch `[B] + inputShape`.
///
/// Value type: copying a model copies its weights (copy-on-write), which is what split learning and
/// the attacks need when they fork a model.
public struct Sequential: Sendable {
    public var layers: [any Layer]
    /// Shape of one input sample (e.g. `[784]` or `[1, 28, 28]`).
    public let inputShape: [Int]
    /// Inputs and outputs of every layer from the last training forward (hooks read them).
    private var activations: [Tensor] = []

    public init(layers: [any Layer], inputShape: [Int]) {
        self.layers = layers
        self.inputShape = inputShape
    }

    /// Runs the model on a batch whose element count is a multiple of the sample size; the batch
    /// is reshaped to `[B] + inputShape`. With `training`, layers cache what backward needs.
    /// Cost: the sum of the layers' forward costs.
    public mutating func forward(_ input: Tensor, training: Bool = false) -> Tensor {
        let per = inputShape.reduce(1, *)
        precondition(
            input.rank >= 1 && input.count == input.shape[0] * per,
            "input \(input.shape) is not a batch of \(inputShape)")
        guard input.shape[0] > 0 else {
            // An empty batch: no layer runs (and no backward may follow); the result is empty.
            var shape = inputShape
            for layer in layers { shape = layer.outputShape(forInput: shape) ?? shape }
            activations = []
            return Tensor(shape: [0] + shape)
        }
        var x = input
        x.reshape([input.shape[0]] + inputShape)
        activations = training ? [x] : []
        for i in layers.indices {
            x = layers[i].forward(x, training: training)
            if training { activations.append(x) }
        }
        return x
    }

    /// Like `forward` without training, but validates the input shape and throws instead of trapping.
    public mutating func predict(_ input: Tensor) throws(ModelError) -> Tensor {
        let per = inputShape.reduce(1, *)
        guard input.rank >= 1, per > 0, input.count == input.shape[0] * per else {
            throw .inputShape(expectedPerSample: inputShape, got: input.shape)
        }
        return forward(input, training: false)
    }

    /// Output shape of one sample, or nil if a layer does not accept what the previous one gives.
    public var outputShape: [Int]? {
        var shape = inputShape
        for layer in layers {
            guard let next = layer.outputShape(forInput: shape) else { return nil }
            shape = next
        }
        return shape
    }

    /// Checks that `data` fits this model before training or evaluating on it: every sample has
    /// the model's input size, and every label indexes one of the model's outputs. The loops
    /// that follow (`Trainer`, `Loss`, the layers) treat a mismatch as a programmer error and
    /// trap, so anything loaded from a file passes through here first. O(samples).
    public func check(_ data: Dataset) throws(ModelError) {
        let per = inputShape.reduce(1, *)
        guard per > 0, data.sampleSize == per else {
            throw .inputShape(expectedPerSample: inputShape, got: [data.count] + data.sampleShape)
        }
        guard let output = outputShape else { throw .layersRejectInput(inputShape) }
        let outputs = output.reduce(1, *)
        if let bad = data.labels.firstIndex(where: { $0 < 0 || $0 >= outputs }) {
            throw .labelOutOfRange(sample: bad, label: data.labels[bad], outputs: outputs)
        }
    }

    /// Backpropagates `gradOutput` (dLoss/dOutput of the last training forward) through every layer,
    /// storing parameter gradients. After each parametric layer, `hook` may read and edit that
    /// layer's gradients. Returns dLoss/dInput, or an empty tensor when `inputGradient` is false
    /// (skips the first layer's input GEMM). `perSample` also fills `perSampleGradient`.
    public mutating func backward(
        _ gradOutput: Tensor, inputGradient: Bool = true, perSample: Bool = false,
        hook: (inout GradientHookContext) -> Void = { _ in }
    ) -> Tensor {
        precondition(activations.count == layers.count + 1, "backward needs a training forward first")
        var g = gradOutput
        for i in layers.indices.reversed() {
            let needInput = i > 0 || inputGradient
            let gradOut = g
            g = layers[i].backward(g, options: BackwardOptions(inputGradient: needInput, perSample: perSample))
            if !layers[i].parameters.isEmpty {
                var ctx = GradientHookContext(
                    layerIndex: i, layerName: layers[i].name, input: activations[i],
                    preActivations: activations[i + 1], outputGradient: gradOut,
                    parameters: layers[i].parameters)
                hook(&ctx)
                for p in ctx.parameters.indices {
                    precondition(
                        ctx.parameters[p].gradient.shape == layers[i].parameters[p].value.shape,
                        "hook changed the shape of \(layers[i].name).\(ctx.parameters[p].name)'s gradient")
                    layers[i].parameters[p].gradient = ctx.parameters[p].gradient
                    layers[i].parameters[p].perSampleGradient = ctx.parameters[p].perSampleGradient
                }
            }
        }
        return g
    }

    /// The backward of `backwardPerSampleNorms`: layers that compute per-sample norms themselves
    /// get `perSampleNorms`, the others `perSample`.
    mutating func backwardKeepingNorms(_ gradOutput: Tensor) -> Tensor {
        precondition(activations.count == layers.count + 1, "backward needs a training forward first")
        var g = gradOutput
        for i in layers.indices.reversed() {
            let own = layers[i].computesPerSampleNorms
            g = layers[i].backward(
                g,
                options: BackwardOptions(
                    inputGradient: i > 0, perSample: !own && !layers[i].parameters.isEmpty,
                    perSampleNorms: own))
        }
        return g
    }

    /// Every parameter as (`layer.param`, value), in model order.
    public var namedParameters: [(name: String, value: Tensor)] {
        layers.flatMap { layer in layer.parameters.map { ("\(layer.name).\($0.name)", $0.value) } }
    }

    /// Every parameter's gradient as (`layer.param`, gradient), in model order.
    public var namedGradients: [(name: String, value: Tensor)] {
        layers.flatMap { layer in layer.parameters.map { ("\(layer.name).\($0.name)", $0.gradient) } }
    }

    /// L2 norm of each sample's full gradient (all parameters concatenated), from the per-sample
    /// gradients of the last `backward(perSample: true)`; what DP-SGD clips. Returns nil if some
    /// parameter has no per-sample gradient. O(batch * parameterCount).
    public var perSampleGradientNorms: [Float]? {
        var squares = [Double]()
        for layer in layers {
            for p in layer.parameters {
                guard let ps = p.perSampleGradient, let batch = ps.shape.first else { return nil }
                if squares.isEmpty { squares = [Double](repeating: 0, count: batch) }
                guard squares.count == batch else { return nil }
                let size = p.value.count
                ps.withUnsafeBufferPointer { g in
                    for n in 0..<batch {
                        var s = 0.0
                        for i in (n * size)..<((n + 1) * size) { s += Double(g[i]) * Double(g[i]) }
                        squares[n] += s
                    }
                }
            }
        }
        return squares.map { Float($0.squareRoot()) }
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.value.count } } }

    /// Replaces one parameter by name (`fc1.weight`): the "custom" initialization an attack uses to
    /// plant chosen weights. Throws if the name is unknown or the shape differs.
    public mutating func setParameter(_ name: String, to value: Tensor) throws(ModelError) {
        for l in layers.indices {
            for p in layers[l].parameters.indices where "\(layers[l].name).\(layers[l].parameters[p].name)" == name {
                let expected = layers[l].parameters[p].value.shape
                guard value.shape == expected else {
                    throw .shapeMismatch(parameter: name, expected: expected, got: value.shape)
                }
                layers[l].parameters[p].value = value
                return
            }
        }
        throw .unknownParameter(name, known: namedParameters.map(\.name))
    }

    /// Loads every parameter from `tensors` (e.g. a safetensors file). Throws if one is missing or
    /// has the wrong shape; extra tensors are ignored.
    public mutating func loadParameters(_ tensors: [String: Tensor]) throws(ModelError) {
        for (name, _) in namedParameters {
            guard let t = tensors[name] else { throw .missingParameter(name) }
            try setParameter(name, to: t)
        }
    }

    /// Splits into the client half (layers `0..<cut`) and the server half (`cut...`).
    /// Precondition: `0 < cut < layers.count`. The server's input shape is the client's output shape.
    public func split(at cut: Int) -> (client: Sequential, server: Sequential) {
        precondition(cut > 0 && cut < layers.count, "cut \(cut) outside 1..<\(layers.count)")
        var shape = inputShape
        for layer in layers[..<cut] {
            guard let next = layer.outputShape(forInput: shape) else {
                preconditionFailure("layer \(layer.name) does not accept \(shape)")
            }
            shape = next
        }
        return (
            Sequential(layers: Array(layers[..<cut]), inputShape: inputShape),
            Sequential(layers: Array(layers[cut...]), inputShape: shape)
        )
    }
}

/// How fresh weights are drawn. Biases start at zero in every scheme.
public enum WeightInit: String, Sendable, Codable, CaseIterable {
    /// He/Kaiming normal: N(0, 2 / fanIn), for ReLU networks.
    case kaiming
    /// Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)).
    case xavier
    /// All zeros: the starting point for "custom" weights set with `Sequential.setParameter`.
    case zeros

    /// Re-initializes every weight of `model` with this scheme, deterministically from `generator`.
    public func apply(to model: inout Sequential, generator: inout SeededGenerator) {
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                let shape = model.layers[l].parameters[p].value.shape
                guard model.layers[l].parameters[p].name == "weight", self != .zeros else {
                    model.layers[l].parameters[p].value.fill(0)
                    continue
                }
                let receptive = shape.dropFirst(2).reduce(1, *)
                let fanIn = shape.count > 1 ? shape[1] * receptive : shape[0]
                let fanOut = shape[0] * receptive
                model.layers[l].parameters[p].value.withUnsafeMutableBufferPointer { w in
                    switch self {
                    case .kaiming:
                        let std = (2 / Float(fanIn)).squareRoot()
                        for i in 0..<w.count { w[i] = std * generator.nextNormal() }
                    case .xavier:
                        let a = (6 / Float(fanIn + fanOut)).squareRoot()
                        for i in 0..<w.count { w[i] = a * (2 * generator.nextUniform() - 1) }
                    case .zeros:
                        break
                    }
                }
            }
        }
    }
}
