import Algebra
import Circuit

/// The fixed-point gadgets of the batched step circuits, with range checks by lookup
/// (`LookupRangeTable`) instead of bit decompositions: a B-bit range check costs about B / 8
/// lookups (one constraint each, after the challenge) instead of B + 1 constraints.
///
/// Every hint these gadgets allocate (limbs, sign bits, quotients' parts) is a committed wire, so
/// it is fixed before the challenge, and every hint is pinned: limbs by the lookup argument
/// (soundness error (lookups + table) / |Fr| for the whole circuit), sign bits by a boolean
/// constraint, and each decomposition by one linear recomposition. The gadgets work before the
/// challenge; `LookupContext.finish` closes the argument after `drawChallenge`.
public final class LookupContext {
    public let table: LookupRangeTable<Fr>
    public let format: FixedPointFormat
    private var multiplicities: [Variable] = []

    public init(format: FixedPointFormat, limbBits: Int = 8) {
        self.format = format
        table = LookupRangeTable(limbBits: limbBits)
    }

    /// Commits the multiplicities: the last thing before `drawChallenge`.
    public func commit(in cs: ConstraintSystem<Fr>) {
        multiplicities = table.commitMultiplicities(in: cs)
    }

    /// The logUp identity at the challenge.
    public func finish(in cs: ConstraintSystem<Fr>, challenge: Variable) {
        table.prove(in: cs, multiplicities: multiplicities, challenge: challenge)
    }
}

/// A value proven to be an unsigned integer below 2^bits: its committed limbs and the linear
/// combination they recompose to.
public struct UnsignedLimbs {
    public let limbs: [LinearCombination<Fr>]
    public let value: LinearCombination<Fr>
}

/// A signed B-bit value as committed parts: v = low - (1 - s) 2^(B-1) with low in [0, 2^(B-1))
/// (limbs by lookup) and the sign bit s (1 iff v >= 0) boolean.
public struct SignedLimbs {
    public let value: LinearCombination<Fr>
    public let nonNegative: Variable
    /// v + 2^(B-1) = low + s 2^(B-1) as limbs of 8 bits (the packing of committed parameters).
    public let offsetValue: LinearCombination<Fr>
}

extension ConstraintSystem where F == Fr {
    /// Committed limbs of `value` (an integer in [0, 2^bits)) with range checks queued in the
    /// table, and their recomposition; no constraint before the challenge. A top limb of one or
    /// two bits is checked with boolean constraints instead of a lookup, a wider short top limb
    /// with two lookups (l and l + 2^w - 2^rest). Cost: ceil(bits / w) lookups, plus one for a
    /// short top limb of 3 or more bits.
    public func committedUnsigned(_ value: UInt64, bits: Int, _ context: LookupContext, _ name: String) -> UnsignedLimbs
    {
        precondition(bits >= 1 && bits <= 62, "unsigned range of \(bits) bits")
        let w = context.table.limbBits
        return withNamespace(name) {
            var limbs: [LinearCombination<Fr>] = []
            var total = LinearCombination<Fr>()
            var weight = Fr.one
            var done = 0
            while done < bits {
                let width = min(w, bits - done)
                let limbValue = Int((value >> UInt64(done)) & ((UInt64(1) << UInt64(width)) - 1))
                let limb: LinearCombination<Fr>
                if width <= 2 && width < w {
                    var part = LinearCombination<Fr>()
                    var bitWeight = Fr.one
                    for k in 0..<width {
                        let bit = allocateCommitted("bit\(done + k)", value: Fr(UInt64((limbValue >> k) & 1)))
                        assertBoolean(LinearCombination(bit), "bit\(done + k).boolean")
                        part += LinearCombination(bit, bitWeight)
                        bitWeight = bitWeight.doubled()
                    }
                    limb = part
                } else {
                    let variable = allocateCommitted("limb\(done / w)", value: Fr(UInt64(limbValue)))
                    limb = LinearCombination(variable)
                    context.table.enqueue(limb, value: limbValue)
                    if width < w {
                        let lift = (1 << w) - (1 << width)
                        context.table.enqueue(limb + Fr(UInt64(lift)), value: limbValue + lift)
                    }
                }
                limbs.append(limb)
                total += limb * weight
                for _ in 0..<width { weight = weight.doubled() }
                done += width
            }
            return UnsignedLimbs(limbs: limbs, value: total)
        }
    }

