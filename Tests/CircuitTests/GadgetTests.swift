import Algebra
import Circuit
import XCTest

/// Every gadget: the honest witness satisfies; a tampered witness does not.
final class GadgetTests: XCTestCase {
    typealias CS = ConstraintSystem<Fr>
    typealias LC = LinearCombination<Fr>

    func testBooleanRejectsTwo() {
        let cs = CS()
        let b = cs.allocateBit("b", value: true)
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(b, with: Fr(UInt64(2)))
        XCTAssertEqual(cs.firstViolation()?.name, "b.boolean")
    }

    func testBitDecompositionAndRange() {
        let cs = CS()
        let x = cs.allocatePrivate("x", value: Fr(UInt64(0b1011_0110)))
        let bits = cs.bits(of: LC(x), count: 8)
        XCTAssertEqual(bits.map { cs.value($0) == .one }, [false, true, true, false, true, true, false, true])
        XCTAssertTrue(cs.isSatisfied)
        XCTAssertEqual(cs.constraintCount, 9)
        // Flip one bit: the recomposition fails.
        cs.tamper(bits[0], with: .one)
        XCTAssertEqual(cs.firstViolation()?.name, "bits/recompose")
    }

    func testRangeCheckRejectsOutOfRangeValue() {
        // 256 does not fit in 8 bits: the honest witness generator's bits cannot recompose it.
        let cs = CS()
        let x = cs.allocatePrivate("x", value: Fr(UInt64(256)))
        cs.assertRange(LC(x), bits: 8)
        XCTAssertFalse(cs.isSatisfied)
        // A negative value (p - 1) is far out of range too.
        let cs2 = CS()
        let y = cs2.allocatePrivate("y", value: -Fr.one)
        cs2.assertRange(LC(y), bits: 200)
        XCTAssertFalse(cs2.isSatisfied)
        // In range: satisfied at the boundary.
        let cs3 = CS()
        let z = cs3.allocatePrivate("z", value: Fr(UInt64(255)))
        cs3.assertRange(LC(z), bits: 8)
        XCTAssertTrue(cs3.isSatisfied)
    }

    /// A cheating prover who keeps the bits boolean but chooses them to encode x + p
    /// cannot do so within maxSafeBits bits; the gadget refuses unsound widths outright.
    func testMaxSafeBitsForFr() {
        XCTAssertEqual(CS().maxSafeBits, 253)
    }

    func testMultiplyAndInverse() {
        let cs = CS()
        let a = cs.allocatePrivate("a", value: Fr(UInt64(6)))
        let b = cs.allocatePrivate("b", value: Fr(UInt64(7)))
        let p = cs.multiply(LC(a), LC(b))
        XCTAssertEqual(cs.value(p), Fr(UInt64(42)))
        let inv = cs.inverse(LC(a))
        XCTAssertEqual(cs.value(inv) * Fr(UInt64(6)), .one)
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(p, with: Fr(UInt64(43)))
        XCTAssertEqual(cs.firstViolation()?.name, "mul")
        cs.tamper(p, with: Fr(UInt64(42)))
        cs.tamper(inv, with: .one)
        XCTAssertEqual(cs.firstViolation()?.name, "inverse")
        // The inverse of zero is unsatisfiable whatever the hint.
        let cs2 = CS()
        let z = cs2.allocatePrivate("z", value: .zero)
        let zi = cs2.inverse(LC(z))
        XCTAssertFalse(cs2.isSatisfied)
        cs2.tamper(zi, with: .random())
        XCTAssertFalse(cs2.isSatisfied)
    }

    func testIsZeroAndIsEqual() {
        for v in [Fr.zero, Fr.one, Fr.random()] {
            let cs = CS()
            let x = cs.allocatePrivate("x", value: v)
            let out = cs.isZero(LC(x))
            XCTAssertEqual(cs.value(out), v.isZero ? .one : .zero)
            XCTAssertTrue(cs.isSatisfied)
            // Claiming the opposite answer fails for any hint.
            cs.tamper(out, with: v.isZero ? .zero : .one)
            XCTAssertFalse(cs.isSatisfied)
        }
        let cs = CS()
        let a = cs.allocatePrivate("a", value: Fr(UInt64(5)))
        let b = cs.allocatePrivate("b", value: Fr(UInt64(5)))
        let eq = cs.isEqual(LC(a), LC(b))
        XCTAssertEqual(cs.value(eq), .one)
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(b, with: Fr(UInt64(6)))
        XCTAssertFalse(cs.isSatisfied)
    }

    func testSelect() {
        let cs = CS()
        let c = cs.allocateBit("c", value: true)
        let a = cs.allocatePrivate("a", value: Fr(UInt64(11)))
        let b = cs.allocatePrivate("b", value: Fr(UInt64(22)))
        let out = cs.select(c, LC(a), LC(b))
        XCTAssertEqual(cs.value(out), Fr(UInt64(11)))
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(out, with: Fr(UInt64(22)))
        XCTAssertFalse(cs.isSatisfied)
    }

    func testLessThan() {
        for (x, y) in [(3, 5), (5, 3), (7, 7), (0, 255), (255, 0)] {
            let cs = CS()
            let a = cs.allocatePrivate("a", value: Fr(UInt64(x)))
            let b = cs.allocatePrivate("b", value: Fr(UInt64(y)))
            cs.assertRange(LC(a), bits: 8, "ra")
            cs.assertRange(LC(b), bits: 8, "rb")
            let lt = cs.lessThan(LC(a), LC(b), bits: 8)
            XCTAssertEqual(cs.value(lt), x < y ? .one : .zero, "\(x) < \(y)")
            XCTAssertTrue(cs.isSatisfied)
            cs.tamper(lt, with: x < y ? .zero : .one)
            XCTAssertFalse(cs.isSatisfied, "a flipped comparison must be rejected")
        }
    }

    func testR1CSExportMatchesConstraintSystem() {
        let cs = CS()
        let pub = cs.allocatePublic("out", value: Fr(UInt64(35)))
        let a = cs.allocatePrivate("a", value: Fr(UInt64(5)))
        let b = cs.allocatePrivate("b", value: Fr(UInt64(7)))
        cs.enforce(LC(a), LC(b), LC(pub), "product")
        _ = cs.bits(of: LC(a), count: 4)
        let r1cs = cs.r1cs()
        let w = cs.witness()
        XCTAssertEqual(r1cs.numWires, w.count)
        XCTAssertEqual(r1cs.numPublic, 1)
        XCTAssertTrue(r1cs.isSatisfied(by: w))
        var bad = w
        bad[cs.wire(a)] = Fr(UInt64(6))
        XCTAssertEqual(r1cs.firstUnsatisfied(bad), 0)
    }

    func testGMPFieldCircuit() throws {
        // The same gadgets over a small run-time prime (2^61 - 1).
        let modulus = try GMPModulus(BigInt("2305843009213693951")!)
        let cs = ConstraintSystem<GMPField>(modulusBits: 61)
        let x = cs.allocatePrivate("x", value: GMPField(BigInt(1000), modulus: modulus))
        _ = cs.bits(of: LinearCombination(x), count: 10)
        let inv = cs.inverse(LinearCombination(x))
        XCTAssertEqual(cs.value(inv) * GMPField(BigInt(1000), modulus: modulus), .one)
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(x, with: GMPField(BigInt(1001), modulus: modulus))
        XCTAssertFalse(cs.isSatisfied)
        XCTAssertThrowsError(try GMPModulus(BigInt(91)))
    }
}
