#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Privacy-loss-distribution accountant for the Poisson-subsampled Gaussian mechanism.
///
/// The privacy loss of one step is discretized on a grid of width `valueDiscretizationInterval`
/// with the pessimistic "connect the dots" construction (Doroshenko, Ghazi, Kamath, Kumar &
/// Manurangsi 2022, arXiv:2207.04380, Algorithm 1), composed T times by FFT (Koskela, Jälkö &
/// Honkela 2020; Meiser & Mohammadi 2018), and turned into the smallest epsilon whose hockey-stick
/// divergence is at most delta. As in Google's dp_accounting (`pld/`), subsampling makes the
/// add and remove neighbouring relations differ, so both PLDs are built and the larger epsilon is
/// reported. Truncation choices (noise tails below e^-50, 1e-15 tail mass in composition, the
/// Chernoff bounds that size the FFT) follow the reference, and every piece of truncated mass is
/// moved to the pessimistic side, so the result is an upper bound on the true epsilon.
public struct PLDAccountant: PrivacyAccountant, Sendable, Hashable {
    /// Width of the privacy-loss grid; dp_accounting's default is 1e-4. Smaller is tighter and
    /// slower (the grid size and FFT length grow as 1 / interval).
    public let valueDiscretizationInterval: Double

    /// Mass of the noise distribution's tails that is moved to the +infinity loss (as a log);
    /// dp_accounting's `log_mass_truncation_bound` default.
    static let logMassTruncationBound = -50.0
    /// Tail mass that composition may truncate (dp_accounting's `tail_mass_truncation`).
    static let tailMassTruncation = 1e-15
    /// Size caps (2^22 grid points for one step, 2^23 FFT points for the composition, about
    /// 200 MB at most). Tiny sigmas or huge step counts would otherwise allocate gigabytes, as
    /// the reference does; past the caps the accountant throws and the caller can use RDP.
    static let maxGridPoints = 1 << 22
    static let maxFFTSize = 1 << 23

    public var kind: AccountantKind { .pld }

    /// An accountant with the reference's default grid (1e-4).
    public init() {
        valueDiscretizationInterval = 1e-4
    }

    /// An accountant with a custom grid width in (0, 1].
    public init(valueDiscretizationInterval: Double) throws(DPError) {
        guard valueDiscretizationInterval.isFinite, valueDiscretizationInterval > 0,
            valueDiscretizationInterval <= 1
        else {
            throw .invalidParameter(
                name: "value-discretization-interval", value: "\(valueDiscretizationInterval)",
                requirement: "must lie in (0, 1]", hint: "Use 1e-4 (the dp_accounting default).")
        }
        self.valueDiscretizationInterval = valueDiscretizationInterval
    }

    public func guarantee(
        for mechanism: PoissonSampledGaussian, delta: Double
    ) throws(DPError)
        -> PrivacyGuarantee
    {
        try Check.delta(delta)
        let eps = try composedPLDs(for: mechanism).map { $0.epsilon(forDelta: delta) }.max() ?? 0
        return PrivacyGuarantee(accountant: .pld, epsilon: eps, delta: delta, order: nil)
    }

    /// The smallest delta for which the composed mechanism is (epsilon, delta)-DP per this PLD
    /// (the hockey-stick divergence at epsilon, maximised over add and remove).
    public func delta(
        for mechanism: PoissonSampledGaussian, epsilon: Double
    ) throws(DPError)
        -> Double
    {
        guard epsilon.isFinite, epsilon >= 0 else {
            throw .invalidParameter(
                name: "epsilon", value: "\(epsilon)", requirement: "must be a finite number >= 0",
                hint: "Pass a non-negative epsilon such as 1.0.")
        }
        return try composedPLDs(for: mechanism).map { $0.delta(forEpsilon: epsilon) }.max() ?? 0
    }

