import Foundation

/// The membership-inference attacks of an audit. Every attack returns one score per example,
/// higher meaning "more likely a member".
public enum AttackKind: String, Sendable, CaseIterable, Codable {
    /// Loss threshold (Yeom et al. 2018, "Privacy Risk in Machine Learning: Analyzing the
    /// Connection to Overfitting"): score = -loss. Needs no shadow models.
    case loss
    /// Confidence threshold (Yeom et al. 2018; Salem et al. 2019): score = p_y.
    case confidence
    /// LiRA online (Carlini et al. 2022, "Membership Inference Attacks From First Principles"):
    /// Gaussians fitted to the IN and OUT logit-scaled confidences of each example.
    case lira
    /// LiRA offline: only the OUT Gaussian, a one-sided test.
    case liraOffline = "lira-offline"
    /// RMIA (Zarifzadeh, Liu, Ooi & Shokri 2024, "Low-Cost High-Power Membership Inference
    /// Attacks", ICML 2024) with IN and OUT reference models.
    case rmia
    /// RMIA offline: OUT reference models only, Pr(x) approximated with the parameter a.
    case rmiaOffline = "rmia-offline"

    /// Whether the attack needs shadow/reference models.
    public var needsShadowModels: Bool { self != .loss && self != .confidence }
}

/// How LiRA estimates the variances of its Gaussians.
public enum LiRAVariance: String, Sendable, CaseIterable {
    /// One variance per example and side.
    case perExample = "per-example"
    /// One pooled within-example variance per side, shared by all examples; Carlini et al.
    /// recommend it when there are few shadow models (Sec. VI-A: below about 64).
    case global
    /// `global` when either side has fewer than 32 models per example, else `perExample`.
    case automatic
}

/// Attack parameters beyond the choice of attack.
public struct AttackParameters: Sendable, Equatable {
    public var liraVariance: LiRAVariance
    /// RMIA's gamma: a population sample z counts against x when LR(x, z) >= gamma.
    public var rmiaGamma: Double
    /// RMIA offline's a in Pr(x) ~ ((1 + a) Pr_OUT(x) + (1 - a)) / 2 (Zarifzadeh et al., Sec. 4.1).
    public var rmiaOfflineA: Double

    public init(liraVariance: LiRAVariance = .automatic, rmiaGamma: Double = 1, rmiaOfflineA: Double = 0.3) {
        self.liraVariance = liraVariance
        self.rmiaGamma = rmiaGamma
        self.rmiaOfflineA = rmiaOfflineA
    }
}

/// Score computation for every attack.
public enum MembershipAttack {
    /// Scores of `target`'s outputs on the pool examples `examples`.
    /// - Parameters:
    ///   - shadows: shadow/reference models on the same pool (required unless `.loss`/`.confidence`);
    ///     they must not include the target model itself.
    ///   - population: pool indices of population samples z for RMIA (data known not to be in the
    ///     target's training set).
    public static func scores(
        _ attack: AttackKind, target: ExampleOutputs, examples: [Int], shadows: ShadowModels?,
        population: [Int], parameters: AttackParameters = AttackParameters()
    ) throws(AuditError) -> [Double] {
        switch attack {
        case .loss: return examples.map { -target.loss[$0] }
        case .confidence: return examples.map { target.confidence[$0] }
        case .lira, .liraOffline:
            let s = try requireShadows(shadows, attack: attack, target: target)
            return lira(
                target: target, examples: examples, shadows: s, online: attack == .lira,
                variance: parameters.liraVariance)
        case .rmia, .rmiaOffline:
            let s = try requireShadows(shadows, attack: attack, target: target)
            guard !population.isEmpty else { throw .tooFewExamples(what: "RMIA population samples", have: 0, need: 1) }
            guard parameters.rmiaGamma > 0 else {
                throw .invalidParameter(
                    name: "rmia-gamma", value: "\(parameters.rmiaGamma)", requirement: "must be > 0")
            }
            return rmia(
                target: target, examples: examples, shadows: s, population: population,
                offlineA: attack == .rmiaOffline ? parameters.rmiaOfflineA : nil, gamma: parameters.rmiaGamma)
        }
    }

    private static func requireShadows(
        _ shadows: ShadowModels?, attack: AttackKind, target: ExampleOutputs
    ) throws(AuditError) -> ShadowModels {
        guard let shadows, shadows.count >= 2 else {
            throw .tooFewExamples(what: "\(attack.rawValue) shadow models", have: shadows?.count ?? 0, need: 2)
        }
        guard shadows.outputs.allSatisfy({ $0.count == target.count }) else {
            throw .mismatch(
                what: "shadow models", detail: "evaluated on a different pool than the target",
                hint: "evaluate target and shadows on the same pool")
        }
        return shadows
    }

