import DP
import NeuralNet
import XCTest

/// The `dp` commands' library calls.
final class RecipeTests: XCTestCase {
    /// Epsilon for a sigma, then the sigma for that epsilon, round-trips; giving both or neither
    /// is refused.
    func testAccountingAnswerBothDirections() throws {
        let forward = try PrivacyAccountingAnswer.compute(
            q: 0.01, sigma: 1.1, targetEpsilon: nil, steps: 1000, delta: 1e-5,
            accountant: .rdp)
        XCTAssertGreaterThan(forward.epsilon, 0)
        XCTAssertNotNil(forward.order)
        let back = try PrivacyAccountingAnswer.compute(
            q: 0.01, sigma: nil, targetEpsilon: forward.epsilon, steps: 1000,
            delta: 1e-5, accountant: .rdp)
        XCTAssertEqual(back.sigma, 1.1, accuracy: 1e-3)
        XCTAssertTrue(back.text.hasPrefix("sigma = "))
        XCTAssertTrue(forward.text.hasPrefix("epsilon = "))
        for (sigma, target) in [(1.0, 1.0), (nil, nil)] as [(Double?, Double?)] {
            XCTAssertThrowsError(
                try PrivacyAccountingAnswer.compute(
                    q: 0.01, sigma: sigma, targetEpsilon: target, steps: 10,
                    delta: 1e-5, accountant: .rdp)
            ) {
                guard case .invalidParameter? = $0 as? DPError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertThrowsError(
            try PrivacyAccountingAnswer.compute(
                q: 1.5, sigma: 1, targetEpsilon: nil, steps: 10, delta: 1e-5,
                accountant: .pld))
    }

    /// The input model is never overwritten, and a missing one is unreadable, before any noise.
    func testWeightNoisingRefusesItsInputAsOutputAndMissingFiles() throws {
        let path = NSTemporaryDirectory() + "verisplit-recipe-\(getpid()).safetensors"
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let same = WeightNoisingRequest(
            model: path, out: path, method: .dpWeights, epsilon: 1, delta: 1e-5,
            hyperparameters: TrainingHyperparameters(), sigma: nil, noiseSeed: 1)
        XCTAssertThrowsError(try same.run()) {
            guard case .invalidParameter(let name, _, _, _)? = $0 as? DPError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "out")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data("x".utf8))
        let missing = WeightNoisingRequest(
            model: path + ".none", out: path + ".out", method: .dpWeights, epsilon: 1, delta: 1e-5,
            hyperparameters: TrainingHyperparameters(), sigma: nil, noiseSeed: 1)
        XCTAssertThrowsError(try missing.run()) {
            guard case .unreadable? = $0 as? DPError else { return XCTFail("\($0)") }
        }
        let dpsgd = WeightNoisingRequest(
            model: path, out: path + ".out", method: .dpsgd, epsilon: 1, delta: 1e-5,
            hyperparameters: TrainingHyperparameters(), sigma: nil, noiseSeed: 1)
        XCTAssertThrowsError(try dpsgd.run())
    }

    /// The accountant benchmark's table has the figures the README quotes, under stable keys.
    func testAccountantBenchmarkTable() throws {
        let t = try AccountantBenchmark.table(rdpRuns: 1, pldRuns: 1)
        XCTAssertEqual(
            t.rows.map(\.0),
            ["q", "sigma", "steps", "delta", "rdp_ms", "rdp_epsilon", "rdp_order", "pld_ms", "pld_epsilon"])
        XCTAssertTrue(t.json.hasPrefix("{\"q\": "))
    }
}
