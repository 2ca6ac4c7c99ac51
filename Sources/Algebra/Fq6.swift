/// F_q6 = F_q2[v] / (v^3 - xi) with xi = 9 + u: the middle floor of BN254's tower
/// (Fq2 -> Fq6 -> Fq12), as in EIP-197 and most BN254 libraries.
///
/// Formulas: Devegili, Ó hÉigeartaigh, Scott, Dahab, "Multiplication and Squaring on
/// Pairing-Friendly Fields" (2006): Karatsuba multiplication (6 Fq2 multiplications) and the
/// Chung-Hasan SQR2 squaring (2 multiplications + 3 squarings).
@frozen
public struct Fq6: Field {
    public var c0: Fq2
    public var c1: Fq2
    public var c2: Fq2

    @inlinable @inline(__always)
    public init(_ c0: Fq2, _ c1: Fq2, _ c2: Fq2) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    @inlinable public static var zero: Fq6 { Fq6(.zero, .zero, .zero) }
    @inlinable public static var one: Fq6 { Fq6(.one, .zero, .zero) }
    @inlinable public var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    public var description: String { "(\(c0) + \(c1)*v + \(c2)*v^2)" }

    @inlinable @inline(__always)
    public static func + (a: Fq6, b: Fq6) -> Fq6 { Fq6(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2) }
    @inlinable @inline(__always)
    public static func - (a: Fq6, b: Fq6) -> Fq6 { Fq6(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2) }
    @inlinable @inline(__always)
    public static prefix func - (a: Fq6) -> Fq6 { Fq6(-a.c0, -a.c1, -a.c2) }
    @inlinable @inline(__always)
    public func doubled() -> Fq6 { Fq6(c0.doubled(), c1.doubled(), c2.doubled()) }

    /// Karatsuba over the three coefficients: 6 Fq2 multiplications instead of 9.
    @inlinable @inline(__always)
    public static func * (a: Fq6, b: Fq6) -> Fq6 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        let t2 = a.c2 * b.c2
        let r0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - t1 - t2).mulByNonResidue() + t0
        let r1 = (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 + t2.mulByNonResidue()
        let r2 = (a.c0 + a.c2) * (b.c0 + b.c2) - t0 - t2 + t1
        return Fq6(r0, r1, r2)
    }

    /// Multiplication by an element of the subfield Fq2 (3 Fq2 multiplications).
    @inlinable @inline(__always)
    public static func * (a: Fq6, k: Fq2) -> Fq6 { Fq6(a.c0 * k, a.c1 * k, a.c2 * k) }

    /// Chung-Hasan SQR2: 2 Fq2 multiplications and 3 Fq2 squarings.
    @inlinable @inline(__always)
    public func squared() -> Fq6 {
        let s0 = c0.squared()
        let s1 = (c0 * c1).doubled()
        let s2 = (c0 - c1 + c2).squared()
        let s3 = (c1 * c2).doubled()
        let s4 = c2.squared()
        return Fq6(s3.mulByNonResidue() + s0, s4.mulByNonResidue() + s1, s1 + s2 + s3 - s0 - s4)
    }

    /// Multiplication by v, the cubic root of xi that generates Fq6 over Fq2 (and the quadratic
    /// non-residue w^2 of Fq12 over Fq6): (c0, c1, c2) -> (xi*c2, c0, c1). Costs one xi-multiply.
    @inlinable @inline(__always)
    public func mulByNonResidue() -> Fq6 { Fq6(c2.mulByNonResidue(), c0, c1) }

    /// Multiplication by the sparse element b0 + b1*v (5 Fq2 multiplications instead of 6),
    /// the building block of the sparse line multiplication in Fq12.
    @inlinable @inline(__always)
    public func mulBy01(_ b0: Fq2, _ b1: Fq2) -> Fq6 {
        let t0 = c0 * b0
        let t1 = c1 * b1
        let r0 = ((c1 + c2) * b1 - t1).mulByNonResidue() + t0
        let r1 = (c0 + c1) * (b0 + b1) - t0 - t1
        let r2 = (c0 + c2) * b0 - t0 + t1
        return Fq6(r0, r1, r2)
    }

    /// Multiplication by the sparse element b1*v (3 Fq2 multiplications).
    @inlinable @inline(__always)
    public func mulBy1(_ b1: Fq2) -> Fq6 {
        Fq6((c2 * b1).mulByNonResidue(), c0 * b1, c1 * b1)
    }

    /// The inverse through the norm to Fq2 (one Fq2 inversion), e.g. Beuchat et al.,
    /// "High-Speed Software Implementation of the Optimal Ate Pairing over Barreto-Naehrig
    /// Curves" (Pairing 2010).
    @inlinable
    public func inverse() -> Fq6? {
        let t0 = c0.squared() - (c1 * c2).mulByNonResidue()
        let t1 = c2.squared().mulByNonResidue() - c0 * c1
        let t2 = c1.squared() - c0 * c2
        let det = c0 * t0 + (c2 * t1 + c1 * t2).mulByNonResidue()
        guard let inv = det.inverse() else { return nil }
        return Fq6(t0 * inv, t1 * inv, t2 * inv)
    }

    public static func random() -> Fq6 { Fq6(.random(), .random(), .random()) }

    /// The q^k-power Frobenius map for k = 1, 2, 3 (k is taken mod 6): coefficient-wise
    /// Frobenius in Fq2, then v^(q^k) = xi^((q^k-1)/3) * v scales c1 and its square scales c2.
    @inlinable
    public func frobenius(_ k: Int) -> Fq6 {
        let power = ((k % 6) + 6) % 6
        if power == 0 { return self }
        let coefficients = Fq6.frobeniusCoefficients[power]
        return Fq6(
            c0.frobenius(power), c1.frobenius(power) * coefficients.c1,
            c2.frobenius(power) * coefficients.c2)
    }

    /// For k = 0...5: (xi^((q^k-1)/3), xi^(2(q^k-1)/3)), computed once with `Fq2.power`
    /// from the modulus (tests compare the resulting maps with plain exponentiation by q^k).
    public static let frobeniusCoefficients: [(c1: Fq2, c2: Fq2)] = {
        let xi = Fq2(Fq(UInt64(9)), Fq.one)
        let q = Fq.modulus
        var result: [(c1: Fq2, c2: Fq2)] = []
        var qk = BigInt(1)
        for _ in 0..<6 {
            let e = (qk - BigInt(1)) / BigInt(3)
            result.append((xi.power(e), xi.power(e * BigInt(2))))
            qk = qk * q
        }
        return result
    }()
}

extension Fq2 {
    /// The q^k-power Frobenius map of Fq2: the conjugate for odd k, the identity for even k.
    @inlinable @inline(__always)
    public func frobenius(_ k: Int) -> Fq2 { k & 1 == 1 ? conjugate : self }
}