    /// LiRA (Carlini et al. 2022, Algorithm 1). For example x with target statistic
    /// phi = logit-scaled confidence, IN statistics from shadows trained on x and OUT statistics
    /// from the others:
    ///   online:  log N(phi; mu_in, s_in^2) - log N(phi; mu_out, s_out^2)
    ///   offline: (phi - mu_out) / s_out, monotone in the one-sided p-value Pr[Z < phi], Z ~ N(mu_out, s_out^2).
    /// An example with no IN models (online) falls back to the offline score; with no OUT models
    /// it gets the median score (carries no evidence).
    static func lira(
        target: ExampleOutputs, examples: [Int], shadows: ShadowModels, online: Bool, variance: LiRAVariance
    ) -> [Double] {
        let k = shadows.count
        var inStats = [[Double]](), outStats = [[Double]]()
        for i in examples {
            var ins = [Double](), outs = [Double]()
            for m in 0..<k {
                let phi = clampPhi(shadows.outputs[m].logitConfidence[i])
                if shadows.masks[m][i] { ins.append(phi) } else { outs.append(phi) }
            }
            inStats.append(ins)
            outStats.append(outs)
        }
        let minSide = min(inStats.map(\.count).min() ?? 0, outStats.map(\.count).min() ?? 0)
        let useGlobal = variance == .global || (variance == .automatic && minSide < 32)
        let globalIn = pooledStd(inStats), globalOut = pooledStd(outStats)
        var scores = [Double]()
        var missing = [Int]()
        for (j, i) in examples.enumerated() {
            let phi = clampPhi(target.logitConfidence[i])
            let outs = outStats[j], ins = inStats[j]
            guard !outs.isEmpty else {
                missing.append(j)
                scores.append(0)
                continue
            }
            let muOut = mean(outs)
            let sOut = max(useGlobal ? globalOut : std(outs, mean: muOut), 1e-6)
            if online, !ins.isEmpty {
                let muIn = mean(ins)
                let sIn = max(useGlobal ? globalIn : std(ins, mean: muIn), 1e-6)
                scores.append(logNormal(phi, muIn, sIn) - logNormal(phi, muOut, sOut))
            } else {
                scores.append((phi - muOut) / sOut)
            }
        }
        if !missing.isEmpty {
            let present = scores.enumerated().filter { !missing.contains($0.offset) }.map(\.element).sorted()
            let median = present.isEmpty ? 0 : present[present.count / 2]
            for j in missing { scores[j] = median }
        }
        return scores
    }

    /// RMIA (Zarifzadeh et al. 2024, Eq. 3-4): with p(x|theta) the target's confidence in the true
    /// label and Pr(x) its mean over reference models,
    ///   LR(x, z) = (p(x|theta) / Pr(x)) / (p(z|theta) / Pr(z)),  score(x) = Pr_z[LR(x, z) >= gamma].
    /// Online, Pr(x) averages all reference models; offline it averages the OUT models of x and is
    /// corrected as ((1 + a) Pr_OUT(x) + (1 - a)) / 2. Ties of the fraction are broken by LR
    /// itself (an order-preserving refinement below 1/(2|Z|)). O((n + |Z|) log |Z|).
    static func rmia(
        target: ExampleOutputs, examples: [Int], shadows: ShadowModels, population: [Int],
        offlineA: Double?, gamma: Double
    ) -> [Double] {
        func prior(_ i: Int) -> Double {
            var sum = 0.0, n = 0
            for m in 0..<shadows.count where offlineA == nil || !shadows.masks[m][i] {
                sum += shadows.outputs[m].confidence[i]
                n += 1
            }
            let p = n > 0 ? sum / Double(n) : 0.5
            if let a = offlineA { return max(((1 + a) * p + (1 - a)) / 2, 1e-300) }
            return max(p, 1e-300)
        }
        func ratio(_ i: Int) -> Double { target.confidence[i] / prior(i) }
        let zRatios = population.map(ratio).sorted()
        return examples.map { i in
            let threshold = ratio(i) / gamma
            // Count z with ratio_z <= ratio_x / gamma, i.e. LR(x, z) >= gamma.
            var lo = 0, hi = zRatios.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if zRatios[mid] <= threshold { lo = mid + 1 } else { hi = mid }
            }
            // The fraction is a non-decreasing function of ratio(x), so breaking its ties (finer
            // than 1/|Z|) by ratio(x) itself keeps RMIA's ranking and makes the low-FPR end of
            // the ROC resolvable when several examples beat every population sample.
            let tieBreak = (0.5 + atan(log(max(ratio(i), 1e-300))) / Double.pi) * 0.5 / Double(zRatios.count)
            return Double(lo) / Double(zRatios.count) + tieBreak
        }
    }

    /// Logit-scaled confidences can be +-inf in Float32 extremes; LiRA fits Gaussians, so clamp.
    static func clampPhi(_ v: Double) -> Double { v.isNaN ? 0 : min(max(v, -100), 100) }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }

    static func std(_ v: [Double], mean m: Double) -> Double {
        guard v.count > 1 else { return 0 }
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    /// Within-group standard deviation pooled over groups (groups of size < 2 contribute nothing).
    static func pooledStd(_ groups: [[Double]]) -> Double {
        var ss = 0.0, dof = 0
        for g in groups where g.count > 1 {
            let m = mean(g)
            ss += g.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            dof += g.count - 1
        }
        return dof > 0 ? (ss / Double(dof)).squareRoot() : 1
    }

    static func logNormal(_ x: Double, _ mu: Double, _ s: Double) -> Double {
        let z = (x - mu) / s
        return -0.5 * z * z - log(s)
    }
}
