import DP
import Foundation
import XCTest

/// Reference epsilons from Google's dp_accounting 0.6.0 (Tests/DPTests/Resources/dp-epsilon.json):
/// our RDP must agree to 1e-6 relative (and pick the same order), our PLD to 1e-3 relative.
final class AccountantFixtureTests: XCTestCase {
    struct Fixture: Decodable {
        struct Point: Decodable {
            let q: Double
            let sigma: Double
            let steps: Int
            let delta: Double
            let rdp_eps: Double
            let rdp_order: Double
            let pld_eps: Double
        }
        let points: [Point]
    }

    func loadFixture() throws -> [Fixture.Point] {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "dp-epsilon", withExtension: "json"),
            "dp-epsilon.json missing from the test bundle")
        let points = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).points
        XCTAssertEqual(points.count, 8)
        return points
    }

    func testRDPMatchesReference() throws {
        var worst = 0.0
        for p in try loadFixture() {
            let mechanism = try PoissonSampledGaussian(
                samplingRate: p.q, noiseMultiplier: p.sigma, steps: p.steps)
            let result = try RDPAccountant().guarantee(for: mechanism, delta: p.delta)
            let rel = abs(result.epsilon / p.rdp_eps - 1)
            worst = max(worst, rel)
            XCTAssertLessThanOrEqual(rel, 1e-6, "RDP epsilon at q=\(p.q) sigma=\(p.sigma)")
            XCTAssertEqual(try XCTUnwrap(result.order), p.rdp_order, accuracy: 1e-9)
            XCTAssertEqual(result.accountant, .rdp)
        }
        print("RDP max relative error vs dp_accounting: \(worst)")
    }

    func testPLDMatchesReference() throws {
        var worst = 0.0
        for p in try loadFixture() {
            let mechanism = try PoissonSampledGaussian(
                samplingRate: p.q, noiseMultiplier: p.sigma, steps: p.steps)
            let eps = try PLDAccountant().epsilon(for: mechanism, delta: p.delta)
            let rel = abs(eps / p.pld_eps - 1)
            worst = max(worst, rel)
            XCTAssertLessThanOrEqual(rel, 1e-3, "PLD epsilon at q=\(p.q) sigma=\(p.sigma)")
            // PLD is the tighter analysis of the same mechanism.
            XCTAssertLessThan(eps, p.rdp_eps)
        }
        print("PLD max relative error vs dp_accounting: \(worst)")
    }

    func testPLDDeltaAtReturnedEpsilonIsWithinTarget() throws {
        let mechanism = try PoissonSampledGaussian(
            samplingRate: 0.1, noiseMultiplier: 2.0, steps: 100)
        let accountant = PLDAccountant()
        let eps = try accountant.epsilon(for: mechanism, delta: 1e-5)
        let delta = try accountant.delta(for: mechanism, epsilon: eps)
        XCTAssertLessThanOrEqual(delta, 1e-5 * (1 + 1e-9))
        XCTAssertGreaterThan(delta, 0.9e-5)
        XCTAssertGreaterThan(try accountant.delta(for: mechanism, epsilon: eps - 0.01), 1e-5)
    }
}
