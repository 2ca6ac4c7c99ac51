import Algebra

/// Why a Pedersen operation was refused.
public enum PedersenError: Error, Equatable, CustomStringConvertible {
    /// More values than generators.
    case tooManyValues(values: Int, generators: Int)
    /// A commitment's bytes are not a valid compressed G1 point.
    case invalidEncoding(PointDecodingError)

    public var description: String {
        switch self {
        case .tooManyValues(let v, let g):
            return "Pedersen commitment to \(v) values needs \(v) generators, the parameters have \(g)"
        case .invalidEncoding(let e):
            return "Pedersen commitment encoding: \(e)"
        }
    }
}

/// Pedersen vector commitments on BN254 G1: C = sum_i v_i * G_i + r * H.
///
/// - Generators: every G_i and H is hashed to the curve (`hashToCurve`), so nobody knows a
///   discrete-log relation between them; that is what makes the commitment binding (under the
///   discrete-log assumption in G1). Shorter vectors are zero-extended, so a commitment binds a
///   vector of length `generators.count`.
/// - Hiding: perfect, when the blinding r is uniform (`commit(_:)` draws it from the OpenSSL CSPRNG).
/// - Homomorphic: Commit(v, r) + Commit(w, s) = Commit(v + w, r + s).
/// - Cost: one MSM of n + 1 points (Pippenger, all cores); deriving the generators costs about
///   two square roots in Fq per generator, once.
///
/// No circuit gadget: G1 is defined over Fq while the circuits' field is Fr, so opening a Pedersen
/// commitment in an Fr circuit would need non-native Fq arithmetic (thousands of constraints per
/// point operation). Commitments that a circuit opens use `PoseidonCommitment`.
public struct PedersenParameters: Sendable {
    public let domain: String
    public let generators: [G1Affine]
    public let blindingGenerator: G1Affine

    /// Derives `count` value generators and the blinding generator for `domain`.
    public init(count: Int, domain: String = "VeriSplit/Pedersen/v1") {
        self.domain = domain
        generators = (0..<max(0, count)).map { i in
            Self.hashToCurve(domain: domain, label: Array("G".utf8) + bigEndian(UInt64(i)))
        }
        blindingGenerator = Self.hashToCurve(domain: domain, label: Array("H".utf8))
    }

    /// Try-and-increment hashing to G1: for counter = 0, 1, 2, ... take
    /// x = SHA-256(utf8(domain) || 0x00 || label || counter as 4 bytes big-endian) as a big-endian
    /// integer with its top two bits cleared; skip it when x >= q or x^3 + 3 is not a square in Fq;
    /// otherwise return (x, y) with y the square root that is <= (q - 1) / 2. Deterministic; about
    /// 2.6 tries on average (76% of 254-bit strings are below q, half of those give a square).
    /// G1 has cofactor 1, so the point is in the prime-order group; it is never the identity.
    /// Not constant time (the inputs are public).
    public static func hashToCurve(domain: String, label: [UInt8]) -> G1Affine {
        let prefix = Array(domain.utf8) + [0] + label
        var counter: UInt32 = 0
        while true {
            var digest = SHA256.hash(prefix + bigEndian(counter))
            digest[0] &= 0x3f
            counter &+= 1
            guard let x = try? Fq(bigEndian: digest), let y = (x.squared() * x + G1Parameters.b).squareRoot() else {
                continue
            }
            return G1Affine(x: x, y: y.isNegativeSigned ? -y : y)
        }
    }

    /// Commits with a fresh uniform blinding factor; keep the blinding to open.
    public func commit(_ values: [Fr]) throws(PedersenError) -> (commitment: PedersenCommitment, blinding: Fr) {
        let r = Fr.random()
        return (try commit(values, blinding: r), r)
    }

    /// sum v_i G_i + blinding * H.
    public func commit(_ values: [Fr], blinding: Fr) throws(PedersenError) -> PedersenCommitment {
        guard values.count <= generators.count else {
            throw .tooManyValues(values: values.count, generators: generators.count)
        }
        let bases = Array(generators[0..<values.count]) + [blindingGenerator]
        return PedersenCommitment(point: MSM.multiply(bases: bases, scalars: values + [blinding]).affine)
    }

    /// True when (values, blinding) opens `commitment`.
    public func verify(_ commitment: PedersenCommitment, values: [Fr], blinding: Fr) throws(PedersenError) -> Bool {
        try commit(values, blinding: blinding) == commitment
    }
}

/// A Pedersen commitment (a G1 point). Encoded as the 32-byte compressed point; decoding
/// validates it (on the curve; G1's cofactor is 1).
public struct PedersenCommitment: Hashable, Sendable {
    public let point: G1Affine

    public init(point: G1Affine) { self.point = point }

    public init(compressed bytes: [UInt8]) throws(PedersenError) {
        do { point = try G1Affine(compressed: bytes) } catch { throw .invalidEncoding(error) }
    }

    public var compressed: [UInt8] { point.compressed() }

    /// The homomorphism: commitments add as their openings do.
    public static func + (a: PedersenCommitment, b: PedersenCommitment) -> PedersenCommitment {
        PedersenCommitment(point: (a.point.jacobian + b.point).affine)
    }
}

func bigEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
}
