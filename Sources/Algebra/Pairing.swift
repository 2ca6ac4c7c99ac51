import CAlgebraKernels

/// The coefficients of one Miller-loop line on the D-type twist, before evaluation at a G1
/// point P = (xP, yP): the line's value is (c0 * yP) + (c1 * xP) w + c2 v w, a sparse Fq12
/// element multiplied in with `Fq12.mulBy034`. Factors in Fq2 that the formulas drop are
/// killed by the final exponentiation.
@frozen
public struct LineCoefficients: Sendable, Hashable {
    public var c0: Fq2
    public var c1: Fq2
    public var c2: Fq2

    @inlinable @inline(__always)
    public init(_ c0: Fq2, _ c1: Fq2, _ c2: Fq2) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }
}

/// A G2 point with every Miller-loop line precomputed (one per doubling, one per addition,
/// two final lines): about 87 lines, ~16 KB. A verifier with fixed G2 points (Groth16's
/// [beta]2, [gamma]2, [delta]2) prepares them once and reuses them for every proof.
public struct G2Prepared: Sendable {
    /// The line coefficients in Miller-loop order; empty for the point at infinity.
    public let lines: [LineCoefficients]
    /// Whether the lines are in the affine form (each divided by its c0, so c0 = 1): see
    /// `init(_:affineLines:)`.
    public let isAffine: Bool
    public var isInfinity: Bool { lines.isEmpty }

    /// With `affineLines`, every line is divided by its c0 (one batch inversion, about five
    /// Fq2 multiplications per line, paid once): a line evaluated at P is then, divided by yP,
    /// 1 + (c1 xP/yP) w + (c2/yP) v w, whose product with the Miller-loop value costs 10 Fq2
    /// multiplications instead of 13 (the C kernel does this; 1/yP is one batch inversion per
    /// Miller loop). Factors in Fq2 are removed by the final exponentiation, so pairings are
    /// unchanged; Miller-loop values are not (compare them after `finalExponentiation`). For
    /// fixed points (verifying keys); a fresh point is cheaper in the projective form. Falls
    /// back to the projective form if some c0 is zero (impossible for points of G2).
    public init(_ q: G2Affine, affineLines: Bool) {
        let projective = G2Prepared(q)
        guard affineLines, !projective.isInfinity else {
            self = projective
            return
        }
        var inverses = projective.lines.map { $0.c0 }
        guard !inverses.contains(where: { $0.isZero }) else {
            self = projective
            return
        }
        Fq2.batchInvert(&inverses)
        lines = zip(projective.lines, inverses).map { line, inverse in
            LineCoefficients(.one, line.c1 * inverse, line.c2 * inverse)
        }
        isAffine = true
    }

    /// Runs the optimal ate loop over Q (homogeneous projective coordinates, no inversions)
    /// and records each line. Q is used as given: callers must pass points that are in G2
    /// (`G2Affine.validated`); for points outside G2 the result is meaningless but finite.
    /// The C kernel computes the lines when the ADX field kernel is in use, else
    /// `portableLines`; both give the same lines.
    public init(_ q: G2Affine) {
        isAffine = false
        if q.isInfinity {
            lines = []
            return
        }
        if FieldKernel.current == .adx {
            let q1 = G2Parameters.psi(q)
            let q2 = -G2Parameters.psi(q1)
            let points = [q.x, q.y, q1.x, q1.y, q2.x, q2.y]
            let digits = Pairing.loopDigits
            lines = [LineCoefficients](unsafeUninitializedCapacity: Pairing.lineCount) { buffer, count in
                points.withUnsafeBufferPointer { p in
                    vs_bn254_g2_prepare(
                        buffer.baseAddress, p.baseAddress, p.baseAddress.map { $0 + 2 },
                        p.baseAddress.map { $0 + 4 }, digits, digits.count)
                }
                count = Pairing.lineCount
            }
        } else {
            lines = G2Prepared.portableLines(q)
        }
    }

