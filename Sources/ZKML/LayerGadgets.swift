import Algebra
import Circuit

extension Fr {
    /// The canonical value read as a signed integer (values above (r-1)/2 are negative), or
    /// nil when it does not fit in an Int64.
    public var signedInt64: Int64? {
        let (magnitude, negative) = MSM.fold(canonicalLimbs)
        guard magnitude.l1 == 0, magnitude.l2 == 0, magnitude.l3 == 0, magnitude.l0 <= UInt64(Int64.max) else {
            return nil
        }
        return negative ? -Int64(magnitude.l0) : Int64(magnitude.l0)
    }
}

/// The result of a rescale: q = floor(acc / 2^S), and the sign bit of q (1 iff q >= 0),
/// which ReLU reuses at the cost of one constraint.
public struct RescaledValue {
    public let q: Variable
    public let nonNegative: Variable
}

extension ConstraintSystem where F == Fr {
    /// q = floor(acc / 2^S) with acc = q * 2^S + r, where the prover's hints q and
    /// r = acc - q * 2^S are both constrained: r in [0, 2^S) by an S-bit decomposition and
    /// q + 2^(B-1) in [0, 2^B) by a B-bit decomposition (so q is a signed B-bit value).
    ///
    /// Soundness: q * 2^S + r ranges over fewer than 2^(B+S) <= 2^252 < r consecutive
    /// integers, so for any field value of acc at most one (q, r) pair satisfies the
    /// constraints: the floor, when acc is in range, and none otherwise. No witness-time
    /// assertion is relied on. Cost: S + B + 2 constraints.
    public func rescale(
        _ acc: LinearCombination<Fr>, format: FixedPointFormat, _ name: String = "rescale"
    ) -> RescaledValue {
        rescale(acc, shift: format.fractionBits, format: format, name)
    }

    /// q = floor(acc / 2^shift) with the same constraints as `rescale(_:format:)` but a remainder
    /// of `shift` bits (a learning rate 2^-k folds into the shift of an update: shift = S + k).
    /// Sound while B + shift <= 252. Cost: shift + B + 2 constraints.
    public func rescale(
        _ acc: LinearCombination<Fr>, shift: Int, format: FixedPointFormat,
        _ name: String = "rescale"
    ) -> RescaledValue {
        precondition(shift >= 1 && format.valueBits + shift <= 252, "rescale by 2^\(shift) is not sound in Fr")
        return withNamespace(name) {
            let accValue = value(acc).signedInt64 ?? Int64.max
            let qValue = accValue >> Int64(shift)
            let q = allocatePrivate("q", value: Fr(qValue))
            var twoToShift = Fr.one
            for _ in 0..<shift { twoToShift = twoToShift.doubled() }
            // r = acc - q * 2^shift as a linear combination: range-checked, never a free hint.
            _ = bits(of: acc - LinearCombination(q, twoToShift), count: shift, "remainder")
            var offset = Fr.one
            for _ in 0..<(format.valueBits - 1) { offset = offset.doubled() }
            let qBits = bits(of: LinearCombination(q) + offset, count: format.valueBits, "quotient")
            return RescaledValue(q: q, nonNegative: qBits[format.valueBits - 1])
        }
    }

    /// y = max(q, 0) = s * q with s the sign bit from `rescale` (1 constraint). `asPublic`
    /// allocates y as a public signal (activations sent in the clear).
    public func relu(_ x: RescaledValue, asPublic: Bool = false, _ name: String = "relu") -> Variable {
        let qv = value(x.q)
        let y = value(x.nonNegative).isZero ? Fr.zero : qv
        let out = asPublic ? allocatePublic(name, value: y) : allocatePrivate(name, value: y)
        enforce(LinearCombination(x.nonNegative), LinearCombination(x.q), LinearCombination(out), name)
        return out
    }

    /// acc_i = sum_j W_ij x_j + b_i * 2^S for every output i (the products at scale 2^(2S),
    /// the bias lifted to the same scale). One constraint per product W_ij * x_j, since both are
    /// private; the sums are free linear combinations. Returns the accumulators.
    public func denseAccumulators(
        weights: [[Variable]], input: [LinearCombination<Fr>], bias: [Variable],
        format: FixedPointFormat, _ name: String = "dense"
    ) -> [LinearCombination<Fr>] {
        var twoToS = Fr.one
        for _ in 0..<format.fractionBits { twoToS = twoToS.doubled() }
        return withNamespace(name) {
            weights.enumerated().map { i, row in
                var acc = LinearCombination<Fr>(bias[i], twoToS)
                for (j, w) in row.enumerated() {
                    acc += LinearCombination(multiply(LinearCombination(w), input[j], "w\(i)x\(j)"))
                }
                return acc
            }
        }
    }
}
