import Algebra
import Circuit
import Commitment

/// A 2-D convolution in fixed point with valid padding only (no zero padding; the kernel is
/// placed only where it fits inside the input):
///
///     y[o][i][j] = act(floor((sum_{c,u,v} K[o][c][u][v] * x[c][s*i + u][s*j + v] + b[o] * 2^S) / 2^S))
///
/// for o < C_out, i < H' = (H - k) / s + 1, j < W' = (W - k) / s + 1 (floor division: input
/// rows and columns that no window reaches are ignored). Tensors are flat and row-major: the
/// input is C_in x H x W, the kernel C_out x C_in x k x k, the output C_out x H' x W', which is
/// also PyTorch's `flatten` order, so the output feeds a `QuantizedDense` as it is.
///
/// `forward` is the native execution the parties run; `synthesize` builds the circuit that
/// checks that execution with the same gadgets as `QuantizedDense` (`denseAccumulators` per
/// output position, `rescale`, `relu`); the tests check the two agree bit for bit.
public struct QuantizedConv2d: Sendable, Equatable {
    public let inChannels: Int
    public let outChannels: Int
    public let height: Int
    public let width: Int
    public let kernelSize: Int
    public let stride: Int
    /// C_out x C_in x k x k row-major, and one bias per output channel, both at scale 2^S.
    public var weights: [Int64]
    public var bias: [Int64]
    public var relu: Bool
    public let format: FixedPointFormat

    /// Throws when a parameter exceeds the B-bit range, or when a receptive field is too long
    /// for the format: the accumulator of n = C_in * k * k products plus the lifted bias must
    /// not wrap around r (`maxDotProductLength`) nor overflow Int64 natively
    /// (2(B - 1) + bitWidth(n + 1) <= 62).
    public init(
        inChannels: Int, outChannels: Int, height: Int, width: Int, kernelSize: Int, stride: Int = 1,
        weights: [Int64], bias: [Int64], relu: Bool, format: FixedPointFormat
    ) throws(FixedPointError) {
        precondition(inChannels >= 1 && outChannels >= 1 && kernelSize >= 1 && stride >= 1, "empty convolution")
        precondition(
            height >= kernelSize && width >= kernelSize, "the kernel does not fit in the input (valid padding only)")
        precondition(
            weights.count == outChannels * inChannels * kernelSize * kernelSize && bias.count == outChannels,
            "weight shape mismatch")
        let terms = inChannels * kernelSize * kernelSize + 1
        guard terms <= format.maxDotProductLength,
            2 * (format.valueBits - 1) + (Int.bitWidth - terms.leadingZeroBitCount) <= 62
        else { throw .unsoundFormat(fractionBits: format.fractionBits, valueBits: format.valueBits) }
        for (i, w) in (weights + bias).enumerated() where abs(w) > format.maxMagnitude {
            throw .overflow(layer: "conv2d parameters", index: i, value: w, bits: format.valueBits)
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.kernelSize = kernelSize
        self.stride = stride
        self.weights = weights
        self.bias = bias
        self.relu = relu
        self.format = format
    }

    public var outHeight: Int { (height - kernelSize) / stride + 1 }
    public var outWidth: Int { (width - kernelSize) / stride + 1 }
    public var inputCount: Int { inChannels * height * width }
    public var outputCount: Int { outChannels * outHeight * outWidth }
    /// Products per output: C_in * k * k.
    public var receptiveField: Int { inChannels * kernelSize * kernelSize }

    /// Index of y[channel][row][column] in the flat output (and in a flattened vector).
    public func outputIndex(channel: Int, row: Int, column: Int) -> Int {
        (channel * outHeight + row) * outWidth + column
    }

    /// Flat input indices of the window of output position (row, column), in kernel order
    /// (c, u, v): the j-th index multiplies K[o][c][u][v] with j = (c * k + u) * k + v.
    public func window(row: Int, column: Int) -> [Int] {
        var indices: [Int] = []
        indices.reserveCapacity(receptiveField)
        for c in 0..<inChannels {
            for u in 0..<kernelSize {
                let base = (c * height + row * stride + u) * width + column * stride
                for v in 0..<kernelSize { indices.append(base + v) }
            }
        }
        return indices
    }

    /// The flat input indices some window reads (with a stride larger than the kernel, or a
    /// size the windows do not tile, some inputs are never read).
    public var readInputs: Set<Int> {
        var read = Set<Int>()
        for i in 0..<outHeight {
            for j in 0..<outWidth { read.formUnion(window(row: i, column: j)) }
        }
        return read
    }

    /// Constraints of `synthesize`: outputs * C_in * k * k products plus outputs * (S + B + 2)
    /// for the rescales, plus one per output for ReLU or, without ReLU, for binding a public
    /// output to its quotient (private outputs without ReLU are the quotients themselves).
    public func constraintCount(publicOutputs: Bool = true) -> Int {
        let perOutput = receptiveField + format.fractionBits + format.valueBits + 2 + (relu || publicOutputs ? 1 : 0)
        return outputCount * perOutput
    }

    /// The accumulators acc = sum K x + b 2^S per output, in output order. Inputs must be
    /// B-bit values (as every activation of the format is), which keeps the sums exact in Int64.
    public func accumulators(_ x: [Int64]) throws(FixedPointError) -> [Int64] {
        precondition(x.count == inputCount, "input has \(x.count) values, the layer \(inputCount)")
        for (i, v) in x.enumerated() where abs(v) > format.maxMagnitude {
            throw .overflow(layer: "conv2d input", index: i, value: v, bits: format.valueBits)
        }
        var out: [Int64] = []
        out.reserveCapacity(outputCount)
        let field = receptiveField
        for o in 0..<outChannels {
            for i in 0..<outHeight {
                for j in 0..<outWidth {
                    var acc = bias[o] << Int64(format.fractionBits)
                    for (t, index) in window(row: i, column: j).enumerated() {
                        acc += weights[o * field + t] * x[index]
                    }
                    out.append(acc)
                }
            }
        }
        return out
    }

    /// The layer's output in fixed point, exactly as the circuit constrains it; an output
    /// outside the B-bit range is an error (the circuit would reject it).
    public func forward(_ x: [Int64]) throws(FixedPointError) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(outputCount)
        for (i, acc) in try accumulators(x).enumerated() {
            let q = format.rescale(acc)
            guard abs(q) <= format.maxMagnitude else {
                throw .overflow(layer: "conv2d", index: i, value: q, bits: format.valueBits)
            }
            out.append(relu ? max(q, 0) : q)
        }
        return out
    }

