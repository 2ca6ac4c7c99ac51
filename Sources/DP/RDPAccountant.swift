#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Renyi-DP accountant for the Poisson-subsampled Gaussian mechanism.
///
/// The per-step RDP at order alpha is log(A_alpha) / (alpha - 1) (Mironov, Talwar & Zhang 2019,
/// "Renyi Differential Privacy of the Sampled Gaussian Mechanism", arXiv:1908.10530), RDP composes
/// additively over steps (Mironov 2017), and the conversion to (epsilon, delta) is the improved
/// bound of Balle et al. 2020 ("Hypothesis Testing Interpretations and Renyi Differential
/// Privacy", arXiv:2004.00010, Prop. 12) taken at the best order. Every formula, threshold and
/// order list mirrors Google's dp_accounting (`rdp/rdp_privacy_accountant.py`), so the results
/// agree with it to rounding error.
public struct RDPAccountant: PrivacyAccountant, Sendable, Hashable {
    /// dp_accounting's default orders: 1.1, 1.2, ..., 10.9 and then 12, 13, ..., 63. Computed as
    /// `1 + x / 10` exactly as the reference does, so that e.g. the order 4.0 is recognised as an
    /// integer and takes the binomial-expansion path there too.
    public static let defaultOrders: [Double] =
        (1..<100).map { 1 + Double($0) / 10 } + (12..<64).map { Double($0) }

    /// The Renyi orders at which RDP is tracked (all >= 1).
    public let orders: [Double]

    public var kind: AccountantKind { .rdp }

    /// An accountant over dp_accounting's default orders.
    public init() {
        orders = RDPAccountant.defaultOrders
    }

    /// An accountant over custom orders (each must be a finite number > 1).
    public init(orders: [Double]) throws(DPError) {
        guard !orders.isEmpty else {
            throw .invalidParameter(
                name: "orders", value: "[]", requirement: "must not be empty",
                hint: "Use RDPAccountant.defaultOrders.")
        }
        for alpha in orders where !(alpha.isFinite && alpha > 1) {
            throw .invalidParameter(
                name: "orders", value: "\(alpha)",
                requirement: "every order must be finite and > 1",
                hint: "Use RDPAccountant.defaultOrders.")
        }
        self.orders = orders
    }

    public func guarantee(
        for mechanism: PoissonSampledGaussian, delta: Double
    ) throws(DPError)
        -> PrivacyGuarantee
    {
        try Check.delta(delta)
        let (eps, order) = RDPAccountant.epsilon(
            orders: orders, rdp: rdp(of: mechanism), delta: delta)
        return PrivacyGuarantee(accountant: .rdp, epsilon: eps, delta: delta, order: order)
    }

    /// The RDP of the whole run at each of `orders`: steps times the per-step RDP (additive
    /// composition). An entry is +infinity where the per-step series did not converge; such
    /// orders are then never chosen by the conversion.
    public func rdp(of mechanism: PoissonSampledGaussian) -> [Double] {
        let count = Double(mechanism.steps)
        return orders.map {
            count
                * RDPAccountant.sampledGaussianRDP(
                    q: mechanism.samplingRate, sigma: mechanism.noiseMultiplier, order: $0)
        }
    }

    /// Per-step RDP of the Poisson-subsampled Gaussian mechanism at one order
    /// (dp_accounting `_compute_rdp_poisson_subsampled_gaussian`). Without subsampling (q = 1) it
    /// is the Gaussian mechanism's alpha / (2 sigma^2).
    public static func sampledGaussianRDP(q: Double, sigma: Double, order alpha: Double) -> Double {
        if q == 0 { return 0 }
        if alpha.isInfinite || sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA: Double
        if alpha.rounded(.towardZero) == alpha, alpha < Double(Int.max) {
            logA = logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
        } else {
            logA = logAFractional(q: q, sigma: sigma, alpha: alpha)
        }
        return logA / (alpha - 1)
    }

