#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How much Gaussian noise to put on released weights, and what that noise claims. Every noised
/// model records one of these, so a reader can tell a proven guarantee from a heuristic.
public struct NoiseCalibration: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
        /// The DP-Weights post-training calibration as released by its author (not a proof).
        case dpWeightsHeuristic = "dp-weights-heuristic"
        /// Gaussian mechanism, sigma = sqrt(2 ln(1.25/delta)) Delta / epsilon, epsilon < 1.
        case classicGaussian = "classic-gaussian"
        /// Analytic Gaussian mechanism (Balle & Wang 2018), tight for any epsilon.
        case analyticGaussian = "analytic-gaussian"
    }

    public let method: Method
    /// Standard deviation of the i.i.d. Gaussian noise added to every parameter.
    public let sigma: Double
    /// The epsilon the calibration claims.
    public let epsilon: Double
    /// The delta the calibration claims.
    public let delta: Double
    /// The L2 sensitivity the noise was scaled to, when the method has one.
    public let sensitivity: Double?
    /// Whether (epsilon, delta) is a proven DP guarantee for the stated sensitivity.
    public let proven: Bool
    /// One sentence on where the claim comes from and what it assumes.
    public let note: String
}

/// Noise calibrations for releasing trained weights.
public enum WeightNoise {
    /// The DP-Weights calibration exactly as its released code computes it:
    ///
    ///     sigma = sqrt(2 ln(1.25/delta)) * (E * lr * C) / (epsilon * n * B)
    ///             + 0.009760 / epsilon^0.078008
    ///
    /// with delta forced to 1/n^2. This is a heuristic, not a DP proof: the first term is tiny for
    /// any realistic n, so sigma is dominated by the fitted constant term and barely depends on
    /// epsilon (0.0098 at epsilon = 1, 0.0083 at epsilon = 8). The record is therefore marked
    /// `proven: false`.
    /// - Parameters:
    ///   - epochs: E, training epochs (>= 1).
    ///   - learningRate: lr (> 0).
    ///   - clippingNorm: C (> 0).
    ///   - datasetSize: n (>= 2, so that delta = 1/n^2 < 1).
    ///   - batchSize: B (>= 1).
    public static func dpWeights(
        epsilon: Double, epochs: Int, learningRate: Double, clippingNorm: Double,
        datasetSize: Int, batchSize: Int
    ) throws(DPError) -> NoiseCalibration {
        try Check.epsilon(epsilon)
        guard epochs >= 1 else {
            throw .invalidParameter(
                name: "epochs", value: "\(epochs)", requirement: "must be an integer >= 1",
                hint: "Pass the number of training epochs.")
        }
        try Check.positive(learningRate, "learning-rate", hint: "Pass the training learning rate.")
        try Check.positive(
            clippingNorm, "clipping-norm", hint: "Pass the gradient clipping norm C.")
        guard datasetSize >= 2 else {
            throw .invalidParameter(
                name: "dataset-size", value: "\(datasetSize)", requirement: "must be >= 2",
                hint: "Pass the number of training examples n (delta is forced to 1/n^2).")
        }
        guard batchSize >= 1 else {
            throw .invalidParameter(
                name: "batch-size", value: "\(batchSize)", requirement: "must be >= 1",
                hint: "Pass the training batch size.")
        }
        let n = Double(datasetSize)
        let delta = 1 / (n * n)
        let first =
            (2 * log(1.25 / delta)).squareRoot()
            * (Double(epochs) * learningRate * clippingNorm) / (epsilon * n * Double(batchSize))
        let second = 0.009760 / pow(epsilon, 0.078008)
        return NoiseCalibration(
            method: .dpWeightsHeuristic, sigma: first + second, epsilon: epsilon, delta: delta,
            sensitivity: nil, proven: false,
            note: "DP-Weights released calibration (delta forced to 1/n^2); heuristic, "
                + "not a proven DP guarantee")
    }

    /// L2 sensitivity of the minimizer of an L2-regularized ERM objective
    /// (1/n) sum_i loss(w; z_i) + (gamma/2) ||w||^2 with an L-Lipschitz convex loss: 2L / (gamma n)
    /// (Chaudhuri, Monteleoni & Sarwate 2011, "Differentially Private Empirical Risk
    /// Minimization", output perturbation). Wu et al. 2017 ("Bolt-on Differential Privacy")
    /// show the same bound for projected SGD on gamma-strongly convex losses. For logistic
    /// regression with ||x|| <= 1 the loss is 1-Lipschitz, so L = 1.
    public static func outputPerturbationSensitivity(
        lipschitz: Double, regularization gamma: Double, datasetSize: Int
    ) throws(DPError) -> Double {
        try Check.positive(
            lipschitz, "lipschitz",
            hint: "Pass the loss's Lipschitz constant (1 for logistic loss with ||x|| <= 1).")
        try Check.positive(
            gamma, "regularization", hint: "Pass the L2 regularization strength gamma > 0.")
        guard datasetSize >= 1 else {
            throw .invalidParameter(
                name: "dataset-size", value: "\(datasetSize)", requirement: "must be >= 1",
                hint: "Pass the number of training examples n.")
        }
        return 2 * lipschitz / (gamma * Double(datasetSize))
    }

    /// Output perturbation for L2-regularized logistic regression (or any L-Lipschitz loss):
    /// the sensitivity 2L/(gamma n) calibrated with the analytic Gaussian mechanism, or the
    /// classic one when `analytic` is false (then epsilon must be < 1).
    public static func outputPerturbation(
        lipschitz: Double, regularization gamma: Double, datasetSize: Int, epsilon: Double,
        delta: Double, analytic: Bool = true
    ) throws(DPError) -> NoiseCalibration {
        let sensitivity = try outputPerturbationSensitivity(
            lipschitz: lipschitz, regularization: gamma, datasetSize: datasetSize)
        return analytic
            ? try analyticGaussian(sensitivity: sensitivity, epsilon: epsilon, delta: delta)
            : try classicGaussian(sensitivity: sensitivity, epsilon: epsilon, delta: delta)
    }

