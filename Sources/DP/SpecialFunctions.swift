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

    /// Inverse of the standard normal CDF for p in (0, 1): Acklam's rational approximation
    /// (relative error 1.15e-9) refined by two Halley steps against `ndtr`, which brings it to
    /// double precision even for p ~ 1e-300.
    static func ndtri(_ p: Double) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
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
        let d = [
            7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
            3.754408661907416e+00,
        ]
        let pLow = 0.02425
        var x: Double
        if p < pLow {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - pLow {
            let q = p - 0.5
            let r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log1p(-p)).squareRoot()
            x =
                -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        for _ in 0..<2 {
            // Halley step on f(x) = Phi(x) - p, with the residual taken in the smaller tail so
            // it keeps its relative precision.
            let e = x < 0 ? ndtr(x) - p : (1 - p) - ndtr(-x)
            let u = e * exp(0.5 * x * x + logSqrt2Pi)
            x -= u / (1 + 0.5 * x * u)
        }
        return x
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
