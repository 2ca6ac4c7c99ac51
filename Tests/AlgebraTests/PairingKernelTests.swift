import Algebra
import CAlgebraKernels
import XCTest

/// Differential tests of the C tower and pairing kernel (`CAlgebraKernels/pairing.c`, used when
/// the MULX/ADX field kernel is) against the Swift implementation it replaces, which stays the
/// fallback: every value must agree bit for bit, on random and on edge inputs (0, 1, p-1).
final class PairingKernelTests: XCTestCase {
    /// Runs `body` with the given field kernel selected, restoring the previous one after.
    func with<T>(_ kernel: FieldKernel, _ body: () throws -> T) rethrows -> T {
        let original = FieldKernel.current
        defer { FieldKernel.select(original) }
        FieldKernel.select(kernel)
        return try body()
    }

    func requireADX() throws {
        guard FieldKernel.best == .adx else { throw XCTSkip("the CPU has no BMI2/ADX: the C kernel is never used") }
    }

    /// p - 1, 0, 1, 2 and a few random elements.
    var edgeFq: [Fq] {
        let minusOne = -Fq.one
        return [.zero, .one, minusOne, Fq(UInt64(2)), minusOne - .one, .random(), .random()]
    }

    var edgeFq2: [Fq2] {
        var values: [Fq2] = []
        for a in edgeFq { for b in edgeFq { values.append(Fq2(a, b)) } }
        return values
    }

    /// Fq12 elements whose coefficients are all one edge value, plus random ones.
    var edgeFq12: [Fq12] {
        var values: [Fq12] = []
        for a in edgeFq {
            let c = Fq2(a, a)
            values.append(Fq12(Fq6(c, c, c), Fq6(c, c, c)))
        }
        let minusOne = Fq2(-Fq.one, -Fq.one)
        values.append(Fq12(Fq6(minusOne, .zero, .one), Fq6(.zero, minusOne, .zero)))
        for _ in 0..<4 { values.append(.random()) }
        return values
    }

    func testFq2KernelMatchesSwift() throws {
        try requireADX()
        let values = edgeFq2
        for a in values {
            for b in values {
                let expected = with(.portable) { a * b }
                XCTAssertEqual(with(.adx) { Fq2.kernelProduct(a, b) }, expected, "\(a) * \(b)")
            }
            XCTAssertEqual(with(.adx) { a.kernelSquared() }, with(.portable) { a.squared() }, "\(a)^2")
        }
        for _ in 0..<200 {
            let a = Fq2.random(), b = Fq2.random()
            XCTAssertEqual(with(.adx) { Fq2.kernelProduct(a, b) }, a * b)
        }
        XCTAssertNil(with(.portable) { Fq2.kernelProduct(.one, .one) }, "no kernel result without ADX")
    }

    func testFq12KernelMatchesSwift() throws {
        try requireADX()
        let values = edgeFq12
        for a in values {
            for b in values {
                XCTAssertEqual(with(.adx) { a * b }, with(.portable) { a * b })
            }
            let d0 = Fq2.random(), d3 = Fq2(-Fq.one, .one), d4 = Fq2.random()
            XCTAssertEqual(with(.adx) { a.squared() }, with(.portable) { a.squared() })
            XCTAssertEqual(with(.adx) { a.mulBy034(d0, d3, d4) }, with(.portable) { a.mulBy034(d0, d3, d4) })
            XCTAssertEqual(with(.adx) { a.mulBy034(.zero, .one, .zero) }, a.portableMulBy034(.zero, .one, .zero))
            for k in 1...3 {
                XCTAssertEqual(with(.adx) { a.frobenius(k) }, with(.portable) { a.frobenius(k) }, "Frobenius \(k)")
            }
            XCTAssertEqual(with(.adx) { a.inverse() }, with(.portable) { a.inverse() })
        }
        XCTAssertNil(with(.adx) { Fq12.zero.inverse() })
        // The ADX kernel against the Swift tower on the same (ADX) field kernel, too.
        for _ in 0..<20 {
            let a = Fq12.random(), b = Fq12.random()
            XCTAssertEqual(with(.adx) { a * b }, with(.adx) { Fq12.portableProduct(a, b) })
            XCTAssertEqual(with(.adx) { a.squared() }, with(.adx) { a.portableSquared() })
        }
    }

