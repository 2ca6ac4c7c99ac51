import Algebra
import Circuit
import Commitment

/// One training step of the server's layer in fixed point, for one sample: a Dense layer
/// z = W a + b (no activation: it is the model's head), the loss L = 1/2 sum_i (z_i - y_i)^2
/// (MSE against the one-hot label in fixed point; or softmax cross-entropy), the gradient sent back to the client
/// dL/da_j = sum_i W_ij (z_i - y_i), and SGD with learning rate 2^-k:
/// W'_ij = W_ij - floor((z_i - y_i) a_j / 2^(S + k)), b'_i = b_i - floor((z_i - y_i) / 2^k).
///
/// `run` is the native execution; `synthesize` proves that exact execution, with the weights
/// before and after the step bound to public Poseidon commitments, and session and step
/// numbers as public inputs so a proof cannot be replayed in another session or step.
public struct ServerStep: Sendable {
    public let layer: QuantizedDense
    /// log2 of 1 / learning rate.
    public let learningRateShift: Int
    public let loss: Loss

    /// MSE: dL/dz = z - y. Softmax cross-entropy: dL/dz = softmax(z) - y with the fixed-point
    /// softmax of `FixedPointSoftmax` (error bound documented there).
    public enum Loss: String, Sendable, Codable {
        case mse
        case softmaxCrossEntropy = "softmax-cross-entropy"
    }

    public init(layer: QuantizedDense, learningRateShift: Int, loss: Loss = .mse) {
        precondition(!layer.relu, "the server head has no activation")
        precondition((0...20).contains(learningRateShift), "learning rate 2^-\(learningRateShift) out of range")
        self.layer = layer
        self.learningRateShift = learningRateShift
        self.loss = loss
    }

    public struct Result: Sendable, Equatable {
        public let outputs: [Int64]
        public let outputGradient: [Int64]
        public let inputGradient: [Int64]
        public let updated: QuantizedDense
    }

    /// The native step. Throws when a value leaves the B-bit range the circuit checks.
    public func run(activations a: [Int64], label: Int) throws(FixedPointError) -> Result {
        let f = layer.format
        let z = try layer.forward(a)
        let one = Int64(1) << Int64(f.fractionBits)
        let prediction = loss == .mse ? z : FixedPointSoftmax.probabilities(z, format: f)
        let g = prediction.enumerated().map { i, v in v - (i == label ? one : 0) }
        var inputGradient = [Int64](repeating: 0, count: layer.inputs)
        for j in 0..<layer.inputs {
            var acc: Int64 = 0
            for i in 0..<layer.outputs { acc += layer.weights[i * layer.inputs + j] * g[i] }
            inputGradient[j] = f.rescale(acc)
        }
        for (index, value) in inputGradient.enumerated() where abs(value) > f.maxMagnitude {
            throw .overflow(layer: "server step input gradient", index: index, value: value, bits: f.valueBits)
        }
        let updated = try layer.sgdUpdated(outputGradient: g, inputs: a, learningRateShift: learningRateShift)
        return Result(outputs: z, outputGradient: g, inputGradient: inputGradient, updated: updated)
    }

    /// Public outputs, in order: dL/da, the commitments to (W, b) before and after the step;
    /// public inputs: session, step, a (the activations received) and y (the one-hot label).
    /// Private inputs: W, b (range-checked at both openings, so the updated W', b' are too) and
    /// the two salts; every other wire is determined by them.
    ///
    /// Cost: outputs*inputs products each for the forward pass, the input gradient and the
    /// update, S+B+2 per rescale (outputs + inputs + outputs*inputs + outputs rescales), and
    /// two Poseidon sponges over outputs*(inputs+1)+1 values.
    public func synthesize(
        into cs: ConstraintSystem<Fr>, activations a: [Int64], label: Int,
        session: Fr, step: UInt64, saltBefore: Fr, saltAfter: Fr
    ) throws -> Result {
        let result = try run(activations: a, label: label)
        let f = layer.format
        let n = layer.inputs, m = layer.outputs
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let aVars = a.enumerated().map { j, v in LinearCombination<Fr>(cs.allocatePublicInput("a\(j)", value: Fr(v))) }
        let one = Int64(1) << Int64(f.fractionBits)
        let yVars = (0..<m).map { i in
            LinearCombination<Fr>(cs.allocatePublicInput("y\(i)", value: Fr(i == label ? one : 0)))
        }
        let gradVars = result.inputGradient.enumerated().map { j, v in cs.allocatePublic("dLda\(j)", value: Fr(v)) }
        let commitments = try StepCommitments(
            in: cs, before: layer.weights + layer.bias,
            after: result.updated.weights + result.updated.bias, format: f,
            saltBefore: saltBefore, saltAfter: saltAfter)

        // Forward: z = rescale(W a + b 2^S), bound to the committed W, b.
        let w = (0..<m).map { i in
            (0..<n).map { j in cs.allocatePrivateInput("W\(i).\(j)", value: Fr(layer.weights[i * n + j])) }
        }
        let b = (0..<m).map { i in cs.allocatePrivateInput("b\(i)", value: Fr(layer.bias[i])) }
        let accs = cs.denseAccumulators(weights: w, input: aVars, bias: b, format: f, "forward")
        let z = accs.enumerated().map { i, acc in cs.rescale(acc, format: f, "z\(i)").q }
        // Loss gradient: g = z - y (MSE, linear) or softmax(z) - y (cross-entropy).
        let prediction = loss == .mse ? z : cs.softmax(z.map { LinearCombination<Fr>($0) }, format: f)
        let g = (0..<m).map { i in LinearCombination<Fr>(prediction[i]) - yVars[i] }
        // Input gradient: dL/da_j = rescale(sum_i W_ij g_i), equal to the public value.
        for j in 0..<n {
            var acc = LinearCombination<Fr>()
            for i in 0..<m { acc += LinearCombination(cs.multiply(LinearCombination(w[i][j]), g[i], "Wg\(i).\(j)")) }
            let q = cs.rescale(acc, format: f, "dLda\(j)").q
            cs.enforceEqual(LinearCombination(q), LinearCombination(gradVars[j]), "dLda\(j).public")
        }
        // SGD: W' = W - rescale_{S+k}(g a), b' = b - rescale_k(g).
        let updated = cs.sgdUpdate(
            weights: w, bias: b, outputGradient: g, inputs: aVars, format: f,
            learningRateShift: learningRateShift)
        // Commitments: the weights before open the first, the updated weights the second.
        try commitments.open(in: cs, before: (w.flatMap { $0 } + b).map { LinearCombination<Fr>($0) }, after: updated)
        return result
    }
}
