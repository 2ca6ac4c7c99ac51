import Foundation

/// Mean and confidence interval of a small sample of per-seed measurements.
public struct SampleSummary: Sendable, Codable, Equatable {
    public let mean: Double
    /// Sample standard deviation (n - 1 denominator); 0 for fewer than two values.
    public let standardDeviation: Double
    public let count: Int
    /// Two-sided Student-t confidence interval for the mean. With fewer than two values the
    /// interval collapses to the mean (no variance estimate exists).
    public let lower: Double
    public let upper: Double
    public let confidence: Double

    /// `[lower, upper]`, the form the JSON output uses.
    public var interval: [Double] { [lower, upper] }
    /// Half the interval's width.
    public var halfWidth: Double { (upper - lower) / 2 }
}

/// Distribution functions the attacks and their evaluation need: the normal quantile (QBI's bias,
/// RtF's bins) and Student-t quantiles (confidence intervals over seeds).
public enum Statistics {
    /// Phi^-1(p), the standard normal quantile, for p in (0, 1). Acklam's rational approximation
    /// (relative error 1.15e-9) refined by one Halley step on `erfc`, so the result is accurate to
    /// about double precision. Returns -inf / +inf at p = 0 / 1 and NaN outside [0, 1].
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        func poly(_ k: [Double], _ t: Double) -> Double { k.reduce(0) { $0 * t + $1 } }
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = poly(c, q) / (poly(d, q) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x = poly(a, r) * q / (poly(b, r) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -poly(c, q) / (poly(d, q) * q + 1)
        }
        let e: Double = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u: Double = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// Phi(x), the standard normal distribution function.
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz;
    /// Numerical Recipes 6.4). Accurate to about 1e-14 for the arguments the t quantile uses.
    public static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        guard x > 0 else { return 0 }
        guard x < 1 else { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logGammas + a * log(x) + b * log(1 - x)
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let m = Double(m)
            var num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) * f / a
    }

    /// The Student-t distribution function with `nu` degrees of freedom.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Int) -> Double {
        let v = Double(nu)
        let tail = 0.5 * regularizedIncompleteBeta(v / (v + t * t), v / 2, 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The Student-t quantile t_{p, nu} for p in (0, 1), by bisection on `studentTCDF` (60 halvings
    /// of [-1e4, 1e4], far below the precision any interval is printed with).
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Int) -> Double {
        precondition(nu >= 1 && p > 0 && p < 1, "t quantile needs nu >= 1 and p in (0, 1)")
        var lo = -1e4, hi = 1e4
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if studentTCDF(mid, degreesOfFreedom: nu) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Mean, sample standard deviation and the two-sided Student-t interval
    /// `mean +- t_{(1+c)/2, n-1} * s / sqrt(n)` at confidence `c`.
    public static func summarize(_ values: [Double], confidence: Double = 0.95) -> SampleSummary {
        let n = values.count
        guard n > 0 else {
            return SampleSummary(mean: .nan, standardDeviation: .nan, count: 0, lower: .nan, upper: .nan,
                                 confidence: confidence)
        }
        let mean = values.reduce(0, +) / Double(n)
        guard n > 1 else {
            return SampleSummary(mean: mean, standardDeviation: 0, count: 1, lower: mean, upper: mean,
                                 confidence: confidence)
        }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let s = variance.squareRoot()
        let half = studentTQuantile((1 + confidence) / 2, degreesOfFreedom: n - 1) * s / Double(n).squareRoot()
        return SampleSummary(mean: mean, standardDeviation: s, count: n, lower: mean - half, upper: mean + half,
                             confidence: confidence)
    }
}
