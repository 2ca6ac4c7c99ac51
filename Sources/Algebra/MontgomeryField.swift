import CAlgebraKernels

/// Four 64-bit limbs, least significant first.
@frozen
public struct Limbs4: Hashable, Sendable {
    public var l0, l1, l2, l3: UInt64
    @inlinable @inline(__always)
    public init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }
    @inlinable public static var zero: Limbs4 { Limbs4(0, 0, 0, 0) }
    @inlinable public var array: [UInt64] { [l0, l1, l2, l3] }
    @inlinable public var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }
    /// The `mask`-wide window of bits starting at `bit` (bits past 255 read as zero).
    @inlinable @inline(__always)
    public func window(bit: Int, mask: UInt64) -> UInt64 {
        let limb = bit >> 6, shift = UInt64(bit & 63)
        @inline(__always) func word(_ i: Int) -> UInt64 {
            switch i {
            case 0: return l0
            case 1: return l1
            case 2: return l2
            case 3: return l3
            default: return 0
            }
        }
        var d = word(limb) >> shift
        if shift != 0 { d |= word(limb + 1) << (64 - shift) }
        return d & mask
    }

    /// Bit `i` (0 = least significant), `i < 256`.
    @inlinable public func bit(_ i: Int) -> Bool {
        let limb: UInt64
        switch i >> 6 {
        case 0: limb = l0
        case 1: limb = l1
        case 2: limb = l2
        default: limb = l3
        }
        return (limb >> UInt64(i & 63)) & 1 == 1
    }
}

/// Constants of a 4-limb Montgomery field. The modulus must leave the top bit of its highest
/// limb clear and not be all ones below it, which is what makes the "no-carry" CIOS variant
/// exact (both BN254 moduli are 254-bit). Tests check every constant against GMP.
public protocol MontgomeryParameters: Sendable {
    /// p, the prime modulus.
    static var modulus: Limbs4 { get }
    /// -p^{-1} mod 2^64.
    static var inverseModulusNegated: UInt64 { get }
    /// R mod p with R = 2^256 (the Montgomery form of 1).
    static var montgomeryOne: Limbs4 { get }
    /// R^2 mod p (converts into Montgomery form with one multiplication).
    static var montgomeryRSquared: Limbs4 { get }
    /// A quadratic non-residue, used by Tonelli-Shanks when p ≡ 1 mod 4.
    static var quadraticNonResidue: UInt64 { get }
    static var name: String { get }
    /// Whether `assemblyMultiply` and `assemblySquare` exist for this modulus (BN254's Fr and Fq).
    static var hasAssemblyKernel: Bool { get }
    /// a * b * 2^-256 mod p with the MULX/ADX kernel (`CAlgebraKernels`). Only called when
    /// `hasAssemblyKernel` is true and the CPU has BMI2 and ADX (`FieldKernel.current`).
    static func assemblyMultiply(_ a: Limbs4, _ b: Limbs4) -> Limbs4
    /// a^2 * 2^-256 mod p with the MULX/ADX squaring kernel (10 products instead of 16).
    static func assemblySquare(_ a: Limbs4) -> Limbs4
}

extension MontgomeryParameters {
    @inlinable public static var hasAssemblyKernel: Bool { false }
    @inlinable public static func assemblyMultiply(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        preconditionFailure("\(name) has no assembly kernel")
    }
    @inlinable public static func assemblySquare(_ a: Limbs4) -> Limbs4 {
        preconditionFailure("\(name) has no assembly kernel")
    }
}

/// Which Montgomery multiplication the BN254 fields use: the MULX/ADX kernel when the CPU
/// has BMI2 and ADX (chosen once at load time by CPUID), else the portable CIOS in Swift.
/// Both give identical results; tests run the GMP-oracle checks under each.
public enum FieldKernel: Int32, Sendable, CaseIterable {
    case portable = 0
    case adx = 1

