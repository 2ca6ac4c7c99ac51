import Dispatch

/// Many scalar multiplications of one fixed point (Groth16 setup, ceremonies): a table of
/// d * 2^(w*j) * P for every window j and digit d < 2^w, so each product costs 256/w mixed
/// additions and no doublings. With w = 8: 32 windows x 255 points of precomputation.
public struct FixedBaseTable<C: CurveParameters>: Sendable {
    public let windowBits: Int
    let windows: [[AffinePoint<C>]]

    public init(base: AffinePoint<C>, windowBits: Int = 10) {
        precondition((1...12).contains(windowBits), "window of \(windowBits) bits")
        self.windowBits = windowBits
        let windowCount = (256 + windowBits - 1) / windowBits
        var rows: [[AffinePoint<C>]] = []
        var start = base.jacobian
        for _ in 0..<windowCount {
            var row = [JacobianPoint<C>]()
            row.reserveCapacity((1 << windowBits) - 1)
            var acc = start
            for _ in 1..<(1 << windowBits) {
                row.append(acc)
                acc = acc + start
            }
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
        for (j, row) in windows.enumerated() {
            let digit = limbs.window(bit: j * windowBits, mask: mask)
            if digit != 0 { acc += row[Int(digit) - 1] }
        }
        return acc
    }

    /// k_i * P for every scalar, in affine form, on all cores.
    ///
    /// Each worker keeps a chunk of affine accumulators and adds one table point per window
    /// to all of them with a single shared inversion (batch-affine addition, about 6
    /// multiplications per addition instead of 11 for a mixed Jacobian addition).
    public func multiplyAll(_ scalars: [Fr]) -> [AffinePoint<C>] {
        let n = scalars.count
        if n == 0 { return [] }
        var out = [AffinePoint<C>](repeating: .infinity, count: n)
        let chunk = min(4096, max(64, (n + 2 * ProcessInfoCores.activeCount - 1) / (2 * ProcessInfoCores.activeCount)))
        let chunks = (n + chunk - 1) / chunk
        out.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                var acc = [AffinePoint<C>](repeating: .infinity, count: hi - lo)
                var pending = [Int](), addends = [AffinePoint<C>](), prefix = [C.BaseField]()
                pending.reserveCapacity(hi - lo)
                addends.reserveCapacity(hi - lo)
                prefix.reserveCapacity(hi - lo)
                let limbs = (lo..<hi).map { scalars[$0].canonicalLimbs }
                let mask = UInt64((1 << windowBits) - 1)
                for (j, row) in windows.enumerated() {
                    let bit = j * windowBits
                    guard bit < 256 else { break }
                    pending.removeAll(keepingCapacity: true)
                    addends.removeAll(keepingCapacity: true)
                    for i in 0..<(hi - lo) {
                        let d = limbs[i].window(bit: bit, mask: mask)
                        if d == 0 { continue }
                        let t = row[Int(d) - 1]
                        if acc[i].isInfinity {
                            acc[i] = t
                            continue
                        }
                        if acc[i].x == t.x {  // doubling or cancellation: rare, exact path
                            acc[i] = (acc[i].jacobian + t).affine
                            continue
                        }
                        pending.append(i)
                        addends.append(t)
                    }
                    Self.batchAdd(&acc, pending: pending, addends: addends, prefix: &prefix)
                }
                for i in lo..<hi { target.value[i] = acc[i - lo] }
            }
        }
        return out
    }

    /// acc[pending[k]] += addends[k] for all k, with one field inversion (x-coordinates differ).
    static func batchAdd(
        _ acc: inout [AffinePoint<C>], pending: [Int], addends: [AffinePoint<C>],
        prefix: inout [C.BaseField]
    ) {
        let count = pending.count
        if count == 0 { return }
        prefix.removeAll(keepingCapacity: true)
        var product = C.BaseField.one
        for k in 0..<count {
            prefix.append(product)
            product = product * (addends[k].x - acc[pending[k]].x)
        }
        guard var inverse = product.inverse() else { preconditionFailure("x-coordinates were checked distinct") }
        for k in stride(from: count - 1, through: 0, by: -1) {
            let i = pending[k]
            let p = acc[i], t = addends[k]
            let dx = t.x - p.x
            let lambda = (t.y - p.y) * (inverse * prefix[k])
            inverse = inverse * dx
            let x3 = lambda.squared() - p.x - t.x
            acc[i] = AffinePoint(x: x3, y: lambda * (p.x - x3) - p.y)
        }
    }
}
