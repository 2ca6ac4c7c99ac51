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
    ///
    /// From 16 points up the twiddles and 1/n go through GLV (`PublicScalars`): k P = k1 P +
    /// k2 phi(P) with 127-bit halves, a width-5 NAF when the eight lanes share a twiddle (every
    /// stage but the last three) and 4-bit windows otherwise; about 0.55 of the constant-time
    /// multiplication's work. Variable time is sound here: the twiddles are public roots of
    /// unity and the points public powers of tau. `twiddles` may be passed in when several FFTs
    /// share a domain (it must have been made for `domain`); below 16 points it is ignored.
    /// `constantTime` forces the former path (the constant-time multiplication for every
    /// twiddle), kept for the differential tests and side-by-side timing.
    public static func inverseFFT<C: CurveParameters>(
        _ points: [AffinePoint<C>], domain: EvaluationDomain, twiddles glvTwiddles: PublicScalars? = nil,
        constantTime: Bool = false
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
        if n >= 16, !constantTime {
            let table = glvTwiddles ?? PublicScalars(twiddlesOf: domain)
            precondition(table.words.count == PublicScalars.wordsPerScalar * (n / 2 + 1), "twiddles of another domain")
            glvStages(shared, n: n, g2: g2, table: table)
        } else {
            constantTimeStages(shared, n: n, g2: g2, domain: domain)
        }
        var out = [AffinePoint<C>](repeating: .infinity, count: n)
        out.withUnsafeMutableBytes { raw in
            let target = UnsafeSendable(raw.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                if g2 {
                    vs_ifma_g2_to_affine(target.value, stride, shared.value, lo, hi)
                } else {
                    vs_ifma_g1_to_affine(target.value, stride, shared.value, lo, hi)
                }
            }
        }
        return out
    }

    /// The stages and the 1/n scaling on GLV scalars (n >= 16); `table` holds the n/2 twiddles
    /// and then 1/n.
    static func glvStages(
        _ shared: UnsafeSendable<UnsafeMutablePointer<UInt64>>, n: Int, g2: Bool, table: PublicScalars
    ) {
        table.words.withUnsafeBufferPointer { tw in
            let scalars = UnsafeSendable(tw.baseAddress!)
            let items = n / 16, itemChunk = max(1, min(chunk / 16, items))
            var half = 1
            while half < n {
                let twiddleStride = n / (2 * half), h = half
                DispatchQueue.concurrentPerform(iterations: (items + itemChunk - 1) / itemChunk) { c in
                    let lo = c * itemChunk, hi = min(items, lo + itemChunk)
                    if g2 {
                        vs_ifma_g2_fft_stage_glv(shared.value, n, h, scalars.value, twiddleStride, lo, hi)
                    } else {
                        vs_ifma_g1_fft_stage_glv(shared.value, n, h, scalars.value, twiddleStride, lo, hi)
                    }
                }
                half <<= 1
            }
            let nInverse = scalars.value + PublicScalars.wordsPerScalar * (n / 2)
            let inverse = UnsafeSendable(nInverse)
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                if g2 {
                    vs_ifma_g2_scale_glv(shared.value, inverse.value, lo, hi)
                } else {
                    vs_ifma_g1_scale_glv(shared.value, inverse.value, lo, hi)
                }
            }
        }
    }

    /// The stages and the 1/n scaling with the constant-time multiplication (tiny domains).
    static func constantTimeStages(
        _ shared: UnsafeSendable<UnsafeMutablePointer<UInt64>>, n: Int, g2: Bool, domain: EvaluationDomain
    ) {
        let twiddles = EvaluationDomain.powers(of: domain.generatorInverse, count: max(1, n / 2)).map(\.canonicalLimbs)
        let nInverse = [domain.sizeInverse.canonicalLimbs]
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
        nInverse.withUnsafeBytes { k in
            let scalar = UnsafeSendable(k.baseAddress!.assumingMemoryBound(to: UInt64.self))
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                let lo = c * chunk, hi = min(n, lo + chunk)
                if g2 {
                    vs_ifma_g2_scale(shared.value, scalar.value, 0, lo, hi)
                } else {
                    vs_ifma_g1_scale(shared.value, scalar.value, 0, lo, hi)
                }
            }
        }
    }

    /// points[i] *= k for a public scalar k (GLV, variable time: never for secrets), in place,
    /// on all cores. False when the kernel is not in use.
    public static func scalePublic<C: CurveParameters>(_ points: inout [AffinePoint<C>], by k: Fr) -> Bool {
        guard let (g2, words) = curve(C.self) else { return false }
        let n = points.count
        if n == 0 { return true }
        let scalar = PublicScalars([k])
        let stride = MemoryLayout<AffinePoint<C>>.stride
        points.withUnsafeMutableBytes { raw in
            scalar.words.withUnsafeBufferPointer { k in
                let shared = UnsafeSendable((raw.baseAddress!, k.baseAddress!))
                DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                    let (base, glv) = shared.value
                    let lo = c * chunk, hi = min(n, lo + chunk)
                    let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: (hi - lo) * words)
                    defer { buffer.deallocate() }
                    let local = buffer - lo * words
                    if g2 {
                        vs_ifma_g2_to_projective(local, base, stride, lo, hi)
                        vs_ifma_g2_scale_glv(local, glv, lo, hi)
                        vs_ifma_g2_to_affine(base, stride, local, lo, hi)
                    } else {
                        vs_ifma_g1_to_projective(local, base, stride, lo, hi)
                        vs_ifma_g1_scale_glv(local, glv, lo, hi)
                        vs_ifma_g1_to_affine(base, stride, local, lo, hi)
                    }
                }
            }
        }
        return true
    }
}

