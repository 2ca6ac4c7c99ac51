import DP
import NeuralNet
import XCTest

/// Issue 24: `dp noise --method post-dpsgd` copied epsilon -1 or 0 and delta -1 or 1e308 from a
/// model's metadata into a model marked proven, and with clip 1e308 wrote every weight as +-Inf.
final class RecordValidationTests: XCTestCase {
    func dpsgdFile(_ changes: [String: String] = [:]) throws -> SafeTensorsFile {
        let plan = try DPSGDPlan.calibrate(targetEpsilon: 3, delta: 1e-5, datasetSize: 1000, batchSize: 50, epochs: 1)
        let record = DPSGDTrainer.record(
            plan: plan, options: DPSGDOptions(clippingNorm: 1, noise: .seeded(1)),
            epsilonSpent: plan.epsilon, steps: plan.totalSteps, datasetSize: 1000)
        return SafeTensorsFile(
            tensors: [("w", Tensor(shape: [100]))], metadata: record.metadata.merging(changes) { _, new in new })
    }

    /// Impossible budgets in the metadata are refused when the record is read, naming the key;
    /// post-dpsgd therefore never copies them into a new model.
    func testImpossibleBudgetsAreRefused() throws {
        var noise = GaussianSampler(.seeded(2))
        XCTAssertNoThrow(try WeightNoising.postDPSGD(try dpsgdFile(), extraStandardDeviation: 0.01, noise: &noise))
        let cases: [(String, String)] = [
            ("epsilon", "-1"), ("epsilon", "0"), ("epsilon", "inf"), ("epsilon", "nan"),
            ("delta", "-1"), ("delta", "0"), ("delta", "1"), ("delta", "1e308"),
            ("sigma", "0"), ("sigma", "-2"), ("sigma", "inf"),
        ]
        for (key, value) in cases {
            let file = try dpsgdFile([key: value])
            XCTAssertThrowsError(try PrivacyRecord(metadata: file.metadata), "\(key) = \(value)") { error in
                XCTAssertEqual((error as? DPError)?.parameter, key, "\(key) = \(value): \(error)")
            }
            XCTAssertThrowsError(
                try WeightNoising.postDPSGD(file, extraStandardDeviation: 0.01, noise: &noise),
                "\(key) = \(value)")
        }
    }

    /// Noise too large for Float32 (what clip 1e308 gives through the DP-Weights calibration)
    /// is an error, not a file of infinities; so is a model that already holds one.
    func testNonFiniteWeightsAreRefused() throws {
        var noise = GaussianSampler(.seeded(3))
        XCTAssertThrowsError(try WeightNoising.postDPSGD(try dpsgdFile(), extraStandardDeviation: 1e300, noise: &noise))
        { error in
            XCTAssertEqual((error as? DPError)?.parameter, "sigma")
        }
        var file = try dpsgdFile()
        file.tensors[0].tensor.withUnsafeMutableBufferPointer { $0[3] = .infinity }
        XCTAssertThrowsError(try WeightNoising.postDPSGD(file, extraStandardDeviation: 0.01, noise: &noise)) { error in
            XCTAssertEqual((error as? DPError)?.parameter, "w")
        }
        let hyper = TrainingHyperparameters(
            epochs: 1, learningRate: 0.1, batchSize: 50, datasetSize: 1000, clippingNorm: 1e308)
        XCTAssertThrowsError(
            try WeightNoising.dpWeights(try dpsgdFile(), epsilon: 1, hyperparameters: hyper, noise: &noise))
    }
}
