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
    /// The starting key: both secrets zero (every column point and both scales the identity).
    public static func start(
        left: CommitmentKey, right: CommitmentKey, pairs: [CommitmentLinkKey.Pair]
    ) throws(CommitmentLinkError) -> CommitmentLinkKey {
        try CommitmentLink.setup(left: left, right: right, pairs: pairs, leftScale: .zero, rightScale: .zero)
    }

    /// What a contribution's proofs are bound to: the key it updates (counts, pairs, column
    /// points and scales), so a proof cannot be replayed on another key or position.
    public static func transcript(_ key: CommitmentLinkKey) -> [UInt8] {
        var bytes = Array("VeriSplit link ceremony".utf8)
        for n in [key.leftCount, key.rightCount, key.pairs.count] {
            bytes += withUnsafeBytes(of: UInt64(n).littleEndian, Array.init)
        }
        for pair in key.pairs {
            bytes += withUnsafeBytes(of: UInt64(pair.left).littleEndian, Array.init)
            bytes += withUnsafeBytes(of: UInt64(pair.right).littleEndian, Array.init)
        }
        bytes.reserveCapacity(bytes.count + 64 * key.points.count + 256)
        for point in key.points { bytes += point.uncompressed() }
        bytes += key.verifyingKey.leftScale.uncompressed() + key.verifyingKey.rightScale.uncompressed()
        return SHA256.hash(bytes)
    }

    /// Adds fresh secrets from the CSPRNG to `key` (made for `left` and `right`) and returns the
    /// public record of the contribution. The secrets are erased before returning.
    public static func contribute(
        _ key: inout CommitmentLinkKey, left: CommitmentKey, right: CommitmentKey
    ) throws(CommitmentLinkError) -> LinkContribution {
        guard key.leftCount == left.basis.count, key.rightCount == right.basis.count else {
            throw .keyMismatch("the key was made for commitments of other sizes")
        }
        let transcript = transcript(key)
        var a = Fr.random(), b = Fr.random(), s = Fr.random(), t = Fr.random()
        defer {
            a = .zero
            b = .zero
            s = .zero
            t = .zero
        }
        guard !a.isZero, !b.isZero else { throw .zeroSecret }
        let (l, r) = CommitmentLink.columns(left: left, right: right, pairs: key.pairs)
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

    /// Whether `contribution` took the key `before` to a key with verifying key `after`: each
    /// share is known to the contributor (its proof, bound to `before`), its G1 and G2 forms
    /// agree, and each scale moved by exactly its share. Cost: two hashes to G2 and six
    /// two-pair pairing checks. The column points are checked once, on the final key.
    public static func verify(
        _ contribution: LinkContribution, before: CommitmentLinkKey, after: CommitmentLinkVerifyingKey
    ) -> Bool {
        let transcript = transcript(before)
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        guard !contribution.leftG2.isInfinity, !contribution.rightG2.isInfinity,
            contribution.leftProof.verify(
                transcript: transcript, secret: .linkLeft, before: g1, after: contribution.leftG1),
            contribution.rightProof.verify(
                transcript: transcript, secret: .linkRight, before: g1, after: contribution.rightG1),
            SameRatio.holds((g1, contribution.leftG1), (g2, contribution.leftG2)),
            SameRatio.holds((g1, contribution.rightG1), (g2, contribution.rightG2))
        else { return false }
        let scales = before.verifyingKey
        return (scales.leftScale.jacobian + contribution.leftG2).affine == after.leftScale
            && (scales.rightScale.jacobian + contribution.rightG2).affine == after.rightScale
    }
}
