import Algebra
import Circuit

/// A hiding, binding commitment to a vector of field elements: the Poseidon sponge (commitment
/// domain) of the values followed by a uniformly random salt, c = Sponge_commit(v_1, ..., v_n, salt).
///
/// - Binding: opening c to two different (values, salt) is a sponge collision (computational,
///   Poseidon's collision resistance; lengths are bound by the capacity, see `PoseidonSponge`).
/// - Hiding: computational, modelling the sponge as a random oracle; the salt is 254 bits of
///   OpenSSL CSPRNG output (`Fr.random()`), so it must never be reused across commitments.
/// - Cost: natively ceil((n + 1) / (t - 1)) permutations; in a circuit 3 * (8t + R_P) constraints
///   per permutation (`ConstraintSystem.assertPoseidonOpening`), about 38.25 per value at t = 17.
public struct PoseidonCommitment: Hashable, Sendable, CustomStringConvertible {
    public let value: Fr
    public init(value: Fr) { self.value = value }
    public var description: String { value.description }
}

/// What the committer keeps to open a `PoseidonCommitment` later.
public struct PoseidonOpening: Sendable, Equatable {
    public let values: [Fr]
    public let salt: Fr
    public init(values: [Fr], salt: Fr) {
        self.values = values
        self.salt = salt
    }
}

/// Commits and verifies `PoseidonCommitment`s with one sponge width (17 by default).
public struct PoseidonCommitter: Sendable {
    public let sponge: PoseidonSponge

    public init(width: Int = PoseidonSponge.defaultWidth) throws(PoseidonError) {
        sponge = try PoseidonSponge(width: width)
    }

    /// Commits with a fresh random salt and returns the opening to keep secret.
    public func commit(_ values: [Fr]) -> (commitment: PoseidonCommitment, opening: PoseidonOpening) {
        let opening = PoseidonOpening(values: values, salt: .random())
        return (commit(opening), opening)
    }

    /// The commitment for a given opening (deterministic).
    public func commit(_ opening: PoseidonOpening) -> PoseidonCommitment {
        PoseidonCommitment(value: sponge.hash(opening.values + [opening.salt], domain: .commitment))
    }

    /// True when `opening` opens `commitment`.
    public func verify(_ commitment: PoseidonCommitment, opening: PoseidonOpening) -> Bool {
        commit(opening) == commitment
    }
}

extension ConstraintSystem where F == Fr {
    /// The commitment to `values` under `salt` as an affine combination (see `PoseidonCommitment`).
    /// Cost: ceil((n + 1) / (t - 1)) permutations of 3 * (8t + R_P) constraints.
    public func poseidonCommitment(
        values: [LinearCombination<Fr>], salt: LinearCombination<Fr>,
        width: Int = PoseidonSponge.defaultWidth,
        _ name: String = "commitment"
    ) throws(PoseidonError) -> LinearCombination<Fr> {
        try poseidonSponge(values + [salt], width: width, domain: .commitment, name)
    }

    /// Proves that (values, salt) opens `commitment` (usually a public input): the sponge gadget
    /// plus one equality constraint.
    ///
    /// Soundness: the constraints pin the sponge output to the values and salt, so a satisfying
    /// witness with other values or salt is a Poseidon collision. The salt must be a private
    /// variable; values may be public or private.
    public func assertPoseidonOpening(
        commitment: LinearCombination<Fr>, values: [LinearCombination<Fr>],
        salt: LinearCombination<Fr>, width: Int = PoseidonSponge.defaultWidth,
        _ name: String = "opening"
    ) throws(PoseidonError) {
        let digest = try poseidonCommitment(values: values, salt: salt, width: width, name)
        enforceEqual(digest, commitment, name + "/equalsCommitment")
    }
}
