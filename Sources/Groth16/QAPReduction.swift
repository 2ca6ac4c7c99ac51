import Algebra

/// How an R1CS over an n-point domain H becomes a QAP, in the manner of arkworks'
/// `R1CSToQAP` (`LibsnarkReduction`, `CircomReduction`): which basis the setup puts the H query
/// in, and how the prover computes h in that basis from the evaluations of A w, B w and C w on H.
/// Setup and prover take the reduction from the key (`ProvingKey.reduction`), so a key built for
/// one reduction is never proved with the other. Soundness does not depend on the choice: both
/// commit to the same h(tau) Z(tau) / delta; they differ in basis, query size and prover cost.
public protocol QAPReduction: Sendable {
    /// The form byte `proving.key` stores for this reduction.
    static var form: ProvingKey.HQueryForm { get }
    /// True when the prover takes C w on H as (A w)(B w) row by row, so the circuit need not
    /// carry C (snarkjs's `.zkey` stores only A and B).
    static var derivesCFromAB: Bool { get }
    /// True when the reduction supports a commitment to witness wires (BSB22).
    static var supportsCommitments: Bool { get }
    /// The largest domain size n the reduction supports in Fr.
    static var largestDomain: Int { get }
    /// The H query's length for a domain of n points.
    static func hQueryCount(domainSize n: Int) -> Int
    /// The H query's scalars at the secret tau, over delta (multiplied by the generator at setup).
    static func hQueryScalars(domain: EvaluationDomain, tau: Fr, deltaInverse: Fr) throws(Groth16Error) -> [Fr]
    /// h in the H query's basis, from A w, B w and C w evaluated on the domain (public rows
    /// included).
    static func quotient(a: [Fr], b: [Fr], c: [Fr], domain: EvaluationDomain) throws -> [Fr]
}

/// The libsnark/arkworks reduction, our setup's: the H query is tau^i Z(tau) / delta for
/// i < n - 1, and the prover divides A B - C by Z on a coset (h has degree <= n - 2).
public enum MonomialReduction: QAPReduction {
    public static let form = ProvingKey.HQueryForm.monomial
    public static let derivesCFromAB = false
    public static let supportsCommitments = true
    public static var largestDomain: Int { 1 << Fr.twoAdicity }

    public static func hQueryCount(domainSize n: Int) -> Int { n - 1 }

    public static func hQueryScalars(domain: EvaluationDomain, tau: Fr, deltaInverse: Fr) throws(Groth16Error) -> [Fr] {
        let zOverDelta = domain.evaluateVanishingPolynomial(at: tau) * deltaInverse
        return EvaluationDomain.powers(of: tau, count: domain.size - 1, startingWith: zOverDelta)
    }

    public static func quotient(a: [Fr], b: [Fr], c: [Fr], domain: EvaluationDomain) throws -> [Fr] {
        var h = try domain.quotientPolynomial(a: a, b: b, c: c)
        h.removeLast()  // degree <= n - 2: the key has n - 1 H points
        return h
    }
}

/// snarkjs's (circom's) reduction: h Z has degree <= 2n - 2 and vanishes on the even points of
/// the 2n-point domain, so h(tau) Z(tau) = sum_i (h Z)(w_2n^(2i+1)) L_{2i+1}(tau): the H query
/// holds L_{2i+1}(tau) / delta and the prover supplies A B - C on the odd points (3 inverse FFTs
/// and 3 coset FFTs, no division by Z). Needs the 2n-point domain, so n <= 2^27.
public enum OddCosetLagrangeReduction: QAPReduction {
    public static let form = ProvingKey.HQueryForm.oddCosetLagrange
    public static let derivesCFromAB = true
    /// The commitment basis is the committed wires' K-terms, computed from A, B and C at setup
    /// like the IC points; the prover needs only the witness for it, so deriving C from A B
    /// changes nothing.
    public static let supportsCommitments = true
    public static var largestDomain: Int { 1 << (Fr.twoAdicity - 1) }

    public static func hQueryCount(domainSize n: Int) -> Int { n }

    public static func hQueryScalars(domain: EvaluationDomain, tau: Fr, deltaInverse: Fr) throws(Groth16Error) -> [Fr] {
        let doubled: EvaluationDomain
        do { doubled = try EvaluationDomain(size: 2 * domain.size) } catch {
            throw .circuitTooLarge(constraints: domain.size)
        }
        var basis = doubled.evaluateLagrangeBasis(at: tau)
        defer { SecureRandom.erase(&basis) }
        return (0..<domain.size).map { basis[2 * $0 + 1] * deltaInverse }
    }

    public static func quotient(a: [Fr], b: [Fr], c: [Fr], domain: EvaluationDomain) throws -> [Fr] {
        try SnarkjsQuotient.evaluations(a: a, b: b, c: c, domain: domain)
    }
}

extension ProvingKey.HQueryForm {
    /// The reduction whose H query this form names.
    public var reduction: any QAPReduction.Type {
        switch self {
        case .monomial: return MonomialReduction.self
        case .oddCosetLagrange: return OddCosetLagrangeReduction.self
        }
    }
}

extension ProvingKey {
    /// The QAP reduction the key's H query was built for (and the prover must use).
    public var reduction: any QAPReduction.Type { hForm.reduction }
}
