import Foundation

/// An empirical lower bound on epsilon from an attack's ROC curve, with the largest value the
/// sample sizes allow.
///
/// For a threshold with FP false positives among N non-members and FN false negatives among P
/// members, (epsilon, delta)-DP implies FPR + e^eps FNR >= 1 - delta and FNR + e^eps FPR >=
/// 1 - delta (Kairouz et al. 2015; used for auditing by Jagielski et al. 2020, "Auditing
/// Differentially Private Machine Learning: How Private is Private SGD?", and Nasr et al. 2021,
/// "Adversary Instantiation"). With Clopper-Pearson upper bounds FPR_ub and FNR_ub (two-sided,
/// confidence `confidence`) the bound is
///
///     eps_LB = max(ln((1 - delta - FNR_ub) / FPR_ub), ln((1 - delta - FPR_ub) / FNR_ub)),
///
/// clipped at 0. `bound` is the maximum over all thresholds of the curve. Choosing the best of
/// many thresholds on the same data is the common practice; strictly, the 95% guarantee holds for
/// a threshold fixed in advance (use `evaluate(at:)` with a threshold picked on held-out data for
/// a formally valid bound). `ceiling` is the bound of a perfect attack (FP = FN = 0) with these
/// sample sizes: no attack can certify more, so a bound near the ceiling means "at least this
/// much, possibly far more".
public struct EmpiricalEpsilon: Sendable, Equatable {
    public let bound: Double
    public let ceiling: Double
    public let delta: Double
    public let confidence: Double
    /// The threshold that attains `bound` (nil when the bound is 0).
    public let threshold: Double?
    /// FPR/FNR counts at that threshold.
    public let falsePositives: Int
    public let falseNegatives: Int

    /// Evaluates every threshold of `roc`. O(points + distinct counts * 60 beta evaluations).
    public init(roc: ROCCurve, delta: Double, confidence: Double = 0.95) throws(AuditError) {
        guard delta >= 0, delta < 1 else {
            throw .invalidParameter(name: "delta", value: "\(delta)", requirement: "must lie in [0, 1)")
        }
        var cache = UpperBoundCache(confidence: confidence)
        var best = 0.0
        var bestPoint: ROCPoint?
        for p in roc.points {
            let e = try EmpiricalEpsilon.epsilon(fp: p.falsePositives, negatives: roc.nonMembers, fn: p.falseNegatives,
                                                 positives: roc.members, delta: delta, cache: &cache)
            if e > best {
                best = e
                bestPoint = p
            }
        }
        bound = best
        ceiling = try EmpiricalEpsilon.epsilon(fp: 0, negatives: roc.nonMembers, fn: 0, positives: roc.members,
                                               delta: delta, cache: &cache)
        self.delta = delta
        self.confidence = confidence
        threshold = bestPoint?.threshold
        falsePositives = bestPoint?.falsePositives ?? 0
        falseNegatives = bestPoint?.falseNegatives ?? 0
    }

    /// The bound for one operating point: FP of `negatives`, FN of `positives`.
    public static func bound(falsePositives fp: Int, negatives: Int, falseNegatives fn: Int, positives: Int,
                             delta: Double, confidence: Double = 0.95) throws(AuditError) -> Double {
        var cache = UpperBoundCache(confidence: confidence)
        return try epsilon(fp: fp, negatives: negatives, fn: fn, positives: positives, delta: delta, cache: &cache)
    }

    /// The ceiling for `positives` members and `negatives` non-members (a perfect attack).
    public static func ceiling(positives: Int, negatives: Int, delta: Double, confidence: Double = 0.95) throws(AuditError) -> Double {
        try bound(falsePositives: 0, negatives: negatives, falseNegatives: 0, positives: positives, delta: delta, confidence: confidence)
    }

    static func epsilon(fp: Int, negatives: Int, fn: Int, positives: Int, delta: Double,
                        cache: inout UpperBoundCache) throws(AuditError) -> Double {
        let fprUB = try cache.upper(fp, negatives)
        let fnrUB = try cache.upper(fn, positives)
        let a = log((1 - delta - fnrUB) / fprUB)
        let b = log((1 - delta - fprUB) / fnrUB)
        let e = max(a.isNaN ? 0 : a, b.isNaN ? 0 : b)
        return max(e, 0)
    }
}

/// Memoized Clopper-Pearson upper bounds by (count, trials): a ROC curve revisits the same counts.
struct UpperBoundCache {
    let confidence: Double
    var values: [Int: [Int: Double]] = [:]

    init(confidence: Double) { self.confidence = confidence }

    mutating func upper(_ x: Int, _ n: Int) throws(AuditError) -> Double {
        if let v = values[n]?[x] { return v }
        let v = try ClopperPearson(successes: x, trials: n, confidence: confidence).upper
        values[n, default: [:]][x] = v
        return v
    }
}

