import DP
import Foundation
import NeuralNet
import XCTest

/// The claims a DP-SGD record makes (issue 23, points 1-3 and the divergence stop), each played
/// the way someone relying on the record would find it false.
final class PrivacyClaimTests: XCTestCase {
    /// 300 samples of 12 features in 3 noisy clusters, and a 12-16-3 MLP.
    private func problem() throws -> (spec: ModelSpec, train: Dataset, test: Dataset) {
        func data(_ n: Int, seed: UInt64) throws -> Dataset {
            var rng = SeededGenerator(seed: seed)
            let labels = (0..<n).map { $0 % 3 }
            let x = Tensor(shape: [n, 12]) { p in
                for i in 0..<n {
                    for j in 0..<12 { p[i * 12 + j] = (j % 3 == labels[i] ? 1.5 : 0) + rng.nextNormal() }
                }
            }
            return try Dataset(features: x, labels: labels, classCount: 3)
        }
        let spec = try ModelSpec(
            name: "mlp-12-16-3", inputShape: [12],
            layers: [
                .dense(name: "fc1", inFeatures: 12, outFeatures: 16, bias: true), .relu(name: "relu1"),
                .dense(name: "fc2", inFeatures: 16, outFeatures: 3, bias: true),
            ])
        return (spec, try data(300, seed: 1), try data(90, seed: 2))
    }

    private func weights(_ r: DPTrainingResult) -> [Float] {
        r.model.namedParameters.flatMap { $0.value.storage }
    }

    private func run(
        _ settings: DPTrainingSettings, spec: ModelSpec, train: Dataset, test: Dataset?
    ) throws -> DPTrainingResult {
        let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
        return try DPTraining.train(spec: spec, train: train, test: test, settings: settings, plan: plan)
    }

    /// Point 1. The old `dp train` drew its Poisson batches from `--seed` (the initialization seed)
    /// and still recorded proven=true: whoever knew the seed replayed every batch, and with the
    /// noise seeded too the whole run. Now two runs with the same `--seed` and `--noise-seed` draw
    /// different batches (different weights) and both say proven=false; adding the same
    /// `--sampling-seed` reproduces the run exactly; no seed at all is proven and names its
    /// neighbouring relation.
    func testSeedsDecideTheClaimAndOnlySamplingSeedFixesTheBatches() throws {
        let (spec, train, test) = try problem()
        let noiseSeeded = DPTrainingSettings(
            targetEpsilon: 4, epochs: 2, batchSize: 30, initializationSeed: 7, noise: .seeded(11))
        let a = try run(noiseSeeded, spec: spec, train: train, test: test)
        let b = try run(noiseSeeded, spec: spec, train: train, test: test)
        XCTAssertNotEqual(weights(a), weights(b), "the batches must not follow from --seed and --noise-seed")
        for r in [a, b] {
            XCTAssertFalse(r.record.proven)
            XCTAssertEqual(r.record.noiseSource, "seeded")
            XCTAssertEqual(r.record.samplingSource, "system")
            XCTAssertTrue(r.record.note.contains("SEEDED noise"), r.record.note)
            XCTAssertEqual(r.metadata["proven"], "false")
            XCTAssertTrue(r.reports.allSatisfy { !$0.epsilonIsProven })
        }

        var bothSeeded = noiseSeeded
        bothSeeded.samplingSource = .seeded(5)
        let c = try run(bothSeeded, spec: spec, train: train, test: test)
        let d = try run(bothSeeded, spec: spec, train: train, test: test)
        XCTAssertEqual(weights(c), weights(d), "sampling and noise seeded: a reproducible experiment")
        XCTAssertFalse(c.record.proven)
        XCTAssertTrue(c.record.note.contains("SEEDED sampling and noise"), c.record.note)

        var samplingOnly = noiseSeeded
        samplingOnly.noise = .system
        samplingOnly.samplingSource = .seeded(5)
        let e = try run(samplingOnly, spec: spec, train: train, test: test)
        XCTAssertFalse(e.record.proven, "known batches void amplification by subsampling")
        XCTAssertTrue(e.record.note.contains("SEEDED sampling"), e.record.note)
        XCTAssertEqual(e.metadata["sampling_source"], "seeded")

        let release = try run(
            DPTrainingSettings(targetEpsilon: 4, epochs: 2, batchSize: 30, initializationSeed: 7),
            spec: spec, train: train, test: test)
        XCTAssertTrue(release.record.proven)
        XCTAssertEqual(release.record.neighbouring, .addRemove)
        XCTAssertEqual(release.metadata["neighbouring"], "add-remove")
        XCTAssertEqual(release.metadata["noise_source"], "system")
        XCTAssertEqual(release.metadata["sampling_source"], "system")
        // Shuffled batches stay unproven even with system randomness.
        var shuffled = DPTrainingSettings(targetEpsilon: 4, epochs: 1, batchSize: 30)
        shuffled.sampling = .shuffledFixedBatches
        XCTAssertFalse(try run(shuffled, spec: spec, train: train, test: nil).record.proven)
    }

