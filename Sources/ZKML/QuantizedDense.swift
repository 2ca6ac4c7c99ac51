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

    public init(inputs: Int, outputs: Int, weights: [Int64], bias: [Int64], relu: Bool,
                format: FixedPointFormat) throws(FixedPointError) {
        precondition(weights.count == inputs * outputs && bias.count == outputs, "weight shape mismatch")
        guard inputs + 1 <= format.maxDotProductLength else {
            throw .unsoundFormat(fractionBits: format.fractionBits, valueBits: format.valueBits)
        }
        for (i, w) in (weights + bias).enumerated() where abs(w) > format.maxMagnitude {
            throw .overflow(layer: "dense parameters", index: i, value: w, bits: format.valueBits)
        }
        self.inputs = inputs; self.outputs = outputs
        self.weights = weights; self.bias = bias; self.relu = relu; self.format = format
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

    /// Builds the circuit "y = layer(x; W, b)" with x, W, b private and y public, allocating
    /// W and b as private variables (returned so a commitment gadget can bind them).
    /// Constraints: outputs * inputs products + outputs * (S + B + 2 + [relu]) for rescale and ReLU.
    @discardableResult
    public func synthesize(into cs: ConstraintSystem<Fr>, input x: [Int64], name: String = "dense")
        -> (weights: [[Variable]], bias: [Variable], outputs: [Variable])
    {
        let xs = x.enumerated().map { j, v in LinearCombination<Fr>(cs.allocatePrivate("\(name).x\(j)", value: Fr(v))) }
        let w = (0..<outputs).map { i in
            (0..<inputs).map { j in cs.allocatePrivate("\(name).W\(i).\(j)", value: Fr(weights[i * inputs + j])) }
        }
        let b = (0..<outputs).map { i in cs.allocatePrivate("\(name).b\(i)", value: Fr(bias[i])) }
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

    /// `synthesize` plus a binding of W and b to a public Poseidon commitment (sponge of width
    /// 17 over the flattened W, b and a private salt): the proof then says "y = layer(x; W, b)
    /// for the W, b under this commitment". Extra cost: ceil((n + 1) / 16) permutations of 612
    /// constraints for n = outputs * (inputs + 1) parameters (1.92M for 784 x 64).
    @discardableResult
    public func synthesizeCommitted(into cs: ConstraintSystem<Fr>, input x: [Int64], salt: Fr,
                                    name: String = "dense") throws(PoseidonError) -> (commitment: Variable, outputs: [Variable]) {
        let (commitment, outputs) = try cs.committingParameters(weights + bias, salt: salt, name: name) {
            let (w, b, ys) = synthesize(into: cs, input: x, name: name)
            return (w.flatMap { $0 } + b, ys)
        }
        return (commitment, outputs)
    }
}
