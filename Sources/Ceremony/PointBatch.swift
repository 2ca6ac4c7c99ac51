import Algebra
import Dispatch

/// Bulk point arithmetic for the ceremony: every point of a vector times its own scalar, and
/// the inverse FFT over a vector of points (for Lagrange-basis keys). All spread over the cores.
enum PointBatch {
    static let chunk = 512

    /// points[i] *= first * ratio^i, in place. Used with secrets (a contribution's powers):
    /// on the vector kernel (`PointKernels.scale`, constant time in the scalars) the scalars are
    /// computed into one array that is erased afterwards; on the scalar path the running scalar
    /// lives only in each worker's locals and is zeroed after use.
    /// Cost: one variable-base multiplication per point (about 256 doublings and 64 additions),
    /// eight at a time on the vector kernel.
    static func scaleByPowers<C: CurveParameters>(_ points: inout [AffinePoint<C>], first: Fr, ratio: Fr) {
        let n = points.count
        if n == 0 { return }
        if PointKernels.available(C.self) {
            var scalars: [Limbs4]
            if ratio == .one {
                scalars = [first.canonicalLimbs]
            } else {
                scalars = [Limbs4](repeating: .zero, count: n)
                scalars.withUnsafeMutableBufferPointer { buffer in
                    let target = UnsafeSendable(buffer)
                    DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                        let lo = c * chunk, hi = min(n, lo + chunk)
                        var scalar = first * ratio.power(limbs: [UInt64(lo)])
                        for i in lo..<hi {
                            target.value[i] = scalar.canonicalLimbs
                            scalar = scalar * ratio
                        }
                        scalar = .zero
                    }
                }
            }
            defer { SecureRandom.erase(&scalars) }
            if PointKernels.scale(&points, canonicalScalars: scalars) { return }
        }
        points.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                var scalar = first * ratio.power(limbs: [UInt64(lo)])
                var out = [JacobianPoint<C>]()
                out.reserveCapacity(hi - lo)
                for i in lo..<hi {
                    out.append(target.value[i].multiplied(by: scalar))
                    scalar = scalar * ratio
                }
                scalar = .zero
                let affine = JacobianPoint<C>.batchToAffine(out)
                for i in lo..<hi { target.value[i] = affine[i - lo] }
            }
        }
    }

    /// p * k, cheap when k or -k is small (circuit coefficients usually are).
    static func times<C: CurveParameters>(_ p: AffinePoint<C>, _ k: Fr) -> JacobianPoint<C> {
        let (magnitude, negative) = MSM.fold(k.canonicalLimbs)
        var result: JacobianPoint<C>
        if magnitude.l1 == 0, magnitude.l2 == 0, magnitude.l3 == 0 {
            result = .infinity
            var bits = magnitude.l0
            var addend = p.jacobian
            while bits != 0 {
                if bits & 1 == 1 { result += addend }
                bits >>= 1
                if bits != 0 { addend = addend.doubled() }
            }
        } else {
            result = p.jacobian.multiplied(byLimbs: magnitude)
        }
        return negative ? -result : result
    }

    /// Point-times-scalar products gathered for one bulk multiplication: each a point, a
    /// coefficient's magnitude and sign, and where the product goes (an index the caller
    /// decodes). Public values only (circuit coefficients and powers of tau).
    struct Products<C: CurveParameters> {
        var points: [AffinePoint<C>] = []
        var scalars: [Limbs4] = []
        var targets: [(index: Int, negative: Bool)] = []

        /// Gathers p * k unless k or -k is below 2^64 (then false: cheaper done at once).
        mutating func gather(_ p: AffinePoint<C>, _ k: Fr, target: Int) -> Bool {
            let (magnitude, negative) = MSM.fold(k.canonicalLimbs)
            guard magnitude.l1 != 0 || magnitude.l2 != 0 || magnitude.l3 != 0 else { return false }
            points.append(p)
            scalars.append(magnitude)
            targets.append((target, negative))
            return true
        }

        /// Multiplies every gathered point by its scalar (the vector kernel when it serves the
        /// curve, otherwise one multiplication per point spread over the cores) and hands each
        /// signed product to `add`, in the order gathered.
        mutating func apply(_ add: (Int, AffinePoint<C>) -> Void) {
            let n = points.count
            if n == 0 { return }
            if !PointKernels.scale(&points, canonicalScalars: scalars) {
                points.withUnsafeMutableBufferPointer { buffer in
                    let target = UnsafeSendable(buffer)
                    let scalars = self.scalars
                    DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                        let lo = c * chunk, hi = min(n, lo + chunk)
                        let products = (lo..<hi).map { target.value[$0].jacobian.multiplied(byLimbs: scalars[$0]) }
                        let affine = JacobianPoint<C>.batchToAffine(products)
                        for i in lo..<hi { target.value[i] = affine[i - lo] }
                    }
                }
            }
            for (i, target) in targets.enumerated() {
                add(target.index, target.negative ? -points[i] : points[i])
            }
            (points, scalars, targets) = ([], [], [])
        }
    }

    /// (1/n) sum_j omega^(-ij) points[j] for i < n: the inverse DFT of the points over
    /// `domain` (size n = points.count). With points tau^j G, entry i is L_i(tau) G, the
    /// Lagrange basis at tau. Radix-2, (n/2) log n twiddle multiplications plus n for 1/n.
    /// On the vector kernel the twiddles go through GLV (`PointKernels.inverseFFT`); `twiddles`
    /// shares their split between FFTs over the same domain.
    static func inverseFFT<C: CurveParameters>(
        _ affinePoints: [AffinePoint<C>], domain: EvaluationDomain, twiddles: PublicScalars? = nil
    ) -> [AffinePoint<C>] {
        if let result = PointKernels.inverseFFT(affinePoints, domain: domain, twiddles: twiddles) { return result }
        let points = affinePoints.map(\.jacobian)
        let n = domain.size
        precondition(points.count == n, "inverse FFT of \(points.count) points over a domain of \(n)")
        var a = [JacobianPoint<C>](repeating: .infinity, count: n)
        let logN = domain.logSize
        for i in 0..<n {
            var r = 0, x = i
            for _ in 0..<logN {
                r = (r << 1) | (x & 1)
                x >>= 1
            }
            a[r] = points[i]
        }
        let twiddles = EvaluationDomain.powers(of: domain.generatorInverse, count: max(1, n / 2))
        var len = 2
        while len <= n {
            let size = len, half = len / 2, stride = n / len
            a.withUnsafeMutableBufferPointer { buffer in
                let target = UnsafeSendable(buffer)
                let butterflies = n / 2
                DispatchQueue.concurrentPerform(iterations: (butterflies + chunk - 1) / chunk) { c in
                    for b in (c * chunk)..<min(butterflies, (c + 1) * chunk) {
                        let block = b / half, j = b % half
                        let top = block * size + j, bottom = top + half
                        let u = target.value[top]
                        let v =
                            j == 0 ? target.value[bottom] : target.value[bottom].multiplied(by: twiddles[j * stride])
                        target.value[top] = u + v
                        target.value[bottom] = u - v
                    }
                }
            }
            len <<= 1
        }
        let nInverse = domain.sizeInverse
        a.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                for i in (c * chunk)..<min(n, (c + 1) * chunk) {
                    target.value[i] = target.value[i].multiplied(by: nInverse)
                }
            }
        }
        return JacobianPoint<C>.batchToAffine(a)
    }
}
