import Algebra
import Circuit

/// A fixed-depth binary Merkle tree over field elements with circomlib's Poseidon(2) as the
/// node hash (width 3, 240 constraints per node in a circuit). Leaves beyond the given ones are
/// zero. The depth is part of the statement: a path always has exactly `depth` siblings, so an
/// inner node cannot pass for a leaf.
///
/// Cost: natively about n + depth node hashes to build for n leaves (the all-zero subtrees
/// share one precomputed hash per level, so a sparse tree of depth 24 costs what its leaves
/// cost, not 2^24 hashes); in a circuit `depth` hashes and 2 * depth selects plus the
/// depth-bit decomposition of the index (`assertMerkleMembership`).
public struct PoseidonMerkleTree: Sendable {
    public let depth: Int
    /// levels[k] are the nodes of level k that cover at least one given leaf (levels[0] the
    /// leaves themselves); every other node of level k is `zeroHashes[k]`.
    let levels: [[Fr]]
    /// The node of an all-zero subtree at each level: zeroHashes[0] = 0, then node(z, z).
    let zeroHashes: [Fr]

    public init(leaves: [Fr], depth: Int) throws(MerkleTreeError) {
        guard (1...32).contains(depth) else { throw .depth(depth) }
        guard leaves.count <= 1 << depth else { throw .tooManyLeaves(leaves.count, depth: depth) }
        var zeros = [Fr.zero]
        for k in 0..<depth { zeros.append(Self.node(zeros[k], zeros[k])) }
        var level = leaves
        var levels = [level]
        for k in 0..<depth {
            var next: [Fr] = []
            next.reserveCapacity((level.count + 1) / 2)
            for i in stride(from: 0, to: level.count, by: 2) {
                next.append(Self.node(level[i], i + 1 < level.count ? level[i + 1] : zeros[k]))
            }
            levels.append(next)
            level = next
        }
        self.depth = depth
        self.levels = levels
        zeroHashes = zeros
    }

    public var root: Fr { levels[depth].first ?? zeroHashes[depth] }
    public var capacity: Int { 1 << depth }

    /// The node hash: circomlib's Poseidon(2) of (left, right).
    public static func node(_ left: Fr, _ right: Fr) -> Fr {
        // Two inputs are always a supported width, so the hash cannot fail.
        (try? Poseidon.hash([left, right])) ?? .zero
    }

    /// The node at `position` of `level` (a zero-subtree hash beyond the given leaves).
    func node(level: Int, position: Int) -> Fr {
        position < levels[level].count ? levels[level][position] : zeroHashes[level]
    }

    public func leaf(_ index: Int) -> Fr { node(level: 0, position: index) }

    /// The siblings from the leaf level up.
    public func path(_ index: Int) throws(MerkleTreeError) -> [Fr] {
        guard index >= 0, index < capacity else { throw .index(index, capacity: capacity) }
        return (0..<depth).map { level in node(level: level, position: (index >> level) ^ 1) }
    }

    /// The root that `leaf` at `index` with `siblings` hashes to.
    public static func root(leaf: Fr, index: Int, siblings: [Fr]) -> Fr {
        var current = leaf
        for (level, sibling) in siblings.enumerated() {
            current = (index >> level) & 1 == 0 ? node(current, sibling) : node(sibling, current)
        }
        return current
    }
}

public enum MerkleTreeError: Error, Equatable, CustomStringConvertible {
    case depth(Int)
    case tooManyLeaves(Int, depth: Int)
    case index(Int, capacity: Int)

    public var description: String {
        switch self {
        case .depth(let d): return "Merkle depth \(d) is outside 1...32"
        case .tooManyLeaves(let n, let d): return "\(n) leaves do not fit a tree of depth \(d) (at most \(1 << d))"
        case .index(let i, let c): return "leaf index \(i) is outside the tree's \(c) leaves"
        }
    }
}

