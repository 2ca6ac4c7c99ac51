import Algebra
import Circuit
import Commitment
import Groth16
import XCTest
import ZKML

final class ServerStepTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    func makeStep(inputs: Int = 8, outputs: Int = 3) throws -> ServerStep {
        let w = (0..<(inputs * outputs)).map { _ in Int64.random(in: -80...80) }
        let b = (0..<outputs).map { _ in Int64.random(in: -40...40) }
        let layer = try QuantizedDense(
            inputs: inputs, outputs: outputs, weights: w, bias: b, relu: false, format: format)
        return ServerStep(layer: layer, learningRateShift: 3)
    }

    /// The native step against a direct floating-free reference of the same formulas.
    func testNativeStepMatchesFormulas() throws {
        let step = try makeStep()
        let a = (0..<8).map { _ in Int64.random(in: 0...300) }
        let r = try step.run(activations: a, label: 1)
        let layer = step.layer
        for i in 0..<3 {
            var acc = layer.bias[i] << 8
            for j in 0..<8 { acc += layer.weights[i * 8 + j] * a[j] }
            XCTAssertEqual(r.outputs[i], acc >> 8)
            XCTAssertEqual(r.outputGradient[i], r.outputs[i] - (i == 1 ? 256 : 0))
            XCTAssertEqual(r.updated.bias[i], layer.bias[i] - (r.outputGradient[i] >> 3))
            for j in 0..<8 {
                XCTAssertEqual(
                    r.updated.weights[i * 8 + j], layer.weights[i * 8 + j] - ((r.outputGradient[i] * a[j]) >> 11))
            }
        }
        for j in 0..<8 {
            var acc: Int64 = 0
            for i in 0..<3 { acc += layer.weights[i * 8 + j] * r.outputGradient[i] }
            XCTAssertEqual(r.inputGradient[j], acc >> 8)
        }
    }

    func build(_ step: ServerStep, a: [Int64], label: Int) throws -> (ConstraintSystem<Fr>, ServerStep.Result) {
        let cs = ConstraintSystem<Fr>()
        let r = try step.synthesize(
            into: cs, activations: a, label: label, session: Fr(UInt64(77)), step: 5,
            saltBefore: .random(), saltAfter: .random())
        return (cs, r)
    }

    func testHonestStepSatisfiesAndTamperingIsRejected() throws {
        let step = try makeStep()
        let a = (0..<8).map { _ in Int64.random(in: 0...300) }
        let (cs, result) = try build(step, a: a, label: 2)
        XCTAssertTrue(cs.isSatisfied, "\(String(describing: cs.firstViolation()))")
        // Public layout: outputs dL/da (8), two commitments; inputs session, step, a (8), y (3).
        XCTAssertEqual(cs.publicCount, 8 + 2 + 2 + 8 + 3)
        XCTAssertEqual(cs.publicOutputCount, 8 + 2)
        XCTAssertEqual(cs.publicValues[0], Fr(result.inputGradient[0]))
        // A gradient off by one unit.
        let gradient = cs.publicVariable(0)
        cs.tamper(gradient, with: cs.value(gradient) + .one)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(gradient, with: cs.value(gradient) - .one)
        XCTAssertTrue(cs.isSatisfied)
        // A commitment to other updated weights (a scaled gradient: FSHA-style or 'scale-gradient').
        let after = try XCTUnwrap(cs.publicVariable(named: "commitmentAfter"))
        var forged = result.updated.weights
        forged[0] += 1
        let other = try PoseidonCommitter().commit(
            PoseidonOpening(values: (forged + result.updated.bias).map { Fr($0) }, salt: .random()))
        cs.tamper(after, with: other.value)
        XCTAssertFalse(cs.isSatisfied)
    }

    func testWrongLabelIsRejected() throws {
        let step = try makeStep()
        let a = (0..<8).map { _ in Int64.random(in: 0...300) }
        let (cs, _) = try build(step, a: a, label: 0)
        // Claim the label was class 1 while keeping the gradient computed for class 0.
        let y0 = try XCTUnwrap(cs.publicVariable(named: "y0"))
        let y1 = try XCTUnwrap(cs.publicVariable(named: "y1"))
        cs.tamper(y0, with: .zero)
        cs.tamper(y1, with: Fr(UInt64(256)))
        XCTAssertFalse(cs.isSatisfied)
    }

    func testProveAndVerifyServerStep() throws {
        let step = try makeStep(inputs: 6, outputs: 2)
        let a = (0..<6).map { _ in Int64.random(in: 0...200) }
        let (cs, _) = try build(step, a: a, label: 1)
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        let publicInputs = cs.publicValues
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: publicInputs))
        // Replay in another step or session fails.
        let outputs = cs.publicOutputCount
        var otherStep = publicInputs
        otherStep[outputs + 1] = Fr(UInt64(6))
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: otherStep))
        var otherSession = publicInputs
        otherSession[outputs] = Fr(UInt64(78))
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: otherSession))
    }
}

final class CrossEntropyServerStepTests: XCTestCase {
    func testCrossEntropyStepSatisfiesAndRejectsAForgedGradient() throws {
        let format = try FixedPointFormat(fractionBits: 8, valueBits: 24)
        let w = (0..<(8 * 4)).map { _ in Int64.random(in: -80...80) }
        let layer = try QuantizedDense(
            inputs: 8, outputs: 4, weights: w, bias: [0, 5, -5, 9], relu: false, format: format)
        let step = ServerStep(layer: layer, learningRateShift: 2, loss: .softmaxCrossEntropy)
        let a = (0..<8).map { _ in Int64.random(in: 0...400) }
        let native = try step.run(activations: a, label: 3)
        let p = FixedPointSoftmax.probabilities(try layer.forward(a), format: format)
        XCTAssertEqual(native.outputGradient, p.enumerated().map { i, v in v - (i == 3 ? 256 : 0) })
        let cs = ConstraintSystem<Fr>()
        _ = try step.synthesize(
            into: cs, activations: a, label: 3, session: .one, step: 1,
            saltBefore: .random(), saltAfter: .random())
        XCTAssertTrue(cs.isSatisfied, "\(String(describing: cs.firstViolation()))")
        let gradient = try XCTUnwrap(cs.publicVariable(named: "dLda0"))
        cs.tamper(gradient, with: cs.value(gradient) + .one)
        XCTAssertFalse(cs.isSatisfied)
    }
}