    /// The kernel in use now.
    @inlinable public static var current: FieldKernel { vs_algebra_current_kernel() == 1 ? .adx : .portable }

    /// The fastest kernel this CPU supports.
    public static var best: FieldKernel { vs_algebra_best_kernel() == 1 ? .adx : .portable }

    /// Switches kernels (clamped to what the CPU supports) and returns the one in use. For
    /// tests and side-by-side timing; not meant to be flipped while other threads compute
    /// (harmless, as both kernels agree, but the timing would mix).
    @discardableResult
    public static func select(_ kernel: FieldKernel) -> FieldKernel {
        vs_algebra_set_kernel(kernel.rawValue) == 1 ? .adx : .portable
    }
}

extension Limbs4 {
    @inlinable @inline(__always)
    init(_ v: vs_limbs4) { self.init(v.l0, v.l1, v.l2, v.l3) }
    @inlinable @inline(__always)
    var kernelLimbs: vs_limbs4 { vs_limbs4(l0: l0, l1: l1, l2: l2, l3: l3) }
}

/// An element of F_p in Montgomery form (a * 2^256 mod p), 4 x 64-bit limbs.
///
/// Multiplication is CIOS with the no-carry optimization; add, sub, mul and negation run
/// without data-dependent branches (the final conditional subtraction is a masked select), so
/// they are safe on secrets. `inverse()` is Fermat (constant time, ~500 multiplications).
@frozen
public struct MontgomeryField<P: MontgomeryParameters>: StaticPrimeField {
    /// The Montgomery representation, always fully reduced (< p), so it is canonical.
    public var montgomery: Limbs4

    @inlinable @inline(__always)
    public init(montgomery: Limbs4) { self.montgomery = montgomery }

    @inlinable public static var zero: Self { Self(montgomery: .zero) }
    @inlinable public static var one: Self { Self(montgomery: P.montgomeryOne) }
    @inlinable public var isZero: Bool { montgomery.isZero }
    @inlinable public static var byteCount: Int { 32 }
    public static var modulus: BigInt { BigInt(limbs: P.modulus.array) }
    public static var modulusBitWidth: Int? { 256 - P.modulus.l3.leadingZeroBitCount }

    /// From canonical limbs (< p): one multiplication by R^2.
    @inlinable
    public init(canonicalLimbs v: Limbs4) {
        montgomery = Self.montMul(v, P.montgomeryRSquared)
    }

    @inlinable
    public init(_ value: UInt64) {
        self.init(canonicalLimbs: Limbs4(value, 0, 0, 0))  // any UInt64 < p
    }

    @inlinable
    public init(_ value: Int64) {
        if value >= 0 {
            self.init(UInt64(value))
        } else {
            self = -Self(value.magnitude)
        }
    }

    @inlinable
    public init(integerLiteral value: Int) { self.init(Int64(value)) }

    public init(reducing value: BigInt) {
        let reduced = value % Self.modulus
        let l = reduced.limbs(count: 4)
        self.init(canonicalLimbs: Limbs4(l[0], l[1], l[2], l[3]))
    }

    public init(canonical value: BigInt) throws(FieldDecodingError) {
        guard !value.isNegative, value < Self.modulus else { throw .notCanonical(value.description) }
        let l = value.limbs(count: 4)
        self.init(canonicalLimbs: Limbs4(l[0], l[1], l[2], l[3]))
    }

    /// 32 bytes, little-endian, below the modulus. Inlinable and allocation-free: file readers
    /// in other modules decode millions of these (a circuit embedded in a key file).
    @inlinable
    public init(littleEndian bytes: some Collection<UInt8>) throws(FieldDecodingError) {
        guard bytes.count == 32 else { throw .wrongLength(expected: 32, got: bytes.count) }
        var l0: UInt64 = 0, l1: UInt64 = 0, l2: UInt64 = 0, l3: UInt64 = 0
        var i: UInt64 = 0
        for b in bytes {
            let shifted = UInt64(b) << ((i & 7) &* 8)
            switch i >> 3 {
            case 0: l0 |= shifted
            case 1: l1 |= shifted
            case 2: l2 |= shifted
            default: l3 |= shifted
            }
            i &+= 1
        }
        let v = Limbs4(l0, l1, l2, l3)
        guard Self.isBelowModulus(v) else { throw .notCanonical(BigInt(limbs: [l0, l1, l2, l3]).description) }
        self.init(canonicalLimbs: v)
    }

