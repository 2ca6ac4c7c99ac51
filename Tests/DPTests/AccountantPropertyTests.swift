import DP
import Foundation
import XCTest

final class AccountantPropertyTests: XCTestCase {
    func testDefaultOrdersAreTheReferenceList() {
        let orders = RDPAccountant.defaultOrders
        XCTAssertEqual(orders.count, 99 + 52)
        XCTAssertEqual(orders.first, 1.1)
        XCTAssertEqual(orders[98], 10.9, accuracy: 1e-12)
        XCTAssertEqual(orders[99], 12)
        XCTAssertEqual(orders.last, 63)
    }

    /// Without subsampling the per-step RDP is alpha / (2 sigma^2), and T steps compose to
    /// T alpha / (2 sigma^2); the conversion of Balle et al. 2020 is then a closed form per order.
    func testFullBatchIsTheGaussianClosedForm() throws {
        let sigma = 5.0
        let steps = 10
        let delta = 1e-5
        let mechanism = try PoissonSampledGaussian(
            samplingRate: 1, noiseMultiplier: sigma, steps: steps)
        let accountant = RDPAccountant()
        let rdp = accountant.rdp(of: mechanism)
        var best = Double.infinity
        for (alpha, r) in zip(accountant.orders, rdp) {
            XCTAssertEqual(r, Double(steps) * alpha / (2 * sigma * sigma), accuracy: 1e-12)
            best = min(best, r + log1p(-1 / alpha) - log(delta * alpha) / (alpha - 1))
        }
        XCTAssertEqual(try accountant.epsilon(for: mechanism, delta: delta), best, accuracy: 1e-12)
    }

    func testEpsilonIsMonotoneInSigmaAndSteps() throws {
        for accountant in [RDPAccountant() as any PrivacyAccountant, PLDAccountant()] {
            var last = Double.infinity
            for sigma in [0.8, 1.0, 1.5, 3.0] {
                let m = try PoissonSampledGaussian(
                    samplingRate: 0.05, noiseMultiplier: sigma, steps: 200)
                let eps = try accountant.epsilon(for: m, delta: 1e-5)
                XCTAssertLessThan(eps, last, "\(accountant.kind) at sigma \(sigma)")
                last = eps
            }
            last = 0
            for steps in [10, 100, 1000] {
                let m = try PoissonSampledGaussian(
                    samplingRate: 0.05, noiseMultiplier: 1.2, steps: steps)
                let eps = try accountant.epsilon(for: m, delta: 1e-5)
                XCTAssertGreaterThan(eps, last, "\(accountant.kind) at \(steps) steps")
                last = eps
            }
        }
    }

    /// The KL shortcut of the conversion: with enormous noise the RDP is so small that the bound
    /// delta <= sqrt(1 - exp(-rdp)) already holds, and epsilon is exactly 0 (as in the reference).
    func testHugeNoiseGivesZeroEpsilon() throws {
        let m = try PoissonSampledGaussian(samplingRate: 0.001, noiseMultiplier: 1000, steps: 1)
        XCTAssertEqual(try RDPAccountant().epsilon(for: m, delta: 0.5), 0)
    }

    func testConversionPicksTheFirstMinimum() {
        let (eps, order) = RDPAccountant.epsilon(
            orders: [2, 3, 4], rdp: [.infinity, 0.5, .infinity], delta: 1e-5)
        XCTAssertEqual(order, 3)
        XCTAssertEqual(eps, 0.5 + log1p(-1.0 / 3) - log(1e-5 * 3) / 2, accuracy: 1e-12)
    }
}
