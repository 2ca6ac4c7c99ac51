import Algebra
import Circuit
import Foundation
import Groth16
import XCTest

func resource(_ name: String) throws -> Data {
    guard let url = Bundle.module.url(forResource: "square64/" + name, withExtension: nil) else {
        throw CocoaError(.fileNoSuchFile)
    }
    return try Data(contentsOf: url)
}

final class ArkworksFixtureTests: XCTestCase {
    func load() throws -> (VerifyingKey, Proof, [Fr]) {
        (
            try SnarkjsJSON.verifyingKey(try resource("verification_key.json")),
            try SnarkjsJSON.proof(try resource("proof.json")),
            try SnarkjsJSON.publicInputs(try resource("public.json"))
        )
    }

    func testAcceptsArkworksProof() throws {
        let (vk, proof, inputs) = try load()
        XCTAssertEqual(vk.publicInputCount, 3)
        XCTAssertTrue(try Groth16.verify(key: vk, proof: proof, publicInputs: inputs))
    }

    func testEthereumLayoutMatchesFixture() throws {
        let (_, proof, _) = try load()
        let hex = String(decoding: try resource("proof.eth.hex"), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        XCTAssertEqual(SHA256.hex(proof.ethereumBytes), hex)
        XCTAssertEqual(try Proof(ethereumBytes: proof.ethereumBytes), proof)
    }

    /// Any one-field change to the proof, the key or the public inputs must be rejected.
    func testRejectsEveryOneFieldChange() throws {
        let (vk, proof, inputs) = try load()
        let g1 = G1Jacobian.generator
        func shifted(_ p: G1Affine) -> G1Affine { (p.jacobian + g1).affine }
        func shifted(_ p: G2Affine) -> G2Affine { (p.jacobian + G2Jacobian.generator).affine }
        var proofs = [Proof]()
        proofs.append(Proof(a: shifted(proof.a), b: proof.b, c: proof.c))
        proofs.append(Proof(a: proof.a, b: shifted(proof.b), c: proof.c))
        proofs.append(Proof(a: proof.a, b: proof.b, c: shifted(proof.c)))
        proofs.append(Proof(a: proof.c, b: proof.b, c: proof.a))
        for bad in proofs { XCTAssertFalse(try Groth16.verify(key: vk, proof: bad, publicInputs: inputs)) }
        for i in 0..<inputs.count {
            var x = inputs
            x[i] += .one
            XCTAssertFalse(try Groth16.verify(key: vk, proof: proof, publicInputs: x))
        }
        var keys = [VerifyingKey]()
        var k = vk
        k.alpha = shifted(k.alpha)
        keys.append(k)
        k = vk
        k.beta = shifted(k.beta)
        keys.append(k)
        k = vk
        k.gamma = shifted(k.gamma)
        keys.append(k)
        k = vk
        k.delta = shifted(k.delta)
        keys.append(k)
        for i in 0..<vk.ic.count {
            k = vk
            k.ic[i] = shifted(k.ic[i])
            keys.append(k)
        }
        for bad in keys { XCTAssertFalse(try Groth16.verify(key: bad, proof: proof, publicInputs: inputs)) }
    }

    func testBadInputsAreErrorsNotFalse() throws {
        let (vk, proof, inputs) = try load()
        XCTAssertThrowsError(try Groth16.verify(key: vk, proof: proof, publicInputs: Array(inputs.dropLast())))
        XCTAssertThrowsError(
            try Groth16.verify(key: vk, proof: Proof(a: .infinity, b: proof.b, c: proof.c), publicInputs: inputs))
        // public.json with a value >= r
        let tooBig = "[\"\(Fr.modulus)\", \"1\", \"2\"]".data(using: .utf8)!
        XCTAssertThrowsError(try SnarkjsJSON.publicInputs(tooBig))
        // A proof point off the curve
        var json = String(decoding: try resource("proof.json"), as: UTF8.self)
        json = json.replacingOccurrences(
            of: "3737410053321112041814951879068531075472224002178619533590222517161771388354", with: "1")
        XCTAssertThrowsError(try SnarkjsJSON.proof(json.data(using: .utf8)!))
        XCTAssertThrowsError(try SnarkjsJSON.proof("{}".data(using: .utf8)!))
        XCTAssertThrowsError(try SnarkjsJSON.verifyingKey("not json".data(using: .utf8)!))
    }
}

final class Groth16RoundTripTests: XCTestCase {
    func testSetupProveVerifyOnFixtureR1CS() throws {
        let r1cs = try Circom.readR1CS(Array(try resource("square64.r1cs")))
        let witness = try Circom.readWitness(Array(try resource("square64.wtns")))
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: witness)
        let inputs = Array(witness[1...3])
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: inputs))
        var wrong = inputs
        wrong[0] += .one
        XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: wrong))
        // Fresh blinding: two proofs of the same statement differ but both verify.
        let again = try Groth16.prove(key: pk, r1cs: r1cs, witness: witness)
        XCTAssertNotEqual(again, proof)
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: again, publicInputs: inputs))
        // JSON round trip of key and proof
        let vk2 = try SnarkjsJSON.verifyingKey(SnarkjsJSON.encode(pk.verifyingKey))
        XCTAssertEqual(vk2, pk.verifyingKey)
        XCTAssertEqual(try SnarkjsJSON.proof(SnarkjsJSON.encode(proof)), proof)
    }

    func testSwiftBuiltCircuitAndUnsatisfyingWitnessRefused() throws {
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("out", value: Fr(UInt64(1) << 20))
        let x = cs.allocatePrivate("x", value: Fr(UInt64(1024)))
        cs.enforce(LinearCombination(x), LinearCombination(x), LinearCombination(out), "square")
        cs.assertRange(LinearCombination(x), bits: 16)
        let r1cs = cs.r1cs()
        let pk = try Groth16.setup(r1cs)
        let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: [Fr(UInt64(1) << 20)]))
        cs.tamper(x, with: Fr(UInt64(1025)))
        XCTAssertThrowsError(try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())) { error in
            guard case Groth16Error.witnessDoesNotSatisfy = error else { return XCTFail("\(error)") }
        }
    }

    /// The prover checks the witness inside the quotient's parallel pass over the rows: on a
    /// circuit of 6,000 rows (several chunks per core), two rows broken far apart, the one
    /// reported is the first, as the sequential `firstUnsatisfied` finds it; one broken row in
    /// the last chunk alone is found too.
    func testTheWitnessCheckInTheQuotientReportsTheFirstBrokenRow() throws {
        let cs = ConstraintSystem<Fr>()
        var x = LinearCombination<Fr>(cs.allocatePrivateInput("x0", value: Fr(UInt64(3))))
        var wires: [Variable] = []
        for i in 1...6_000 {
            let next = cs.allocatePrivate("x\(i)", value: cs.value(x) * cs.value(x) + Fr(UInt64(i)))
            cs.enforce(x, x, LinearCombination(next) - LinearCombination(constant: Fr(UInt64(i))), "step\(i)")
            x = LinearCombination(next)
            wires.append(next)
        }
        cs.allocatePublic("out", value: cs.value(x))
        cs.enforceEqual(LinearCombination(cs.publicVariable(0)), x, "out")
        let r1cs = cs.r1cs()
        let key = try Groth16.setup(r1cs)
        XCTAssertNoThrow(try Groth16.prove(key: key, r1cs: r1cs, witness: cs.witness()))
        for broken in [[wires[5_990]], [wires[4_100], wires[1_200]]] {
            var witness = cs.witness()
            for wire in broken { witness[cs.wire(wire)] += .one }
            let first = try XCTUnwrap(r1cs.firstUnsatisfied(witness))
            XCTAssertThrowsError(try Groth16.prove(key: key, r1cs: r1cs, witness: witness)) { error in
                XCTAssertEqual(error as? Groth16Error, .witnessDoesNotSatisfy(constraint: first))
            }
        }
    }

    func testKeyForAnotherCircuitIsRefused() throws {
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("out", value: Fr(UInt64(9)))
        let x = cs.allocatePrivate("x", value: Fr(UInt64(3)))
        cs.enforce(LinearCombination(x), LinearCombination(x), LinearCombination(out))
        let pk = try Groth16.setup(cs.r1cs())
        let r1cs = try Circom.readR1CS(Array(try resource("square64.r1cs")))
        let witness = try Circom.readWitness(Array(try resource("square64.wtns")))
        XCTAssertThrowsError(try Groth16.prove(key: pk, r1cs: r1cs, witness: witness))
    }
}

