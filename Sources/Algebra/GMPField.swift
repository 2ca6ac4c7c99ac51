/// A prime modulus chosen at run time (for example read from a circom `.r1cs` header).
public final class GMPModulus: Sendable, Equatable, CustomStringConvertible {
    public let prime: BigInt
    public let byteCount: Int

    /// Validates that `prime` is an odd probable prime (Miller-Rabin, 40 rounds).
    public init(_ prime: BigInt) throws(GMPFieldError) {
        guard prime > BigInt(2), prime.bit(0), prime.isProbablePrime() else {
            throw .notPrime(prime.description)
        }
        self.prime = prime
        self.byteCount = (prime.bitWidth + 7) / 8
    }

    public static func == (a: GMPModulus, b: GMPModulus) -> Bool { a === b || a.prime == b.prime }
    public var description: String { prime.description }
}

public enum GMPFieldError: Error, Equatable, CustomStringConvertible {
    case notPrime(String)
    public var description: String {
        switch self {
        case .notPrime(let p): return "modulus \(p.prefix(80)) is not an odd prime"
        }
    }
}

/// An element of F_p for a modulus chosen at run time, with GMP arithmetic: slower than the
/// Montgomery fields, but it lets circuits be built and checked over any prime.
///
/// Constants made without a modulus (`zero`, `one`, integer literals) are exact integers
/// that take on the modulus of the first element they are combined with; combining two
/// elements of different moduli is a programming error and traps.
public struct GMPField: PrimeField {
    /// The value, reduced into [0, p) whenever `modulus` is known.
    public let value: BigInt
    public let modulus: GMPModulus?

    public init(_ value: BigInt, modulus: GMPModulus?) {
        if let modulus {
            self.value = value % modulus.prime
        } else {
            self.value = value
        }
        self.modulus = modulus
    }

    public init(_ value: UInt64) { self.init(BigInt(value), modulus: nil) }
    public init(_ value: Int64) { self.init(BigInt(Int(value)), modulus: nil) }
    public init(integerLiteral value: Int) { self.init(BigInt(value), modulus: nil) }

    public static var modulusBitWidth: Int? { nil }

    public static var zero: GMPField { GMPField(BigInt(0), modulus: nil) }
    public static var one: GMPField { GMPField(BigInt(1), modulus: nil) }

    /// Unbound constants are reduced when compared, so zero is detected for any modulus.
    public var isZero: Bool { value.isZero }

    /// The canonical value; an unbound negative constant has no canonical value yet and traps.
    public var bigInt: BigInt {
        precondition(modulus != nil || !value.isNegative, "unbound negative GMPField constant has no canonical value")
        return value
    }

    public var isNegativeSigned: Bool {
        guard let modulus else { return value.isNegative }
        return value > (modulus.prime - BigInt(1)) >> 1
    }

    public var description: String { value.description }

    static func common(_ a: GMPField, _ b: GMPField) -> GMPModulus? {
        switch (a.modulus, b.modulus) {
        case let (x?, y?):
            precondition(x == y, "GMPField elements of different moduli combined")
            return x
        case let (x?, nil): return x
        case let (nil, y): return y
        }
    }

    public static func + (a: GMPField, b: GMPField) -> GMPField { GMPField(a.value + b.value, modulus: common(a, b)) }
    public static func - (a: GMPField, b: GMPField) -> GMPField { GMPField(a.value - b.value, modulus: common(a, b)) }
    public static func * (a: GMPField, b: GMPField) -> GMPField { GMPField(a.value * b.value, modulus: common(a, b)) }
    public static prefix func - (a: GMPField) -> GMPField { GMPField(-a.value, modulus: a.modulus) }
    public func squared() -> GMPField { self * self }

    /// Inverse mod p; nil for zero. An unbound constant cannot be inverted (no modulus) and traps.
    public func inverse() -> GMPField? {
        guard let modulus else { preconditionFailure("inverse of an unbound GMPField constant") }
        return value.inverse(modulus: modulus.prime).map { GMPField($0, modulus: modulus) }
    }

    public static func random(modulus: GMPModulus) -> GMPField {
        let bytes = SecureRandom.bytes(modulus.byteCount + 16)  // bias < 2^-128
        return GMPField(BigInt(littleEndian: bytes), modulus: modulus)
    }

    public static func == (a: GMPField, b: GMPField) -> Bool {
        guard let m = common(a, b) else { return a.value == b.value }
        return (a.value - b.value) % m.prime == BigInt(0)
    }

    /// Hashes the value reduced by the element's own modulus; unbound constants hash as
    /// exact integers, so mix them with bound elements in a Set only after binding them.
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
