import Algebra
import Circuit
import XCTest

/// The gathered Freivalds check (a convolution's im2col product evaluated per input value):
/// it accepts exactly what the im2col form accepts, it is the polynomial its soundness bound
/// names, and it is cheaper when windows overlap.
final class FreivaldsGatheredTests: XCTestCase {
    typealias CS = ConstraintSystem<Fr>
    typealias LC = LinearCombination<Fr>

    /// A 2-channel 2x2 convolution, stride 1, over three 4x4 images: A is 2 x 4, each image's
    /// im2col block 4 x 9, C = A B is 2 x 27.
    struct Convolution {
        let kernel: [Int64] = [3, -1, 4, 1, -5, 9, 2, -6]
        let images: [[Int64]] = (0..<3).map { s in (0..<16).map { e in Int64((e * 7 + s * 5) % 11) - 4 } }
        let gather: [[Int]] = (0..<4).map { t in
            (0..<9).map { p in (p / 3 + t / 2) * 4 + p % 3 + t % 2 }
        }

        var product: [Int64] {
            var c = [Int64](repeating: 0, count: 2 * 27)
            for o in 0..<2 {
                for s in 0..<3 {
                    for p in 0..<9 {
                        for t in 0..<4 { c[o * 27 + s * 9 + p] += kernel[o * 4 + t] * images[s][gather[t][p]] }
                    }
                }
            }
            return c
        }
    }

    /// The circuit: A, the images and C committed; `forge` adds (e, f) to C[0][0] and C[1][0].
    /// `gathered` picks the form; `rho` fixes the challenge.
    func circuit(gathered: Bool, forge: (e: Int64, f: Int64)? = nil, rho: Fr = Fr(UInt64(1_234_567))) -> CS {
        let conv = Convolution()
        let cs = CS()
        _ = cs.allocatePublicInput("session", value: Fr(UInt64(1)))
        let a = conv.kernel.enumerated().map { LC(cs.allocateCommitted("a\($0.offset)", value: Fr($0.element))) }
        let x = conv.images.enumerated().map { s, image in
            image.enumerated().map { LC(cs.allocateCommitted("x\(s).\($0.offset)", value: Fr($0.element))) }
        }
        var c = conv.product
        if let forge {
            c[0] += forge.e
            c[27] += forge.f
        }
        let cv = c.enumerated().map { LC(cs.allocateCommitted("c\($0.offset)", value: Fr($0.element))) }
        cs.challengeOracle = { _, _ in rho }
        let r = cs.drawChallenge()
        let powers = cs.challengePowers(r, count: 2)
        let kernel = LCMatrix(rows: 2, columns: 4, entries: a)
        let product = LCMatrix(rows: 2, columns: 27, entries: cv)
        if gathered {
            cs.freivaldsGathered(
                kernel, blocks: x, gather: conv.gather, equals: product, challenge: r, rhoPowers: powers)
        } else {
            var patches = [LC](repeating: LC(), count: 4 * 27)
            for t in 0..<4 {
                for s in 0..<3 { for p in 0..<9 { patches[t * 27 + s * 9 + p] = x[s][conv.gather[t][p]] } }
            }
            cs.freivalds(
                kernel, LCMatrix(rows: 4, columns: 27, entries: patches), equals: product, challenge: r,
                rhoPowers: powers)
        }
        return cs
    }

    func testHonestProductSatisfiesBothForms() {
        XCTAssertNil(circuit(gathered: true).firstViolation())
        XCTAssertNil(circuit(gathered: false).firstViolation())
    }

    /// A single wrong entry is caught whatever the challenge (its polynomial is a nonzero monomial).
    func testAWrongEntryIsRefused() {
        for rho in [Fr(UInt64(2)), Fr(UInt64(1_234_567)), -Fr.one] {
            XCTAssertNotNil(circuit(gathered: true, forge: (1, 0), rho: rho).firstViolation())
            XCTAssertNotNil(circuit(gathered: true, forge: (0, -3), rho: rho).firstViolation())
        }
    }

    /// The forger's view: errors e at C[0][0] and f at C[1][0] give e + f rho (u = (1, rho),
    /// v_0 = 1), so the check passes exactly at rho = -e / f, as the stated bound says, in both
    /// forms. Errors that cancel in a plain sum (e = -f) are caught at any other rho.
    func testACancellingForgeryPassesOnlyAtTheRootOfItsPolynomial() throws {
        let e: Int64 = 5, f: Int64 = -5
        let root = -Fr(e) * (try XCTUnwrap(Fr(f).inverse()))
        XCTAssertEqual(root, .one)
        for gathered in [true, false] {
            XCTAssertNil(circuit(gathered: gathered, forge: (e, f), rho: root).firstViolation(), "gathered \(gathered)")
            XCTAssertNotNil(circuit(gathered: gathered, forge: (e, f), rho: Fr(UInt64(3))).firstViolation())
            XCTAssertNotNil(circuit(gathered: gathered, forge: (e, f)).firstViolation())
        }
        let e2: Int64 = 7, f2: Int64 = 3
        let root2 = -Fr(e2) * (try XCTUnwrap(Fr(f2).inverse()))
        XCTAssertNil(circuit(gathered: true, forge: (e2, f2), rho: root2).firstViolation())
        XCTAssertNotNil(circuit(gathered: true, forge: (e2, f2), rho: root2 + .one).firstViolation())
    }

    /// Overlapping windows (each of the 16 values is read up to 4 times) make the gathered form
    /// cheaper, and the cost formulas bound the counts.
    func testGatheredFormIsCheaperWhenWindowsOverlapAndCostsAreBounds() {
        let gathered = circuit(gathered: true).constraintCount
        let dense = circuit(gathered: false).constraintCount
        XCTAssertLessThan(gathered, dense)
        XCTAssertLessThanOrEqual(
            gathered, CS.gatheredFreivaldsCost(m: 2, n: 4, positions: 9, blocks: 3, length: 16) + 1)
        XCTAssertLessThanOrEqual(dense, CS.freivaldsCost(m: 2, n: 4, k: 27) + 1)
    }
}
