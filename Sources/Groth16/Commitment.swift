import Algebra
import Circuit
import Foundation

/// Groth16 with a commitment to witness wires (the BSB22 construction of gnark's `api.Commit`,
/// ePrint 2022/1072; the blinding follows LegoGroth16's commit-carrying SNARK).
///
/// Setup moves the committed private wires J out of the L query (over delta) into a commitment
/// basis G_j = [(beta u_j + alpha v_j + w_j)(tau) / gamma]_1, like public inputs. The prover
/// commits first: D = sum_{j in J} w_j G_j + nu [eta / gamma]_1 with a fresh random nu (so D
/// hides the committed values: gnark's CVE-2024-45040 was a commitment without it), a proof of
/// knowledge K = sum w_j sigma G_j + nu [sigma eta / gamma]_1, and subtracts nu [eta / delta]_1
/// from C so the nu terms cancel. The challenge is a hash of D and the whole statement; it is the
/// circuit's last public input, and the rest of the witness is computed after it. The verifier
/// derives the challenge itself and checks
///
///     e(A, B) = e(alpha, beta) e(IC(x, challenge) + D, gamma) e(C, delta),  e(D, [sigma]_2) = e(K, [1]_2)
///
/// (the second in the same multi-pairing, weighted by a random 128-bit rho). The knowledge check
/// keeps D in the span of the basis and [eta/gamma], so D cannot carry terms that cancel others.
/// One commitment per proof: gnark's several-commitments variant was unsound (CVE-2024-45039);
/// circuits derive every random value from the one challenge.
public struct CommitmentKey: Sendable, Equatable {
    /// The committed wires (increasing) and the challenge's public wire.
    public var wires: [Int]
    public var challenge: Int
    public var basis: [G1Affine]
    public var basisSigma: [G1Affine]
    public var etaGamma: G1Affine
    public var etaGammaSigma: G1Affine
    public var etaDelta: G1Affine

    public init(
        wires: [Int], challenge: Int, basis: [G1Affine], basisSigma: [G1Affine], etaGamma: G1Affine,
        etaGammaSigma: G1Affine, etaDelta: G1Affine
    ) {
        self.wires = wires
        self.challenge = challenge
        self.basis = basis
        self.basisSigma = basisSigma
        self.etaGamma = etaGamma
        self.etaGammaSigma = etaGammaSigma
        self.etaDelta = etaDelta
    }
}

/// The verifier's part of a commitment key: [sigma]_2 for the knowledge check.
public struct CommitmentVerifyingKey: Sendable, Equatable {
    public var committedWires: Int
    public var sigma: G2Affine

    public init(committedWires: Int, sigma: G2Affine) {
        self.committedWires = committedWires
        self.sigma = sigma
    }
}

/// A proof of a circuit with a commitment: the Groth16 proof, the commitment D and its proof of
/// knowledge K. 384 bytes on the wire (the Ethereum layout, then D and K uncompressed).
public struct CommittedProof: Sendable, Equatable {
    public var proof: Proof
    public var commitment: G1Affine
    public var knowledge: G1Affine

    public init(proof: Proof, commitment: G1Affine, knowledge: G1Affine) {
        self.proof = proof
        self.commitment = commitment
        self.knowledge = knowledge
    }

    public static let byteCount = 384

    public var bytes: [UInt8] { proof.ethereumBytes + commitment.uncompressed() + knowledge.uncompressed() }

    /// Decodes and validates every point (on the curve, in the subgroup).
    public init(bytes: [UInt8]) throws(PointDecodingError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(group: "committed proof", expected: Self.byteCount, got: bytes.count)
        }
        proof = try Proof(ethereumBytes: Array(bytes[0..<256]))
        commitment = try G1Affine(uncompressed: bytes[256..<320])
        knowledge = try G1Affine(uncompressed: bytes[320..<384])
    }
}