    /// The lines of a finite Q in Swift (the fallback without BMI2/ADX and the reference the C
    /// kernel is tested against).
    public static func portableLines(_ q: G2Affine) -> [LineCoefficients] {
        var lines: [LineCoefficients] = []
        lines.reserveCapacity(Pairing.lineCount)
        var r = G2HomogeneousPoint(x: q.x, y: q.y, z: .one)
        let negQ = -q
        let threeB = G2Parameters.b.doubled() + G2Parameters.b
        for digit in Pairing.loopDigits {
            lines.append(r.doublingStep(threeB: threeB))
            if digit == 1 {
                lines.append(r.additionStep(q))
            } else if digit == -1 {
                lines.append(r.additionStep(negQ))
            }
        }
        // The two extra lines of the optimal ate pairing for BN curves (Vercauteren, "Optimal
        // pairings", IEEE TIT 2010): with R = [6x+2]Q, the lines through
        // (R, psi(Q)) and (R + psi(Q), -psi^2(Q)).
        let q1 = G2Parameters.psi(q)
        let q2 = -G2Parameters.psi(q1)
        lines.append(r.additionStep(q1))
        lines.append(r.additionStep(q2))
        return lines
    }
}

/// A point of the twist in homogeneous projective coordinates (x = X/Z, y = Y/Z), the
/// representation for which Aranha et al. give the cheapest combined step-and-line formulas.
@frozen
@usableFromInline
struct G2HomogeneousPoint {
    @usableFromInline var x: Fq2
    @usableFromInline var y: Fq2
    @usableFromInline var z: Fq2

    @inlinable
    init(x: Fq2, y: Fq2, z: Fq2) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// R <- 2R and the tangent line at R. Aranha, Karabina, Longa, Gebotys, López, "Faster
    /// Explicit Formulas for Computing Pairings over Ordinary Curves" (Eurocrypt 2011),
    /// Section 4, doubling in homogeneous coordinates (for b' = 3/xi, `threeB` = 3b'):
    ///   A = XY/2, B = Y^2, C = Z^2, E = 3b'C, F = 3E, G = (B+F)/2, H = (Y+Z)^2 - B - C,
    ///   X3 = A(B - F), Y3 = G^2 - 3E^2, Z3 = BH,
    /// line (D-twist) = -H yP + 3X^2 xP w + (E - B) v w.
    @inlinable
    mutating func doublingStep(threeB: Fq2) -> LineCoefficients {
        let a = (x * y) * Pairing.twoInverse
        let b = y.squared()
        let c = z.squared()
        let e = c * threeB
        let f = e.doubled() + e
        let g = (b + f) * Pairing.twoInverse
        let h = (y + z).squared() - (b + c)
        let i = e - b
        let j = x.squared()
        let eSquared = e.squared()
        x = a * (b - f)
        y = g.squared() - (eSquared.doubled() + eSquared)
        z = b * h
        return LineCoefficients(-h, j.doubled() + j, i)
    }

    /// R <- R + Q (Q affine) and the line through R and Q; same source as `doublingStep`
    /// (mixed addition in homogeneous coordinates):
    ///   theta = Y - yQ Z, lambda = X - xQ Z, C = theta^2, D = lambda^2, E = lambda D,
    ///   F = Z C, G = X D, H = E + F - 2G, X3 = lambda H, Y3 = theta (G - H) - E Y, Z3 = Z E,
    /// line (D-twist) = lambda yP - theta xP w + (theta xQ - lambda yQ) v w.
    @inlinable
    mutating func additionStep(_ q: G2Affine) -> LineCoefficients {
        let theta = y - q.y * z
        let lambda = x - q.x * z
        let c = theta.squared()
        let d = lambda.squared()
        let e = lambda * d
        let f = z * c
        let g = x * d
        let h = e + f - g.doubled()
        x = lambda * h
        y = theta * (g - h) - e * y
        z = z * e
        let j = theta * q.x - lambda * q.y
        return LineCoefficients(lambda, -theta, j)
    }
}