/// The one-run privacy audit of Steinke, Nasr & Jagielski (2023), "Privacy Auditing with One (1)
/// Training Run" (NeurIPS 2023, arXiv:2305.08846).
///
/// m canaries are each included in training independently with probability 1/2. After one
/// training run the auditor guesses membership for r of them (abstaining on the rest) and gets v
/// right. For an (eps, delta)-DP algorithm (their Theorem 5.2 and Algorithm 2 / Appendix D code):
///
///     p(eps) = P[Binom(r, q) >= v] + 2 m delta alpha,   q = 1 / (1 + e^-eps) = e^eps / (1 + e^eps),
///     alpha  = max_{1 <= i <= v} (1/i) P[v > Binom(r, q) >= v - i],
///
/// is a p-value for the observation. The reported bound is the largest eps with
/// p(eps) < 1 - confidence (0.05 at 95%), found by bisection: p is increasing in eps, so the set
/// of such eps is an interval [0, eps*). If even eps = 0 gives p >= 0.05 the bound is 0.
public enum OneRunAudit {
    /// The p-value p(eps) above, capped at 1. Preconditions: 0 <= v <= r <= m.
    public static func pValue(canaries m: Int, guesses r: Int, correct v: Int, epsilon eps: Double, delta: Double) -> Double {
        let q = 1 / (1 + exp(-eps))
        let beta = Statistics.binomialUpperTail(atLeast: v, trials: r, probability: q)
        var alpha = 0.0
        var sum = 0.0
        if delta > 0, v > 0 {
            for i in 1...v {
                sum += Statistics.binomialPMF(v - i, trials: r, probability: q)
                alpha = max(alpha, sum / Double(i))
            }
        }
        return min(beta + 2 * Double(m) * delta * alpha, 1)
    }

    /// The largest eps with p(eps) < 1 - confidence, to 1e-9 (bisection after doubling an upper
    /// bracket). Throws if the counts are inconsistent.
    public static func epsilonLowerBound(canaries m: Int, guesses r: Int, correct v: Int, delta: Double,
                                         confidence: Double = 0.95) throws(AuditError) -> Double {
        guard m >= 1, r >= 0, r <= m, v >= 0, v <= r else {
            throw .invalidParameter(name: "canaries/guesses/correct", value: "\(m)/\(r)/\(v)",
                                    requirement: "need 0 <= correct <= guesses <= canaries and canaries >= 1")
        }
        guard delta >= 0, delta < 1 else {
            throw .invalidParameter(name: "delta", value: "\(delta)", requirement: "must lie in [0, 1)")
        }
        guard confidence > 0, confidence < 1 else {
            throw .invalidParameter(name: "confidence", value: "\(confidence)", requirement: "must lie in (0, 1)")
        }
        let target = 1 - confidence
        guard r > 0, pValue(canaries: m, guesses: r, correct: v, epsilon: 0, delta: delta) < target else { return 0 }
        var lo = 0.0, hi = 1.0
        while pValue(canaries: m, guesses: r, correct: v, epsilon: hi, delta: delta) < target {
            lo = hi
            hi *= 2
            if hi > 1e4 { return lo }
        }
        while hi - lo > 1e-9 {
            let mid = 0.5 * (lo + hi)
            if pValue(canaries: m, guesses: r, correct: v, epsilon: mid, delta: delta) < target { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// One point of the "epsilon vs number of guesses" curve.
    public struct Point: Sendable, Equatable {
        public var guesses: Int
        public var correct: Int
        public var epsilon: Double
    }

    /// The result of auditing one set of canary scores.
    public struct Result: Sendable, Equatable {
        /// Bound for each number of guesses tried.
        public var curve: [Point]
        /// The best point of `curve`.
        public var best: Point
        public var canaries: Int
        /// The bound a perfect guesser could reach with every canary guessed (v = r = m).
        public var ceiling: Double
        public var delta: Double
        public var confidence: Double
    }

    /// Audits canary scores (higher = more likely included): for each r in a grid of guess counts,
    /// guesses "in" for the r/2 highest and "out" for the r/2 lowest scores (the symmetric
    /// strategy of Steinke et al., Sec. 6), counts the correct ones and bounds eps. Reports the
    /// whole curve and its maximum. Choosing the best r after looking is what the paper's figures
    /// do; for a strictly valid 95% statement fix r in advance (the curve gives every r).
    public static func audit(scores: [Double], included: [Bool], delta: Double, confidence: Double = 0.95,
                             guessCounts: [Int]? = nil) throws(AuditError) -> Result {
        guard scores.count == included.count else {
            throw .mismatch(what: "canary scores", detail: "\(scores.count) scores for \(included.count) inclusion flags",
                            hint: "pass one score per canary")
        }
        let m = scores.count
        guard m >= 2 else { throw .tooFewExamples(what: "one-run audit canaries", have: m, need: 2) }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let grid = guessCounts ?? defaultGuessCounts(canaries: m)
        var curve = [Point]()
        for r in grid where r >= 2 && r <= m {
            let half = r / 2
            var correct = 0
            for i in order.prefix(half) where included[i] { correct += 1 }
            for i in order.suffix(r - half) where !included[i] { correct += 1 }
            let eps = try epsilonLowerBound(canaries: m, guesses: r, correct: correct, delta: delta, confidence: confidence)
            curve.append(Point(guesses: r, correct: correct, epsilon: eps))
        }
        guard let best = curve.max(by: { $0.epsilon < $1.epsilon }) else {
            throw .invalidParameter(name: "guess counts", value: "\(grid)", requirement: "need at least one count in 2...\(m)")
        }
        let ceiling = try epsilonLowerBound(canaries: m, guesses: m, correct: m, delta: delta, confidence: confidence)
        return Result(curve: curve, best: best, canaries: m, ceiling: ceiling, delta: delta, confidence: confidence)
    }

    /// About 24 guess counts, log-spaced from 2 to m, even, distinct.
    public static func defaultGuessCounts(canaries m: Int) -> [Int] {
        guard m >= 2 else { return [] }
        var out = Set<Int>()
        let steps = 24
        for i in 0...steps {
            let r = exp(log(2.0) + (log(Double(m)) - log(2.0)) * Double(i) / Double(steps))
            out.insert(min(m, max(2, Int(r.rounded()))))
        }
        out.insert(m)
        return out.sorted()
    }
}
