import Dispatch

/// Many scalar multiplications of one fixed point (Groth16 setup, ceremonies): a table of
/// d * 2^(w*j) * P for every window j and digit d < 2^w, so each product costs 256/w mixed
/// additions and no doublings. With w = 8: 32 windows x 255 points of precomputation.
public struct FixedBaseTable<C: CurveParameters>: Sendable {
    public let windowBits: Int
    let windows: [[AffinePoint<C>]]

    public init(base: AffinePoint<C>, windowBits: Int = 8) {
        precondition((1...12).contains(windowBits), "window of \(windowBits) bits")
        self.windowBits = windowBits
        let windowCount = (256 + windowBits - 1) / windowBits
        var rows: [[AffinePoint<C>]] = []
        var start = base.jacobian
        for _ in 0..<windowCount {
            var row = [JacobianPoint<C>]()
            row.reserveCapacity((1 << windowBits) - 1)
            var acc = start
            for _ in 1..<(1 << windowBits) { row.append(acc); acc = acc + start }
            rows.append(JacobianPoint<C>.batchToAffine(row))
            start = acc  // 2^w * start
        }
        windows = rows
    }

    /// k * P for one scalar.
    public func multiply(_ k: Fr) -> JacobianPoint<C> {
        let limbs = k.canonicalLimbs
        var acc = JacobianPoint<C>.infinity
        let mask = UInt64((1 << windowBits) - 1)
        let words = [limbs.l0, limbs.l1, limbs.l2, limbs.l3]
        for (j, row) in windows.enumerated() {
            let bit = j * windowBits
            guard bit < 256 else { break }
            let limb = bit >> 6, shift = UInt64(bit & 63)
            var digit = words[limb] >> shift
            if shift + UInt64(windowBits) > 64, limb + 1 < 4 { digit |= words[limb + 1] << (64 - shift) }
            digit &= mask
            if digit != 0 { acc += row[Int(digit) - 1] }
        }
        return acc
    }

    /// k_i * P for every scalar, in affine form, on all cores.
    public func multiplyAll(_ scalars: [Fr]) -> [AffinePoint<C>] {
        let n = scalars.count
        if n == 0 { return [] }
        var out = [AffinePoint<C>](repeating: .infinity, count: n)
        let chunk = max(256, (n + 4 * ProcessInfoCores.activeCount - 1) / (4 * ProcessInfoCores.activeCount))
        let chunks = (n + chunk - 1) / chunk
        out.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                let points = (lo..<hi).map { multiply(scalars[$0]) }
                let affine = JacobianPoint<C>.batchToAffine(points)
                for i in lo..<hi { target.value[i] = affine[i - lo] }
            }
        }
        return out
    }
}