    /// Builds the circuit "y = conv(x; K, b)" for inputs the caller allocated (and bounded), with
    /// K and b new private inputs and y public outputs (or private when `publicOutputs` is false,
    /// for a layer whose outputs feed another layer in the same circuit). Each kernel weight and
    /// bias is one variable shared by every output position, so a commitment binds the layer with
    /// C_out * (C_in * k * k + 1) values. The parameters are NOT range-checked here: the caller
    /// bounds them (a commitment opening does, see `ConstraintSystem.openParameterCommitment`).
    ///
    /// Soundness: every product is one constraint on the shared weight variable and the input,
    /// each sum is a free linear combination, and `rescale` constrains both its hints (S-bit
    /// remainder, B-bit signed quotient), so each output is the unique floor of its accumulator,
    /// or no witness exists when it leaves the B-bit range. That reasoning reads the accumulator
    /// as an integer, so it needs bounded inputs and parameters (else a prover picks field values
    /// whose sums wrap around r to any target: the `forged-input` attack).
    /// Constraints: `constraintCount(publicOutputs:)`.
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, inputs xs: [LinearCombination<Fr>], publicOutputs: Bool = true,
        name: String = "conv"
    )
        -> (weights: [[Variable]], bias: [Variable], rescaled: [RescaledValue], outputs: [Variable])
    {
        precondition(xs.count == inputCount, "input has \(xs.count) values, the layer \(inputCount)")
        let field = receptiveField
        let k = (0..<outChannels).map { o in
            (0..<field).map { t in cs.allocatePrivateInput("\(name).K\(o).\(t)", value: Fr(weights[o * field + t])) }
        }
        let b = (0..<outChannels).map { o in cs.allocatePrivateInput("\(name).b\(o)", value: Fr(bias[o])) }
        var rescaled: [RescaledValue] = []
        var ys: [Variable] = []
        rescaled.reserveCapacity(outputCount)
        ys.reserveCapacity(outputCount)
        for o in 0..<outChannels {
            for i in 0..<outHeight {
                for j in 0..<outWidth {
                    let position = "\(name).o\(o).\(i).\(j)"
                    let patch = window(row: i, column: j).map { xs[$0] }
                    let acc = cs.denseAccumulators(
                        weights: [k[o]], input: patch, bias: [b[o]], format: format, position)[0]
                    let r = cs.rescale(acc, format: format, "\(position).rescale")
                    rescaled.append(r)
                    if relu {
                        ys.append(cs.relu(r, asPublic: publicOutputs, "\(position).y"))
                    } else if publicOutputs {
                        let y = cs.allocatePublic("\(position).y", value: cs.value(r.q))
                        cs.enforceEqual(LinearCombination(y), LinearCombination(r.q), "\(position).y")
                        ys.append(y)
                    } else {
                        ys.append(r.q)
                    }
                }
            }
        }
        return (k, b, rescaled, ys)
    }

    /// The stand-alone layer circuit: x allocated as private inputs range-checked to
    /// `inputLayout` (default: signed B-bit values), K and b range-checked to signed B bits, y
    /// public. Extra cost over `constraintCount`: (inputs) * (bits + 1) + (parameters) * (B + 1).
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, input x: [Int64], inputLayout: PackingLayout? = nil,
        publicOutputs: Bool = true, name: String = "conv"
    )
        -> (
            weights: [[Variable]], bias: [Variable], rescaled: [RescaledValue], outputs: [Variable],
            inputs: [LinearCombination<Fr>]
        )
    {
        precondition(x.count == inputCount, "input has \(x.count) values, the layer \(inputCount)")
        let xs = x.enumerated().map { j, v in
            LinearCombination<Fr>(cs.allocatePrivateInput("\(name).x\(j)", value: Fr(v)))
        }
        _ = cs.rangeCheckedPacking(xs, layout: inputLayout ?? ParameterCommitment.layout(format), "\(name).inputRange")
        let (k, b, rescaled, ys) = synthesize(into: cs, inputs: xs, publicOutputs: publicOutputs, name: name)
        _ = cs.rangeCheckedPacking(
            (k.flatMap { $0 } + b).map { LinearCombination<Fr>($0) }, layout: ParameterCommitment.layout(format),
            "\(name).parameterRange")
        return (k, b, rescaled, ys, xs)
    }

    /// The commitment to K and b (flattened kernel, then bias) that `synthesizeCommitted`
    /// proves an opening of; the owner of the weights publishes it.
    public func commitment(salt: Fr) throws(CommitmentError) -> Fr {
        try ParameterCommitment.commit(weights + bias, format: format, salt: salt)
    }

    /// `synthesize(into:inputs:)` plus a binding of K and b to a public Poseidon commitment (the
    /// first public output, before the layer's outputs; see `ConstraintSystem.committingParameters`,
    /// which also range-checks every parameter): the proof then says "y = conv(x; K, b) for the K,
    /// b under this commitment". Extra cost: `ParameterCommitment.constraintCount`.
    @discardableResult
    public func synthesizeCommitted(
        into cs: ConstraintSystem<Fr>, inputs xs: [LinearCombination<Fr>], salt: Fr,
        publicOutputs: Bool = true, name: String = "conv"
    ) throws(CommitmentError)
        -> (commitment: Variable, outputs: [Variable], rescaled: [RescaledValue])
    {
        let (commitment, result) = try cs.committingParameters(weights + bias, format: format, salt: salt, name: name) {
            let (k, b, rescaled, ys) = synthesize(into: cs, inputs: xs, publicOutputs: publicOutputs, name: name)
            return (k.flatMap { $0 } + b, (ys, rescaled))
        }
        return (commitment, result.0, result.1)
    }

    /// `synthesizeCommitted` with x allocated as private inputs range-checked to `inputLayout`
    /// (default: signed B-bit values).
    @discardableResult
    public func synthesizeCommitted(
        into cs: ConstraintSystem<Fr>, input x: [Int64], salt: Fr, inputLayout: PackingLayout? = nil,
        publicOutputs: Bool = true, name: String = "conv"
    ) throws(CommitmentError)
        -> (commitment: Variable, outputs: [Variable])
    {
        precondition(x.count == inputCount, "input has \(x.count) values, the layer \(inputCount)")
        let xs = x.enumerated().map { j, v in
            LinearCombination<Fr>(cs.allocatePrivateInput("\(name).x\(j)", value: Fr(v)))
        }
        _ = cs.rangeCheckedPacking(xs, layout: inputLayout ?? ParameterCommitment.layout(format), "\(name).inputRange")
        let (commitment, outputs, _) = try synthesizeCommitted(
            into: cs, inputs: xs, salt: salt, publicOutputs: publicOutputs, name: name)
        return (commitment, outputs)
    }
}
