import COpenSSL

/// SHA-256 through OpenSSL (circuit and key hashes, Merkle trees, transcripts, cache keys).
public enum SHA256 {
    /// The 32-byte digest of `bytes`. O(n).
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { digest in
                _ = COpenSSL.SHA256(input.baseAddress, input.count, digest.baseAddress)
            }
        }
        return out
    }

    /// Lowercase hex of a digest (or any bytes).
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// An incremental digest (OpenSSL's EVP interface) for inputs assembled piece by piece, such
    /// as the shadow-model cache keys (model spec, data, seed, hyperparameters). A class because
    /// it owns an OpenSSL context; not shared across threads.
    public final class Hasher {
        private let context: OpaquePointer?

        public init() {
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, EVP_sha256(), nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        public func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        }

        /// The digest of everything given so far; the hasher must not be updated afterwards.
        public func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
            return out
        }
    }
}
