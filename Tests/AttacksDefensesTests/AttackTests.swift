import Attacks
import CZlib
import Foundation
import NeuralNet
import XCTest

final class AttackTests: XCTestCase {
    /// QBI on Gaussian synthetic data: the mean measured recall over K seeds agrees with
    /// R(N, B) = 1 - (1 - (1/B)(1 - 1/B)^(B-1))^N within a 99.9% Student-t interval built from the
    /// seeds' sample variance (the per-seed recall is a mean of B dependent Bernoulli outcomes, so
    /// the binomial variance R(1-R)/B is only a guide; the sample variance is what the test uses).
    func testQBIRecallMatchesTheoryOnSyntheticData() throws {
        let data = AttackData.synthetic()
        let seeds = 24
        for (n, b) in [(200, 20), (500, 50), (1000, 100), (300, 200)] {
            var recalls = [Double]()
            for seed in 0..<seeds {
                let round = try AttackTrial.prepare(
                    kind: .qbi, neurons: n, batch: b, data: data, seed: UInt64(1000 * n + seed))
                recalls.append(round.activation.recall)
            }
            let s = Statistics.summarize(recalls)
            let theory = RecallTheory.randomDirections(neurons: n, batch: b)
            let t = Statistics.studentTQuantile(0.9995, degreesOfFreedom: seeds - 1)
            let tolerance = t * s.standardDeviation / Double(seeds).squareRoot()
            let binomialSE = (theory * (1 - theory) / Double(b * seeds)).squareRoot()
            XCTAssertGreaterThan(s.standardDeviation, 0, "(\(n), \(b)): recall must vary over seeds")
            XCTAssertLessThanOrEqual(
                abs(s.mean - theory), tolerance,
                "(N \(n), B \(b)): measured \(s.mean) vs theory \(theory), tolerance \(tolerance) (binomial SE \(binomialSE))"
            )
        }
    }

    /// The theory itself: hand values of the closed forms.
    func testTheoryFormulas() {
        // B = 2: q = 1/2 * 1/2 = 1/4; N = 1: R = 1/4; N = 2: 1 - (3/4)^2 = 7/16.
        XCTAssertEqual(RecallTheory.randomDirections(neurons: 1, batch: 2), 0.25, accuracy: 1e-15)
        XCTAssertEqual(RecallTheory.randomDirections(neurons: 2, batch: 2), 7.0 / 16, accuracy: 1e-15)
        // Binning: 3 bins + 1 cell below, 2 samples: 3/4 * 3/4.
        XCTAssertEqual(RecallTheory.binning(bins: 3, batch: 2), 9.0 / 16, accuracy: 1e-15)
    }

    /// Every isolated sample is reconstructed to float precision, through both entry points, and
    /// nothing else counts as exact.
    func testIsolatedSamplesAreReconstructedExactly() throws {
        let data = AttackData.synthetic()
        for kind in [AttackKind.qbi, .rtf] {
            for entry in AttackEntryPoint.allCases {
                let round = try AttackTrial.prepare(
                    kind: kind, neurons: 500, batch: 20, data: data, seed: 7, entry: entry)
                let (result, inversion, quality) = try AttackTrial.evaluate(round, display: data.display) { _ in }
                XCTAssertGreaterThan(result.structuralRecall, 0.5, "\(kind) \(entry)")
                XCTAssertEqual(
                    quality.exact, round.activation.isolated, "\(kind) \(entry): exact matches = isolated samples")
                let d = data.dimension
                for (n, isolated) in round.activation.isolated.enumerated() where isolated {
                    let r = quality.bestMatch[n]
                    var maxError: Float = 0, maxValue: Float = 0
                    for j in 0..<d {
                        let x = round.originals.storage[n * d + j]
                        maxError = max(maxError, abs(inversion.reconstructions.storage[r * d + j] - x))
                        maxValue = max(maxValue, abs(x))
                    }
                    // RtF subtracts two accumulated rows, so allow a few more ulps than QBI's single division.
                    let ulps: Float = kind == .qbi ? 8 : 2048
                    XCTAssertLessThanOrEqual(maxError, ulps * maxValue.ulp, "\(kind) \(entry) sample \(n)")
                }
            }
        }
    }

    /// The aggregator's inversion of a client's FedSGD update recovers the inputs; the split server
    /// with a nontrivial client half recovers the cut-layer activations (not the inputs).
    func testEntryPointsRecoverWhatTheyDocument() throws {
        var rng = SeededGenerator(seed: 3)
        let data = AttackData.synthetic(dimension: 64, height: 8, width: 8)
        let (x, y) = try data.batch(size: 10, generator: &rng)
        // FedSGD: client update, aggregator inverts.
        let layer = try QBI.layer(neurons: 300, inputSize: 64, batchSize: 10, generator: &rng)
        let round = try FedSGDRound(layer: layer, classes: 10, generator: &rng)
        let update = try FedSGDRound.clientUpdate(model: round.model, inputs: x, labels: y)
        let inversion = try round.invert(update)
        let quality = ReconstructionEvaluation.evaluate(originals: x, inversion: inversion, display: data.display)
        XCTAssertGreaterThan(quality.exactRecall, 0.5)
        XCTAssertThrowsError(try round.invert(ModelUpdate(gradients: [:])))
        // Split: client half Dense(64 -> 32) + ReLU; the server's imprint layer sees 32 features.
        var client = Sequential(
            layers: [Dense(name: "c1", inFeatures: 64, outFeatures: 32), ReLU(name: "c1_relu")],
            inputShape: [64])
        WeightInit.kaiming.apply(to: &client, generator: &rng)
        let a = SplitLearningServer.clientActivations(client: client, inputs: x)
        XCTAssertEqual(a.shape, [10, 32])
        // Cut activations are ReLU outputs, not standardized; QBI's bias is then off, so use more
        // neurons and check exactness only where the layer isolated a sample.
        let serverLayer = try QBI.layer(neurons: 2000, inputSize: 32, batchSize: 10, generator: &rng)
        var server = try SplitLearningServer(layer: serverLayer, classes: 10, generator: &rng)
        let step = try server.step(activations: a, labels: y)
        XCTAssertEqual(step.activationGradient.shape, [10, 32])
        let q = ReconstructionEvaluation.evaluate(
            originals: a, inversion: step.inversion, display: .raw(height: 4, width: 8))
        XCTAssertGreaterThan(q.exactRecall, 0, "some cut-layer activations recovered exactly")
        let qx = ReconstructionEvaluation.evaluate(
            originals: x, inversion: Inversion(reconstructions: Tensor(shape: [0, 64]), units: []),
            display: data.display)
        XCTAssertEqual(qx.exactRecall, 0)
    }