    /// The T-fold composed, discretized PLDs: remove adjacency, plus add adjacency when q < 1
    /// (with q = 1 the two coincide; dp_accounting `_pld_for_subsampled_mechanism`).
    func composedPLDs(for mechanism: PoissonSampledGaussian) throws(DPError) -> [DiscretePLD] {
        let adjacencies: [GaussianPrivacyLoss.Adjacency] =
            mechanism.samplingRate == 1 ? [.remove] : [.remove, .add]
        var result: [DiscretePLD] = []
        for adjacency in adjacencies {
            let loss = GaussianPrivacyLoss(
                sigma: mechanism.noiseMultiplier, samplingRate: mechanism.samplingRate,
                adjacency: adjacency)
            let single = try DiscretePLD.connectTheDots(loss, interval: valueDiscretizationInterval)
            let composed = try single.selfComposed(
                mechanism.steps, tailMassTruncation: PLDAccountant.tailMassTruncation)
            result.append(composed.truncatingTails(PLDAccountant.tailMassTruncation))
        }
        return result
    }
}

/// Privacy loss of one step of the Poisson-subsampled Gaussian mechanism with sensitivity 1,
/// as a monotone (non-increasing) function of the output x (dp_accounting `GaussianPrivacyLoss`):
/// - remove: mu_upper = (1-q) N(0, s^2) + q N(-1, s^2), mu_lower = N(0, s^2);
/// - add:    mu_upper = N(0, s^2), mu_lower = (1-q) N(0, s^2) + q N(1, s^2).
struct GaussianPrivacyLoss: Sendable {
    enum Adjacency: Sendable { case add, remove }

    let sigma: Double
    let samplingRate: Double
    let adjacency: Adjacency

    /// Remove-adjacency loss without subsampling: (-1/2 - x) / sigma^2.
    private func lossWithoutSubsamplingRemove(_ x: Double) -> Double {
        (-0.5 - x) / (sigma * sigma)
    }

    /// Largest x with loss-without-subsampling (remove) >= l.
    private func inverseWithoutSubsamplingRemove(_ l: Double) -> Double {
        -0.5 - l * (sigma * sigma)
    }

    private func lossRemove(_ x: Double) -> Double {
        let l = lossWithoutSubsamplingRemove(x)
        if samplingRate == 1 { return l }
        return Special.logATimesExpBPlusC(samplingRate, l, 1 - samplingRate)
    }

    /// ln(mu_upper(x) / mu_lower(x)); by symmetry of the noise the add loss is -remove(-x).
    func privacyLoss(_ x: Double) -> Double {
        switch adjacency {
        case .remove: return lossRemove(x)
        case .add: return -lossRemove(-x)
        }
    }

    /// Python's `math.isclose` with its default relative tolerance, used at the same branch
    /// points as the reference.
    private func isClose(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }

    /// The largest x whose privacy loss is at least `l` (callers stay inside the loss's range).
    func inversePrivacyLoss(_ l: Double) -> Double {
        let q = samplingRate
        switch adjacency {
        case .remove:
            if q == 1 { return inverseWithoutSubsamplingRemove(l) }
            if isClose(l, log(1 - q)) { return inverseWithoutSubsamplingRemove(-.infinity) }
            let unsampled = Special.logATimesExpBPlusC(1 / q, l, 1 - 1 / q)
            return inverseWithoutSubsamplingRemove(unsampled)
        case .add:
            if q == 1 { return 1 + inverseWithoutSubsamplingRemove(l) }
            if isClose(l, -log(1 - q)) { return 1 + inverseWithoutSubsamplingRemove(.infinity) }
            let unsampled = -Special.logATimesExpBPlusC(1 / q, -l, 1 - 1 / q)
            return 1 + inverseWithoutSubsamplingRemove(unsampled)
        }
    }

    private func noiseCDF(_ x: Double) -> Double { Special.ndtr(x / sigma) }
    private func noiseLogCDF(_ x: Double) -> Double { Special.logNdtr(x / sigma) }

    func muUpperCDF(_ x: Double) -> Double {
        switch adjacency {
        case .add: return noiseCDF(x)
        case .remove:
            if samplingRate == 1 { return noiseCDF(x + 1) }
            return (1 - samplingRate) * noiseCDF(x) + samplingRate * noiseCDF(x + 1)
        }
    }

