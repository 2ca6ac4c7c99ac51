import CNeuralKernels
import Dispatch
import Foundation

/// The SIMD micro-kernel family a GEMM call may use. Higher levels need newer CPUs; a request above
/// what the CPU supports silently falls back to `best`.
public enum GEMMKernel: Int, Sendable, CaseIterable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2

    /// The best level this CPU supports (detected once with `__builtin_cpu_supports`).
    public static var best: GEMMKernel { GEMMKernel(rawValue: Int(vs_best_kernel())) ?? .portable }

    public var description: String { String(cString: vs_kernel_name(Int32(rawValue))) }
}

/// Float32 matrix multiply: `C = alpha * op(A) * op(B) + beta * C`, row-major.
///
/// Why it exists: every Dense/Conv2d forward and backward pass is a GEMM, so training speed is GEMM
/// speed. The work is a blocked, packed algorithm (C micro-kernels selected at run time: AVX-512F,
/// AVX2+FMA or portable) split over threads with `DispatchQueue.concurrentPerform`.
public enum GEMM {
    /// Threads used by default: the number of active cores, or `VERISPLIT_THREADS` when that is set
    /// to a positive integer (how `bench dp-speed` measures one and two threads in child processes).
    public static let defaultThreads: Int = {
        if let text = ProcessInfo.processInfo.environment["VERISPLIT_THREADS"], let n = Int(text), n >= 1 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Below this many multiply-adds a call runs on one thread (thread wake-up costs more).
    public static let parallelThreshold = 1 << 20

    /// `C[m x n] = alpha * op(A) * op(B) + beta * C`.
    ///
    /// - `op(A)` is `m x k`: A is stored `m x k` (leading dimension `lda`) or, when `transposeA`,
    ///   `k x m`. Likewise `op(B)` is `k x n` from B stored `k x n` or, when `transposeB`, `n x k`.
    /// - C is `m x n` with leading dimension `ldc`. With `beta == 0`, C is write-only.
    /// - Complexity: 2*m*n*k flops; packing adds O(m*k + k*n) per thread.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int = defaultThreads, kernel: GEMMKernel = .best
    ) {
        guard m > 0, n > 0 else { return }
        let (rsA, csA) = transposeA ? (1, lda) : (lda, 1)
        let (rsB, csB) = transposeB ? (1, ldb) : (ldb, 1)
        let work = m * n * max(k, 1)
        let t = max(1, min(threads, work / parallelThreshold + 1))
        let level = Int32(kernel.rawValue)
        if t == 1 {
            vs_sgemm(level, m, n, k, alpha, a, rsA, csA, b, rsB, csB, beta, c, ldc)
            return
        }
        // Split the larger output dimension into `t` chunks aligned to 64 (a multiple of every
        // kernel's MR and NR), so each thread writes a disjoint block of C.
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let chunk = ((extent + t - 1) / t + 63) / 64 * 64
        let pieces = (extent + chunk - 1) / chunk
        let ptrs = UnsafeSendable((a: a, b: b, c: c))
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let lo = p * chunk
            let len = min(chunk, extent - lo)
            if splitRows {
                vs_sgemm(
                    level, len, n, k, alpha, ptrs.value.a + lo * rsA, rsA, csA, ptrs.value.b, rsB, csB,
                    beta, ptrs.value.c + lo * ldc, ldc)
            } else {
                vs_sgemm(
                    level, m, len, k, alpha, ptrs.value.a, rsA, csA, ptrs.value.b + lo * csB, rsB, csB,
                    beta, ptrs.value.c + lo, ldc)
            }
        }
    }

    /// The scalar reference: the textbook triple loop with Double accumulation. Same contract as
    /// `sgemm`; used by tests as the oracle. O(m*n*k), slow on purpose.
    public static func reference(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + prior)
            }
        }
    }
}
