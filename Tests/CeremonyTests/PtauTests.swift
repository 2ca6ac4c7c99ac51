import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import XCTest

final class PtauTests: XCTestCase {
    static var valid: [UInt8] {
        Ptau.write(PtauFile(powers: .initial(power: 3), ceremonyPower: 3, contributions: []))
    }

    func resource(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources"))
        return Array(try Data(contentsOf: url))
    }

    func read(_ bytes: [UInt8]) -> PtauError? {
        do {
            _ = try Ptau.read(bytes, file: "test.ptau")
            return nil
        } catch { return error }
    }

    func testRoundTrip() throws {
        let dir = Fixture.directory("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "alice, with a name longer than snarkjs's sixty-four byte limit for names!")
        let bytes = Fixture.file(Fixture.state(dir, phase: 1, index: 1))
        let file = try Ptau.read(bytes)
        XCTAssertEqual(file.powers.power, 4)
        XCTAssertEqual(file.contributions.count, 1)
        XCTAssertEqual(file.contributions[0].name?.utf8.count, 64)
        XCTAssertNil(file.powers.structureError())
        XCTAssertEqual(Ptau.write(file), bytes)
    }

    func testTruncatedFilesAreRejected() {
        let bytes = Self.valid
        for cut in [0, 3, 11, 12, 30, 80, 200, bytes.count / 2, bytes.count - 1] {
            XCTAssertNotNil(read(Array(bytes[0..<cut])), "a file cut at \(cut) bytes was accepted")
        }
        if case .truncated = read(Array(bytes.dropLast())) {} else { XCTFail("expected a truncation error") }
    }

    func testWrongMagicAndVersion() {
        var bytes = Self.valid
        bytes[0] = UInt8(ascii: "z")
        XCTAssertEqual(read(bytes), .notAPtau(file: "test.ptau"))
        bytes = Self.valid
        bytes[4] = 2
        XCTAssertEqual(read(bytes), .unsupportedVersion(file: "test.ptau", version: 2))
    }

    func testPointOffCurveIsRejected() throws {
        var bytes = Self.valid
        let s = try XCTUnwrap(Fixture.section(bytes, 2))
        bytes[s.offset + 64 + 40] ^= 1  // y of tauG1[1]
        guard case .invalid(_, let section, let offset, let reason) = read(bytes) else { return XCTFail("accepted") }
        XCTAssertEqual(section, "tauG1(2)")
        XCTAssertEqual(offset, s.offset + 64)
        XCTAssertTrue(reason.contains("point #1"), reason)
        // A coordinate at or above q.
        bytes = Self.valid
        for i in 0..<32 { bytes[s.offset + i] = 0xff }
        XCTAssertNotNil(read(bytes))
        // A G2 point on the twist but outside the prime-order subgroup.
        bytes = Self.valid
        let g2 = try XCTUnwrap(Fixture.section(bytes, 3))
        bytes.replaceSubrange(g2.offset..<(g2.offset + 128), with: Zkey.encode(Self.pointOutsideSubgroup()))
        guard case .invalid(_, _, _, let why) = read(bytes) else {
            return XCTFail("accepted a point outside the subgroup")
        }
        XCTAssertTrue(why.contains("subgroup"), why)
    }

    /// An on-curve G2 point of order not dividing r: x = 1, 2, ... until x^3 + b is a square.
    static func pointOutsideSubgroup() -> G2Affine {
        var x = Fq2(Fq(1), Fq(0))
        while true {
            if let y = (x.squared() * x + G2Parameters.b).squareRoot() {
                let p = G2Affine(x: x, y: y)
                if !p.isInSubgroup { return p }
            }
            x = x + Fq2(Fq(1), Fq(0))
        }
    }

    func testLyingSectionSizesAreRejected() throws {
        // A section size beyond the end of the file.
        var bytes = Self.valid
        let s2 = try XCTUnwrap(Fixture.section(bytes, 2))
        bytes[s2.offset - 8 + 5] = 0x7f
        guard case .truncated = read(bytes) else { return XCTFail("a section size past the end was accepted") }
        // Section 2 one point short, its size field telling the truth about that: the
        // container is consistent, the count is wrong for the header's power.
        bytes = Self.valid
        bytes.removeSubrange((s2.offset + s2.size - 64)..<(s2.offset + s2.size))
        let short = s2.size - 64
        for i in 0..<8 { bytes[s2.offset - 8 + i] = UInt8(truncatingIfNeeded: short >> (8 * i)) }
        guard case .invalid(_, let section, _, let reason)? = read(bytes) else { return XCTFail("accepted") }
        XCTAssertEqual(section, "tauG1(2)")
        XCTAssertTrue(reason.contains("expected"), reason)
        // Section 2's size 64 bytes too small without removing anything: the table no longer
        // lines up with the file.
        bytes = Self.valid
        for i in 0..<8 { bytes[s2.offset - 8 + i] = UInt8(truncatingIfNeeded: short >> (8 * i)) }
        XCTAssertNotNil(read(bytes))
    }

    func testOversizeLengthsAreCheckedBeforeAllocating() throws {
        // power 30 in the header: refused from the header alone.
        var bytes = Self.valid
        let header = try XCTUnwrap(Fixture.section(bytes, 1))
        bytes[header.offset + 36] = 30
        bytes[header.offset + 40] = 30
        guard case .tooLarge(_, _, _, let what, let value, _)? = read(bytes) else {
            return XCTFail("accepted power 30")
        }
        XCTAssertEqual(what, "power")
        XCTAssertEqual(value, 30)
        // A contribution count of 2^32 - 1 in a small section.
        bytes = Self.valid
        let contributions = try XCTUnwrap(Fixture.section(bytes, 7))
        for i in 0..<4 { bytes[contributions.offset + i] = 0xff }
        guard case .tooLarge(_, _, _, let what2, _, _)? = read(bytes) else { return XCTFail("accepted a huge count") }
        XCTAssertEqual(what2, "contribution count")
        // A section count of 2^32 - 1.
        bytes = Self.valid
        for i in 8..<12 { bytes[i] = 0xff }
        guard case .tooLarge? = read(bytes) else { return XCTFail("accepted a huge section count") }
    }

    func testWrongCurveAndDuplicateSections() throws {
        var bytes = Self.valid
        let header = try XCTUnwrap(Fixture.section(bytes, 1))
        bytes[header.offset + 4] ^= 1  // q
        XCTAssertNotNil(read(bytes))
        // Section 6 appended twice.
        bytes = Self.valid
        let s6 = try XCTUnwrap(Fixture.section(bytes, 6))
        bytes += Array(bytes[(s6.offset - 12)..<(s6.offset + s6.size)])
        bytes[8] += 1
        guard case .duplicateSection? = read(bytes) else { return XCTFail("accepted a duplicate section") }
    }

    func testRandomCorruptionNeverCrashes() {
        let bytes = Self.valid
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for _ in 0..<300 {
            var copy = bytes
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                copy[Int(state >> 33) % copy.count] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
            }
            _ = read(copy)
        }
    }

