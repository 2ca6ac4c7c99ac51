import Algebra
import Circuit

/// The verifying key: e(A, B) = e(alpha, beta) * e(sum_i x_i IC_i, gamma) * e(C, delta).
public struct VerifyingKey: Sendable, Equatable {
    public var alpha: G1Affine
    public var beta: G2Affine
    public var gamma: G2Affine
    public var delta: G2Affine
    /// IC_0 (the constant wire) then one point per public signal.
    public var ic: [G1Affine]
    /// For a circuit with a commitment to witness wires (BSB22): what the verifier needs to check
    /// the commitment's proof of knowledge; nil otherwise (the snarkjs-compatible case).
    public var commitment: CommitmentVerifyingKey?

    public init(alpha: G1Affine, beta: G2Affine, gamma: G2Affine, delta: G2Affine, ic: [G1Affine]) {
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.delta = delta
        self.ic = ic
    }

    public var publicInputCount: Int { ic.count - 1 }

    /// Why this key cannot be trusted to verify anything, or nil for a well-formed key.
    ///
    /// Refused, because each lets anyone forge proofs, leaves a public input unbound, or
    /// cannot come from an honest setup (whose alpha, beta, gamma, delta are random nonzero
    /// multiples of the generators):
    /// - gamma or delta at infinity: with delta = 0 the term e(C, delta) vanishes, with
    ///   gamma = 0 the public inputs drop out of the equation; alpha or beta at infinity;
    /// - gamma = delta or gamma = -delta: then e(vk_x, gamma) e(C, delta) = e(vk_x +- C, delta),
    ///   so the proof A = alpha, B = beta, C = -+vk_x verifies for any public inputs;
    /// - no IC point, or an IC point at infinity (IC_i = 0 makes input i unconstrained: any
    ///   value of it verifies; honest setups give IC_i = 0 with negligible probability);
    /// - with a commitment to witness wires, sigma at infinity or +-1 (the generator): a sigma
    ///   whose logarithm is known lets K = sigma D pass the knowledge check for any D, and a D
    ///   outside the basis carries a public input's term (a false statement verifies).
    /// Cost: O(public inputs) comparisons, no group operations.
    public var degeneracy: String? {
        if alpha.isInfinity { return "alpha is the point at infinity" }
        if beta.isInfinity { return "beta is the point at infinity" }
        if gamma.isInfinity { return "gamma is the point at infinity" }
        if delta.isInfinity { return "delta is the point at infinity" }
        if gamma == delta {
            return "gamma = delta: the proof A = alpha, B = beta, C = -vk_x verifies for any public inputs"
        }
        if gamma == -delta {
            return "gamma = -delta: the proof A = alpha, B = beta, C = vk_x verifies for any public inputs"
        }
        if ic.isEmpty { return "IC is empty (it needs IC_0 for the constant wire)" }
        if let i = ic.firstIndex(where: \.isInfinity) {
            return
                "IC[\(i)] is the point at infinity, so \(i == 0 ? "the constant term" : "public input #\(i)") would not be bound"
        }
        if let sigma = commitment?.sigma {
            if sigma.isInfinity { return "the commitment's sigma is the point at infinity" }
            if sigma == G2Affine.generator || sigma == -G2Affine.generator {
                return
                    "the commitment's sigma is +-1: anyone passes its knowledge check with any D, so a prover can move a public input's term into D"
            }
        }
        return nil
    }

    /// Throws `Groth16Error.insecureKey` when `degeneracy` names a problem.
    public func checkNotDegenerate() throws(Groth16Error) {
        if let why = degeneracy { throw .insecureKey(why) }
    }
}

/// The proving key (arkworks layout): queries indexed by wire, plus the H query for the
/// quotient's coefficients.
public struct ProvingKey: Sendable, Equatable {
    public var verifyingKey: VerifyingKey
    public var alpha: G1Affine
    public var beta1: G1Affine
    public var beta2: G2Affine
    public var delta1: G1Affine
    public var delta2: G2Affine
    /// u_k(tau) G1 for every wire k.
    public var a: [G1Affine]
    /// v_k(tau) G1 and G2 for every wire k.
    public var b1: [G1Affine]
    public var b2: [G2Affine]
    /// tau^i Z(tau) / delta G1, i < n - 1, for the coefficients of h (monomial basis);
    /// or, for keys imported from a snarkjs .zkey, the odd-coset Lagrange form (see `hForm`).
    public var h: [G1Affine]
    /// (beta u_k + alpha v_k + w_k) / delta G1 for the private wires k > numPublic.
    public var l: [G1Affine]
    /// Constraint rows of the circuit plus one per public wire (the domain's used rows).
    public var domainSize: Int
    public var hForm: HQueryForm
    /// SHA-256 of the circuit's R1CS encoding: keys for another circuit are refused.
    public var circuitHash: [UInt8]
    /// The commitment key of a circuit with a commitment to witness wires; nil otherwise.
    public var commitment: CommitmentKey?

