import DP
import Foundation
import NeuralNet
import XCTest

final class WeightNoisingTests: XCTestCase {
    /// A model file of zeros with the hyperparameters DP-Weights needs in its metadata.
    func zeroModelFile(parameters: Int = 200_000) -> SafeTensorsFile {
        SafeTensorsFile(
            tensors: [
                ("fc.weight", Tensor(shape: [parameters / 100, 100])),
                ("fc.bias", Tensor(shape: [parameters / 100])),
            ],
            metadata: TrainingHyperparameters(
                epochs: 10, learningRate: 0.1, batchSize: 256, datasetSize: 60000, clippingNorm: 1
            ).metadata.merging(["model": "test"]) { a, _ in a })
    }

    /// The applied noise has the formula's standard deviation: empirical std of the weight
    /// deltas within 1% of sigma over 202,000 parameters, at several epsilons.
    func testDPWeightsAppliedNoiseMatchesTheFormula() throws {
        let file = zeroModelFile()
        for eps in [0.5, 1.0, 3.0, 8.0] {
            var noise = GaussianSampler(.seeded(UInt64(eps * 10)))
            let noised = try WeightNoising.dpWeights(
                file, epsilon: eps, hyperparameters: TrainingHyperparameters(metadata: file.metadata),
                noise: &noise)
            let expected = try WeightNoise.dpWeights(
                epsilon: eps, epochs: 10, learningRate: 0.1, clippingNorm: 1, datasetSize: 60000,
                batchSize: 256
            ).sigma
            XCTAssertEqual(noised.record.sigma, expected)
            let deltas = noised.file.tensors.flatMap { $0.tensor.storage.map(Double.init) }
            XCTAssertEqual(deltas.count, 202_000)
            let mean = deltas.reduce(0, +) / Double(deltas.count)
            let std = (deltas.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(deltas.count))
                .squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 5 * expected / Double(deltas.count).squareRoot())
            XCTAssertEqual(std, expected, accuracy: 0.01 * expected, "eps \(eps)")
            XCTAssertEqual(noised.record.method, .dpWeights)
            XCTAssertFalse(noised.record.proven)
            XCTAssertEqual(noised.file.metadata["proven"], "false")
            XCTAssertEqual(noised.file.metadata["method"], "dpweights")
            XCTAssertTrue(noised.record.note.contains("HEURISTIC"))
            XCTAssertEqual(noised.file.metadata["delta"], "\(1.0 / (60000.0 * 60000.0))")
            XCTAssertEqual(noised.file.metadata["model"], "test", "other metadata kept")
        }
        // The input value is untouched.
        XCTAssertTrue(file.tensors.allSatisfy { $0.tensor.storage.allSatisfy { $0 == 0 } })
    }

    func testDPWeightsNamesTheMissingHyperparameter() {
        let file = SafeTensorsFile(tensors: [("w", Tensor(shape: [3]))], metadata: ["trained_epochs": "3"])
        var noise = GaussianSampler(.seeded(1))
        XCTAssertThrowsError(
            try WeightNoising.dpWeights(
                file, epsilon: 1, hyperparameters: TrainingHyperparameters(metadata: file.metadata),
                noise: &noise)
        ) {
            XCTAssertEqual(($0 as? DPError)?.parameter, "learning_rate")
        }
    }

    /// Synthetic 3-class data with ||x|| <= 1.
    func syntheticData(n: Int, seed: UInt64) throws -> Dataset {
        var g = SeededGenerator(seed: seed)
        var labels = [Int]()
        let x = Tensor(shape: [n, 10]) { p in
            for i in 0..<n {
                let y = g.nextInt(below: 3)
                labels.append(y)
                var sq: Float = 0
                for j in 0..<10 {
                    let v = (j % 3 == y ? 0.6 : 0) + 0.5 * (2 * g.nextUniform() - 1)
                    p[i * 10 + j] = v
                    sq += v * v
                }
                let s = 1 / max(1, sq.squareRoot() * 1.0001)
                for j in 0..<10 { p[i * 10 + j] *= s }
            }
        }
        return try Dataset(features: x, labels: labels, classCount: 3)
    }

    func parameters(_ model: Sequential) -> [Double] {
        model.namedParameters.flatMap { $0.value.storage.map(Double.init) }
    }

    /// Replacing one training example moves the trained weights by at most the recorded
    /// sensitivity 2L/(gamma n), for ordinary and adversarial replacements, and the bound is not
    /// vacuous (the largest observed move is a sizeable fraction of it).
    func testOutputPerturbationSensitivityBoundsNeighbouringModels() throws {
        let n = 200
        let data = try syntheticData(n: n, seed: 7)
        for gamma in [0.05, 0.3] {
            let (base, a) = try PrivateLogisticRegression.train(data: data, l2: gamma, passes: 4, seed: 5)
            XCTAssertEqual(a.lossLipschitz, 2, accuracy: 1e-12)
            XCTAssertEqual(a.lipschitz, 4, accuracy: 1e-12)
            XCTAssertEqual(a.radius, 2 / gamma, accuracy: 1e-12)
            XCTAssertEqual(a.sensitivity, 8 / (gamma * Double(n)), accuracy: 1e-12)
            XCTAssertEqual(
                a.sensitivity,
                try WeightNoise.outputPerturbationSensitivity(
                    lipschitz: a.lipschitz, regularization: gamma, datasetSize: n))
            let theta = parameters(base)
            var largest = 0.0
            for (index, replacement) in [(0, 2), (17, 0), (123, 1), (199, 2)] {
                var x = data.features.storage
                var labels = data.labels
                // Adversarial neighbour: a unit-norm input pointing at another class.
                for j in 0..<10 { x[index * 10 + j] = j == replacement ? 1 : 0 }
                labels[index] = (data.labels[index] + 1) % 3
                let neighbour = try Dataset(
                    features: try Tensor(shape: [n, 10], storage: x), labels: labels, classCount: 3)
                let (other, _) = try PrivateLogisticRegression.train(
                    data: neighbour, l2: gamma, passes: 4, seed: 5)
                let distance = zip(theta, parameters(other)).map { ($0 - $1) * ($0 - $1) }
                    .reduce(0, +).squareRoot()
                XCTAssertLessThanOrEqual(distance, a.sensitivity, "gamma \(gamma), index \(index)")
                largest = max(largest, distance)
            }
            print("gamma \(gamma): largest neighbour distance \(largest), bound \(a.sensitivity)")
            XCTAssertGreaterThan(largest, 0.01 * a.sensitivity)
        }
    }

    func testOutputPerturbationRecordsAProvenClaim() throws {
        let data = try syntheticData(n: 300, seed: 3)
        let (model, a) = try PrivateLogisticRegression.train(data: data, l2: 0.1, passes: 2, seed: 1)
        let file = SafeTensorsFile(
            tensors: model.namedParameters.map { ($0.name, $0.value) }, metadata: a.metadata)
        var noise = GaussianSampler(.seeded(4))
        let noised = try WeightNoising.outputPerturbation(file, epsilon: 2, delta: 1e-5, noise: &noise)
        let expected = try WeightNoise.analyticGaussian(sensitivity: a.sensitivity, epsilon: 2, delta: 1e-5)
        XCTAssertEqual(noised.record.sigma, expected.sigma)
        // Seeded noise can be subtracted by whoever knows the seed: not proven.
        XCTAssertFalse(noised.record.proven)
        XCTAssertEqual(noised.record.noiseSource, "seeded")
        XCTAssertTrue(noised.record.note.contains("SEEDED"))
        XCTAssertEqual(noised.record.neighbouring, .replaceOne)
        XCTAssertEqual(noised.record.datasetSize, a.datasetSize)
        var secret = GaussianSampler(.system)
        let released = try WeightNoising.outputPerturbation(file, epsilon: 2, delta: 1e-5, noise: &secret)
        XCTAssertTrue(released.record.proven)
        XCTAssertEqual(released.record.privacyUnit, .example)
        XCTAssertEqual(released.file.metadata["neighbouring"], "replace-one")
        XCTAssertEqual(noised.record.sensitivity, a.sensitivity)
        XCTAssertEqual(try LogisticRegressionAssumptions(metadata: noised.file.metadata), a)
        // A model without the assumptions is refused, naming the key.
        let plain = SafeTensorsFile(tensors: file.tensors, metadata: [:])
        XCTAssertThrowsError(try WeightNoising.outputPerturbation(plain, epsilon: 2, delta: 1e-5, noise: &noise)) {
            XCTAssertEqual(($0 as? DPError)?.parameter, "trainer")
        }
    }

    func testLogisticRegressionLearnsAndRejectsUnclippedInputs() throws {
        let data = try syntheticData(n: 600, seed: 9)
        let (model, _) = try PrivateLogisticRegression.train(data: data, l2: 0.01, passes: 5, seed: 2)
        let acc = Trainer.evaluate(model: model, loss: .softmaxCrossEntropy, data: data).accuracy
        XCTAssertGreaterThan(acc, 0.9)
        var big = data
        big.scaleFeatures(by: 10)
        XCTAssertThrowsError(try PrivateLogisticRegression.train(data: big, l2: 0.01, passes: 1, seed: 2)) {
            XCTAssertEqual(($0 as? DPError)?.parameter, "data")
        }
        let pre = try PrivateLogisticRegression.preprocess(big)
        for n in 0..<pre.count {
            let row = pre.features.storage[(n * 10)..<((n + 1) * 10)]
            XCTAssertLessThanOrEqual(row.map { Double($0) * Double($0) }.reduce(0, +), 1)
        }
    }

    func testPostDPSGDKeepsTheDPSGDClaim() throws {
        let plan = try DPSGDPlan.calibrate(
            targetEpsilon: 3, delta: 1e-5, datasetSize: 1000, batchSize: 50, epochs: 2)
        let record = DPSGDTrainer.record(
            plan: plan, options: DPSGDOptions(clippingNorm: 1.5),
            epsilonSpent: plan.epsilon, steps: plan.totalSteps, datasetSize: 1000)
        let file = SafeTensorsFile(
            tensors: [("w", Tensor(shape: [50_000]))], metadata: record.metadata)
        var noise = GaussianSampler(.seeded(8))
        let once = try WeightNoising.postDPSGD(file, extraStandardDeviation: 0.03, noise: &noise)
        let twice = try WeightNoising.postDPSGD(once.file, extraStandardDeviation: 0.04, noise: &noise)
        for r in [once.record, twice.record] {
            XCTAssertEqual(r.method, .postDPSGD)
            XCTAssertEqual(r.epsilon, record.epsilon)
            XCTAssertEqual(r.delta, 1e-5)
            XCTAssertTrue(r.proven)
            XCTAssertEqual(r.extra["dpsgd_sigma"], "\(plan.noiseMultiplier)")
            XCTAssertEqual(r.steps, plan.totalSteps)
            // The training's randomness stays recorded; the extra noise's source is its own key.
            XCTAssertEqual(r.noiseSource, "system")
            XCTAssertEqual(r.samplingSource, "system")
            XCTAssertEqual(r.extra["post_noise_source"], "seeded")
            XCTAssertEqual(r.neighbouring, .addRemove)
        }
        XCTAssertEqual(twice.record.sigma, 0.05, accuracy: 1e-12)
        let v = twice.file.tensors[0].tensor.storage.map(Double.init)
        let std = (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot()
        XCTAssertEqual(std, 0.05, accuracy: 0.0015)
        // Only DP-SGD models qualify.
        let heuristic = SafeTensorsFile(
            tensors: file.tensors,
            metadata: PrivacyRecord(
                method: .dpWeights, sigma: 0.01, epsilon: 1, delta: 1e-9, proven: false, note: ""
            ).metadata)
        XCTAssertThrowsError(try WeightNoising.postDPSGD(heuristic, extraStandardDeviation: 0.1, noise: &noise)) {
            XCTAssertEqual(($0 as? DPError)?.parameter, "method")
        }
    }

    /// Write a DP-SGD model file, read it back: the record survives byte for byte, and a
    /// shuffled-batch run is recorded as not proven.
    func testMetadataRoundTripThroughSafetensors() throws {
        let plan = try DPSGDPlan.calibrate(
            targetEpsilon: 8, delta: 1e-5, datasetSize: 4000, batchSize: 64, epochs: 5)
        for sampling in BatchSampling.allCases {
            let record = DPSGDTrainer.record(
                plan: plan, options: DPSGDOptions(clippingNorm: 1, sampling: sampling),
                epsilonSpent: plan.epsilon, steps: plan.totalSteps, datasetSize: 4000)
            XCTAssertEqual(record.proven, sampling == .poisson)
            let model = Sequential(
                layers: [Dense(name: "fc", inFeatures: 4, outFeatures: 2)], inputShape: [4])
            let url = FileManager.default.temporaryDirectory
                .appendingPathComponent("dp-record-\(sampling.rawValue)-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try model.saveSafetensors(to: url, metadata: record.merged(into: ["model": "fc"]))
            let meta = try SafeTensors.read(url).metadata
            let back = try PrivacyRecord(metadata: meta)
            XCTAssertEqual(back, record)
            XCTAssertEqual(meta["method"], "dpsgd")
            XCTAssertEqual(meta["sigma"], "\(plan.noiseMultiplier)")
            XCTAssertEqual(meta["q"], "0.016")
            XCTAssertEqual(meta["steps"], "315")
            XCTAssertEqual(meta["accountant"], "rdp")
            XCTAssertEqual(meta["proven"], sampling == .poisson ? "true" : "false")
            XCTAssertEqual(meta["model"], "fc")
            XCTAssertEqual(meta["privacy_unit"], "example")
            XCTAssertEqual(meta["neighbouring"], "add-remove")
            XCTAssertEqual(meta["n"], "4000")
            XCTAssertEqual(meta["public"], "n,q")
            XCTAssertEqual(meta["sampling_source"], "system")
            XCTAssertEqual(meta["noise_source"], "system")
        }
    }

    func testBadParametersGiveClearErrors() throws {
        func rejects(_ parameter: String, line: UInt = #line, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), line: line) { error in
                guard let e = error as? DPError else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(e.parameter, parameter, line: line)
                XCTAssertTrue(e.description.contains(parameter), line: line)
            }
        }
        for eps in [0.0, -1, .nan] {
            rejects("epsilon") {
                _ = try DPSGDPlan.calibrate(
                    targetEpsilon: eps, delta: 1e-5, datasetSize: 100, batchSize: 10, epochs: 1)
            }
        }
        for delta in [0.0, 1.0, 2.0] {
            rejects("delta") {
                _ = try DPSGDPlan.calibrate(
                    targetEpsilon: 1, delta: delta, datasetSize: 100, batchSize: 10, epochs: 1)
            }
            var noise = GaussianSampler(.seeded(1))
            rejects("delta") {
                _ = try WeightNoising.outputPerturbation(
                    SafeTensorsFile(tensors: []), epsilon: 1, delta: delta, noise: &noise)
            }
        }
        for batch in [0, 101] {
            rejects("batch") {
                _ = try DPSGDPlan.calibrate(
                    targetEpsilon: 1, delta: 1e-5, datasetSize: 100, batchSize: batch, epochs: 1)
            }
        }
        rejects("epochs") {
            _ = try DPSGDPlan.calibrate(
                targetEpsilon: 1, delta: 1e-5, datasetSize: 100, batchSize: 10, epochs: 0)
        }
        rejects("clip") {
            _ = try DPSGDConfiguration(clippingNorm: 0, noiseMultiplier: 1, expectedBatchSize: 10)
        }
        rejects("sigma") {
            _ = try DPSGDConfiguration(clippingNorm: 1, noiseMultiplier: -1, expectedBatchSize: 10)
        }
        var noise = GaussianSampler(.seeded(1))
        let file = zeroModelFile(parameters: 200)
        rejects("epsilon") {
            _ = try WeightNoising.dpWeights(
                file, epsilon: 0, hyperparameters: TrainingHyperparameters(metadata: file.metadata),
                noise: &noise)
        }
        rejects("sigma") { _ = try WeightNoising.postDPSGD(file, extraStandardDeviation: 0, noise: &noise) }
        rejects("method") { _ = try WeightNoising.postDPSGD(file, extraStandardDeviation: 1, noise: &noise) }
        rejects("l2") {
            _ = try PrivateLogisticRegression.train(
                data: try self.syntheticData(n: 10, seed: 1), l2: 0, passes: 1, seed: 1)
        }
        rejects("proven") {
            _ = try PrivacyRecord(
                metadata: ["method": "dpsgd", "sigma": "1", "epsilon": "1", "delta": "1e-5"])
        }
        rejects("sigma") {
            _ = try PrivacyRecord(
                metadata: ["method": "dpsgd", "sigma": "x", "epsilon": "1", "delta": "1e-5", "proven": "true"])
        }
        // A non-F32 tensor is refused by the reader before any noise is added.
        let header = #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: [0, 0, 0, 0])
        XCTAssertThrowsError(try SafeTensors.decode(data)) {
            XCTAssertEqual($0 as? SafeTensorsError, .unsupportedDType(tensor: "w", dtype: "F16"))
        }
    }
}
