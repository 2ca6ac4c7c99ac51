import Algebra
import Groth16
import ZKML

/// The proof of one part of a step. A spec with `batch` 1 proves with the one-sample circuits
/// (plain Groth16, keys compatible with snarkjs); a larger batch proves with the batched
/// circuits, whose proofs carry a BSB22 commitment to witness wires and its proof of knowledge.
/// The kind follows from the part's key, so a proof of the other kind never verifies.
public enum StepProof: Sendable, Equatable {
    /// 256 bytes: A, B, C in the Ethereum layout.
    case plain(Proof)
    /// 384 bytes: the Groth16 proof, then the commitment D and its proof of knowledge K.
    case committed(CommittedProof)
    /// 448 bytes: a committed proof, then the `CommitmentLink` proof that its commitment agrees
    /// with the step's forward proof's on the samples (the linked update).
    case linked(CommittedProof, link: G1Affine)

    public static let linkedByteCount = CommittedProof.byteCount + 64

    public static let plainByteCount = 256

    public var bytes: [UInt8] {
        switch self {
        case .plain(let proof): return proof.ethereumBytes
        case .committed(let proof): return proof.bytes
        case .linked(let proof, let link): return proof.bytes + link.uncompressed()
        }
    }

    /// The commitment D of a committed or linked proof.
    public var commitment: G1Affine? {
        switch self {
        case .plain: return nil
        case .committed(let proof), .linked(let proof, _): return proof.commitment
        }
    }

    /// Decodes either layout by its length; every point is checked on its curve and in its
    /// subgroup.
    public init(bytes: [UInt8]) throws(PointDecodingError) {
        switch bytes.count {
        case Self.plainByteCount: self = .plain(try Proof(ethereumBytes: bytes))
        case CommittedProof.byteCount: self = .committed(try CommittedProof(bytes: bytes))
        case Self.linkedByteCount:
            self = .linked(
                try CommittedProof(bytes: Array(bytes[0..<CommittedProof.byteCount])),
                link: try G1Affine(uncompressed: bytes[CommittedProof.byteCount...]))
        default:
            throw .wrongLength(
                group: "proof (256, 384 or 448 bytes)", expected: CommittedProof.byteCount, got: bytes.count)
        }
    }

    /// Whether the proof verifies for `statement` under `key`. For a committed proof the
    /// statement omits the challenge, which the verifier derives from the commitment. A proof
    /// of the kind the key does not take is false, never an error.
    ///
    /// `link`: the part's proofs are linked (the linked update): only a `.linked` proof verifies,
    /// and its link must hold between `linkedTo` (the commitment of the step's verified forward
    /// proof) and its own commitment. Without `link` a linked proof is false.
    public func verifies(
        key: PreparedVerifyingKey, statement: [Fr], link: CommitmentLinkVerifyingKey? = nil, linkedTo: G1Affine? = nil
    ) -> Bool {
        switch self {
        case .plain(let proof):
            guard key.key.commitment == nil, link == nil else { return false }
            return (try? Groth16.verify(key: key, proof: proof, publicInputs: statement)) ?? false
        case .committed(let proof):
            guard key.key.commitment != nil, link == nil else { return false }
            return (try? Groth16.verifyCommitted(key: key, proof: proof, statement: statement)) ?? false
        case .linked(let proof, _):
            guard key.key.commitment != nil, linksHold(link: link, linkedTo: linkedTo) else { return false }
            return (try? Groth16.verifyCommitted(key: key, proof: proof, statement: statement)) ?? false
        }
    }

    /// A linked proof's link, checked against the forward commitment (false for other kinds).
    func linksHold(link: CommitmentLinkVerifyingKey?, linkedTo: G1Affine?) -> Bool {
        guard case .linked(let proof, let linkProof) = self, let link, let linkedTo else { return false }
        return
            (try? CommitmentLink.verify(key: link, left: linkedTo, right: proof.commitment, proof: linkProof))
            ?? false
    }

    /// Whether every check verifies under `key`, in one batch (`Groth16.batchVerify` or
    /// `batchVerifyCommitted`): a batch with any invalid proof, or with a proof of the kind the
    /// key does not take, is false.
    public static func batchVerifies(
        key: PreparedVerifyingKey, _ checks: [ProofCheck], link: CommitmentLinkVerifyingKey? = nil
    ) -> Bool {
        if checks.isEmpty { return true }
        if link != nil || checks.contains(where: { if case .linked = $0.proof { true } else { false } }) {
            // Each link on its own (a three-pair check), then the Groth16 parts in one batch.
            var committed: [(proof: CommittedProof, statement: [Fr])] = []
            for check in checks {
                guard case .linked(let proof, _) = check.proof, key.key.commitment != nil,
                    check.proof.linksHold(link: link, linkedTo: check.linkedTo)
                else { return false }
                committed.append((proof, check.statement))
            }
            return (try? Groth16.batchVerifyCommitted(key: key, proofs: committed)) ?? false
        }
        if key.key.commitment == nil {
            var plain: [(proof: Proof, publicInputs: [Fr])] = []
            for check in checks {
                guard case .plain(let proof) = check.proof else { return false }
                plain.append((proof, check.statement))
            }
            return (try? Groth16.batchVerify(key: key, proofs: plain)) ?? false
        }
        var committed: [(proof: CommittedProof, statement: [Fr])] = []
        for check in checks {
            guard case .committed(let proof) = check.proof else { return false }
            committed.append((proof, check.statement))
        }
        return (try? Groth16.batchVerifyCommitted(key: key, proofs: committed)) ?? false
    }
}
