import Audit
import Support
import XCTest

/// Expected values computed with scipy 1.x (`scipy.special.betainc`, `scipy.stats.beta.ppf`,
/// `scipy.stats.binom.sf`) and with the one-run audit code of Steinke et al. (2023, Appendix D)
/// run under scipy; embedded as literals.
final class StatisticsTests: XCTestCase {
    func testRegularizedIncompleteBetaMatchesScipy() {
        let cases: [(x: Double, a: Double, b: Double, expected: Double)] = [
            (0.4, 2, 3, 0.5247999999999999), (0.2, 0.5, 0.5, 0.2951672353008665), (0.45, 50, 60, 0.4642352914306031),
            (0.49, 1000, 1000, 0.1855526594315119), (0.9, 5, 1, 0.5904900000000001),
        ]
        for c in cases {
            let got = Statistics.regularizedIncompleteBeta(x: c.x, a: c.a, b: c.b)
            XCTAssertEqual(got, c.expected, accuracy: 1e-12 * max(1, c.expected), "I_\(c.x)(\(c.a), \(c.b))")
        }
        XCTAssertEqual(Statistics.regularizedIncompleteBeta(x: 0, a: 2, b: 3), 0)
        XCTAssertEqual(Statistics.regularizedIncompleteBeta(x: 1, a: 2, b: 3), 1)
        XCTAssertTrue(Statistics.regularizedIncompleteBeta(x: 0.5, a: -1, b: 3).isNaN)
    }

    func testClopperPearsonTwoSidedMatchesScipy() throws {
        let cases: [(x: Int, n: Int, lower: Double, upper: Double)] = [
            (0, 10, 0, 0.3084971078187607), (3, 10, 0.06673951117773447, 0.6524528500599973),
            (10, 10, 0.6915028921812392, 1), (50, 100, 0.39832112950330095, 0.601678870496699),
            (1, 1000, 2.531748749129404e-05, 0.005558924279826672), (0, 1000, 0, 0.003682083896865671),
        ]
        for c in cases {
            let cp = try ClopperPearson(successes: c.x, trials: c.n)
            XCTAssertEqual(cp.lower, c.lower, accuracy: 1e-10 * max(c.lower, 1e-3), "lower \(c.x)/\(c.n)")
            XCTAssertEqual(cp.upper, c.upper, accuracy: 1e-10, "upper \(c.x)/\(c.n)")
        }
        XCTAssertThrowsError(try ClopperPearson(successes: 5, trials: 3))
        XCTAssertThrowsError(try ClopperPearson(successes: 1, trials: 3, confidence: 1))
    }

    func testBinomialTailMatchesScipyAndDirectSum() {
        XCTAssertEqual(
            Statistics.binomialUpperTail(atLeast: 60, trials: 100, probability: 0.5), 0.028443966820490444,
            accuracy: 1e-13)
        XCTAssertEqual(
            Statistics.binomialUpperTail(atLeast: 90, trials: 100, probability: 0.7310585786300049),
            2.7358128007661584e-05,
            accuracy: 1e-15)
        let direct = (7...20).reduce(0.0) { $0 + Statistics.binomialPMF($1, trials: 20, probability: 0.3) }
        XCTAssertEqual(Statistics.binomialUpperTail(atLeast: 7, trials: 20, probability: 0.3), direct, accuracy: 1e-13)
    }

    func testEmpiricalEpsilonCeilingAndHandCase() throws {
        // A perfect attack on 1000 members and 1000 non-members: ln((1 - delta - u) / u) with
        // u = 1 - 0.025^(1/1000), the ~5.6 of the issue.
        XCTAssertEqual(
            try EmpiricalEpsilon.ceiling(positives: 1000, negatives: 1000, delta: 1e-5), 5.6005774942916355,
            accuracy: 1e-8)
        // FP = 5 of 1000, FN = 100 of 1000 (scipy: 4.326040844088214).
        XCTAssertEqual(
            try EmpiricalEpsilon.bound(
                falsePositives: 5, negatives: 1000, falseNegatives: 100, positives: 1000, delta: 1e-5),
            4.326040844088214, accuracy: 1e-8)
        // A useless operating point certifies nothing.
        XCTAssertEqual(
            try EmpiricalEpsilon.bound(
                falsePositives: 500, negatives: 1000, falseNegatives: 500, positives: 1000, delta: 1e-5), 0)
    }

    func testOneRunBoundMatchesReferenceCode() throws {
        let cases: [(m: Int, r: Int, v: Int, delta: Double, expected: Double)] = [
            (1000, 100, 90, 1e-5, 1.6261434806957258), (1000, 1000, 1000, 1e-5, 5.78228313539401),
            (1000, 200, 130, 0, 0.3664870682103416), (10000, 500, 400, 1e-5, 1.1916704866170882),
        ]
        for c in cases {
            let got = try OneRunAudit.epsilonLowerBound(canaries: c.m, guesses: c.r, correct: c.v, delta: c.delta)
            XCTAssertEqual(got, c.expected, accuracy: 1e-6, "m \(c.m) r \(c.r) v \(c.v)")
        }
        XCTAssertEqual(try OneRunAudit.epsilonLowerBound(canaries: 1000, guesses: 100, correct: 50, delta: 1e-5), 0)
        XCTAssertThrowsError(try OneRunAudit.epsilonLowerBound(canaries: 10, guesses: 20, correct: 5, delta: 0))
    }

    func testOneRunBoundIsMonotoneInCorrectGuesses() throws {
        for (m, r, delta) in [(1000, 200, 1e-5), (500, 500, 0.0), (2000, 64, 1e-6)] {
            var previous = -1.0
            for v in stride(from: 0, through: r, by: max(1, r / 40)) {
                let eps = try OneRunAudit.epsilonLowerBound(canaries: m, guesses: r, correct: v, delta: delta)
                XCTAssertGreaterThanOrEqual(eps, previous - 1e-9, "m \(m) r \(r) v \(v)")
                previous = eps
            }
            XCTAssertGreaterThan(previous, 0)
        }
    }

    func testROCMetricsOnHandComputedCase() throws {
        // Sorted: .9 M, .8 M, .7 N, .4 M, .3 N, .2 N. Member beats non-member in 8 of 9 pairs.
        let roc = try ROCCurve(memberScores: [0.9, 0.8, 0.4], nonMemberScores: [0.7, 0.3, 0.2])
        XCTAssertEqual(roc.auc, 8.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(roc.tpr(atFPR: 0), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(roc.tpr(atFPR: 0.34), 1, accuracy: 1e-12)
        XCTAssertEqual(roc.balancedAccuracy, 5.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(roc.advantage, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(roc.points.count, 7)
        // Ties count half: members {1, 1} vs non-members {1, 0} -> (0.5 + 1 + 0.5 + 1) / 4.
        let tied = try ROCCurve(memberScores: [1, 1], nonMemberScores: [1, 0])
        XCTAssertEqual(tied.auc, 0.75, accuracy: 1e-12)
        XCTAssertEqual(tied.tpr(atFPR: 0), 0)
        let m = MembershipMetrics(roc: roc)
        XCTAssertEqual(m.tprAtFPR.count, MembershipMetrics.fprLevels.count)
        XCTAssertEqual(MembershipMetrics.key(0.001), "0.001")
        XCTAssertThrowsError(try ROCCurve(memberScores: [], nonMemberScores: [1]))
        XCTAssertThrowsError(try ROCCurve(memberScores: [.nan], nonMemberScores: [1]))
    }
}
