import Algebra
import Circuit
import Groth16
import XCTest
import ZKML

final class LayerGadgetTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    func rescaleCircuit(_ acc: Int64) -> (ConstraintSystem<Fr>, Variable, RescaledValue, Variable) {
        let cs = ConstraintSystem<Fr>()
        let a = cs.allocatePrivate("acc", value: Fr(acc))
        let r = cs.rescale(LinearCombination(a), format: format)
        let y = cs.relu(r)
        return (cs, a, r, y)
    }

    func testRescaleIsFloorDivision() {
        for acc: Int64 in [0, 1, 255, 256, 257, -1, -255, -256, -257, 123_456_789, -123_456_789] {
            let (cs, _, r, y) = rescaleCircuit(acc)
            XCTAssertTrue(cs.isSatisfied, "acc = \(acc)")
            XCTAssertEqual(cs.value(r.q), Fr(acc >> 8), "floor(\(acc) / 256)")
            XCTAssertEqual(cs.value(y), Fr(max(acc >> 8, 0)))
            XCTAssertEqual(format.rescale(acc), acc >> 8)
        }
    }

    /// The known trap: a prover shifts q by one and compensates with a remainder outside
    /// [0, 2^S). Because r is a constrained linear combination, that is rejected.
    func testShiftedQuotientWithOutOfRangeRemainderIsRejected() {
        for acc: Int64 in [1000, -1000, 0] {
            let (cs, _, r, _) = rescaleCircuit(acc)
            cs.tamper(r.q, with: cs.value(r.q) + .one)
            XCTAssertFalse(cs.isSatisfied, "q + 1 for acc = \(acc)")
            cs.tamper(r.q, with: cs.value(r.q) - .one - .one)
            XCTAssertFalse(cs.isSatisfied, "q - 1 for acc = \(acc)")
        }
    }

    func testFlippedSignBitIsRejected() {
        for acc: Int64 in [5000, -5000] {
            let (cs, _, r, y) = rescaleCircuit(acc)
            cs.tamper(r.nonNegative, with: cs.value(r.nonNegative) == .one ? .zero : .one)
            XCTAssertFalse(cs.isSatisfied)
            // Even fixing up the ReLU output to match the flipped bit does not help.
            cs.tamper(y, with: cs.value(r.nonNegative) == .one ? cs.value(r.q) : .zero)
            XCTAssertFalse(cs.isSatisfied)
        }
    }

    func testOutOfRangeQuotientIsUnsatisfiable() {
        let (cs, _, _, _) = rescaleCircuit(Int64(1) << 40)  // q = 2^32 does not fit in 24 bits
        XCTAssertFalse(cs.isSatisfied)
    }

    func randomLayer(inputs: Int, outputs: Int, relu: Bool = true) throws -> QuantizedDense {
        var g = SystemRandomNumberGenerator()
        let w = (0..<(inputs * outputs)).map { _ in Int64.random(in: -64...64, using: &g) }
        let b = (0..<outputs).map { _ in Int64.random(in: -256...256, using: &g) }
        return try QuantizedDense(inputs: inputs, outputs: outputs, weights: w, bias: b, relu: relu, format: format)
    }

    func testDenseCircuitMatchesNativeAndRejectsTampering() throws {
        let layer = try randomLayer(inputs: 20, outputs: 6)
        let x = (0..<20).map { _ in Int64.random(in: -512...512) }
        let cs = ConstraintSystem<Fr>()
        let (w, _, ys) = layer.synthesize(into: cs, input: x)
        XCTAssertTrue(cs.isSatisfied)
        XCTAssertEqual(ys.map { cs.value($0) }, try layer.forward(x).map { Fr($0) })
        XCTAssertEqual(cs.publicCount, 6)
        // Products, rescales and ReLUs, plus the range checks of 20 inputs and 126 parameters.
        XCTAssertEqual(cs.constraintCount, 20 * 6 + 6 * (8 + 24 + 2 + 1) + (20 + 126) * 25)
        // One activation off by one unit.
        cs.tamper(ys[2], with: cs.value(ys[2]) + .one)
        XCTAssertNotNil(cs.firstViolation())
        cs.tamper(ys[2], with: cs.value(ys[2]) - .one)
        XCTAssertTrue(cs.isSatisfied)
        // A different weight.
        cs.tamper(w[1][3], with: cs.value(w[1][3]) + .one)
        XCTAssertFalse(cs.isSatisfied)
    }

    func testProveAndVerifyDenseLayer() throws {
        let layer = try randomLayer(inputs: 16, outputs: 4)
        let x = (0..<16).map { _ in Int64.random(in: -300...300) }
        let cs = ConstraintSystem<Fr>()
        layer.synthesize(into: cs, input: x)
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        let outputs = try layer.forward(x).map { Fr($0) }
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: outputs))
        var forged = outputs
        forged[0] += .one
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: forged))
    }

    func testFormatBounds() {
        XCTAssertThrowsError(try FixedPointFormat(fractionBits: 0, valueBits: 24))
        XCTAssertThrowsError(try FixedPointFormat(fractionBits: 8, valueBits: 63))
        XCTAssertThrowsError(try format.quantize(1e9))
        XCTAssertEqual(try format.quantize(1.5), 384)
        XCTAssertEqual(try format.quantize(-0.5), -128)
        XCTAssertEqual(Fr(Int64(-77)).signedInt64, -77)
        XCTAssertNil(Fr.random().signedInt64, "random field elements almost never fit in 64 bits")
    }
}
