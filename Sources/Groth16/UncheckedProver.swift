import Algebra
import Circuit

extension Groth16 {
    /// Proves `witness` without first checking that it satisfies the constraints: what a cheating
    /// prover runs after editing the honest prover. For an unsatisfying witness (A·w)(B·w) - C·w
    /// is not divisible by the vanishing polynomial, the computed quotient is not the one the
    /// verification equation needs, and the proof fails to verify except with probability about
    /// (domain size) / r over the setup's tau. Only the soundness tests and the dishonest-party
    /// simulations call it; honest code calls `prove`.
    public static func proveUnchecked(key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr]) throws(Groth16Error) -> Proof {
        guard witness.count == r1cs.numWires, witness.count == key.wireCount else {
            throw .witnessLength(expected: key.wireCount, got: witness.count)
        }
        guard witness[0] == .one, r1cs.numPublic == key.publicInputCount else { throw .circuitMismatch }
        let domain = try domain(for: r1cs)
        guard domain.size == key.domainSize else { throw .circuitMismatch }
        let h = try quotient(r1cs: r1cs, witness: witness, domain: domain, reduction: key.reduction)
        return msmProof(key: key, witness: witness, h: h, r: .random(), s: .random())
    }
}
