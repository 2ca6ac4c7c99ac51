import Algebra
import Groth16

/// One contribution to a link key (`CommitmentLink`): c_L += a and c_R += b for fresh secrets
/// a and b, published as [a]_1, [a]_2, [b]_1, [b]_2 with proofs of knowledge of a and b.
public struct LinkContribution: Sendable, Equatable {
    public var leftG1: G1Affine
    public var leftG2: G2Affine
    public var leftProof: KnowledgeProof
    public var rightG1: G1Affine
    public var rightG2: G2Affine
    public var rightProof: KnowledgeProof

    public init(
        leftG1: G1Affine, leftG2: G2Affine, leftProof: KnowledgeProof, rightG1: G1Affine, rightG2: G2Affine,
        rightProof: KnowledgeProof
    ) {
        self.leftG1 = leftG1
        self.leftG2 = leftG2
        self.leftProof = leftProof
        self.rightG1 = rightG1
        self.rightG2 = rightG2
        self.rightProof = rightProof
    }
}

/// A multi-party setup of a link key: the secrets are sums of contributions, so the key is
/// sound if one contributor was honest (kept its a and b secret and erased them).
///
/// The secrets add up rather than multiply because the column points E = c_L left + c_R right
/// can only be updated additively without publishing c_L left and c_R right apart, which would
/// undo the link. Adding is safe only with proofs of knowledge: a contributor who published
/// [t]_2 - [c_L]_2 as its share, without knowing its logarithm, would set c_L to a t it knows
/// (E = t left + u right needs no secret). With the proofs, each share is known to its
/// contributor, so c_L is an honest contributor's secret plus values it does not depend on.
///
/// A verifier checks each contribution (its proofs, and that the scales moved by its shares) and
/// the final key once (`CommitmentLink.isWellFormed`): intermediate column points need no check,
/// since the final points must match the final scales, which no one can steer.
public enum LinkCeremony {
    /// What a link ceremony is for: the two commitment keys and the pairs. Its `digest` binds
    /// every contribution's proofs, so none can be replayed in a link for other keys.
    public struct Context: Sendable {
        public let left: CommitmentKey
        public let right: CommitmentKey
        public let pairs: [CommitmentLinkKey.Pair]
        /// SHA-256 over the counts, the pairs with their coefficients, and the points the
        /// columns are made of (each key's basis and eta/gamma).
        public let digest: [UInt8]

        public init(left: CommitmentKey, right: CommitmentKey, pairs: [CommitmentLinkKey.Pair]) {
            (self.left, self.right) = (left, right)
            self.pairs = pairs.sorted { $0.left < $1.left }
            var bytes = Array("VeriSplit link ceremony context v1".utf8)
            for n in [left.basis.count, right.basis.count, pairs.count] {
                bytes += withUnsafeBytes(of: UInt64(n).littleEndian, Array.init)
            }
            for pair in self.pairs {
                bytes += withUnsafeBytes(of: UInt64(pair.left).littleEndian, Array.init)
                bytes += withUnsafeBytes(of: UInt64(pair.right).littleEndian, Array.init)
                bytes += pair.coefficient.littleEndianBytes()
            }
            bytes.reserveCapacity(bytes.count + 64 * (left.basis.count + right.basis.count + 2))
            for point in left.basis { bytes += point.uncompressed() }
            bytes += left.etaGamma.uncompressed()
            for point in right.basis { bytes += point.uncompressed() }
            bytes += right.etaGamma.uncompressed()
            digest = SHA256.hash(bytes)
        }
    }

    /// The starting key: both secrets zero (every column point and both scales the identity).
    public static func start(_ context: Context) throws(CommitmentLinkError) -> CommitmentLinkKey {
        try CommitmentLink.setup(
            left: context.left, right: context.right, pairs: context.pairs, leftScale: .zero, rightScale: .zero)
    }

