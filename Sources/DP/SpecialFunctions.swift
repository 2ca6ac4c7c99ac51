import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scalar special functions the accountants need, written so that they stay accurate in the far
/// tails (probabilities down to 1e-300), because privacy losses live in those tails.
///
/// The tail behaviour follows scipy.special (`ndtr`, `log_ndtr`, `gammaln`), which Google's
/// dp_accounting uses; matching it is what lets our epsilons agree with the reference to 1e-6.
enum Special {
    static let sqrt2 = 1.4142135623730951
    static let ln2 = 0.6931471805599453
    static let logSqrt2Pi = 0.9189385332046728

    /// log(exp(a) + exp(b)) without overflow; -inf is the log of zero.
    @inline(__always)
    static func logAdd(_ a: Double, _ b: Double) -> Double {
        let lo = min(a, b)
        let hi = max(a, b)
        if lo == -.infinity { return hi }
        return log1p(exp(lo - hi)) + hi
    }

    /// log(exp(a) - exp(b)) for a > b.
    @inline(__always)
    static func logSub(_ a: Double, _ b: Double) -> Double {
        if b == -.infinity { return a }
        return a + log1p(-exp(b - a))
    }

    /// log of the generalized binomial coefficient
    /// C(n, k) = Gamma(n+1) / (Gamma(k+1) Gamma(n-k+1)),
    /// using log|Gamma| as scipy's gammaln does (dp_accounting's `_log_comb`). For fractional n
    /// and k > n + 1 the coefficient can be negative; like the reference, only its magnitude is
    /// used, which is what the series of Mironov et al. (2019, Sec. 3.3) bounds.
    @inline(__always)
    static func logComb(_ n: Double, _ k: Double) -> Double {
        lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
    }

    /// Standard normal CDF Phi(x), accurate in both tails (cephes/scipy `ndtr`).
    static func ndtr(_ a: Double) -> Double {
        if a.isNaN { return .nan }
        let x = a / sqrt2
        let z = abs(x)
        if z < 1 / sqrt2 { return 0.5 + 0.5 * erf(x) }
        let y = 0.5 * erfc(z)
        return x > 0 ? 1 - y : y
    }

    /// log Phi(x), accurate for very negative x where Phi(x) underflows (scipy `log_ndtr`):
    /// log1p(-Phi(-x)) on the right, log(Phi(x)) in the middle, and the asymptotic series
    /// Phi(x) ~ phi(x)/(-x) * (1 - 1/x^2 + 3/x^4 - ...) below -20.
    static func logNdtr(_ a: Double) -> Double {
        if a.isNaN { return .nan }
        if a > 6 { return -ndtr(-a) }
        if a > -20 { return log(ndtr(a)) }
        let logLHS = -0.5 * a * a - log(-a) - logSqrt2Pi
        var lastTotal = 0.0
        var rhs = 1.0
        var numerator = 1.0
        var denomFactor = 1.0
        let denomCons = 1 / (a * a)
        var sign = 1.0
        var i = 0.0
        while abs(lastTotal - rhs) > Double.ulpOfOne {
            i += 1
            lastTotal = rhs
            sign = -sign
            denomFactor *= denomCons
            numerator *= 2 * i - 1
            rhs += sign * numerator * denomFactor
        }
        return logLHS + log(rhs)
    }

    /// log(erfc(x)), accurate for large x (dp_accounting `_log_erfc`: log 2 + log_ndtr(-x sqrt 2)).
    @inline(__always)
    static func logErfc(_ x: Double) -> Double {
        ln2 + logNdtr(-x * sqrt2)
    }

    /// Inverse of the standard normal CDF for p in (0, 1), double precision even for p ~ 1e-300
    /// (Support's `Statistics.normalQuantile`).
    static func ndtri(_ p: Double) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        return Statistics.normalQuantile(p)
    }

    /// log(a * exp(b) + c), assuming the result is defined (dp_accounting
    /// `common.log_a_times_exp_b_plus_c`).
    static func logATimesExpBPlusC(_ a: Double, _ b: Double, _ c: Double) -> Double {
        if a == 0 { return log(c) }
        if a < 0 { return logSub(log(c), log(-a) + b) }
        if b == 0 { return log(a + c) }
        let d = b + log(a)
        if c == 0 { return d }
        if c < 0 { return logSub(d, log(-c)) }
        return logAdd(d, log(c))
    }
}
