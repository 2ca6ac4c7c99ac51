import Algebra
import Circuit
import Groth16
import XCTest
import ZKML

final class ConvTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    func randomConv(
        inChannels: Int, outChannels: Int, height: Int, width: Int, kernelSize: Int, stride: Int,
        relu: Bool = true
    ) throws -> QuantizedConv2d {
        let n = outChannels * inChannels * kernelSize * kernelSize
        let w = (0..<n).map { _ in Int64.random(in: -64...64) }
        let b = (0..<outChannels).map { _ in Int64.random(in: -256...256) }
        return try QuantizedConv2d(
            inChannels: inChannels, outChannels: outChannels, height: height, width: width,
            kernelSize: kernelSize, stride: stride, weights: w, bias: b, relu: relu, format: format)
    }

    func randomInput(_ layer: QuantizedConv2d) -> [Int64] {
        (0..<layer.inputCount).map { _ in Int64.random(in: -512...512) }
    }

    /// The textbook definition, written independently of the layer: nested loops over
    /// (o, i, j, c, u, v) on 4-D indices and the floor taken in floating point (exact here).
    func referenceConv(_ layer: QuantizedConv2d, _ x: [Int64]) -> [Int64] {
        let (cin, h, w, k, s) = (layer.inChannels, layer.height, layer.width, layer.kernelSize, layer.stride)
        var out: [Int64] = []
        var i = 0
        while i < layer.outChannels {
            var r = 0
            while r + k <= h {
                var c = 0
                while c + k <= w {
                    var acc = layer.bias[i] * 256
                    for ch in 0..<cin {
                        for u in 0..<k {
                            for v in 0..<k {
                                acc += layer.weights[((i * cin + ch) * k + u) * k + v] * x[(ch * h + r + u) * w + c + v]
                            }
                        }
                    }
                    let q = Int64((Double(acc) / 256).rounded(.down))
                    out.append(layer.relu ? max(q, 0) : q)
                    c += s
                }
                r += s
            }
            i += 1
        }
        return out
    }

    func testNativeConvMatchesReferenceLoop() throws {
        let shapes: [(cin: Int, cout: Int, h: Int, w: Int, k: Int, s: Int)] = [
            (1, 1, 5, 5, 3, 1), (1, 4, 28, 28, 5, 2), (3, 2, 9, 7, 3, 2), (2, 3, 8, 10, 2, 3), (2, 2, 4, 4, 4, 1),
        ]
        var negativeOutputs = 0
        for shape in shapes {
            for relu in [true, false] {
                let layer = try randomConv(
                    inChannels: shape.cin, outChannels: shape.cout, height: shape.h, width: shape.w,
                    kernelSize: shape.k, stride: shape.s, relu: relu)
                let x = randomInput(layer)
                XCTAssertTrue(x.contains { $0 < 0 })
                let y = try layer.forward(x)
                XCTAssertEqual(
                    y.count, shape.cout * ((shape.h - shape.k) / shape.s + 1) * ((shape.w - shape.k) / shape.s + 1))
                XCTAssertEqual(y, referenceConv(layer, x), "\(shape) relu \(relu)")
                if !relu { negativeOutputs += y.filter { $0 < 0 }.count }
            }
        }
        XCTAssertGreaterThan(negativeOutputs, 0, "negative outputs are exercised")
    }

    func testCircuitMatchesNativeWithFormulaConstraintCount() throws {
        for relu in [true, false] {
            for publicOutputs in [true, false] {
                let layer = try randomConv(
                    inChannels: 2, outChannels: 3, height: 7, width: 6, kernelSize: 3, stride: 2, relu: relu)
                let x = randomInput(layer)
                let cs = ConstraintSystem<Fr>()
                let (_, _, _, ys, _) = layer.synthesize(into: cs, input: x, publicOutputs: publicOutputs)
                XCTAssertTrue(
                    cs.isSatisfied, "relu \(relu) public \(publicOutputs): \(String(describing: cs.firstViolation()))")
                XCTAssertEqual(ys.map { cs.value($0) }, try layer.forward(x).map { Fr($0) })
                // 3 x 3 x 2 outputs, each 2 * 3 * 3 products, an S + B + 2 rescale and one ReLU or output binding.
                let outputs = 3 * 3 * 2
                // Plus the stand-alone circuit's range checks: 84 inputs and 57 parameters, 25 each.
                XCTAssertEqual(
                    cs.constraintCount, outputs * (18 + 8 + 24 + 2 + (relu || publicOutputs ? 1 : 0)) + (84 + 57) * 25)
                XCTAssertEqual(cs.constraintCount, layer.constraintCount(publicOutputs: publicOutputs) + (84 + 57) * 25)
                XCTAssertEqual(cs.publicCount, publicOutputs ? outputs : 0)
            }
        }
    }

    func testTamperedWitnessIsRejected() throws {
        let layer = try randomConv(inChannels: 1, outChannels: 2, height: 6, width: 6, kernelSize: 3, stride: 1)
        let x = randomInput(layer)
        let cs = ConstraintSystem<Fr>()
        let (k, b, rescaled, ys, _) = layer.synthesize(into: cs, input: x)
        XCTAssertTrue(cs.isSatisfied)
        // An output off by one unit, in both directions.
        for delta in [Fr.one, -Fr.one] {
            cs.tamper(ys[5], with: cs.value(ys[5]) + delta)
            XCTAssertNotNil(cs.firstViolation())
            cs.tamper(ys[5], with: cs.value(ys[5]) - delta)
            XCTAssertTrue(cs.isSatisfied)
        }
        // A kernel weight or a bias changed: the products and accumulators no longer match.
        cs.tamper(k[1][4], with: cs.value(k[1][4]) + .one)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(k[1][4], with: cs.value(k[1][4]) - .one)
        cs.tamper(b[0], with: cs.value(b[0]) - .one)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(b[0], with: cs.value(b[0]) + .one)
        XCTAssertTrue(cs.isSatisfied)
        // A flipped sign bit, alone and with the ReLU output adjusted to match it.
        for (i, r) in rescaled.enumerated() {
            let bit = cs.value(r.nonNegative)
            let flipped: Fr = bit == .one ? .zero : .one
            cs.tamper(r.nonNegative, with: flipped)
            XCTAssertFalse(cs.isSatisfied, "output \(i)")
            let y = cs.value(ys[i])
            cs.tamper(ys[i], with: flipped == .one ? cs.value(r.q) : .zero)
            XCTAssertFalse(cs.isSatisfied, "output \(i) with matching ReLU")
            cs.tamper(ys[i], with: y)
            cs.tamper(r.nonNegative, with: bit)
        }
        XCTAssertTrue(cs.isSatisfied)
    }

    func testProveAndVerifySmallConv() throws {
        let layer = try randomConv(inChannels: 1, outChannels: 2, height: 8, width: 8, kernelSize: 3, stride: 1)
        let x = randomInput(layer)
        let cs = ConstraintSystem<Fr>()
        layer.synthesize(into: cs, input: x)
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        let outputs = try layer.forward(x).map { Fr($0) }
        XCTAssertEqual(outputs.count, 2 * 6 * 6)
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: outputs))
        var forged = outputs
        forged[17] += .one
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: forged))
    }

    func testCommittedConvBindsWeights() throws {
        let layer = try randomConv(inChannels: 1, outChannels: 2, height: 8, width: 8, kernelSize: 3, stride: 1)
        let x = randomInput(layer)
        let salt = Fr.random()
        let cs = ConstraintSystem<Fr>()
        let (commitment, ys) = try layer.synthesizeCommitted(into: cs, input: x, salt: salt)
        XCTAssertTrue(cs.isSatisfied)
        XCTAssertEqual(cs.value(commitment), try layer.commitment(salt: salt))
        XCTAssertEqual(ys.map { cs.value($0) }, try layer.forward(x).map { Fr($0) })
        // 64 inputs range-checked (25 constraints each), then the opening of 20 parameters:
        // their range checks and one permutation over 2 packed elements and the salt.
        // The first permutation's 13 zero-padded rate inputs and its capacity are constants.
        XCTAssertEqual(cs.constraintCount, layer.constraintCount() + 64 * 25 + 20 * 25 + 612 - 3 * 14 + 1)
        XCTAssertEqual(ParameterCommitment.constraintCount(parameters: 20, format: format), 20 * 25 + 612 - 3 * 14 + 1)

        // One weight changed: another commitment, and the changed layer cannot open the old one.
        var changed = layer
        changed.weights[7] += 1
        XCTAssertNotEqual(try changed.commitment(salt: salt), try layer.commitment(salt: salt))
        let cheat = ConstraintSystem<Fr>()
        let (cheatCommitment, _) = try changed.synthesizeCommitted(into: cheat, input: x, salt: salt)
        XCTAssertTrue(cheat.isSatisfied)
        cheat.tamper(cheatCommitment, with: cs.value(commitment))
        let violation = try XCTUnwrap(cheat.firstViolation())
        XCTAssertTrue(violation.name.contains("opening"), violation.name)

        // The same in Groth16: the proof verifies only with its own commitment.
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        let publicInputs = [cs.value(commitment)] + ys.map { cs.value($0) }
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: publicInputs))
        var forged = publicInputs
        forged[0] = try changed.commitment(salt: salt)
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: forged))
    }

    /// The commitment helper factored out of `QuantizedDense` keeps its behaviour.
    func testCommittedDenseUsesTheSharedHelper() throws {
        let w = (0..<(12 * 3)).map { _ in Int64.random(in: -64...64) }
        let b = (0..<3).map { _ in Int64.random(in: -256...256) }
        let layer = try QuantizedDense(inputs: 12, outputs: 3, weights: w, bias: b, relu: true, format: format)
        let x = (0..<12).map { _ in Int64.random(in: -512...512) }
        let salt = Fr.random()
        let cs = ConstraintSystem<Fr>()
        let (commitment, ys) = try layer.synthesizeCommitted(into: cs, input: x, salt: salt)
        XCTAssertTrue(cs.isSatisfied)
        XCTAssertEqual(cs.value(commitment), try ParameterCommitment.commit(w + b, format: format, salt: salt))
        XCTAssertEqual(ys.map { cs.value($0) }, try layer.forward(x).map { Fr($0) })
        // 12 inputs and 39 parameters range-checked; 4 packed elements and the salt: 1 permutation.
        XCTAssertEqual(cs.constraintCount, 12 * 3 + 3 * (8 + 24 + 2 + 1) + 12 * 25 + 39 * 25 + 612 - 3 * 12 + 1)
        cs.tamper(commitment, with: try ParameterCommitment.commit(w + b, format: format, salt: salt + .one))
        XCTAssertFalse(cs.isSatisfied)
    }

    func testRejectsParametersOutsideTheFormat() {
        XCTAssertThrowsError(
            try QuantizedConv2d(
                inChannels: 1, outChannels: 1, height: 4, width: 4, kernelSize: 2,
                weights: [1, 2, 3, Int64(1) << 30], bias: [0], relu: true, format: format))
        let layer = try! randomConv(inChannels: 1, outChannels: 1, height: 4, width: 4, kernelSize: 2, stride: 1)
        XCTAssertThrowsError(try layer.forward([Int64](repeating: Int64(1) << 40, count: 16)))
    }
}
