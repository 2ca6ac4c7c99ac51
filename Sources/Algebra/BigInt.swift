import CGMP

/// Arbitrary-precision signed integer backed by GMP's `mpz_t`.
///
/// Used for parsing and printing, parameter generation, `GMPField` arithmetic with a run-time
/// modulus, and as the independent oracle the fast Montgomery fields are tested against.
/// Values are immutable: every operation returns a new `BigInt`, so sharing the underlying
/// `mpz_t` between threads is safe. The storage is freed in `deinit` (checked with valgrind).
public final class BigInt: @unchecked Sendable {
    /// Heap-allocated `mpz_t`, owned by this object (a stable address, so no Swift
    /// exclusivity checks get in the way of GMP's pointer-based API).
    @usableFromInline let raw: UnsafeMutablePointer<__mpz_struct>

    /// Creates zero.
    public init() {
        raw = .allocate(capacity: 1)
        __gmpz_init(raw)
    }

    deinit {
        __gmpz_clear(raw)
        raw.deallocate()
    }

    /// Runs `body` with a fresh `mpz_t` that becomes the new value's storage.
    @usableFromInline
    static func make(_ body: (UnsafeMutablePointer<__mpz_struct>) -> Void) -> BigInt {
        let result = BigInt()
        body(result.raw)
        return result
    }

    /// Read-only access to the `mpz_t` (for passing as a source operand).
    @inlinable
    func withRaw<T>(_ body: (UnsafePointer<__mpz_struct>) throws -> T) rethrows -> T {
        try body(UnsafePointer(raw))
    }

    public convenience init(_ value: UInt64) {
        self.init()
        __gmpz_set_ui(raw, UInt(value))
    }

    public convenience init(_ value: Int) {
        self.init()
        __gmpz_set_si(raw, value)
    }