final class KeyFileTests: XCTestCase {
    func makeKey() throws -> (ProvingKey, R1CS<Fr>, [UInt8]) {
        let r1cs = try Circom.readR1CS(Array(try resource("square64.r1cs")))
        let pk = try Groth16.setup(r1cs)
        return (pk, r1cs, KeyFile.encode(pk, r1cs: r1cs))
    }

    func testRoundTripProvesAndVerifies() throws {
        let (pk, _, bytes) = try makeKey()
        let (loaded, r1cs) = try KeyFile.decode(bytes)
        XCTAssertEqual(loaded, pk)
        let witness = try Circom.readWitness(Array(try resource("square64.wtns")))
        let proof = try Groth16.prove(key: loaded, r1cs: r1cs, witness: witness)
        XCTAssertTrue(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: Array(witness[1...3])))
    }

    func testCorruptionIsDetected() throws {
        let (_, _, bytes) = try makeKey()
        for position in [0, 5, 40, 200, bytes.count / 2, bytes.count - 40, bytes.count - 1] {
            var bad = bytes
            bad[position] ^= 0x01
            XCTAssertThrowsError(try KeyFile.decode(bad), "flipped byte at \(position)")
        }
        for cut in [0, 10, 100, bytes.count - 33, bytes.count - 1] {
            XCTAssertThrowsError(try KeyFile.decode(Array(bytes[0..<cut])), "truncated at \(cut)")
        }
    }

    /// A forger who recomputes the checksum still cannot slip in an invalid point.
    func testOffCurvePointWithValidChecksumIsRejected() throws {
        let (pk, _, bytes) = try makeKey()
        let body = Array(bytes.dropLast(32))
        // alpha is the first point after the circuit: find its encoding and break y.
        let alpha = pk.alpha.uncompressed()
        guard let start = (0...(body.count - 64)).first(where: { Array(body[$0..<($0 + 64)]) == alpha }) else {
            return XCTFail("alpha not found")
        }
        var bad = body
        bad[start + 63] ^= 0x01
        bad += SHA256.hash(bad)
        XCTAssertThrowsError(try KeyFile.decode(bad)) { error in
            guard case KeyFileError.invalid = error else { return XCTFail("\(error)") }
        }
    }
}