    /// A committed signed B-bit value (`SignedLimbs`): B - 1 bits by lookup and a sign bit.
    /// The caller pins `value` to what it must equal (one linear constraint).
    public func committedSigned(_ value: Int64, bits: Int, _ context: LookupContext, _ name: String) -> SignedLimbs {
        precondition(bits >= 2 && bits <= 62, "signed range of \(bits) bits")
        let half = Int64(1) << Int64(bits - 1)
        let nonNegative = value >= 0
        let low = UInt64(nonNegative ? value : value + half)
        return withNamespace(name) {
            let parts = committedUnsigned(low, bits: bits - 1, context, "low")
            let sign = allocateCommitted("sign", value: nonNegative ? .one : .zero)
            assertBoolean(LinearCombination(sign), "sign.boolean")
            // v = low - (1 - s) 2^(B-1) = low + s 2^(B-1) - 2^(B-1).
            let offset = parts.value + LinearCombination(sign, Fr(UInt64(half)))
            return SignedLimbs(value: offset - Fr(UInt64(half)), nonNegative: sign, offsetValue: offset)
        }
    }

    /// Proves `lc` (whose value is a signed B-bit integer) in range: `committedSigned` and the
    /// equality (one linear constraint). Returns its parts.
    @discardableResult
    public func lookupSignedRange(
        _ lc: LinearCombination<Fr>, bits: Int, _ context: LookupContext, _ name: String
    ) -> SignedLimbs {
        let v = value(lc).signedInt64 ?? Int64.max
        let parts = committedSigned(v, bits: bits, context, name)
        enforceEqual(parts.value, lc, "\(name).equals")
        return parts
    }

    /// q = floor(acc / 2^shift) with q a committed signed B-bit value and the remainder
    /// acc - q 2^shift range-checked to `shift` bits by lookup: both hints are pinned, so for any
    /// value of acc at most one q exists (acc = q 2^shift + r spans fewer than 2^(B + shift) <
    /// r values), and none when the floor leaves the B-bit range. Cost: one linear constraint,
    /// about (B - 1 + shift) / 8 + 1 lookups and one boolean.
    public func lookupRescale(
        _ acc: LinearCombination<Fr>, shift: Int, _ context: LookupContext,
        _ name: String
    ) -> (q: SignedLimbs, qValue: Int64) {
        let b = context.format.valueBits
        precondition(shift >= 1 && b + shift <= 252, "rescale by 2^\(shift) is not sound in Fr")
        let accValue = value(acc).signedInt64 ?? Int64.max
        let qValue = accValue >> Int64(shift)
        return withNamespace(name) {
            let q = committedSigned(qValue, bits: b, context, "q")
            let remainderValue = UInt64(bitPattern: accValue &- (qValue << Int64(shift)))
            let remainder = committedUnsigned(remainderValue, bits: shift, context, "r")
            var twoToShift = Fr.one
            for _ in 0..<shift { twoToShift = twoToShift.doubled() }
            enforceEqual(q.value * twoToShift + remainder.value, acc, "recompose")
            return (q, qValue)
        }
    }

    /// q = floor((x m + c) / 2^shift) for a wire m (a public input: the learning-rate
    /// multiplier) and a constant c: the product x m as its own wire (one constraint), then
    /// `lookupRescale` of x m + c, whose recomposition stays linear. Sound on `lookupRescale`'s
    /// argument when |x m + c| < 2^62 (the spec bounds it; a larger value gives no witness).
    public func lookupScaledRescale(
        _ x: LinearCombination<Fr>, times m: Variable, plus c: Int64, shift: Int, _ context: LookupContext,
        _ name: String
    ) -> SignedLimbs {
        let product = multiply(x, LinearCombination(m), "\(name).scaled")
        return lookupRescale(
            LinearCombination(product) + LinearCombination(constant: Fr(c)), shift: shift, context, name
        ).q
    }

    /// A batched SGD step, round(sum m / 2^shift) for the public learning-rate multiplier m
    /// (`BatchedStep.roundedShift` at the step's own shift). A shift of 0 (batch 1 at rate 1) has
    /// nothing to round: the multiplier is then pinned to 1 and the step is the sum.
    func roundedSGDStep(
        _ sum: LinearCombination<Fr>, rate: Variable, shift: Int, _ context: LookupContext, _ name: String
    ) -> LinearCombination<Fr> {
        guard shift > 0 else {
            enforceEqual(LinearCombination(rate), LinearCombination(constant: .one), "\(name).rate")
            return sum
        }
        return lookupScaledRescale(
            sum, times: rate, plus: BatchedStep.roundingOffset(shift), shift: shift, context, name
        ).value
    }

