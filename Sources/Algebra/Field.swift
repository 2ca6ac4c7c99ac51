/// A commutative field. Prime fields and the BN254 extension tower (Fq2, Fq6, Fq12) conform,
/// so curve and polynomial code is written once over `Field`.
public protocol Field: Hashable, Sendable, CustomStringConvertible {
    static var zero: Self { get }
    static var one: Self { get }
    var isZero: Bool { get }

    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static prefix func - (value: Self) -> Self

    func squared() -> Self
    func doubled() -> Self
    /// The multiplicative inverse, or nil for zero.
    func inverse() -> Self?
}

/// A field with a fixed modulus, so it can sample uniform elements on its own.
public protocol SampleableField: Field {
    /// A uniformly random element from the OpenSSL CSPRNG.
    static func random() -> Self
}

extension Field {
    @inlinable public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
    @inlinable public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }
    @inlinable public static func *= (lhs: inout Self, rhs: Self) { lhs = lhs * rhs }

    @inlinable public func doubled() -> Self { self + self }

    /// self^e for an exponent given as little-endian 64-bit limbs (square and multiply).
    /// Runs in time that depends only on the exponent's length, not its bits.
    @inlinable
    public func power(limbs exponent: [UInt64]) -> Self {
        var result = Self.one
        for limb in exponent.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                result = result.squared()
                let product = result * self
                if (limb >> UInt64(bit)) & 1 == 1 { result = product }
            }
        }
        return result
    }

    @inlinable
    public func power(_ exponent: UInt64) -> Self { power(limbs: [exponent]) }

    /// self^e for a public exponent (inversion's p - 2, square roots): 4-bit fixed windows,
    /// about bits + bits/4 multiplications instead of 2 * bits. The schedule depends on the
    /// exponent only, never on `self`, so it is safe on secret bases.
    @inlinable
    public func power(publicLimbs exponent: [UInt64]) -> Self {
        var table = [Self](repeating: .one, count: 16)
        for i in 1..<16 { table[i] = table[i - 1] * self }
        var result = Self.one
        var started = false
        for limb in exponent.reversed() {
            for window in stride(from: 15, through: 0, by: -1) {
                if started { result = result.squared().squared().squared().squared() }
                let digit = Int((limb >> UInt64(window * 4)) & 15)
                if digit != 0 {
                    result = started ? result * table[digit] : table[digit]
                    started = true
                }
            }
        }
        return result
    }

    /// Inverts every nonzero element in place with one inversion (Montgomery's trick);
    /// zeros stay zero. Cost: 3(n-1) multiplications + 1 inversion.
    @inlinable
    public static func batchInvert(_ values: inout [Self]) {
        var prefix = [Self](repeating: .one, count: values.count)
        var acc = Self.one
        for i in values.indices {
            prefix[i] = acc
            if !values[i].isZero { acc = acc * values[i] }
        }
        guard var inv = acc.inverse() else { return }
        for i in values.indices.reversed() where !values[i].isZero {
            let v = values[i]
            values[i] = inv * prefix[i]
            inv = inv * v
        }
    }
}

/// A prime field F_p. `init(_:)` from machine integers reduces mod p; negative integers map to
/// p - |v| (the fixed-point convention of the circuits).
public protocol PrimeField: Field, ExpressibleByIntegerLiteral where IntegerLiteralType == Int {
    init(_ value: UInt64)
    init(_ value: Int64)
    /// The canonical representative in [0, p).
    var bigInt: BigInt { get }
    /// The element p-1 / 2 test: true when the canonical value is > (p-1)/2, i.e. "negative"
    /// in the signed fixed-point reading.
    var isNegativeSigned: Bool { get }
    /// Bit length of p when it is fixed by the type (nil for a run-time modulus).
    static var modulusBitWidth: Int? { get }
}

/// A prime field whose modulus is a compile-time constant (the fast Montgomery fields).
public protocol StaticPrimeField: PrimeField, SampleableField {
    static var modulus: BigInt { get }
    /// Bytes of a canonical encoding (32 for BN254's fields).
    static var byteCount: Int { get }
    /// Reduces an arbitrary integer (negative allowed) into the field.
    init(reducing value: BigInt)
    /// Accepts only canonical values 0 <= value < p.
    init(canonical value: BigInt) throws(FieldDecodingError)
    /// Decodes `byteCount` little-endian bytes; rejects values >= p.
    init(littleEndian bytes: some Collection<UInt8>) throws(FieldDecodingError)
    func littleEndianBytes() -> [UInt8]
    /// p ≡ ... Square root, or nil for a non-residue.
    func squareRoot() -> Self?
    /// Legendre symbol: 0, 1 or -1.
    var legendre: Int { get }
}

extension StaticPrimeField {
    public init(bigEndian bytes: some Collection<UInt8>) throws(FieldDecodingError) {
        try self.init(littleEndian: Array(bytes.reversed()))
    }
    public func bigEndianBytes() -> [UInt8] { littleEndianBytes().reversed() }

    /// Parses a decimal string (snarkjs JSON style) and requires it to be < p. Only the
    /// canonical spelling is accepted: ASCII digits, no sign, no leading zeros ("0" itself
    /// excepted), at most as many digits as p has, so each element has exactly one text form
    /// and the digit count is bounded before any big-integer work.
    public init(decimal text: String) throws(FieldDecodingError) {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= Self.maxDecimalDigits,
            utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), first != 0x30 || utf8.count == 1,
            let value = BigInt(text)
        else { throw .notANumber(text) }
        try self.init(canonical: value)
    }

    /// Decimal digits of the modulus: no canonical element is longer.
    static var maxDecimalDigits: Int { modulus.description.count }
}

/// Why bytes or text could not be decoded into a field element.
public enum FieldDecodingError: Error, Equatable, CustomStringConvertible {
    case wrongLength(expected: Int, got: Int)
    case notCanonical(String)
    case notANumber(String)
    public var description: String {
        switch self {
        case .wrongLength(let e, let g):
            return "field element encoding has \(g) bytes, expected \(e)"
        case .notCanonical(let v):
            return "field element \(v) is not below the modulus (non-canonical encodings are rejected)"
        case .notANumber(let t):
            return "'\(t.prefix(80))' is not a decimal integer"
        }
    }
}
