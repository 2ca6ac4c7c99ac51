import Algebra
import Circuit
import Commitment

/// The client's own training step for its convolution (the demo architecture's client layer),
/// like `ClientUpdate` for Dense: A is recomputed from the committed kernel and private x, the
/// received G = dL/dA is masked by ReLU's derivative, and SGD with learning rate 2^-k updates
/// K[o, t] -= floor(sum_p delta_o(p) x_t(p) / 2^(S+k)) over the output positions p (x_t(p) is the
/// t-th value of p's input window) and b[o] -= floor(sum_p delta_o(p) / 2^k).
///
/// Cost: the forward pass, one product per output for the mask and outputCount * receptiveField
/// products for the kernel gradient, one rescale per parameter, and two commitments.
public struct ConvClientUpdate: Sendable {
    public let layer: QuantizedConv2d
    public let learningRateShift: Int

    public init(layer: QuantizedConv2d, learningRateShift: Int) {
        precondition(layer.relu, "the client convolution ends in a ReLU")
        precondition((0...20).contains(learningRateShift), "learning rate 2^-\(learningRateShift) out of range")
        self.layer = layer
        self.learningRateShift = learningRateShift
    }

    /// The native step: (activations, masked gradient, updated layer).
    public func run(
        input x: [Int64], outputGradient g: [Int64]
    ) throws(FixedPointError)
        -> (activations: [Int64], delta: [Int64], updated: QuantizedConv2d)
    {
        precondition(
            g.count == layer.outputCount, "gradient has \(g.count) values, the layer \(layer.outputCount) outputs")
        let f = layer.format
        let pre = try layer.accumulators(x).map { f.rescale($0) }
        let activations = try layer.forward(x)
        let delta = zip(pre, g).map { q, gi in q >= 0 ? gi : 0 }
        let positions = layer.outHeight * layer.outWidth
        let field = layer.receptiveField
        var kernel = layer.weights
        var bias = layer.bias
        for o in 0..<layer.outChannels {
            var biasSum: Int64 = 0
            var sums = [Int64](repeating: 0, count: field)
            for i in 0..<layer.outHeight {
                for j in 0..<layer.outWidth {
                    let d = delta[o * positions + i * layer.outWidth + j]
                    biasSum += d
                    for (t, index) in layer.window(row: i, column: j).enumerated() { sums[t] += d * x[index] }
                }
            }
            for t in 0..<field { kernel[o * field + t] -= sums[t] >> Int64(f.fractionBits + learningRateShift) }
            bias[o] -= biasSum >> Int64(learningRateShift)
        }
        let updated = try QuantizedConv2d(
            inChannels: layer.inChannels, outChannels: layer.outChannels, height: layer.height,
            width: layer.width, kernelSize: layer.kernelSize, stride: layer.stride,
            weights: kernel, bias: bias, relu: true, format: f)
        return (activations, delta, updated)
    }

    /// The step's circuit. Public outputs, in order: the sample's leaf hash, the activations A, the
    /// commitments to (K, b) before and after; public inputs: session, step, the label, the
    /// gradient G. Private inputs: the sample (range-checked and hashed to the leaf, so it is the
    /// very sample the forward proof of this step showed to be in the committed dataset), its
    /// salt, K and b (range-checked at both openings) and the two salts.
    ///
    /// `sampleValues` replaces the sample's values in the witness (field elements): only tests and
    /// the `forged-input` adversary use it, to play a prover who feeds values outside the range.
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, sample: SampleOpening, layout: PackingLayout, outputGradient g: [Int64],
        session: Fr, step: UInt64, saltBefore: Fr, saltAfter: Fr,
        sampleValues: [Fr]? = nil
    ) throws -> QuantizedConv2d {
        let native = try run(input: sample.values, outputGradient: g)
        let f = layer.format
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let label = cs.allocatePublicInput("label", value: Fr(UInt64(sample.label)))
        let gradient = g.enumerated().map { p, v in cs.allocatePublicInput("G\(p)", value: Fr(v)) }
        let leaf = cs.allocatePublic("sample", value: sample.leaf)
        let xs = try cs.committedSample(
            values: sampleValues ?? sample.values.map { Fr($0) }, label: LinearCombination(label),
            salt: sample.salt, leaf: LinearCombination(leaf), layout: layout)
        let (k, b, rescaled, _) = layer.synthesize(into: cs, inputs: xs, publicOutputs: true, name: "forward")
        let commitments = try StepCommitments(
            in: cs, before: layer.weights + layer.bias,
            after: native.updated.weights + native.updated.bias, format: f,
            saltBefore: saltBefore, saltAfter: saltAfter)
        let delta: [LinearCombination<Fr>] = rescaled.enumerated().map { p, r in
            LinearCombination(
                cs.multiply(LinearCombination(r.nonNegative), LinearCombination(gradient[p]), "delta\(p)"))
        }
        let positions = layer.outHeight * layer.outWidth
        var updated: [LinearCombination<Fr>] = []
        var updatedBias: [LinearCombination<Fr>] = []
        for o in 0..<layer.outChannels {
            var sums = [LinearCombination<Fr>](repeating: LinearCombination(), count: layer.receptiveField)
            var biasSum = LinearCombination<Fr>()
            for i in 0..<layer.outHeight {
                for j in 0..<layer.outWidth {
                    let d = delta[o * positions + i * layer.outWidth + j]
                    biasSum += d
                    for (t, index) in layer.window(row: i, column: j).enumerated() {
                        sums[t] += LinearCombination(cs.multiply(d, xs[index], "dK\(o).\(t).\(i).\(j)"))
                    }
                }
            }
            for t in 0..<layer.receptiveField {
                let step = cs.rescale(sums[t], shift: f.fractionBits + learningRateShift, format: f, "dK\(o).\(t)").q
                updated.append(LinearCombination(k[o][t]) - LinearCombination(step))
            }
            if learningRateShift == 0 {
                updatedBias.append(LinearCombination(b[o]) - biasSum)
            } else {
                let step = cs.rescale(biasSum, shift: learningRateShift, format: f, "db\(o)").q
                updatedBias.append(LinearCombination(b[o]) - LinearCombination(step))
            }
        }
        try commitments.open(
            in: cs, before: (k.flatMap { $0 } + b).map { LinearCombination<Fr>($0) },
            after: updated + updatedBias)
        return native.updated
    }
}