    func muLowerLogCDF(_ x: Double) -> Double {
        switch adjacency {
        case .remove: return noiseLogCDF(x)
        case .add:
            if samplingRate == 1 { return noiseLogCDF(x - 1) }
            return Special.logAdd(
                log1p(-samplingRate) + noiseLogCDF(x), log(samplingRate) + noiseLogCDF(x - 1))
        }
    }

    /// The epsilon-hockey-stick divergence of one step: mu_upper(X <= x) - e^eps mu_lower(X <= x)
    /// at x = inverse loss(eps), which is exact because the loss is monotone in x. Outside the
    /// loss's range it has closed forms (0 for add above -log(1-q), 1 - e^eps for remove below
    /// log(1-q)). Clipped to [0, 1] against rounding.
    func delta(forEpsilon eps: Double) -> Double {
        let q = samplingRate
        var result: Double
        switch (adjacency, q == 1) {
        case (_, true):
            result = hockeyStick(eps)
        case (.add, false):
            result = eps < -log1p(-q) ? hockeyStick(eps) : 0
        case (.remove, false):
            result = eps > log1p(-q) ? hockeyStick(eps) : -expm1(eps)
        }
        result = min(max(result, 0), 1)
        return result
    }

    private func hockeyStick(_ eps: Double) -> Double {
        let x = inversePrivacyLoss(eps)
        return muUpperCDF(x) - exp(eps + muLowerLogCDF(x))
    }

    /// The loss range the discretization covers: the loss at the x truncation points, where each
    /// noise tail beyond holds 0.5 e^-50 of mass (dp_accounting `privacy_loss_tail` and
    /// `connect_dots_bounds`).
    func connectDotsBounds() -> (epsilonLower: Double, epsilonUpper: Double) {
        var lowerX = sigma * Special.ndtri(0.5 * exp(PLDAccountant.logMassTruncationBound))
        var upperX = -lowerX
        switch adjacency {
        case .add: upperX += 1
        case .remove: lowerX -= 1
        }
        return (privacyLoss(upperX), privacyLoss(lowerX))
    }
}

/// A privacy loss PMF on the grid {k * interval}: `probs[i]` is the mass at loss
/// (lowerLoss + i) * interval, and `infinityMass` the mass at +infinity.
struct DiscretePLD: Sendable {
    var lowerLoss: Int
    var probs: [Double]
    var infinityMass: Double
    let interval: Double

    /// Pessimistic connect-the-dots discretization on a fixed gap (arXiv:2207.04380, Alg. 1;
    /// dp_accounting `create_pmf_pessimistic_connect_dots_fixed_gap`): with delta_i the exact
    /// hockey-stick divergence at eps_i = i * interval, the masses are chosen so that the
    /// discrete PLD's divergence interpolates the delta_i from above (the "dots" are connected in
    /// the convex-conjugate sense).
    static func connectTheDots(
        _ loss: GaussianPrivacyLoss, interval d: Double
    ) throws(DPError)
        -> DiscretePLD
    {
        let bounds = loss.connectDotsBounds()
        let upperScaled = (bounds.epsilonUpper / d).rounded(.up)
        let lowerScaled = (bounds.epsilonLower / d).rounded(.down)
        guard upperScaled - lowerScaled < Double(PLDAccountant.maxGridPoints) else {
            throw .computationTooLarge(
                name: "sigma",
                detail: "one step's privacy loss spans [\(bounds.epsilonLower), "
                    + "\(bounds.epsilonUpper)], more than \(PLDAccountant.maxGridPoints) grid "
                    + "points of \(d); use the RDP accountant or a larger sigma")
        }
        let upper = Int(upperScaled)
        let lower = Int(lowerScaled)
        let n = upper - lower + 1
        var deltas = [Double](repeating: 0, count: n)
        for k in 0..<n {
            deltas[k] = loss.delta(forEpsilon: Double(lower + k) * d)
        }
        if n == 1 {
            return DiscretePLD(
                lowerLoss: lower, probs: [1 - deltas[0]], infinityMass: deltas[0], interval: d)
        }
        // The divergence is non-increasing in epsilon; remove rounding wiggles.
        for k in 1..<n where deltas[k] > deltas[k - 1] {
            deltas[k] = deltas[k - 1]
        }
        let em1 = expm1(d)
        let ed = exp(d)
        var probs = [Double](repeating: 0, count: n)
        probs[0] = 1 - deltas[0] + (deltas[1] - deltas[0]) / em1
        if n > 2 {
            for i in 1..<(n - 1) {
                probs[i] = ((deltas[i + 1] - deltas[i]) - (deltas[i] - deltas[i - 1]) * ed) / em1
            }
        }
        probs[n - 1] = (deltas[n - 1] - deltas[n - 2]) / expm1(-d)
        for i in 0..<n where !(probs[i] > 0) {
            probs[i] = 0
        }
        return DiscretePLD(lowerLoss: lower, probs: probs, infinityMass: deltas[n - 1], interval: d)
    }

