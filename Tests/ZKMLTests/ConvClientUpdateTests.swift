import Algebra
import Circuit
import Commitment
import Groth16
import XCTest
import ZKML

final class ConvClientUpdateTests: XCTestCase {
    let format = try! FixedPointFormat(fractionBits: 8, valueBits: 24)

    func makeUpdate() throws -> ConvClientUpdate {
        let kernel = (0..<(2 * 9)).map { _ in Int64.random(in: -100...100) }
        // Filter 0 always active (large bias); filter 1 with a moderate bias.
        let conv = try QuantizedConv2d(
            inChannels: 1, outChannels: 2, height: 6, width: 6, kernelSize: 3, stride: 1,
            weights: kernel, bias: [5000, 10], relu: true, format: format)
        return ConvClientUpdate(layer: conv, learningRateShift: 3)
    }

    /// The native update against a direct loop over (filter, tap, position).
    func testNativeUpdateMatchesReference() throws {
        let update = try makeUpdate()
        let x = (0..<36).map { _ in Int64.random(in: 0...256) }
        let g = (0..<32).map { _ in Int64.random(in: -300...300) }
        let r = try update.run(input: x, outputGradient: g)
        let layer = update.layer
        let pre = try layer.accumulators(x).map { $0 >> 8 }
        for o in 0..<2 {
            for u in 0..<3 {
                for v in 0..<3 {
                    var sum: Int64 = 0
                    for i in 0..<4 {
                        for j in 0..<4 {
                            let p = o * 16 + i * 4 + j
                            let d = pre[p] >= 0 ? g[p] : 0
                            sum += d * x[(i + u) * 6 + (j + v)]
                        }
                    }
                    XCTAssertEqual(r.updated.weights[o * 9 + u * 3 + v], layer.weights[o * 9 + u * 3 + v] - (sum >> 11))
                }
            }
        }
    }

    func testCircuitSatisfiesProvesAndRejectsForgery() throws {
        let update = try makeUpdate()
        let x = (0..<36).map { _ in Int64.random(in: 0...256) }
        let g = (0..<32).map { _ in Int64.random(in: -300...300) }
        let layout = PackingLayout(bits: 9, signed: false)
        let dataset = try CommittedDataset(
            values: [x], labels: [1], classes: 2, layout: layout, depth: 2, secret: [1, 2, 3])
        let cs = ConstraintSystem<Fr>()
        let updated = try update.synthesize(
            into: cs, sample: try dataset.opening(0), layout: layout, outputGradient: g,
            session: .one, step: 4, saltBefore: .random(), saltAfter: .random())
        XCTAssertTrue(cs.isSatisfied, "\(String(describing: cs.firstViolation()))")
        // Outputs: the sample leaf, A (32), two commitments; inputs: session, step, label, G (32).
        XCTAssertEqual(cs.publicCount, 1 + 32 + 2 + 3 + 32)
        // G for an output of the always-active filter 0.
        let g0 = try XCTUnwrap(cs.publicVariable(named: "G0"))
        cs.tamper(g0, with: cs.value(g0) + .one)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(g0, with: cs.value(g0) - .one)
        var forged = updated.weights
        forged[0] += 1
        let other = try PoseidonCommitter().commit(
            PoseidonOpening(values: (forged + updated.bias).map { Fr($0) }, salt: .random()))
        let after = try XCTUnwrap(cs.publicVariable(named: "commitmentAfter"))
        let honest = cs.value(after)
        cs.tamper(after, with: other.value)
        XCTAssertFalse(cs.isSatisfied)
        cs.tamper(after, with: honest)
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: cs.publicValues))
    }
}
