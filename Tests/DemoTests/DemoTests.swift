import Demo
import Foundation
import Report
import XCTest
import ZKML

final class DemoTests: XCTestCase {
    /// The quick demo end to end into a temporary folder: the files, the rejected dishonest step,
    /// numbers in range, and links of index.html that resolve.
    func testQuickDemoEndToEnd() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let start = Date()
        let summary = try await Demo.run(options: DemoOptions(quick: true, output: folder))
        let seconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(seconds, 120, "the quick demo took \(seconds) s")

        for file in summary.files {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "missing \(file)")
        }
        for required in [
            "index.html", "summary.json", "qbi-none.png", "qbi-aggp.png", "audit-dpsgd-eps3/report.html",
            "audit-dpweights-eps3/report.html",
        ] {
            XCTAssertTrue(summary.files.contains(required), "\(required) not listed")
        }

        let split = summary.split
        XCTAssertEqual(split.verified.stepsCompleted, UInt64(DemoSizes.quick.verifiedSteps))
        XCTAssertFalse(split.verified.rejected)
        XCTAssertGreaterThan(split.verified.client.verifications + split.verified.server.verifications, 0)
        for accuracy in [split.verified.testAccuracy, split.plainSameSteps.testAccuracy, split.plainLong.testAccuracy] {
            let a = try XCTUnwrap(accuracy)
            XCTAssertTrue((0...1).contains(a))
        }
        XCTAssertEqual(
            split.plainSameSteps.testAccuracy, split.verified.testAccuracy,
            "plain and verified runs compute the same model")
        let verifiedAttacks = split.malicious.filter { $0.mode == .verified }
        XCTAssertFalse(verifiedAttacks.isEmpty)
        for r in verifiedAttacks {
            XCTAssertTrue(r.rejected, "\(r.adversary.rawValue) was not rejected")
            XCTAssertEqual(r.rejectedBy, .client)
            XCTAssertFalse((r.reason ?? "").isEmpty, "no reason for rejecting \(r.adversary.rawValue)")
            XCTAssertNotNil(r.rejection, "no typed rejection for \(r.adversary.rawValue)")
        }
        XCTAssertTrue(split.allVerifiedAttacksRejected)
        let ledger = try XCTUnwrap(split.malicious.first { $0.mode == .ledger })
        XCTAssertFalse(ledger.rejected, "the ledger baseline cannot see a wrong gradient")

        let attack = summary.attack
        for r in attack.recallNone + attack.recallAGGP { XCTAssertTrue((0...1).contains(r)) }
        XCTAssertLessThanOrEqual(attack.meanRecallAGGP, attack.meanRecallNone)
        XCTAssertGreaterThan(attack.meanRecallNone, 0, "QBI recovers some activations without a defense")

        XCTAssertEqual(summary.privacy.models.map(\.name), ["plain", "dpweights-eps3", "dpsgd-eps3"])
        for m in summary.privacy.models {
            XCTAssertTrue(
                (0...1).contains(m.testAccuracy) && (0...1).contains(m.auc) && (0...1).contains(m.tprAtLowFPR), m.name)
            XCTAssertGreaterThanOrEqual(m.epsilonLowerBound, 0)
            XCTAssertLessThanOrEqual(m.epsilonLowerBound, m.epsilonCeiling + 1e-9)
        }
        // The demo's DP-SGD run is seeded (reproducible), so its claim is "seeded", never "proven";
        // DP-Weights is a heuristic; the plain model claims nothing.
        XCTAssertEqual(summary.privacy.models.map { $0.claimStatus ?? "none" }, ["none", "heuristic", "seeded"])
        XCTAssertEqual(summary.privacy.models.map { $0.proven ?? false }, [false, false, false])
        XCTAssertEqual(attack.standardization, "per-channel")
        XCTAssertEqual(attack.aggpLayers, "first-dense")
        let summaryText = try String(contentsOf: folder.appendingPathComponent("summary.json"), encoding: .utf8)
        XCTAssertTrue(
            summaryText.contains("\"claim_status\":\"seeded\"") || summaryText.contains("\"claim_status\": \"seeded\""),
            "summary.json labels the seeded claim")
        XCTAssertTrue(summaryText.contains("threshold_selection"))

        let html = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
        let links = Self.references(in: html)
        XCTAssertFalse(links.isEmpty)
        for link in links {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: folder.appendingPathComponent(link).path),
                "index.html links \(link), which does not exist")
        }
        for file in summary.files where file != "index.html" {
            XCTAssertTrue(links.contains(file), "index.html does not link \(file)")
        }
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("summary.json")))
            as? [String: Any]
        XCTAssertEqual(json?["mode"] as? String, "quick")
        XCTAssertTrue(summary.text().contains(folder.appendingPathComponent("index.html").path))
    }

    /// The embedded spec is `circuits/split-c4.json`, byte for byte.
    func testEmbeddedSpecMatchesTheFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try Data(contentsOf: root.appendingPathComponent(EmbeddedSpec.name))
        XCTAssertEqual(EmbeddedSpec.data, file)
        XCTAssertEqual(try CircuitSpec.load(EmbeddedSpec.data), try CircuitSpec.load(file))
    }

    func testInvalidSizesAreRefused() async {
        var sizes = DemoSizes.quick
        sizes.qbiBatch = 1
        do {
            _ = try await Demo.run(
                options: DemoOptions(quick: true, output: FileManager.default.temporaryDirectory, sizes: sizes))
            XCTFail("batch 1 accepted")
        } catch {
            XCTAssertEqual(
                error,
                .invalidOption(name: "qbi", value: "200/1/2", requirement: "needs neurons >= 1, batch >= 2, seeds >= 1")
            )
        }
    }

    /// The href and src attributes of an HTML page, unescaped.
    static func references(in html: String) -> [String] {
        var out = [String]()
        for attribute in ["href=\"", "src=\""] {
            var rest = html[...]
            while let r = rest.range(of: attribute) {
                rest = rest[r.upperBound...]
                guard let end = rest.firstIndex(of: "\"") else { break }
                out.append(
                    String(rest[..<end]).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(
                        of: "&#39;", with: "'"
                    )
                    .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                    .replacingOccurrences(of: "&amp;", with: "&"))
                rest = rest[end...]
            }
        }
        return out
    }
}