    /// Packs signed B-bit values that are already decomposed (`SignedLimbs`) for a commitment
    /// sponge: floor(253 / B) offset values per field element, as free linear combinations (the
    /// same packing as `ParameterCommitment`, so the same native commitment opens it).
    public func pack(_ values: [SignedLimbs], layout: PackingLayout) -> [LinearCombination<Fr>] {
        var out: [LinearCombination<Fr>] = []
        var element = LinearCombination<Fr>()
        var weight = Fr.one
        var shift = Fr.one
        for _ in 0..<layout.bits { shift = shift.doubled() }
        for (i, v) in values.enumerated() {
            element += v.offsetValue * weight
            weight *= shift
            if (i + 1) % layout.perElement == 0 {
                out.append(element)
                element = LinearCombination()
                weight = .one
            }
        }
        if values.count % layout.perElement != 0 { out.append(element) }
        return out
    }
}

extension ConstraintSystem where F == Fr {
    /// p = floor(2^S softmax(z)) for one sample's logits, as `ConstraintSystem.softmax` computes it
    /// (same native function, `FixedPointSoftmax.probabilities`), with every range check a lookup:
    /// the maximum as comparisons and selects, the exponential as (1 + d/256)^256 by eight
    /// squarings rescaled by 2^(S+8), and p_i = floor(e_i 2^S / E) by a Euclidean division with
    /// both remainder bounds range-checked. Returns p as committed signed values' linear
    /// combinations. Cost about 90 constraints per class (B = 24, S = 8) instead of about 600.
    public func lookupSoftmax(
        _ z: [LinearCombination<Fr>], _ context: LookupContext, _ name: String = "softmax"
    ) -> [LinearCombination<Fr>] {
        let f = context.format
        let s = f.fractionBits, b = f.valueBits
        return withNamespace(name) {
            // The maximum: running < z_i iff running - z_i (a (B+1)-bit signed value) is negative.
            var running = z[0]
            for i in 1..<z.count {
                let difference = lookupSignedRange(running - z[i], bits: b + 1, context, "compare\(i)")
                let pick = select(difference.nonNegative, running, z[i], "max\(i)")
                running = LinearCombination(pick)
            }
            let wideShift = s + FixedPointSoftmax.halvings
            var twoToWide = Fr.one
            for _ in 0..<wideShift { twoToWide = twoToWide.doubled() }
            var exps: [LinearCombination<Fr>] = []
            for (i, zi) in z.enumerated() {
                let gap = running - zi
                _ = committedUnsignedEqual(gap, bits: b, context, "gap\(i)")
                // base = relu(2^(S+8) - gap), a (B+1)-bit signed value clamped at 0.
                let base = lookupSignedRange(
                    LinearCombination<Fr>(constant: twoToWide) - gap, bits: b + 1, context, "base\(i)")
                var current = LinearCombination<Fr>(
                    multiply(LinearCombination<Fr>(base.nonNegative), base.value, "clamp\(i)"))
                for k in 0..<FixedPointSoftmax.halvings {
                    let square = multiply(current, current, "square\(i).\(k)")
                    current =
                        lookupRescale(LinearCombination(square), shift: wideShift, context, "rescale\(i).\(k)").q.value
                }
                exps.append(lookupRescale(current, shift: FixedPointSoftmax.halvings, context, "narrow\(i)").q.value)
            }
            let total = exps.reduce(LinearCombination<Fr>()) { $0 + $1 }
            let totalValue = value(total).signedInt64 ?? 1
            var twoToS = Fr.one
            for _ in 0..<s { twoToS = twoToS.doubled() }
            return exps.enumerated().map { i, e in
                let eValue = value(e).signedInt64 ?? 0
                let pValue = UInt64(max(0, (eValue << Int64(s)) / max(1, totalValue)))
                let p = committedUnsigned(pValue, bits: b, context, "p\(i)")
                let pE = multiply(p.value, total, "pTimesTotal\(i)")
                let remainder = e * twoToS - LinearCombination(pE)
                _ = committedUnsignedEqual(remainder, bits: b + s, context, "remainder\(i)")
                _ = committedUnsignedEqual(
                    total - remainder - LinearCombination<Fr>.one, bits: b + s, context, "belowTotal\(i)")
                return p.value
            }
        }
    }

    /// Range-checks an unsigned value given as a linear combination: committed limbs by lookup
    /// and their equality with `lc` (one linear constraint).
    @discardableResult
    public func committedUnsignedEqual(
        _ lc: LinearCombination<Fr>, bits: Int, _ context: LookupContext,
        _ name: String
    ) -> UnsignedLimbs {
        let v = value(lc).signedInt64.map { UInt64(bitPattern: $0) } ?? UInt64.max
        let parts = committedUnsigned(bits >= 64 ? v : v & ((UInt64(1) << UInt64(bits)) - 1), bits: bits, context, name)
        enforceEqual(parts.value, lc, "\(name).equals")
        return parts
    }
}
