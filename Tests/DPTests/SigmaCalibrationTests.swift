import DP
import XCTest

/// Solving for sigma and accounting the result must round-trip.
final class SigmaCalibrationTests: XCTestCase {
    func testRDPRoundTrip() throws {
        let cases: [(q: Double, sigma: Double, steps: Int)] = [
            (256.0 / 60000.0, 1.1, 14_062), (0.01, 1.0, 1000), (0.1, 2.0, 100), (1.0, 5.0, 10),
        ]
        let accountant = RDPAccountant()
        for c in cases {
            let m = try PoissonSampledGaussian(
                samplingRate: c.q, noiseMultiplier: c.sigma, steps: c.steps)
            let target = try accountant.epsilon(for: m, delta: 1e-5)
            let solved = try SigmaCalibration.noiseMultiplier(
                targetEpsilon: target, delta: 1e-5, samplingRate: c.q, steps: c.steps,
                accountant: accountant, relativeTolerance: 1e-8)
            XCTAssertEqual(solved.sigma, c.sigma, accuracy: 1e-6 * c.sigma, "q=\(c.q)")
            XCTAssertLessThanOrEqual(solved.epsilon, target)
            XCTAssertEqual(solved.accountant, .rdp)
            XCTAssertNotNil(solved.order)
        }
    }

    func testRDPSolutionIsTight() throws {
        let solved = try SigmaCalibration.noiseMultiplier(
            targetEpsilon: 3, delta: 1e-5, samplingRate: 0.02, steps: 2000)
        XCTAssertLessThanOrEqual(solved.epsilon, 3)
        let slightlyLess = try PoissonSampledGaussian(
            samplingRate: 0.02, noiseMultiplier: solved.sigma * (1 - 1e-4), steps: 2000)
        XCTAssertGreaterThan(try RDPAccountant().epsilon(for: slightlyLess, delta: 1e-5), 3)
    }

    func testPLDRoundTrip() throws {
        let accountant = PLDAccountant()
        let m = try PoissonSampledGaussian(samplingRate: 1, noiseMultiplier: 5, steps: 10)
        let target = try accountant.epsilon(for: m, delta: 1e-5)
        let solved = try SigmaCalibration.noiseMultiplier(
            targetEpsilon: target, delta: 1e-5, samplingRate: 1, steps: 10,
            accountant: accountant, relativeTolerance: 1e-5)
        XCTAssertEqual(solved.sigma, 5, accuracy: 5e-4)
        XCTAssertLessThanOrEqual(solved.epsilon, target)
        XCTAssertNil(solved.order)
    }

    func testUnreachableTargetIsAnError() {
        XCTAssertThrowsError(
            try SigmaCalibration.noiseMultiplier(
                targetEpsilon: 1e-9, delta: 1e-12, samplingRate: 1, steps: 1_000_000)
        ) { error in
            XCTAssertEqual((error as? DPError)?.parameter, "epsilon")
        }
    }
}
