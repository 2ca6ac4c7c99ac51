import Algebra
import Circuit
import Foundation
import Groth16
import XCTest

/// The sections of a zkey: (id, body offset, body size), parsed independently of `Zkey`.
func zkeySections(_ bytes: [UInt8]) -> [(id: UInt32, offset: Int, size: Int)] {
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << UInt32(8 * $1) } }
    func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[o + $1]) << UInt64(8 * $1) } }
    var out: [(UInt32, Int, Int)] = []
    var o = 12
    for _ in 0..<u32(8) {
        let id = u32(o), size = Int(u64(o + 4))
        out.append((id, o + 12, size))
        o += 12 + size
    }
    return out
}

func setU32(_ bytes: inout [UInt8], at o: Int, _ v: UInt32) {
    for i in 0..<4 { bytes[o + i] = UInt8(truncatingIfNeeded: v >> UInt32(8 * i)) }
}

final class ZkeyTests: XCTestCase {
    /// The fixture circuit (squaring chain, 3 public signals) and its witness.
    static let fixture: (R1CS<Fr>, [Fr]) = {
        let r1cs = try! Circom.readR1CS(Array(try! resource("square64.r1cs")))
        let witness = try! Circom.readWitness(Array(try! resource("square64.wtns")))
        return (r1cs, witness)
    }()

    /// One snarkjs-style key for the fixture, its zkey encoding, shared by the tests.
    static let keyed: (ProvingKey, [UInt8]) = {
        let key = try! Groth16.setupSnarkjsStyle(fixture.0)
        return (key, try! Zkey.write(key, r1cs: fixture.0))
    }()