    /// The canonical value (out of Montgomery form) as limbs.
    @inlinable
    public var canonicalLimbs: Limbs4 { Self.montMul(montgomery, Limbs4(1, 0, 0, 0)) }

    public var bigInt: BigInt { BigInt(limbs: canonicalLimbs.array) }

    public func littleEndianBytes() -> [UInt8] {
        let c = canonicalLimbs
        var out = [UInt8](repeating: 0, count: 32)
        for (i, limb) in [c.l0, c.l1, c.l2, c.l3].enumerated() {
            for j in 0..<8 { out[i * 8 + j] = UInt8(truncatingIfNeeded: limb >> UInt64(8 * j)) }
        }
        return out
    }

    public var description: String { bigInt.description }

    public var isNegativeSigned: Bool {
        bigInt > (Self.modulus - BigInt(1)) / BigInt(2)
    }

    // MARK: Arithmetic

    @inlinable @inline(__always)
    static func isBelowModulus(_ v: Limbs4) -> Bool {
        let (_, borrow) = subtractWithBorrow(v, P.modulus)
        return borrow != 0
    }

    /// a - b over 256 bits and the outgoing borrow (0 or 1). Borrows are combined with
    /// integer arithmetic, not `||`, which would compile to data-dependent branches.
    @inlinable @inline(__always)
    public static func subtractWithBorrow(_ a: Limbs4, _ b: Limbs4) -> (Limbs4, UInt64) {
        let (d0, b0) = a.l0.subtractingReportingOverflow(b.l0)
        let (d1a, b1a) = a.l1.subtractingReportingOverflow(b.l1)
        let (d1, b1b) = d1a.subtractingReportingOverflow(UInt64(b0 ? 1 : 0))
        let borrow1 = UInt64(b1a ? 1 : 0) | UInt64(b1b ? 1 : 0)
        let (d2a, b2a) = a.l2.subtractingReportingOverflow(b.l2)
        let (d2, b2b) = d2a.subtractingReportingOverflow(borrow1)
        let borrow2 = UInt64(b2a ? 1 : 0) | UInt64(b2b ? 1 : 0)
        let (d3a, b3a) = a.l3.subtractingReportingOverflow(b.l3)
        let (d3, b3b) = d3a.subtractingReportingOverflow(borrow2)
        return (Limbs4(d0, d1, d2, d3), UInt64(b3a ? 1 : 0) | UInt64(b3b ? 1 : 0))
    }

    /// a + b over 256 bits (no carry out: both operands are < p < 2^255).
    @inlinable @inline(__always)
    static func addNoCarry(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        let (s0, c0) = a.l0.addingReportingOverflow(b.l0)
        let (s1a, c1a) = a.l1.addingReportingOverflow(b.l1)
        let (s1, c1b) = s1a.addingReportingOverflow(UInt64(c0 ? 1 : 0))
        let carry1 = UInt64(c1a ? 1 : 0) | UInt64(c1b ? 1 : 0)
        let (s2a, c2a) = a.l2.addingReportingOverflow(b.l2)
        let (s2, c2b) = s2a.addingReportingOverflow(carry1)
        let carry2 = UInt64(c2a ? 1 : 0) | UInt64(c2b ? 1 : 0)
        let s3 = a.l3 &+ b.l3 &+ carry2
        return Limbs4(s0, s1, s2, s3)
    }