/// The prover's commitment step: D, its proof of knowledge K and the blinding nu that made D
/// hide the committed values. nu is as secret as the witness (with it and D, anyone can check a
/// guess of the committed values); whoever finishes the proof needs it, since C carries
/// -nu [eta/delta]_1. The prover pool ships it to its worker with the witness.
public struct CommitmentOpening: Sendable, Equatable {
    public var commitment: G1Affine
    public var knowledge: G1Affine
    public var blinding: Fr

    public init(commitment: G1Affine, knowledge: G1Affine, blinding: Fr) {
        self.commitment = commitment
        self.knowledge = knowledge
        self.blinding = blinding
    }

    /// Bytes on the wire: D and K uncompressed, then nu (32 bytes, little-endian).
    public static let byteCount = 160

    public var bytes: [UInt8] { commitment.uncompressed() + knowledge.uncompressed() + blinding.littleEndianBytes() }

    /// Decodes and validates: both points on the curve and in the subgroup, nu below r.
    public init(bytes: [UInt8]) throws(PointDecodingError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(group: "commitment opening", expected: Self.byteCount, got: bytes.count)
        }
        commitment = try G1Affine(uncompressed: bytes[0..<64])
        knowledge = try G1Affine(uncompressed: bytes[64..<128])
        do { blinding = try Fr(littleEndian: bytes[128..<160]) } catch {
            throw .coordinate(group: "commitment opening blinding", error)
        }
    }
}

/// The opening a challenge oracle made while a circuit was built (and, for a party that links
/// the proof to another, the committed values it opens): the oracle is a `@Sendable` closure run
/// inside the synthesis, so it hands its result to the prover through a lock. Used by
/// `proveCommitted` and by provers that finish the proof elsewhere (the prover pool).
public final class CommitmentOpeningBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: CommitmentOpening?
    private var committed: [Fr] = []

    public init() {}

    public func set(_ value: CommitmentOpening, committed values: [Fr] = []) {
        lock.lock()
        defer { lock.unlock() }
        stored = value
        committed = values
    }

    /// The opening, once: a second call returns nil.
    public func take() -> CommitmentOpening? { takeWithCommittedValues()?.opening }

    /// The opening and the committed values given with it, once.
    public func takeWithCommittedValues() -> (committed: [Fr], opening: CommitmentOpening)? {
        lock.lock()
        defer { lock.unlock() }
        defer {
            stored = nil
            committed = []
        }
        return stored.map { (committed, $0) }
    }
}

extension Groth16 {
    /// The domain tag that starts the challenge's hash input (the Solidity verifier embeds it).
    public static let commitmentDomain = "VeriSplit/Groth16-BSB22/v1"

    /// The challenge of a statement under commitment D: SHA-256 (two blocks, 512 bits, reduced
    /// mod r so it is uniform up to 2^-256) of a domain tag, D's coordinates and every public
    /// value except the challenge itself, in order. Binding the statement stops a prover from
    /// choosing public values (say, the activations it claims) after seeing the challenge.
    public static func commitmentChallenge(commitment: G1Affine, statement: [Fr]) -> Fr {
        var bytes = Array(commitmentDomain.utf8) + commitment.uncompressed()
        bytes.reserveCapacity(bytes.count + 32 * statement.count + 1)
        for value in statement { bytes += value.littleEndianBytes() }
        let wide = SHA256.hash(bytes + [0]) + SHA256.hash(bytes + [1])
        return Fr(reducing: BigInt(bigEndian: wide))
    }