    /// log(A_alpha) for integer alpha by the binomial expansion
    /// A_alpha = sum_i C(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2)),
    /// summed in log space because the exponentials overflow long before A does
    /// (arXiv:1908.10530, Sec. 3.2; dp_accounting `_compute_log_a_int`).
    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        let logQ = log(q)
        let log1mq = log1p(-q)
        let twoSigma2 = 2 * (sigma * sigma)
        let a = Double(alpha)
        for i in 0...alpha {
            let di = Double(i)
            let logCoef = Special.logComb(a, di) + di * logQ + (a - di) * log1mq
            let s = logCoef + (di * di - di) / twoSigma2
            logA = Special.logAdd(logA, s)
        }
        return logA
    }

    /// Iteration cap of the fractional-order series (dp_accounting `_MAX_STEPS_LOG_A_FRAC`).
    static let maxStepsFractional = 1000

    /// log(A_alpha) for fractional alpha: A is split into the integrals over (-inf, z0] and
    /// [z0, inf), with z0 = sigma^2 log(1/q - 1) + 1/2, each expanded as a series whose terms carry
    /// erfc factors, all kept in log space (arXiv:1908.10530, Sec. 3.3; dp_accounting
    /// `_compute_log_a_frac`). The series stops once both parts' terms decrease and are 30 nats
    /// below the total; if that never happens within 1000 terms the order is excluded (+inf),
    /// as the reference does.
    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity
        var logA1 = -Double.infinity
        let sigma2 = sigma * sigma
        let z0 = sigma2 * log(1 / q - 1) + 0.5
        let logQ = log(q)
        let log1mq = log1p(-q)
        let logHalf = log(0.5)
        let erfcScale = Special.sqrt2 * sigma
        var lastS0 = -Double.infinity
        var lastS1 = -Double.infinity
        for step in 0..<maxStepsFractional {
            let i = Double(step)
            let logCoef = Special.logComb(alpha, i)
            let j = alpha - i
            let logT0 = logCoef + i * logQ + j * log1mq
            let logT1 = logCoef + j * logQ + i * log1mq
            let logE0 = logHalf + Special.logErfc((i - z0) / erfcScale)
            let logE1 = logHalf + Special.logErfc((z0 - j) / erfcScale)
            let logS0 = logT0 + (i * i - i) / (2 * sigma2) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma2) + logE1
            logA0 = Special.logAdd(logA0, logS0)
            logA1 = Special.logAdd(logA1, logS1)
            let total = Special.logAdd(logA0, logA1)
            if logS0 < lastS0, logS1 < lastS1, max(logS0, logS1) < total - 30 {
                return total
            }
            lastS0 = logS0
            lastS1 = logS1
        }
        return .infinity
    }

    /// Converts RDP values to the smallest epsilon for `delta` over the given orders, returning it
    /// with the order that achieved it (dp_accounting `compute_epsilon`).
    ///
    /// Per order: if delta^2 > 1 - exp(-rdp), the KL bound delta <= sqrt(1 - exp(-KL)) already
    /// gives epsilon = 0; else for alpha > 1.01 the bound of Balle et al. 2020 (Prop. 12)
    /// epsilon = rdp + log(1 - 1/alpha) - log(delta * alpha) / (alpha - 1); orders at or below
    /// 1.01 are skipped because that bound is numerically unstable as alpha -> 1.
    public static func epsilon(
        orders: [Double], rdp: [Double], delta: Double
    ) -> (
        epsilon: Double, order: Double
    ) {
        var bestIndex = -1
        var best = Double.infinity
        for (index, (alpha, r)) in zip(orders, rdp).enumerated() {
            let eps: Double
            if r < 0 {
                eps = 0
            } else if delta * delta + expm1(-r) > 0 {
                eps = 0
            } else if alpha > 1.01 {
                eps = r + log1p(-1 / alpha) - log(delta * alpha) / (alpha - 1)
            } else {
                eps = .infinity
            }
            // Strict "<" keeps the first minimum, as numpy's argmin does.
            if bestIndex < 0 || eps < best {
                best = eps
                bestIndex = index
            }
        }
        return (max(0, best), bestIndex < 0 ? .nan : orders[bestIndex])
    }
}
