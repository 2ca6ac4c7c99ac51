import COpenSSL

/// SHA-256 through OpenSSL (circuit and key hashes, Merkle trees, transcripts).
public enum SHA256 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { digest in
                _ = COpenSSL.SHA256(input.baseAddress, input.count, digest.baseAddress)
            }
        }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }
}

extension SecureRandom {
    /// Overwrites an array of field elements that held secrets, then empties it.
    public static func erase<T>(_ values: inout [T]) {
        values.withUnsafeMutableBytes { erase($0) }
        values.removeAll()
    }
}
