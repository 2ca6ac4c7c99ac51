#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The result of calibrating DP-SGD noise to a privacy target.
public struct NoiseMultiplierSolution: Sendable, Hashable, Codable {
    /// The smallest noise multiplier found (to `relativeTolerance`) whose epsilon is <= target.
    public let sigma: Double
    /// The accountant's epsilon at `sigma` (<= the target).
    public let epsilon: Double
    public let targetEpsilon: Double
    public let delta: Double
    public let accountant: AccountantKind
    /// For RDP: the optimal order at `sigma`.
    public let order: Double?
}

/// Finds the noise multiplier for a target (epsilon, delta) by bisection over sigma.
///
/// Epsilon is non-increasing in sigma for both accountants, so bisection on log(sigma) converges
/// from a bracket found by doubling/halving. The answer is always the upper end of the final
/// bracket, i.e. a sigma that meets the target (never one that misses it by the tolerance); this
/// is the same contract as dp_accounting's `calibrate_dp_mechanism`.
public enum SigmaCalibration {
    /// Largest and smallest noise multipliers searched. Beyond 1e4 any realistic target is met by
    /// far; below 1e-3 the mechanism is practically non-private.
    static let sigmaRange: ClosedRange<Double> = 1e-3...1e4

    /// Solves for sigma such that `steps` Poisson-sampled Gaussian steps at rate `samplingRate`
    /// are (targetEpsilon, delta)-DP according to `accountant`.
    /// - Parameter relativeTolerance: bracket width at which bisection stops, relative to sigma.
    public static func noiseMultiplier(
        targetEpsilon: Double, delta: Double, samplingRate: Double, steps: Int,
        accountant: any PrivacyAccountant = RDPAccountant(), relativeTolerance: Double = 1e-6
    ) throws(DPError) -> NoiseMultiplierSolution {
        try Check.epsilon(targetEpsilon)
        try Check.delta(delta)
        try Check.samplingRate(samplingRate)
        try Check.steps(steps)
        guard relativeTolerance.isFinite, relativeTolerance > 0, relativeTolerance < 1 else {
            throw .invalidParameter(
                name: "relative-tolerance", value: "\(relativeTolerance)",
                requirement: "must lie in (0, 1)", hint: "Use 1e-6 for RDP or 1e-4 for PLD.")
        }
        // A sigma so small that the accountant cannot even represent its privacy loss (PLD size
        // caps) is far from meeting any target it could have met, so it counts as a miss.
        func evaluate(_ sigma: Double) throws(DPError) -> PrivacyGuarantee {
            let mechanism = try PoissonSampledGaussian(
                samplingRate: samplingRate, noiseMultiplier: sigma, steps: steps)
            do {
                return try accountant.guarantee(for: mechanism, delta: delta)
            } catch {
                guard case .computationTooLarge = error, sigma < 1 else { throw error }
                return PrivacyGuarantee(
                    accountant: accountant.kind, epsilon: .infinity, delta: delta, order: nil)
            }
        }
        // Bracket: hi meets the target, lo misses it.
        var hi = 1.0
        var hiResult = try evaluate(hi)
        var lo: Double
        if hiResult.epsilon <= targetEpsilon {
            lo = hi / 2
            var loResult = try evaluate(lo)
            while loResult.epsilon <= targetEpsilon {
                hi = lo
                hiResult = loResult
                lo /= 2
                if lo < sigmaRange.lowerBound {
                    // Essentially no noise is needed; report the smallest sigma searched.
                    return NoiseMultiplierSolution(
                        sigma: hi, epsilon: hiResult.epsilon, targetEpsilon: targetEpsilon,
                        delta: delta, accountant: accountant.kind, order: hiResult.order)
                }
                loResult = try evaluate(lo)
            }
        } else {
            repeat {
                lo = hi
                hi *= 2
                guard hi <= sigmaRange.upperBound else {
                    throw .targetUnreachable(
                        name: "epsilon", target: targetEpsilon,
                        detail: "even sigma = \(lo) gives a larger epsilon; "
                            + "raise epsilon or delta, or lower q or steps")
                }
                hiResult = try evaluate(hi)
            } while hiResult.epsilon > targetEpsilon
        }
        while (hi - lo) > relativeTolerance * hi {
            let mid = (lo * hi).squareRoot()
            let midResult = try evaluate(mid)
            if midResult.epsilon <= targetEpsilon {
                hi = mid
                hiResult = midResult
            } else {
                lo = mid
            }
        }
        return NoiseMultiplierSolution(
            sigma: hi, epsilon: hiResult.epsilon, targetEpsilon: targetEpsilon, delta: delta,
            accountant: accountant.kind, order: hiResult.order)
    }
}