    /// Proves a circuit with a commitment to witness wires. `build` synthesizes the circuit with
    /// the oracle it is given installed as the constraint system's `challengeOracle`: when the
    /// circuit draws its challenge, the oracle commits to the committed wires (a fresh blinding
    /// from the CSPRNG) and returns the challenge the verifier will derive. The witness is then
    /// checked, the proof made, and checked against the key before it is returned.
    /// Cost: a Groth16 proof plus two MSMs over the committed wires.
    public static func proveCommitted(
        key: ProvingKey, r1cs: R1CS<Fr>,
        build: (_ oracle: @escaping @Sendable ([Fr], [Fr]) -> Fr) throws -> ConstraintSystem<Fr>
    )
        throws -> CommittedProof
    {
        guard let commitmentKey = key.commitment, let info = r1cs.commitment, info.wires == commitmentKey.wires,
            info.challenge == commitmentKey.challenge
        else {
            throw Groth16Error.commitmentMismatch("the key and the circuit disagree on the committed wires")
        }
        let state = CommitmentOpeningBox()
        let oracle: @Sendable ([Fr], [Fr]) -> Fr = { committed, statement in
            let opening = commit(commitmentKey, committed: committed)
            state.set(opening)
            return commitmentChallenge(commitment: opening.commitment, statement: statement)
        }
        let cs = try build(oracle)
        guard let opened = state.take() else {
            throw Groth16Error.commitmentMismatch("the circuit never drew its challenge")
        }
        guard cs.commitmentInfo == info else {
            throw Groth16Error.commitmentMismatch("the circuit built is not the key's")
        }
        let witness = cs.witness()
        return try proveCommitted(
            key: key, r1cs: r1cs, witness: witness, commitment: opened.commitment,
            knowledge: opened.knowledge, blinding: opened.blinding)
    }

    /// The commitment step on its own: D = sum w_j G_j + nu [eta/gamma]_1 and its proof of
    /// knowledge for the committed values (in wire order) with a fresh blinding nu from the
    /// CSPRNG. The challenge is then `commitmentChallenge(commitment:statement:)`. What a party
    /// that has another process finish the proof runs (the prover pool): the witness after the
    /// challenge and the opening go to `proveCommitted(key:r1cs:witness:opening:)`.
    /// Cost: two MSMs over the committed wires.
    public static func commit(_ commitmentKey: CommitmentKey, committed: [Fr]) -> CommitmentOpening {
        var nu = Fr.random()
        defer { nu = .zero }
        let scalars = committed.map(\.canonicalLimbs)
        let d =
            (MSM.multiply(bases: commitmentKey.basis, canonicalScalars: scalars)
            + commitmentKey.etaGamma.multiplied(by: nu)).affine
        let k =
            (MSM.multiply(bases: commitmentKey.basisSigma, canonicalScalars: scalars)
            + commitmentKey.etaGammaSigma.multiplied(by: nu)).affine
        return CommitmentOpening(commitment: d, knowledge: k, blinding: nu)
    }

