/// A short Weierstrass curve y^2 = x^3 + b (a = 0) over `BaseField`, with a prime-order
/// subgroup of order r (BN254's Fr). G1 and G2 of BN254 are the two instances.
public protocol CurveParameters: Sendable {
    associatedtype BaseField: Field
    static var b: BaseField { get }
    static var generatorX: BaseField { get }
    static var generatorY: BaseField { get }
    /// True when every point on the curve is in the order-r subgroup (cofactor 1).
    static var hasCofactorOne: Bool { get }
    /// Subgroup membership for an on-curve affine point (only consulted when the cofactor is not 1).
    static func isInPrimeOrderSubgroup(_ point: AffinePoint<Self>) -> Bool
    static var name: String { get }
}

/// A point in affine coordinates; the point at infinity is a flag (x, y ignored).
@frozen
public struct AffinePoint<C: CurveParameters>: Hashable, Sendable, CustomStringConvertible {
    public var x: C.BaseField
    public var y: C.BaseField
    public var isInfinity: Bool

    /// Builds a point without checks; use `validated(x:y:)` for anything from outside.
    @inlinable
    public init(x: C.BaseField, y: C.BaseField) {
        self.x = x
        self.y = y
        self.isInfinity = false
    }

    @inlinable
    public static var infinity: AffinePoint {
        var p = AffinePoint(x: .zero, y: .zero)
        p.isInfinity = true
        return p
    }

    @inlinable
    public static var generator: AffinePoint { AffinePoint(x: C.generatorX, y: C.generatorY) }

    /// y^2 == x^3 + b (infinity counts as on the curve).
    @inlinable
    public var isOnCurve: Bool {
        isInfinity || y.squared() == x.squared() * x + C.b
    }

    public var isInSubgroup: Bool {
        isInfinity || C.hasCofactorOne || C.isInPrimeOrderSubgroup(self)
    }

    /// A point from outside (a file, a socket): on the curve and in the prime-order subgroup.
    public static func validated(x: C.BaseField, y: C.BaseField) throws(PointDecodingError) -> AffinePoint {
        let p = AffinePoint(x: x, y: y)
        guard p.isOnCurve else { throw .notOnCurve(C.name) }
        guard p.isInSubgroup else { throw .notInSubgroup(C.name) }
        return p
    }

    @inlinable
    public static prefix func - (p: AffinePoint) -> AffinePoint {
        p.isInfinity ? p : AffinePoint(x: p.x, y: -p.y)
    }

    @inlinable
    public var jacobian: JacobianPoint<C> {
        isInfinity ? .infinity : JacobianPoint(x: x, y: y, z: .one)
    }

    public static func == (a: AffinePoint, b: AffinePoint) -> Bool {
        if a.isInfinity || b.isInfinity { return a.isInfinity == b.isInfinity }
        return a.x == b.x && a.y == b.y
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isInfinity)
        if !isInfinity {
            hasher.combine(x)
            hasher.combine(y)
        }
    }

    public var description: String { isInfinity ? "\(C.name)(infinity)" : "\(C.name)(\(x), \(y))" }

    /// Scalar multiplication by an Fr scalar (see `JacobianPoint.multiplied(by:)`).
    @inlinable
    public func multiplied(by k: Fr) -> JacobianPoint<C> { jacobian.multiplied(by: k) }
}

/// A point in Jacobian coordinates (X/Z^2, Y/Z^3); Z == 0 is the point at infinity.
@frozen
public struct JacobianPoint<C: CurveParameters>: Sendable, Equatable, CustomStringConvertible {
    public var x: C.BaseField
    public var y: C.BaseField
    public var z: C.BaseField

    @inlinable @inline(__always)
    public init(x: C.BaseField, y: C.BaseField, z: C.BaseField) {
        self.x = x
        self.y = y
        self.z = z
    }

    @inlinable public static var infinity: JacobianPoint { JacobianPoint(x: .one, y: .one, z: .zero) }
    @inlinable public static var generator: JacobianPoint { AffinePoint<C>.generator.jacobian }
    @inlinable public var isInfinity: Bool { z.isZero }

    public var description: String { affine.description }

    /// Converts to affine with one inversion.
    @inlinable
    public var affine: AffinePoint<C> {
        guard let zInv = z.inverse() else { return .infinity }
        let zInv2 = zInv.squared()
        return AffinePoint(x: x * zInv2, y: y * zInv2 * zInv)
    }

    /// Converts many points to affine with one field inversion (Montgomery's trick).
    public static func batchToAffine(_ points: [JacobianPoint]) -> [AffinePoint<C>] {
        var zs = points.map(\.z)
        C.BaseField.batchInvert(&zs)
        return zip(points, zs).map { p, zInv in
            if p.isInfinity { return .infinity }
            let zInv2 = zInv.squared()
            return AffinePoint(x: p.x * zInv2, y: p.y * zInv2 * zInv)
        }
    }

    public static func == (a: JacobianPoint, b: JacobianPoint) -> Bool {
        if a.isInfinity || b.isInfinity { return a.isInfinity == b.isInfinity }
        let az2 = a.z.squared(), bz2 = b.z.squared()
        return a.x * bz2 == b.x * az2 && a.y * bz2 * b.z == b.y * az2 * a.z
    }

    @inlinable
    public static prefix func - (p: JacobianPoint) -> JacobianPoint {
        JacobianPoint(x: p.x, y: -p.y, z: p.z)
    }