    func testCyclotomicSquaringKernelMatchesSwift() throws {
        try requireADX()
        for _ in 0..<20 {
            let f = Fq12.random()
            guard let inverse = f.inverse() else { continue }
            let g = f.conjugate * inverse
            let c = g.frobenius(2) * g
            let expected = with(.portable) { c.cyclotomicSquared() }
            XCTAssertEqual(with(.adx) { c.cyclotomicSquared() }, expected)
            XCTAssertEqual(expected, with(.portable) { c.squared() })
        }
        XCTAssertEqual(with(.adx) { Fq12.one.cyclotomicSquared() }, .one)
    }

    func testPreparedLinesMillerLoopAndFinalExponentiationMatchSwift() throws {
        try requireADX()
        let points = (0..<3).map { _ in G1Jacobian.generator.multiplied(by: .random()).affine }
        let twists = [G2Affine.generator] + (0..<2).map { _ in G2Jacobian.generator.multiplied(by: .random()).affine }
        for q in twists {
            let lines = with(.adx) { G2Prepared(q).lines }
            XCTAssertEqual(lines.count, Pairing.lineCount)
            XCTAssertEqual(lines, with(.portable) { G2Prepared(q).lines })
            XCTAssertEqual(lines, with(.adx) { G2Prepared.portableLines(q) })
        }
        let pairs = zip(points, twists).map { ($0, G2Prepared($1)) }
        for count in 1...3 {
            let slice = Array(pairs.prefix(count))
            let f = with(.adx) { Pairing.multiMillerLoop(slice) }
            XCTAssertEqual(f, with(.portable) { Pairing.multiMillerLoop(slice) }, "\(count) pairs")
            XCTAssertEqual(
                f, with(.adx) { Pairing.portableMultiMillerLoop(slice.map { $0.0 }, slice.map { $0.1.lines }) })
            let e = with(.adx) { Pairing.finalExponentiation(f) }
            XCTAssertEqual(e, with(.portable) { Pairing.finalExponentiation(f) })
            XCTAssertEqual(e, with(.adx) { Pairing.portableFinalExponentiation(f) })
        }
        for f in edgeFq12 {
            XCTAssertEqual(
                with(.adx) { Pairing.finalExponentiation(f) }, with(.portable) { Pairing.finalExponentiation(f) })
        }
        XCTAssertEqual(with(.adx) { Pairing.finalExponentiation(.zero) }, .zero)
        XCTAssertEqual(with(.adx) { Pairing.finalExponentiation(.one) }, .one)
    }

    /// The C line preparation (its doubling and addition steps reduce differences of products
    /// once, from the unreduced products) against Swift's steps, line by line and bit for bit:
    /// on points of G2 (the generator, its negative, small and random multiples) and on
    /// unvalidated coordinates made of edge values (0, 1, p-1, 2, -2 in either coefficient),
    /// which take the wide combinations through extreme inputs. And the C Miller loop (which
    /// multiplies the two lines of a nonzero digit together before multiplying them into f, and
    /// starts from the first line instead of 1) against Swift's on each prepared point.
    func testPreparedLinesMatchSwiftOnEdgeAndRandomPoints() throws {
        try requireADX()
        let g = G2Jacobian.generator
        var twists: [G2Affine] = [.generator, -G2Affine.generator, g.multiplied(by: -Fr.one).affine]
        twists += [Fr(2), Fr(3), Fr(6)].map { g.multiplied(by: $0).affine }
        twists += (0..<6).map { _ in g.multiplied(by: .random()).affine }
        let minusOne = -Fq.one, two = Fq(UInt64(2))
        let corners = [
            Fq2.zero, .one, Fq2(minusOne, minusOne), Fq2(minusOne, .one), Fq2(two, -two), Fq2(.zero, minusOne),
        ]
        for x in corners {
            for y in corners + [.random()] { twists.append(G2Affine(x: x, y: y)) }
        }
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        for q in twists {
            let prepared = with(.adx) { G2Prepared(q) }
            XCTAssertEqual(prepared.lines, with(.portable) { G2Prepared.portableLines(q) }, "lines of \(q)")
            XCTAssertEqual(
                with(.adx) { Pairing.multiMillerLoop([(p, prepared)]) },
                with(.portable) { Pairing.multiMillerLoop([(p, prepared)]) }, "Miller loop over \(q)")
        }
    }

