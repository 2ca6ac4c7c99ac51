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

    /// Exactly one accepted encoding of the point at infinity per format. snarkjs's projective
    /// form used to take any (x, y, 0) as infinity (and any z as a rescaled point): now only
    /// (0, 1, 0) is infinity and finite points need z = 1.
    func testInfinityHasExactlyOneEncodingPerFormat() throws {
        try infinityIsCanonical(G1Parameters.self)
        try infinityIsCanonical(G2Parameters.self)
    }

    func infinityIsCanonical<C: EncodableCurve>(_: C.Type) throws {
        typealias P = AffinePoint<C>
        let zero = C.decimalStrings(.zero), one = C.decimalStrings(.one), two = C.decimalStrings(.one + .one)
        XCTAssertEqual(P.infinity.snarkjsStrings(), [zero, one, zero])
        XCTAssertEqual(try P(snarkjs: [zero, one, zero]), .infinity)
        for other in [[zero, zero, zero], [one, one, zero], [zero, two, zero], [one, zero, zero]] {
            XCTAssertThrowsError(try P(snarkjs: other)) { error in
                XCTAssertEqual(error as? PointDecodingError, .nonCanonicalInfinity(C.name), "\(other)")
            }
        }
        // A finite point scaled by z = 2 (what snarkjs's reader would accept) and the 2-coordinate
        // form are refused; the z = 1 form is the one encoding.
        let p = JacobianPoint<C>.generator.multiplied(by: Fr(UInt64(7))).affine
        let scaled = [C.decimalStrings(p.x + p.x), C.decimalStrings(p.y + p.y), two]
        XCTAssertThrowsError(try P(snarkjs: scaled)) { error in
            XCTAssertEqual(error as? PointDecodingError, .nonCanonicalProjective(C.name))
        }
        XCTAssertThrowsError(try P(snarkjs: Array(p.snarkjsStrings().prefix(2))))
        XCTAssertEqual(try P(snarkjs: p.snarkjsStrings()), p)
        // Uncompressed: all zeros only (a single set bit is a non-point, not infinity).
        XCTAssertEqual(try P(uncompressed: [UInt8](repeating: 0, count: P.uncompressedSize)), .infinity)
        for i in [0, P.uncompressedSize / 2, P.uncompressedSize - 1] {
            var bytes = [UInt8](repeating: 0, count: P.uncompressedSize)
            bytes[i] = 1
            XCTAssertNotEqual(try? P(uncompressed: bytes), .infinity)
        }
        // Compressed: 0x80 then zeros only; the other flag combinations with a zero body are not infinity.
        var inf = [UInt8](repeating: 0, count: P.compressedSize)
        inf[0] = 0x80
        XCTAssertEqual(try P(compressed: inf), .infinity)
        for flags: UInt8 in [0x00, 0x40, 0xc0] {
            inf[0] = flags
            XCTAssertNotEqual(try? P(compressed: inf), .infinity)
        }
        inf[0] = 0x80
        inf[P.compressedSize - 1] = 1
        XCTAssertThrowsError(try P(compressed: inf))
    }

    /// Decimal coordinates have one spelling: no sign, no leading zeros, digits only, at most
    /// the modulus's digit count.
    func testDecimalCoordinatesMustBeCanonical() throws {
        XCTAssertEqual(try Fq(decimal: "0"), .zero)
        XCTAssertEqual(try Fq(decimal: "12"), Fq(UInt64(12)))
        for bad in [
            "", "012", "00", "-0", "+1", " 1", "1 ", "1e3", "0x10", "１", String(repeating: "0", count: 100) + "1",
        ] {
            XCTAssertThrowsError(try Fq(decimal: bad), bad)
            XCTAssertThrowsError(try Fr(decimal: bad), bad)
        }
        XCTAssertThrowsError(try Fr(decimal: Fr.modulus.description))
        let g = G1Affine.generator.snarkjsStrings()
        XCTAssertThrowsError(try G1Affine(snarkjs: [["0" + g[0][0]], g[1], g[2]]))
    }
}
