import Algebra
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
}