    /// Returns v - p if v >= p, else v, for v < 2p; branch-free (masked select).
    @inlinable @inline(__always)
    static func reduceOnce(_ v: Limbs4) -> Limbs4 {
        let (d, borrow) = subtractWithBorrow(v, P.modulus)
        let keep = 0 &- borrow  // all ones when v < p
        return Limbs4(
            (v.l0 & keep) | (d.l0 & ~keep), (v.l1 & keep) | (d.l1 & ~keep),
            (v.l2 & keep) | (d.l2 & ~keep), (v.l3 & keep) | (d.l3 & ~keep))
    }

    /// hi and lo of a*b + c + d (cannot overflow 128 bits).
    @inlinable @inline(__always)
    static func madd2(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
        let t = UInt128(a) &* UInt128(b) &+ UInt128(c) &+ UInt128(d)
        return (UInt64(truncatingIfNeeded: t >> 64), UInt64(truncatingIfNeeded: t))
    }

    /// Montgomery product a * b * 2^-256 mod p (inputs < p, output < p): the MULX/ADX kernel
    /// when available (`FieldKernel`), else the portable CIOS.
    @inlinable @inline(__always)
    public static func montMul(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        if P.hasAssemblyKernel && vs_algebra_current_kernel() == 1 { return P.assemblyMultiply(a, b) }
        return portableMontMul(a, b)
    }

    /// Montgomery square a^2 * 2^-256 mod p: the ADX squaring kernel when available, else
    /// `portableMontMul(a, a)`.
    @inlinable @inline(__always)
    public static func montSquare(_ a: Limbs4) -> Limbs4 {
        if P.hasAssemblyKernel && vs_algebra_current_kernel() == 1 { return P.assemblySquare(a) }
        return portableMontMul(a, a)
    }

    /// Montgomery product by CIOS with the no-carry optimization, in portable Swift (the
    /// fallback without BMI2/ADX, and the reference the kernel is tested against).
    @inlinable @inline(__always)
    public static func portableMontMul(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        let q = P.modulus
        let inv = P.inverseModulusNegated
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        @inline(__always)
        func round(_ bi: UInt64) {
            var A: UInt64, C: UInt64, lo: UInt64
            (A, t0) = madd2(a.l0, bi, t0, 0)
            let m = t0 &* inv
            (C, lo) = madd2(m, q.l0, t0, 0)
            (A, t1) = madd2(a.l1, bi, t1, A)
            (C, t0) = madd2(m, q.l1, t1, C)
            (A, t2) = madd2(a.l2, bi, t2, A)
            (C, t1) = madd2(m, q.l2, t2, C)
            (A, t3) = madd2(a.l3, bi, t3, A)
            (C, t2) = madd2(m, q.l3, t3, C)
            t3 = C &+ A
            _ = lo
        }
        round(b.l0)
        round(b.l1)
        round(b.l2)
        round(b.l3)
        return reduceOnce(Limbs4(t0, t1, t2, t3))
    }

    @inlinable @inline(__always)
    public static func + (lhs: Self, rhs: Self) -> Self {
        Self(montgomery: reduceOnce(addNoCarry(lhs.montgomery, rhs.montgomery)))
    }

    @inlinable @inline(__always)
    public static func - (lhs: Self, rhs: Self) -> Self {
        let (d, borrow) = subtractWithBorrow(lhs.montgomery, rhs.montgomery)
        let mask = 0 &- borrow
        let q = P.modulus
        // After a borrow, d + p wraps around 2^256 back into [0, p): the wrap is the point.
        return Self(montgomery: addNoCarry(d, Limbs4(q.l0 & mask, q.l1 & mask, q.l2 & mask, q.l3 & mask)))
    }

    @inlinable @inline(__always)
    public static prefix func - (value: Self) -> Self { zero - value }

    @inlinable @inline(__always)
    public static func * (lhs: Self, rhs: Self) -> Self {
        Self(montgomery: montMul(lhs.montgomery, rhs.montgomery))
    }