/// Public scalars split for the GLV endomorphism phi(x, y) = (beta x, y), which acts on BN254's
/// G1 and G2 as multiplication by lambda (lambda^2 + lambda + 1 = 0 mod r): k = k1 + k2 lambda
/// with |k1|, |k2| < 2^127, found by rounding against a reduced basis of the lattice
/// {(a, b): a + b lambda = 0 mod r} (Gallant, Lambert, Vanstone 2001). The kernel's layout:
/// five words per scalar, |k1| and |k2| (two words each, little-endian) and the signs (bit 0:
/// k1 < 0, bit 1: k2 < 0). Each split is checked (k1 + k2 lambda = k mod r, both halves below
/// 2^127) before it is used. For public scalars only: the kernel that consumes them runs in time
/// that depends on them.
public struct PublicScalars: Sendable {
    static let wordsPerScalar = 5
    public let words: [UInt64]

    static let r = Fr.modulus
    static let lambda = BigInt("30644e72e131a029048b6e193fd84104cc37a73fec2bc5e9b8ca0b2d36636f23", radix: 16)!
    // the reduced basis (a1, b1), (a2, b2): a + b lambda = 0 mod r, all below 2^128
    static let a1 = BigInt("147946756881789319000765030803803410728")!
    static let b1 = BigInt("-9931322734385697763")!
    static let a2 = BigInt("9931322734385697763")!
    static let b2 = BigInt("147946756881789319010696353538189108491")!

    /// The split of each scalar, in order.
    public init(_ scalars: [Fr]) {
        var words = [UInt64](repeating: 0, count: Self.wordsPerScalar * scalars.count)
        let n = scalars.count, step = 256
        words.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            scalars.withUnsafeBufferPointer { source in
                let input = UnsafeSendable(source)
                DispatchQueue.concurrentPerform(iterations: (n + step - 1) / step) { c in
                    for i in (c * step)..<min(n, (c + 1) * step) {
                        let split = Self.split(input.value[i])
                        for w in 0..<Self.wordsPerScalar { target.value[Self.wordsPerScalar * i + w] = split[w] }
                    }
                }
            }
        }
        self.words = words
    }

    /// The inverse FFT's scalars over `domain`: omega^-j for j < n/2, then 1/n.
    public init(twiddlesOf domain: EvaluationDomain) {
        self.init(
            EvaluationDomain.powers(of: domain.generatorInverse, count: max(1, domain.size / 2)) + [domain.sizeInverse])
    }

    /// round(x / r) for r > 0: floor((2x + r) / 2r).
    static func rounded(_ x: BigInt) -> BigInt { (x * BigInt(2) + r) / (r * BigInt(2)) }

    /// The five words of k's split.
    static func split(_ scalar: Fr) -> [UInt64] {
        let k = BigInt(limbs: scalar.canonicalLimbs.array)
        let c1 = rounded(b2 * k), c2 = rounded(-b1 * k)
        let k1 = k - c1 * a1 - c2 * a2, k2 = -(c1 * b1) - c2 * b2
        precondition(
            (k1 + k2 * lambda - k) % r == BigInt(0) && k1.bitWidth <= 127 && k2.bitWidth <= 127,
            "GLV split out of bounds")
        let m1 = (k1.isNegative ? -k1 : k1).limbs(count: 2), m2 = (k2.isNegative ? -k2 : k2).limbs(count: 2)
        return [m1[0], m1[1], m2[0], m2[1], (k1.isNegative ? 1 : 0) | (k2.isNegative ? 2 : 0)]
    }
}