/// The optimal ate pairing on BN254 (Vercauteren 2010), e: G1 x G2 -> GT in Fq12, with the
/// Miller loop over 6x+2 (x = 4965661367192848881) and a final exponentiation to the power
/// (q^12 - 1)/r * 2x(6x^2+3x+1) (Fuentes-Castañeda, Knapp, Rodríguez-Henríquez, "Faster
/// Hashing to G2", SAC 2011); that fixed multiple of the textbook exponent is coprime to r, so
/// the map is still a non-degenerate bilinear pairing and `pairingCheck` is unaffected.
public enum Pairing {
    /// The BN parameter x (positive for BN254).
    public static let x: UInt64 = 4_965_661_367_192_848_881

    /// Signed digits of 6x+2, most significant first, without the leading 1. A non-adjacent
    /// form, except that a leading 1,0,-1 (= 3) is rewritten as 1,1: same weight, one doubling
    /// fewer (65 digits, 21 nonzero for BN254).
    public static let loopDigits: [Int8] = {
        var digits = nonAdjacentForm(BigInt(6) * BigInt(x) + BigInt(2))
        if digits.count >= 3, digits[0] == 1, digits[1] == 0, digits[2] == -1 {
            digits.replaceSubrange(0..<3, with: [1, 1])
        }
        return Array(digits.dropFirst())
    }()

    /// Signed digits of x, most significant first (for the cyclotomic exponentiation).
    public static let xDigits: [Int8] = nonAdjacentForm(BigInt(x))

    /// Number of lines in a `G2Prepared`.
    public static let lineCount: Int = loopDigits.count + loopDigits.filter { $0 != 0 }.count + 2

    /// 1/2 in Fq, used by the doubling formulas.
    public static let twoInverse: Fq = {
        guard let inv = Fq(UInt64(2)).inverse() else { preconditionFailure("2 is invertible in Fq") }
        return inv
    }()

    /// The non-adjacent form of a positive integer, most significant digit first.
    static func nonAdjacentForm(_ value: BigInt) -> [Int8] {
        var k = value
        var digits: [Int8] = []
        while k.signum > 0 {
            var digit: Int8 = 0
            if k.bit(0) {
                digit = k.bit(1) ? -1 : 1
                k = k - BigInt(Int(digit))
            }
            digits.append(digit)
            k = k >> 1
        }
        return digits.reversed()
    }

    /// e(P, Q). Either point at infinity gives 1.
    public static func pairing(_ p: G1Affine, _ q: G2Affine) -> Fq12 {
        finalExponentiation(multiMillerLoop([(p, G2Prepared(q))]))
    }

    /// The product of the Miller-loop values f_{6x+2,Q}(P) * lines(psi(Q), -psi^2(Q)) over all
    /// pairs, sharing one Fq12 squaring per step across the pairs. Pairs with a point at
    /// infinity contribute 1. The result still needs `finalExponentiation`.
    /// The C kernel runs the loop when the ADX field kernel is in use, else
    /// `portableMultiMillerLoop`; both give the same value.
    public static func multiMillerLoop(_ pairs: [(G1Affine, G2Prepared)]) -> Fq12 {
        let active = pairs.filter { !$0.0.isInfinity && !$0.1.isInfinity }
        if active.isEmpty { return .one }
        let lineTables = active.map { $0.1.lines }
        guard FieldKernel.current == .adx else {
            return portableMultiMillerLoop(active.map { $0.0 }, lineTables)
        }
        // Affine-form pairs take (xP/yP, 1/yP): one batch inversion for all of them. yP != 0
        // for every point of G1 (no point of odd order has y = 0); should an unvalidated point
        // have y = 0 anyway, its pair keeps the projective evaluation, which is always defined.
        let affine = active.map { UInt8($0.1.isAffine && !$0.0.y.isZero ? 1 : 0) }
        var yInverses = active.indices.filter { affine[$0] == 1 }.map { active[$0].0.y }
        batchInvertPublic(&yInverses)
        var coordinates: [Fq] = []
        coordinates.reserveCapacity(2 * active.count)
        var next = 0
        for (i, (p, _)) in active.enumerated() {
            if affine[i] == 1 {
                coordinates.append(p.x * yInverses[next])
                coordinates.append(yInverses[next])
                next += 1
            } else {
                coordinates.append(p.x)
                coordinates.append(p.y)
            }
        }
        var f = Fq12.one
        var pointers: [UnsafeRawPointer?] = []
        pointers.reserveCapacity(lineTables.count)
        withLinePointers(lineTables[...], &pointers) { tables in
            vs_bn254_miller_loop(
                &f, coordinates, tables, affine, lineTables.count, loopDigits, loopDigits.count)
        }
        return f
    }