    @inlinable @inline(__always)
    public func squared() -> Self { Self(montgomery: Self.montSquare(montgomery)) }

    @inlinable @inline(__always)
    public func doubled() -> Self { self + self }

    /// Returns `a` when `condition` is false and `b` when true, without branching.
    @inlinable @inline(__always)
    public static func select(_ condition: Bool, _ a: Self, _ b: Self) -> Self {
        let mask = 0 &- UInt64(condition ? 1 : 0)
        let x = a.montgomery, y = b.montgomery
        return Self(
            montgomery: Limbs4(
                (x.l0 & ~mask) | (y.l0 & mask), (x.l1 & ~mask) | (y.l1 & mask),
                (x.l2 & ~mask) | (y.l2 & mask), (x.l3 & ~mask) | (y.l3 & mask)))
    }

    /// p - 2, the Fermat inversion exponent.
    @inlinable
    static var modulusMinusTwo: [UInt64] {
        let q = P.modulus
        return [q.l0 &- 2, q.l1, q.l2, q.l3]  // p is odd and > 2: no borrow past limb 0
    }

    @inlinable
    public func inverse() -> Self? {
        if isZero { return nil }
        return power(publicLimbs: Self.modulusMinusTwo)
    }

    /// Uniform in [0, p): rejection sampling on 254-bit strings from the OpenSSL CSPRNG
    /// (acceptance probability > 3/4 for both BN254 moduli).
    public static func random() -> Self {
        let topBits = 64 - P.modulus.l3.leadingZeroBitCount
        let topMask: UInt64 = topBits >= 64 ? ~0 : (UInt64(1) << UInt64(topBits)) - 1
        while true {
            var v = Limbs4(
                SecureRandom.uint64(), SecureRandom.uint64(), SecureRandom.uint64(),
                SecureRandom.uint64() & topMask)
            if isBelowModulus(v) {
                let result = Self(canonicalLimbs: v)
                withUnsafeMutableBytes(of: &v) { SecureRandom.erase($0) }
                return result
            }
        }
    }

    // MARK: Square roots

    public var legendre: Int {
        let e = (Self.modulus - BigInt(1)) >> 1
        let r = power(limbs: e.limbs(count: 4))
        if r.isZero { return 0 }
        return r == .one ? 1 : -1
    }

    /// A square root (either one), or nil for a non-residue. p ≡ 3 mod 4 uses a^((p+1)/4);
    /// otherwise Tonelli-Shanks with the parameter's non-residue.
    public func squareRoot() -> Self? {
        if isZero { return .zero }
        let p = Self.modulus
        if P.modulus.l0 & 3 == 3 {
            let r = power(limbs: ((p + BigInt(1)) >> 2).limbs(count: 4))
            return r.squared() == self ? r : nil
        }
        guard legendre == 1 else { return nil }
        var s = 0
        var t = p - BigInt(1)
        while !t.bit(0) {
            t = t >> 1
            s += 1
        }
        var z = Self(P.quadraticNonResidue).power(limbs: t.limbs(count: 4))
        var x = power(limbs: ((t + BigInt(1)) >> 1).limbs(count: 4))
        var b = power(limbs: t.limbs(count: 4))
        var m = s
        while b != .one {
            var i = 0
            var b2 = b
            while b2 != .one {
                b2 = b2.squared()
                i += 1
            }
            for _ in 0..<(m - i - 1) { z = z.squared() }
            x = x * z
            z = z.squared()
            b = b * z
            m = i
        }
        return x
    }
}

