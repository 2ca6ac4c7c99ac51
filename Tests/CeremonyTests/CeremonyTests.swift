import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import XCTest

/// Helpers shared by the ceremony tests: a scratch directory and a small circuit.
enum Fixture {
    static func directory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "verisplit-ceremony-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    /// The squaring chain with 10 constraints and 2 public outputs: 13 rows, a 16-point domain.
    static let chain = SquaringChain.make(constraints: 10, publicOutputs: 2)
    static var circuitBytes: [UInt8] { Circom.writeR1CS(chain.0) }

    static func file(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
    static func put(_ path: String, _ bytes: [UInt8]) {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    }
    static func state(_ dir: String, phase: Int, index: Int) -> String {
        "\(dir)/phase\(phase)/" + String(format: "%04d", index) + (phase == 1 ? ".ptau" : ".zkey")
    }

    /// Body offset of section `id` in a binfileutils container (`.ptau`, `.zkey`).
    static func section(_ bytes: [UInt8], _ id: UInt32) -> (offset: Int, size: Int)? {
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) } }
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        var at = 12
        for _ in 0..<Int(u32(8)) {
            let sid = u32(at), size = u64(at + 4)
            if sid == id { return (at + 12, size) }
            at += 12 + size
        }
        return nil
    }

    static func expectUnsound(
        _ transcript: CeremonyTranscript, phase: Int, index: Int, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            _ = try transcript.verify()
            XCTFail("verify accepted a broken transcript", file: file, line: line)
        } catch {
            guard case .unsound(let p, let i, _, _) = error else {
                return XCTFail("expected an unsound verdict, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(p, phase, "\(error)", file: file, line: line)
            XCTAssertEqual(i, index, "\(error)", file: file, line: line)
        }
    }
}