    /// Finishes a committed proof from a full witness and the opening its challenge was derived
    /// from (`commit`). Checks the witness, and the proof against the key, before returning it:
    /// an opening that is not the witness's commitment, or a challenge wire that is not derived
    /// from it, gives `proofRejectedByOwnKey`. Cost: a Groth16 proof.
    public static func proveCommitted(
        key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr], opening: CommitmentOpening
    ) throws(Groth16Error) -> CommittedProof {
        try proveCommitted(
            key: key, r1cs: r1cs, witness: witness, commitment: opening.commitment, knowledge: opening.knowledge,
            blinding: opening.blinding)
    }

    /// The proof for a witness whose challenge was derived from `commitment` (made with
    /// `blinding`). Checks the witness, and the proof against the key, before returning it.
    static func proveCommitted(
        key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr], commitment: G1Affine, knowledge: G1Affine,
        blinding: Fr
    ) throws(Groth16Error) -> CommittedProof {
        guard let commitmentKey = key.commitment else { throw .commitmentMismatch("the key has no commitment key") }
        guard witness.count == r1cs.numWires, witness.count == key.wireCount else {
            throw .witnessLength(expected: key.wireCount, got: witness.count)
        }
        guard witness[0] == .one, r1cs.numPublic == key.publicInputCount else { throw .circuitMismatch }
        // A circuit read from a .zkey has no C rows (the key takes C as A B): its witness is
        // checked by the proof's own verification below instead, as `prove` does.
        let knowsC = !key.reduction.derivesCFromAB || r1cs.c.nonZeroCount > 0
        let proof = try proveUnchecked(
            key: key, r1cs: r1cs, witness: witness, blinding: blinding, etaDelta: commitmentKey.etaDelta,
            checkingWitness: knowsC)
        let committed = CommittedProof(proof: proof, commitment: commitment, knowledge: knowledge)
        let statement = Array(witness[1..<r1cs.numPublic])
        guard (try? verifyCommitted(key: key.verifyingKey, proof: committed, statement: statement)) == true else {
            throw knowsC ? .proofRejectedByOwnKey : .witnessRejectedByKey
        }
        return committed
    }

    /// A committed proof of `witness` with no check at all: the commitment step's outputs are
    /// whatever the caller says. What a cheating prover runs (the soundness tests play one that
    /// picks its own challenge, or commits to other values than its witness); honest code calls
    /// `proveCommitted(key:r1cs:build:)`.
    public static func proveCommittedUnchecked(
        key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr], commitment: G1Affine,
        knowledge: G1Affine, blinding: Fr
    ) throws(Groth16Error) -> CommittedProof {
        guard let commitmentKey = key.commitment else { throw .commitmentMismatch("the key has no commitment key") }
        guard witness.count == r1cs.numWires, witness.count == key.wireCount else {
            throw .witnessLength(expected: key.wireCount, got: witness.count)
        }
        let proof = try proveUnchecked(
            key: key, r1cs: r1cs, witness: witness, blinding: blinding, etaDelta: commitmentKey.etaDelta)
        return CommittedProof(proof: proof, commitment: commitment, knowledge: knowledge)
    }

    /// The Groth16 part of a committed proof without checks (C carries -nu [eta/delta]_1).
    /// With `checkingWitness`, an unsatisfied row throws `witnessDoesNotSatisfy` (the honest path).
    static func proveUnchecked(
        key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr], blinding: Fr, etaDelta: G1Affine,
        checkingWitness: Bool = false
    ) throws(Groth16Error) -> Proof {
        let domain = try domain(for: r1cs)
        guard domain.size == key.domainSize else { throw .circuitMismatch }
        let h = try quotient(
            r1cs: r1cs, witness: witness, domain: domain, reduction: key.reduction, checkingWitness: checkingWitness)
        var proof = msmProof(key: key, witness: witness, h: h, r: .random(), s: .random())
        proof.c = (proof.c.jacobian + etaDelta.multiplied(by: -blinding)).affine
        return proof
    }

    /// The public inputs a committed proof verifies against: `statement` and the challenge
    /// derived from D, after the input rules (statement length, D and K not the identity, the
    /// key and A, B, C as `verify` checks them).
    static func committedInputs(
        key: VerifyingKey, proof: CommittedProof, statement: [Fr]
    ) throws(Groth16Error) -> [Fr] {
        guard statement.count + 1 == key.publicInputCount else {
            throw .publicInputCount(expected: key.publicInputCount - 1, got: statement.count)
        }
        if proof.commitment.isInfinity { throw .identityPoint("D") }
        if proof.knowledge.isInfinity { throw .identityPoint("K") }
        let inputs = statement + [commitmentChallenge(commitment: proof.commitment, statement: statement)]
        try checkInputs(anyKey: key, proof: proof.proof, publicInputs: inputs)
        return inputs
    }

    /// Verifies a committed proof: derives the challenge from D and `statement` (every public
    /// value but the challenge, in wire order), then checks the Groth16 equation with D added to
    /// the public-input term and D's proof of knowledge, in one multi-pairing.
    public static func verifyCommitted(
        key: VerifyingKey, proof: CommittedProof, statement: [Fr]
    ) throws(Groth16Error) -> Bool {
        guard let commitment = key.commitment else {
            throw .commitmentMismatch("this key's circuit has no commitment: verify with verify")
        }
        let inputs = try committedInputs(key: key, proof: proof, statement: statement)
        let ic = publicInputTerm(key: key, publicInputs: inputs) + proof.commitment
        let rho = Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
        return Pairing.pairingCheck([
            (-proof.proof.a, proof.proof.b),
            (key.alpha, key.beta),
            (ic.affine, key.gamma),
            (proof.proof.c, key.delta),
            (proof.commitment.multiplied(by: rho).affine, commitment.sigma),
            ((-proof.knowledge).multiplied(by: rho).affine, G2Affine.generator),
        ])
    }
}

