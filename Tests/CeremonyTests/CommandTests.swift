import Ceremony
import Foundation
import XCTest

/// `ceremony verify --receipt`, `ceremony export-keys` and the receipt file as library calls.
final class CeremonyCommandTests: XCTestCase {
    func testReceiptCheckKeyExportAndReceiptFile() throws {
        let dir = Fixture.directory("commands")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        let mine = try t.contribute(name: "alice")
        let verifiedPhase1 = try CeremonyTranscript.load(dir).verify()
        XCTAssertThrowsError(try verifiedPhase1.writeKeys(to: dir + "/keys"), "no phase-2 contribution yet")

        _ = try t.contribute(name: "bob", phase: 2)
        let verified = try CeremonyTranscript.load(dir).verify()
        let held = verified.check(receipt: mine)
        XCTAssertTrue(held.holdsReceipt)
        XCTAssertEqual(held.text, verified.text)
        var stranger = mine
        stranger.hash = String(repeating: "ab", count: 32)
        let missing = verified.check(receipt: stranger)
        XCTAssertFalse(missing.holdsReceipt)
        XCTAssertTrue(
            missing.text.hasSuffix("does not contain receipt phase 1 #\(stranger.index) \(stranger.hash)"), missing.text
        )
        XCTAssertTrue(verified.check(receipt: nil).holdsReceipt)

        let lines = try verified.writeKeys(to: dir + "/keys")
        XCTAssertTrue(lines.hasPrefix("wrote \(dir)/keys/proving.key"), lines)
        for name in ["proving.key", "verification_key.json", "circuit_final.zkey"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/keys/" + name), name)
        }

        let receiptPath = dir + "/receipt.json"
        XCTAssertEqual(try mine.save(to: receiptPath), "wrote receipt \(receiptPath)")
        let read = try ContributionReceipt.read(try Data(contentsOf: URL(fileURLWithPath: receiptPath)))
        XCTAssertEqual(read.hash, mine.hash)
        XCTAssertTrue(verified.contains(read))
    }
}
