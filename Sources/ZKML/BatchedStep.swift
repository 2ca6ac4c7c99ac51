import Algebra
import Circuit
import Commitment

/// One training step on a mini-batch of B = 2^beta samples, natively, exactly as the batched
/// circuits check it. Per sample: A_s = relu(rescale_S(conv(x_s; K) + b 2^S)) on the client;
/// z_s = rescale_S(W a_s + b 2^S), g_s = softmax(z_s) - y_s (or z_s - y_s for MSE) and the
/// gradient sent back dA_s = rescale_S(W^T g_s) on the server. SGD on the mean gradient with
/// learning rate 2^-k: the batch sums are rescaled once, by 2^(S + k + beta) for weights and
/// 2^(k + beta) for biases (the 1/B is a shift), rounded to nearest (half up): a floor would
/// move every parameter by half a unit in the last place down each step, a drift that swamps
/// the gradient over a few hundred steps. The client masks dA_s by relu'(q) = [q > 0],
/// i.e. by A_s > 0, which the server can compute from the activations it received.
public enum BatchedStep {
    /// round(x / 2^s), halves up: floor((x + 2^(s-1)) / 2^s); x itself for s = 0. What the
    /// circuits prove with a rescale of x + 2^(s-1).
    @inlinable public static func roundedShift(_ x: Int64, _ s: Int) -> Int64 {
        s == 0 ? x : (x + (Int64(1) << Int64(s - 1))) >> Int64(s)
    }

    /// The constant a circuit adds before a rounding rescale by 2^s.
    public static func roundingOffset(_ s: Int) -> Int64 { s == 0 ? 0 : Int64(1) << Int64(s - 1) }

    /// log2 of a power-of-two batch size.
    public static func shift(batch: Int) -> Int {
        precondition(batch >= 1 && batch & (batch - 1) == 0, "batch \(batch) is not a power of two")
        return batch.trailingZeroBitCount
    }

    /// The client's activations for each sample.
    public static func forward(_ conv: QuantizedConv2d, inputs: [[Int64]]) throws(FixedPointError) -> [[Int64]] {
        var out: [[Int64]] = []
        out.reserveCapacity(inputs.count)
        for x in inputs { out.append(try conv.forward(x)) }
        return out
    }

    public struct ServerResult: Sendable, Equatable {
        public let outputs: [[Int64]]
        public let outputGradients: [[Int64]]
        /// dL/dA_s per sample, at scale 2^S (not divided by the batch size).
        public let inputGradients: [[Int64]]
        public let updated: QuantizedDense
    }

    /// The server's step on the batch.
    public static func server(
        _ head: QuantizedDense, activations: [[Int64]], labels: [Int], learningRateShift k: Int,
        loss: ServerStep.Loss
    ) throws(FixedPointError) -> ServerResult {
        let f = head.format
        let beta = shift(batch: activations.count)
        let one = Int64(1) << Int64(f.fractionBits)
        var outputs: [[Int64]] = [], gradients: [[Int64]] = [], inputGradients: [[Int64]] = []
        for (a, label) in zip(activations, labels) {
            let z = try head.forward(a)
            let prediction = loss == .mse ? z : FixedPointSoftmax.probabilities(z, format: f)
            let g = prediction.enumerated().map { i, v in v - (i == label ? one : 0) }
            var dA = [Int64](repeating: 0, count: head.inputs)
            for j in 0..<head.inputs {
                var acc: Int64 = 0
                for i in 0..<head.outputs { acc += head.weights[i * head.inputs + j] * g[i] }
                dA[j] = f.rescale(acc)
                guard abs(dA[j]) <= f.maxMagnitude else {
                    throw .overflow(layer: "server step input gradient", index: j, value: dA[j], bits: f.valueBits)
                }
            }
            outputs.append(z)
            gradients.append(g)
            inputGradients.append(dA)
        }
        var w = head.weights
        var b = head.bias
        let weightShift = f.fractionBits + k + beta
        for i in 0..<head.outputs {
            var biasSum: Int64 = 0
            for s in 0..<activations.count { biasSum += gradients[s][i] }
            for j in 0..<head.inputs {
                var sum: Int64 = 0
                for s in 0..<activations.count { sum += gradients[s][i] * activations[s][j] }
                w[i * head.inputs + j] -= roundedShift(sum, weightShift)
            }
            b[i] -= roundedShift(biasSum, k + beta)
        }
        let updated = try QuantizedDense(
            inputs: head.inputs, outputs: head.outputs, weights: w, bias: b, relu: false, format: f)
        return ServerResult(
            outputs: outputs, outputGradients: gradients, inputGradients: inputGradients, updated: updated)
    }

