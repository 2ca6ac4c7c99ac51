import Algebra
import Circuit
import Groth16
import XCTest

/// Groth16 with a commitment to witness wires, attacked the ways the published pitfalls suggest.
final class CommittedGroth16Tests: XCTestCase {
    typealias LC = LinearCombination<Fr>

    /// A x B = C for 2x2 matrices with A, B private inputs (range-checked by lookup), C a
    /// committed hint checked by Freivalds, and trace(C) public. `forge` adds e at C[0][0] and
    /// f at C[1][0], which Freivalds misses exactly when rho = -e / f.
    func circuit(
        oracle: (@Sendable ([Fr], [Fr]) -> Fr)?, forge: (e: Int64, f: Int64)? = nil,
        challengeOverride: Fr? = nil
    ) -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        let a: [Int64] = [3, 5, 7, 11], b: [Int64] = [2, 4, 6, 8]
        var c = [Int64](repeating: 0, count: 4)
        for i in 0..<2 { for j in 0..<2 { for l in 0..<2 { c[i * 2 + j] += a[i * 2 + l] * b[l * 2 + j] } } }
        if let forge {
            c[0] += forge.e
            c[2] += forge.f
        }
        let trace = cs.allocatePublic("trace", value: Fr(c[0] + c[3]))
        _ = cs.allocatePublicInput("session", value: Fr(UInt64(42)))
        let table = LookupRangeTable<Fr>(limbBits: 4)
        let av = a.enumerated().map { LC(cs.allocatePrivateInput("a\($0.offset)", value: Fr($0.element))) }
        let bv = b.enumerated().map { LC(cs.allocatePrivateInput("b\($0.offset)", value: Fr($0.element))) }
        for (i, v) in (av + bv).enumerated() { cs.lookupRange(v, bits: 4, table: table, "range\(i)") }
        let cv = c.enumerated().map { LC(cs.allocateCommitted("c\($0.offset)", value: Fr($0.element))) }
        cs.enforceEqual(cv[0] + cv[3], LC(trace), "trace")
        let m = table.commitMultiplicities(in: cs)
        if let challengeOverride {
            cs.challengeOracle = { _, _ in challengeOverride }
        } else {
            cs.challengeOracle = oracle
        }
        let r = cs.drawChallenge()
        let powers = cs.challengePowers(r, count: 2)
        cs.freivalds(
            LCMatrix(rows: 2, columns: 2, entries: av), LCMatrix(rows: 2, columns: 2, entries: bv),
            equals: LCMatrix(rows: 2, columns: 2, entries: cv), challenge: r, rhoPowers: powers)
        table.prove(in: cs, multiplicities: m, challenge: r)
        return cs
    }

    /// Both committed verifiers, with the key's fixed G2 points prepared once or not, on the same
    /// proof: every test below runs its attack through both, and they must agree.
    func verifyBoth(key: VerifyingKey, proof: CommittedProof, statement: [Fr]) throws -> Bool {
        let plain = try Groth16.verifyCommitted(key: key, proof: proof, statement: statement)
        let prepared = try Groth16.verifyCommitted(key: PreparedVerifyingKey(key), proof: proof, statement: statement)
        XCTAssertEqual(plain, prepared, "the prepared verifier disagrees with the plain one")
        return plain
    }

    func testHonestProofVerifiesAndTheStatementIsBound() throws {
        let template = circuit(oracle: nil)
        XCTAssertNil(template.firstViolation())
        let r1cs = template.r1cs()
        XCTAssertNotNil(r1cs.commitment)
        let back = try Circom.readR1CS(Circom.writeR1CS(r1cs))
        XCTAssertEqual(back.commitment, r1cs.commitment, "the commitment section round-trips")
        let key = try Groth16.setup(r1cs)
        let proof = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        let statement = [Fr(UInt64(152)), Fr(UInt64(42))]  // trace: 3*2 + 5*6 + 7*4 + 11*8
        XCTAssertTrue(try verifyBoth(key: key.verifyingKey, proof: proof, statement: statement))
        XCTAssertFalse(
            try verifyBoth(
                key: key.verifyingKey, proof: proof, statement: [statement[0] + .one, statement[1]]))
        XCTAssertFalse(
            try verifyBoth(
                key: key.verifyingKey, proof: proof, statement: [statement[0], statement[1] + .one]))
        XCTAssertEqual(try CommittedProof(bytes: proof.bytes), proof)
        XCTAssertThrowsError(try CommittedProof(bytes: Array(proof.bytes.dropLast())))
        // The plain entry points refuse a committed circuit.
        XCTAssertThrowsError(try Groth16.prove(key: key, r1cs: r1cs, witness: template.witness()))
        XCTAssertThrowsError(
            try Groth16.verify(key: key.verifyingKey, proof: proof.proof, publicInputs: template.publicValues))
    }

    /// Batch verification of committed proofs: honest proofs pass together; a batch holding one
    /// bad proof fails, including errors built to cancel in an unweighted sum (C and the proof of
    /// knowledge K shifted by +X in one proof and -X in another), a swapped K, a wrong statement
    /// and a plain proof's kind.
    func testBatchVerificationOfCommittedProofs() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setup(r1cs)
        let prepared = PreparedVerifyingKey(key.verifyingKey)
        let statement = [Fr(UInt64(152)), Fr(UInt64(42))]
        let proofs = try (0..<3).map { _ in
            try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        }
        let honest = proofs.map { (proof: $0, statement: statement) }
        XCTAssertTrue(try Groth16.batchVerifyCommitted(key: prepared, proofs: honest))
        XCTAssertTrue(try Groth16.batchVerifyCommitted(key: prepared, proofs: []))

        let x = G1Affine.generator.multiplied(by: Fr(UInt64(7)))
        var cancelling = honest
        cancelling[0].proof.proof.c = (cancelling[0].proof.proof.c.jacobian + x).affine
        cancelling[1].proof.proof.c = (cancelling[1].proof.proof.c.jacobian + (-x)).affine
        XCTAssertFalse(try Groth16.batchVerifyCommitted(key: prepared, proofs: cancelling))
        cancelling = honest
        cancelling[0].proof.knowledge = (cancelling[0].proof.knowledge.jacobian + x).affine
        cancelling[2].proof.knowledge = (cancelling[2].proof.knowledge.jacobian + (-x)).affine
        XCTAssertFalse(try Groth16.batchVerifyCommitted(key: prepared, proofs: cancelling))
        var swapped = honest
        swapped[0].proof.knowledge = honest[1].proof.knowledge
        swapped[1].proof.knowledge = honest[0].proof.knowledge
        XCTAssertFalse(try Groth16.batchVerifyCommitted(key: prepared, proofs: swapped))
        var wrongStatement = honest
        wrongStatement[2].statement = [statement[0] + .one, statement[1]]
        XCTAssertFalse(try Groth16.batchVerifyCommitted(key: prepared, proofs: wrongStatement))
        // One by one, each altered proof is the one that fails.
        XCTAssertFalse(
            try verifyBoth(key: key.verifyingKey, proof: swapped[0].proof, statement: statement))
        XCTAssertTrue(try verifyBoth(key: key.verifyingKey, proof: honest[2].proof, statement: statement))
        XCTAssertThrowsError(
            try Groth16.batchVerifyCommitted(key: prepared, proofs: [(proofs[0], [statement[0]])]))
    }

    /// The prover picks its own challenge: with C wrong in two entries, rho* = -e/f passes the
    /// Freivalds check, so the witness satisfies the R1CS; but the verifier derives the challenge
    /// from the commitment and the statement, and the proof fails.
    func testAChallengeNotDerivedFromTheCommitmentIsRejected() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setup(r1cs)
        let e: Int64 = 5, f: Int64 = 3
        let rhoStar = -(Fr(e) * (Fr(f).inverse() ?? .zero))
        let forged = circuit(oracle: nil, forge: (e, f), challengeOverride: rhoStar)
        XCTAssertNil(forged.firstViolation(), "the forged witness satisfies the constraints at rho*")
        let commitmentKey = try XCTUnwrap(key.commitment)
        let nu = Fr.random()
        let committed = forged.committedValues
        let d =
            (MSM.multiply(bases: commitmentKey.basis, scalars: committed) + commitmentKey.etaGamma.multiplied(by: nu))
            .affine
        let k =
            (MSM.multiply(bases: commitmentKey.basisSigma, scalars: committed)
            + commitmentKey.etaGammaSigma.multiplied(by: nu)).affine
        let proof = try Groth16.proveCommittedUnchecked(
            key: key, r1cs: r1cs, witness: forged.witness(), commitment: d,
            knowledge: k, blinding: nu)
        let statement = Array(forged.publicValues.dropLast())
        XCTAssertNotEqual(Groth16.commitmentChallenge(commitment: d, statement: statement), rhoStar)
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: proof, statement: statement))
        // The same forgery without a way to choose the challenge: no witness.
        XCTAssertNotNil(circuit(oracle: nil, forge: (e, f)).firstViolation())
    }

    /// A commitment to other values than the witness's committed wires (here the honest product
    /// while the witness carries a forged one), or a commitment outside the basis's span, fails.
    func testACommitmentToOtherWiresOrOutsideTheBasisIsRejected() throws {
        let honest = circuit(oracle: nil)
        let r1cs = honest.r1cs()
        let key = try Groth16.setup(r1cs)
        let commitmentKey = try XCTUnwrap(key.commitment)
        var other = honest.committedValues
        other[0] += .one
        let nu = Fr.random()
        let d = (MSM.multiply(bases: commitmentKey.basis, scalars: other) + commitmentKey.etaGamma.multiplied(by: nu))
            .affine
        let k =
            (MSM.multiply(bases: commitmentKey.basisSigma, scalars: other)
            + commitmentKey.etaGammaSigma.multiplied(by: nu)).affine
        let statement = Array(honest.publicValues.dropLast())
        // Rebuild the witness with the challenge this commitment gives, so only the commitment is off.
        let rebuilt = circuit(oracle: { _, st in Groth16.commitmentChallenge(commitment: d, statement: st) })
        XCTAssertNil(rebuilt.firstViolation())
        let proof = try Groth16.proveCommittedUnchecked(
            key: key, r1cs: r1cs, witness: rebuilt.witness(), commitment: d,
            knowledge: k, blinding: nu)
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: proof, statement: statement))
        // An honest proof whose D is moved off the basis (by G1) with its knowledge proof kept.
        let good = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        var shifted = good
        shifted.commitment = (good.commitment.jacobian + G1Affine.generator).affine
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: shifted, statement: statement))
        var swapped = good
        swapped.knowledge = (good.knowledge.jacobian + G1Affine.generator).affine
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: swapped, statement: statement))
    }

    /// Why a verifier must pin [sigma]_2 (the split keys' hash covers it): under a key whose sigma
    /// the prover knows (a key file with sigma, basis * sigma and eta/gamma * sigma swapped
    /// consistently), the knowledge check passes for any D = K / sigma. The prover moves the
    /// public trace's term into D, D' = D + (152 - 153) IC_trace, derives the challenge from D'
    /// and the false trace 153, finishes the true witness under that challenge, and the proof
    /// verifies for 153 under the swapped key. The same proof fails under the real key.
    func testAProverWhoKnowsSigmaProvesAFalseStatement() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setup(r1cs)
        let commitmentKey = try XCTUnwrap(key.commitment)
        let s = Fr.random()
        var swapped = key.verifyingKey
        swapped.commitment?.sigma = G2Affine.generator.multiplied(by: s).affine

        let honest = circuit(oracle: nil)
        let nu = Fr.random()
        let d =
            MSM.multiply(bases: commitmentKey.basis, scalars: honest.committedValues)
            + commitmentKey.etaGamma.multiplied(by: nu)
        let trueStatement = [Fr(UInt64(152)), Fr(UInt64(42))]
        let falseStatement = [Fr(UInt64(153)), Fr(UInt64(42))]
        let moved = (d + key.verifyingKey.ic[1].multiplied(by: trueStatement[0] - falseStatement[0])).affine
        let challenge = Groth16.commitmentChallenge(commitment: moved, statement: falseStatement)
        let witness = circuit(oracle: { _, _ in challenge })
        XCTAssertNil(witness.firstViolation(), "the true witness, finished under the derived challenge")
        let forged = try Groth16.proveCommittedUnchecked(
            key: key, r1cs: r1cs, witness: witness.witness(), commitment: moved,
            knowledge: moved.multiplied(by: s).affine, blinding: nu)
        XCTAssertTrue(
            try verifyBoth(key: swapped, proof: forged, statement: falseStatement),
            "a key with a known sigma accepts a false trace")
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: forged, statement: falseStatement))
        XCTAssertFalse(try verifyBoth(key: key.verifyingKey, proof: forged, statement: trueStatement))
    }

    /// The commitment hides: two proofs of the same witness carry different commitments, neither
    /// equal to the unblinded one (a reused or missing blinding would repeat it).
    func testTheCommitmentIsFreshlyBlinded() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setup(r1cs)
        let commitmentKey = try XCTUnwrap(key.commitment)
        let p1 = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        let p2 = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        XCTAssertNotEqual(p1.commitment, p2.commitment)
        let unblinded = MSM.multiply(bases: commitmentKey.basis, scalars: circuit(oracle: nil).committedValues).affine
        XCTAssertNotEqual(p1.commitment, unblinded)
        XCTAssertNotEqual(p2.commitment, unblinded)
    }

    /// A committed key survives its file (version 2) and proves and verifies after loading; a
    /// plain key stays version 1; a file whose commitment section was stripped (version 1 with a
    /// committed circuit) or whose sigma was swapped for another valid point with the checksum
    /// recomputed is refused, the latter by the prover's own check (a sigma of +-1, whose
    /// logarithm everyone knows, already when the file is read); the Solidity export renders the
    /// committed contract.
    func testCommittedKeyFileRoundTripAndTampering() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setup(r1cs)
        let bytes = KeyFile.encode(key, r1cs: r1cs)
        XCTAssertEqual(Array(bytes[4..<8]), [2, 0, 0, 0])
        let (loaded, loadedCircuit) = try KeyFile.decode(bytes)
        XCTAssertEqual(loaded.commitment, key.commitment)
        XCTAssertEqual(loaded.verifyingKey, key.verifyingKey)
        let proof = try Groth16.proveCommitted(key: loaded, r1cs: loadedCircuit) { oracle in
            self.circuit(oracle: oracle)
        }
        XCTAssertTrue(
            try verifyBoth(
                key: key.verifyingKey, proof: proof, statement: [Fr(UInt64(152)), Fr(UInt64(42))]))

        var plainCircuit = r1cs
        plainCircuit.commitment = nil
        var stripped = key
        stripped.commitment = nil
        stripped.verifyingKey.commitment = nil
        var v1 = KeyFile.encode(stripped, r1cs: r1cs)
        XCTAssertEqual(Array(v1[4..<8]), [1, 0, 0, 0])
        XCTAssertThrowsError(try KeyFile.decode(v1)) { XCTAssertTrue("\($0)".contains("has none"), "\($0)") }
        v1 = KeyFile.encode(stripped, r1cs: plainCircuit)
        XCTAssertEqual(Array(v1[4..<8]), [1, 0, 0, 0], "a key without a commitment keeps version 1")

        var swapped = key
        swapped.verifyingKey.commitment?.sigma = G2Affine.generator
        XCTAssertThrowsError(try KeyFile.decode(KeyFile.encode(swapped, r1cs: r1cs))) {
            XCTAssertTrue("\($0)".contains("sigma is +-1"), "\($0)")
        }
        swapped.verifyingKey.commitment?.sigma = G2Affine.generator.multiplied(by: Fr.random()).affine
        let (swappedLoaded, _) = try KeyFile.decode(KeyFile.encode(swapped, r1cs: r1cs))
        XCTAssertThrowsError(
            try Groth16.proveCommitted(key: swappedLoaded, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        ) {
            XCTAssertEqual($0 as? Groth16Error, .proofRejectedByOwnKey)
        }
        XCTAssertTrue(try SolidityVerifier.render(key.verifyingKey).contains("function knowledgeCheck("))
    }

    /// A key in snarkjs's form (odd-coset H, C taken from A B) carries a commitment too: it
    /// proves and verifies, and its `.zkey` holds the commitment key in VeriSplit's sections,
    /// reading back to the same key and circuit; a plain key's `.zkey` has no such section.
    func testSnarkjsStyleCommittedKeyAndItsZkey() throws {
        let r1cs = circuit(oracle: nil).r1cs()
        let key = try Groth16.setupSnarkjsStyle(r1cs)
        XCTAssertEqual(key.hForm, .oddCosetLagrange)
        let statement = [Fr(UInt64(152)), Fr(UInt64(42))]
        let proof = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in self.circuit(oracle: oracle) }
        XCTAssertTrue(try verifyBoth(key: key.verifyingKey, proof: proof, statement: statement))

        let bytes = try Zkey.write(key, r1cs: r1cs)
        let contents = try Zkey.parse(bytes)
        XCTAssertEqual(contents.key.commitment, key.commitment)
        XCTAssertEqual(contents.key.verifyingKey, key.verifyingKey)
        XCTAssertEqual(contents.r1cs.commitment, r1cs.commitment)
        XCTAssertEqual(try Zkey.write(contents.key, r1cs: contents.r1cs), bytes)
        let again = try Groth16.proveCommitted(key: contents.key, r1cs: contents.r1cs) { oracle in
            self.circuit(oracle: oracle)
        }
        XCTAssertTrue(try verifyBoth(key: key.verifyingKey, proof: again, statement: statement))

        // The key and the circuit must agree on the commitment.
        var plainCircuit = r1cs
        plainCircuit.commitment = nil
        var plainKey = key
        plainKey.commitment = nil
        plainKey.verifyingKey.commitment = nil
        plainKey.circuitHash = Groth16.circuitHash(plainCircuit)
        XCTAssertThrowsError(try Zkey.write(key, r1cs: plainCircuit))
        XCTAssertThrowsError(try Zkey.write(plainKey, r1cs: r1cs))
        let plainBytes = try Zkey.write(plainKey, r1cs: plainCircuit)
        XCTAssertEqual(Array(plainBytes[8..<12]), [10, 0, 0, 0], "ten sections, as snarkjs writes")
        XCTAssertNil(try Zkey.parse(plainBytes).key.commitment)
    }
}