    /// `Fq.batchInvert` with its one field inversion done by the C kernel's variable-time binary
    /// inversion (`vs_bn254_fq_inverse`: about 1.5 us instead of the 6 us or more of Fermat's 254
    /// squarings). Only for public values (a pairing's G1 coordinates) and only with the ADX
    /// kernel selected, which the caller checks. Zero entries are left as they are, as in
    /// `batchInvert`; 3 (n - 1) products and one inversion for n values. Tested through
    /// `multiMillerLoop`, whose value must equal the portable loop's (which uses `batchInvert`).
    /// Without a nonzero entry there is nothing to invert, and the inversion (of 1) is skipped:
    /// the case of every pairing without affine-form lines.
    static func batchInvertPublic(_ values: inout [Fq]) {
        guard values.contains(where: { !$0.isZero }) else { return }
        var prefix = [Fq](repeating: .one, count: values.count)
        var product = Fq.one
        for i in values.indices {
            prefix[i] = product
            if !values[i].isZero { product = product * values[i] }
        }
        var inverse = Fq.zero
        guard vs_bn254_fq_inverse(&inverse, &product) == 1 else { return }
        for i in values.indices.reversed() where !values[i].isZero {
            let v = values[i]
            values[i] = inverse * prefix[i]
            inverse = inverse * v
        }
    }

    /// Runs `body` with the base addresses of every line table (nested `withUnsafeBytes`, so each
    /// pointer stays valid for the whole call).
    static func withLinePointers(
        _ tables: ArraySlice<[LineCoefficients]>, _ pointers: inout [UnsafeRawPointer?],
        _ body: ([UnsafeRawPointer?]) -> Void
    ) {
        guard let first = tables.first else {
            body(pointers)
            return
        }
        first.withUnsafeBytes { buffer in
            pointers.append(buffer.baseAddress)
            withLinePointers(tables.dropFirst(), &pointers, body)
        }
    }

    /// The Miller loop in Swift over pairs without points at infinity (the fallback without
    /// BMI2/ADX and the reference the C kernel is tested against).
    public static func portableMultiMillerLoop(_ points: [G1Affine], _ lineTables: [[LineCoefficients]]) -> Fq12 {
        if points.isEmpty { return .one }
        var f = Fq12.one
        var index = 0
        for (step, digit) in loopDigits.enumerated() {
            if step != 0 { f = f.squared() }
            evaluateLines(&f, points, lineTables, index)
            index += 1
            if digit != 0 {
                evaluateLines(&f, points, lineTables, index)
                index += 1
            }
        }
        evaluateLines(&f, points, lineTables, index)
        evaluateLines(&f, points, lineTables, index + 1)
        return f
    }

    /// f <- f * prod_i line_i(P_i) for line number `index` of every pair.
    @inlinable @inline(__always)
    static func evaluateLines(
        _ f: inout Fq12, _ points: [G1Affine], _ lineTables: [[LineCoefficients]],
        _ index: Int
    ) {
        for i in points.indices {
            let p = points[i]
            let line = lineTables[i][index]
            f = f.mulBy034(line.c0 * p.y, line.c1 * p.x, line.c2)
        }
    }