extension ConstraintSystem where F == Fr {
    /// Proves that `leaf` sits at position `index` (a linear combination, usually a public input)
    /// of the tree whose root is `root`, with the siblings as private inputs.
    ///
    /// Soundness: the index is decomposed into exactly `siblings.count` bits (so it is below
    /// 2^depth and its bits are unique), each level orders (current, sibling) by its bit with two
    /// selects, and the hashes are pinned by the Poseidon gadget; a satisfying witness for another
    /// leaf or position is a Poseidon collision. The siblings are field elements by design (they
    /// only enter hashes). Cost: depth * (240 + 2) + depth + 1 constraints.
    public func assertMerkleMembership(
        leaf: LinearCombination<Fr>, index: LinearCombination<Fr>, siblings: [Fr],
        root: LinearCombination<Fr>, _ name: String = "merkle"
    ) throws(PoseidonError) {
        try withNamespace(name) { () throws(PoseidonError) -> Void in
            let bits = self.bits(of: index, count: siblings.count, "index")
            var current = leaf
            for (level, siblingValue) in siblings.enumerated() {
                let sibling = LinearCombination<Fr>(allocatePrivateInput("sibling\(level)", value: siblingValue))
                let left = select(bits[level], sibling, current, "left\(level)")
                let right = select(bits[level], current, sibling, "right\(level)")
                current = try poseidonHash([LinearCombination(left), LinearCombination(right)], "node\(level)")
            }
            enforceEqual(current, root, "root")
        }
    }
}

/// Checks openings of one Poseidon Merkle tree natively, remembering every node a verified
/// opening passed through (and its siblings), so a later opening stops at the first node it
/// shares with an earlier one: the verifiers of batched steps open each sample's public leaf at
/// its public index here instead of inside the forward proof.
///
/// Soundness: a remembered node lies on an opening that hashed to the root, and so do its
/// ancestors and their siblings, which are remembered with it. An opening that reaches it with
/// the same value at the same position, and whose upper siblings are the remembered ones, is
/// that full opening; any other is refused (two openings with different nodes at one position
/// under one root would be a Poseidon collision). So the answer does not depend on what was
/// seen before: exactly the valid path of a leaf passes, cold or warm.
/// Cost: at most `depth` Poseidon(2) hashes per opening, one per level below the first
/// remembered node; memory at most two nodes per level per verified opening.
public struct MerkleOpeningVerifier: Sendable {
    public let root: Fr
    public let depth: Int
    /// known[level][position]: the nodes of verified openings.
    private var known: [[Int: Fr]]

    public init(root: Fr, depth: Int) {
        precondition((1...62).contains(depth), "a tree depth of \(depth)")
        self.root = root
        self.depth = depth
        known = Array(repeating: [:], count: depth)
    }

    /// Whether `leaf` sits at `index` under the root with `siblings` (leaf level first). A path
    /// of another length or an index outside the tree is refused.
    public mutating func verify(leaf: Fr, index: Int, siblings: [Fr]) -> Bool {
        guard siblings.count == depth, index >= 0, index >> depth == 0 else { return false }
        var current = leaf
        var visited: [(level: Int, position: Int, node: Fr, sibling: Fr)] = []
        visited.reserveCapacity(depth)
        var level = 0
        while level < depth {
            let position = index >> level
            if let node = known[level][position] {
                // The rest of the path is remembered (every remembered node's ancestors and
                // their siblings are): the given siblings must be exactly those.
                guard node == current else { return false }
                for upper in level..<depth where known[upper][(index >> upper) ^ 1] != siblings[upper] {
                    return false
                }
                return storing(visited)
            }
            let sibling = siblings[level]
            visited.append((level, position, current, sibling))
            current =
                position & 1 == 0
                ? PoseidonMerkleTree.node(current, sibling) : PoseidonMerkleTree.node(sibling, current)
            level += 1
        }
        guard current == root else { return false }
        return storing(visited)
    }

    private mutating func storing(_ visited: [(level: Int, position: Int, node: Fr, sibling: Fr)]) -> Bool {
        for v in visited {
            known[v.level][v.position] = v.node
            known[v.level][v.position ^ 1] = v.sibling
        }
        return true
    }
}
