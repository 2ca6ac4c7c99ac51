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

    public static let plainByteCount = 256

    public var bytes: [UInt8] {
        switch self {
        case .plain(let proof): return proof.ethereumBytes
        case .committed(let proof): return proof.bytes
        }
    }

    /// Decodes either layout by its length; every point is checked on its curve and in its
    /// subgroup.
    public init(bytes: [UInt8]) throws(PointDecodingError) {
        switch bytes.count {
        case Self.plainByteCount: self = .plain(try Proof(ethereumBytes: bytes))
        case CommittedProof.byteCount: self = .committed(try CommittedProof(bytes: bytes))
        default:
            throw .wrongLength(group: "proof (256 or 384 bytes)", expected: CommittedProof.byteCount, got: bytes.count)
        }
    }

    /// Whether the proof verifies for `statement` under `key`. For a committed proof the
    /// statement omits the challenge, which the verifier derives from the commitment. A proof
    /// of the kind the key does not take is false, never an error.
    public func verifies(key: PreparedVerifyingKey, statement: [Fr]) -> Bool {
        switch self {
        case .plain(let proof):
            guard key.key.commitment == nil else { return false }
            return (try? Groth16.verify(key: key, proof: proof, publicInputs: statement)) ?? false
        case .committed(let proof):
            guard key.key.commitment != nil else { return false }
            return (try? Groth16.verifyCommitted(key: key, proof: proof, statement: statement)) ?? false
        }
    }

    /// Whether every check verifies under `key`, in one batch (`Groth16.batchVerify` or
    /// `batchVerifyCommitted`): a batch with any invalid proof, or with a proof of the kind the
    /// key does not take, is false.
    public static func batchVerifies(key: PreparedVerifyingKey, _ checks: [ProofCheck]) -> Bool {
        if checks.isEmpty { return true }
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