    /// f^((q^12-1)/r * 2x(6x^2+3x+1)). Easy part f^((q^6-1)(q^2+1)) with one inversion and a
    /// Frobenius map; hard part with the addition chain of Fuentes-Castañeda et al. (SAC 2011,
    /// the BN-curve case): three exponentiations by x, cyclotomic squarings, and
    /// Frobenius maps, for the exponent
    ///   l0 + l1 q + l2 q^2 + l3 q^3 with l0 = 12x^3+12x^2+6x+1, l1 = 12x^3+6x^2+4x,
    ///   l2 = 12x^3+6x^2+6x, l3 = 12x^3+6x^2+4x-1  (= 2x(6x^2+3x+1)(q^4-q^2+1)/r).
    /// A zero input (impossible for valid points) maps to zero, which no check accepts.
    /// The C kernel runs the same chain when the ADX field kernel is in use, else
    /// `portableFinalExponentiation`.
    public static func finalExponentiation(_ f: Fq12) -> Fq12 {
        guard FieldKernel.current == .adx else { return portableFinalExponentiation(f) }
        var r = Fq12.zero, x = f
        _ = vs_bn254_final_exponentiation(&r, &x, xDigits, xDigits.count)
        return r
    }

    /// The final exponentiation in Swift.
    public static func portableFinalExponentiation(_ f: Fq12) -> Fq12 {
        guard let inverse = f.inverse() else { return .zero }
        var r = f.conjugate * inverse  // f^(q^6-1)
        r = r.frobenius(2) * r  // ^(q^2+1): now in the cyclotomic subgroup

        let y0 = powerByNegativeX(r)
        let y1 = y0.cyclotomicSquared()
        let y2 = y1.cyclotomicSquared()
        let y3 = y2 * y1  // r^(-6x)
        let y4 = powerByNegativeX(y3)  // r^(6x^2)
        let y5 = y4.cyclotomicSquared()
        let y6 = powerByNegativeX(y5).conjugate  // r^(12x^3)
        let y7 = y6 * y4
        let y8 = y7 * y3.conjugate  // r^(12x^3+6x^2+6x) = r^l2
        let y9 = y8 * y1  // r^l1
        let y11 = y8 * y4 * r  // r^l0
        let y13 = y9.frobenius(1) * y11
        let y14 = y8.frobenius(2) * y13
        let y15 = (r.conjugate * y9).frobenius(3)  // r^(l3 q^3)
        return y15 * y14
    }

    /// a^(-x) for a cyclotomic a: NAF square-and-multiply with cyclotomic squarings, where a
    /// -1 digit multiplies by the conjugate (= inverse), then one final conjugation.
    @inlinable
    static func powerByNegativeX(_ a: Fq12) -> Fq12 {
        let inverse = a.conjugate
        var result = a
        for digit in xDigits.dropFirst() {
            result = result.cyclotomicSquared()
            if digit == 1 {
                result = result * a
            } else if digit == -1 {
                result = result * inverse
            }
        }
        return result.conjugate
    }

    /// Whether prod e(P_i, Q_i) == 1, with one shared Miller loop and one final
    /// exponentiation (the EIP-197 precompile's semantics; an empty list gives true).
    /// Points must already be validated (on the curve, G2 in its subgroup).
    public static func pairingCheck(_ pairs: [(G1Affine, G2Affine)]) -> Bool {
        pairingCheck(prepared: pairs.map { ($0.0, G2Prepared($0.1)) })
    }

    /// `pairingCheck` with prepared G2 points (fixed verifying-key points prepared once).
    public static func pairingCheck(prepared pairs: [(G1Affine, G2Prepared)]) -> Bool {
        finalExponentiation(multiMillerLoop(pairs)).isOne
    }
}

/// Pairing and Fq12 timings for `verisplit bench algebra` (release build, one core). Each figure
/// is the best of five batches (the least disturbed by other processes on a shared machine).
public enum PairingBenchmark {
    /// Best mean time per call of `body` over five batches of `iterations` calls, in ns.
    static func bestMean(iterations: Int, _ body: () -> Void) -> Double {
        AlgebraBenchmark.bestTime(repetitions: 5) {
            for _ in 0..<max(1, iterations) { body() }
        } / Double(max(1, iterations))
    }

