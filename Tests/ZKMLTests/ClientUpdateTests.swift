import Algebra
import Circuit
import Commitment
import Groth16
import XCTest
import ZKML

final class ClientUpdateTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    func makeUpdate() throws -> ClientUpdate {
        let w = (0..<(6 * 3)).map { _ in Int64.random(in: -90...90) }
        // Output 0 is always active (large bias), output 1 always dead, output 2 either way.
        let layer = try QuantizedDense(
            inputs: 6, outputs: 3, weights: w, bias: [3000, -3000, 5], relu: true, format: format)
        return ClientUpdate(layer: layer, learningRateShift: 2)
    }

    func testNativeUpdateMasksTheGradientByTheReLU() throws {
        let update = try makeUpdate()
        let x = (0..<6).map { _ in Int64.random(in: -200...200) }
        let g: [Int64] = [40, -70, 13]
        let r = try update.run(input: x, outputGradient: g)
        let pre = update.layer.accumulators(x).map { $0 >> 8 }
        XCTAssertEqual(r.delta, zip(pre, g).map { $0 >= 0 ? $1 : 0 })
        XCTAssertEqual(r.activations, pre.map { max($0, 0) })
        XCTAssertEqual(r.updated, try update.layer.sgdUpdated(outputGradient: r.delta, inputs: x, learningRateShift: 2))
    }

    func testCircuitSatisfiesAndRejectsForgedUpdates() throws {
        let update = try makeUpdate()
        let x = (0..<6).map { _ in Int64.random(in: -200...200) }
        let g: [Int64] = [40, -70, 13]
        let cs = ConstraintSystem<Fr>()
        let updated = try update.synthesize(
            into: cs, input: x, outputGradient: g, session: Fr(UInt64(9)), step: 3,
            saltBefore: .random(), saltAfter: .random())
        XCTAssertTrue(cs.isSatisfied, "\(String(describing: cs.firstViolation()))")
        XCTAssertEqual(cs.publicCount, 2 + 3 + 3 + 2)
        // A different received gradient for an active neuron, with the same committed result.
        let g0 = try XCTUnwrap(cs.publicVariable(named: "G0"))
        cs.tamper(g0, with: cs.value(g0) + .one)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(g0, with: cs.value(g0) - .one)
        XCTAssertTrue(cs.isSatisfied)
        // For a dead neuron (ReLU derivative 0) the received gradient does not matter: still valid.
        let g1 = try XCTUnwrap(cs.publicVariable(named: "G1"))
        cs.tamper(g1, with: cs.value(g1) + .one)
        XCTAssertTrue(cs.isSatisfied)
        cs.tamper(g1, with: cs.value(g1) - .one)
        // A commitment to weights that did not come from this update.
        var forged = updated.weights
        forged[4] -= 1
        let other = try PoseidonCommitter().commit(
            PoseidonOpening(values: (forged + updated.bias).map { Fr($0) }, salt: .random()))
        let cAfter = try XCTUnwrap(cs.publicVariable(named: "commitmentAfter"))
        cs.tamper(cAfter, with: other.value)
        XCTAssertFalse(cs.isSatisfied)
    }

    func testProveAndVerify() throws {
        let update = try makeUpdate()
        let x = (0..<6).map { _ in Int64.random(in: 0...200) }
        let cs = ConstraintSystem<Fr>()
        try update.synthesize(
            into: cs, input: x, outputGradient: [10, 20, -30], session: .one, step: 1,
            saltBefore: .random(), saltAfter: .random())
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: cs.publicValues))
        var wrong = cs.publicValues
        wrong[2] += .one  // an activation (outputs come first) that is not what the committed weights give
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: wrong))
    }
}