    /// Parses a decimal (or, with `radix: 16`, hexadecimal, with or without `0x`) string.
    /// Returns nil for an empty string or a character outside the radix.
    public convenience init?(_ text: String, radix: Int = 10) {
        var body = Substring(text)
        var negative = false
        if body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        }
        if radix == 16, body.hasPrefix("0x") || body.hasPrefix("0X") { body = body.dropFirst(2) }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true })
        else { return nil }
        self.init()
        let ok = String(body).withCString { __gmpz_set_str(raw, $0, Int32(radix)) }
        guard ok == 0 else { return nil }
        if negative { __gmpz_neg(raw, raw) }
    }

    /// Interprets `bytes` as an unsigned little-endian integer.
    public convenience init(littleEndian bytes: [UInt8]) {
        self.init()
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { buf in
                __gmpz_import(raw, buf.count, -1, 1, 0, 0, buf.baseAddress)
            }
        }
    }

    /// Interprets `bytes` as an unsigned big-endian integer.
    public convenience init(bigEndian bytes: [UInt8]) {
        self.init(littleEndian: bytes.reversed())
    }

    /// Builds the value from 64-bit limbs, least significant first.
    public convenience init(limbs: [UInt64]) {
        self.init()
        if !limbs.isEmpty {
            limbs.withUnsafeBytes { buf in
                __gmpz_import(raw, limbs.count, -1, 8, 0, 0, buf.baseAddress)
            }
        }
    }

    // MARK: Inspection

    public var signum: Int {
        withRaw { Int(__gmpz_cmp_si($0, 0).signum()) }
    }
    public var isZero: Bool { signum == 0 }
    public var isNegative: Bool { signum < 0 }

    /// Number of bits in |self| (0 for zero).
    public var bitWidth: Int {
        isZero ? 0 : withRaw { Int(__gmpz_sizeinbase($0, 2)) }
    }

    /// Bit `index` of |self|.
    public func bit(_ index: Int) -> Bool {
        withRaw { __gmpz_tstbit($0, UInt(index)) != 0 }
    }

    /// The magnitude as little-endian bytes, zero-padded to `count` bytes.
    /// Precondition: the magnitude fits in `count` bytes.
    public func littleEndianBytes(count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let needed = (bitWidth + 7) / 8
        precondition(needed <= count, "BigInt of \(needed) bytes does not fit in \(count)")
        if needed > 0 {
            var written = 0
            out.withUnsafeMutableBytes { buf in
                withRaw { _ = __gmpz_export(buf.baseAddress, &written, -1, 1, 0, 0, $0) }
            }
        }
        return out
    }

    public func bigEndianBytes(count: Int) -> [UInt8] {
        littleEndianBytes(count: count).reversed()
    }

    /// The magnitude as `count` 64-bit limbs, least significant first.
    /// Precondition: the magnitude fits.
    public func limbs(count: Int) -> [UInt64] {
        let bytes = littleEndianBytes(count: count * 8)
        return (0..<count).map { i in
            var v: UInt64 = 0
            for j in 0..<8 { v |= UInt64(bytes[i * 8 + j]) << (8 * j) }
            return v
        }
    }

    /// The value as a `UInt64` if it fits, else nil.
    public var uint64Value: UInt64? {
        guard !isNegative, bitWidth <= 64 else { return nil }
        return limbs(count: 1)[0]
    }

    public func toString(radix: Int = 10) -> String {
        withRaw { ptr -> String in
            let size = __gmpz_sizeinbase(ptr, Int32(radix)) + 2
            var buffer = [CChar](repeating: 0, count: size)
            __gmpz_get_str(&buffer, Int32(radix), ptr)
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: Arithmetic (each returns a new value)

    public static func + (a: BigInt, b: BigInt) -> BigInt {
        a.withRaw { pa in b.withRaw { pb in make { __gmpz_add($0, pa, pb) } } }
    }
    public static func - (a: BigInt, b: BigInt) -> BigInt {
        a.withRaw { pa in b.withRaw { pb in make { __gmpz_sub($0, pa, pb) } } }
    }
    public static func * (a: BigInt, b: BigInt) -> BigInt {
        a.withRaw { pa in b.withRaw { pb in make { __gmpz_mul($0, pa, pb) } } }
    }
    public static prefix func - (a: BigInt) -> BigInt {
        a.withRaw { pa in make { __gmpz_neg($0, pa) } }
    }
    /// Floor division. Precondition: `b` is not zero.
    public static func / (a: BigInt, b: BigInt) -> BigInt {
        precondition(!b.isZero, "BigInt division by zero")
        return a.withRaw { pa in b.withRaw { pb in make { __gmpz_fdiv_q($0, pa, pb) } } }
    }
    /// Non-negative remainder for a positive modulus (`mpz_mod`). Precondition: `m` is not zero.
    public static func % (a: BigInt, m: BigInt) -> BigInt {
        precondition(!m.isZero, "BigInt modulo zero")
        return a.withRaw { pa in m.withRaw { pm in make { __gmpz_mod($0, pa, pm) } } }
    }
    public static func << (a: BigInt, n: Int) -> BigInt {
        a.withRaw { pa in make { __gmpz_mul_2exp($0, pa, UInt(n)) } }
    }
    /// Floor shift (division by 2^n rounding toward minus infinity).
    public static func >> (a: BigInt, n: Int) -> BigInt {
        a.withRaw { pa in make { __gmpz_fdiv_q_2exp($0, pa, UInt(n)) } }
    }

    /// self^exponent mod modulus. Precondition: exponent >= 0, modulus > 0.
    public func power(_ exponent: BigInt, modulus: BigInt) -> BigInt {
        precondition(!exponent.isNegative && modulus.signum > 0, "powmod needs e >= 0 and m > 0")
        return withRaw { pa in
            exponent.withRaw { pe in
                modulus.withRaw { pm in
                    BigInt.make { __gmpz_powm($0, pa, pe, pm) }
                }
            }
        }
    }

    /// The inverse of self mod modulus, or nil if it does not exist.
    public func inverse(modulus: BigInt) -> BigInt? {
        var ok: Int32 = 0
        let r = withRaw { pa in modulus.withRaw { pm in BigInt.make { ok = __gmpz_invert($0, pa, pm) } } }
        return ok == 0 ? nil : r
    }

    /// Miller-Rabin with `rounds` rounds (GMP's `mpz_probab_prime_p`).
    public func isProbablePrime(rounds: Int = 40) -> Bool {
        withRaw { __gmpz_probab_prime_p($0, Int32(rounds)) > 0 }
    }

    /// Legendre/Jacobi symbol (self / p).
    public func jacobi(_ p: BigInt) -> Int {
        withRaw { pa in p.withRaw { pp in Int(__gmpz_jacobi(pa, pp)) } }
    }
}

extension BigInt: Equatable, Comparable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public convenience init(integerLiteral value: Int) { self.init(value) }

    public static func == (a: BigInt, b: BigInt) -> Bool {
        a.withRaw { pa in b.withRaw { pb in __gmpz_cmp(pa, pb) == 0 } }
    }
    public static func < (a: BigInt, b: BigInt) -> Bool {
        a.withRaw { pa in b.withRaw { pb in __gmpz_cmp(pa, pb) < 0 } }
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(littleEndianBytes(count: (bitWidth + 7) / 8))
    }
    public var description: String { toString() }
}
