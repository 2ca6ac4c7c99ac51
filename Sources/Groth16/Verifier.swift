import Algebra

/// A verifying key with its fixed G2 points' Miller-loop lines precomputed, for verifying many
/// proofs under one key (the split protocol verifies every message against the same keys).
public struct PreparedVerifyingKey: Sendable {
    public let key: VerifyingKey
    let beta: G2Prepared
    let gamma: G2Prepared
    let delta: G2Prepared
    /// The commitment key's sigma and the G2 generator, the two fixed points of the proof of
    /// knowledge of a committed proof (nil when the circuit has no commitment).
    let sigma: G2Prepared?
    let generator: G2Prepared?

    public init(_ key: VerifyingKey) {
        self.key = key
        beta = G2Prepared(key.beta, affineLines: true)
        gamma = G2Prepared(key.gamma, affineLines: true)
        delta = G2Prepared(key.delta, affineLines: true)
        sigma = key.commitment.map { G2Prepared($0.sigma, affineLines: true) }
        generator = key.commitment.map { _ in G2Prepared(G2Affine.generator, affineLines: true) }
    }
}

extension Groth16 {
    static func checkInputs(key: VerifyingKey, proof: Proof, publicInputs: [Fr]) throws(Groth16Error) {
        guard key.commitment == nil else {
            throw .commitmentMismatch("this key's circuit commits to witness wires: verify with verifyCommitted")
        }
        try checkInputs(anyKey: key, proof: proof, publicInputs: publicInputs)
    }

    static func checkInputs(anyKey key: VerifyingKey, proof: Proof, publicInputs: [Fr]) throws(Groth16Error) {
        try key.checkNotDegenerate()
        guard publicInputs.count == key.publicInputCount else {
            throw .publicInputCount(expected: key.publicInputCount, got: publicInputs.count)
        }
        if proof.a.isInfinity { throw .identityPoint("A") }
        if proof.b.isInfinity { throw .identityPoint("B") }
        if proof.c.isInfinity { throw .identityPoint("C") }
    }

    /// IC_0 + sum_i x_i IC_i, the public inputs' term. The short inputs (a batched statement's
    /// activations, gradients, labels) and the long ones (hashes, commitments, the challenge)
    /// go through separate MSMs (`MSM.multiplyMixedLengths`).
    static func publicInputTerm(key: VerifyingKey, publicInputs: [Fr]) -> G1Jacobian {
        MSM.multiplyMixedLengths(bases: Array(key.ic.dropFirst()), scalars: publicInputs) + key.ic[0].jacobian
    }

    /// `verify` with the key's G2 lines precomputed (one Miller loop per pair still runs for -A, B).
    public static func verify(
        key prepared: PreparedVerifyingKey, proof: Proof, publicInputs: [Fr]
    ) throws(Groth16Error) -> Bool {
        try checkInputs(key: prepared.key, proof: proof, publicInputs: publicInputs)
        let ic = publicInputTerm(key: prepared.key, publicInputs: publicInputs)
        return Pairing.pairingCheck(prepared: [
            (-proof.a, G2Prepared(proof.b)),
            (prepared.key.alpha, prepared.beta),
            (ic.affine, prepared.gamma),
            (proof.c, prepared.delta),
        ])
    }

    /// Verifies many proofs under one key at once: with fresh random 128-bit weights rho_i,
    /// prod_i e(rho_i A_i, B_i) = e(sum rho_i alpha, beta) e(sum rho_i IC(x_i), gamma)
    /// e(sum rho_i C_i, delta). One multi-pairing of n + 3 pairs and one final exponentiation
    /// instead of n; a batch containing any invalid proof passes with probability about 2^-128.
    /// Returns true only if every proof is valid; on false, verify them one by one to find which.
    public static func batchVerify(
        key prepared: PreparedVerifyingKey, proofs: [(proof: Proof, publicInputs: [Fr])]
    )
        throws(Groth16Error) -> Bool
    {
        if proofs.isEmpty { return true }
        let key = prepared.key
        var pairs: [(G1Affine, G2Prepared)] = []
        pairs.reserveCapacity(proofs.count + 3)
        var rhoSum = Fr.zero
        var icSum = G1Jacobian.infinity
        var cSum = G1Jacobian.infinity
        for (proof, inputs) in proofs {
            try checkInputs(key: key, proof: proof, publicInputs: inputs)
            let rho = Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
            rhoSum += rho
            pairs.append(((-proof.a).multiplied(by: rho).affine, G2Prepared(proof.b)))
            icSum += publicInputTerm(key: key, publicInputs: inputs).multiplied(by: rho)
            cSum += proof.c.multiplied(by: rho)
        }
        pairs.append((key.alpha.multiplied(by: rhoSum).affine, prepared.beta))
        pairs.append((icSum.affine, prepared.gamma))
        pairs.append((cSum.affine, prepared.delta))
        return Pairing.pairingCheck(prepared: pairs)
    }

    /// Checks a proof against public inputs: e(A, B) = e(alpha, beta) e(IC(x), gamma) e(C, delta),
    /// as one multi-pairing with one final exponentiation.
    ///
    /// Input rules (anything that breaks them is an error, not a `false`): the key must not be
    /// degenerate (`VerifyingKey.degeneracy`: such keys accept forged proofs), the number of
    /// public inputs must match the key, each must be canonical (< r; `Fr` guarantees it
    /// for values built in memory, `verify(...decimal:)` checks strings), and A, B, C must not
    /// be the point at infinity. Points decoded through `AffinePoint` initializers are already
    /// on the curve and in the subgroup.
    public static func verify(key: VerifyingKey, proof: Proof, publicInputs: [Fr]) throws(Groth16Error) -> Bool {
        try checkInputs(key: key, proof: proof, publicInputs: publicInputs)
        return pairingEquationHolds(key: key, proof: proof, publicInputs: publicInputs)
    }

    /// The pairing equation alone, for callers that checked the inputs' shape themselves
    /// (`prove` checking its own proof). Precondition: `publicInputs.count == key.publicInputCount`.
    static func pairingEquationHolds(key: VerifyingKey, proof: Proof, publicInputs: [Fr]) -> Bool {
        let ic = publicInputTerm(key: key, publicInputs: publicInputs)
        return Pairing.pairingCheck([
            (-proof.a, proof.b),
            (key.alpha, key.beta),
            (ic.affine, key.gamma),
            (proof.c, key.delta),
        ])
    }

    /// Parses decimal public inputs (snarkjs `public.json`), rejecting values >= r.
    public static func publicInputs(decimal: [String]) throws(Groth16Error) -> [Fr] {
        var out: [Fr] = []
        for (i, text) in decimal.enumerated() {
            guard let value = try? Fr(decimal: text) else { throw .publicInputNotCanonical(index: i, value: text) }
            out.append(value)
        }
        return out
    }
}
