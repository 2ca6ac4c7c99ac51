/// Allocation-free decoding of the common case of a point encoding, for readers of large key
/// files (`proving.key`, `.zkey`, `.ptau`) that decode millions of points.
///
/// Each function returns a point only when its coordinates are canonical (below q) and it lies
/// on the curve, and nil for anything else (non-canonical coordinates, off-curve points, the
/// all-zero encoding of infinity): the caller then runs the full decoder on those bytes, which
/// decides and names the error. A point on the curve cannot be all zeros (0 != 0^3 + b), so
/// every point returned here is one the full decoder would also return, less the G2 subgroup
/// test, which readers batch over the whole list (`G2SubgroupBatch`).
public enum RawPointDecoding {
    /// How coordinates are stored.
    public enum Layout: Sendable {
        /// EIP-197: 32-byte big-endian canonical integers; G2 coordinates as c1 || c0.
        case bigEndianC1First
        /// snarkjs (`.zkey`, `.ptau`): 32-byte little-endian Montgomery form; G2 as c0 || c1.
        case littleEndianMontgomery
    }

    /// One Fq coordinate at `p`, or nil when the stored integer is not below q.
    @inlinable @inline(__always)
    static func fq(_ p: UnsafeRawPointer, _ layout: Layout) -> Fq? {
        switch layout {
        case .bigEndianC1First:
            let v = Limbs4(
                UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
                UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
            guard Fq.isBelowModulus(v) else { return nil }
            return Fq(canonicalLimbs: v)
        case .littleEndianMontgomery:
            let v = Limbs4(
                UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            guard Fq.isBelowModulus(v) else { return nil }
            return Fq(montgomery: v)
        }
    }

    /// A G1 point from 64 bytes at `p`: canonical coordinates on the curve, else nil.
    @inlinable
    public static func g1(_ p: UnsafeRawPointer, layout: Layout) -> G1Affine? {
        guard let x = fq(p, layout), let y = fq(p + 32, layout) else { return nil }
        let point = G1Affine(x: x, y: y)
        return point.isOnCurve ? point : nil
    }

    /// A G2 point from 128 bytes at `p`: canonical coordinates on the twist curve, else nil.
    /// Not tested for membership in G2: the caller must run `G2SubgroupBatch` (or the per-point
    /// test) on every point this returns.
    @inlinable
    public static func g2OnCurve(_ p: UnsafeRawPointer, layout: Layout) -> G2Affine? {
        let first = layout == .bigEndianC1First ? 32 : 0, second = 32 - first
        guard let x0 = fq(p + first, layout), let x1 = fq(p + second, layout),
            let y0 = fq(p + 64 + first, layout), let y1 = fq(p + 64 + second, layout)
        else { return nil }
        let point = G2Affine(x: Fq2(x0, x1), y: Fq2(y0, y1))
        return point.isOnCurve ? point : nil
    }
}
