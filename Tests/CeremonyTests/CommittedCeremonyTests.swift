import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import XCTest

/// Phase 2 for a circuit with a commitment to witness wires (BSB22): every contribution
/// multiplies sigma (the commitment's knowledge-check secret) and eta (its blinding base) as well
/// as delta, proves knowledge of all three, and the verifier links each to the previous state.
final class CommittedCeremonyTests: XCTestCase {
    typealias LC = LinearCombination<Fr>

    static let squares: [UInt64] = [3, 5, 7, 11]
    static let statement = [Fr(UInt64(9 + 25 + 49 + 121)), Fr(UInt64(9))]

    /// Four private inputs whose squares are committed; the public sum of the squares; a
    /// product of two committed values shifted by the challenge.
    static func circuit(oracle: (@Sendable ([Fr], [Fr]) -> Fr)?) -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        let sum = cs.allocatePublic("sum_of_squares", value: statement[0])
        _ = cs.allocatePublicInput("session", value: statement[1])
        let x = squares.enumerated().map { LC(cs.allocatePrivateInput("x\($0.offset)", value: Fr($0.element))) }
        let c = squares.enumerated().map {
            LC(cs.allocateCommitted("c\($0.offset)", value: Fr($0.element * $0.element)))
        }
        for i in 0..<squares.count { cs.enforce(x[i], x[i], c[i], "square\(i)") }
        cs.enforceEqual(c[0] + c[1] + c[2] + c[3], LC(sum), "sum")
        cs.challengeOracle = oracle
        let r = LC(cs.drawChallenge())
        let product = cs.allocatePrivate(
            "product", value: (cs.value(c[0]) + cs.value(r)) * (cs.value(c[1]) + cs.value(r)))
        cs.enforce(c[0] + r, c[1] + r, LC(product), "product")
        return cs
    }

    static let r1cs = circuit(oracle: nil).r1cs()

    /// A ceremony with phase 1 from "p1" and phase-2 contributions from alice and mallory.
    func ceremony(_ name: String) throws -> String {
        let dir = Fixture.directory(name)
        var t = try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(Self.r1cs))
        _ = try t.contribute(name: "p1")
        _ = try t.contribute(name: "alice", phase: 2)
        _ = try t.contribute(name: "mallory", phase: 2)
        return dir
    }

    func testCommittedCircuitCeremonyProvesAndVerifies() throws {
        let dir = try ceremony("committed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.load(dir)
        _ = try t.applyBeacon(Array("a public beacon".utf8), iterationsExponent: 2)
        let verified = try CeremonyTranscript.load(dir).verify()
        XCTAssertEqual(verified.contributions.map(\.name), ["p1", "alice", "mallory", "beacon"])
        let key = try XCTUnwrap(verified.provingKey)
        let commitment = try XCTUnwrap(key.commitment)
        let sigma = try XCTUnwrap(key.verifyingKey.commitment?.sigma)
        XCTAssertNotEqual(sigma, .generator, "sigma was contributed to")
        XCTAssertNotEqual(commitment.etaGamma, .generator, "eta was contributed to")
        XCTAssertEqual(commitment.wires, Self.r1cs.commitment?.wires)

        let proof = try Groth16.proveCommitted(key: key, r1cs: Self.r1cs) { Self.circuit(oracle: $0) }
        XCTAssertTrue(try Groth16.verifyCommitted(key: key.verifyingKey, proof: proof, statement: Self.statement))
        XCTAssertFalse(
            try Groth16.verifyCommitted(
                key: key.verifyingKey, proof: proof, statement: [Self.statement[0] + .one, Self.statement[1]]))

        // The final state is a .zkey that carries the commitment key and reads back to the same key.
        let contents = try Zkey.parse(try XCTUnwrap(verified.zkey))
        XCTAssertEqual(contents.key.commitment, key.commitment)
        XCTAssertEqual(contents.key.verifyingKey, key.verifyingKey)
        XCTAssertEqual(contents.r1cs.commitment, Self.r1cs.commitment)
        XCTAssertEqual(contents.commitmentUpdates.count, 3)
        // Our proving.key format takes it as well.
        let (decoded, circuit) = try KeyFile.decode(KeyFile.encode(key, r1cs: Self.r1cs))
        let again = try Groth16.proveCommitted(key: decoded, r1cs: circuit) { Self.circuit(oracle: $0) }
        XCTAssertTrue(try Groth16.verifyCommitted(key: key.verifyingKey, proof: again, statement: Self.statement))
    }

    /// The starting key has sigma = eta = 1: its knowledge check is void, and `Zkey.parse`
    /// refuses it (as it refuses delta = 1) unless told the key is a throwaway.
    func testTheStartingKeyIsRefusedAsInsecure() throws {
        let dir = Fixture.directory("committed-start")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(Self.r1cs))
        _ = try t.contribute(name: "p1")
        try t.startPhase2()
        let start = Fixture.file(Fixture.state(dir, phase: 2, index: 0))
        XCTAssertThrowsError(try Zkey.parse(start)) {
            guard case .insecureKey = $0 as? ZkeyError else { return XCTFail("\($0)") }
        }
        let key = try Zkey.parse(start, allowInsecureTestKey: true).key
        XCTAssertEqual(key.verifyingKey.commitment?.sigma, .generator)
    }

    /// Mallory's state is rewritten the ways a contributor who wants to know sigma, or to break
    /// the blinding, would: each is caught and names mallory's contribution; the honest state
    /// verifies again.
    func testCommitmentKeyTamperingIsDetected() throws {
        let dir = try ceremony("committed-tamper")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = Fixture.state(dir, phase: 2, index: 2)
        let original = Fixture.file(path)
        let honest = try Zkey.parse(original)
        func put(_ edit: (inout ProvingKey, inout [Zkey.CommitmentUpdate]) -> Void) throws {
            var key = honest.key
            key.circuitHash = Groth16.circuitHash(Self.r1cs)
            var updates = honest.commitmentUpdates
            edit(&key, &updates)
            Fixture.put(
                path, try Zkey.write(key, r1cs: Self.r1cs, phase2: honest.phase2, commitmentUpdates: updates))
        }

        // sigma replaced by a value mallory knows, consistently everywhere in the key: the
        // knowledge check would be void for whoever knows it. The proof of knowledge cannot link
        // it to alice's sigma.
        let known = Fr(UInt64(1234))
        try put { key, _ in
            guard var c = key.commitment else { return }
            c.basisSigma = c.basis.map { $0.multiplied(by: known).affine }
            c.etaGammaSigma = c.etaGamma.multiplied(by: known).affine
            key.commitment = c
            key.verifyingKey.commitment?.sigma = G2Affine.generator.multiplied(by: known).affine
        }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // sigma in G2 not the one the basis carries.
        try put { key, _ in
            key.verifyingKey.commitment?.sigma = G2Affine.generator.multiplied(by: known).affine
        }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // eta/delta not eta/gamma over delta (the nu terms would not cancel, or would cancel
        // against something else).
        try put { key, _ in
            key.commitment?.etaDelta = honest.key.commitment?.etaDelta.multiplied(by: Fr(2)).affine ?? .generator
        }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // A basis point moved (it would let a prover commit to a different wire combination).
        try put { key, _ in
            guard var c = key.commitment else { return }
            c.basis[0] = (c.basis[0].jacobian + G1Affine.generator.jacobian).affine
            key.commitment = c
        }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // The sigma and eta proofs swapped, and alice's proofs replayed for mallory.
        try put { _, updates in
            var u = updates[1]
            (u.sigmaG1S, u.etaG1S) = (u.etaG1S, u.sigmaG1S)
            (u.sigmaG1SX, u.etaG1SX) = (u.etaG1SX, u.sigmaG1SX)
            (u.sigmaG2SPX, u.etaG2SPX) = (u.etaG2SPX, u.sigmaG2SPX)
            updates[1] = u
        }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)
        try put { _, updates in updates[1] = updates[0] }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // Alice's update record altered in mallory's state.
        try put { _, updates in updates[0].etaG1S = updates[0].etaG1SX }
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        Fixture.put(path, original)
        XCTAssertEqual(try CeremonyTranscript.load(dir).verify().phase2ContributionCount, 2)
    }

    /// The commitment sections are validated like the rest of the file: sizes before
    /// allocation, wire order and range, the challenge wire, a missing key section.
    func testMalformedCommitmentSectionsAreRejected() throws {
        let dir = try ceremony("committed-malformed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Fixture.file(Fixture.state(dir, phase: 2, index: 2))
        let keySection = try XCTUnwrap(Fixture.section(bytes, Zkey.commitmentKeySection))
        let updatesSection = try XCTUnwrap(Fixture.section(bytes, Zkey.commitmentUpdatesSection))
        func rejects(_ edit: (inout [UInt8]) -> Void, line: UInt = #line) {
            var b = bytes
            edit(&b)
            XCTAssertThrowsError(try Zkey.parse(b), line: line) {
                XCTAssertNotNil($0 as? ZkeyError, "\($0)", line: line)
            }
        }
        func put(_ value: UInt32, at offset: Int, in b: inout [UInt8]) {
            for k in 0..<4 { b[offset + k] = UInt8(truncatingIfNeeded: value >> UInt32(8 * k)) }
        }
        let wires = try XCTUnwrap(Self.r1cs.commitment?.wires)
        rejects { put(UInt32(Self.r1cs.numPublic - 1), at: keySection.offset, in: &$0) }  // not the last public wire
        rejects { put(UInt32.max, at: keySection.offset + 4, in: &$0) }  // count: checked before allocating
        rejects { put(0, at: keySection.offset + 4, in: &$0) }
        rejects { put(UInt32(wires[1]), at: keySection.offset + 8, in: &$0) }  // not strictly increasing
        rejects { put(UInt32(Self.r1cs.numWires), at: keySection.offset + 8 + 4 * (wires.count - 1), in: &$0) }
        rejects { put(1, at: keySection.offset + 8, in: &$0) }  // a public wire
        rejects { $0[keySection.offset + 8 + 4 * wires.count] ^= 1 }  // a basis point off the curve
        rejects { put(UInt32.max, at: updatesSection.offset, in: &$0) }
        rejects { put(1, at: updatesSection.offset, in: &$0) }  // fewer updates than contributions
        rejects { $0[updatesSection.offset - 12] = 0x33 }  // a key section without its updates (id 0x10001 -> 0x10033)
    }
}
