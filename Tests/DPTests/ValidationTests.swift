import DP
import XCTest

/// Bad parameters must fail with a typed error naming the parameter.
final class ValidationTests: XCTestCase {
    func assertRejects(_ parameter: String, _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard let dpError = error as? DPError else {
                return XCTFail("not a DPError: \(error)", line: line)
            }
            XCTAssertEqual(dpError.parameter, parameter, line: line)
            XCTAssertTrue(dpError.description.contains(parameter), line: line)
        }
    }

    func testMechanismParameters() {
        for q in [0.0, -0.1, 1.5, .nan, .infinity] {
            assertRejects("q") {
                _ = try PoissonSampledGaussian(samplingRate: q, noiseMultiplier: 1, steps: 1)
            }
        }
        for sigma in [0.0, -1.0, .nan, .infinity] {
            assertRejects("sigma") {
                _ = try PoissonSampledGaussian(samplingRate: 0.1, noiseMultiplier: sigma, steps: 1)
            }
        }
        for steps in [0, -5] {
            assertRejects("steps") {
                _ = try PoissonSampledGaussian(samplingRate: 0.1, noiseMultiplier: 1, steps: steps)
            }
        }
        XCTAssertNoThrow(try PoissonSampledGaussian(samplingRate: 1, noiseMultiplier: 1, steps: 1))
    }

    func testDelta() throws {
        let m = try PoissonSampledGaussian(samplingRate: 0.1, noiseMultiplier: 1, steps: 10)
        for delta in [0.0, 1.0, 1.5, -1e-5, .nan] {
            assertRejects("delta") { _ = try RDPAccountant().epsilon(for: m, delta: delta) }
            assertRejects("delta") { _ = try PLDAccountant().epsilon(for: m, delta: delta) }
        }
    }

    func testEpsilonTargets() {
        for eps in [0.0, -1.0, .nan] {
            assertRejects("epsilon") {
                _ = try SigmaCalibration.noiseMultiplier(
                    targetEpsilon: eps, delta: 1e-5, samplingRate: 0.1, steps: 10)
            }
            assertRejects("epsilon") {
                _ = try WeightNoise.dpWeights(
                    epsilon: eps, epochs: 1, learningRate: 0.1, clippingNorm: 1, datasetSize: 100,
                    batchSize: 10)
            }
            assertRejects("epsilon") {
                _ = try WeightNoise.analyticGaussian(sensitivity: 1, epsilon: eps, delta: 1e-5)
            }
        }
        assertRejects("q") {
            _ = try SigmaCalibration.noiseMultiplier(
                targetEpsilon: 1, delta: 1e-5, samplingRate: 2, steps: 10)
        }
        assertRejects("steps") {
            _ = try SigmaCalibration.noiseMultiplier(
                targetEpsilon: 1, delta: 1e-5, samplingRate: 0.1, steps: 0)
        }
    }

    func testCalibrationParameters() {
        assertRejects("dataset-size") {
            _ = try WeightNoise.dpWeights(
                epsilon: 1, epochs: 1, learningRate: 0.1, clippingNorm: 1, datasetSize: 1,
                batchSize: 1)
        }
        assertRejects("batch-size") {
            _ = try WeightNoise.dpWeights(
                epsilon: 1, epochs: 1, learningRate: 0.1, clippingNorm: 1, datasetSize: 100,
                batchSize: 0)
        }
        assertRejects("regularization") {
            _ = try WeightNoise.outputPerturbationSensitivity(
                lipschitz: 1, regularization: 0, datasetSize: 10)
        }
        assertRejects("sensitivity") {
            _ = try WeightNoise.classicGaussian(sensitivity: -1, epsilon: 0.5, delta: 1e-5)
        }
        assertRejects("orders") { _ = try RDPAccountant(orders: [0.5, 2]) }
    }
}

final class PLDSizeCapTests: XCTestCase {
    /// A tiny sigma would need ~10^8 grid points; the accountant refuses instead of allocating.
    func testTinySigmaIsRefusedNotAllocated() throws {
        let m = try PoissonSampledGaussian(samplingRate: 0.01, noiseMultiplier: 0.01, steps: 10)
        XCTAssertThrowsError(try PLDAccountant().epsilon(for: m, delta: 1e-5)) { error in
            XCTAssertEqual((error as? DPError)?.parameter, "sigma")
        }
        XCTAssertGreaterThan(try RDPAccountant().epsilon(for: m, delta: 1e-5), 0)
    }
}
