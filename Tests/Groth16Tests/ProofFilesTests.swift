import Foundation
import Groth16
import XCTest

/// `verisplit setup` and `verisplit prove` as library calls: the files they write verify.
final class ProofFilesTests: XCTestCase {
    func testSetupThenProveWritesFilesThatVerify() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verisplit-prooffiles-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["square64.r1cs", "square64.wtns"] {
            try resource(name).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        XCTAssertEqual(
            try ProofFiles.setup(circuit: dir + "/square64.r1cs", out: dir + "/key"),
            "wrote \(dir)/key/proving.key and \(dir)/key/verification_key.json")
        let line = try ProofFiles.prove(
            key: dir + "/key/proving.key", witness: dir + "/square64.wtns", proof: dir + "/proof.json",
            publicInputs: dir + "/public.json", eth: dir + "/proof.hex", allowInsecure: false)
        XCTAssertEqual(line, "wrote \(dir)/proof.json and \(dir)/public.json")
        XCTAssertTrue(
            try SnarkjsJSON.verifyFiles(
                verifyingKey: dir + "/key/verification_key.json", proof: dir + "/proof.json",
                publicInputs: dir + "/public.json"))
        XCTAssertEqual(try String(contentsOfFile: dir + "/proof.hex", encoding: .utf8).count, 512 + 1)
        // A witness that does not satisfy the circuit is refused, and nothing is written.
        XCTAssertThrowsError(
            try ProofFiles.prove(
                key: dir + "/key/proving.key", witness: dir + "/square64.r1cs", proof: dir + "/bad.json",
                publicInputs: dir + "/bad-public.json", eth: nil, allowInsecure: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.json"))
    }
}
