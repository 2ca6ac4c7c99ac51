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

/// Special functions and distribution quantiles in Double precision, shared by the audits
/// (binomial tails and Clopper-Pearson intervals), the attacks (QBI's bias and RtF's bins use the
/// normal quantile) and every summary over seeds (Student-t intervals).
public enum Statistics {
    /// The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b) for a, b > 0 and
    /// x in [0, 1].
    ///
    /// Evaluated with the continued fraction of Numerical Recipes (3rd ed., Sec. 6.4, Eq. 6.4.5)
    /// by the modified Lentz method (Lentz 1976; Thompson & Barnett 1986), applied directly when
    /// x < (a + 1) / (a + b + 2), where it converges in O(sqrt(max(a, b))) terms, and through the
    /// symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise. The prefactor x^a (1-x)^b / (a B(a, b))
    /// is computed in log space with `lgamma`, so large a and b (binomial tails with r in the
    /// thousands) neither overflow nor underflow prematurely. Relative accuracy about 1e-14.
    /// Returns NaN for parameters outside the domain.
    public static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        guard a > 0, b > 0, a.isFinite, b.isFinite, x >= 0, x <= 1 else { return .nan }
        if x == 0 { return 0 }
        if x == 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaContinuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * betaContinuedFraction(x: 1 - x, a: b, b: a) / b
    }

    /// The continued fraction for I_x(a, b) (Numerical Recipes `betacf`), modified Lentz.
    static func betaContinuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        let eps = 1e-15
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        let maxTerms = 10_000 + Int(10 * max(a, b).squareRoot())
        for m in 1...maxTerms {
            let mm = Double(m), m2 = 2 * mm
            var aa = mm * (b - mm) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + mm) * (qab + mm) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < eps { break }
        }
        return h
    }

    /// The p-quantile of Beta(a, b): the x with I_x(a, b) = p. Newton's method on I_x (whose
    /// derivative is the Beta density, cheap in log space) inside a bracket that every step
    /// shrinks; a step that leaves the bracket is replaced by bisection, so it converges like
    /// bisection at worst (to an absolute width of 1e-15) and quadratically near the root, in about
    /// 5-8 incomplete-beta evaluations instead of 50.
    public static func betaQuantile(_ p: Double, a: Double, b: Double) -> Double {
        guard p > 0 else { return 0 }
        guard p < 1 else { return 1 }
        guard a > 0, b > 0, a.isFinite, b.isFinite else { return .nan }
        let logNorm = lgamma(a + b) - lgamma(a) - lgamma(b)
        var lo = 0.0, hi = 1.0
        var x = a / (a + b)
        for _ in 0..<300 {
            let f = regularizedIncompleteBeta(x: x, a: a, b: b) - p
            if f == 0 { return x }
            if f < 0 { lo = x } else { hi = x }
            if hi - lo < 1e-15 { break }
            let density = exp(logNorm + (a - 1) * log(x) + (b - 1) * log1p(-x))
            var next = x - f / density
            if !(next > lo && next < hi) || !next.isFinite { next = 0.5 * (lo + hi) }
            if abs(next - x) <= 1e-15 * max(x, 1e-300) { return next }
            x = next
        }
        return 0.5 * (lo + hi)
    }

    /// P[Binomial(n, p) >= k] = I_p(k, n - k + 1) for 1 <= k <= n; 1 for k <= 0; 0 for k > n.
    public static func binomialUpperTail(atLeast k: Int, trials n: Int, probability p: Double) -> Double {
        if k <= 0 { return 1 }
        if k > n { return 0 }
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        return regularizedIncompleteBeta(x: p, a: Double(k), b: Double(n - k + 1))
    }

    /// P[Binomial(n, p) = k], evaluated in log space. O(1).
    public static func binomialPMF(_ k: Int, trials n: Int, probability p: Double) -> Double {
        guard k >= 0, k <= n else { return 0 }
        if p <= 0 { return k == 0 ? 1 : 0 }
        if p >= 1 { return k == n ? 1 : 0 }
        let (nd, kd) = (Double(n), Double(k))
        let logC = lgamma(nd + 1) - lgamma(kd + 1) - lgamma(nd - kd + 1)
        return exp(logC + kd * log(p) + (nd - kd) * log1p(-p))
    }

    /// Standard normal CDF.
    public static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// Phi^-1(p), the standard normal quantile, for p in (0, 1). Acklam's rational approximation
    /// (relative error 1.15e-9) refined by two Halley steps on Phi - p, with the residual taken in
    /// the smaller tail so it keeps its relative precision: double precision even for p ~ 1e-300
    /// (the privacy accountants need those tails). Returns -inf / +inf at p = 0 / 1 and NaN
    /// outside [0, 1].
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
        ]
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
            let q = (-2 * log1p(-p)).squareRoot()
            x = -poly(c, q) / (poly(d, q) * q + 1)
        }
        /// Phi(z) by erf near 0 and erfc in the tails (scipy's `ndtr`).
        func phi(_ z: Double) -> Double {
            let t = z / 2.0.squareRoot()
            if abs(t) < 1 / 2.0.squareRoot() { return 0.5 + 0.5 * erf(t) }
            return t > 0 ? 1 - 0.5 * erfc(t) : 0.5 * erfc(-t)
        }
        for _ in 0..<2 {
            let e = x < 0 ? phi(x) - p : (1 - p) - phi(-x)
            let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    /// The Student-t distribution function with `nu` degrees of freedom.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Int) -> Double {
        let v = Double(nu)
        let tail = 0.5 * regularizedIncompleteBeta(x: v / (v + t * t), a: v / 2, b: 0.5)
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
            return SampleSummary(
                mean: .nan, standardDeviation: .nan, count: 0, lower: .nan, upper: .nan,
                confidence: confidence)
        }
        let mean = values.reduce(0, +) / Double(n)
        guard n > 1 else {
            return SampleSummary(
                mean: mean, standardDeviation: 0, count: 1, lower: mean, upper: mean,
                confidence: confidence)
        }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let s = variance.squareRoot()
        let half = studentTQuantile((1 + confidence) / 2, degreesOfFreedom: n - 1) * s / Double(n).squareRoot()
        return SampleSummary(
            mean: mean, standardDeviation: s, count: n, lower: mean - half, upper: mean + half,
            confidence: confidence)
    }
}
