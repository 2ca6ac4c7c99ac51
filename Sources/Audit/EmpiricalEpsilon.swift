import Foundation
import NeuralNet

/// An empirical lower bound on epsilon from membership scores, with the threshold chosen on
/// held-out data, and the largest value the sample sizes allow.
///
/// For a threshold with FP false positives among N non-members and FN false negatives among P
/// members, (epsilon, delta)-DP implies FPR + e^eps FNR >= 1 - delta and FNR + e^eps FPR >=
/// 1 - delta (Kairouz et al. 2015; used for auditing by Jagielski et al. 2020, "Auditing
/// Differentially Private Machine Learning: How Private is Private SGD?", and Nasr et al. 2021,
/// "Adversary Instantiation"). With Clopper-Pearson upper bounds FPR_ub and FNR_ub (two-sided,
/// confidence `confidence`) a threshold fixed in advance certifies
///
///     eps_LB = ln((1 - delta - FNR_ub) / FPR_ub)   or   ln((1 - delta - FPR_ub) / FNR_ub),
///
/// clipped at 0. The guarantee holds for a threshold (and inequality) fixed before the scores it
/// is evaluated on are seen, so `bound` splits the members and the non-members each into two
/// halves at random (seeded, independent of the scores): the threshold and inequality are chosen
/// on the selection half (the ones with the largest bound there) and the bound is computed on the
/// evaluation half alone, as the auditing literature does (Jagielski et al. 2020, Sec. 4;
/// Nasr et al. 2021). On members and non-members from one distribution it is 0 with probability at
/// least the confidence level.
///
/// `posthocBound` is the older figure: the best threshold of all scores, chosen and evaluated on
/// the same data. Taking the maximum over hundreds of thresholds overstates the evidence (on two
/// samples from one distribution it is positive far more often than 1 - confidence), so it is kept
/// only as a labelled, optimistic reference. `ceiling` is the bound of a perfect attack (FP = FN =
/// 0) with the evaluation half's sizes: no attack can certify more here, so a bound near the
/// ceiling means "at least this much, possibly far more".
public struct EmpiricalEpsilon: Sendable, Equatable {
    /// Which of the two inequalities a threshold is tested against.
    public enum Inequality: String, Sendable, Equatable {
        /// ln((1 - delta - FNR_ub) / FPR_ub): few false positives.
        case falsePositives = "fpr"
        /// ln((1 - delta - FPR_ub) / FNR_ub): few false negatives.
        case falseNegatives = "fnr"
    }

    /// How the threshold of `bound` was chosen (for JSON: `threshold_selection`).
    public static let thresholdSelection = "held-out"
    /// The default seed of the selection/evaluation split.
    public static let defaultSplitSeed: UInt64 = 0x5E1E_C7ED

    /// The held-out bound.
    public let bound: Double
    /// A perfect attack's bound with the evaluation half's sizes.
    public let ceiling: Double
    public let delta: Double
    public let confidence: Double
    /// The threshold and inequality chosen on the selection half (nil when no threshold gave a
    /// positive bound there; `bound` is then 0).
    public let threshold: Double?
    public let inequality: Inequality?
    /// FP and FN of that threshold on the evaluation half.
    public let falsePositives: Int
    public let falseNegatives: Int
    public let selectionMembers: Int
    public let selectionNonMembers: Int
    public let evaluationMembers: Int
    public let evaluationNonMembers: Int
    /// OPTIMISTIC: the best threshold over all scores, chosen on the data it is evaluated on.
    public let posthocBound: Double
    /// The perfect attack's bound with all the scores (the ceiling of `posthocBound`).
    public let posthocCeiling: Double

