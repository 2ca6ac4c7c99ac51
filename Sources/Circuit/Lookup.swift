import Algebra

/// Range checks by lookup: every checked value is split into committed limbs of `limbBits`
/// bits, each limb is looked up in the table {0, ..., 2^limbBits - 1}, and one logarithmic-
/// derivative argument (Haböck 2022, "logUp") proves all lookups at once after the challenge r:
///
///     sum_i 1 / (r - v_i) = sum_t m_t / (r - t)
///
/// with the limbs v_i and the multiplicities m_t committed before r is drawn.
///
/// Soundness: both sides are rational functions of r; if some v_i is not in the table, the left
/// side has a pole the right side lacks (the multiplicities are counts below the field's
/// characteristic), so they differ as rational functions and agree at a random r with
/// probability at most (n + T) / |F| for n lookups and T table entries (about 2^-230 here).
/// The committed limbs are fixed before r (they are bound by the proof's commitment), which is
/// what the argument needs. Cost: 1 constraint per lookup and 1 per table entry after the
/// challenge, 1 for the sum; before it, no constraint for a limb (its recomposition is linear).
public final class LookupRangeTable<F: PrimeField> {
    public let limbBits: Int
    /// The queued limbs (linear combinations of committed wires) and their values.
    private var limbs: [LinearCombination<F>] = []
    private var values: [Int] = []
    private var counts: [UInt64]
    private var finished = false

    public init(limbBits: Int = 8) {
        precondition((1...16).contains(limbBits), "table of 2^\(limbBits) entries")
        self.limbBits = limbBits
        counts = [UInt64](repeating: 0, count: 1 << limbBits)
    }

    public var tableSize: Int { 1 << limbBits }
    public var lookupCount: Int { limbs.count }

    /// Queues the lookup of `limb` (value in 0..<2^limbBits for an honest prover). The limb must
    /// be a committed wire or a linear combination of committed wires and constants.
    public func enqueue(_ limb: LinearCombination<F>, value: Int) {
        precondition(!finished, "the lookup argument is already closed")
        limbs.append(limb)
        values.append(value)
        if value >= 0 && value < counts.count { counts[value] += 1 }
    }

    /// Commits the multiplicities (before the challenge). Call once, after the last lookup is
    /// queued and before `ConstraintSystem.drawChallenge`.
    public func commitMultiplicities(in cs: ConstraintSystem<F>, _ name: String = "lookup") -> [Variable] {
        precondition(!finished, "multiplicities already committed")
        finished = true
        return cs.withNamespace(name) {
            counts.enumerated().map { t, m in cs.allocateCommitted("m\(t)", value: F(m)) }
        }
    }

