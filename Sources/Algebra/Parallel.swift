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
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
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
