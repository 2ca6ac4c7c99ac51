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
    public func run(input x: [Int64], outputGradient g: [Int64]) throws(FixedPointError)
        -> (activations: [Int64], delta: [Int64], updated: QuantizedConv2d)
    {
        precondition(g.count == layer.outputCount, "gradient has \(g.count) values, the layer \(layer.outputCount) outputs")
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
        let updated = try QuantizedConv2d(inChannels: layer.inChannels, outChannels: layer.outChannels, height: layer.height,
                                          width: layer.width, kernelSize: layer.kernelSize, stride: layer.stride,
                                          weights: kernel, bias: bias, relu: true, format: f)
        return (activations, delta, updated)
    }

    /// Public inputs, in order: session, step, the activations A, the gradient G, and the
    /// commitments to (K, b) before and after.
    @discardableResult
    public func synthesize(into cs: ConstraintSystem<Fr>, input x: [Int64], outputGradient g: [Int64],
                           session: Fr, step: UInt64, saltBefore: Fr, saltAfter: Fr) throws -> QuantizedConv2d {
        let native = try run(input: x, outputGradient: g)
        let f = layer.format
        _ = cs.allocatePublic("session", value: session)
        _ = cs.allocatePublic("step", value: Fr(step))
        let (k, b, rescaled, _, xs) = layer.synthesize(into: cs, input: x, publicOutputs: true, name: "forward")
        let delta: [LinearCombination<Fr>] = rescaled.enumerated().map { p, r in
            let gp = cs.allocatePublic("G\(p)", value: Fr(g[p]))
            return LinearCombination(cs.multiply(LinearCombination(r.nonNegative), LinearCombination(gp), "delta\(p)"))
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
        let commitments = try StepCommitments(in: cs, before: layer.weights + layer.bias,
                                              after: native.updated.weights + native.updated.bias,
                                              saltBefore: saltBefore, saltAfter: saltAfter)
        try commitments.open(in: cs, before: (k.flatMap { $0 } + b).map { LinearCombination<Fr>($0) },
                             after: updated + updatedBias)
        return native.updated
    }
}
