import Algebra
import Circuit
import Commitment

/// The client's own training step for a Dense + ReLU layer, so the client's weights also evolve
/// only by proven steps: given the gradient G = dL/dA the server sent (and proved), the client
/// recomputes A = relu(rescale(W x + b 2^S)) from its committed W and private x, takes
/// delta = G where the pre-activation was >= 0 (ReLU's derivative, 1 at 0 by this convention)
/// and 0 elsewhere, and applies the shared SGD update. The proof binds the weights before and after
/// to public Poseidon commitments and the activations and G to public inputs.
///
/// Cost for n -> m: 2 n m products, n m update rescales of S + k + B + 2 constraints, m forward
/// rescales and ReLUs, and two Poseidon sponges over m (n + 1) + 1 values; meant for small client
/// layers (see circuits/README.md).
public struct ClientUpdate: Sendable {
    public let layer: QuantizedDense
    public let learningRateShift: Int

    public init(layer: QuantizedDense, learningRateShift: Int) {
        precondition(layer.relu, "the client layer ends in a ReLU")
        precondition((0...20).contains(learningRateShift), "learning rate 2^-\(learningRateShift) out of range")
        self.layer = layer
        self.learningRateShift = learningRateShift
    }

    /// The native step: (activations, the ReLU-masked gradient, updated layer).
    public func run(
        input x: [Int64], outputGradient g: [Int64]
    ) throws(FixedPointError)
        -> (activations: [Int64], delta: [Int64], updated: QuantizedDense)
    {
        precondition(g.count == layer.outputs, "gradient has \(g.count) values, the layer \(layer.outputs) outputs")
        let preActivations = layer.accumulators(x).map { layer.format.rescale($0) }
        let activations = try layer.forward(x)
        let delta = zip(preActivations, g).map { q, gi in q >= 0 ? gi : 0 }
        return (
            activations, delta,
            try layer.sgdUpdated(outputGradient: delta, inputs: x, learningRateShift: learningRateShift)
        )
    }

    /// Public outputs, in order: the activations A, the commitments to (W, b) before and after;
    /// public inputs: session, step, the gradient G. The input x is a private input range-checked
    /// to `inputLayout` (default: signed B-bit values); W and b are range-checked at both openings.
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, input x: [Int64], inputLayout: PackingLayout? = nil, outputGradient g: [Int64],
        session: Fr, step: UInt64, saltBefore: Fr, saltAfter: Fr
    ) throws -> QuantizedDense {
        let native = try run(input: x, outputGradient: g)
        let f = layer.format
        let n = layer.inputs, m = layer.outputs
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let xs = layer.allocateInputs(into: cs, x, layout: inputLayout, name: "input")
        let w = (0..<m).map { i in
            (0..<n).map { j in cs.allocatePrivateInput("W\(i).\(j)", value: Fr(layer.weights[i * n + j])) }
        }
        let b = (0..<m).map { i in cs.allocatePrivateInput("b\(i)", value: Fr(layer.bias[i])) }
        let accs = cs.denseAccumulators(weights: w, input: xs, bias: b, format: f, "forward")
        var delta: [LinearCombination<Fr>] = []
        var rescaled: [RescaledValue] = []
        for (i, acc) in accs.enumerated() {
            let r = cs.rescale(acc, format: f, "z\(i)")
            _ = cs.relu(r, asPublic: true, "A\(i)")
            rescaled.append(r)
        }
        for i in 0..<m {
            let gi = cs.allocatePublicInput("G\(i)", value: Fr(g[i]))
            delta.append(
                LinearCombination(
                    cs.multiply(LinearCombination(rescaled[i].nonNegative), LinearCombination(gi), "delta\(i)")))
        }
        let updated = cs.sgdUpdate(
            weights: w, bias: b, outputGradient: delta, inputs: xs, format: f,
            learningRateShift: learningRateShift)
        let commitments = try StepCommitments(
            in: cs, before: layer.weights + layer.bias,
            after: native.updated.weights + native.updated.bias, format: f,
            saltBefore: saltBefore, saltAfter: saltAfter)
        try commitments.open(
            in: cs, before: (w.flatMap { $0 } + b).map { LinearCombination<Fr>($0) },
            after: updated)
        return native.updated
    }
}
