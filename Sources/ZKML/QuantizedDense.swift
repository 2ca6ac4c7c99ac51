import Algebra
import Circuit
import Commitment

/// A fully connected layer in fixed point: y = act(floor((W x + b * 2^S) / 2^S)).
///
/// `forward` is the native execution the parties run; `prove` builds the circuit that checks
/// that very execution: it allocates the native intermediate values as the witness, so any
/// drift between the two makes the honest witness unsatisfiable (and the tests fail).
public struct QuantizedDense: Sendable, Equatable {
    public let inputs: Int
    public let outputs: Int
    /// Row-major W (outputs x inputs) and b, both at scale 2^S.
    public var weights: [Int64]
    public var bias: [Int64]
    public var relu: Bool
    public let format: FixedPointFormat

    public init(
        inputs: Int, outputs: Int, weights: [Int64], bias: [Int64], relu: Bool,
        format: FixedPointFormat
    ) throws(FixedPointError) {
        precondition(weights.count == inputs * outputs && bias.count == outputs, "weight shape mismatch")
        guard inputs + 1 <= format.maxDotProductLength else {
            throw .unsoundFormat(fractionBits: format.fractionBits, valueBits: format.valueBits)
        }
        for (i, w) in (weights + bias).enumerated() where abs(w) > format.maxMagnitude {
            throw .overflow(layer: "dense parameters", index: i, value: w, bits: format.valueBits)
        }
        self.inputs = inputs
        self.outputs = outputs
        self.weights = weights
        self.bias = bias
        self.relu = relu
        self.format = format
    }

    /// The accumulators acc_i = sum_j W_ij x_j + b_i 2^S (exact in Int64 for the formats
    /// `FixedPointFormat` admits with inputs of at most 2^(63 - 2(B-1)) terms).
    public func accumulators(_ x: [Int64]) -> [Int64] {
        precondition(x.count == inputs, "input has \(x.count) values, the layer \(inputs)")
        return (0..<outputs).map { i in
            var acc = bias[i] << Int64(format.fractionBits)
            let row = i * inputs
            for j in 0..<inputs { acc += weights[row + j] * x[j] }
            return acc
        }
    }

    /// The layer's output in fixed point, exactly as the circuit constrains it; an output
    /// outside the B-bit range is an error (the circuit would reject it).
    public func forward(_ x: [Int64]) throws(FixedPointError) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(outputs)
        for (i, acc) in accumulators(x).enumerated() {
            let q = format.rescale(acc)
            guard abs(q) <= format.maxMagnitude else {
                throw .overflow(layer: "dense", index: i, value: q, bits: format.valueBits)
            }
            out.append(relu ? max(q, 0) : q)
        }
        return out
    }

    /// Builds the circuit "y = layer(x; W, b)" for inputs the caller allocated (and bounded),
    /// with W and b new private inputs (returned so a commitment opening can bind and bound them;
    /// they are not range-checked here) and y public outputs.
    /// Constraints: outputs * inputs products + outputs * (S + B + 2 + [relu]) for rescale and ReLU.
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, inputs xs: [LinearCombination<Fr>], name: String = "dense"
    )
        -> (weights: [[Variable]], bias: [Variable], outputs: [Variable])
    {
        precondition(xs.count == inputs, "input has \(xs.count) values, the layer \(inputs)")
        let w = (0..<outputs).map { i in
            (0..<inputs).map { j in cs.allocatePrivateInput("\(name).W\(i).\(j)", value: Fr(weights[i * inputs + j])) }
        }
        let b = (0..<outputs).map { i in cs.allocatePrivateInput("\(name).b\(i)", value: Fr(bias[i])) }
        let accs = cs.denseAccumulators(weights: w, input: xs, bias: b, format: format, name)
        let ys = accs.enumerated().map { i, acc -> Variable in
            let r = cs.rescale(acc, format: format, "\(name).rescale\(i)")
            if relu { return cs.relu(r, asPublic: true, "\(name).y\(i)") }
            let y = cs.allocatePublic("\(name).y\(i)", value: cs.value(r.q))
            cs.enforceEqual(LinearCombination(y), LinearCombination(r.q), "\(name).y\(i)")
            return y
        }
        return (w, b, ys)
    }

    /// The stand-alone layer circuit: x private inputs range-checked to `inputLayout` (default:
    /// signed B-bit values), W and b range-checked to signed B bits, y public.
    @discardableResult
    public func synthesize(
        into cs: ConstraintSystem<Fr>, input x: [Int64], inputLayout: PackingLayout? = nil, name: String = "dense"
    )
        -> (weights: [[Variable]], bias: [Variable], outputs: [Variable])
    {
        let xs = allocateInputs(into: cs, x, layout: inputLayout, name: name)
        let (w, b, ys) = synthesize(into: cs, inputs: xs, name: name)
        _ = cs.rangeCheckedPacking(
            (w.flatMap { $0 } + b).map { LinearCombination<Fr>($0) }, layout: ParameterCommitment.layout(format),
            "\(name).parameterRange")
        return (w, b, ys)
    }

    func allocateInputs(
        into cs: ConstraintSystem<Fr>, _ x: [Int64], layout: PackingLayout?, name: String
    ) -> [LinearCombination<Fr>] {
        precondition(x.count == inputs, "input has \(x.count) values, the layer \(inputs)")
        let xs = x.enumerated().map { j, v in
            LinearCombination<Fr>(cs.allocatePrivateInput("\(name).x\(j)", value: Fr(v)))
        }
        _ = cs.rangeCheckedPacking(xs, layout: layout ?? ParameterCommitment.layout(format), "\(name).inputRange")
        return xs
    }

    /// The stand-alone layer circuit with W and b bound to a public Poseidon commitment (which
    /// also range-checks them, see `ConstraintSystem.committingParameters`): the proof then says
    /// "y = layer(x; W, b) for the W, b under this commitment".
    /// Extra cost: `ParameterCommitment.constraintCount` for outputs * (inputs + 1) parameters.
    @discardableResult
    public func synthesizeCommitted(
        into cs: ConstraintSystem<Fr>, input x: [Int64], salt: Fr, inputLayout: PackingLayout? = nil,
        name: String = "dense"
    ) throws(CommitmentError) -> (commitment: Variable, outputs: [Variable]) {
        let xs = allocateInputs(into: cs, x, layout: inputLayout, name: name)
        let (commitment, outputs) = try cs.committingParameters(weights + bias, format: format, salt: salt, name: name)
        {
            let (w, b, ys) = synthesize(into: cs, inputs: xs, name: name)
            return (w.flatMap { $0 } + b, ys)
        }
        return (commitment, outputs)
    }
}
