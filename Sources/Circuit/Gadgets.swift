import Algebra

/// The core gadgets. Each one computes its hints and constrains every one of them, and states
/// the bound under which it is sound. `F.maxSafeBits` is the largest n such that any sum of n
/// weighted bits sum b_i 2^i is below p (so bit decompositions of that length are unique):
/// for BN254's Fr (254-bit prime) it is 253.
extension ConstraintSystem {
    /// Number of bits a decomposition may have and still be unique in F: one less than the
    /// modulus's bit length (253 for Fr).
    public var maxSafeBits: Int { modulusBits - 1 }

    /// Constrains v to {0, 1}: v * (1 - v) = 0.
    public func assertBoolean(_ v: LinearCombination<F>, _ name: String = "boolean") {
        enforce(v, .one - v, .zero, name)
    }

    /// A new boolean variable with the given value, constrained to {0, 1}.
    public func allocateBit(_ name: String, value: Bool) -> Variable {
        let b = allocatePrivate(name, value: value ? .one : .zero)
        assertBoolean(LinearCombination(b), name + ".boolean")
        return b
    }

    /// sum_i bits[i] * 2^i (free: no constraints).
    public func pack(_ bits: [Variable]) -> LinearCombination<F> {
        var lc = LinearCombination<F>()
        var weight = F.one
        for b in bits {
            lc.terms.append((b, weight))
            weight = weight.doubled()
        }
        return lc
    }

    /// The n little-endian bits of v's canonical value, each boolean-constrained, and
    /// sum b_i 2^i == v. Cost: n + 1 constraints.
    ///
    /// Soundness: requires n <= maxSafeBits (253 for Fr); then the bits are unique and the
    /// gadget proves 0 <= v < 2^n. With n = 254 a second decomposition (v + p) would exist.
    /// Witness values of v >= 2^n make the honest witness unsatisfiable, which is the point.
    public func bits(of v: LinearCombination<F>, count n: Int, _ name: String = "bits") -> [Variable] {
        precondition(n >= 1 && n <= maxSafeBits, "bit decomposition of \(n) bits is not sound in this field")
        let value = self.value(v).bigInt
        return withNamespace(name) {
            let bits = (0..<n).map { allocateBit("b\($0)", value: value.bit($0)) }
            enforceEqual(pack(bits), v, "recompose")
            return bits
        }
    }

    /// Proves 0 <= v < 2^n (n + 1 constraints). Sound for n <= maxSafeBits.
    public func assertRange(_ v: LinearCombination<F>, bits n: Int, _ name: String = "range") {
        _ = bits(of: v, count: n, name)
    }

    /// out = a * b (one constraint).
    public func multiply(_ a: LinearCombination<F>, _ b: LinearCombination<F>, _ name: String = "mul") -> Variable {
        let out = allocatePrivate(name, value: value(a) * value(b))
        enforce(a, b, LinearCombination(out), name)
        return out
    }

    /// 1 / v, constrained by v * inv = 1; unsatisfiable when v = 0 (one constraint).
    public func inverse(_ v: LinearCombination<F>, _ name: String = "inverse") -> Variable {
        let inv = allocatePrivate(name, value: value(v).inverse() ?? .zero)
        enforce(v, LinearCombination(inv), .one, name)
        return inv
    }

    /// 1 if v == 0 else 0. Constraints: v * m = 1 - out and v * out = 0, with the hint
    /// m = 1/v (or 0). Sound for every v: if v != 0 the second forces out = 0 and then the
    /// first forces m = 1/v; if v = 0 the first forces out = 1. (2 constraints.)
    public func isZero(_ v: LinearCombination<F>, _ name: String = "isZero") -> Variable {
        withNamespace(name) {
            let x = value(v)
            let m = allocatePrivate("inverseHint", value: x.inverse() ?? .zero)
            let out = allocatePrivate("out", value: x.isZero ? .one : .zero)
            enforce(v, LinearCombination(m), .one - LinearCombination(out), "inverseOrOne")
            enforce(v, LinearCombination(out), .zero, "zeroWhenNonzero")
            return out
        }
    }

    /// 1 if a == b else 0 (2 constraints).
    public func isEqual(_ a: LinearCombination<F>, _ b: LinearCombination<F>, _ name: String = "isEqual") -> Variable {
        isZero(a - b, name)
    }

    /// condition ? a : b, as out - b = condition * (a - b). The condition must already be
    /// boolean-constrained (1 constraint).
    public func select(
        _ condition: Variable, _ a: LinearCombination<F>, _ b: LinearCombination<F>,
        _ name: String = "select"
    ) -> Variable {
        let c = value(condition)
        let out = allocatePrivate(name, value: c.isZero ? value(b) : value(a))
        enforce(LinearCombination(condition), a - b, LinearCombination(out) - b, name)
        return out
    }

    /// 1 if a < b else 0, for a, b already known to be in [0, 2^n).
    /// Decomposes d = a - b + 2^n into n + 1 bits; a < b exactly when the top bit is 0.
    /// Soundness: needs n + 1 <= maxSafeBits and the caller's range checks on a and b
    /// (without them, field wrap-around makes the answer meaningless). Cost n + 3 constraints.
    public func lessThan(
        _ a: LinearCombination<F>, _ b: LinearCombination<F>, bits n: Int,
        _ name: String = "lessThan"
    ) -> Variable {
        precondition(n + 1 <= maxSafeBits, "lessThan on \(n)-bit values is not sound in this field")
        return withNamespace(name) {
            var twoToN = F.one
            for _ in 0..<n { twoToN = twoToN.doubled() }
            let d = a - b + twoToN
            let bits = self.bits(of: d, count: n + 1, "difference")
            let out = allocatePrivate("out", value: value(LinearCombination(bits[n])).isZero ? .one : .zero)
            enforceEqual(LinearCombination(out), .one - LinearCombination(bits[n]), "topBitIsNotLess")
            return out
        }
    }
}
