import Audit
import Foundation
import NeuralNet
import XCTest

final class ReportFileTests: XCTestCase {
    func testMIAReportFilesAreCompleteJSONAndHTML() throws {
        let spec = try AttackTests.spec()
        let (train, test) = try AttackTests.data()
        let members = train.subset(Array(0..<100))
        let trainer = try PlainTrainer(epochs: 20, batchSize: 32)
        let model = try trainer.train(spec: spec, data: members, seed: 1)
        let config = MIAConfiguration(attack: .loss, examplesPerSide: 80, cacheDirectory: nil, showProgress: false)
        let result = try MembershipAudit.run(
            spec: spec, target: model, members: members, nonMembers: test, trainer: trainer, configuration: config)
        let report = MIAReport(
            result: result,
            context: ReportContext(versions: [("verisplit", "test")], inputs: [("model", "memory")], command: "test"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-report-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try report.write(to: dir)

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: files.json)) as? [String: Any])
        let auc = try XCTUnwrap(json["auc"] as? Double)
        XCTAssertEqual(auc, result.evaluation.metrics.auc, accuracy: 1e-12)
        let tpr = try XCTUnwrap(json["tpr_at_fpr"] as? [String: Any])
        XCTAssertEqual(Set(tpr.keys), ["0", "0.001", "0.01", "0.1"])
        XCTAssertNotNil(json["epsilon_lower_bound"] as? Double)
        XCTAssertNotNil(json["epsilon_ceiling"] as? Double)
        for key in ["parameters", "seeds", "versions", "roc", "scores", "one_run", "epsilon", "data", "target"] {
            XCTAssertNotNil(json[key], "report.json lacks \(key)")
        }
        let scores = try XCTUnwrap(json["scores"] as? [String: Any])
        XCTAssertEqual((scores["members"] as? [Any])?.count, 80)
        XCTAssertEqual((scores["non_members"] as? [Any])?.count, 80)

        let html = try String(contentsOf: files.html, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.hasSuffix("</html>\n"))
        XCTAssertEqual(
            html.components(separatedBy: "<svg ").count - 1, 4, "ROC linear, ROC log-log, histogram, epsilon vs guesses"
        )
        XCTAssertEqual(html.components(separatedBy: "<svg ").count, html.components(separatedBy: "</svg>").count)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(
            html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"),
            "no network resources")
        XCTAssertFalse(report.table().isEmpty)
    }

    func testShapeMismatchIsReportedAsTypedError() throws {
        let spec = try AttackTests.spec()
        let data = try Dataset(features: Tensor(shape: [4, 3]), labels: [0, 1, 2, 3], classCount: 10)
        XCTAssertThrowsError(try MembershipAudit.check(spec: spec, data: data, role: "members")) { error in
            guard case AuditError.mismatch = error else { return XCTFail("expected .mismatch, got \(error)") }
        }
    }

    func testCanaryAuditFlagsAClaimTheMeasurementContradicts() throws {
        let spec = try AttackTests.spec()
        var (train, test) = try MNISTFamily.load(.bundled)
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        let config = CanaryConfiguration(canaries: 300, seed: 2)
        let (canaries, included) = try CanaryAudit.makeCanaries(
            from: train.subset(Array(3000..<3300)), configuration: config)
        XCTAssertEqual(included.count, 300)
        let plain = try PlainTrainer(epochs: 30, batchSize: 32)
        // DP-Weights noise (sigma ~ 0.01) does not stop memorization: a claim of epsilon 0.25 must fall.
        let weak = try DPWeightsModelTrainer(epsilon: 0.25, base: plain)
        let r = try CanaryAudit.run(
            spec: spec, base: train.subset(Array(0..<300)), canaries: canaries, included: included,
            test: test.subset(Array(0..<200)), trainer: weak, configuration: config)
        XCTAssertGreaterThan(r.oneRun.best.epsilon, 0.25)
        XCTAssertTrue(r.contradictsClaim, "measured \(r.oneRunCorrected) vs claimed 0.25")
        XCTAssertEqual(r.claim?.proven, false)
    }
}
