import Foundation
import Support

/// The exact (Clopper & Pearson 1934) binomial confidence interval.
///
/// This is the **two-sided** interval at confidence `1 - alpha`: each end holds with probability
/// at least `1 - alpha/2`, so at the default 95% the upper bound is the 97.5% one-sided bound.
/// That is the convention of the privacy-auditing literature (Jagielski et al. 2020; Nasr et al.
/// 2021) and the one that gives the ceiling of about 5.6 for 1000/1000 examples.
///   lower = Beta^{-1}(alpha/2; x, n - x + 1)   (0 when x = 0)
///   upper = Beta^{-1}(1 - alpha/2; x + 1, n - x)   (1 when x = n)
public struct ClopperPearson: Sendable, Equatable {
    public let successes: Int
    public let trials: Int
    public let lower: Double
    public let upper: Double
    public let confidence: Double

    /// Precondition-free: throws for counts outside 0 <= x <= n, n >= 1, or confidence outside (0, 1).
    public init(successes x: Int, trials n: Int, confidence: Double = 0.95) throws(AuditError) {
        guard n >= 1, x >= 0, x <= n else {
            throw .invalidParameter(
                name: "successes/trials", value: "\(x)/\(n)",
                requirement: "need 0 <= successes <= trials and trials >= 1")
        }
        guard confidence > 0, confidence < 1 else {
            throw .invalidParameter(
                name: "confidence", value: "\(confidence)", requirement: "must lie in (0, 1), e.g. 0.95")
        }
        let alpha = 1 - confidence
        successes = x
        trials = n
        self.confidence = confidence
        // Closed forms at the ends avoid bisection round-off where a user will check by hand.
        if x == 0 {
            lower = 0
            upper = -expm1(log(alpha / 2) / Double(n))
        } else if x == n {
            lower = exp(log(alpha / 2) / Double(n))
            upper = 1
        } else {
            lower = Statistics.betaQuantile(alpha / 2, a: Double(x), b: Double(n - x + 1))
            upper = Statistics.betaQuantile(1 - alpha / 2, a: Double(x + 1), b: Double(n - x))
        }
    }
}