    /// Chernoff bounds on the index range of the T-fold self-convolution outside which at most
    /// `tail` mass lies (dp_accounting `common.compute_self_convolve_bounds`, orders
    /// +-1..20 / size): for t > 0, P[S >= b] <= exp(T log M(t) - t b), and likewise below.
    func selfConvolveBounds(_ times: Int, tail: Double) -> (lower: Int, upper: Int) {
        let n = probs.count
        var upperBound = (n - 1) * times
        var lowerBound = 0
        if tail == 0 { return (lowerBound, upperBound) }
        let logTwoOverTail = log(2 / tail)
        for o in 1...20 {
            for sign in [-1.0, 1.0] {
                let order = sign * Double(o) / Double(n)
                // log sum_i p_i e^{i t}, shifted so every factor is <= 1 (no overflow):
                // for t > 0 factor out e^{(n-1) t}, for t < 0 nothing.
                let shift = order > 0 ? Double(n - 1) * order : 0
                let step = exp(-abs(order))
                var factor = 1.0
                var sum = 0.0
                if order > 0 {
                    for i in stride(from: n - 1, through: 0, by: -1) {
                        sum += probs[i] * factor
                        factor *= step
                    }
                } else {
                    for i in 0..<n {
                        sum += probs[i] * factor
                        factor *= step
                    }
                }
                let logMGF = log(sum) + shift
                let bound = (Double(times) * logMGF + logTwoOverTail) / order
                guard bound.isFinite else { continue }
                if order > 0 {
                    upperBound = min(upperBound, Int(bound.rounded(.up)))
                } else {
                    lowerBound = max(lowerBound, Int(bound.rounded(.down)))
                }
            }
        }
        return (lowerBound, upperBound)
    }

    /// The PLD of `times` independent compositions: the T-fold convolution ifft(fft(p)^T),
    /// restricted to the Chernoff range (the FFT's wrap-around only aliases the < `tail` mass
    /// outside it). The infinity mass becomes 1 - (1 - m)^T, plus `tail` for what was cut
    /// (dp_accounting `DensePLDPmf.self_compose`).
    func selfComposed(
        _ times: Int, tailMassTruncation tail: Double
    ) throws(DPError)
        -> DiscretePLD
    {
        let (lower, upper) = selfConvolveBounds(times, tail: tail)
        let outputCount = upper - lower + 1
        guard outputCount <= PLDAccountant.maxFFTSize else {
            throw .computationTooLarge(
                name: "steps",
                detail: "the composed privacy loss needs \(outputCount) grid points (limit "
                    + "\(PLDAccountant.maxFFTSize)); use the RDP accountant")
        }
        let size = FFT.powerOfTwo(atLeast: max(outputCount, probs.count))
        let fft = FFT(size: size)
        var re = [Double](repeating: 0, count: size)
        var im = [Double](repeating: 0, count: size)
        for i in 0..<probs.count { re[i] = probs[i] }
        fft.transform(re: &re, im: &im, inverse: false)
        for k in 0..<size {
            (re[k], im[k]) = DiscretePLD.complexPower(re[k], im[k], times)
        }
        fft.transform(re: &re, im: &im, inverse: true)
        var out = [Double](repeating: 0, count: outputCount)
        let offset = ((lower % size) + size) % size
        for i in 0..<outputCount {
            out[i] = re[(i + offset) & (size - 1)]
        }
        let infinity = tail - expm1(Double(times) * log1p(-infinityMass))
        return DiscretePLD(
            lowerLoss: lowerLoss * times + lower, probs: out, infinityMass: infinity,
            interval: interval)
    }