    /// Splits, selects on one half and bounds on the other; also computes the post-hoc figure.
    /// Throws for fewer than 2 members or 2 non-members, NaN scores, or delta outside [0, 1).
    /// O(n log n + distinct counts * (Clopper-Pearson cost)).
    public init(
        memberScores: [Double], nonMemberScores: [Double], delta: Double, confidence: Double = 0.95,
        splitSeed: UInt64 = EmpiricalEpsilon.defaultSplitSeed
    ) throws(AuditError) {
        guard delta >= 0, delta < 1 else {
            throw .invalidParameter(name: "delta", value: "\(delta)", requirement: "must lie in [0, 1)")
        }
        guard confidence > 0, confidence < 1 else {
            throw .invalidParameter(name: "confidence", value: "\(confidence)", requirement: "must lie in (0, 1)")
        }
        guard memberScores.count >= 2 else {
            throw .tooFewExamples(what: "members (held-out threshold selection)", have: memberScores.count, need: 2)
        }
        guard nonMemberScores.count >= 2 else {
            throw .tooFewExamples(
                what: "non-members (held-out threshold selection)", have: nonMemberScores.count, need: 2)
        }
        var cache = UpperBoundCache(confidence: confidence)
        let all = try ROCCurve(memberScores: memberScores, nonMemberScores: nonMemberScores)
        let posthoc = try EmpiricalEpsilon.best(roc: all, delta: delta, cache: &cache)
        posthocBound = posthoc.epsilon
        posthocCeiling = try EmpiricalEpsilon.epsilon(
            fp: 0, negatives: all.nonMembers, fn: 0, positives: all.members,
            delta: delta, cache: &cache)

        var rng = SeededGenerator(seed: splitSeed)
        let (selM, evalM) = EmpiricalEpsilon.halves(memberScores, &rng)
        let (selN, evalN) = EmpiricalEpsilon.halves(nonMemberScores, &rng)
        let selection = try ROCCurve(memberScores: selM, nonMemberScores: selN)
        let chosen = try EmpiricalEpsilon.best(roc: selection, delta: delta, cache: &cache)
        selectionMembers = selM.count
        selectionNonMembers = selN.count
        evaluationMembers = evalM.count
        evaluationNonMembers = evalN.count
        ceiling = try EmpiricalEpsilon.epsilon(
            fp: 0, negatives: evalN.count, fn: 0, positives: evalM.count,
            delta: delta, cache: &cache)
        self.delta = delta
        self.confidence = confidence
        if chosen.epsilon > 0, let t = chosen.threshold, let side = chosen.inequality {
            let fp = evalN.filter { $0 >= t }.count
            let fn = evalM.filter { $0 < t }.count
            threshold = t
            inequality = side
            falsePositives = fp
            falseNegatives = fn
            bound = try EmpiricalEpsilon.epsilon(
                fp: fp, negatives: evalN.count, fn: fn, positives: evalM.count,
                delta: delta, inequality: side, cache: &cache)
        } else {
            threshold = nil
            inequality = nil
            falsePositives = 0
            falseNegatives = 0
            bound = 0
        }
    }

    /// A random half of `values` (floor(n/2), for selection) and the rest (for evaluation).
    static func halves(_ values: [Double], _ rng: inout SeededGenerator) -> ([Double], [Double]) {
        var order = Array(values.indices)
        rng.shuffle(&order)
        let k = values.count / 2
        return (order[..<k].map { values[$0] }, order[k...].map { values[$0] })
    }

    /// The threshold and inequality of `roc` with the largest bound (first one on ties).
    static func best(
        roc: ROCCurve, delta: Double, cache: inout UpperBoundCache
    ) throws(AuditError)
        -> (epsilon: Double, threshold: Double?, inequality: Inequality?)
    {
        var best = (epsilon: 0.0, threshold: Double?.none, inequality: Inequality?.none)
        for p in roc.points {
            // FPR_ub + FNR_ub >= FP/N + FN/P, and a positive bound needs FPR_ub + FNR_ub < 1 - delta:
            // skip the points that cannot beat 0 without computing their intervals.
            let pointSum =
                Double(p.falsePositives) / Double(roc.nonMembers) + Double(p.falseNegatives) / Double(roc.members)
            guard pointSum < 1 - delta else { continue }
            for side in [Inequality.falsePositives, .falseNegatives] {
                let e = try epsilon(
                    fp: p.falsePositives, negatives: roc.nonMembers, fn: p.falseNegatives,
                    positives: roc.members, delta: delta, inequality: side, cache: &cache)
                if e > best.epsilon { best = (e, p.threshold, side) }
            }
        }
        return best
    }