final class BatchVerificationTests: XCTestCase {
    func testPreparedAndBatchVerification() throws {
        let r1cs = try Circom.readR1CS(Array(try resource("square64.r1cs")))
        let witness = try Circom.readWitness(Array(try resource("square64.wtns")))
        let pk = try Groth16.setup(r1cs)
        let prepared = PreparedVerifyingKey(pk.verifyingKey)
        let inputs = Array(witness[1...3])
        var batch: [(proof: Proof, publicInputs: [Fr])] = []
        for _ in 0..<4 { batch.append((try Groth16.prove(key: pk, r1cs: r1cs, witness: witness), inputs)) }
        XCTAssertTrue(try Groth16.verify(key: prepared, proof: batch[0].proof, publicInputs: inputs))
        XCTAssertTrue(try Groth16.batchVerify(key: prepared, proofs: batch))
        XCTAssertTrue(try Groth16.batchVerify(key: prepared, proofs: []))
        // One bad member spoils the batch: a wrong public input, or a tampered C.
        var wrongInput = batch
        wrongInput[2].publicInputs[0] += .one
        XCTAssertFalse(try Groth16.batchVerify(key: prepared, proofs: wrongInput))
        XCTAssertFalse(
            try Groth16.verify(key: prepared, proof: wrongInput[2].proof, publicInputs: wrongInput[2].publicInputs))
        var tampered = batch
        tampered[3].proof.c = (tampered[3].proof.c.jacobian + G1Jacobian.generator).affine
        XCTAssertFalse(try Groth16.batchVerify(key: prepared, proofs: tampered))
        // Two compensating errors (C_1 + G, C_2 - G) cannot cancel under random weights.
        var compensating = batch
        compensating[0].proof.c = (compensating[0].proof.c.jacobian + G1Jacobian.generator).affine
        compensating[1].proof.c = (compensating[1].proof.c.jacobian - G1Jacobian.generator).affine
        XCTAssertFalse(try Groth16.batchVerify(key: prepared, proofs: compensating))
        // The arkworks fixture verifies with a prepared key too.
        let vk = try SnarkjsJSON.verifyingKey(try resource("verification_key.json"))
        let proof = try SnarkjsJSON.proof(try resource("proof.json"))
        let fixtureInputs = try SnarkjsJSON.publicInputs(try resource("public.json"))
        XCTAssertTrue(try Groth16.verify(key: PreparedVerifyingKey(vk), proof: proof, publicInputs: fixtureInputs))
    }
}