    /// The classic Gaussian mechanism, sigma = sqrt(2 ln(1.25/delta)) * Delta / epsilon, proven
    /// only for epsilon < 1 (Dwork & Roth 2014, Theorem A.1); larger epsilons are rejected with a
    /// pointer to the analytic mechanism.
    public static func classicGaussian(
        sensitivity: Double, epsilon: Double, delta: Double
    )
        throws(DPError) -> NoiseCalibration
    {
        try Check.positive(sensitivity, "sensitivity", hint: "Pass the L2 sensitivity Delta > 0.")
        try Check.epsilon(epsilon)
        try Check.delta(delta)
        guard epsilon < 1 else {
            throw .invalidParameter(
                name: "epsilon", value: "\(epsilon)",
                requirement: "must be < 1 for the classic Gaussian mechanism",
                hint: "Use the analytic Gaussian mechanism, which is valid for any epsilon.")
        }
        let sigma = (2 * log(1.25 / delta)).squareRoot() * sensitivity / epsilon
        return NoiseCalibration(
            method: .classicGaussian, sigma: sigma, epsilon: epsilon, delta: delta,
            sensitivity: sensitivity, proven: true,
            note: "classic Gaussian mechanism (Dwork & Roth 2014, Thm A.1), epsilon < 1")
    }

    /// The analytic Gaussian mechanism (Balle & Wang 2018, "Improving the Gaussian Mechanism for
    /// Differential Privacy", arXiv:1805.06530): the smallest sigma for which the exact privacy
    /// profile delta(eps) = Phi(Delta/(2s) - eps s/Delta) - e^eps Phi(-Delta/(2s) - eps s/Delta)
    /// is at most delta. Evaluated in log space (as dp_accounting's `gaussian_mechanism`) and
    /// solved by bisection on log sigma to 1e-12 relative, returning the side that meets delta.
    public static func analyticGaussian(
        sensitivity: Double, epsilon: Double, delta: Double
    )
        throws(DPError) -> NoiseCalibration
    {
        try Check.positive(sensitivity, "sensitivity", hint: "Pass the L2 sensitivity Delta > 0.")
        try Check.epsilon(epsilon)
        try Check.delta(delta)
        let sigma = sensitivity * unitAnalyticSigma(epsilon: epsilon, delta: delta)
        return NoiseCalibration(
            method: .analyticGaussian, sigma: sigma, epsilon: epsilon, delta: delta,
            sensitivity: sensitivity, proven: true,
            note: "analytic Gaussian mechanism (Balle & Wang 2018), exact for any epsilon")
    }

    /// The inverse of `analyticGaussian`: the smallest epsilon for which the Gaussian mechanism
    /// with L2 sensitivity `sensitivity` and noise standard deviation `sigma` is (epsilon, delta)-DP
    /// (exact privacy profile of Balle & Wang 2018; no subsampling, one release). Bisection on
    /// epsilon to 1e-12 relative, returning the side that meets delta (so never an underestimate).
    public static func analyticGaussianEpsilon(
        sensitivity: Double, sigma: Double, delta: Double
    )
        throws(DPError) -> Double
    {
        try Check.positive(sensitivity, "sensitivity", hint: "Pass the L2 sensitivity Delta > 0.")
        try Check.positive(sigma, "sigma", hint: "Pass the noise standard deviation > 0.")
        try Check.delta(delta)
        let s = sigma / sensitivity
        let target = log(delta)
        guard logGaussianDelta(sigma: s, epsilon: 0) > target else { return 0 }
        var lo = 0.0
        var hi = 1.0
        while logGaussianDelta(sigma: s, epsilon: hi) > target {
            lo = hi
            hi *= 2
            guard hi < 1e6 else {
                throw .computationTooLarge(
                    name: "sigma", detail: "epsilon exceeds 1e6 for sigma / sensitivity = \(s)")
            }
        }
        while hi - lo > 1e-12 * hi {
            let mid = 0.5 * (lo + hi)
            if logGaussianDelta(sigma: s, epsilon: mid) <= target { hi = mid } else { lo = mid }
        }
        return hi
    }

    /// log delta(eps) of the Gaussian mechanism with sensitivity 1 and noise s (arXiv:1805.06530
    /// Eq. 6); -inf when the mechanism is (eps, 0)-DP to rounding.
    static func logGaussianDelta(sigma s: Double, epsilon eps: Double) -> Double {
        let tStar = eps * s + 1 / (2 * s)
        let x = Special.logNdtr(1 / s - tStar)
        let y = eps + Special.logNdtr(-tStar)
        return y <= x ? x + log1p(-exp(y - x)) : -.infinity
    }

    static func unitAnalyticSigma(epsilon: Double, delta: Double) -> Double {
        let target = log(delta)
        var lo = 0.1
        var hi = 1.0
        while logGaussianDelta(sigma: lo, epsilon: epsilon) < target {
            hi = lo
            lo /= 10
        }
        while logGaussianDelta(sigma: hi, epsilon: epsilon) > target {
            lo = hi
            hi *= 10
        }
        while hi - lo > 1e-12 * hi {
            let mid = 0.5 * (lo + hi)
            if logGaussianDelta(sigma: mid, epsilon: epsilon) <= target {
                hi = mid
            } else {
                lo = mid
            }
        }
        return hi
    }
}
