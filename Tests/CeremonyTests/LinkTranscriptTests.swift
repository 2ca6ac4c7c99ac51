import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import XCTest

/// The link ceremony in a directory (`LinkTranscript`, `LinkStateFile`), attacked through its
/// files: a contribution dropped, two reordered, a reset to secrets the attacker knows, a state
/// for other client keys (a client ceremony that moved on), a hole, a rollback, damaged bytes.
final class LinkTranscriptTests: XCTestCase {
    /// e(g1, share_2) = e(share_1, g2): the G1 and G2 forms of a share agree.
    enum SameRatioCheck {
        static func holds(_ share1: G1Affine, _ share2: G2Affine) -> Bool {
            Pairing.pairingCheck([(G1Affine.generator, share2), (-share1, G2Affine.generator)])
        }
    }

    struct Setting {
        var left: ConstraintSystem<Fr>
        var right: ConstraintSystem<Fr>
        var leftCommitment: CommitmentKey
        var rightCommitment: CommitmentKey
        var pairs: [CommitmentLinkKey.Pair]
    }

    /// `CommitmentLinkTests`'s two circuits (four shared values x), with development keys.
    func context() throws -> (Setting, LinkCeremony.Context) {
        let x: [Int64] = [3, 14, 0, 9]
        let left = CommitmentLinkTests.left(x) { _, _ in .one }
        let right = CommitmentLinkTests.right(x, z: 5) { _, _ in .one }
        let leftR1CS = left.r1cs(), rightR1CS = right.r1cs()
        let leftWires = try XCTUnwrap(leftR1CS.commitment?.wires),
            rightWires = try XCTUnwrap(rightR1CS.commitment?.wires)
        let pairs = try CommitmentLink.pairs(
            left: leftR1CS, right: rightR1CS, shared: (0..<4).map { (left: leftWires[$0], right: rightWires[$0]) })
        let s = Setting(
            left: left, right: right, leftCommitment: try XCTUnwrap(try Groth16.setup(leftR1CS).commitment),
            rightCommitment: try XCTUnwrap(try Groth16.setup(rightR1CS).commitment), pairs: pairs)
        return (s, LinkCeremony.Context(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs))
    }

    /// Whether `key` links two commitments to the circuits' (agreeing) committed values.
    func links(_ key: CommitmentLinkKey, _ s: Setting) throws -> Bool {
        let l = Groth16.commit(s.leftCommitment, committed: s.left.committedValues)
        let r = Groth16.commit(s.rightCommitment, committed: s.right.committedValues)
        let proof = try CommitmentLink.prove(
            key: key, left: s.left.committedValues, leftBlinding: l.blinding, right: s.right.committedValues,
            rightBlinding: r.blinding)
        return try CommitmentLink.verify(key: key.verifyingKey, left: l.commitment, right: r.commitment, proof: proof)
    }

    func state(_ directory: String, _ index: Int) throws -> LinkStateFile {
        let path = directory + String(format: "/%04d.link", index)
        return try LinkStateFile.decode(Fixture.file(path), file: path)
    }

    func write(_ state: LinkStateFile, _ directory: String, _ index: Int) throws {
        try Data(LinkStateFile.encode(state)).write(
            to: URL(fileURLWithPath: directory + String(format: "/%04d.link", index)))
    }

