import Algebra
import Circuit

/// Softmax in fixed point, natively and as a circuit, for the cross-entropy gradient
/// dL/dz = softmax(z) - y.
///
/// - max: M = max_i z_i as a chain of comparisons and selects (each determined by its inputs),
///   and M - z_i in [0, 2^B) range-checked for the exponentials below.
/// - exp: for d = z_i - M <= 0, e^d ~ (1 + d/2^8)^(2^8), computed at scale 2^(S+8) so the base
///   1 + d/256 is exact: base = 2^(S+8) + d, clamped at 0 by a ReLU (so d < -256 gives 0), squared
///   8 times with a rescale by 2^(S+8) after each square, then rescaled to 2^S.
///   Error (real units): |(1 + d/256)^256 - e^d| <= e^d d^2 / 512, at most 0.0011 for d in [-8, 0]
///   (its maximum is near d = -2), and below 3.4e-4 for d < -8; the floors after the 8 squarings
///   add at most 256 * 2^-(S+8) = 2^-S, and the final floor another 2^-S.
/// - p_i = floor(e_i 2^S / E) with E = sum_i e_i >= 2^S (the max element's e is exactly 2^S), as
///   e_i 2^S = p_i E + r_i with 0 <= r_i < E and p_i range-checked.
/// The native functions compute exactly what the constraints check.
public enum FixedPointSoftmax {
    static let halvings = 8

    /// e^(d / 2^S) at scale 2^S for d <= 0.
    public static func exp(_ d: Int64, format: FixedPointFormat) -> Int64 {
        let wide = Int64(format.fractionBits + halvings)
        var base = max(0, (Int64(1) << wide) + d)
        for _ in 0..<halvings { base = (base * base) >> wide }
        return base >> Int64(halvings)
    }

    /// floor(2^S softmax(z)) per class, at scale 2^S.
    public static func probabilities(_ z: [Int64], format: FixedPointFormat) -> [Int64] {
        guard let m = z.max() else { return [] }
        let e = z.map { exp($0 - m, format: format) }
        let total = e.reduce(0, +)
        return e.map { ($0 << Int64(format.fractionBits)) / total }
    }
}

extension ConstraintSystem where F == Fr {
    /// Constrains and returns p = floor(2^S softmax(z)) for the given logits (see
    /// `FixedPointSoftmax` for the construction and its error bound). Cost for m classes:
    /// about (m - 1) (B + 4) + m (B + 1) for the max, m (8 (S + B + 3) + 2B + 12) for the exponentials, and
    /// m (2 (B + S + 1) + B + 2) for the division.
    public func softmax(
        _ z: [LinearCombination<Fr>], format: FixedPointFormat, _ name: String = "softmax"
    ) -> [Variable] {
        withNamespace(name) {
            let s = format.fractionBits, b = format.valueBits
            // The running maximum m_{i+1} = (m_i < z_i) ? z_i : m_i, compared on B-bit values
            // shifted into [0, 2^B): each comparison and select is determined by its inputs, so
            // M is the unique maximum (no free hint).
            var offset = Fr.one
            for _ in 0..<(b - 1) { offset = offset.doubled() }
            var running = LinearCombination<Fr>(constant: .zero) + z[0]
            for i in 1..<z.count {
                let less = lessThan(running + offset, z[i] + offset, bits: b, "maxLess\(i)")
                running = LinearCombination(select(less, z[i], running, "maxSelect\(i)"))
            }
            let mVar = allocatePrivate("max", value: value(running))
            enforceEqual(LinearCombination(mVar), running, "max")
            let gaps = z.map { LinearCombination<Fr>(mVar) - $0 }
            for (i, gap) in gaps.enumerated() { assertRange(gap, bits: b, "gap\(i)") }

            var twoToS = Fr.one
            for _ in 0..<s { twoToS = twoToS.doubled() }
            let wideShift = s + FixedPointSoftmax.halvings
            var twoToWide = Fr.one
            for _ in 0..<wideShift { twoToWide = twoToWide.doubled() }
            let exps: [Variable] = gaps.enumerated().map { i, gap in
                // base = relu(2^(S+8) - gap): exact, then 8 squarings rescaled by 2^(S+8).
                let baseLC = LinearCombination<Fr>(constant: twoToWide) - gap
                let shifted = allocatePrivate("expBase\(i)", value: value(baseLC))
                enforceEqual(LinearCombination(shifted), baseLC, "expBase\(i)")
                // Clamp at 0 with the sign bit of a (B+1)-bit signed decomposition (the gap has B bits).
                let baseBits = bits(of: LinearCombination(shifted) + offset + offset, count: b + 1, "expSign\(i)")
                var current = relu(RescaledValue(q: shifted, nonNegative: baseBits[b]), asPublic: false, "expClamp\(i)")
                for k in 0..<FixedPointSoftmax.halvings {
                    let square = multiply(LinearCombination(current), LinearCombination(current), "expSquare\(i).\(k)")
                    current =
                        rescale(LinearCombination(square), shift: wideShift, format: format, "expRescale\(i).\(k)").q
                }
                return rescale(
                    LinearCombination(current), shift: FixedPointSoftmax.halvings, format: format, "expNarrow\(i)"
                ).q
            }
            let total = exps.reduce(LinearCombination<Fr>()) { $0 + LinearCombination($1) }
            let totalValue = value(total).signedInt64 ?? 1
            return exps.enumerated().map { i, e in
                let eValue = value(LinearCombination(e)).signedInt64 ?? 0
                let p = allocatePrivate("p\(i)", value: Fr((eValue << Int64(s)) / max(1, totalValue)))
                assertRange(LinearCombination(p), bits: b, "pRange\(i)")
                let pE = multiply(LinearCombination(p), total, "pTimesTotal\(i)")
                let remainder = LinearCombination(e, twoToS) - LinearCombination(pE)
                assertRange(remainder, bits: b + s, "remainderNonNegative\(i)")
                assertRange(total - remainder - LinearCombination<Fr>.one, bits: b + s, "remainderBelowTotal\(i)")
                return p
            }
        }
    }
}
