import Algebra
import Circuit
import Foundation
import XCTest

/// The fixture is a circom-format squaring chain v_{i+1} = v_i^2 + i (64 constraints,
/// 3 public outputs, private v_0 = 5) with a proof made by arkworks.
func fixture(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: "square64/" + name, withExtension: nil) else {
        throw CocoaError(.fileNoSuchFile)
    }
    return Array(try Data(contentsOf: url))
}

final class CircomFormatTests: XCTestCase {
    func testReadsFixture() throws {
        let r1cs = try Circom.readR1CS(try fixture("square64.r1cs"))
        let witness = try Circom.readWitness(try fixture("square64.wtns"))
        XCTAssertEqual(r1cs.constraintCount, 64)
        XCTAssertEqual(r1cs.numPublicOutputs, 3)
        XCTAssertEqual(r1cs.numPublicInputs, 0)
        XCTAssertEqual(r1cs.numPrivateInputs, 1)
        XCTAssertEqual(r1cs.numWires, witness.count)
        XCTAssertTrue(r1cs.isSatisfied(by: witness))
        // Recompute the chain independently: private v_0 = 5 sits after the 3 outputs.
        var v = Fr(UInt64(5))
        XCTAssertEqual(witness[4], v)
        var chain: [Fr] = []
        for i in 0..<64 {
            v = v.squared() + Fr(UInt64(i))
            chain.append(v)
        }
        XCTAssertEqual(Array(witness[1...3]), Array(chain[61...63]))
        // Public values match public.json
        let publicJSON = try JSONDecoder().decode([String].self, from: Data(try fixture("public.json")))
        XCTAssertEqual(publicJSON, witness[1...3].map(\.description))
        // A wrong witness is caught.
        var bad = witness
        bad[10] += .one
        XCTAssertNotNil(r1cs.firstUnsatisfied(bad))
    }

    /// Byte-exact apart from the header's prime, which the fixture's generator wrote as zero
    /// (p mod p) and we write as BN254's r, as circom does.
    func testRoundTripIsByteExact() throws {
        var original = try fixture("square64.r1cs")
        XCTAssertEqual(original[28..<60].allSatisfy { $0 == 0 }, true)
        original.replaceSubrange(28..<60, with: Fr.modulus.littleEndianBytes(count: 32))
        let r1cs = try Circom.readR1CS(original)
        XCTAssertEqual(Circom.writeR1CS(r1cs), original)
        var wtns = try fixture("square64.wtns")
        wtns.replaceSubrange(28..<60, with: Fr.modulus.littleEndianBytes(count: 32))
        XCTAssertEqual(Circom.writeWitness(try Circom.readWitness(wtns)), wtns)
    }

    func testConstraintSystemExportReadsBack() throws {
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("out", value: Fr(UInt64(12)))
        let a = cs.allocatePrivate("a", value: Fr(UInt64(3)))
        let b = cs.allocatePrivate("b", value: Fr(UInt64(4)))
        cs.enforce(LinearCombination(a), LinearCombination(b), LinearCombination(out))
        let back = try Circom.readR1CS(Circom.writeR1CS(cs.r1cs()))
        XCTAssertTrue(back.isSatisfied(by: try Circom.readWitness(Circom.writeWitness(cs.witness()))))
    }

    func testMalformedFilesRejected() throws {
        let good = try fixture("square64.r1cs")
        // Truncation anywhere gives a clear error, never a crash.
        for cut in [0, 3, 8, 11, 20, 60, good.count / 2, good.count - 1] {
            XCTAssertThrowsError(try Circom.readR1CS(Array(good[0..<cut])), "cut at \(cut)")
        }
        var magic = good
        magic[0] = UInt8(ascii: "x")
        XCTAssertThrowsError(try Circom.readR1CS(magic)) { error in
            guard case CircomFormatError.badMagic = error else { return XCTFail("\(error)") }
        }
        var version = good
        version[4] = 9
        XCTAssertThrowsError(try Circom.readR1CS(version)) { error in
            XCTAssertEqual(error as? CircomFormatError, .unsupportedVersion(file: "r1cs", version: 9))
        }
        // A different prime in the header (first section body starts at 12 + 12 = 24; prime at 28).
        var prime = good
        prime[28] ^= 1
        XCTAssertThrowsError(try Circom.readR1CS(prime)) { error in
            guard case CircomFormatError.wrongPrime = error else { return XCTFail("\(error)") }
        }
        // A huge declared section size must not allocate or crash.
        var huge = good
        for i in 16..<24 { huge[i] = 0xff }
        XCTAssertThrowsError(try Circom.readR1CS(huge))
        // Random bytes after a valid magic.
        for _ in 0..<50 {
            let junk = Array("r1cs".utf8) + [1, 0, 0, 0] + SecureRandom.bytes(Int.random(in: 0..<300))
            XCTAssertThrowsError(try Circom.readR1CS(junk))
        }
        // Witness: non-canonical value, wrong size.
        var wtns = try fixture("square64.wtns")
        for i in (wtns.count - 32)..<wtns.count { wtns[i] = 0xff }
        XCTAssertThrowsError(try Circom.readWitness(wtns)) { error in
            guard case CircomFormatError.invalid(_, let section, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(section, "witness(2)")
        }
        let shortW = try fixture("square64.wtns").dropLast(5)
        XCTAssertThrowsError(try Circom.readWitness(Array(shortW)))
    }

    /// Flip every byte of the constraints section in turn (a cheap exhaustive fuzz): each
    /// result either parses to a different system or throws; nothing crashes.
    func testSingleByteCorruptionNeverCrashes() throws {
        let good = try fixture("square64.r1cs")
        for i in stride(from: 0, to: good.count, by: 7) {
            var bad = good
            bad[i] ^= 0xa5
            _ = try? Circom.readR1CS(bad)
        }
    }
}

final class SquaringChainTests: XCTestCase {
    /// Our generator lays out the chain exactly as the reference script that made the fixture.
    func testMatchesFixtureByteForByte() throws {
        let (r1cs, witness) = SquaringChain.make(constraints: 64, publicOutputs: 3, start: 5)
        XCTAssertTrue(r1cs.isSatisfied(by: witness))
        var expected = try fixture("square64.r1cs")
        expected.replaceSubrange(28..<60, with: Fr.modulus.littleEndianBytes(count: 32))
        XCTAssertEqual(Circom.writeR1CS(r1cs), expected)
        XCTAssertEqual(witness, try Circom.readWitness(try fixture("square64.wtns")))
    }
}
