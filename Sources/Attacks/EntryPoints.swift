import NeuralNet

/// The gradients a FedSGD client sends after one step, by parameter name (`imprint.weight`).
public struct ModelUpdate: Sendable {
    public var gradients: [String: Tensor]

    public init(gradients: [String: Tensor]) { self.gradients = gradients }
}

/// The network both entry points attack: the malicious fully connected layer (`imprint`,
/// `in -> N`), ReLU, and a classifier head (`head`, `N -> classes`).
public enum MaliciousModel {
    public static let layerName = "imprint"
    /// Layers with parameters (imprint and head): what a defense in the client's hook clips
    /// separately, and whose updates the server sees.
    public static let parametricLayers = 2

    /// The head is Kaiming-normal, except for RtF, whose bins need every imprint neuron to pass
    /// the same gradient for a sample: there all of the head's columns are one random vector,
    /// scaled by 1/N. A sample fires about N/2 of RtF's neurons, so unscaled logits would be of
    /// order N and the softmax saturated; a sample with a vanishing loss gradient is then absorbed
    /// in float32 by the others' sums (`db_k - db_{k+1}` rounds to 0) and its bin is lost.
    public static func make(
        _ layer: MaliciousLayer, classes: Int,
        generator: inout SeededGenerator
    ) throws(AttackError) -> Sequential {
        try AttackError.require(classes >= 2, "classes", classes, "must be >= 2")
        let n = layer.neurons
        var head = standardNormalTensor(shape: [classes, n], generator: &generator)
        head.scale(by: (2 / Float(n)).squareRoot())
        if layer.needsUniformDownstream {
            let scale = 1 / Float(n)
            head.withUnsafeMutableBufferPointer { h in
                for c in 0..<classes {
                    let v = h[c * n] * (Float(n) / 2).squareRoot() * scale
                    for k in 0..<n { h[c * n + k] = v }
                }
            }
        }
        do {
            let imprint = try Dense(name: layerName, weight: layer.weight, bias: layer.bias)
            let classifier = try Dense(name: "head", weight: head, bias: Tensor(shape: [classes]))
            return Sequential(layers: [imprint, ReLU(name: "imprint_relu"), classifier], inputShape: [layer.inputSize])
        } catch let TensorError.shapeMismatch(context, expected, got) {
            throw .shapeMismatch(context: context, expected: expected, got: got)
        } catch {
            throw .invalidParameter(name: "layer", value: "\(layer.weight.shape)", requirement: error.description)
        }
    }

    /// One training forward and backward of `model` on a batch, with `hook` seeing (and possibly
    /// editing) every parametric layer's gradients, as `Sequential.backward` calls it. Returns the
    /// gradient with respect to the input when `inputGradient` (what a split-learning server sends
    /// back to the client).
    static func step(
        model: inout Sequential, inputs: Tensor, labels: [Int], loss: Loss, inputGradient: Bool,
        hook: (inout GradientHookContext) -> Void
    ) throws(AttackError) -> Tensor {
        let d = model.inputShape.reduce(1, *)
        guard inputs.rank >= 1, inputs.shape[0] == labels.count, inputs.count == labels.count * d, !labels.isEmpty
        else {
            throw .shapeMismatch(
                context: "batch for a model with \(d) inputs and \(labels.count) labels",
                expected: [labels.count, d], got: inputs.shape)
        }
        let output = model.forward(inputs, training: true)
        let classes = output.shape.last ?? 0
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw .invalidParameter(name: "label", value: "\(bad)", requirement: "must lie in 0..<\(classes)")
        }
        let result = loss.evaluate(output: output, labels: labels)
        return model.backward(result.gradient, inputGradient: inputGradient, hook: hook)
    }
}

/// Entry point 1: a malicious aggregator in one FedSGD round.
///
/// The aggregator sends `model` (with the malicious layer first); the client computes the gradient
/// of the full model on its private batch, runs its defense in the gradient hook, and returns the
/// update; the aggregator inverts the first layer's gradient. What is reconstructed: the client's
/// raw (preprocessed) input samples, exactly for every sample that is the only activator of some
/// neuron (bin, for RtF).
public struct FedSGDRound: Sendable {
    public let layer: MaliciousLayer
    public let model: Sequential

    public init(layer: MaliciousLayer, classes: Int, generator: inout SeededGenerator) throws(AttackError) {
        self.layer = layer
        self.model = try MaliciousModel.make(layer, classes: classes, generator: &generator)
    }