    func assertUnsound(
        _ directory: String, _ context: LinkCeremony.Context, index: Int, _ reason: String,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try LinkTranscript.load(directory).verify(context: context), line: line) {
            guard case .unsound(let phase, let at, _, let why) = $0 as? CeremonyError else {
                return XCTFail("\($0)", line: line)
            }
            XCTAssertEqual(phase, LinkTranscript.phase, line: line)
            XCTAssertEqual(at, index, why, line: line)
            XCTAssertTrue(why.contains(reason), why, line: line)
        }
    }

    /// Two parties contribute in turn; the transcript verifies, holds both receipts (and not a
    /// stranger's), and its key links an honest pair of proofs.
    func testTwoContributionsVerifyAndTheKeyLinks() throws {
        let (s, context) = try context()
        let directory = Fixture.directory("link")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertThrowsError(try LinkTranscript.load(directory).verify(context: context)) {
            guard case .usage = $0 as? CeremonyError else { return XCTFail("\($0)") }
        }
        var transcript = LinkTranscript.load(directory)
        let first = try transcript.contribute(name: "client", context: context)
        var reopened = LinkTranscript.load(directory)
        let second = try reopened.contribute(name: "server", context: context)
        XCTAssertEqual([first.phase, first.index, second.index], [LinkTranscript.phase, 1, 2])
        let verified = try LinkTranscript.load(directory).verify(context: context)
        XCTAssertTrue(verified.contains(first))
        XCTAssertTrue(verified.contains(second))
        XCTAssertEqual(verified.contributions.map(\.name), ["client", "server"])
        var stranger = second
        stranger.hash = String(repeating: "ab", count: 32)
        XCTAssertFalse(verified.contains(stranger))
        XCTAssertNotEqual(verified.key.verifyingKey.leftScale, .infinity)
        XCTAssertTrue(try links(verified.key, s))

        // A rollback to the first state verifies, but no longer holds the second receipt.
        try FileManager.default.removeItem(atPath: directory + "/0002.link")
        let rolledBack = try LinkTranscript.load(directory).verify(context: context)
        XCTAssertTrue(rolledBack.contains(first))
        XCTAssertFalse(rolledBack.contains(second))

        // Two parties contribute on the same state at once: the second to write is refused
        // rather than replacing the first's state (and holding a receipt the transcript lacks).
        var racer = LinkTranscript.load(directory), other = LinkTranscript.load(directory)
        let won = try racer.contribute(name: "carol", context: context)
        XCTAssertThrowsError(try other.contribute(name: "dave", context: context)) {
            guard case .usage(let why) = $0 as? CeremonyError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.contains("another party contributed"), why)
        }
        XCTAssertTrue(try LinkTranscript.load(directory).verify(context: context).contains(won))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["0001.link", "0002.link"],
            "no temporary file left behind")
    }

    func testTamperedStatesAreRefused() throws {
        let (s, context) = try context()
        let directory = Fixture.directory("link-tamper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var transcript = LinkTranscript.load(directory)
        _ = try transcript.contribute(name: "client", context: context)
        _ = try transcript.contribute(name: "server", context: context)
        let honest = try state(directory, 2)

        // The first contribution dropped from the record: the scales are no longer its sum.
        var dropped = honest
        dropped.records.removeFirst()
        try write(dropped, directory, 1)
        try FileManager.default.removeItem(atPath: directory + "/0002.link")
        assertUnsound(directory, context, index: 1, "do not check")

        // Reordered: each proof is bound to the scales before it.
        var reordered = honest
        reordered.records.swapAt(0, 1)
        try write(reordered, directory, 2)
        try write(try state(directory, 1), directory, 1)
        assertUnsound(directory, context, index: 1, "do not check")

        // A reset: a third "contribution" leaves a key with secrets t and u the attacker knows.
        // The key is well formed; the record claims the G2 shares that reach it, with proofs of
        // knowledge for shares it does know.
        let t = Fr.random(), u = Fr.random()
        let reset = try CommitmentLink.setup(
            left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs, leftScale: t, rightScale: u)
        var scratch = honest.key
        var claimed = try LinkCeremony.contribute(&scratch, context: context)
        claimed.leftG2 = (reset.verifyingKey.leftScale.jacobian - honest.key.verifyingKey.leftScale.jacobian).affine
        claimed.rightG2 = (reset.verifyingKey.rightScale.jacobian - honest.key.verifyingKey.rightScale.jacobian).affine
        var attacked = honest
        attacked.key = reset
        attacked.records.append(.init(name: "attacker", contribution: claimed))
        try write(honest, directory, 2)
        try write(attacked, directory, 3)
        assertUnsound(directory, context, index: 3, "do not check")
        // The rogue shares made consistent in G1 and G2 ([t]_1 minus the published G1 shares,
        // and likewise in G2), each with a proof of knowledge: the attacker can scale its G1
        // point by a value s it knows, not the hashed G2 point by the share's unknown logarithm;
        // nor does an honest contribution's proof, replayed, fit the new share.
        for replayed in [false, true] {
            var rogue = claimed
            for (side, scale) in [(0, t), (1, u)] {
                let g1Sum = honest.records.reduce(G1Affine.infinity.jacobian) {
                    $0 + (side == 0 ? $1.contribution.leftG1 : $1.contribution.rightG1)
                }
                let share = (G1Affine.generator.multiplied(by: scale) - g1Sum).affine
                let s = Fr.random()
                let forged = KnowledgeProof(
                    g1S: G1Affine.generator.multiplied(by: s).affine, g1SX: share.multiplied(by: s).affine,
                    g2SPX: G2Affine.generator.multiplied(by: Fr.random()).affine)
                let copied =
                    side == 0 ? honest.records[1].contribution.leftProof : honest.records[1].contribution.rightProof
                if side == 0 {
                    (rogue.leftG1, rogue.leftProof) = (share, replayed ? copied : forged)
                } else {
                    (rogue.rightG1, rogue.rightProof) = (share, replayed ? copied : forged)
                }
            }
            XCTAssertTrue(
                SameRatioCheck.holds(rogue.leftG1, rogue.leftG2) && SameRatioCheck.holds(rogue.rightG1, rogue.rightG2),
                "the rogue shares agree in G1 and G2, so only the proofs of knowledge stand in the way")
            attacked.records[2] = .init(name: "attacker", contribution: rogue)
            try write(attacked, directory, 3)
            assertUnsound(directory, context, index: 3, "do not check")
        }
        // The same key with no record for the change: the scales are not the shares' sum.
        var silent = honest
        silent.key = reset
        try write(silent, directory, 2)
        try FileManager.default.removeItem(atPath: directory + "/0003.link")
        assertUnsound(directory, context, index: 2, "not the sum")
        // Consistent scales, column points that do not fit them.
        var shifted = honest
        shifted.key.points[0] = (shifted.key.points[0].jacobian + G1Affine.generator).affine
        try write(shifted, directory, 2)
        assertUnsound(directory, context, index: 2, "column points")
        try write(honest, directory, 2)
        XCTAssertNoThrow(try LinkTranscript.load(directory).verify(context: context))

        // A client ceremony moved on after the link: another eta/gamma, another context.
        var moved = s.rightCommitment
        moved.etaGamma = G1Affine.generator.multiplied(by: Fr.random()).affine
        let stale = LinkCeremony.Context(left: s.leftCommitment, right: moved, pairs: s.pairs)
        assertUnsound(directory, stale, index: 2, "other client keys")
        // The state relabelled for the new context (checksum recomputed): the proofs are bound
        // to the old context, so the first record fails.
        var relabelled = honest
        relabelled.contextDigest = stale.digest
        try write(relabelled, directory, 2)
        assertUnsound(directory, stale, index: 1, "do not check")
        try write(honest, directory, 2)
        var building = LinkTranscript.load(directory)
        XCTAssertThrowsError(try building.contribute(name: "late", context: stale))
        XCTAssertEqual(LinkTranscript.load(directory).states, 2, "nothing written on a refused contribution")

        // A hole: 0004 with 0003 missing.
        try write(honest, directory, 4)
        assertUnsound(directory, context, index: 3, "contiguous")
        var holed = LinkTranscript.load(directory)
        XCTAssertThrowsError(try holed.contribute(name: "late", context: context))
        try FileManager.default.removeItem(atPath: directory + "/0004.link")

        // Damaged bytes: a bad-input error naming the file, not a crash.
        var bytes = Fixture.file(directory + "/0002.link")
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/0002.link"))
        XCTAssertThrowsError(try LinkTranscript.load(directory).verify(context: context)) {
            guard case .badInput(let path, let reason) = $0 as? CeremonyError else { return XCTFail("\($0)") }
            XCTAssertTrue(path.hasSuffix("0002.link"))
            XCTAssertTrue(reason.contains("checksum"), reason)
        }
    }

    /// The state file: it round-trips; every structural field tampered with (checksum
    /// recomputed) is refused with a bad-input error.
    func testStateFileRoundTripAndTampering() throws {
        let (_, context) = try context()
        var key = try LinkCeremony.start(context)
        let contribution = try LinkCeremony.contribute(&key, context: context)
        let state = LinkStateFile(
            contextDigest: context.digest, key: key, records: [.init(name: "ü party", contribution: contribution)])
        let bytes = LinkStateFile.encode(state)
        XCTAssertEqual(try LinkStateFile.decode(bytes, file: "s.link"), state)
        func sealed(_ body: [UInt8]) -> [UInt8] { body + SHA256.hash(body) }
        let body = Array(bytes.dropLast(32))
        let keyLength = Int(body[40]) | Int(body[41]) << 8 | Int(body[42]) << 16
        let countAt = 44 + keyLength
        func refused(_ mutant: [UInt8], _ what: String, line: UInt = #line) {
            XCTAssertThrowsError(try LinkStateFile.decode(mutant, file: "s.link"), what, line: line) {
                guard case .badInput = $0 as? CeremonyError else { return XCTFail("\($0)", line: line) }
            }
        }
        var v = body
        v[4] = 2
        refused(sealed(v), "version")
        v = body
        v[40] = 0xff
        v[41] = 0xff
        refused(sealed(v), "key length beyond the file")
        v = body
        v[countAt] = 0
        refused(sealed(v), "no contribution")
        v = body
        v[countAt + 3] = 0x40
        refused(sealed(v), "a count beyond the file, before allocating")
        v = body
        v[countAt + 4] = 65
        refused(sealed(v), "a name longer than 64 bytes")
        v = body
        v[countAt + 5] = 0xff
        refused(sealed(v), "a name that is not UTF-8")
        v = body
        let firstPoint = countAt + 5 + Int(body[countAt + 4])
        v[firstPoint + 63] ^= 1
        refused(sealed(v), "a share off the curve")
        refused(sealed(body + [0]), "trailing bytes")
        refused(sealed(Array(body.dropLast(1))), "truncated")
        refused(Array(bytes.prefix(20)), "too short")
    }
}
