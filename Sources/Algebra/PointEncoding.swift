/// Byte and text encodings of BN254 points. Every decoder validates: coordinates below q,
/// the point on the curve, and (G2) in the prime-order subgroup.
///
/// - Uncompressed (EIP-197): G1 = x || y, G2 = x.c1 || x.c0 || y.c1 || y.c0, each coordinate
///   32 bytes big-endian; the point at infinity is all zeros.
/// - Compressed: x only (G1 32 bytes, G2 64 bytes in the same order) with two flag bits in the
///   first byte, which are free because q < 2^254: bit 7 = infinity, bit 6 = y is the larger root.
/// - snarkjs decimal: G1 ["x", "y", "1"], G2 [["x.c0","x.c1"], ["y.c0","y.c1"], ["1","0"]],
///   z = 1, and the point at infinity exactly ["0", "1", "0"] (G2 [["0","0"], ["1","0"], ["0","0"]]).
///
/// Each format has exactly one accepted encoding of every point, the point at infinity
/// included (uncompressed: all zeros; compressed: 0x80 then zeros; snarkjs: (0, 1, 0)):
/// decoding then re-encoding gives back the input bytes, which the tests check on mutated
/// inputs.
public protocol EncodableCurve: CurveParameters {
    /// Bytes of one base-field element.
    static var coordinateBytes: Int { get }
    static func encodeCoordinate(_ x: BaseField) -> [UInt8]
    static func decodeCoordinate(_ bytes: ArraySlice<UInt8>) throws(FieldDecodingError) -> BaseField
    static func squareRoot(_ x: BaseField) -> BaseField?
    static func isLarger(_ y: BaseField) -> Bool
    /// snarkjs decimal strings of one coordinate (1 string for Fq, 2 for Fq2).
    static func decimalStrings(_ x: BaseField) -> [String]
    static func coordinate(decimal: [String]) throws(FieldDecodingError) -> BaseField
}

extension G1Parameters: EncodableCurve {
    public static var coordinateBytes: Int { 32 }
    public static func encodeCoordinate(_ x: Fq) -> [UInt8] { x.bigEndianBytes() }
    public static func decodeCoordinate(_ bytes: ArraySlice<UInt8>) throws(FieldDecodingError) -> Fq {
        try Fq(bigEndian: bytes)
    }
    public static func squareRoot(_ x: Fq) -> Fq? { x.squareRoot() }
    public static func isLarger(_ y: Fq) -> Bool { y.isNegativeSigned }
    public static func decimalStrings(_ x: Fq) -> [String] { [x.description] }
    public static func coordinate(decimal: [String]) throws(FieldDecodingError) -> Fq {
        guard decimal.count == 1 else { throw .notANumber(decimal.joined(separator: ",")) }
        return try Fq(decimal: decimal[0])
    }
}

extension G2Parameters: EncodableCurve {
    public static var coordinateBytes: Int { 64 }
    public static func encodeCoordinate(_ x: Fq2) -> [UInt8] { x.c1.bigEndianBytes() + x.c0.bigEndianBytes() }
    public static func decodeCoordinate(_ bytes: ArraySlice<UInt8>) throws(FieldDecodingError) -> Fq2 {
        let mid = bytes.startIndex + 32
        let c1 = try Fq(bigEndian: bytes[bytes.startIndex..<mid])
        let c0 = try Fq(bigEndian: bytes[mid..<bytes.endIndex])
        return Fq2(c0, c1)
    }
    public static func squareRoot(_ x: Fq2) -> Fq2? { x.squareRoot() }
    public static func isLarger(_ y: Fq2) -> Bool { y.isLexicographicallyLarge }
    public static func decimalStrings(_ x: Fq2) -> [String] { [x.c0.description, x.c1.description] }
    public static func coordinate(decimal: [String]) throws(FieldDecodingError) -> Fq2 {
        guard decimal.count == 2 else { throw .notANumber(decimal.joined(separator: ",")) }
        return Fq2(try Fq(decimal: decimal[0]), try Fq(decimal: decimal[1]))
    }
}

extension AffinePoint where C: EncodableCurve {
    public static var uncompressedSize: Int { 2 * C.coordinateBytes }
    public static var compressedSize: Int { C.coordinateBytes }