    /// (re + i im)^n by binary exponentiation: 2 log2(n) complex products, cheaper than the polar
    /// form's transcendental calls and as accurate (relative error O(log n) ulps per product).
    @inline(__always)
    static func complexPower(_ re: Double, _ im: Double, _ n: Int) -> (Double, Double) {
        var rr = 1.0
        var ri = 0.0
        var br = re
        var bi = im
        var e = n
        while e > 0 {
            if e & 1 == 1 {
                (rr, ri) = (rr * br - ri * bi, rr * bi + ri * br)
            }
            e >>= 1
            if e > 0 {
                (br, bi) = (br * br - bi * bi, 2 * br * bi)
            }
        }
        return (rr, ri)
    }

    /// Cuts at most tail/2 of mass from each end: the left mass is added to the first kept loss
    /// and the right mass to +infinity, both pessimistic (dp_accounting `_truncate_tails`, applied
    /// when the accountant composes the new PLD into its running one).
    func truncatingTails(_ tail: Double) -> DiscretePLD {
        let n = probs.count
        if tail == 0 || n == 0 { return self }
        func prefixCount<C: Collection>(_ values: C) -> Int where C.Element == Double {
            var sum = 0.0
            var count = 0
            for v in values {
                sum += v
                if sum > tail / 2 { return count }
                count += 1
            }
            return count
        }
        let left = prefixCount(probs)
        let right = max(n - prefixCount(probs.reversed()), left + 1)
        let leftMass = probs[..<left].reduce(0, +)
        let rightMass = right < n ? probs[right...].reduce(0, +) : 0
        var kept = Array(probs[left..<min(right, n)])
        if kept.isEmpty { kept = [0] }
        kept[0] += leftMass
        return DiscretePLD(
            lowerLoss: lowerLoss + left, probs: kept, infinityMass: infinityMass + rightMass,
            interval: interval)
    }

    /// The smallest epsilon >= 0 whose hockey-stick divergence is at most delta, scanning losses
    /// from the top while accumulating mu_upper and mu_lower mass above the candidate epsilon
    /// (dp_accounting `_get_epsilon_for_delta`). Infinite if the +infinity mass alone exceeds
    /// delta.
    func epsilon(forDelta delta: Double) -> Double {
        if infinityMass > delta { return .infinity }
        var massUpper = infinityMass
        var massLower = 0.0
        for k in stride(from: probs.count - 1, through: 0, by: -1) {
            let loss = Double(lowerLoss + k) * interval
            if massUpper > delta, massLower > 0, log((massUpper - delta) / massLower) >= loss {
                break
            }
            let p = probs[k]
            massUpper += p
            massLower += exp(-loss) * p
            if massUpper >= delta, massLower == 0 {
                return max(0, loss)
            }
        }
        if massUpper <= massLower + delta { return 0 }
        return log((massUpper - delta) / massLower)
    }

    /// The hockey-stick divergence at epsilon: infinity mass + sum over losses > eps of
    /// (1 - e^{eps - loss}) p (dp_accounting `_get_delta_for_epsilon`).
    func delta(forEpsilon eps: Double) -> Double {
        var result = infinityMass
        for k in 0..<probs.count {
            let loss = Double(lowerLoss + k) * interval
            if loss > eps {
                result += -expm1(eps - loss) * probs[k]
            }
        }
        return result
    }
}