final class CeremonyTests: XCTestCase {
    /// Three parties contribute to both phases, a beacon closes phase 2; the transcript
    /// verifies, holds every receipt, and its keys prove and verify.
    func testThreePartyCeremonyProvesAndVerifies() throws {
        let dir = Fixture.directory("three")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        var receipts: [ContributionReceipt] = []
        for name in ["alice", "bob", "carol"] { receipts.append(try t.contribute(name: name)) }
        for name in ["alice", "bob", "carol"] { receipts.append(try t.contribute(name: name, phase: 2)) }
        receipts.append(try t.applyBeacon(Array("0102030405060708".utf8), iterationsExponent: 3))

        let reloaded = try CeremonyTranscript.load(dir)
        let verified = try reloaded.verify()
        XCTAssertEqual(
            verified.contributions.map(\.name), ["alice", "bob", "carol", "alice", "bob", "carol", "beacon"])
        XCTAssertEqual(verified.contributions.map(\.phase), [1, 1, 1, 2, 2, 2, 2])
        XCTAssertEqual(verified.contributions.last?.isBeacon, true)
        XCTAssertEqual(verified.contributions.map(\.hash), receipts.map(\.hash))
        for r in receipts { XCTAssertTrue(verified.contains(r)) }
        XCTAssertTrue(try reloaded.contains(receipt: receipts[1]))
        var stranger = receipts[4]
        stranger.hash = String(repeating: "ab", count: 32)
        XCTAssertFalse(verified.contains(stranger))

        let key = try XCTUnwrap(verified.provingKey)
        let (r1cs, witness) = Fixture.chain
        let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
        XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: Array(witness[1...2])))
        var wrong = witness
        wrong[1] = wrong[1] + .one
        XCTAssertFalse(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: Array(wrong[1...2])))

        // Keys written in our format decode to the key the transcript yields.
        let (decoded, decodedCircuit) = try KeyFile.decode(KeyFile.encode(key, r1cs: r1cs))
        XCTAssertTrue(verified.matches(decoded.verifyingKey))
        XCTAssertEqual(
            VerifiedCeremony.fingerprint(decoded.verifyingKey), VerifiedCeremony.fingerprint(key.verifyingKey))
        let again = try Groth16.prove(key: decoded, r1cs: decodedCircuit, witness: witness)
        XCTAssertTrue(try Groth16.verify(key: decoded.verifyingKey, proof: again, publicInputs: Array(witness[1...2])))

        // A key from another setup does not match the transcript.
        XCTAssertFalse(verified.matches(try Groth16.setup(r1cs).verifyingKey))
    }

    /// Coefficients of 64 bits or more (the batched circuits' packing weights) in A, B and C take the phase-2
    /// setup's bulk path (`PointBatch.Products`), on each kernel this machine has: the start key
    /// passes the verifier's independent check (`verify`), and the final key proves and refuses
    /// a wrong statement.
    func testWideCoefficientsOnEveryKernel() throws {
        typealias LC = LinearCombination<Fr>
        let wide = Fr(reducing: BigInt(1) << 200) + Fr(UInt64(3)), negative = -Fr(reducing: BigInt(1) << 130)
        let productValue = Fr(UInt64(5)) * Fr(UInt64(7)) * wide
        let sum = productValue * negative + Fr(UInt64(5)) * wide
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("out", value: sum)
        let x = cs.allocatePrivate("x", value: Fr(UInt64(5))), y = cs.allocatePrivate("y", value: Fr(UInt64(7)))
        let product = cs.allocatePrivate("product", value: productValue)
        cs.enforce(LC(x), LC(y) * wide, LC(product), "wide B")
        let wideInverse = try XCTUnwrap(wide.inverse())
        cs.enforce(LC(x), LC(y), LC(product) * wideInverse, "wide C")
        cs.enforce(LC(product) * negative + LC(x) * wide, LC.one, LC(out), "wide A and C")
        let r1cs = cs.r1cs()
        let witness = cs.witness()
        XCTAssertNil(cs.firstViolation())
        let original = MSMKernel.current
        defer { MSMKernel.select(original) }
        var kernels = 0
        for kernel in MSMKernel.allCases where MSMKernel.select(kernel) == kernel {
            kernels += 1
            let dir = Fixture.directory("wide-\(kernel)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var t = try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(r1cs))
            _ = try t.contribute(name: "alice", verifyFirst: false)
            _ = try t.contribute(name: "alice", phase: 2, verifyFirst: false)
            let key = try XCTUnwrap(try CeremonyTranscript.load(dir).verify().provingKey, "\(kernel)")
            let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
            XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: [sum]), "\(kernel)")
            XCTAssertFalse(
                try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: [sum + .one]), "\(kernel)")
        }
        XCTAssertGreaterThan(kernels, 0)
    }

    /// The final state is a snarkjs `.zkey` with the phase-2 records; read back with
    /// `Zkey.read`, it proves in snarkjs's way (odd-coset H, C from A * B) and verifies.
    func testFinalKeyWorksThroughZkey() throws {
        let dir = Fixture.directory("zkey")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "p1")
        _ = try t.contribute(name: "alice", phase: 2)
        _ = try t.contribute(name: "bob", phase: 2)
        let verified = try t.verify()
        let bytes = try XCTUnwrap(verified.zkey)
        let contents = try Zkey.parse(bytes)
        XCTAssertEqual(contents.phase2.contributions.map(\.name), ["alice", "bob"])
        XCTAssertEqual(contents.phase2.contributions.last?.deltaAfter, verified.provingKey?.delta1)
        XCTAssertEqual(contents.key.hForm, .oddCosetLagrange)
        XCTAssertTrue(verified.matches(contents.key.verifyingKey))

        let (_, witness) = Fixture.chain
        let proof = try Groth16.prove(key: contents.key, r1cs: contents.r1cs, witness: witness)
        XCTAssertTrue(
            try Groth16.verify(key: contents.key.verifyingKey, proof: proof, publicInputs: Array(witness[1...2])))

        // Rewriting with the parsed records gives the same bytes.
        let key = try XCTUnwrap(verified.provingKey)
        XCTAssertEqual(try Zkey.write(key, r1cs: Fixture.chain.0, phase2: contents.phase2), bytes)
    }

    /// A phase-1 state with one wrong power is caught, and the contribution is named.
    func testWrongPowerIsDetected() throws {
        let dir = Fixture.directory("power")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        for name in ["alice", "mallory", "carol"] { _ = try t.contribute(name: name) }
        let path = Fixture.state(dir, phase: 1, index: 2)
        var bytes = Fixture.file(path)
        let tauG1 = try XCTUnwrap(Fixture.section(bytes, 2))
        let bad = Zkey.encode(G1Affine.generator.multiplied(by: Fr(7)).affine)
        bytes.replaceSubrange((tauG1.offset + 5 * 64)..<(tauG1.offset + 6 * 64), with: bad)
        Fixture.put(path, bytes)
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 2)

        // Likewise a wrong alpha power and a wrong G2 power.
        for (section, size, k) in [(UInt32(4), 64, 3), (UInt32(3), 128, 2)] {
            let dir2 = Fixture.directory("power\(section)")
            defer { try? FileManager.default.removeItem(atPath: dir2) }
            var t2 = try CeremonyTranscript.create(directory: dir2, circuit: Fixture.circuitBytes)
            _ = try t2.contribute(name: "mallory")
            let p2 = Fixture.state(dir2, phase: 1, index: 1)
            var b2 = Fixture.file(p2)
            let s = try XCTUnwrap(Fixture.section(b2, section))
            let replacement =
                size == 64
                ? Zkey.encode(G1Affine.generator.multiplied(by: Fr(11)).affine)
                : Zkey.encode(G2Affine.generator.multiplied(by: Fr(11)).affine)
            b2.replaceSubrange((s.offset + k * size)..<(s.offset + (k + 1) * size), with: replacement)
            Fixture.put(p2, b2)
            Fixture.expectUnsound(try CeremonyTranscript.load(dir2), phase: 1, index: 1)
        }
    }

    /// A forged proof of knowledge (or one replayed from elsewhere) is caught.
    func testForgedProofOfKnowledgeIsDetected() throws {
        let dir = Fixture.directory("pok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "alice")
        _ = try t.contribute(name: "mallory")
        let path = Fixture.state(dir, phase: 1, index: 2)
        var file = try Ptau.read(Fixture.file(path))
        let honest = file.contributions[1]
        // Replaying alice's proof for mallory's step.
        file.contributions[1].tauProof = file.contributions[0].tauProof
        Fixture.put(path, Ptau.write(file))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 2)
        // A proof whose G1 pair has another ratio than its G2 pair.
        file.contributions[1] = honest
        file.contributions[1].betaProof.g1SX = file.contributions[1].betaProof.g1SX.multiplied(by: Fr(2)).affine
        Fixture.put(path, Ptau.write(file))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 2)
        // The honest record verifies again.
        file.contributions[1] = honest
        Fixture.put(path, Ptau.write(file))
        XCTAssertEqual(try CeremonyTranscript.load(dir).verify().contributions.count, 2)
        // Altering an earlier record in a later state is caught too.
        file.contributions[0].name = "eve"
        Fixture.put(path, Ptau.write(file))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 2)
    }

    /// Phase-2 states whose delta does not follow from the previous one are caught.
    func testSwappedDeltaIsDetected() throws {
        let dir = Fixture.directory("delta")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "p1")
        _ = try t.contribute(name: "alice", phase: 2)
        _ = try t.contribute(name: "mallory", phase: 2)
        let (r1cs, _) = Fixture.chain
        let first = try Zkey.parse(Fixture.file(Fixture.state(dir, phase: 2, index: 1)), allowInsecureTestKey: true)
        let path = Fixture.state(dir, phase: 2, index: 2)
        let original = Fixture.file(path)
        let second = try Zkey.parse(original, allowInsecureTestKey: true)

        // delta2 swapped for another scalar than delta1.
        var key = second.key
        key.circuitHash = Groth16.circuitHash(r1cs)
        key.delta2 = first.key.delta2
        key.verifyingKey.delta = first.key.delta2
        Fixture.put(path, try Zkey.write(key, r1cs: r1cs, phase2: second.phase2))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // Both deltas swapped back to alice's: the proof of knowledge no longer links them.
        key.delta1 = first.key.delta1
        var records = second.phase2.contributions
        records[records.count - 1].deltaAfter = first.key.delta1
        let phase2 = try Zkey.Phase2(circuitHash: second.phase2.circuitHash, contributions: records)
        Fixture.put(path, try Zkey.write(key, r1cs: r1cs, phase2: phase2))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        // H not divided by mallory's factor (delta and proof honest).
        var lazy = second.key
        lazy.circuitHash = Groth16.circuitHash(r1cs)
        lazy.h = first.key.h
        Fixture.put(path, try Zkey.write(lazy, r1cs: r1cs, phase2: second.phase2))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 2)

        Fixture.put(path, original)
        XCTAssertEqual(try CeremonyTranscript.load(dir).verify().phase2ContributionCount, 2)
    }

    /// A starting phase-2 key that is not the one the powers give (here, one entry of A
    /// changed) is caught by the randomized check.
    func testTamperedStartingKeyIsDetected() throws {
        let dir = Fixture.directory("start")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "p1")
        try t.startPhase2()
        // With no phase-2 contribution delta is the generator: no key is handed out.
        let untouched = try t.verify()
        XCTAssertNil(untouched.provingKey)
        XCTAssertNil(untouched.zkey)
        let path = Fixture.state(dir, phase: 2, index: 0)
        let contents = try Zkey.parse(Fixture.file(path), allowInsecureTestKey: true)
        var key = contents.key
        key.circuitHash = Groth16.circuitHash(Fixture.chain.0)
        key.a[4] = key.a[5]
        Fixture.put(path, try Zkey.write(key, r1cs: Fixture.chain.0, phase2: contents.phase2))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 0)
    }

    /// A beacon record whose beacon was changed afterwards is caught (the secrets are recomputed).
    func testBeaconIsRecomputed() throws {
        let dir = Fixture.directory("beacon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "alice")
        _ = try t.applyBeacon([0xde, 0xad, 0xbe, 0xef], iterationsExponent: 2)
        XCTAssertTrue(try t.verify().contributions.last?.isBeacon == true)
        let path = Fixture.state(dir, phase: 1, index: 2)
        var file = try Ptau.read(Fixture.file(path))
        file.contributions[1].beaconHash = [0xde, 0xad, 0xbe, 0xee]
        Fixture.put(path, Ptau.write(file))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 2)
        XCTAssertThrowsError(try t.applyBeacon([], iterationsExponent: 2))
        XCTAssertThrowsError(try t.applyBeacon([1], iterationsExponent: 99))
    }

    /// Misuse is refused with a usage error, not an unsound verdict.
    func testMisuseIsRefused() throws {
        let dir = Fixture.directory("misuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        XCTAssertThrowsError(try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes))
        _ = try t.contribute(name: "a", phase: 2)
        XCTAssertThrowsError(try t.contribute(name: "late", phase: 1)) { error in
            XCTAssertFalse((error as? CeremonyError)?.isUnsound ?? true)
        }
        XCTAssertThrowsError(try CeremonyTranscript.load(dir + "-missing")) { error in
            guard case .badInput = error as? CeremonyError else { return XCTFail("\(error)") }
        }
        // Powers too small for the circuit.
        let small = Ptau.write(PtauFile(powers: .initial(power: 2), ceremonyPower: 2, contributions: []))
        XCTAssertThrowsError(
            try CeremonyTranscript.create(directory: dir + "-small", circuit: Fixture.circuitBytes, ptau: small))
    }
}
