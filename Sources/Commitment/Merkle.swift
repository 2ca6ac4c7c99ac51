import Algebra

/// A SHA-256 digest.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Exactly 32 bytes.
    public init(bytes: [UInt8]) throws(DigestError) {
        guard bytes.count == 32 else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// 64 lowercase or uppercase hex digits.
    public init(hex: String) throws(DigestError) {
        guard hex.utf8.count == 64 else { throw .wrongLength(hex.utf8.count / 2) }
        guard let decoded = Hex.decode(hex) else { throw .notHex(String(hex.prefix(80))) }
        bytes = decoded
    }

    public var hex: String { SHA256.hex(bytes) }
    public var description: String { hex }

    /// SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> Digest { Digest(unchecked: SHA256.hash(data)) }
}

/// Why a digest could not be decoded.
public enum DigestError: Error, Equatable, CustomStringConvertible {
    case wrongLength(Int)
    case notHex(String)
    public var description: String {
        switch self {
        case .wrongLength(let n): return "a SHA-256 digest has 32 bytes, got \(n)"
        case .notHex(let s): return "'\(s)' is not 64 hex digits"
        }
    }
}

/// Why a Merkle tree or proof was refused.
public enum MerkleError: Error, Equatable, CustomStringConvertible {
    case emptyTree
    case indexOutOfRange(index: Int, count: Int)
    public var description: String {
        switch self {
        case .emptyTree: return "a Merkle tree needs at least one leaf"
        case .indexOutOfRange(let i, let n): return "leaf index \(i) is outside 0..<\(n)"
        }
    }
}

/// A binary SHA-256 Merkle tree over byte-string leaves.
///
/// - Domain separation (as RFC 6962): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left ||
///   right), so a leaf can never be passed off as an inner node (no second-preimage by
///   reinterpreting levels).
/// - Odd levels: the last node of a level with an odd count is promoted unchanged to the next
///   level (no sibling, no hashing). Bitcoin's rule of duplicating it instead lets two different
///   leaf lists share a root (CVE-2012-2459); promotion does not.
/// - A proof carries the leaf index and the leaf count, and the verifier derives each level's
///   shape from them, so a proof is bound to one position in a tree of one size.
/// - Cost: 2n - 1 hashes to build, ceil(log2 n) hashes to verify. Security: SHA-256 collision
///   resistance.
public struct MerkleTree: Sendable {
    /// levels[0] are the leaf hashes; the last level holds only the root.
    public let levels: [[Digest]]

    public init(leaves: [[UInt8]]) throws(MerkleError) {
        guard !leaves.isEmpty else { throw .emptyTree }
        var levels = [leaves.map(MerkleTree.leafHash)]
        while let top = levels.last, top.count > 1 {
            var next: [Digest] = []
            next.reserveCapacity((top.count + 1) / 2)
            for i in stride(from: 0, to: top.count, by: 2) {
                next.append(i + 1 < top.count ? MerkleTree.nodeHash(top[i], top[i + 1]) : top[i])
            }
            levels.append(next)
        }
        self.levels = levels
    }

    public var root: Digest { levels[levels.count - 1][0] }
    public var leafCount: Int { levels[0].count }

    public static func leafHash(_ data: [UInt8]) -> Digest { .sha256([0x00] + data) }
    public static func nodeHash(_ left: Digest, _ right: Digest) -> Digest {
        .sha256([0x01] + left.bytes + right.bytes)
    }

    /// The inclusion proof of leaf `index`.
    public func proof(index: Int) throws(MerkleError) -> MerkleProof {
        guard index >= 0 && index < leafCount else { throw .indexOutOfRange(index: index, count: leafCount) }
        var siblings: [Digest] = []
        var i = index
        for level in levels.dropLast() {
            let sibling = i ^ 1
            if sibling < level.count { siblings.append(level[sibling]) }
            i >>= 1
        }
        return MerkleProof(leafIndex: index, leafCount: leafCount, siblings: siblings)
    }
}

/// An inclusion proof: the siblings from the leaf level up, skipping promoted levels.
public struct MerkleProof: Hashable, Sendable {
    public let leafIndex: Int
    public let leafCount: Int
    public let siblings: [Digest]

    public init(leafIndex: Int, leafCount: Int, siblings: [Digest]) {
        self.leafIndex = leafIndex
        self.leafCount = leafCount
        self.siblings = siblings
    }

    /// True when `leaf` sits at `leafIndex` of a `leafCount`-leaf tree with this `root`. Every
    /// sibling must be used exactly once; a malformed proof (bad index or count) is just false.
    public func verify(leaf: [UInt8], root: Digest) -> Bool {
        guard leafCount > 0, leafIndex >= 0, leafIndex < leafCount else { return false }
        var hash = MerkleTree.leafHash(leaf)
        var i = leafIndex, width = leafCount, used = 0
        while width > 1 {
            let sibling = i ^ 1
            if sibling < width {
                guard used < siblings.count else { return false }
                hash =
                    i & 1 == 0 ? MerkleTree.nodeHash(hash, siblings[used]) : MerkleTree.nodeHash(siblings[used], hash)
                used += 1
            }
            i >>= 1
            width = (width + 1) / 2
        }
        return used == siblings.count && hash == root
    }
}
