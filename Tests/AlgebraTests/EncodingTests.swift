import Algebra
import XCTest

final class EncodingTests: XCTestCase {
    func roundTrips<C: EncodableCurve>(_: C.Type) throws {
        for i in 0..<20 {
            let p = i == 0 ? AffinePoint<C>.infinity : JacobianPoint<C>.generator.multiplied(by: .random()).affine
            XCTAssertEqual(try AffinePoint<C>(uncompressed: p.uncompressed()), p)
            XCTAssertEqual(try AffinePoint<C>(compressed: p.compressed()), p)
            XCTAssertEqual(try AffinePoint<C>(snarkjs: p.snarkjsStrings()), p)
            XCTAssertEqual(p.uncompressed().count, AffinePoint<C>.uncompressedSize)
        }
    }

    func testG1RoundTrips() throws { try roundTrips(G1Parameters.self) }
    func testG2RoundTrips() throws { try roundTrips(G2Parameters.self) }

    func testG1GeneratorEIP197Layout() {
        let bytes = G1Affine.generator.uncompressed()
        XCTAssertEqual(bytes[31], 1)
        XCTAssertEqual(bytes[63], 2)
        XCTAssertEqual(bytes.filter { $0 != 0 }.count, 2)
    }

    func testG2GeneratorEIP197Layout() {
        // EIP-197 puts the imaginary part first: the generator's x.c1 starts with 0x19 0x8e 0x93 0x93.
        let bytes = G2Affine.generator.uncompressed()
        XCTAssertEqual(Array(bytes[0..<4]), [0x19, 0x8e, 0x93, 0x93])
        XCTAssertEqual(Array(bytes[32..<36]), [0x18, 0x00, 0xde, 0xef])
    }

    func testBadEncodingsRejected() {
        // Truncated
        XCTAssertThrowsError(try G1Affine(uncompressed: [UInt8](repeating: 1, count: 63)))
        XCTAssertThrowsError(try G2Affine(compressed: [UInt8](repeating: 1, count: 10)))
        // Coordinate >= q
        var big = G1Affine.generator.uncompressed()
        for i in 0..<32 { big[i] = 0xff }
        XCTAssertThrowsError(try G1Affine(uncompressed: big)) { error in
            guard case PointDecodingError.coordinate = error else { return XCTFail("\(error)") }
        }
        // Off the curve
        var off = G1Affine.generator.uncompressed()
        off[63] = 3
        XCTAssertThrowsError(try G1Affine(uncompressed: off)) { error in
            XCTAssertEqual(error as? PointDecodingError, .notOnCurve("G1"))
        }
        // On the twist but outside G2
        var found = false
        while !found {
            let x = Fq2.random()
            guard let y = (x.squared() * x + G2Parameters.b).squareRoot() else { continue }
            let bytes = G2Parameters.encodeCoordinate(x) + G2Parameters.encodeCoordinate(y)
            XCTAssertThrowsError(try G2Affine(uncompressed: bytes)) { error in
                XCTAssertEqual(error as? PointDecodingError, .notInSubgroup("G2"))
            }
            found = true
        }
        // Both flag bits set, infinity flag with junk
        var flags = G1Affine.generator.compressed()
        flags[0] |= 0xc0
        XCTAssertThrowsError(try G1Affine(compressed: flags))
        var junk = G1Affine.infinity.compressed()
        junk[5] = 1
        XCTAssertThrowsError(try G1Affine(compressed: junk))
        // x with no y on the curve: find one
        var x = Fq(UInt64(4))
        while (x.squared() * x + G1Parameters.b).squareRoot() != nil { x = x + .one }
        XCTAssertThrowsError(try G1Affine(compressed: x.bigEndianBytes())) { error in
            XCTAssertEqual(error as? PointDecodingError, .noSquareRoot("G1"))
        }
        // Decimal garbage
        XCTAssertThrowsError(try G1Affine(snarkjs: [["1"], ["2x"], ["1"]]))
        XCTAssertThrowsError(try G1Affine(snarkjs: [["1"], ["3"], ["1"]]))
        XCTAssertThrowsError(try G2Affine(snarkjs: [["1"], ["2"]]))
    }
}
