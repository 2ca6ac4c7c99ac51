import CAlgebraKernels
import Dispatch

/// Bulk point arithmetic on the AVX-512 IFMA kernel (`CAlgebraKernels`): many points each times
/// its own scalar, and the inverse DFT over a vector of points, for G1 and G2. The ceremony's
/// updates and Lagrange-basis keys are made of these. Eight points per vector, complete
/// projective formulas, fixed 4-bit windows and table reads that scan every entry, so the time
/// and memory accesses do not depend on the scalars (contributors' secrets).
///
/// Each function returns false (or nil) when the kernel is not in use (`MSMKernel.current`) or
/// the curve is not BN254's G1 or G2; the caller then runs its scalar code.
public enum PointKernels {
    /// Points per work item handed to one core.
    static let chunk = 1024

    static func curve<C: CurveParameters>(_: C.Type) -> (g2: Bool, words: Int)? {
        guard MSMKernel.current == .ifma else { return nil }
        let g2: Bool
        if C.self == G1Parameters.self {
            g2 = false
        } else if C.self == G2Parameters.self {
            g2 = true
        } else {
            return nil
        }
        let coordinateBytes = g2 ? 64 : 32
        guard MemoryLayout<AffinePoint<C>>.offset(of: \AffinePoint<C>.isInfinity) == 2 * coordinateBytes else {
            return nil
        }
        return (g2, g2 ? 30 : 15)
    }

    /// Whether the kernels serve curve C now.
    public static func available<C: CurveParameters>(_ c: C.Type) -> Bool { curve(c) != nil }

    /// points[i] *= scalars[i] (canonical limbs; a single scalar applies to every point), in
    /// place, on all cores. Cost per point: 259 doublings and 71 additions (64 windows and the
    /// 16-entry table), eight points per vector.
    public static func scale<C: CurveParameters>(
        _ points: inout [AffinePoint<C>], canonicalScalars scalars: [Limbs4]
    ) -> Bool {
        guard let (g2, words) = curve(C.self) else { return false }
        precondition(scalars.count == points.count || scalars.count == 1, "one scalar per point, or one for all")
        let n = points.count
        if n == 0 { return true }
        let scalarStride = scalars.count == 1 ? 0 : 4
        let stride = MemoryLayout<AffinePoint<C>>.stride
        points.withUnsafeMutableBytes { raw in
            scalars.withUnsafeBytes { k in
                let shared = UnsafeSendable((raw.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt64.self)))
                DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                    let (base, scalarWords) = shared.value
                    let lo = c * chunk, hi = min(n, lo + chunk)
                    let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: (hi - lo) * words)
                    defer { buffer.deallocate() }
                    let local = buffer - lo * words  // the kernel indexes by absolute point number
                    if g2 {
                        vs_ifma_g2_to_projective(local, base, stride, lo, hi)
                        vs_ifma_g2_scale(local, scalarWords, scalarStride, lo, hi)
                        vs_ifma_g2_to_affine(base, stride, local, lo, hi)
                    } else {
                        vs_ifma_g1_to_projective(local, base, stride, lo, hi)
                        vs_ifma_g1_scale(local, scalarWords, scalarStride, lo, hi)
                        vs_ifma_g1_to_affine(base, stride, local, lo, hi)
                    }
                }
            }
        }
        return true
    }

    /// (1/n) sum_j omega^(-ij) points[j] for i < n over `domain` (n = points.count): with
    /// points tau^j G this is L_i(tau) G, the Lagrange basis at tau. Radix-2, (n/2) log2(n)
    /// twiddle multiplications (none in the first stage) and n for 1/n, all in eight lanes,
    /// each stage spread over the cores. Nil when the kernel is not in use.
    public static func inverseFFT<C: CurveParameters>(
        _ points: [AffinePoint<C>], domain: EvaluationDomain
    ) -> [AffinePoint<C>]? {
        guard let (g2, words) = curve(C.self) else { return nil }
        let n = domain.size
        precondition(points.count == n, "inverse FFT of \(points.count) points over a domain of \(n)")
        let logN = domain.logSize
        // bit-reversed input order
        var input = points
        if logN > 0 {
            for i in 0..<n {
                var r = 0, x = i
                for _ in 0..<logN {
                    r = (r << 1) | (x & 1)
                    x >>= 1
                }
                if i < r { input.swapAt(i, r) }
            }
        }
        let twiddles = EvaluationDomain.powers(of: domain.generatorInverse, count: max(1, n / 2)).map(\.canonicalLimbs)
        let nInverse = [domain.sizeInverse.canonicalLimbs]
        let stride = MemoryLayout<AffinePoint<C>>.stride
        let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: n * words)
        defer { buffer.deallocate() }
        let shared = UnsafeSendable(buffer)
        let chunks = (n + chunk - 1) / chunk
        input.withUnsafeBytes { raw in
            let base = UnsafeSendable(raw.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                if g2 {
                    vs_ifma_g2_to_projective(shared.value, base.value, stride, lo, hi)
                } else {
                    vs_ifma_g1_to_projective(shared.value, base.value, stride, lo, hi)
                }
            }
        }
        twiddles.withUnsafeBytes { tw in
            let table = UnsafeSendable(tw.baseAddress!.assumingMemoryBound(to: UInt64.self))
            var half = 1
            while half < n {
                let pairs = n / 2, twiddleStride = n / (2 * half), h = half
                let pairChunk = max(8, min(chunk / 2, pairs))
                DispatchQueue.concurrentPerform(iterations: (pairs + pairChunk - 1) / pairChunk) { c in
                    let lo = c * pairChunk, hi = min(pairs, lo + pairChunk)
                    if g2 {
                        vs_ifma_g2_fft_stage(shared.value, h, table.value, twiddleStride, lo, hi)
                    } else {
                        vs_ifma_g1_fft_stage(shared.value, h, table.value, twiddleStride, lo, hi)
                    }
                }
                half <<= 1
            }
        }
        var out = [AffinePoint<C>](repeating: .infinity, count: n)
        nInverse.withUnsafeBytes { k in
            let scalar = UnsafeSendable(k.baseAddress!.assumingMemoryBound(to: UInt64.self))
            out.withUnsafeMutableBytes { raw in
                let target = UnsafeSendable(raw.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = c * chunk, hi = min(n, lo + chunk)
                    if g2 {
                        vs_ifma_g2_scale(shared.value, scalar.value, 0, lo, hi)
                        vs_ifma_g2_to_affine(target.value, stride, shared.value, lo, hi)
                    } else {
                        vs_ifma_g1_scale(shared.value, scalar.value, 0, lo, hi)
                        vs_ifma_g1_to_affine(target.value, stride, shared.value, lo, hi)
                    }
                }
            }
        }
        return out
    }
}