    /// The same pairing through both kernels, and bilinearity on each.
    func testPairingAgreesAcrossKernelsAndIsBilinear() throws {
        try requireADX()
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G2Jacobian.generator.multiplied(by: .random()).affine
        let fast = with(.adx) { Pairing.pairing(p, q) }
        XCTAssertEqual(fast, with(.portable) { Pairing.pairing(p, q) })
        let a = Fr.random(), b = Fr.random()
        let ap = p.multiplied(by: a).affine, bq = q.multiplied(by: b).affine
        let exponent = (a * b).canonicalLimbs.array
        for kernel in FieldKernel.allCases {
            XCTAssertEqual(
                with(kernel) { Pairing.pairing(ap, bq) }, with(kernel) { fast.power(limbs: exponent) },
                "e(aP, bQ) = e(P, Q)^(ab) under \(kernel)")
        }
        // A wrong exponent must show: e(aP, bQ) != e(P, Q)^(ab+1).
        XCTAssertNotEqual(
            with(.adx) { Pairing.pairing(ap, bq) }, fast.power(limbs: (a * b + .one).canonicalLimbs.array))
        XCTAssertTrue(with(.adx) { Pairing.pairingCheck([(ap, bq), (-p.multiplied(by: a * b).affine, q)]) })
        XCTAssertFalse(with(.adx) { Pairing.pairingCheck([(ap, bq), (-p.multiplied(by: a).affine, q)]) })
    }

    /// Affine-form prepared points (lines divided by c0) give the same pairings as projective
    /// ones on both kernels, alone and mixed in one multi-pairing.
    func testAffineFormPreparedLines() {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G2Jacobian.generator.multiplied(by: .random()).affine
        let affine = G2Prepared(q, affineLines: true)
        XCTAssertTrue(affine.isAffine)
        XCTAssertFalse(G2Prepared(q).isAffine)
        XCTAssertEqual(affine.lines.count, Pairing.lineCount)
        XCTAssertTrue(affine.lines.allSatisfy { $0.c0 == .one })
        XCTAssertTrue(G2Prepared(.infinity, affineLines: true).isInfinity)
        let p2 = G1Jacobian.generator.multiplied(by: .random()).affine
        let q2 = G2Jacobian.generator.multiplied(by: .random()).affine
        let a = Fr.random(), b = Fr.random()
        let ap = p.multiplied(by: a).affine
        let bq = q.multiplied(by: b).affine
        for kernel in FieldKernel.allCases {
            let expected = with(kernel) { Pairing.pairing(p, q) }
            XCTAssertEqual(
                with(kernel) { Pairing.finalExponentiation(Pairing.multiMillerLoop([(p, affine)])) }, expected)
            let product = with(kernel) { Pairing.pairing(p, q) * Pairing.pairing(p2, q2) * Pairing.pairing(ap, q) }
            let mixed = with(kernel) {
                Pairing.finalExponentiation(
                    Pairing.multiMillerLoop([
                        (p, affine), (p2, G2Prepared(q2)), (ap, G2Prepared(q, affineLines: true)),
                        (.infinity, affine),
                    ]))
            }
            XCTAssertEqual(mixed, product, "mixed affine and projective pairs under \(kernel)")
            XCTAssertTrue(
                with(kernel) {
                    Pairing.pairingCheck(prepared: [
                        (ap, G2Prepared(bq, affineLines: true)), (-p.multiplied(by: a * b).affine, affine),
                    ])
                })
            XCTAssertFalse(
                with(kernel) {
                    Pairing.pairingCheck(prepared: [
                        (ap, G2Prepared(bq, affineLines: true)), (-p.multiplied(by: a * b + .one).affine, affine),
                    ])
                })
        }
        // An unvalidated G1 "point" with y = 0 (no point of G1 has one) keeps the projective
        // evaluation in the C kernel: both kernels still agree after the final exponentiation.
        let bogus = G1Affine(x: Fq(UInt64(5)), y: .zero)
        XCTAssertEqual(
            with(.best) { Pairing.finalExponentiation(Pairing.multiMillerLoop([(bogus, affine), (p, affine)])) },
            with(.portable) { Pairing.finalExponentiation(Pairing.multiMillerLoop([(bogus, affine), (p, affine)])) })
    }