    /// What a contribution's proofs are bound to: the ceremony's context and the scales before
    /// it. The scales move with every contribution, so a proof cannot be replayed at another
    /// position; the context stops it moving to another link. The column points are left
    /// out: the final key's are checked against the final scales (`CommitmentLink.isWellFormed`),
    /// so a verifier needs no intermediate key.
    public static func transcript(_ context: Context, scales: CommitmentLinkVerifyingKey) -> [UInt8] {
        SHA256.hash(
            Array("VeriSplit link ceremony".utf8) + context.digest + scales.leftScale.uncompressed()
                + scales.rightScale.uncompressed())
    }

    /// Adds fresh secrets from the CSPRNG to `key` (made for `context`) and returns the public
    /// record of the contribution. The secrets are erased before returning.
    public static func contribute(
        _ key: inout CommitmentLinkKey, context: Context
    ) throws(CommitmentLinkError) -> LinkContribution {
        guard key.leftCount == context.left.basis.count, key.rightCount == context.right.basis.count,
            key.pairs == context.pairs
        else {
            throw .keyMismatch("the key was made for other commitments or pairs")
        }
        let transcript = transcript(context, scales: key.verifyingKey)
        var a = Fr.random(), b = Fr.random(), s = Fr.random(), t = Fr.random()
        defer {
            a = .zero
            b = .zero
            s = .zero
            t = .zero
        }
        guard !a.isZero, !b.isZero else { throw .zeroSecret }
        let (l, r) = CommitmentLink.columns(left: context.left, right: context.right, pairs: key.pairs)
        guard key.points.count == l.count else {
            throw .keyMismatch("\(key.points.count) column points for \(l.count) columns")
        }
        let shift = CommitmentLink.combine(l, a, r, b)
        key.points = JacobianPoint<G1Parameters>.batchToAffine(zip(key.points, shift).map { $0.jacobian + $1 })
        let leftG2 = G2Affine.generator.multiplied(by: a).affine
        let rightG2 = G2Affine.generator.multiplied(by: b).affine
        key.verifyingKey.leftScale = (key.verifyingKey.leftScale.jacobian + leftG2).affine
        key.verifyingKey.rightScale = (key.verifyingKey.rightScale.jacobian + rightG2).affine
        return LinkContribution(
            leftG1: G1Affine.generator.multiplied(by: a).affine, leftG2: leftG2,
            leftProof: KnowledgeProof.prove(x: a, s: s, transcript: transcript, secret: .linkLeft),
            rightG1: G1Affine.generator.multiplied(by: b).affine, rightG2: rightG2,
            rightProof: KnowledgeProof.prove(x: b, s: t, transcript: transcript, secret: .linkRight))
    }

    /// The scales after `contribution` is added to `before`.
    public static func scales(
        after contribution: LinkContribution, before: CommitmentLinkVerifyingKey
    ) -> CommitmentLinkVerifyingKey {
        CommitmentLinkVerifyingKey(
            leftScale: (before.leftScale.jacobian + contribution.leftG2).affine,
            rightScale: (before.rightScale.jacobian + contribution.rightG2).affine)
    }

    /// Whether `contribution` took the scales `before` to `after` in the ceremony for
    /// `context`: each share is known to the contributor (its proof, bound to the context and
    /// `before`), its G1 and G2 forms agree, and each scale moved by exactly its share. Cost:
    /// two hashes to G2 and six two-pair pairing checks. The column points are checked once,
    /// on the final key.
    public static func verify(
        _ contribution: LinkContribution, context: Context, before: CommitmentLinkVerifyingKey,
        after: CommitmentLinkVerifyingKey
    ) -> Bool {
        let transcript = transcript(context, scales: before)
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        guard !contribution.leftG2.isInfinity, !contribution.rightG2.isInfinity,
            contribution.leftProof.verify(
                transcript: transcript, secret: .linkLeft, before: g1, after: contribution.leftG1),
            contribution.rightProof.verify(
                transcript: transcript, secret: .linkRight, before: g1, after: contribution.rightG1),
            SameRatio.holds((g1, contribution.leftG1), (g2, contribution.leftG2)),
            SameRatio.holds((g1, contribution.rightG1), (g2, contribution.rightG2))
        else { return false }
        return scales(after: contribution, before: before) == after
    }
}