    /// A real snarkjs transcript (power 8, one contribution named "Dev", prepared for phase 2;
    /// `pot8_final.ptau` from github.com/Rakshitsinghhh/ZKsecret, commit cf31e4d): it parses,
    /// its powers are consistent, and a phase-2 key derived from it matches snarkjs's own
    /// Lagrange-basis points (section 12) and proves.
    func testRealSnarkjsPtauImportsAndVerifies() throws {
        let bytes = try resource("pot8_final.ptau")
        let file = try Ptau.read(bytes, file: "pot8_final.ptau")
        XCTAssertEqual(file.powers.power, 8)
        XCTAssertEqual(file.contributions.count, 1)
        XCTAssertNil(file.powers.structureError())
        let first = file.powers.firstPoints
        XCTAssertEqual(file.contributions[0].tauG1, first.tauG1)
        XCTAssertEqual(file.contributions[0].betaG2, first.betaG2)
        // Corrupting one power of the real file is caught by the structure check.
        var broken = bytes
        let s2 = try XCTUnwrap(Fixture.section(bytes, 2))
        broken.replaceSubrange((s2.offset + 100 * 64)..<(s2.offset + 101 * 64), with: Zkey.encode(G1Affine.generator))
        XCTAssertNotNil(try Ptau.read(broken).powers.structureError())

        let dir = Fixture.directory("import")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes, ptau: bytes)
        let start = try Zkey.parse(Fixture.file(Fixture.state(dir, phase: 2, index: 0)), allowInsecureTestKey: true)
        // snarkjs's Lagrange section: level k holds 2^k points from offset 2^k - 1. With delta = 1,
        // H_i is level 5's entry 2i + 1 (16-point domain), and A for wire k+1 ... is level 4.
        let lagrange = try XCTUnwrap(Fixture.section(bytes, 12))
        func level(_ k: Int, _ i: Int) throws -> G1Affine {
            let at = lagrange.offset + ((1 << k) - 1 + i) * 64
            return try Zkey.decodeG1(bytes[at..<(at + 64)])
        }
        for i in 0..<16 { XCTAssertEqual(start.key.h[i], try level(5, 2 * i + 1), "H[\(i)]") }
        // Wire 3 (v_0) is A's only entry in row 0, with coefficient 1: A_3 = L_0(tau) G1.
        XCTAssertEqual(start.key.a[3], try level(4, 0))

        _ = try t.contribute(name: "alice", phase: 2)
        let verified = try t.verify()
        XCTAssertEqual(verified.importedPhase1Contributions.count, 1)
        let key = try XCTUnwrap(verified.provingKey)
        let (r1cs, witness) = Fixture.chain
        let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
        XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: Array(witness[1...2])))
    }
}
