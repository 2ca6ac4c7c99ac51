import Algebra
import Circuit
import Foundation
import XCTest
import ZKML

final class SoftmaxTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    /// The documented error bound: within 0.02 (real units) of the float softmax per class for
    /// logits spread over [-8, 8] (the per-exp error, the floors, and the division's floor).
    func testNativeSoftmaxIsCloseToFloat() {
        for _ in 0..<200 {
            let logits = (0..<10).map { _ in Double.random(in: -8...8) }
            let z = logits.map { Int64(($0 * 256).rounded()) }
            let p = FixedPointSoftmax.probabilities(z, format: format)
            let exps = z.map { Foundation.exp(Double($0) / 256) }
            let total = exps.reduce(0, +)
            for i in 0..<10 {
                XCTAssertEqual(Double(p[i]) / 256, exps[i] / total, accuracy: 0.02)
            }
        }
        XCTAssertEqual(FixedPointSoftmax.exp(0, format: format), 256)
        XCTAssertEqual(FixedPointSoftmax.exp(-100_000, format: format), 0)
    }

    func circuit(_ z: [Int64]) -> (ConstraintSystem<Fr>, [Variable], [Variable]) {
        let cs = ConstraintSystem<Fr>()
        let zVars = z.enumerated().map { i, v in cs.allocatePrivate("z\(i)", value: Fr(v)) }
        let p = cs.softmax(zVars.map { LinearCombination<Fr>($0) }, format: format)
        return (cs, zVars, p)
    }

    func testCircuitMatchesNativeAndRejectsTampering() {
        let z: [Int64] = [300, -120, 512, 0, -2000, 77, 511, -9000, 40, 260]
        let (cs, _, p) = circuit(z)
        XCTAssertTrue(cs.isSatisfied, "\(String(describing: cs.firstViolation()))")
        XCTAssertEqual(p.map { cs.value($0) }, FixedPointSoftmax.probabilities(z, format: format).map { Fr($0) })
        for i in [0, 2, 4] {
            cs.tamper(p[i], with: cs.value(p[i]) + .one)
            XCTAssertFalse(cs.isSatisfied, "p[\(i)] + 1 must be rejected")
            cs.tamper(p[i], with: cs.value(p[i]) - .one)
        }
        XCTAssertTrue(cs.isSatisfied)
    }
}