    /// The logUp identity at the challenge (after `drawChallenge`): one inverse per lookup and
    /// per table entry, and the equality of the two sums.
    public func prove(
        in cs: ConstraintSystem<F>, multiplicities: [Variable], challenge: Variable, _ name: String = "lookup"
    ) {
        precondition(finished && multiplicities.count == tableSize, "commit the multiplicities first")
        let r = LinearCombination<F>(challenge)
        // 1 / (r - t) for every table entry by one batch inversion: an honest limb is some t, so
        // its inverse is a table read, not a field inversion (which was a quarter of a batched
        // proof's time). A zero denominator (r in the table) keeps the zero witness it had.
        let rValue = cs.value(challenge)
        var inverses = (0..<tableSize).map { rValue - F(UInt64($0)) }
        F.batchInvert(&inverses)
        // The inverses (full-size field elements) sit on the A side of their constraints: a wire
        // in B is paid twice by the prover, in the G1 and the G2 MSM of B (a G2 point costs about
        // three G1 points), while every inverse is in A anyway through the sums' equality.
        cs.withNamespace(name) {
            // The denominators' terms are written directly and every inverse's constraint shares
            // one name ("inv"; a violation still reports its index): per lookup this is one
            // wire, one constraint and no linear-combination arithmetic, since the lookups
            // (about 1,200 per sample in a batched server step) dominate the circuit's synthesis.
            var leftTerms: [(variable: Variable, coefficient: F)] = []
            leftTerms.reserveCapacity(limbs.count)
            for (i, limb) in limbs.enumerated() {
                var denominator = [(variable: Variable, coefficient: F)]()
                denominator.reserveCapacity(limb.terms.count + 1)
                denominator.append((challenge, .one))
                for term in limb.terms { denominator.append((term.variable, -term.coefficient)) }
                let value = values[i]
                let limbValue = cs.value(limb)
                let inverse = cs.allocatePrivate(
                    "inv\(i)",
                    value: (0..<tableSize).contains(value) && limbValue == F(UInt64(value))
                        ? inverses[value] : (rValue - limbValue).inverse() ?? .zero)
                cs.enforce(LinearCombination(inverse), LinearCombination(terms: denominator), .one, "inv")
                leftTerms.append((inverse, .one))
            }
            let left = LinearCombination<F>(terms: leftTerms)
            var right = LinearCombination<F>()
            for t in 0..<tableSize {
                let denominator = r - F(UInt64(t))
                let m = LinearCombination<F>(multiplicities[t])
                let quotient = cs.allocatePrivate("table\(t)", value: inverses[t] * cs.value(m))
                cs.enforce(LinearCombination(quotient), denominator, m, "table\(t)")
                right += LinearCombination(quotient)
            }
            cs.enforceEqual(left, right, "sums")
        }
    }
}

extension ConstraintSystem {
    /// Proves 0 <= v < 2^bits by lookup (before the challenge): v's limbs become committed wires
    /// and are queued in `table`; v must equal their recomposition (one linear constraint).
    /// A top limb of fewer than `limbBits` bits is looked up twice, as l and l + 2^limbBits -
    /// 2^rest, so that it is below 2^rest. Cost after the challenge: one constraint per lookup,
    /// ceil(bits / limbBits) lookups (+1 for a short top limb); before: one linear constraint.
    /// Returns the limbs (least significant first).
    @discardableResult
    public func lookupRange(
        _ v: LinearCombination<F>, bits: Int, table: LookupRangeTable<F>, _ name: String = "range"
    ) -> [Variable] {
        precondition(bits >= 1 && bits <= maxSafeBits, "range of \(bits) bits is not sound in this field")
        let value = self.value(v).bigInt
        let w = table.limbBits
        return withNamespace(name) {
            var limbs: [Variable] = []
            var recomposed = LinearCombination<F>()
            var weight = F.one
            var shift = F.one
            for _ in 0..<w { shift = shift.doubled() }
            var done = 0
            var index = 0
            while done < bits {
                let width = min(w, bits - done)
                var limbValue = 0
                for k in 0..<width where value.bit(done + k) { limbValue |= 1 << k }
                let limb = allocateCommitted("limb\(index)", value: F(UInt64(limbValue)))
                table.enqueue(LinearCombination(limb), value: limbValue)
                if width < w {
                    // l < 2^width  <=>  l + 2^w - 2^width < 2^w, given l in [0, 2^w).
                    let lift = (1 << w) - (1 << width)
                    table.enqueue(LinearCombination(limb) + F(UInt64(lift)), value: limbValue + lift)
                }
                recomposed += LinearCombination(limb, weight)
                weight *= shift
                limbs.append(limb)
                done += width
                index += 1
            }
            enforceEqual(recomposed, v, "recompose")
            return limbs
        }
    }

    /// ρ^0, ..., ρ^(count-1) of the challenge (count - 2 constraints): the random coefficients of
    /// Freivalds checks and random linear combinations.
    public func challengePowers(_ challenge: Variable, count: Int, _ name: String = "powers") -> [LinearCombination<F>]
    {
        guard count > 0 else { return [] }
        return withNamespace(name) {
            var out: [LinearCombination<F>] = [.one]
            if count > 1 { out.append(LinearCombination(challenge)) }
            while out.count < count {
                out.append(
                    LinearCombination(multiply(out[out.count - 1], LinearCombination(challenge), "p\(out.count)")))
            }
            return out
        }
    }
}