    /// The client's masked gradients delta_s = [A_s > 0] dA_s: what its update proof takes as a
    /// public input (the server computes the same from the activations it received).
    public static func maskedGradients(activations: [[Int64]], gradients: [[Int64]]) -> [[Int64]] {
        zip(activations, gradients).map { a, g in zip(a, g).map { $0 > 0 ? $1 : 0 } }
    }

    /// The client's updated convolution: K' = K - round(sum_s sum_p delta_s(p) x_s(window_p) /
    /// 2^(S + k + beta)), b' = b - round(sum_s sum_p delta_s(p) / 2^(k + beta)).
    public static func clientUpdate(
        _ conv: QuantizedConv2d, inputs: [[Int64]], masked delta: [[Int64]],
        learningRateShift k: Int
    ) throws(FixedPointError) -> QuantizedConv2d {
        let f = conv.format
        let beta = shift(batch: inputs.count)
        let positions = conv.outHeight * conv.outWidth
        let field = conv.receptiveField
        var kernel = conv.weights
        var bias = conv.bias
        for o in 0..<conv.outChannels {
            var biasSum: Int64 = 0
            var sums = [Int64](repeating: 0, count: field)
            for (x, d) in zip(inputs, delta) {
                for i in 0..<conv.outHeight {
                    for j in 0..<conv.outWidth {
                        let value = d[o * positions + i * conv.outWidth + j]
                        if value == 0 { continue }
                        biasSum += value
                        for (t, index) in conv.window(row: i, column: j).enumerated() { sums[t] += value * x[index] }
                    }
                }
            }
            for t in 0..<field { kernel[o * field + t] -= roundedShift(sums[t], f.fractionBits + k + beta) }
            bias[o] -= roundedShift(biasSum, k + beta)
        }
        return try QuantizedConv2d(
            inChannels: conv.inChannels, outChannels: conv.outChannels, height: conv.height,
            width: conv.width, kernelSize: conv.kernelSize, stride: conv.stride,
            weights: kernel, bias: bias, relu: true, format: f)
    }
}

/// The public statements of the batched circuits, in wire order (outputs, then inputs, the
/// challenge last). The verifier supplies all but the challenge, which it derives.
///
/// `learningRate` is the spec's `learningRateMultiplier(atStep:)`: the verifier derives it from
/// the step, so a prover cannot train a step at another phase's rate.
public enum BatchedStatement {
    /// The forward proof's: the leaves (whose Merkle openings the verifier checks natively, so
    /// neither the indices nor the root enter the proof), the weights' commitment and the
    /// activations; then session, step and the labels.
    public static func forward(
        session: Fr, step: UInt64, labels: [Int], leaves: [Fr], weights: Fr, activations: [[Int64]]
    ) -> [Fr] {
        leaves + [weights] + activations.flatMap { $0.map { Fr($0) } }
            + [session, Fr(step)] + labels.map { Fr(UInt64($0)) }
    }

    public static func server(
        session: Fr, step: UInt64, learningRate: Int64, activations: [[Int64]], labels: [Int],
        gradients: [[Int64]], before: Fr, after: Fr
    ) -> [Fr] {
        gradients.flatMap { $0.map { Fr($0) } } + [before, after] + [session, Fr(step), Fr(learningRate)]
            + activations.flatMap { $0.map { Fr($0) } } + labels.map { Fr(UInt64($0)) }
    }

