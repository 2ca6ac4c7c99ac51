import Foundation

/// One operating point of a membership attack: predict "member" when score >= `threshold`.
public struct ROCPoint: Sendable, Equatable {
    public var threshold: Double
    /// Members predicted member / predicted non-member.
    public var truePositives: Int
    public var falseNegatives: Int
    /// Non-members predicted member / predicted non-member.
    public var falsePositives: Int
    public var trueNegatives: Int

    public var tpr: Double { Double(truePositives) / Double(max(truePositives + falseNegatives, 1)) }
    public var fpr: Double { Double(falsePositives) / Double(max(falsePositives + trueNegatives, 1)) }
}

/// The ROC curve of membership scores (higher score = more likely a member).
///
/// One point per distinct score, from the strictest threshold (+inf: nobody is called a member,
/// the point (0, 0)) to the loosest (everyone is, (1, 1)). Tied scores move together, so a tie
/// between a member and a non-member is a diagonal step and counts half in the AUC.
public struct ROCCurve: Sendable, Equatable {
    public let points: [ROCPoint]
    public let members: Int
    public let nonMembers: Int

    /// Builds the curve. Throws if either group is empty or a score is NaN. O(n log n).
    public init(memberScores: [Double], nonMemberScores: [Double]) throws(AuditError) {
        guard !memberScores.isEmpty else { throw .tooFewExamples(what: "members", have: 0, need: 1) }
        guard !nonMemberScores.isEmpty else { throw .tooFewExamples(what: "non-members", have: 0, need: 1) }
        guard !memberScores.contains(where: \.isNaN), !nonMemberScores.contains(where: \.isNaN) else {
            throw .invalidParameter(
                name: "scores", value: "NaN", requirement: "attack scores must be numbers (a model output was NaN?)")
        }
        let labelled = (memberScores.map { ($0, true) } + nonMemberScores.map { ($0, false) }).sorted { $0.0 > $1.0 }
        let (p, n) = (memberScores.count, nonMemberScores.count)
        var pts = [
            ROCPoint(threshold: .infinity, truePositives: 0, falseNegatives: p, falsePositives: 0, trueNegatives: n)
        ]
        var tp = 0, fp = 0
        var i = 0
        while i < labelled.count {
            let s = labelled[i].0
            while i < labelled.count, labelled[i].0 == s {
                if labelled[i].1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            pts.append(
                ROCPoint(
                    threshold: s, truePositives: tp, falseNegatives: p - tp, falsePositives: fp, trueNegatives: n - fp))
        }
        points = pts
        members = p
        nonMembers = n
    }

    /// Area under the curve by the trapezoid rule (= P[member score > non-member score] +
    /// 0.5 P[tie], the Mann-Whitney statistic). O(points).
    public var auc: Double {
        var area = 0.0
        for (a, b) in zip(points, points.dropFirst()) {
            area += (b.fpr - a.fpr) * (a.tpr + b.tpr) / 2
        }
        return area
    }

    /// The largest TPR among thresholds whose FPR is at most `maxFPR` (0 gives the TPR at zero
    /// false positives). This is the convention of Carlini et al. (2022), never interpolating.
    public func tpr(atFPR maxFPR: Double) -> Double {
        points.filter { $0.fpr <= maxFPR + 1e-12 }.map(\.tpr).max() ?? 0
    }

    /// Best balanced accuracy over thresholds: max (TPR + TNR) / 2.
    public var balancedAccuracy: Double { points.map { ($0.tpr + 1 - $0.fpr) / 2 }.max() ?? 0.5 }

    /// Membership advantage (Yeom et al. 2018): max over thresholds of TPR - FPR.
    public var advantage: Double { points.map { $0.tpr - $0.fpr }.max() ?? 0 }
}

/// Summary figures of one membership-inference attack.
public struct MembershipMetrics: Sendable, Equatable {
    /// FPR levels at which TPR is reported (as in Carlini et al. 2022), 0 included.
    public static let fprLevels: [Double] = [0, 0.001, 0.01, 0.1]

    public let auc: Double
    public let balancedAccuracy: Double
    public let advantage: Double
    /// TPR at each of `fprLevels`, in that order.
    public let tprAtFPR: [Double]

    public init(roc: ROCCurve) {
        auc = roc.auc
        balancedAccuracy = roc.balancedAccuracy
        advantage = roc.advantage
        tprAtFPR = MembershipMetrics.fprLevels.map { roc.tpr(atFPR: $0) }
    }

    /// The JSON key of an FPR level: "0", "0.001", "0.01", "0.1".
    public static func key(_ fpr: Double) -> String {
        fpr == 0 ? "0" : "\(fpr)"
    }
}