    /// PAIRS beats QBI on the bundled real images at equal N (paired over seeds: the 95% interval of
    /// the per-seed difference lies above zero).
    func testPAIRSBeatsQBIOnRealImages() throws {
        let (train, test) = try MNISTFamily.load(.bundled)
        let data = try AttackData.images(train: train, test: test, name: "bundled")
        var differences = [Double]()
        for seed in 0..<8 {
            let q = try AttackTrial.prepare(kind: .qbi, neurons: 500, batch: 50, data: data, seed: UInt64(seed))
            let p = try AttackTrial.prepare(kind: .pairs, neurons: 500, batch: 50, data: data, seed: UInt64(seed))
            differences.append(p.activation.recall - q.activation.recall)
        }
        let s = Statistics.summarize(differences)
        XCTAssertGreaterThan(s.lower, 0, "PAIRS - QBI recall: mean \(s.mean), 95% CI \(s.interval)")
    }

    func testPAIRSPlacesNeuronsOnItsAuxiliaryData() throws {
        var rng = SeededGenerator(seed: 11)
        let aux = try AttackData.synthetic().batch(size: 100, generator: &rng).inputs
        let layer = try PAIRS.layer(neurons: 60, batchSize: 20, auxiliary: aux, generator: &rng)
        let report = try XCTUnwrap(layer.pairsReport)
        XCTAssertEqual(report.groups, 3)
        // On its own auxiliary batches every placed neuron is isolated with a distinct sample.
        var z = Tensor.matmul(aux.slice(rows: 0..<20), layer.weight.slice(rows: 0..<20), transposeB: true)
        z.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += layer.bias.storage[0] } }
        let m = ActivationMetrics.measure(preActivations: z, units: .neurons)
        XCTAssertEqual(m.precision, 1, "all 20 neurons of group 0 fire for exactly one auxiliary sample")
        XCTAssertEqual(m.recall, 1, "and they claim 20 distinct samples")
        XCTAssertThrowsError(try PAIRS.layer(neurons: 10, batchSize: 200, auxiliary: aux, generator: &rng))
    }

    func testStatisticsAgainstReferenceValues() {
        XCTAssertEqual(Statistics.normalQuantile(0.975), 1.959963984540054, accuracy: 1e-12)
        XCTAssertEqual(Statistics.normalQuantile(0.05), -1.6448536269514729, accuracy: 1e-12)
        XCTAssertEqual(Statistics.normalQuantile(1e-10), -6.361340902404056, accuracy: 1e-9)
        XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: 1), 12.706204736174707, accuracy: 1e-8)
        XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: 9), 2.2621571627409915, accuracy: 1e-9)
        let s = Statistics.summarize([1, 2, 3, 4])
        XCTAssertEqual(s.mean, 2.5)
        XCTAssertEqual(s.upper - s.mean, 3.182446305284263 * (5.0 / 3).squareRoot() / 2, accuracy: 1e-9)
        XCTAssertEqual(try QBI.bias(inputSize: 784, batchSize: 20), Float(-1.6448536269514729 * 28), accuracy: 1e-4)
        XCTAssertThrowsError(try QBI.bias(inputSize: 784, batchSize: 1))
    }

    /// The PNG writer's CRC, chunk layout and zlib stream decode back to the pixels.
    func testPNGRoundTrip() throws {
        XCTAssertEqual(PNG.crc32(Array("IEND".utf8)), 0xAE42_6082)
        let pixels: [UInt8] = (0..<12).map { UInt8($0 * 20) }
        let png = [UInt8](try PNG.grayscale(width: 4, height: 3, pixels: pixels))
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func be(_ i: Int) -> Int { png[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(be(16), 4)
        XCTAssertEqual(be(20), 3)
        let idatLength = be(33)
        XCTAssertEqual(String(decoding: png[37..<41], as: UTF8.self), "IDAT")
        var out = [UInt8](repeating: 0, count: 64)
        var outLength = uLong(out.count)
        let body = Array(png[41..<(41 + idatLength)])
        XCTAssertEqual(uncompress(&out, &outLength, body, uLong(body.count)), Z_OK)
        XCTAssertEqual(Int(outLength), 15)
        for y in 0..<3 {
            XCTAssertEqual(out[y * 5], 0, "filter byte")
            XCTAssertEqual(Array(out[(y * 5 + 1)..<(y * 5 + 5)]), Array(pixels[(y * 4)..<(y * 4 + 4)]))
        }
        XCTAssertEqual(PNG.crc32(Array(png[37..<(41 + idatLength)])), UInt32(be(41 + idatLength)))
    }
}