    /// The same residue as `a` with p added to its Montgomery representation (below 2p, so not
    /// reduced): the form in which the tower passes sums to the lazy Fq2 product.
    func unreduced(_ a: Fq) -> Fq {
        let p = FqParameters.modulus, m = a.montgomery
        let (l0, c0) = m.l0.addingReportingOverflow(p.l0)
        let (s1, c1a) = m.l1.addingReportingOverflow(p.l1)
        let (l1, c1b) = s1.addingReportingOverflow(c0 ? 1 : 0)
        let (s2, c2a) = m.l2.addingReportingOverflow(p.l2)
        let (l2, c2b) = s2.addingReportingOverflow(c1a || c1b ? 1 : 0)
        let l3 = m.l3 &+ p.l3 &+ (c2a || c2b ? 1 : 0)  // a + p < 2p < 2^256: no carry out
        return Fq(montgomery: Limbs4(l0, l1, l2, l3))
    }

    func lazyProduct(_ a: Fq2, _ b: Fq2) -> Fq2 {
        var r = Fq2.zero, x = a, y = b
        vs_bn254_fq2_mul_lazy(&r, &x, &y)
        return r
    }

    /// The lazy-reduction Fq2 pieces (512-bit products reduced once per coefficient, wide xi,
    /// sums and differences mod p 2^256) against the Swift tower on the portable kernel: edge
    /// values, random values, and coefficients given unreduced (below 2p) where the kernel allows.
    func testLazyFq2PiecesMatchSwift() throws {
        try requireADX()
        var values = edgeFq2
        for _ in 0..<40 { values.append(.random()) }
        let xi = Fq2(Fq(UInt64(9)), .one)
        for a in values {
            for b in values {
                let expected = with(.portable) { a * b }
                XCTAssertEqual(lazyProduct(a, b), expected, "\(a) * \(b)")
                let a2 = Fq2(unreduced(a.c0), unreduced(a.c1)), b2 = Fq2(a.c0, unreduced(b.c1))
                XCTAssertEqual(lazyProduct(a2, b), expected, "unreduced \(a) * \(b)")
                XCTAssertEqual(lazyProduct(a2, Fq2(unreduced(b.c0), unreduced(b.c1))), expected)
                XCTAssertEqual(lazyProduct(b2, a), with(.portable) { Fq2(a.c0, b.c1) * a })
            }
            var s = Fq2.zero, x = a
            vs_bn254_fq2_sqr_lazy(&s, &x)
            XCTAssertEqual(s, with(.portable) { a.squared() }, "\(a)^2")
        }
        for i in 0..<2000 {
            let a = values[i % values.count], b = Fq2.random()
            let c = values[(i * 7 + 3) % values.count], d = i % 3 == 0 ? -b : Fq2.random()
            var r = Fq2.zero, x = a, y = b, z = c, w = d
            vs_bn254_fq2_mul_xi_add_lazy(&r, &x, &y, &z, &w)
            let expected = with(.portable) { (xi * (a * b) + c * d - a * b) * xi }
            XCTAssertEqual(r, expected, "xi ((xi ab + cd) - ab) for \(a), \(b), \(c), \(d)")
        }
    }

