import Audit
import Foundation
import NeuralNet
import XCTest

/// Issue 21: the audits take the bundled `cnn-small` spec (two Conv2d with pooling, then Dense)
/// the way `verisplit audit mia --spec cnn-small` and `audit canaries --model cnn-small` pass it,
/// shadow models and DP-SGD included, and refuse weights that do not fit it.
final class CnnSmallAuditTests: XCTestCase {
    func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("verisplit-\(name)-\(UUID().uuidString)")
    }

    /// Weights from `verisplit train --model cnn-small` (one epoch of the bundled subset).
    func trainedCnnSmall(at url: URL) throws {
        var recipe = TrainingRecipe()
        recipe.model = "cnn-small"
        recipe.epochs = 1
        recipe.out = url.path
        let summary = try recipe.run()
        XCTAssertEqual(summary.model, "cnn-small")
    }

    /// `audit mia` with LiRA on cnn-small weights: the spec from the file's metadata and from
    /// `--spec cnn-small` give the same audit, with four cnn-small shadow models trained.
    func testMIAAuditOfCnnSmallWithShadowModels() throws {
        let folder = temporary("cnn-mia")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let weights = folder.appendingPathComponent("cnn.safetensors")
        try trainedCnnSmall(at: weights)
        var results = [MIAResult]()
        for spec in [nil, "cnn-small"] {
            var request = MIAAuditRequest(
                model: weights.path, spec: spec, train: "bundled", test: "bundled", attack: .lira,
                out: folder.appendingPathComponent("report-\(spec ?? "metadata")").path)
            (request.shadowModels, request.examples, request.cacheDirectory) = (4, 100, nil)
            let (report, json, html) = try request.run()
            XCTAssertTrue(FileManager.default.fileExists(atPath: json.path))
            XCTAssertTrue(FileManager.default.fileExists(atPath: html.path))
            XCTAssertEqual(report.context.inputs.first { $0.0 == "spec" }?.1, "cnn-small")
            XCTAssertEqual(report.result.shadowCount, 4)
            XCTAssertEqual(report.result.evaluation.memberScores.count, 100)
            // One epoch on 4000 examples: a real model, far above the 10 % of chance.
            XCTAssertGreaterThan(report.result.targetNonMemberAccuracy, 0.5)
            XCTAssertTrue((0...1).contains(report.result.evaluation.metrics.auc))
            results.append(report.result)
        }
        XCTAssertEqual(results[0].evaluation.metrics.auc, results[1].evaluation.metrics.auc)
    }

    /// MLP weights audited as cnn-small (a wrong `--spec`) are a mismatch naming the fix, not a
    /// trap or a silent partial load.
    func testMLPWeightsUnderTheCnnSmallSpecAreRefused() throws {
        let folder = temporary("mlp-as-cnn")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let weights = folder.appendingPathComponent("mlp.safetensors")
        try ModelSpec.bundled("mlp-784-128-10").makeModel(seed: 1).saveSafetensors(to: weights, metadata: [:])
        XCTAssertThrowsError(try AuditInputs.model(path: weights.path, specArgument: "cnn-small")) { error in
            guard case .mismatch(_, _, let hint)? = error as? AuditError else { return XCTFail("\(error)") }
            XCTAssertTrue(hint.contains("--spec"), hint)
        }
    }

    /// `audit canaries --model cnn-small --methods plain,dpsgd`: a plain and a DP-SGD cnn-small are
    /// trained with the canaries and audited; DP-SGD carries its (seeded) claim.
    func testCanaryAuditOfCnnSmallPlainAndDPSGD() throws {
        let folder = temporary("cnn-canaries")
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = CanaryAuditRequest()
        request.model = "cnn-small"
        (request.methods, request.epsilons) = ([.plain, .dpsgd], [8])
        (request.canaries, request.trainSize, request.epochs) = (100, 400, 2)
        request.out = folder.path
        let (report, json, _) = try request.run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: json.path))
        XCTAssertEqual(report.results.map(\.model), ["plain", "dpsgd-eps8"])
        XCTAssertEqual(report.context.inputs.first { $0.0 == "model" }?.1, "cnn-small")
        XCTAssertEqual(report.results.map { $0.claim?.status }, [nil, .seeded])
        for r in report.results {
            XCTAssertEqual(r.trainingSetSize, 400 + r.canariesIncluded)
            XCTAssertTrue((0...1).contains(r.testAccuracy), r.model)
            XCTAssertGreaterThan(r.testAccuracy, 0.2, "\(r.model) learned nothing")
        }
    }
}
