import Algebra
import XCTest

final class CurveTests: XCTestCase {
    let r = Fr.modulus

    func randomScalarBig() -> BigInt { BigInt(littleEndian: SecureRandom.bytes(40)) % r }

    func checkGroupLaws<C: CurveParameters>(_: C.Type) {
        let g = JacobianPoint<C>.generator
        XCTAssertTrue(AffinePoint<C>.generator.isOnCurve)
        XCTAssertTrue(AffinePoint<C>.generator.isInSubgroup)
        // [r]G = O, [r-1]G = -G
        XCTAssertTrue(g.multipliedByDoubleAndAdd(r).isInfinity)
        XCTAssertEqual(g.multiplied(by: -Fr.one), -g)
        for _ in 0..<8 {
            let a = randomScalarBig(), b = randomScalarBig()
            let fa = Fr(reducing: a), fb = Fr(reducing: b)
            let pa = g.multiplied(by: fa), pb = g.multiplied(by: fb)
            XCTAssertEqual(pa, g.multipliedByDoubleAndAdd(a))
            XCTAssertTrue(pa.affine.isOnCurve)
            // commutativity, associativity, distributivity
            XCTAssertEqual(pa + pb, pb + pa)
            XCTAssertEqual(pa + pb, g.multiplied(by: fa + fb))
            XCTAssertEqual((pa + pb) + g, pa + (pb + g))
            XCTAssertEqual(pa + pa, pa.doubled())
            XCTAssertEqual(pa + pb.affine, pa + pb, "mixed addition")
            XCTAssertEqual(pa + pa.affine, pa.doubled(), "mixed addition doubling case")
            XCTAssertTrue((pa + (-pa)).isInfinity)
            XCTAssertTrue((pa + (-pa).affine).isInfinity)
            XCTAssertEqual(pa + JacobianPoint<C>.infinity, pa)
            XCTAssertEqual(JacobianPoint<C>.infinity + pa, pa)
            XCTAssertEqual(pa.multiplied(by: fb), g.multiplied(by: fa * fb))
        }
        let points = (0..<5).map { _ in g.multiplied(by: .random()) } + [.infinity]
        XCTAssertEqual(JacobianPoint<C>.batchToAffine(points), points.map(\.affine))
    }

    func testG1GroupLaws() { checkGroupLaws(G1Parameters.self) }
    func testG2GroupLaws() { checkGroupLaws(G2Parameters.self) }

    func testG2SubgroupCheckAgainstOrderMultiplication() {
        // Random points on the twist are almost never in G2; the fast check must agree with [r]P == O.
        var found = 0
        while found < 4 {
            let x = Fq2.random()
            guard let y = (x.squared() * x + G2Parameters.b).squareRoot() else { continue }
            let p = G2Affine(x: x, y: y)
            XCTAssertTrue(p.isOnCurve)
            let inSubgroupByOrder = p.jacobian.multipliedByDoubleAndAdd(r).isInfinity
            XCTAssertEqual(p.isInSubgroup, inSubgroupByOrder)
            XCTAssertFalse(p.isInSubgroup, "a random twist point is in G2 with negligible probability")
            XCTAssertThrowsError(try G2Affine.validated(x: p.x, y: p.y))
            found += 1
        }
        let q = G2Jacobian.generator.multiplied(by: .random()).affine
        XCTAssertTrue(q.isInSubgroup)
        XCTAssertNoThrow(try G2Affine.validated(x: q.x, y: q.y))
    }

    func testOffCurvePointsRejected() {
        XCTAssertThrowsError(try G1Affine.validated(x: .one, y: Fq(UInt64(3))))
        let g = G2Affine.generator
        XCTAssertThrowsError(try G2Affine.validated(x: g.x, y: g.y + .one))
    }

    func testFq2Arithmetic() {
        for _ in 0..<200 {
            let a = Fq2.random(), b = Fq2.random(), c = Fq2.random()
            XCTAssertEqual(a * (b + c), a * b + a * c)
            XCTAssertEqual(a.squared(), a * a)
            XCTAssertEqual((a * b) * c, a * (b * c))
            if let inv = a.inverse() { XCTAssertEqual(a * inv, .one) }
            XCTAssertEqual(a.mulByNonResidue(), a * Fq2(Fq(UInt64(9)), .one))
            let s = a.squared()
            let root = s.squareRoot()
            XCTAssertNotNil(root)
            if let root { XCTAssertEqual(root.squared(), s) }
            // Frobenius is the q-power map
        }
        let a = Fq2.random()
        XCTAssertEqual(a.power(Fq.modulus), a.conjugate)
        XCTAssertEqual(Fq2.u.squared(), -Fq2.one)
        XCTAssertNil(Fq2.zero.inverse())
        // A non-residue: xi = 9 + u is not a square in Fq2 (it defines the sextic twist).
        XCTAssertNil(Fq2(Fq(UInt64(9)), .one).squareRoot())
    }
}

/// Fq2 against GMP: (a0 + a1 u)(b0 + b1 u) = (a0 b0 - a1 b1) + (a0 b1 + a1 b0) u mod q.
final class Fq2OracleTests: XCTestCase {
    func testAgainstGMP() {
        let q = Fq.modulus
        func big(_ x: Fq) -> BigInt { x.bigInt }
        var samples: [Fq2] = [.zero, .one, Fq2(.zero, .one), Fq2(-Fq.one, -Fq.one), Fq2(-Fq.one, .zero)]
        for _ in 0..<2000 { samples.append(.random()) }
        for (i, a) in samples.enumerated() {
            let b = samples[(i * 7 + 3) % samples.count]
            let (a0, a1, b0, b1) = (big(a.c0), big(a.c1), big(b.c0), big(b.c1))
            let m = a * b
            XCTAssertEqual(big(m.c0), (a0 * b0 - a1 * b1) % q)
            XCTAssertEqual(big(m.c1), (a0 * b1 + a1 * b0) % q)
            let s = a.squared()
            XCTAssertEqual(big(s.c0), (a0 * a0 - a1 * a1) % q)
            XCTAssertEqual(big(s.c1), (BigInt(2) * a0 * a1) % q)
            XCTAssertEqual(big((a + b).c0), (a0 + b0) % q)
            XCTAssertEqual(big((a - b).c1), (a1 - b1) % q)
            if let inv = a.inverse() {
                let norm = (a0 * a0 + a1 * a1) % q
                let nInv = norm.inverse(modulus: q)!
                XCTAssertEqual(big(inv.c0), (a0 * nInv) % q)
                XCTAssertEqual(big(inv.c1), (-a1 * nInv) % q)
            } else {
                XCTAssertTrue(a.isZero)
            }
        }
    }
}