    /// The lazy Fq6 product and sparse product against Swift's `*` and `mulBy01`.
    func testLazyFq6ProductsMatchSwift() throws {
        try requireADX()
        var values: [Fq6] = []
        for a in edgeFq {
            let c = Fq2(a, a)
            values.append(Fq6(c, c, c))
            values.append(Fq6(c, .zero, Fq2(a, -a)))
        }
        for _ in 0..<12 { values.append(.random()) }
        for a in values {
            for b in values {
                var r = Fq6.zero, x = a, y = b
                vs_bn254_fq6_mul(&r, &x, &y)
                XCTAssertEqual(r, with(.portable) { a * b }, "\(a) * \(b)")
                var s = Fq6.zero, b0 = b.c0, b1 = b.c1
                vs_bn254_fq6_mul_by_01(&s, &x, &b0, &b1)
                XCTAssertEqual(s, with(.portable) { a.mulBy01(b.c0, b.c1) }, "\(a) * (b0 + b1 v)")
            }
        }
        for a in edgeFq12 {
            let d3 = Fq2.random(), d4 = Fq2(-Fq.one, .zero)
            var r = Fq12.zero, x = a, e3 = d3, e4 = d4
            vs_bn254_fq12_mul_by_1_34(&r, &x, &e3, &e4)
            XCTAssertEqual(r, with(.portable) { a * Fq12(Fq6(.one, .zero, .zero), Fq6(d3, d4, .zero)) })
        }
    }

