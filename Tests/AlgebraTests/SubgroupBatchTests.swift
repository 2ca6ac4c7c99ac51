import Algebra
import XCTest

/// The batched G2 membership test against an adversary who hides one bad point among many: a
/// point with a component of small order (10069, the smallest prime factor of the twist's
/// cofactor, where a single random combination misses it with probability 1/10069), of
/// larger order, a point of pure small order, and a random twist point.
final class SubgroupBatchTests: XCTestCase {
    static let r = Fr.modulus
    static let cofactor = BigInt(2) * Fq.modulus - Fr.modulus  // |E'(Fq2)| = r * (2q - r)

    /// `count` distinct G2 points, cheaply (consecutive multiples of a random point).
    static func g2Points(_ count: Int) -> [G2Affine] {
        let step = G2Jacobian.generator.multiplied(by: .random())
        var acc = step
        var out: [G2Jacobian] = []
        for _ in 0..<count {
            out.append(acc)
            acc = acc + step
        }
        return G2Jacobian.batchToAffine(out)
    }

    static func randomTwistPoint() -> G2Affine {
        while true {
            let x = Fq2.random()
            if let y = (x.squared() * x + G2Parameters.b).squareRoot() { return G2Affine(x: x, y: y) }
        }
    }

    /// A nonzero point of order exactly `order` (a prime factor of the cofactor).
    static func pointOfOrder(_ order: BigInt) -> G2Jacobian {
        while true {
            let t = randomTwistPoint().jacobian.multipliedByDoubleAndAdd(r * (cofactor / order))
            if !t.isInfinity { return t }
        }
    }

    func testPerPointTestMatchesOrderMultiplication() {
        let inG2 = Self.g2Points(3)
        for p in inG2 {
            XCTAssertTrue(p.isInG2)
            XCTAssertTrue(p.jacobian.isInG2)
        }
        XCTAssertTrue(G2Affine.infinity.isInG2)
        for _ in 0..<3 {
            let p = Self.randomTwistPoint()
            XCTAssertEqual(p.isInG2, p.jacobian.multipliedByDoubleAndAdd(Self.r).isInfinity)
            XCTAssertFalse(p.isInG2)
        }
        let t = Self.pointOfOrder(BigInt(10069))
        XCTAssertTrue(t.multipliedByDoubleAndAdd(BigInt(10069)).isInfinity)
        XCTAssertFalse(t.isInG2)
        XCTAssertFalse((inG2[0].jacobian + t).isInG2)
    }

    func testBatchAcceptsG2AndStatesItsBound() {
        let points = Self.g2Points(G2SubgroupBatch.batchThreshold + 300) + [.infinity]
        XCTAssertNil(G2SubgroupBatch.firstOutside(points))
        XCTAssertLessThanOrEqual(G2SubgroupBatch.soundnessErrorLog2, -128)
    }

    func testBatchFindsEachKindOfBadPoint() {
        let original = MSMKernel.current
        defer { MSMKernel.select(original) }
        for kernel in MSMKernel.allCases where MSMKernel.select(kernel) == kernel {
            findsEachKindOfBadPoint()
        }
    }

    func findsEachKindOfBadPoint() {
        let points = Self.g2Points(G2SubgroupBatch.batchThreshold + 100)
        let orders = [BigInt(10069), BigInt(5_864_401), BigInt(10069) * BigInt(5_864_401)]
        for (k, order) in orders.enumerated() {
            let t = Self.pointOfOrder(order)
            // hidden in a G2 point, at varying positions
            var bad = points
            let j = [7, points.count - 1, points.count / 2][k]
            bad[j] = (bad[j].jacobian + t).affine
            XCTAssertTrue(bad[j].isOnCurve)
            XCTAssertEqual(G2SubgroupBatch.firstOutside(bad), j, "component of order \(order)")
            // alone (pure torsion)
            var pure = points
            pure[3] = t.affine
            XCTAssertEqual(G2SubgroupBatch.firstOutside(pure), 3)
        }
        // a random twist point (a component of large order), and two bad points: the first is named
        var random = points
        random[1000] = Self.randomTwistPoint()
        random[20] = (points[20].jacobian + Self.pointOfOrder(BigInt(10069))).affine
        XCTAssertEqual(G2SubgroupBatch.firstOutside(random), 20)
    }

    /// Below the threshold the per-point path answers.
    func testSmallListsUsePerPointTests() {
        var points = Self.g2Points(10)
        XCTAssertNil(G2SubgroupBatch.firstOutside(points))
        points[4] = Self.randomTwistPoint()
        XCTAssertEqual(G2SubgroupBatch.firstOutside(points), 4)
    }

    func testRawDecodingAgreesWithFullDecoders() throws {
        let g1 = (0..<20).map { _ in G1Jacobian.generator.multiplied(by: .random()).affine }
        for p in g1 {
            let bytes = p.uncompressed()
            let decoded = bytes.withUnsafeBytes { RawPointDecoding.g1($0.baseAddress!, layout: .bigEndianC1First) }
            XCTAssertEqual(decoded, try G1Affine(uncompressed: bytes))
            var off = bytes
            off[63] ^= 1
            XCTAssertNil(off.withUnsafeBytes { RawPointDecoding.g1($0.baseAddress!, layout: .bigEndianC1First) })
        }
        for p in Self.g2Points(5) {
            let bytes = p.uncompressed()
            let decoded = bytes.withUnsafeBytes {
                RawPointDecoding.g2OnCurve($0.baseAddress!, layout: .bigEndianC1First)
            }
            XCTAssertEqual(decoded, try G2Affine(uncompressed: bytes))
            var off = bytes
            off[127] ^= 1
            XCTAssertNil(off.withUnsafeBytes { RawPointDecoding.g2OnCurve($0.baseAddress!, layout: .bigEndianC1First) })
        }
        // infinity and non-canonical coordinates are left to the full decoders
        let zeros = [UInt8](repeating: 0, count: 128)
        XCTAssertNil(zeros.withUnsafeBytes { RawPointDecoding.g1($0.baseAddress!, layout: .bigEndianC1First) })
        XCTAssertNil(
            zeros.withUnsafeBytes { RawPointDecoding.g2OnCurve($0.baseAddress!, layout: .littleEndianMontgomery) })
        let g = G1Affine.generator
        let nonCanonical = (g.x.bigInt + Fq.modulus).bigEndianBytes(count: 32) + g.y.bigEndianBytes()
        XCTAssertNil(nonCanonical.withUnsafeBytes { RawPointDecoding.g1($0.baseAddress!, layout: .bigEndianC1First) })
    }
}