    /// The client's side: the mean-loss gradient of every parameter on `inputs` (`[B, ...]`,
    /// preprocessed like the auxiliary data), after `hook` (the client's defense) edited it.
    public static func clientUpdate(
        model: Sequential, inputs: Tensor, labels: [Int], loss: Loss = .softmaxCrossEntropy,
        hook: (inout GradientHookContext) -> Void = { _ in }
    ) throws(AttackError) -> ModelUpdate {
        var m = model
        _ = try MaliciousModel.step(
            model: &m, inputs: inputs, labels: labels, loss: loss, inputGradient: false, hook: hook)
        return ModelUpdate(gradients: Dictionary(m.namedGradients, uniquingKeysWith: { first, _ in first }))
    }

    /// The aggregator's side: reconstructions from the malicious layer's weight and bias gradients.
    public func invert(_ update: ModelUpdate) throws(AttackError) -> Inversion {
        let w = MaliciousModel.layerName + ".weight", b = MaliciousModel.layerName + ".bias"
        guard let dW = update.gradients[w], let db = update.gradients[b] else {
            throw .missingGradient(
                parameter: update.gradients[w] == nil ? w : b, available: update.gradients.keys.sorted())
        }
        return try GradientInversion.invert(weightGradient: dW, biasGradient: db, units: layer.units)
    }
}

/// Entry point 2: a malicious server in split learning that owns the layers after the cut.
///
/// The server's first layer is the malicious FC layer; its input is the client's cut-layer
/// activations A (`[B, d]`). After the server's forward and backward, that layer's weight and bias
/// gradients invert exactly like in FedSGD, so what is reconstructed is **A per sample** (the
/// cut-layer activations), and the raw inputs only when the client half is empty (identity).
///
/// In vanilla split learning A itself reaches the server, so this recovers nothing that server
/// lacks. What it shows is that the server layer's *gradient*, and hence its update
/// `W_s' = W_s - lr * dW_s` that the verified protocol commits to and proves, carries every isolated
/// sample's activations in the clear: anyone who sees two consecutive server weights (the next
/// client in sequential split learning, a verifier, a ledger reader) recovers them. A defense run in
/// `hook` here edits the server layer's gradient before the update, which is where such a
/// protocol would have to enforce it.
public struct SplitLearningServer: Sendable {
    public let layer: MaliciousLayer
    public private(set) var serverHalf: Sequential

    public init(layer: MaliciousLayer, classes: Int, generator: inout SeededGenerator) throws(AttackError) {
        self.layer = layer
        self.serverHalf = try MaliciousModel.make(layer, classes: classes, generator: &generator)
    }

    /// What one server step produces.
    public struct StepResult: Sendable {
        /// dLoss/dA, sent back to the client.
        public let activationGradient: Tensor
        /// The malicious layer's (possibly defended) weight and bias gradients.
        public let weightGradient: Tensor
        public let biasGradient: Tensor
        /// Reconstructions of the cut-layer activations.
        public let inversion: Inversion
    }

    /// Runs the server half on the client's activations `[B, d]` and labels (vanilla split),
    /// applying `hook` to the server layers' gradients, and inverts the malicious layer.
    public mutating func step(
        activations: Tensor, labels: [Int], loss: Loss = .softmaxCrossEntropy,
        hook: (inout GradientHookContext) -> Void = { _ in }
    ) throws(AttackError) -> StepResult {
        let grad = try MaliciousModel.step(
            model: &serverHalf, inputs: activations, labels: labels, loss: loss,
            inputGradient: true, hook: hook)
        let params = serverHalf.layers[0].parameters
        let inversion = try GradientInversion.invert(
            weightGradient: params[0].gradient, biasGradient: params[1].gradient,
            units: layer.units)
        return StepResult(
            activationGradient: grad, weightGradient: params[0].gradient, biasGradient: params[1].gradient,
            inversion: inversion)
    }

    /// The client's side of split learning: its half's activations on the batch (`client` nil or
    /// without layers means the identity, i.e. the server's first layer sees raw inputs).
    public static func clientActivations(client: Sequential?, inputs: Tensor) -> Tensor {
        guard var client, !client.layers.isEmpty else {
            var x = inputs
            x.reshape([inputs.shape[0], inputs.count / max(inputs.shape[0], 1)])
            return x
        }
        var a = client.forward(inputs, training: false)
        a.reshape([inputs.shape[0], a.count / max(inputs.shape[0], 1)])
        return a
    }
}