    /// The update's statement; a linked update (`batchedUpdateCircuit(..., linked: true)`) has no
    /// leaves and no labels (pass empty arrays): its samples are the forward proof's.
    public static func update(
        session: Fr, step: UInt64, learningRate: Int64, labels: [Int], leaves: [Fr], masked: [[Int64]],
        before: Fr, after: Fr
    ) -> [Fr] {
        leaves + [before, after] + [session, Fr(step), Fr(learningRate)] + labels.map { Fr(UInt64($0)) }
            + masked.flatMap { $0.map { Fr($0) } }
    }
}

extension ConstraintSystem where F == Fr {
    /// The batch's samples as committed limbs (each value an unsigned `layout.bits`-bit integer
    /// by lookup), hashed to the public leaves: returns each sample's values as linear
    /// combinations. Soundness as `committedSample`; the range checks are lookups.
    func batchedSamples(
        _ samples: [SampleOpening], labels: [LinearCombination<Fr>], leaves: [Variable],
        layout: PackingLayout, _ context: LookupContext,
        _ name: String = "sample"
    ) throws(PoseidonError) -> [[LinearCombination<Fr>]] {
        var out: [[LinearCombination<Fr>]] = []
        for (s, sample) in samples.enumerated() {
            let values = sample.values.enumerated().map { j, v in
                committedUnsigned(UInt64(v), bits: layout.bits, context, "\(name)\(s).x\(j)").value
            }
            let salt = allocatePrivateInput("\(name)\(s).salt", value: sample.salt)
            var packed: [LinearCombination<Fr>] = []
            var element = LinearCombination<Fr>()
            var weight = Fr.one
            var shift = Fr.one
            for _ in 0..<layout.bits { shift = shift.doubled() }
            for (i, v) in values.enumerated() {
                element += v * weight
                weight *= shift
                if (i + 1) % layout.perElement == 0 {
                    packed.append(element)
                    element = LinearCombination()
                    weight = .one
                }
            }
            if values.count % layout.perElement != 0 { packed.append(element) }
            let digest = try poseidonSponge(
                packed + [labels[s], LinearCombination(salt)], domain: SampleLeaf.domain, "\(name)\(s).leaf")
            enforceEqual(digest, LinearCombination(leaves[s]), "\(name)\(s).leafEquals")
            out.append(values)
        }
        return out
    }

    /// The batch's samples as one committed wire per value (`sample<s>.x<j>`), neither range-checked
    /// nor opened: for an update whose commitment is linked to the forward proof's
    /// (`CommitmentLink`), which range-checked the values' limbs and opened the leaves; the link
    /// pins each value to the weighted sum of its limbs there (`CircuitSpec.updateLinkPairs`).
    /// Only the values in `used` get a wire (a pixel no window reads stays out of the update and
    /// of the link; the forward proof still opens it), the others read as zero.
    func linkedSamples(
        _ samples: [SampleOpening], used: Set<Int>, _ name: String = "sample"
    ) -> [[LinearCombination<Fr>]] {
        samples.enumerated().map { s, sample in
            sample.values.enumerated().map { j, v in
                used.contains(j)
                    ? LinearCombination(allocateCommitted("\(name)\(s).x\(j)", value: Fr(v))) : LinearCombination()
            }
        }
    }

    /// Committed signed B-bit parameters (the weights of a layer) and their commitment opening:
    /// range-checked by lookup, packed ten per element, hashed with the salt to `commitment`.
    func committedParameters(
        _ values: [Int64], salt: Fr, commitment: Variable, _ context: LookupContext,
        _ name: String
    ) throws(PoseidonError) -> [SignedLimbs] {
        let parts = values.enumerated().map { i, v in
            committedSigned(v, bits: context.format.valueBits, context, "\(name).p\(i)")
        }
        try openPacked(parts, salt: salt, commitment: commitment, context, name)
        return parts
    }

    /// The opening of a parameter commitment from already range-checked values.
    func openPacked(
        _ parts: [SignedLimbs], salt: Fr, commitment: Variable, _ context: LookupContext,
        _ name: String
    ) throws(PoseidonError) {
        let saltVariable = allocatePrivateInput("\(name).salt", value: salt)
        let packed = pack(parts, layout: ParameterCommitment.layout(context.format))
        try assertPoseidonOpening(
            commitment: LinearCombination(commitment), values: packed,
            salt: LinearCombination(saltVariable), "\(name).opening")
    }
}
