import Algebra
import Circuit
import Commitment

/// The client's training set, committed once per session: a Poseidon Merkle tree whose leaves
/// are salted hashes of the quantized samples and their labels.
///
/// A leaf is the Poseidon sponge (width 17, domain `SampleLeaf.domain`) over the sample's values
/// packed `layout.perElement` per field element (each value an unsigned `layout.bits`-bit integer,
/// range-checked in the circuits), then the label, then a per-sample salt. The salts make the
/// public per-step leaf hash hiding (a server cannot test a guessed image against it); they are
/// derived from a CSPRNG secret the client keeps, so the tree can be rebuilt on resume.
public enum SampleLeaf {
    /// The sponge's domain tag for sample leaves (distinct from hashes and commitments).
    public static let domain = PoseidonSponge.Domain(tag: 3)

    /// The leaf of one sample. Throws when a value is outside the layout's range.
    public static func hash(values: [Int64], label: Int, salt: Fr, layout: PackingLayout) throws(CommitmentError) -> Fr
    {
        let packed: [Fr]
        switch layout.pack(values, as: Fr.self) {
        case .success(let p): packed = p
        case .failure(let error): throw .outOfRange(error)
        }
        do {
            return try PoseidonSponge().hash(packed + [Fr(UInt64(label)), salt], domain: domain)
        } catch {
            throw .poseidon(error)
        }
    }

    /// The per-sample salt: SHA-256 of the client's secret and the index, reduced below r.
    public static func salt(secret: [UInt8], index: Int) -> Fr {
        var message = Array("VeriSplit/sample-salt/v1".utf8) + secret
        for k in 0..<8 { message.append(UInt8(truncatingIfNeeded: UInt64(index) >> UInt64(8 * k))) }
        let digest = SHA256.hash(message)
        // 31 bytes and a zero top byte are below r, so the conversion cannot fail.
        return (try? Fr(littleEndian: Array(digest.prefix(31)) + [0])) ?? .zero
    }
}

/// One sample with everything a proof needs to show it is the leaf at `index` of the
/// committed tree.
public struct SampleOpening: Sendable, Equatable {
    public let index: Int
    public let values: [Int64]
    public let label: Int
    public let salt: Fr
    public let siblings: [Fr]
    /// The leaf hash, public in both of the step's client proofs (it ties them to one sample).
    public let leaf: Fr

    public init(index: Int, values: [Int64], label: Int, salt: Fr, siblings: [Fr], leaf: Fr) {
        self.index = index
        self.values = values
        self.label = label
        self.salt = salt
        self.siblings = siblings
        self.leaf = leaf
    }
}

/// A committed training set: the quantized samples, their labels and the Merkle tree.
/// Building it costs one leaf sponge per sample and 2^depth - 1 node hashes.
public struct CommittedDataset: Sendable {
    public let values: [[Int64]]
    public let labels: [Int]
    public let layout: PackingLayout
    let secret: [UInt8]
    let tree: PoseidonMerkleTree

    /// Throws when a sample has a value outside the layout's range, a label outside
    /// 0..<classes, or when there are more samples than the tree holds.
    public init(
        values: [[Int64]], labels: [Int], classes: Int, layout: PackingLayout, depth: Int,
        secret: [UInt8]
    ) throws(DatasetCommitmentError) {
        guard values.count == labels.count, !values.isEmpty else {
            throw .shape("\(values.count) samples and \(labels.count) labels")
        }
        guard values.count <= 1 << min(depth, 32) else { throw .tooLarge(samples: values.count, depth: depth) }
        var leaves: [Fr] = []
        leaves.reserveCapacity(values.count)
        for (i, sample) in values.enumerated() {
            guard (0..<classes).contains(labels[i]) else { throw .label(index: i, label: labels[i], classes: classes) }
            do {
                leaves.append(
                    try SampleLeaf.hash(
                        values: sample, label: labels[i], salt: SampleLeaf.salt(secret: secret, index: i),
                        layout: layout))
            } catch {
                throw .sample(index: i, reason: error.description)
            }
        }
        do { tree = try PoseidonMerkleTree(leaves: leaves, depth: depth) } catch {
            throw .sample(index: 0, reason: error.description)
        }
        self.values = values
        self.labels = labels
        self.layout = layout
        self.secret = secret
    }

    public var count: Int { values.count }
    public var root: Fr { tree.root }
    public var depth: Int { tree.depth }

    public func opening(_ index: Int) throws(DatasetCommitmentError) -> SampleOpening {
        guard (0..<count).contains(index) else { throw .index(index, count: count) }
        let siblings: [Fr]
        do { siblings = try tree.path(index) } catch { throw .index(index, count: count) }
        return SampleOpening(
            index: index, values: values[index], label: labels[index],
            salt: SampleLeaf.salt(secret: secret, index: index), siblings: siblings, leaf: tree.leaf(index))
    }
}

public enum DatasetCommitmentError: Error, Equatable, CustomStringConvertible {
    case shape(String)
    case tooLarge(samples: Int, depth: Int)
    case label(index: Int, label: Int, classes: Int)
    case sample(index: Int, reason: String)
    case index(Int, count: Int)