/// BN254 base field q = 21888242871839275222246405745257275088696311157297823662689037894645226208583.
public enum FqParameters: MontgomeryParameters {
    @inlinable public static var modulus: Limbs4 {
        Limbs4(0x3c20_8c16_d87c_fd47, 0x9781_6a91_6871_ca8d, 0xb850_45b6_8181_585d, 0x3064_4e72_e131_a029)
    }
    @inlinable public static var inverseModulusNegated: UInt64 { 0x87d2_0782_e486_6389 }
    @inlinable public static var montgomeryOne: Limbs4 {
        Limbs4(0xd35d_438d_c58f_0d9d, 0x0a78_eb28_f5c7_0b3d, 0x666e_a36f_7879_462c, 0x0e0a_77c1_9a07_df2f)
    }
    @inlinable public static var montgomeryRSquared: Limbs4 {
        Limbs4(0xf32c_fc5b_538a_fa89, 0xb5e7_1911_d445_01fb, 0x47ab_1eff_0a41_7ff6, 0x06d8_9f71_cab8_351f)
    }
    @inlinable public static var quadraticNonResidue: UInt64 { 3 }
    public static var name: String { "Fq" }
    @inlinable public static var hasAssemblyKernel: Bool { true }
    @inlinable @inline(__always)
    public static func assemblyMultiply(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        var x = a.kernelLimbs, y = b.kernelLimbs
        return Limbs4(vs_fq_mul_adx(&x, &y))
    }
    @inlinable @inline(__always)
    public static func assemblySquare(_ a: Limbs4) -> Limbs4 {
        var x = a.kernelLimbs
        return Limbs4(vs_fq_sqr_adx(&x))
    }
}

/// BN254 scalar field r = 21888242871839275222246405745257275088548364400416034343698204186575808495617
/// (the field of circuits and exponents; 2-adicity 28, multiplicative generator 5).
public enum FrParameters: MontgomeryParameters {
    @inlinable public static var modulus: Limbs4 {
        Limbs4(0x43e1_f593_f000_0001, 0x2833_e848_79b9_7091, 0xb850_45b6_8181_585d, 0x3064_4e72_e131_a029)
    }
    @inlinable public static var inverseModulusNegated: UInt64 { 0xc2e1_f593_efff_ffff }
    @inlinable public static var montgomeryOne: Limbs4 {
        Limbs4(0xac96_341c_4fff_fffb, 0x36fc_7695_9f60_cd29, 0x666e_a36f_7879_462e, 0x0e0a_77c1_9a07_df2f)
    }
    @inlinable public static var montgomeryRSquared: Limbs4 {
        Limbs4(0x1bb8_e645_ae21_6da7, 0x53fe_3ab1_e35c_59e3, 0x8c49_833d_53bb_8085, 0x0216_d0b1_7f4e_44a5)
    }
    @inlinable public static var quadraticNonResidue: UInt64 { 5 }
    public static var name: String { "Fr" }
    @inlinable public static var hasAssemblyKernel: Bool { true }
    @inlinable @inline(__always)
    public static func assemblyMultiply(_ a: Limbs4, _ b: Limbs4) -> Limbs4 {
        var x = a.kernelLimbs, y = b.kernelLimbs
        return Limbs4(vs_fr_mul_adx(&x, &y))
    }
    @inlinable @inline(__always)
    public static func assemblySquare(_ a: Limbs4) -> Limbs4 {
        var x = a.kernelLimbs
        return Limbs4(vs_fr_sqr_adx(&x))
    }
}

public typealias Fq = MontgomeryField<FqParameters>
public typealias Fr = MontgomeryField<FrParameters>

extension MontgomeryField where P == FrParameters {
    /// 2-adicity of r - 1: Fr has multiplicative subgroups of every order 2^k, k <= 28.
    public static var twoAdicity: Int { 28 }
    /// A primitive 2^28-th root of unity: 5^((r-1)/2^28).
    public static var twoAdicRootOfUnity: Fr {
        Fr(
            montgomery: Limbs4(
                0x636e_7355_80d1_3d9c, 0xa22b_f374_2445_ffd6,
                0x5645_2ac0_1eb2_03d8, 0x1860_ef94_2963_f9e7))
    }
}