    /// The windowed a^(-x) of the final exponentiation against a^x by square and multiply,
    /// conjugated (the inverse of a cyclotomic element): for BN254's x and for exponents whose
    /// digits hit every window digit, the leading-digit cases and the 64-digit limit (a longer
    /// digit string takes the plain NAF loop).
    func testPowerByNegativeXMatchesSwift() throws {
        try requireADX()
        func naf(_ value: BigInt) -> [Int8] {
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
        var cyclotomic: [Fq12] = [.one]
        for _ in 0..<4 {
            let f = Fq12.random()
            guard let inverse = f.inverse() else { continue }
            let g = f.conjugate * inverse
            cyclotomic.append(g.frobenius(2) * g)
        }
        let exponents: [BigInt] = [
            BigInt(Pairing.x), BigInt(1), BigInt(2), BigInt(7), BigInt(8), BigInt(9), BigInt(0x5555),
            BigInt(0x7FFF_FFFF_FFFF_FFFF), BigInt(Pairing.x) * BigInt(2) + BigInt(1),
            BigInt(limbs: [0x1234_5678_9ABC_DEF1, 1]),
        ]
        XCTAssertEqual(naf(BigInt(Pairing.x)), Pairing.xDigits)
        for e in exponents {
            let digits = naf(e)
            for a in cyclotomic {
                var r = Fq12.zero, x = a
                vs_bn254_fq12_power_by_negative_x(&r, &x, digits, digits.count)
                XCTAssertEqual(r, with(.portable) { a.power(e).conjugate }, "a^-\(e), \(digits.count) digits")
            }
        }
    }

    /// The one-routine assembly cyclotomic squaring (`fp2_wide.S`, behind
    /// `vs_bn254_fq12_cyclotomic_sqr` and the final exponentiation) against its C formulation: both
    /// compute the same polynomial map on all of Fq12, so they must agree bit for bit on every
    /// reduced input, cyclotomic or not: edge patterns, elements whose twelve coefficients are
    /// drawn from the edge values (0, 1, p-1, p-2, 2) independently, and random elements.
    func testCyclotomicSquaringAssemblyMatchesC() throws {
        try requireADX()
        let coefficients = edgeFq
        func pick() -> Fq { coefficients[Int.random(in: 0..<coefficients.count)] }
        var values = edgeFq12
        for _ in 0..<400 {
            let c = (0..<6).map { _ in Fq2(pick(), pick()) }
            values.append(Fq12(Fq6(c[0], c[1], c[2]), Fq6(c[3], c[4], c[5])))
        }
        for _ in 0..<400 { values.append(.random()) }
        for a in values {
            var expected = Fq12.zero, r = Fq12.zero, x = a
            vs_bn254_fq12_cyclotomic_sqr_reference(&expected, &x)
            vs_bn254_fq12_cyclotomic_sqr(&r, &x)
            XCTAssertEqual(r, expected, "\(a)")
        }
    }

    /// The 16 limbs of the unreduced Fq2 product (c0 then c1, 8 limbs each) from `hook`.
    func wideProduct(
        _ hook: (UnsafeMutableRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) -> Void, _ a: Fq2, _ b: Fq2
    ) -> [UInt64] {
        var r = [UInt64](repeating: 0, count: 16), x = a, y = b
        r.withUnsafeMutableBytes { out in
            withUnsafeBytes(of: &x) { xa in
                withUnsafeBytes(of: &y) { yb in hook(out.baseAddress, xa.baseAddress, yb.baseAddress) }
            }
        }
        return r
    }

    /// The assembly Karatsuba wide product (`fp2_wide.S`) against the C formulation it replaces,
    /// limb for limb before any reduction: edge coefficients (0, 1, p-1, p-2), their unreduced forms
    /// (up to 2p-1, the largest the tower passes), and random ones.
    func testWideFq2ProductAssemblyMatchesC() throws {
        try requireADX()
        var coefficients = edgeFq.map { $0.montgomery }
        coefficients += edgeFq.map { unreduced($0).montgomery }
        coefficients.append(Limbs4(1, 0, 0, 0))
        var values: [Fq2] = []
        for a in coefficients {
            for b in coefficients { values.append(Fq2(Fq(montgomery: a), Fq(montgomery: b))) }
        }
        for a in values {
            for b in values.prefix(60) {
                XCTAssertEqual(
                    wideProduct(vs_bn254_fq2_mul_wide, a, b), wideProduct(vs_bn254_fq2_mul_wide_reference, a, b),
                    "\(a) * \(b)")
            }
        }
        for i in 0..<5000 {
            let a = Fq2.random(), b = i % 2 == 0 ? Fq2.random() : Fq2(unreduced(.random()), unreduced(.random()))
            XCTAssertEqual(
                wideProduct(vs_bn254_fq2_mul_wide, a, b), wideProduct(vs_bn254_fq2_mul_wide_reference, a, b))
        }
    }

    /// The variable-time binary inversion against the C Fermat inversion and Swift's inverse: edge
    /// values, powers of two (in Montgomery representation, the extremes of the shift batching),
    /// and random values; zero has no inverse.
    func testVariableTimeFqInverseMatchesFermatAndSwift() throws {
        try requireADX()
        var values = edgeFq
        for bit in 0..<254 {
            var limbs: [UInt64] = [0, 0, 0, 0]
            limbs[bit / 64] = 1 << UInt64(bit % 64)
            values.append(Fq(montgomery: Limbs4(limbs[0], limbs[1], limbs[2], limbs[3])))
        }
        for _ in 0..<3000 { values.append(.random()) }
        for a in values {
            var binary = Fq.zero, fermat = Fq.zero, x = a
            let found = vs_bn254_fq_inverse(&binary, &x)
            XCTAssertEqual(vs_bn254_fq_inverse_fermat(&fermat, &x), found)
            guard let expected = a.inverse() else {
                XCTAssertEqual(found, 0, "zero has no inverse")
                continue
            }
            XCTAssertEqual(found, 1)
            XCTAssertEqual(binary, expected, "\(a)^-1")
            XCTAssertEqual(fermat, expected, "\(a)^-1 (Fermat)")
        }
    }
}