    public var description: String {
        switch self {
        case .shape(let s): return "dataset commitment: \(s)"
        case .tooLarge(let n, let d):
            return
                "the dataset has \(n) samples, but the spec's circuits hold at most 2^\(d) = \(1 << min(d, 62)); raise dataset_depth or use fewer samples"
        case .label(let i, let l, let c): return "sample \(i) has label \(l), not one of the \(c) classes"
        case .sample(let i, let r): return "sample \(i): \(r) (the spec's input range: see input.bits)"
        case .index(let i, let n): return "sample index \(i) is outside the committed \(n) samples"
        }
    }
}

/// The public order in which a session visits the committed samples: epoch e is a uniformly
/// random permutation of 0..<count drawn (Fisher-Yates, rejection sampling) from SHA-256 in
/// counter mode over (seed, e). The seed mixes the session id with a secret the client
/// committed to before the server chose its nonce and reveals at step 0, so neither party picks
/// the order: the server cannot grind its nonce (the secret is hidden then) and the client
/// cannot grind its secret (the nonce comes after).
public struct SampleSchedule: Sendable {
    public let seed: [UInt8]
    public let count: Int
    private var epoch: UInt64 = .max
    private var permutation: [Int] = []

    public init(seed: [UInt8], count: Int) {
        precondition(count >= 1, "a schedule needs at least one sample")
        self.seed = seed
        self.count = count
    }

    /// The schedule of a session: seed = SHA-256(tag, session id, client secret).
    public init(session: Fr, clientSecret: [UInt8], count: Int) {
        self.init(
            seed: SHA256.hash(Array("VeriSplit/schedule/v1".utf8) + session.littleEndianBytes() + clientSecret),
            count: count)
    }

    /// The commitment to the client's schedule secret that `Hello` carries.
    public static func commitment(to secret: [UInt8]) -> [UInt8] {
        SHA256.hash(Array("VeriSplit/schedule-commitment/v1".utf8) + secret)
    }

    /// The sample index of training step t.
    public mutating func index(step t: UInt64) -> Int {
        let e = t / UInt64(count)
        if e != epoch {
            permutation = Self.permutation(seed: seed, epoch: e, count: count)
            epoch = e
        }
        return permutation[Int(t % UInt64(count))]
    }

    static func permutation(seed: [UInt8], epoch: UInt64, count: Int) -> [Int] {
        var stream = HashStream(seed: seed + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> UInt64(8 * $0)) })
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            let bound = UInt64(i + 1)
            // Rejection sampling: uniform in 0..<bound.
            let limit = UInt64.max - UInt64.max % bound
            var draw = stream.next()
            while draw >= limit { draw = stream.next() }
            order.swapAt(i, Int(draw % bound))
            i -= 1
        }
        return order
    }
}

/// SHA-256 in counter mode as a deterministic stream of 64-bit words.
struct HashStream {
    let seed: [UInt8]
    var counter: UInt64 = 0
    var buffer: [UInt8] = []
    var position = 0

    init(seed: [UInt8]) { self.seed = seed }

    mutating func next() -> UInt64 {
        if position + 8 > buffer.count {
            buffer = SHA256.hash(seed + (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(8 * $0)) })
            counter += 1
            position = 0
        }
        var word: UInt64 = 0
        for k in 0..<8 { word |= UInt64(buffer[position + k]) << UInt64(8 * k) }
        position += 8
        return word
    }
}

extension ConstraintSystem where F == Fr {
    /// Allocates a sample's values as private inputs, range-checks them to the layout (unsigned
    /// `layout.bits`-bit integers) and proves that they, the label and the salt (a private
    /// input) hash to `leaf`. Returns the values as linear combinations for the layer.
    ///
    /// Soundness: every value is range-checked, the packing is injective on that range, and the
    /// sponge is pinned to the leaf, so the values are exactly the committed sample's (else a
    /// Poseidon collision). `values` are field elements so a test can play a prover that feeds
    /// wrapped-around values; honest callers pass `Fr(Int64)`.
    /// Cost: n (bits + 1) for the range checks plus ceil((ceil(n / perElement) + 2) / 16)
    /// permutations of 612 constraints.
    public func committedSample(
        values: [Fr], label: LinearCombination<Fr>, salt: Fr, leaf: LinearCombination<Fr>,
        layout: PackingLayout, _ name: String = "sample"
    ) throws(PoseidonError) -> [LinearCombination<Fr>] {
        let xs = values.enumerated().map { j, v in
            LinearCombination<Fr>(allocatePrivateInput("\(name).x\(j)", value: v))
        }
        let saltVariable = allocatePrivateInput("\(name).salt", value: salt)
        let packed = rangeCheckedPacking(xs, layout: layout, "\(name).range")
        let digest = try poseidonSponge(
            packed + [label, LinearCombination(saltVariable)], domain: SampleLeaf.domain, "\(name).leaf")
        enforceEqual(digest, leaf, "\(name).leafEquals")
        return xs
    }
}