    /// The bound for one operating point, fixed in advance: FP of `negatives`, FN of `positives`
    /// (the larger of the two inequalities' bounds).
    public static func bound(
        falsePositives fp: Int, negatives: Int, falseNegatives fn: Int, positives: Int,
        delta: Double, confidence: Double = 0.95
    ) throws(AuditError) -> Double {
        var cache = UpperBoundCache(confidence: confidence)
        return try epsilon(fp: fp, negatives: negatives, fn: fn, positives: positives, delta: delta, cache: &cache)
    }

    /// The ceiling for `positives` members and `negatives` non-members (a perfect attack).
    public static func ceiling(
        positives: Int, negatives: Int, delta: Double, confidence: Double = 0.95
    ) throws(AuditError) -> Double {
        try bound(
            falsePositives: 0, negatives: negatives, falseNegatives: 0, positives: positives, delta: delta,
            confidence: confidence)
    }

    static func epsilon(
        fp: Int, negatives: Int, fn: Int, positives: Int, delta: Double,
        cache: inout UpperBoundCache
    ) throws(AuditError) -> Double {
        max(
            try epsilon(
                fp: fp, negatives: negatives, fn: fn, positives: positives, delta: delta, inequality: .falsePositives,
                cache: &cache),
            try epsilon(
                fp: fp, negatives: negatives, fn: fn, positives: positives, delta: delta, inequality: .falseNegatives,
                cache: &cache))
    }

    static func epsilon(
        fp: Int, negatives: Int, fn: Int, positives: Int, delta: Double, inequality: Inequality,
        cache: inout UpperBoundCache
    ) throws(AuditError) -> Double {
        let fprUB = try cache.upper(fp, negatives)
        let fnrUB = try cache.upper(fn, positives)
        let e: Double
        switch inequality {
        case .falsePositives: e = log((1 - delta - fnrUB) / fprUB)
        case .falseNegatives: e = log((1 - delta - fprUB) / fnrUB)
        }
        return e.isNaN ? 0 : max(e, 0)
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
    public static func pValue(
        canaries m: Int, guesses r: Int, correct v: Int, epsilon eps: Double, delta: Double
    ) -> Double {
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
    public static func epsilonLowerBound(
        canaries m: Int, guesses r: Int, correct v: Int, delta: Double,
        confidence: Double = 0.95
    ) throws(AuditError) -> Double {
        guard m >= 1, r >= 0, r <= m, v >= 0, v <= r else {
            throw .invalidParameter(
                name: "canaries/guesses/correct", value: "\(m)/\(r)/\(v)",
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
            if pValue(canaries: m, guesses: r, correct: v, epsilon: mid, delta: delta) < target {
                lo = mid
            } else {
                hi = mid
            }
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
    public static func audit(
        scores: [Double], included: [Bool], delta: Double, confidence: Double = 0.95,
        guessCounts: [Int]? = nil
    ) throws(AuditError) -> Result {
        guard scores.count == included.count else {
            throw .mismatch(
                what: "canary scores", detail: "\(scores.count) scores for \(included.count) inclusion flags",
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
            let eps = try epsilonLowerBound(
                canaries: m, guesses: r, correct: correct, delta: delta, confidence: confidence)
            curve.append(Point(guesses: r, correct: correct, epsilon: eps))
        }
        guard let best = curve.max(by: { $0.epsilon < $1.epsilon }) else {
            throw .invalidParameter(
                name: "guess counts", value: "\(grid)", requirement: "need at least one count in 2...\(m)")
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
