import Algebra
import Circuit
import Groth16
import XCTest

/// Key loading with batched G2 membership: a forger who recomputes the checksum and hides one
/// bad point in a key large enough for the batched path (more than 1024 wires) is refused, and
/// the error names the first bad point.
final class KeyLoadingTests: XCTestCase {
    static let chain = SquaringChain.make(constraints: 1200, publicOutputs: 1)
    static let key: ProvingKey = {
        do { return try Groth16.setup(chain.0) } catch { preconditionFailure("setup of the test chain: \(error)") }
    }()
    static let bytes = KeyFile.encode(key, r1cs: chain.0)

    /// The key file with the encoding of `old` replaced by `new` and the checksum recomputed.
    func forged(_ replacements: [([UInt8], [UInt8])]) throws -> [UInt8] {
        var body = Array(Self.bytes.dropLast(32))
        for (old, new) in replacements {
            guard let at = Self.find(old, in: body) else { throw XCTSkip("encoding not found") }
            body.replaceSubrange(at..<(at + old.count), with: new)
        }
        return body + SHA256.hash(body)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first else { return nil }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == first, Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    static func randomTwistPoint() -> G2Affine {
        while true {
            let x = Fq2.random()
            if let y = (x.squared() * x + G2Parameters.b).squareRoot() { return G2Affine(x: x, y: y) }
        }
    }

    /// P + T with T of order 10069: on the curve, outside G2, and as hard as it gets for one
    /// random combination.
    static func withSmallOrderComponent(_ p: G2Affine) -> G2Affine {
        let cofactor = BigInt(2) * Fq.modulus - Fr.modulus
        while true {
            let t = randomTwistPoint().jacobian.multipliedByDoubleAndAdd(Fr.modulus * (cofactor / BigInt(10069)))
            if !t.isInfinity { return (p.jacobian + t).affine }
        }
    }

    func assertRefused(_ bytes: [UInt8], _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try KeyFile.decode(bytes), file: file, line: line) { error in
            guard case KeyFileError.invalid(_, _, let r) = error else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertTrue(r.contains(reason), "\(r) should mention \(reason)", file: file, line: line)
        }
    }

    func testLargeKeyRoundTrip() throws {
        XCTAssertGreaterThan(Self.key.b2.count, G2SubgroupBatch.batchThreshold)
        let (loaded, r1cs) = try KeyFile.decode(Self.bytes)
        XCTAssertEqual(loaded, Self.key)
        let proof = try Groth16.prove(key: loaded, r1cs: r1cs, witness: Self.chain.1)
        XCTAssertTrue(try Groth16.verify(key: Self.key.verifyingKey, proof: proof, publicInputs: [Self.chain.1[1]]))
    }

    func testG2PointOutsideSubgroupIsRefused() throws {
        let j = 777
        let bad = Self.withSmallOrderComponent(Self.key.b2[j])
        XCTAssertTrue(bad.isOnCurve)
        assertRefused(
            try forged([(Self.key.b2[j].uncompressed(), bad.uncompressed())]),
            "B2[\(j)]: G2 point is not in the prime-order subgroup")
        let random = Self.randomTwistPoint()
        assertRefused(
            try forged([(Self.key.b2[5].uncompressed(), random.uncompressed())]),
            "B2[5]: G2 point is not in the prime-order subgroup")
    }

    func testOffCurvePointsAreRefused() throws {
        var offCurve = Self.key.b2[900].uncompressed()
        offCurve[127] ^= 1
        assertRefused(
            try forged([(Self.key.b2[900].uncompressed(), offCurve)]), "B2[900]: G2 point is not on the curve")
        var offCurveG1 = Self.key.a[1100].uncompressed()
        offCurveG1[63] ^= 1
        assertRefused(
            try forged([(Self.key.a[1100].uncompressed(), offCurveG1)]), "A[1100]: G1 point is not on the curve")
        var nonCanonical = Self.key.h[10].uncompressed()
        nonCanonical[0] |= 0xc0  // x >= q
        assertRefused(try forged([(Self.key.h[10].uncompressed(), nonCanonical)]), "H[10]")
    }

    /// A subgroup failure before a curve failure is the one reported (the lowest index), and the
    /// other way round.
    func testLowestIndexedFailureIsNamed() throws {
        var offCurve = Self.key.b2[1000].uncompressed()
        offCurve[127] ^= 1
        let outside = Self.withSmallOrderComponent(Self.key.b2[300]).uncompressed()
        assertRefused(
            try forged([(Self.key.b2[1000].uncompressed(), offCurve), (Self.key.b2[300].uncompressed(), outside)]),
            "B2[300]: G2 point is not in the prime-order subgroup")
        let late = Self.withSmallOrderComponent(Self.key.b2[1100]).uncompressed()
        var early = Self.key.b2[40].uncompressed()
        early[127] ^= 1
        assertRefused(
            try forged([(Self.key.b2[1100].uncompressed(), late), (Self.key.b2[40].uncompressed(), early)]),
            "B2[40]: G2 point is not on the curve")
    }
}