    /// The stored name of the key's QAP reduction (`reduction` gives the strategy type).
    public enum HQueryForm: UInt8, Sendable {
        /// h's coefficients times tau^i Z(tau)/delta (arkworks, our setup): `MonomialReduction`.
        case monomial = 0
        /// snarkjs: Lagrange basis of the 2n-point domain at the odd points:
        /// `OddCosetLagrangeReduction`.
        case oddCosetLagrange = 1
    }

    public init(
        verifyingKey: VerifyingKey, alpha: G1Affine, beta1: G1Affine, beta2: G2Affine,
        delta1: G1Affine, delta2: G2Affine, a: [G1Affine], b1: [G1Affine], b2: [G2Affine],
        h: [G1Affine], l: [G1Affine], domainSize: Int, hForm: HQueryForm, circuitHash: [UInt8]
    ) {
        self.verifyingKey = verifyingKey
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.delta1 = delta1
        self.delta2 = delta2
        self.a = a
        self.b1 = b1
        self.b2 = b2
        self.h = h
        self.l = l
        self.domainSize = domainSize
        self.hForm = hForm
        self.circuitHash = circuitHash
    }

    public var wireCount: Int { a.count }
    public var publicInputCount: Int { verifyingKey.publicInputCount }
}

/// A Groth16 proof (A in G1, B in G2, C in G1).
public struct Proof: Sendable, Equatable {
    public var a: G1Affine
    public var b: G2Affine
    public var c: G1Affine
    public init(a: G1Affine, b: G2Affine, c: G1Affine) {
        self.a = a
        self.b = b
        self.c = c
    }
}

/// Errors of setup, proving and verification input handling.
public enum Groth16Error: Error, Equatable, CustomStringConvertible {
    case witnessDoesNotSatisfy(constraint: Int)
    case witnessLength(expected: Int, got: Int)
    case publicInputCount(expected: Int, got: Int)
    case publicInputNotCanonical(index: Int, value: String)
    case circuitTooLarge(constraints: Int)
    case circuitMismatch
    case identityPoint(String)
    case insecureKey(String)
    case tooManyPublicInputs(got: Int, limit: Int, why: String)
    /// A proof made with a proving key does not verify under that key's own verifying key:
    /// the key is corrupt or was altered (its checksum can be recomputed by whoever alters it).
    case proofRejectedByOwnKey
    /// The proof from a key without a C matrix (a `.zkey`) failed verification: the witness
    /// does not satisfy the circuit.
    case witnessRejectedByKey
    /// The key's circuit has a commitment to witness wires (or has none) and the call does not
    /// match: use `proveCommitted`/`verifyCommitted` for such circuits, `prove`/`verify` otherwise.
    case commitmentMismatch(String)

    public var description: String {
        switch self {
        case .witnessDoesNotSatisfy(let i):
            return "the witness does not satisfy constraint #\(i); refusing to prove (check the inputs)"
        case .witnessLength(let e, let g): return "witness has \(g) wires, the circuit has \(e)"
        case .publicInputCount(let e, let g): return "\(g) public inputs given, the verifying key expects \(e)"
        case .publicInputNotCanonical(let i, let v):
            return "public input #\(i) (\(v.prefix(80))) is not below the field modulus r"
        case .circuitTooLarge(let n): return "\(n) constraints exceed the 2^28 FFT domain of BN254's Fr"
        case .circuitMismatch: return "the key was made for a different circuit (circuit hash differs)"
        case .identityPoint(let w): return "proof element \(w) is the point at infinity"
        case .insecureKey(let why): return "refusing an insecure key: \(why)"
        case .tooManyPublicInputs(let n, let limit, let why):
            return "\(n) public inputs exceed the limit of \(limit): \(why)"
        case .proofRejectedByOwnKey:
            return "the proof made with this proving key does not verify under its own verifying key: the key is "
                + "corrupt or was altered (a recomputed checksum does not make it consistent); regenerate it"
        case .witnessRejectedByKey:
            return "the witness does not satisfy the circuit: the proof it gives does not verify under the key "
                + "(a .zkey stores no C matrix, so the failing constraint cannot be named); refusing to return it"
        case .commitmentMismatch(let why): return "commitment to witness wires: \(why)"
        }
    }
}
