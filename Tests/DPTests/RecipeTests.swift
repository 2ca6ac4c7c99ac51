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
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
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

/// `dp train`'s options as a recipe, and `bench dp-speed`'s child command line.
final class CommandRecipeTests: XCTestCase {
    func testDPTrainingRecipeFromOptions() {
        func recipe(_ optimizer: TrainingRecipe.OptimizerChoice, lr: Double?, noiseSeed: UInt64?) -> DPTrainingRecipe {
            DPTrainingRecipe(
                model: "m", data: "bundled", out: "o", epsilon: 2, delta: 1e-5, epochs: 3, batchSize: 32, clip: 0.5,
                sampling: .poisson, accountant: .pld, optimizer: optimizer, learningRate: lr, momentum: 0.8, seed: 9,
                samplingSeed: nil, noiseSeed: noiseSeed)
        }
        let sgd = recipe(.sgd, lr: nil, noiseSeed: nil)
        XCTAssertEqual(sgd.settings.optimizer, .sgd(learningRate: 0.05, momentum: 0.8))
        XCTAssertEqual(sgd.learningRate, 0.05)
        XCTAssertEqual(sgd.optimizerName, "sgd")
        XCTAssertEqual(sgd.settings.noise, .system)
        XCTAssertEqual(sgd.settings.samplingSource, .system)
        XCTAssertTrue(sgd.settings.options.supportsProvenClaim)
        XCTAssertEqual(
            [sgd.settings.targetEpsilon, sgd.settings.delta, sgd.settings.clippingNorm], [2, 1e-5, 0.5])
        XCTAssertEqual([sgd.settings.epochs, sgd.settings.batchSize], [3, 32])
        XCTAssertEqual(sgd.settings.initializationSeed, 9)
        XCTAssertEqual(sgd.settings.accountant, .pld)
        let adam = recipe(.adam, lr: nil, noiseSeed: 4)
        XCTAssertEqual(adam.settings.optimizer, .adam(learningRate: 0.002))
        XCTAssertEqual(adam.settings.noise, .seeded(4))
        XCTAssertFalse(adam.settings.options.supportsProvenClaim, "a seeded noise source is not a proven claim")
        XCTAssertEqual(recipe(.adam, lr: 0.01, noiseSeed: nil).settings.optimizer, .adam(learningRate: 0.01))
    }

    func testDPSpeedChildArguments() {
        let b = DPSpeedBenchmark(
            models: ["mlp-784-128-10", "cnn-small"], threads: [1, 2], data: "bundled", batch: 64, clip: 1, sigma: 1.5,
            epochs: 3)
        XCTAssertEqual(
            b.childArguments,
            [
                "bench", "dp-speed", "--child", "--models", "mlp-784-128-10,cnn-small", "--epochs", "3", "--batch",
                "64",
                "--clip", "1.0", "--sigma", "1.5", "--data", "bundled",
            ])
    }
}
