import CAlgebraKernels

/// F_q12 = F_q6[w] / (w^2 - v): the top of BN254's tower and the field of pairing values
/// (GT is its order-r subgroup).
///
/// Multiplication is Karatsuba (3 Fq6 multiplications), squaring the "complex" method
/// (2 Fq6 multiplications), both from Devegili et al., "Multiplication and Squaring on
/// Pairing-Friendly Fields" (2006). Elements of the cyclotomic subgroup (every value after the
/// easy part of the final exponentiation) get the cheaper Granger-Scott squaring and
/// conjugation as inverse.
@frozen
public struct Fq12: Field {
    public var c0: Fq6
    public var c1: Fq6

    @inlinable @inline(__always)
    public init(_ c0: Fq6, _ c1: Fq6) {
        self.c0 = c0
        self.c1 = c1
    }

    @inlinable public static var zero: Fq12 { Fq12(.zero, .zero) }
    @inlinable public static var one: Fq12 { Fq12(.one, .zero) }
    @inlinable public var isZero: Bool { c0.isZero && c1.isZero }
    @inlinable public var isOne: Bool { self == .one }

    public var description: String { "(\(c0) + \(c1)*w)" }

    @inlinable @inline(__always)
    public static func + (a: Fq12, b: Fq12) -> Fq12 { Fq12(a.c0 + b.c0, a.c1 + b.c1) }
    @inlinable @inline(__always)
    public static func - (a: Fq12, b: Fq12) -> Fq12 { Fq12(a.c0 - b.c0, a.c1 - b.c1) }
    @inlinable @inline(__always)
    public static prefix func - (a: Fq12) -> Fq12 { Fq12(-a.c0, -a.c1) }
    @inlinable @inline(__always)
    public func doubled() -> Fq12 { Fq12(c0.doubled(), c1.doubled()) }

    /// The product: the C tower kernel (`CAlgebraKernels`, lazy reduction on the MULX/ADX field
    /// kernel) when the ADX kernel is in use, else `portableProduct`. Both give the same value.
    @inlinable
    public static func * (a: Fq12, b: Fq12) -> Fq12 {
        if FieldKernel.current == .adx {
            var r = Fq12.zero, x = a, y = b
            vs_bn254_fq12_mul(&r, &x, &y)
            return r
        }
        return portableProduct(a, b)
    }

