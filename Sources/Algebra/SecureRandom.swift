import COpenSSL

/// Errors from the operating system's or OpenSSL's random source.
public enum SecureRandomError: Error, CustomStringConvertible {
    case openSSLFailure(requested: Int)
    public var description: String {
        switch self {
        case .openSSLFailure(let n):
            return "OpenSSL RAND_bytes failed to produce \(n) bytes: the CSPRNG is not seeded; check /dev/urandom"
        }
    }
}

/// Secrets (toxic waste, blinding factors, salts) come from OpenSSL's CSPRNG and nowhere else.
public enum SecureRandom {
    /// Fills `buffer` from `RAND_bytes`. Traps only if OpenSSL cannot seed, which leaves no
    /// safe way to continue producing secrets.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        let ok = RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(buffer.count))
        precondition(ok == 1, SecureRandomError.openSSLFailure(requested: buffer.count).description)
    }

    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    public static func uint64() -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { fill($0) }
        return v
    }

    /// Overwrites memory that held a secret; `OPENSSL_cleanse` is not optimized away.
    public static func erase(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        OPENSSL_cleanse(buffer.baseAddress, buffer.count)
    }
}

extension SecureRandom {
    /// Overwrites an array of field elements that held secrets, then empties it.
    public static func erase<T>(_ values: inout [T]) {
        values.withUnsafeMutableBytes { erase($0) }
        values.removeAll()
    }
}
