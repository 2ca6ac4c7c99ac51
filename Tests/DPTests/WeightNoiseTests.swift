import DP
import Foundation
import XCTest

final class WeightNoiseTests: XCTestCase {
    /// sigma = sqrt(2 ln(1.25/delta)) (E lr C) / (eps n B) + 0.009760 / eps^0.078008 with
    /// delta = 1/n^2.
    /// Expected values computed by hand from the formula (double precision).
    func testDPWeightsMatchesTheReleasedFormula() throws {
        let cases:
            [(
                eps: Double, epochs: Int, lr: Double, c: Double, n: Int, b: Int, delta: Double,
                sigma: Double
            )] = [
                (1.0, 10, 0.1, 1.0, 60000, 256, 2.7777777777777777e-10, 0.009760434077784775),
                (8.0, 30, 0.05, 1.5, 50000, 128, 4e-10, 0.008298828339674862),
                (0.5, 1, 1.0, 4.0, 100, 1, 1e-4, 0.35779124572375737),
                (3.0, 5, 0.01, 1.0, 1000, 32, 1e-6, 0.008961161704688365),
            ]
        for c in cases {
            let r = try WeightNoise.dpWeights(
                epsilon: c.eps, epochs: c.epochs, learningRate: c.lr, clippingNorm: c.c,
                datasetSize: c.n, batchSize: c.b)
            XCTAssertEqual(r.sigma, c.sigma, accuracy: 1e-12 * c.sigma)
            XCTAssertEqual(r.delta, c.delta, accuracy: 1e-15 * c.delta)
            XCTAssertEqual(r.epsilon, c.eps)
            XCTAssertEqual(r.method, .dpWeightsHeuristic)
            XCTAssertFalse(r.proven)
        }
    }

    func testOutputPerturbationSensitivity() throws {
        XCTAssertEqual(
            try WeightNoise.outputPerturbationSensitivity(
                lipschitz: 1, regularization: 0.01, datasetSize: 1000), 0.2, accuracy: 1e-15)
        XCTAssertEqual(
            try WeightNoise.outputPerturbationSensitivity(
                lipschitz: 2, regularization: 0.5, datasetSize: 40), 0.2, accuracy: 1e-15)
    }

    func testClassicGaussian() throws {
        let r = try WeightNoise.classicGaussian(sensitivity: 1, epsilon: 0.5, delta: 1e-5)
        XCTAssertEqual(r.sigma, 9.689610525210778, accuracy: 1e-12)
        XCTAssertTrue(r.proven)
        XCTAssertEqual(r.method, .classicGaussian)
        XCTAssertThrowsError(
            try WeightNoise.classicGaussian(sensitivity: 1, epsilon: 1, delta: 1e-5)
        ) {
            XCTAssertEqual(($0 as? DPError)?.parameter, "epsilon")
        }
    }

    /// Reference sigmas from dp_accounting's `gaussian_mechanism.get_sigma_gaussian`
    /// (sensitivity 1).
    func testAnalyticGaussianMatchesReference() throws {
        let cases: [(eps: Double, delta: Double, sigma: Double)] = [
            (0.5, 1e-5, 7.0318266755825), (1.0, 1e-5, 3.7306316348159374),
            (4.0, 1e-6, 1.1935185871579845), (8.0, 1e-9, 0.7922370498040942),
            (0.1, 1e-3, 17.40439620303121),
        ]
        for c in cases {
            let r = try WeightNoise.analyticGaussian(sensitivity: 2, epsilon: c.eps, delta: c.delta)
            XCTAssertEqual(r.sigma, 2 * c.sigma, accuracy: 1e-9 * c.sigma, "eps \(c.eps)")
            XCTAssertTrue(r.proven)
            XCTAssertEqual(r.sensitivity, 2)
            if c.eps < 1 {
                let classic = try WeightNoise.classicGaussian(
                    sensitivity: 2, epsilon: c.eps, delta: c.delta)
                XCTAssertLessThan(r.sigma, classic.sigma)
            }
        }
    }

    func testOutputPerturbationRecord() throws {
        let r = try WeightNoise.outputPerturbation(
            lipschitz: 1, regularization: 0.01, datasetSize: 1000, epsilon: 1, delta: 1e-5)
        XCTAssertEqual(r.method, .analyticGaussian)
        XCTAssertEqual(try XCTUnwrap(r.sensitivity), 0.2, accuracy: 1e-15)
        XCTAssertEqual(r.sigma, 0.2 * 3.7306316348159374, accuracy: 1e-9)
        XCTAssertTrue(r.proven)
    }
}