    /// EIP-197 layout; infinity is all zeros.
    public func uncompressed() -> [UInt8] {
        if isInfinity { return [UInt8](repeating: 0, count: Self.uncompressedSize) }
        return C.encodeCoordinate(x) + C.encodeCoordinate(y)
    }

    /// Decodes the EIP-197 layout and validates the point (curve and subgroup).
    public init(uncompressed bytes: some Collection<UInt8>) throws(PointDecodingError) {
        let data = Array(bytes)
        guard data.count == Self.uncompressedSize else {
            throw .wrongLength(group: C.name, expected: Self.uncompressedSize, got: data.count)
        }
        if data.allSatisfy({ $0 == 0 }) {
            self = .infinity
            return
        }
        let n = C.coordinateBytes
        let x: C.BaseField, y: C.BaseField
        do {
            x = try C.decodeCoordinate(data[0..<n])
            y = try C.decodeCoordinate(data[n..<(2 * n)])
        } catch { throw .coordinate(group: C.name, error) }
        self = try .validated(x: x, y: y)
    }

    public func compressed() -> [UInt8] {
        if isInfinity {
            var out = [UInt8](repeating: 0, count: Self.compressedSize)
            out[0] = 0x80
            return out
        }
        var out = C.encodeCoordinate(x)
        if C.isLarger(y) { out[0] |= 0x40 }
        return out
    }

    /// Decodes the compressed form: recovers y from x and the flag, then validates.
    public init(compressed bytes: some Collection<UInt8>) throws(PointDecodingError) {
        var data = Array(bytes)
        guard data.count == Self.compressedSize else {
            throw .wrongLength(group: C.name, expected: Self.compressedSize, got: data.count)
        }
        let flags = data[0] & 0xc0
        data[0] &= 0x3f
        if flags == 0x80 {
            guard data.allSatisfy({ $0 == 0 }) else { throw .invalidFlags(C.name) }
            self = .infinity
            return
        }
        guard flags != 0xc0 else { throw .invalidFlags(C.name) }
        let x: C.BaseField
        do { x = try C.decodeCoordinate(data[...]) } catch { throw .coordinate(group: C.name, error) }
        guard var y = C.squareRoot(x.squared() * x + C.b) else { throw .noSquareRoot(C.name) }
        if C.isLarger(y) != (flags == 0x40) { y = -y }
        self = try .validated(x: x, y: y)
    }

    /// snarkjs projective decimal strings (z = 1, or the point at infinity).
    public func snarkjsStrings() -> [[String]] {
        let oneCoord = C.decimalStrings(C.BaseField.one), zeroCoord = C.decimalStrings(C.BaseField.zero)
        if isInfinity { return [zeroCoord, oneCoord, zeroCoord] }
        return [C.decimalStrings(x), C.decimalStrings(y), oneCoord]
    }

    /// Parses snarkjs decimal strings, then validates the point. Only the two forms snarkjs
    /// writes are accepted, so every point has exactly one encoding: an affine point with
    /// z = 1, or the point at infinity as exactly (0, 1, 0) (G2: [0,0], [1,0], [0,0]). Any
    /// other z, including another (x, y, 0), is refused (with snarkjs's reader they would all
    /// mean infinity or a rescaled point: several encodings of one value invite malleability).
    /// Decimal coordinates must be canonical too (see `init(decimal:)`).
    public init(snarkjs coords: [[String]]) throws(PointDecodingError) {
        guard coords.count == 3 else {
            throw .wrongLength(group: C.name, expected: 3, got: coords.count)
        }
        let x: C.BaseField, y: C.BaseField, z: C.BaseField
        do {
            x = try C.coordinate(decimal: coords[0])
            y = try C.coordinate(decimal: coords[1])
            z = try C.coordinate(decimal: coords[2])
        } catch { throw .coordinate(group: C.name, error) }
        if z.isZero {
            guard x.isZero, y == .one else { throw .nonCanonicalInfinity(C.name) }
            self = .infinity
            return
        }
        guard z == .one else { throw .nonCanonicalProjective(C.name) }
        self = try .validated(x: x, y: y)
    }
}