    /// Point 2. The record states what it protects and what it assumes public: one example,
    /// add-remove neighbours (the accountant's relation), n and q published; all of it survives
    /// the model file and reads back.
    func testRecordStatesUnitNeighbouringAndPublicQuantities() throws {
        let (spec, train, test) = try problem()
        let settings = DPTrainingSettings(targetEpsilon: 3, epochs: 1, batchSize: 30)
        let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dp-claim-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try DPTraining.trainAndSave(
            spec: spec, train: train, test: test, settings: settings, plan: plan,
            context: ["model": spec.name], to: url)
        let meta = try SafeTensors.read(url).metadata
        XCTAssertEqual(meta["privacy_unit"], "example")
        XCTAssertEqual(meta["neighbouring"], "add-remove")
        XCTAssertEqual(meta["n"], "300")
        XCTAssertEqual(meta["q"], "0.1")
        XCTAssertEqual(meta["public"], "n,q")
        XCTAssertTrue(meta["note"]?.contains("treated as public") ?? false)
        let back = try PrivacyRecord(metadata: meta)
        XCTAssertEqual(back, result.record)
        XCTAssertEqual(back.publicQuantities, ["n", "q"])
        XCTAssertEqual(back.datasetSize, 300)
        // A record naming an unknown relation or a malformed n is refused, naming the key.
        for (key, value) in [
            ("neighbouring", "swap-two"), ("n", "-3"), ("privacy_unit", "user"), ("sampling_source", "dice"),
        ] {
            var bad = meta
            bad[key] = value
            XCTAssertThrowsError(try PrivacyRecord(metadata: bad)) {
                XCTAssertEqual(($0 as? DPError)?.parameter, key)
            }
        }
    }

    /// Point 3. Train loss, train accuracy, the clipped fraction and the drawn batch sizes are
    /// functions of the private data without noise: they live under `non_private` in JSON, never
    /// at the top level of an epoch report, and never in the model file.
    func testNonPrivateStatisticsAreSeparatedAndNeverStored() throws {
        let (spec, train, test) = try problem()
        let settings = DPTrainingSettings(targetEpsilon: 3, epochs: 2, batchSize: 30)
        let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dp-nonprivate-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try DPTraining.trainAndSave(
            spec: spec, train: train, test: test, settings: settings, plan: plan, to: url)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: encoder.encode(try XCTUnwrap(result.reports.last))) as? [String: Any])
        for key in ["train_loss", "train_accuracy", "clipped_fraction", "mean_batch_size"] {
            XCTAssertNil(object[key], "\(key) must not sit beside the private figures")
        }
        let nonPrivate = try XCTUnwrap(object["non_private"] as? [String: Any])
        for key in ["train_loss", "train_accuracy", "clipped_fraction", "mean_batch_size"] {
            XCTAssertNotNil(nonPrivate[key], key)
        }
        XCTAssertNotNil(object["test_accuracy"], "test accuracy on the public split stays")
        let meta = try SafeTensors.read(url).metadata
        for key in meta.keys {
            for word in ["loss", "accuracy", "clipped", "batch_size_mean"] {
                XCTAssertFalse(key.contains(word), "model metadata key \(key)")
            }
        }
        XCTAssertEqual(Set(meta.keys), Set(result.metadata.keys))
    }

    /// A diverging run (a learning rate that overflows the weights) stops with `nonFinite`, and no
    /// model file is written; an earlier file at the path is left as it was.
    func testDivergenceStopsTrainingAndWritesNothing() throws {
        let (spec, train, _) = try problem()
        let settings = DPTrainingSettings(
            targetEpsilon: 3, epochs: 2, batchSize: 30, optimizer: .sgd(learningRate: 1e30, momentum: 0))
        let plan = try DPTraining.plan(settings: settings, datasetSize: train.count)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dp-nan-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(
            try DPTraining.trainAndSave(spec: spec, train: train, test: nil, settings: settings, plan: plan, to: url)
        ) { error in
            guard case .nonFinite = error as? DPError else { return XCTFail("expected nonFinite, got \(error)") }
            XCTAssertTrue((error as? DPError)?.description.contains("no model was written") ?? false)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        try Data("earlier".utf8).write(to: url)
        XCTAssertThrowsError(
            try DPTraining.trainAndSave(spec: spec, train: train, test: nil, settings: settings, plan: plan, to: url))
        XCTAssertEqual(try Data(contentsOf: url), Data("earlier".utf8))

        // A NaN in the data is caught at the first batch that holds it (q = 1: every batch).
        var storage = train.features.storage
        storage[5] = .nan
        let poisoned = try Dataset(
            features: try Tensor(shape: train.features.shape, storage: storage), labels: train.labels, classCount: 3)
        let full = DPTrainingSettings(targetEpsilon: 30, epochs: 1, batchSize: 300)
        XCTAssertThrowsError(
            try run(full, spec: spec, train: poisoned, test: nil)
        ) { error in
            guard case .nonFinite(let name, _) = error as? DPError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "loss")
        }
    }
}
