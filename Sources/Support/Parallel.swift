import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of online cores, read once (sysconf), which sizes the worker pools of MSM and FFT.
public enum ProcessInfoCores {
    public static let activeCount: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? Int(n) : 1
    }()
}

/// This process's memory, for the benchmarks and the load test.
public enum ProcessMemory {
    /// Peak resident set size in MiB (getrusage: KiB on Linux, bytes on Darwin).
    public static var peakResidentMegabytes: Double {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
        #endif
    }

    /// Current resident set size in MiB (Linux /proc; 0 where it is not available).
    public static var residentMegabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}

/// Carries a raw pointer (or a tuple of them, or a closure) into `concurrentPerform` workers.
/// Every use hands each worker disjoint indices, and the pointee outlives the parallel region
/// (it is scoped by the enclosing `withUnsafe...BufferPointer`): that is the caller's obligation.
public struct UnsafeSendable<T>: @unchecked Sendable {
    public let value: T
    @inlinable public init(_ value: T) { self.value = value }
}

/// The one parallel-for of the project (MSM, FFT, GEMM and the prover have their own tuned
/// kernels; everything else that splits a loop over cores uses this).
public enum Parallel {
    /// Runs `body(chunk, range)` over `0..<count` split into `chunks` contiguous ranges of
    /// `ceil(count / chunks)` indices (the last may be shorter; empty ones are skipped), in
    /// parallel on Dispatch's pool, and returns when all are done. `chunks <= 1` runs inline on
    /// the calling thread. The chunk index lets callers keep per-chunk accumulators; because the
    /// split depends only on `count` and `chunks`, such reductions are deterministic.
    public static func forEachChunk(
        _ count: Int, chunks: Int, _ body: @Sendable (_ chunk: Int, _ range: Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let t = max(1, min(chunks, count))
        if t == 1 {
            body(0, 0..<count)
            return
        }
        let size = (count + t - 1) / t
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let lo = i * size
            let hi = min(count, lo + size)
            if lo < hi { body(i, lo..<hi) }
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double (for timings and benchmark tables).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