    /// Karatsuba in Swift: (a0 + a1 w)(b0 + b1 w) = a0b0 + v a1b1 + ((a0+a1)(b0+b1) - a0b0 - a1b1) w.
    /// The fallback without BMI2/ADX and the reference the C kernel is tested against.
    @inlinable @inline(__always)
    public static func portableProduct(_ a: Fq12, _ b: Fq12) -> Fq12 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let r1 = (a.c0 + a.c1) * (b.c0 + b.c1) - aa - bb
        return Fq12(aa + bb.mulByNonResidue(), r1)
    }

    /// The square: the C kernel when the ADX kernel is in use, else `portableSquared`.
    @inlinable
    public func squared() -> Fq12 {
        if FieldKernel.current == .adx {
            var r = Fq12.zero, x = self
            vs_bn254_fq12_sqr(&r, &x)
            return r
        }
        return portableSquared()
    }

    /// Complex squaring in Swift: a0^2 + v a1^2 = (a0 + a1)(a0 + v a1) - a0a1 - v a0a1, and 2 a0a1.
    @inlinable @inline(__always)
    public func portableSquared() -> Fq12 {
        let ab = c0 * c1
        let r0 = (c0 + c1) * (c0 + c1.mulByNonResidue()) - ab - ab.mulByNonResidue()
        return Fq12(r0, ab.doubled())
    }

    /// The inverse (nil for zero): the C kernel when the ADX kernel is in use, else
    /// `portableInverse`. The C kernel inverts in Fq by Fermat too, but it is not meant for
    /// secrets (GT values are public wherever this module uses them).
    @inlinable
    public func inverse() -> Fq12? {
        if FieldKernel.current == .adx {
            var r = Fq12.zero, x = self
            return vs_bn254_fq12_inverse(&r, &x) == 1 ? r : nil
        }
        return portableInverse()
    }

    /// (a0 - a1 w) / (a0^2 - v a1^2): one Fq6 inversion, in Swift.
    @inlinable
    public func portableInverse() -> Fq12? {
        let norm = c0.squared() - c1.squared().mulByNonResidue()
        guard let inv = norm.inverse() else { return nil }
        return Fq12(c0 * inv, -(c1 * inv))
    }

    public static func random() -> Fq12 { Fq12(.random(), .random()) }

    /// The conjugate a0 - a1 w, which is the q^6-power Frobenius map; on the cyclotomic
    /// subgroup (norm 1 to Fq6) it is the inverse, for free.
    @inlinable @inline(__always)
    public var conjugate: Fq12 { Fq12(c0, -c1) }

    /// The q^k-power Frobenius map (k taken mod 12; coefficients precomputed for 1...11):
    /// Fq6 Frobenius on both halves, and w^(q^k) = xi^((q^k-1)/6) * w scales the w-half.
    /// k = 1, 2, 3 go to the C kernel when the ADX kernel is in use.
    @inlinable
    public func frobenius(_ k: Int) -> Fq12 {
        let power = ((k % 12) + 12) % 12
        if (1...3).contains(power) && FieldKernel.current == .adx {
            var r = Fq12.zero, x = self
            vs_bn254_fq12_frobenius(&r, &x, Int32(power))
            return r
        }
        return portableFrobenius(power)
    }

    /// The q^k-power Frobenius map in Swift (k taken mod 12).
    @inlinable
    public func portableFrobenius(_ k: Int) -> Fq12 {
        let power = ((k % 12) + 12) % 12
        if power == 0 { return self }
        if power == 6 { return conjugate }
        return Fq12(c0.frobenius(power), c1.frobenius(power) * Fq12.frobeniusCoefficients[power])
    }

    /// xi^((q^k-1)/6) for k = 0...11, computed once with `Fq2.power`.
    public static let frobeniusCoefficients: [Fq2] = {
        let xi = Fq2(Fq(UInt64(9)), Fq.one)
        let q = Fq.modulus
        var result: [Fq2] = []
        var qk = BigInt(1)
        for _ in 0..<12 {
            result.append(xi.power((qk - BigInt(1)) / BigInt(6)))
            qk = qk * q
        }
        return result
    }()

    /// self^e for a public exponent given as a big integer (square and multiply).
    public func power(_ e: BigInt) -> Fq12 {
        power(limbs: e.limbs(count: max(1, (e.bitWidth + 63) / 64)))
    }

    /// Granger-Scott squaring for elements of the cyclotomic subgroup G_{Phi_6}(q^2)
    /// (Granger and Scott, "Faster Squaring in the Cyclotomic Subgroup of Sixth Degree
    /// Extensions", PKC 2010): Fq12 is viewed as Fq4^3 with Fq4 = Fq2[s]/(s^2 - xi),
    /// and each of the three Fq4 squarings costs 3 Fq2 multiplications instead of the general
    /// squaring's 12. Only correct for cyclotomic elements (after the easy part of the final
    /// exponentiation); tests compare it with `squared()` there. The C kernel (same formulas)
    /// when the ADX kernel is in use, else `portableCyclotomicSquared`.
    @inlinable
    public func cyclotomicSquared() -> Fq12 {
        if FieldKernel.current == .adx {
            var r = Fq12.zero, x = self
            vs_bn254_fq12_cyclotomic_sqr(&r, &x)
            return r
        }
        return portableCyclotomicSquared()
    }

    /// Granger-Scott squaring in Swift.
    @inlinable @inline(__always)
    public func portableCyclotomicSquared() -> Fq12 {
        // Fq4 pairs (z0, z1), (z2, z3), (z4, z5) in Granger-Scott's notation.
        let z0 = c0.c0, z4 = c0.c1, z3 = c0.c2
        let z2 = c1.c0, z1 = c1.c1, z5 = c1.c2

        // (t0 + t1 s) = (z0 + z1 s)^2 with s^2 = xi.
        var tmp = z0 * z1
        let t0 = (z0 + z1) * (z1.mulByNonResidue() + z0) - tmp - tmp.mulByNonResidue()
        let t1 = tmp.doubled()
        // (t2 + t3 s) = (z2 + z3 s)^2
        tmp = z2 * z3
        let t2 = (z2 + z3) * (z3.mulByNonResidue() + z2) - tmp - tmp.mulByNonResidue()
        let t3 = tmp.doubled()
        // (t4 + t5 s) = (z4 + z5 s)^2
        tmp = z4 * z5
        let t4 = (z4 + z5) * (z5.mulByNonResidue() + z4) - tmp - tmp.mulByNonResidue()
        let t5 = tmp.doubled()

        // A: z0 = 3 t0 - 2 z0, z1 = 3 t1 + 2 z1
        let r0 = (t0 - z0).doubled() + t0
        let r1 = (t1 + z1).doubled() + t1
        // B: z2 = 3 xi t5 + 2 z2, z3 = 3 t4 - 2 z3
        let xt5 = t5.mulByNonResidue()
        let r2 = (z2 + xt5).doubled() + xt5
        let r3 = (t4 - z3).doubled() + t4
        // C: z4 = 3 t2 - 2 z4, z5 = 3 t3 + 2 z5
        let r4 = (t2 - z4).doubled() + t2
        let r5 = (z5 + t3).doubled() + t3

        return Fq12(Fq6(r0, r4, r3), Fq6(r2, r1, r5))
    }

    /// Multiplication by a sparse element d0 + d3 w + d4 v w (Fq2 coefficients at tower
    /// positions 0, 3, 4 -- the shape of a D-twist line evaluated at a G1 point): 13 Fq2
    /// multiplications instead of 18 (Aranha et al., "Faster Explicit Formulas for Computing
    /// Pairings over Ordinary Curves", Eurocrypt 2011, Section 4). The C kernel when the ADX
    /// kernel is in use, else `portableMulBy034`.
    @inlinable
    public func mulBy034(_ d0: Fq2, _ d3: Fq2, _ d4: Fq2) -> Fq12 {
        if FieldKernel.current == .adx {
            var r = Fq12.zero, x = self, e0 = d0, e3 = d3, e4 = d4
            vs_bn254_fq12_mul_by_034(&r, &x, &e0, &e3, &e4)
            return r
        }
        return portableMulBy034(d0, d3, d4)
    }

    /// The sparse multiplication in Swift.
    @inlinable @inline(__always)
    public func portableMulBy034(_ d0: Fq2, _ d3: Fq2, _ d4: Fq2) -> Fq12 {
        let a = c0 * d0
        let b = c1.mulBy01(d3, d4)
        let e = (c0 + c1).mulBy01(d0 + d3, d4)
        return Fq12(b.mulByNonResidue() + a, e - a - b)
    }
}

/// GT, the order-r subgroup of Fq12* where pairing values live (written multiplicatively).
public typealias GT = Fq12