    /// One full pairing e(P, Q) (G2 preparation, Miller loop and final exponentiation) on random
    /// points, in milliseconds: what mcl's `pairing` does, the side-by-side reference.
    public static func pairingMilliseconds(iterations: Int = 40) -> Double {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G2Jacobian.generator.multiplied(by: .random()).affine
        var acc = Pairing.pairing(p, q)  // warm-up: Frobenius constants, loop digits
        let t = bestMean(iterations: iterations) { acc = acc * Pairing.pairing(p, q) }
        precondition(!acc.isZero)
        return t / 1e6
    }

    /// The pieces of one pairing, in microseconds: G2 preparation (the lines of Q), the Miller
    /// loop over prepared lines, the final exponentiation.
    public static func piecesMicroseconds(iterations: Int = 40) -> (prepare: Double, miller: Double, final: Double) {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G2Jacobian.generator.multiplied(by: .random()).affine
        var prepared = G2Prepared(q)
        let prepare = bestMean(iterations: iterations) { prepared = G2Prepared(q) }
        var f = Pairing.multiMillerLoop([(p, prepared)])
        let miller = bestMean(iterations: iterations) { f = f * Pairing.multiMillerLoop([(p, prepared)]) }
        var e = Pairing.finalExponentiation(f)
        let final = bestMean(iterations: iterations) { e = Pairing.finalExponentiation(e * f) }
        precondition(!e.isZero && !prepared.isInfinity)
        return (prepare / 1e3, miller / 1e3, final / 1e3)
    }

    /// The Miller loop over an affine-form prepared point (`G2Prepared(_:affineLines:)`, as a
    /// prepared verifying key holds them), in microseconds.
    public static func affineMillerLoopMicroseconds(iterations: Int = 40) -> Double {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let prepared = G2Prepared(G2Jacobian.generator.multiplied(by: .random()).affine, affineLines: true)
        var f = Pairing.multiMillerLoop([(p, prepared)])
        let miller = bestMean(iterations: iterations) { f = f * Pairing.multiMillerLoop([(p, prepared)]) }
        precondition(!f.isZero)
        return miller / 1e3
    }

    /// Mean time of one Fq12 multiplication in a dependent chain, in nanoseconds.
    public static func fq12MultiplicationNanoseconds(iterations: Int = 100_000) -> Double {
        var a = Fq12.random()
        let b = Fq12.random()
        let t = bestMean(iterations: iterations) { a = a * b }
        precondition(!a.isZero)
        return t
    }

    /// The pairing figures under the keys of `verisplit bench algebra --json`.
    public static func run() -> [String: Double] {
        let pieces = piecesMicroseconds()
        return [
            "fq12_mul_ns": fq12MultiplicationNanoseconds(), "pairing_ms": pairingMilliseconds(),
            "pairing_g2_prepare_us": pieces.prepare, "pairing_miller_loop_us": pieces.miller,
            "pairing_final_exp_us": pieces.final,
        ]
    }

    /// `verisplit bench algebra --pairing-only`: the pairing and its pieces, on the field kernel
    /// chosen at load time and on the portable Swift path, side by side.
    public static func table() -> BenchTable {
        var t = BenchTable(title: "BN254 pairing (one core)")
        let best = FieldKernel.current
        for kernel in [best, .portable] where kernel == best || best != .portable {
            FieldKernel.select(kernel)
            let suffix = kernel == best ? "" : "_portable"
            let pieces = piecesMicroseconds()
            t.append("pairing\(suffix)_ms", pairingMilliseconds())
            t.append("pairing\(suffix)_g2_prepare_us", pieces.prepare)
            t.append("pairing\(suffix)_miller_loop_us", pieces.miller)
            t.append("pairing\(suffix)_miller_loop_affine_us", affineMillerLoopMicroseconds())
            t.append("pairing\(suffix)_final_exp_us", pieces.final)
            t.append("fq12\(suffix)_mul_ns", fq12MultiplicationNanoseconds())
        }
        FieldKernel.select(best)
        return t
    }
}