    /// Doubling for a = 0 ("dbl-2009-l": 2M + 5S).
    @inlinable
    public func doubled() -> JacobianPoint {
        if isInfinity { return self }
        let a = x.squared()
        let b = y.squared()
        let c = b.squared()
        var d = (x + b).squared() - a - c
        d = d.doubled()
        let e = a.doubled() + a
        let f = e.squared()
        let x3 = f - d.doubled()
        var eightC = c.doubled()
        eightC = eightC.doubled()
        eightC = eightC.doubled()
        let y3 = e * (d - x3) - eightC
        let z3 = (y * z).doubled()
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// General addition ("add-2007-bl": 11M + 5S), handling doubling and inverses.
    @inlinable
    public static func + (p: JacobianPoint, q: JacobianPoint) -> JacobianPoint {
        if p.isInfinity { return q }
        if q.isInfinity { return p }
        let z1z1 = p.z.squared()
        let z2z2 = q.z.squared()
        let u1 = p.x * z2z2
        let u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2
        let s2 = q.y * p.z * z1z1
        if u1 == u2 {
            return s1 == s2 ? p.doubled() : .infinity
        }
        let h = u2 - u1
        let i = h.doubled().squared()
        let j = h * i
        let r = (s2 - s1).doubled()
        let v = u1 * i
        let x3 = r.squared() - j - v.doubled()
        let y3 = r * (v - x3) - (s1 * j).doubled()
        let z3 = ((p.z + q.z).squared() - z1z1 - z2z2) * h
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// Mixed addition with an affine point ("madd-2007-bl": 7M + 4S).
    @inlinable
    public static func + (p: JacobianPoint, q: AffinePoint<C>) -> JacobianPoint {
        if q.isInfinity { return p }
        if p.isInfinity { return q.jacobian }
        let z1z1 = p.z.squared()
        let u2 = q.x * z1z1
        let s2 = q.y * p.z * z1z1
        if p.x == u2 {
            return p.y == s2 ? p.doubled() : .infinity
        }
        let h = u2 - p.x
        let hh = h.squared()
        let i = hh.doubled().doubled()
        let j = h * i
        let r = (s2 - p.y).doubled()
        let v = p.x * i
        let x3 = r.squared() - j - v.doubled()
        let y3 = r * (v - x3) - (p.y * j).doubled()
        let z3 = (p.z + h).squared() - z1z1 - hh
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    @inlinable
    public static func - (p: JacobianPoint, q: JacobianPoint) -> JacobianPoint { p + (-q) }

    @inlinable
    public static func += (p: inout JacobianPoint, q: JacobianPoint) { p = p + q }

    @inlinable
    public static func += (p: inout JacobianPoint, q: AffinePoint<C>) { p = p + q }

    /// Scalar multiplication by the canonical value of `k` (4-bit fixed window, 256 doublings
    /// and 64 additions). Variable time in the scalar: for public scalars and for one-off local
    /// computations; the prover's blinding goes through MSM.
    @inlinable
    public func multiplied(by k: Fr) -> JacobianPoint { multiplied(byLimbs: k.canonicalLimbs) }

    @inlinable
    public func multiplied(byLimbs k: Limbs4) -> JacobianPoint {
        var table = [JacobianPoint](repeating: .infinity, count: 16)
        for i in 1..<16 { table[i] = table[i - 1] + self }
        var acc = JacobianPoint.infinity
        for window in stride(from: 63, through: 0, by: -1) {
            acc = acc.doubled().doubled().doubled().doubled()
            let limb: UInt64
            switch window >> 4 {
            case 0: limb = k.l0
            case 1: limb = k.l1
            case 2: limb = k.l2
            default: limb = k.l3
            }
            let digit = Int((limb >> UInt64((window & 15) * 4)) & 15)
            if digit != 0 { acc = acc + table[digit] }
        }
        return acc
    }

    /// Reference double-and-add (test oracle for `multiplied(by:)` and MSM).
    public func multipliedByDoubleAndAdd(_ k: BigInt) -> JacobianPoint {
        var acc = JacobianPoint.infinity
        for i in stride(from: k.bitWidth - 1, through: 0, by: -1) {
            acc = acc.doubled()
            if k.bit(i) { acc = acc + self }
        }
        return acc
    }
}

/// Why bytes or numbers could not be decoded into a curve point.
public enum PointDecodingError: Error, Equatable, CustomStringConvertible {
    case wrongLength(group: String, expected: Int, got: Int)
    case coordinate(group: String, FieldDecodingError)
    case notOnCurve(String)
    case notInSubgroup(String)
    case invalidFlags(String)
    case noSquareRoot(String)
    case identityNotAllowed(String)
    /// snarkjs form with z = 0 but (x, y) != (0, 1): only one encoding of infinity is accepted.
    case nonCanonicalInfinity(String)
    /// snarkjs form with z other than 0 or 1: snarkjs writes affine points with z = 1.
    case nonCanonicalProjective(String)

    public var description: String {
        switch self {
        case .wrongLength(let g, let e, let n): return "\(g) point encoding has \(n) bytes, expected \(e)"
        case .coordinate(let g, let f): return "\(g) point coordinate: \(f)"
        case .notOnCurve(let g): return "\(g) point is not on the curve"
        case .notInSubgroup(let g): return "\(g) point is not in the prime-order subgroup"
        case .invalidFlags(let g): return "\(g) compressed point has invalid flag bits"
        case .noSquareRoot(let g): return "\(g) compressed point: x has no matching y on the curve"
        case .identityNotAllowed(let g): return "\(g) point at infinity is not allowed here"
        case .nonCanonicalInfinity(let g):
            return "\(g) point has z = 0 but is not written as (0, 1, 0), the one accepted encoding of infinity"
        case .nonCanonicalProjective(let g):
            return "\(g) point has z other than 1 (snarkjs writes affine points with z = 1)"
        }
    }
}