extension Groth16 {
    /// `verifyCommitted` with the key's five fixed G2 points prepared once (`PreparedVerifyingKey`):
    /// only B's lines are computed per proof, which saves five G2 line preparations (about a
    /// quarter of a verification's pairing time).
    public static func verifyCommitted(
        key prepared: PreparedVerifyingKey, proof: CommittedProof, statement: [Fr]
    ) throws(Groth16Error) -> Bool {
        let key = prepared.key
        guard key.commitment != nil, let sigma = prepared.sigma, let generator = prepared.generator else {
            throw .commitmentMismatch("this key's circuit has no commitment: verify with verify")
        }
        let inputs = try committedInputs(key: key, proof: proof, statement: statement)
        let ic = publicInputTerm(key: key, publicInputs: inputs) + proof.commitment
        let rho = Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
        return Pairing.pairingCheck(prepared: [
            (-proof.proof.a, G2Prepared(proof.proof.b)),
            (key.alpha, prepared.beta),
            (ic.affine, prepared.gamma),
            (proof.proof.c, prepared.delta),
            (proof.commitment.multiplied(by: rho).affine, sigma),
            ((-proof.knowledge).multiplied(by: rho).affine, generator),
        ])
    }
}

extension Groth16 {
    /// Verifies many committed proofs under one key at once. With fresh random 128-bit weights
    /// rho_i for the Groth16 equations and independent t_i for the proofs of knowledge:
    /// prod_i e(-rho_i A_i, B_i) e(sum rho_i alpha, beta) e(sum rho_i (IC(x_i) + D_i), gamma)
    /// e(sum rho_i C_i, delta) e(sum t_i D_i, sigma) e(-sum t_i K_i, g2) = 1, where each x_i ends
    /// with the challenge derived from D_i and its statement (as `verifyCommitted` derives it).
    /// One multi-pairing of n + 5 pairs instead of 6 n; a batch holding any invalid proof passes
    /// with probability about 2^-128. Returns true only if every proof is valid; on false, verify
    /// them one by one to find which. The inputs are checked as `verifyCommitted` checks them.
    public static func batchVerifyCommitted(
        key prepared: PreparedVerifyingKey, proofs: [(proof: CommittedProof, statement: [Fr])]
    ) throws(Groth16Error) -> Bool {
        if proofs.isEmpty { return true }
        let key = prepared.key
        guard let commitment = key.commitment else {
            throw .commitmentMismatch("this key's circuit has no commitment: batch-verify with batchVerify")
        }
        var pairs: [(G1Affine, G2Prepared)] = []
        pairs.reserveCapacity(proofs.count + 5)
        var rhoSum = Fr.zero
        var icSum = G1Jacobian.infinity
        var cSum = G1Jacobian.infinity
        var dSum = G1Jacobian.infinity
        var kSum = G1Jacobian.infinity
        for (proof, statement) in proofs {
            let inputs = try committedInputs(key: key, proof: proof, statement: statement)
            let rho = Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
            let t = Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
            rhoSum += rho
            pairs.append(((-proof.proof.a).multiplied(by: rho).affine, G2Prepared(proof.proof.b)))
            icSum += (publicInputTerm(key: key, publicInputs: inputs) + proof.commitment).multiplied(by: rho)
            cSum += proof.proof.c.multiplied(by: rho)
            dSum += proof.commitment.multiplied(by: t)
            kSum += proof.knowledge.multiplied(by: t)
        }
        pairs.append((key.alpha.multiplied(by: rhoSum).affine, prepared.beta))
        pairs.append((icSum.affine, prepared.gamma))
        pairs.append((cSum.affine, prepared.delta))
        pairs.append((dSum.affine, prepared.sigma ?? G2Prepared(commitment.sigma)))
        pairs.append(((-kSum).affine, prepared.generator ?? G2Prepared(G2Affine.generator)))
        return Pairing.pairingCheck(prepared: pairs)
    }
}