    func testSnarkjsStyleKeyProvesAndVerifies() throws {
        let (r1cs, witness) = Self.fixture
        let key = Self.keyed.0
        XCTAssertEqual(key.hForm, .oddCosetLagrange)
        XCTAssertEqual(key.h.count, key.domainSize)
        let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
        let inputs = Array(witness[1...3])
        XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: inputs))
        // Tampering with the proof or the inputs is rejected.
        let shiftedA = Proof(a: (proof.a.jacobian + G1Jacobian.generator).affine, b: proof.b, c: proof.c)
        XCTAssertFalse(try Groth16.verify(key: key.verifyingKey, proof: shiftedA, publicInputs: inputs))
        let shiftedC = Proof(a: proof.a, b: proof.b, c: (proof.c.jacobian + G1Jacobian.generator).affine)
        XCTAssertFalse(try Groth16.verify(key: key.verifyingKey, proof: shiftedC, publicInputs: inputs))
        var wrong = inputs
        wrong[2] += .one
        XCTAssertFalse(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: wrong))
    }

    func testRoundTripWriteReadProveVerify() throws {
        let (r1cs, witness) = Self.fixture
        let (key, bytes) = Self.keyed
        let contents = try Zkey.parse(bytes)
        let (imported, circuit) = (contents.key, contents.r1cs)
        XCTAssertEqual(imported.verifyingKey, key.verifyingKey)
        XCTAssertEqual(imported.a, key.a)
        XCTAssertEqual(imported.b1, key.b1)
        XCTAssertEqual(imported.b2, key.b2)
        XCTAssertEqual(imported.l, key.l)
        XCTAssertEqual(imported.h, key.h)
        XCTAssertEqual(imported.delta1, key.delta1)
        XCTAssertEqual(imported.beta1, key.beta1)
        XCTAssertEqual(imported.domainSize, key.domainSize)
        XCTAssertEqual(imported.hForm, .oddCosetLagrange)
        XCTAssertTrue(contents.phase2.contributions.isEmpty)
        // The rebuilt circuit: same A and B, no C, same counts.
        XCTAssertEqual(circuit.numWires, r1cs.numWires)
        XCTAssertEqual(circuit.numPublic, r1cs.numPublic)
        XCTAssertEqual(circuit.constraintCount, r1cs.constraintCount)
        XCTAssertEqual(circuit.c.nonZeroCount, 0)
        for j in 0..<r1cs.constraintCount {
            XCTAssertEqual(circuit.a.row(j).map(\.wire), r1cs.a.row(j).map(\.wire))
            XCTAssertEqual(circuit.a.row(j).map(\.coefficient), r1cs.a.row(j).map(\.coefficient))
            XCTAssertEqual(circuit.b.row(j).map(\.wire), r1cs.b.row(j).map(\.wire))
            XCTAssertEqual(circuit.b.row(j).map(\.coefficient), r1cs.b.row(j).map(\.coefficient))
        }
        // Prove from the imported key and rebuilt circuit; our verifier accepts.
        let proof = try Groth16.prove(key: imported, r1cs: circuit, witness: witness)
        XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: Array(witness[1...3])))
        // Re-export is byte-identical.
        XCTAssertEqual(try Zkey.write(imported, r1cs: circuit, phase2: contents.phase2), bytes)
    }

    func testImportedKeyRefusesBadWitness() throws {
        let (_, witness) = Self.fixture
        let (imported, circuit) = try Zkey.read(Self.keyed.1)
        var bad = witness
        bad[10] += .one
        XCTAssertThrowsError(try Groth16.prove(key: imported, r1cs: circuit, witness: bad)) { error in
            XCTAssertEqual(error as? Groth16Error, .witnessRejectedByKey)
        }
    }

    /// Section ids, order and sizes against the published layout.
    func testStructureMatchesPublishedFormat() throws {
        let (r1cs, _) = Self.fixture
        let (key, bytes) = Self.keyed
        XCTAssertEqual(Array(bytes[0..<4]), Array("zkey".utf8))
        XCTAssertEqual(Array(bytes[4..<12]), [1, 0, 0, 0, 10, 0, 0, 0])
        let sections = zkeySections(bytes)
        XCTAssertEqual(sections.map(\.id), Array(1...10))
        let nVars = r1cs.numWires, nPublic = r1cs.numPublic, n = key.domainSize
        let nCoefs = r1cs.a.nonZeroCount + r1cs.b.nonZeroCount + nPublic + 1
        let expected = [
            4, 4 + 32 + 4 + 32 + 12 + 3 * 64 + 3 * 128, (nPublic + 1) * 64, 4 + nCoefs * 44,
            nVars * 64, nVars * 64, nVars * 128, (nVars - nPublic - 1) * 64, n * 64, 68,
        ]
        XCTAssertEqual(sections.map(\.size), expected)
        XCTAssertEqual(sections.last.map { $0.offset + $0.size }, bytes.count)
        // Header: protocol 1; q and r as plain little-endian; nVars, nPublic, domain size.
        let header = sections[1].offset
        XCTAssertEqual(bytes[sections[0].offset], 1)
        XCTAssertEqual(Array(bytes[(header + 4)..<(header + 36)]), Fq.modulus.littleEndianBytes(count: 32))
        XCTAssertEqual(Array(bytes[(header + 40)..<(header + 72)]), Fr.modulus.littleEndianBytes(count: 32))
        // alpha1.x in Montgomery form: x * 2^256 mod q, little-endian.
        let alphaX = (key.alpha.x.bigInt * (BigInt(1) << 256)) % Fq.modulus
        XCTAssertEqual(Array(bytes[(header + 84)..<(header + 116)]), alphaX.littleEndianBytes(count: 32))
        // The first coefficient: matrix 0, row 0, its wire, value v * R^2 mod r.
        let coef = sections[3].offset + 4
        let first = r1cs.a.row(0)[0]
        var head = [UInt8](repeating: 0, count: 12)
        setU32(&head, at: 8, UInt32(first.wire))
        XCTAssertEqual(Array(bytes[coef..<(coef + 12)]), head)
        let r2 = ((BigInt(1) << 512) % Fr.modulus)
        let stored = (first.coefficient.bigInt * r2) % Fr.modulus
        XCTAssertEqual(Array(bytes[(coef + 12)..<(coef + 44)]), stored.littleEndianBytes(count: 32))
        // The last coefficient is the public row for wire nPublic: A[m + nPublic][nPublic] = 1.
        let last = sections[3].offset + sections[3].size - 44
        var tail = [UInt8](repeating: 0, count: 12)
        setU32(&tail, at: 4, UInt32(r1cs.constraintCount + nPublic))
        setU32(&tail, at: 8, UInt32(nPublic))
        XCTAssertEqual(Array(bytes[last..<(last + 12)]), tail)
        // Infinity is 64 zero bytes: the A query of a wire that never appears in A.
        if let unused = key.a.firstIndex(where: \.isInfinity) {
            let o = sections[4].offset + unused * 64
            XCTAssertEqual(Array(bytes[o..<(o + 64)]), [UInt8](repeating: 0, count: 64))
        }
    }

    func testMonomialKeyCannotBeExported() throws {
        let (r1cs, _) = Self.fixture
        let key = try Groth16.setup(r1cs)
        XCTAssertThrowsError(try Zkey.write(key, r1cs: r1cs)) { error in
            guard case ZkeyError.cannotExport(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("monomial"))
        }
    }

    /// A key whose delta is the generator (what `snarkjs groth16 setup` writes before any
    /// contribution) or whose gamma equals delta is refused unless explicitly allowed.
    func testInsecureKeyRefusedUnlessAllowed() throws {
        let (r1cs, _) = Self.fixture
        var key = Self.keyed.0
        // The header of a key before any phase-2 contribution: gamma = delta = generator.
        key.delta1 = .generator
        key.delta2 = .generator
        key.verifyingKey.delta = .generator
        key.verifyingKey.gamma = .generator
        let bytes = try Zkey.write(key, r1cs: r1cs)
        XCTAssertThrowsError(try Zkey.read(bytes)) { error in
            guard case ZkeyError.insecureKey = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("phase-2"))
        }
        let (allowed, _) = try Zkey.read(bytes, allowInsecureTestKey: true)
        XCTAssertEqual(allowed.delta1, .generator)

        // gamma = delta (random): refused too.
        var key2 = Self.keyed.0
        key2.verifyingKey.gamma = key2.delta2
        XCTAssertThrowsError(try Zkey.read(try Zkey.write(key2, r1cs: r1cs))) { error in
            guard case ZkeyError.insecureKey = error else { return XCTFail("\(error)") }
        }
    }

    /// With gamma = delta = generator, anyone can forge: A = alpha, B = beta, C = -IC(x)
    /// satisfies the pairing equation for every x. This is why such a key is refused, by the
    /// zkey reader above and by `verify` itself (it used to return true here).
    func testForgeryWithNoContributionKeyIsPossible() throws {
        let (_, witness) = Self.fixture
        var vk = Self.keyed.0.verifyingKey
        vk.gamma = .generator
        vk.delta = .generator
        let inputs = Array(witness[1...3])
        var acc = vk.ic[0].jacobian
        for (x, p) in zip(inputs, vk.ic.dropFirst()) { acc += p.multiplied(by: x) }
        let forged = Proof(a: vk.alpha, b: vk.beta, c: (-acc).affine)
        XCTAssertTrue(
            Pairing.pairingCheck([
                (-forged.a, forged.b), (vk.alpha, vk.beta), (acc.affine, vk.gamma),
                (forged.c, vk.delta),
            ]), "the forgery satisfies the pairing equation")
        XCTAssertThrowsError(try Groth16.verify(key: vk, proof: forged, publicInputs: inputs)) { error in
            guard case Groth16Error.insecureKey = error else { return XCTFail("\(error)") }
        }
    }

    // MARK: Malformed files

    func assertRejected(
        _ bytes: [UInt8], _ check: (ZkeyError) -> Bool, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try Zkey.read(bytes)
            XCTFail("accepted a malformed zkey", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty)
        }
    }

    func testTruncatedFilesAreRejectedEverywhere() throws {
        let bytes = Self.keyed.1
        // Every prefix length at a section boundary and a spread of others.
        var cuts = Set(zkeySections(bytes).flatMap { [$0.offset - 12, $0.offset, $0.offset + $0.size / 2] })
        cuts.formUnion([0, 3, 4, 11, 12, bytes.count - 1])
        for cut in cuts.sorted() where cut < bytes.count {
            assertRejected(Array(bytes[0..<cut])) { _ in true }
        }
        assertRejected(bytes + [0]) {
            if case .invalid(_, let s, _, _) = $0 { return s == "table" }
            return false
        }
    }

    func testBadHeaderFieldsAreRejected() throws {
        let bytes = Self.keyed.1
        var b = bytes
        b[0] = UInt8(ascii: "r")
        assertRejected(b) { $0 == .notAZkey(file: "circuit.zkey") }
        b = bytes
        b[4] = 2
        assertRejected(b) { $0 == .unsupportedVersion(file: "circuit.zkey", version: 2) }
        let sections = zkeySections(bytes)
        b = bytes
        b[sections[0].offset] = 2
        assertRejected(b) { $0 == .unsupportedProtocol(file: "circuit.zkey", id: 2) }
        XCTAssertTrue(ZkeyError.unsupportedProtocol(file: "f", id: 2).description.contains("PLONK"))
        // A wrong prime.
        b = bytes
        b[sections[1].offset + 4] ^= 1
        assertRejected(b) {
            if case .invalid(_, "groth16 header(2)", _, let r) = $0 { return r.contains("BN254") }
            return false
        }
        // nVars inconsistent with the section sizes.
        b = bytes
        setU32(&b, at: sections[1].offset + 72, UInt32(Self.fixture.0.numWires + 1))
        assertRejected(b) {
            if case .invalid(_, "IC(3)", _, _) = $0 { return false }
            return true
        }
        // A domain size that is not a power of two.
        b = bytes
        setU32(&b, at: sections[1].offset + 80, 100)
        assertRejected(b) {
            if case .invalid(_, "groth16 header(2)", _, let r) = $0 { return r.contains("power of two") }
            return false
        }
        // A huge section size.
        b = bytes
        for i in 0..<8 { b[sections[4].offset - 8 + i] = 0xff }
        assertRejected(b) {
            if case .truncated = $0 { return true }
            return false
        }
        // A duplicated section (id 3 written twice by renaming section 5).
        b = bytes
        setU32(&b, at: sections[4].offset - 12, 3)
        assertRejected(b) {
            if case .duplicateSection(_, "IC(3)", _) = $0 { return true }
            return false
        }
        // A missing section (id 9 renamed to an unknown id).
        b = bytes
        setU32(&b, at: sections[8].offset - 12, 42)
        assertRejected(b) { $0 == .missingSection(file: "circuit.zkey", section: "H(9)") }
    }

    func testBadPointsAreRejected() throws {
        let bytes = Self.keyed.1
        let sections = zkeySections(bytes)
        let key = Self.keyed.0
        // A point off the curve: change y of the first non-infinity A point.
        let index = key.a.firstIndex { !$0.isInfinity }!
        var b = bytes
        b[sections[4].offset + index * 64 + 32] ^= 1
        assertRejected(b) {
            if case .invalid(_, "A(5)", let o, let r) = $0 {
                return o == sections[4].offset + index * 64 && r.contains("not on the curve")
            }
            return false
        }
        // A non-canonical coordinate: x of H[0] replaced by q itself.
        b = bytes
        b.replaceSubrange(
            (sections[8].offset)..<(sections[8].offset + 32), with: Fq.modulus.littleEndianBytes(count: 32))
        assertRejected(b) {
            if case .invalid(_, "H(9)", _, let r) = $0 { return r.contains("not below the modulus") }
            return false
        }
        // A G2 point on the twist curve but outside the prime-order subgroup.
        let outside = try XCTUnwrap(Self.nonSubgroupG2Point())
        b = bytes
        let b2 = sections[6].offset + index * 128
        b.replaceSubrange(b2..<(b2 + 128), with: Self.encodeG2Montgomery(outside))
        assertRejected(b) {
            if case .invalid(_, "B2(7)", _, let r) = $0 { return r.contains("subgroup") }
            return false
        }
        // delta1 not matching delta2.
        b = bytes
        let delta1At = sections[1].offset + 84 + 2 * 64 + 2 * 128
        let other = Zkey_encodeG1Montgomery((key.delta1.jacobian + G1Jacobian.generator).affine)
        b.replaceSubrange(delta1At..<(delta1At + 64), with: other)
        assertRejected(b) {
            if case .invalid(_, "groth16 header(2)", _, let r) = $0 { return r.contains("delta1") }
            return false
        }
    }

    func testBadCoefficientsAreRejected() throws {
        let bytes = Self.keyed.1
        let sections = zkeySections(bytes)
        let first = sections[3].offset + 4
        var b = bytes
        setU32(&b, at: first, 2)
        assertRejected(b) {
            if case .invalid(_, "coefficients(4)", first, let r) = $0 { return r.contains("matrix") }
            return false
        }
        b = bytes
        setU32(&b, at: first + 8, UInt32(Self.fixture.0.numWires))
        assertRejected(b) {
            if case .invalid(_, "coefficients(4)", _, let r) = $0 { return r.contains("wire") }
            return false
        }
        b = bytes
        b.replaceSubrange((first + 12)..<(first + 44), with: Fr.modulus.littleEndianBytes(count: 32))
        assertRejected(b) {
            if case .invalid(_, "coefficients(4)", _, let r) = $0 { return r.contains("below r") }
            return false
        }
        // A count that does not match the section size.
        b = bytes
        setU32(&b, at: sections[3].offset, 5)
        assertRejected(b) {
            if case .invalid(_, "coefficients(4)", _, let r) = $0 { return r.contains("size") }
            return false
        }
        // A public row with a wrong coefficient.
        let lastCoef = sections[3].offset + sections[3].size - 44
        b = bytes
        b.replaceSubrange((lastCoef + 12)..<(lastCoef + 44), with: [UInt8](repeating: 0, count: 32))
        assertRejected(b) {
            if case .invalid(_, "coefficients(4)", _, let r) = $0 { return r.contains("public-input row") }
            return false
        }
    }

    func testRandomCorruptionNeverCrashes() throws {
        let bytes = Self.keyed.1
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? Zkey.read(b)
        }
    }

    // MARK: Helpers

    static func encodeG2Montgomery(_ p: G2Affine) -> [UInt8] {
        [p.x.c0, p.x.c1, p.y.c0, p.y.c1].flatMap { montgomeryBytes($0) }
    }

    static func montgomeryBytes(_ x: Fq) -> [UInt8] {
        ((x.bigInt * (BigInt(1) << 256)) % Fq.modulus).littleEndianBytes(count: 32)
    }

    /// A point on the G2 twist curve that is not in the order-r subgroup.
    static func nonSubgroupG2Point() -> G2Affine? {
        var x = Fq2(Fq(UInt64(1)), Fq(UInt64(1)))
        for _ in 0..<100 {
            if let y = (x.squared() * x + G2Parameters.b).squareRoot() {
                let p = G2Affine(x: x, y: y)
                if !p.isInSubgroup { return p }
            }
            x = x + Fq2.one
        }
        return nil
    }
}

func Zkey_encodeG1Montgomery(_ p: G1Affine) -> [UInt8] {
    ZkeyTests.montgomeryBytes(p.x) + ZkeyTests.montgomeryBytes(p.y)
}
