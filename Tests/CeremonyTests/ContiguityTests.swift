import Algebra
import Ceremony
import Foundation
import Groth16
import XCTest

/// Issue 24: a transcript with a hole used to end silently at the hole (later files ignored,
/// "sound"), and `contribute` built on transcripts that `verify` rejects.
final class ContiguityTests: XCTestCase {
    /// Deleting phase2/0001.zkey (with 0002 present) makes `verify` fail naming the missing
    /// contribution; before, the transcript verified with one contribution fewer.
    func testDeletedPhase2FileIsUnsound() throws {
        let dir = Fixture.directory("hole2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "p1")
        _ = try t.contribute(name: "alice", phase: 2)
        _ = try t.contribute(name: "bob", phase: 2)
        XCTAssertEqual(try CeremonyTranscript.load(dir).verify().contributions.count, 3)
        try FileManager.default.removeItem(atPath: Fixture.state(dir, phase: 2, index: 1))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 1)
        do {
            _ = try CeremonyTranscript.load(dir).verify()
        } catch {
            XCTAssertTrue(error.description.contains("phase2/0002.zkey exists"), error.description)
        }
        // The starting key deleted too: still unsound (not "phase 2 has not started").
        try FileManager.default.removeItem(atPath: Fixture.state(dir, phase: 2, index: 0))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 2, index: 0)
    }

    /// The same for phase 1.
    func testDeletedPhase1FileIsUnsound() throws {
        let dir = Fixture.directory("hole1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "a")
        _ = try t.contribute(name: "b")
        try FileManager.default.removeItem(atPath: Fixture.state(dir, phase: 1, index: 1))
        Fixture.expectUnsound(try CeremonyTranscript.load(dir), phase: 1, index: 1)
    }

    /// `contribute` (and the beacon) verify first: nobody builds on a holed or tampered
    /// transcript, and no state file is written.
    func testContributeRefusesATranscriptThatDoesNotVerify() throws {
        let dir = Fixture.directory("refuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try CeremonyTranscript.create(directory: dir, circuit: Fixture.circuitBytes)
        _ = try t.contribute(name: "a")
        _ = try t.contribute(name: "b")
        // Alter a's record inside b's state, keeping the file well formed.
        let path = Fixture.state(dir, phase: 1, index: 2)
        var file = try Ptau.read(Fixture.file(path))
        file.contributions[0].name = "mallory"
        Fixture.put(path, Ptau.write(file))
        var loaded = try CeremonyTranscript.load(dir)
        XCTAssertThrowsError(try loaded.contribute(name: "c")) { error in
            XCTAssertTrue((error as? CeremonyError)?.isUnsound == true, "\(error)")
        }
        XCTAssertThrowsError(try loaded.applyBeacon([1, 2, 3], iterationsExponent: 1)) { error in
            XCTAssertTrue((error as? CeremonyError)?.isUnsound == true, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: Fixture.state(dir, phase: 1, index: 3)))
        // A hole: contributing would have written 0001 again and built on 0000.
        let dir2 = Fixture.directory("refuse-hole")
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        var t2 = try CeremonyTranscript.create(directory: dir2, circuit: Fixture.circuitBytes)
        _ = try t2.contribute(name: "a")
        _ = try t2.contribute(name: "b")
        try FileManager.default.removeItem(atPath: Fixture.state(dir2, phase: 1, index: 1))
        var holed = try CeremonyTranscript.load(dir2)
        XCTAssertThrowsError(try holed.contribute(name: "c"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: Fixture.state(dir2, phase: 1, index: 1)))
    }
}
