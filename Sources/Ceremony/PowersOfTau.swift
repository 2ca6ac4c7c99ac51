import Algebra

/// Phase 1 of a Groth16 setup: powers of a secret tau with the alpha and beta multiples, in
/// snarkjs's `.ptau` shape for `power` p: tau^i G1 for i < 2^(p+1) - 1, tau^i G2, alpha tau^i G1
/// and beta tau^i G1 for i < 2^p, and beta G2. It supports circuits whose domain (constraints
/// plus public inputs plus one) is at most 2^p.
public struct PowersOfTau: Sendable, Equatable {
    public let power: Int
    public internal(set) var tauG1: [G1Affine]
    public internal(set) var tauG2: [G2Affine]
    public internal(set) var alphaTauG1: [G1Affine]
    public internal(set) var betaTauG1: [G1Affine]
    public internal(set) var betaG2: G2Affine

    /// Largest power accepted: snarkjs's maximum is 28, and our phase 2 stops at a 2^27 domain.
    public static let maxPower = 27

    /// The starting state, tau = alpha = beta = 1 (every point a generator), as `snarkjs
    /// powersoftau new` writes it. Worthless until someone contributes.
    public static func initial(power: Int) -> PowersOfTau {
        precondition((1...maxPower).contains(power), "power \(power) outside 1...\(maxPower)")
        let n = 1 << power
        return PowersOfTau(
            power: power, tauG1: .init(repeating: .generator, count: 2 * n - 1),
            tauG2: .init(repeating: .generator, count: n),
            alphaTauG1: .init(repeating: .generator, count: n),
            betaTauG1: .init(repeating: .generator, count: n), betaG2: .generator)
    }

    init(
        power: Int, tauG1: [G1Affine], tauG2: [G2Affine], alphaTauG1: [G1Affine], betaTauG1: [G1Affine],
        betaG2: G2Affine
    ) {
        self.power = power
        self.tauG1 = tauG1
        self.tauG2 = tauG2
        self.alphaTauG1 = alphaTauG1
        self.betaTauG1 = betaTauG1
        self.betaG2 = betaG2
    }

    /// The smallest power whose powers cover `domainSize` (a power of two).
    public static func power(forDomainSize domainSize: Int) -> Int {
        max(1, Int.bitWidth - domainSize.leadingZeroBitCount - 1)
    }

    /// The points a contribution record repeats: tau G1, tau G2, alpha G1, beta G1, beta G2.
    public var firstPoints: (tauG1: G1Affine, tauG2: G2Affine, alphaG1: G1Affine, betaG1: G1Affine, betaG2: G2Affine) {
        (tauG1[1], tauG2[1], alphaTauG1[0], betaTauG1[0], betaG2)
    }

    /// Multiplies the secrets in: tau^i -> (x tau)^i and so on. Cost: 2^(p+2) G1 and 2^p G2
    /// variable-base multiplications, on all cores.
    mutating func multiply(tau x: Fr, alpha a: Fr, beta b: Fr, progress: (String) -> Void) {
        progress("tau G1")
        PointBatch.scaleByPowers(&tauG1, first: .one, ratio: x)
        progress("tau G2")
        PointBatch.scaleByPowers(&tauG2, first: .one, ratio: x)
        progress("alpha tau G1")
        PointBatch.scaleByPowers(&alphaTauG1, first: a, ratio: x)
        progress("beta tau G1")
        PointBatch.scaleByPowers(&betaTauG1, first: b, ratio: x)
        betaG2 = betaG2.multiplied(by: b).affine
    }

    /// Checks that the state is the powers of one tau with one alpha and one beta: nil if so,
    /// else the reason. Batched "same ratio" checks with random 128-bit coefficients: consecutive
    /// G1 entries (tau, alpha tau, beta tau together) against tau G2, consecutive G2 entries
    /// against tau G1, plus beta G1 against beta G2. Soundness error 2^-127; cost: two G1 MSMs
    /// over 2^(p+2) points, two G2 MSMs over 2^p points and a few pairings.
    public func structureError() -> String? {
        let n = 1 << power
        guard tauG1.count == 2 * n - 1, tauG2.count == n, alphaTauG1.count == n, betaTauG1.count == n else {
            return "the point counts do not match power \(power)"
        }
        guard tauG1[0] == .generator, tauG2[0] == .generator else { return "tau^0 is not the generator" }
        let (t1, t2, a1, b1, b2) = firstPoints
        if t1.isInfinity || t2.isInfinity || a1.isInfinity || b1.isInfinity || b2.isInfinity {
            return "a secret is zero (a first point is the point at infinity)"
        }
        guard SameRatio.holds((.generator, t1), (.generator, t2)) else { return "tau G1 and tau G2 disagree" }
        guard SameRatio.holds((.generator, b1), (.generator, b2)) else { return "beta G1 and beta G2 disagree" }
        let g1Lists = [tauG1, alphaTauG1, betaTauG1]
        var lower: [G1Affine] = [], upper: [G1Affine] = []
        for list in g1Lists {
            lower += list.dropLast()
            upper += list.dropFirst()
        }
        let r1 = SameRatio.randomScalars(lower.count)
        let l1 = MSM.multiply(bases: lower, scalars: r1).affine
        let u1 = MSM.multiply(bases: upper, scalars: r1).affine
        guard SameRatio.holds((l1, u1), (.generator, t2)) else {
            return "the G1 powers are not successive powers of tau (tau, alpha tau or beta tau lists)"
        }
        let r2 = SameRatio.randomScalars(n - 1)
        let l2 = MSM.multiply(bases: Array(tauG2.dropLast()), scalars: r2).affine
        let u2 = MSM.multiply(bases: Array(tauG2.dropFirst()), scalars: r2).affine
        guard SameRatio.holds((.generator, t1), (l2, u2)) else {
            return "the G2 powers are not successive powers of tau"
        }
        return nil
    }
}
