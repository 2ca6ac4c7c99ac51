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

/// Carries a raw pointer (or a tuple of them, or a closure) into `concurrentPerform` workers.
/// Every use hands each worker disjoint indices, and the pointee outlives the parallel region
/// (it is scoped by the enclosing `withUnsafe...BufferPointer`): that is the caller's obligation.
public struct UnsafeSendable<T>: @unchecked Sendable {
    public let value: T
    @inlinable public init(_ value: T) { self.value = value }
}
