import CAlgebraKernels

/// F_q2 = F_q[u] / (u^2 + 1): the field of G2's coordinates.
@frozen
public struct Fq2: SampleableField {
    public var c0: Fq
    public var c1: Fq

    @inlinable @inline(__always)
    public init(_ c0: Fq, _ c1: Fq) {
        self.c0 = c0
        self.c1 = c1
    }

    @inlinable public static var zero: Fq2 { Fq2(.zero, .zero) }
    @inlinable public static var one: Fq2 { Fq2(.one, .zero) }
    @inlinable public var isZero: Bool { c0.isZero && c1.isZero }
    /// u, the square root of -1.
    @inlinable public static var u: Fq2 { Fq2(.zero, .one) }

    public var description: String { "(\(c0) + \(c1)*u)" }

    @inlinable @inline(__always)
    public static func + (a: Fq2, b: Fq2) -> Fq2 { Fq2(a.c0 + b.c0, a.c1 + b.c1) }
    @inlinable @inline(__always)
    public static func - (a: Fq2, b: Fq2) -> Fq2 { Fq2(a.c0 - b.c0, a.c1 - b.c1) }
    @inlinable @inline(__always)
    public static prefix func - (a: Fq2) -> Fq2 { Fq2(-a.c0, -a.c1) }

    /// Karatsuba: 3 base multiplications.
    @inlinable @inline(__always)
    public static func * (a: Fq2, b: Fq2) -> Fq2 {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        return Fq2(v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1)
    }

    @inlinable @inline(__always)
    public static func * (a: Fq2, k: Fq) -> Fq2 { Fq2(a.c0 * k, a.c1 * k) }

    /// Complex squaring: 2 base multiplications.
    @inlinable @inline(__always)
    public func squared() -> Fq2 {
        let ab = c0 * c1
        return Fq2((c0 + c1) * (c0 - c1), ab + ab)
    }

    @inlinable @inline(__always)
    public func doubled() -> Fq2 { Fq2(c0.doubled(), c1.doubled()) }

    /// Multiplication by the sextic non-residue xi = 9 + u (used by the Fq6 tower).
    @inlinable @inline(__always)
    public func mulByNonResidue() -> Fq2 {
        let nine0 = c0.doubled().doubled().doubled() + c0
        let nine1 = c1.doubled().doubled().doubled() + c1
        return Fq2(nine0 - c1, c0 + nine1)
    }

    /// The conjugate, which is also the q-power Frobenius map.
    @inlinable public var conjugate: Fq2 { Fq2(c0, -c1) }

    /// Norm to F_q: c0^2 + c1^2.
    @inlinable public var norm: Fq { c0.squared() + c1.squared() }

    @inlinable
    public func inverse() -> Fq2? {
        guard let t = norm.inverse() else { return nil }
        return Fq2(c0 * t, -(c1 * t))
    }

    public static func random() -> Fq2 { Fq2(.random(), .random()) }

    /// self^e for an exponent given as a big integer (public exponents only).
    public func power(_ e: BigInt) -> Fq2 {
        power(limbs: e.limbs(count: (e.bitWidth + 63) / 64))
    }

    /// A square root, or nil for a non-residue. q ≡ 3 mod 4: Algorithm 9 of Adj and
    /// Rodríguez-Henríquez, "Square root computation over even extension fields" (2012).
    public func squareRoot() -> Fq2? {
        if isZero { return .zero }
        let q = Fq.modulus
        let a1 = power((q - BigInt(3)) >> 2)
        let alpha = a1.squared() * self
        let a0 = alpha.conjugate * alpha  // alpha^(q+1)
        if a0 == -Fq2.one { return nil }
        let x0 = a1 * self
        let root: Fq2
        if alpha == -Fq2.one {
            root = Fq2.u * x0
        } else {
            root = (Fq2.one + alpha).power((q - BigInt(1)) >> 1) * x0
        }
        return root.squared() == self ? root : nil
    }

    /// "Sign" for point compression: the larger of the two roots (lexicographic on (c1, c0)),
    /// compared through the canonical values.
    public var isLexicographicallyLarge: Bool {
        if !c1.isZero { return c1.isNegativeSigned }
        return c0.isNegativeSigned
    }
}

extension Fq2 {
    /// The C tower kernel's Fq2 product (Karatsuba with lazy reduction: three 512-bit products,
    /// two Montgomery reductions), or nil when the ADX kernel is not in use. The pairing kernel
    /// uses it internally; it is public so tests can compare it with `*` on edge inputs.
    public static func kernelProduct(_ a: Fq2, _ b: Fq2) -> Fq2? {
        guard FieldKernel.current == .adx else { return nil }
        var r = Fq2.zero, x = a, y = b
        vs_bn254_fq2_mul(&r, &x, &y)
        return r
    }

    /// The C tower kernel's Fq2 square, or nil when the ADX kernel is not in use (tests).
    public func kernelSquared() -> Fq2? {
        guard FieldKernel.current == .adx else { return nil }
        var r = Fq2.zero, x = self
        vs_bn254_fq2_sqr(&r, &x)
        return r
    }
}
