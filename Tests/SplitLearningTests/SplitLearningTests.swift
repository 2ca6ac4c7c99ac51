import Algebra
import Ceremony
import Circuit
import Commitment
import Foundation
import Groth16
import NIOCore
import NeuralNet
import SplitLearning
import SwiftProtobuf
import XCTest
import ZKML

/// The tiny spec (1x28x28 -> conv 1 channel 7x7 stride 7 -> 16 -> Dense 10) keeps proofs fast.
let tinySpecJSON = Data(
    """
    {"name": "tiny", "input": {"channels": 1, "height": 28, "width": 28},
     "client": {"out_channels": 1, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
     "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
     "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 12}
    """.utf8)

/// Keys and data shared by the tests (setup once per process).
enum Fixture {
    static let spec: CircuitSpec = {
        do { return try CircuitSpec.load(tinySpecJSON) } catch { fatalError("tiny spec: \(error)") }
    }()
    static let keys: SplitKeys = {
        do { return try SplitKeys.developmentSetup(spec: spec) } catch { fatalError("setup: \(error)") }
    }()
    static let setup = SessionSetup(spec: spec, specData: tinySpecJSON, keys: keys)
    static let data: (train: Dataset, test: Dataset) = {
        do { return try MNISTFamily.load(.bundled) } catch { fatalError("bundled data: \(error)") }
    }()

    /// `schedule`: a fixed sample order (runs that compare weights need the same samples); nil
    /// draws the order from the session's coin toss.
    static func run(
        _ mode: SplitMode, steps: Int = 3, adversary: Adversary = .none, state: URL? = nil,
        resume: Bool = false, stopAfter: Int? = nil, setup: SessionSetup = Fixture.setup,
        schedule: UInt64? = 7
    ) async throws -> LocalRun.Result {
        var c = LocalRunConfiguration()
        c.fixedScheduleSeed = schedule
        c.mode = mode
        c.steps = steps
        c.adversary = adversary
        c.pipelineDepth = 2
        c.stateDirectory = state
        c.resume = resume
        c.stopClientAfter = stopAfter
        return try await LocalRun.run(setup: setup, train: sessionData, test: nil, configuration: c)
    }

    /// The first 512 training samples: every session commits its client's whole training set,
    /// and the protocol tests need no more data than a few steps use.
    static let sessionData: Dataset = data.train.subset(Array(0..<512))

    /// A server on loopback whose session outcomes the test can await.
    static func serve(_ options: ServerOptions) async throws -> (Listener, ServedSessions, Task<Void, Error>) {
        let listener = try await Listener.bind(host: "127.0.0.1", port: 0, tls: nil)
        let server = SplitServer(setup: Fixture.setup, options: options)
        let served = ServedSessions()
        let serving = Task {
            try await listener.serve(maxConnections: 2) { await served.add(await server.handle($0).outcome) }
        }
        return (listener, served, serving)
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("verisplit-split-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

final class FrameTests: XCTestCase {
    func testSplitsWholeFramesOnly() throws {
        var out = ByteBuffer()
        Frame.write([1, 2, 3], into: &out)
        var partial = ByteBuffer(bytes: Array(out.readableBytesView.prefix(5)))
        XCTAssertNil(try Frame.split(&partial, maxBytes: 100))
        let payload = try Frame.split(&out, maxBytes: 100)
        XCTAssertEqual(payload.map { Array($0.readableBytesView) }, [1, 2, 3])
        XCTAssertEqual(out.readableBytes, 0)
    }

    func testFrameStreamDecodesAndValidatesEveryMessage() throws {
        let stream = FrameStream.sample()
        XCTAssertEqual(try FrameStream.decode(stream), ["Hello", "Activations", "Reject"])
        XCTAssertThrowsError(try FrameStream.decode(Array(stream.dropLast(3)))) {
            guard case .malformedFrame(.truncated(let left))? = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertGreaterThan(left, 0)
            XCTAssertTrue("\($0)".contains("inside a frame"))
        }
        XCTAssertThrowsError(try FrameStream.decode(stream, maxFrameBytes: 16)) {
            guard case .malformedFrame(.tooLarge(_, 16))? = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("limit"))
        }
        // A commitment of 32 bytes 0xff is above r: not a canonical field element.
        var corrupted = stream
        let commitment = Array(Wire32.canonical(12345))
        let at = try XCTUnwrap(corrupted.firstRange(of: commitment))
        corrupted.replaceSubrange(at, with: [UInt8](repeating: 0xff, count: 32))
        XCTAssertThrowsError(try FrameStream.decode(corrupted)) {
            guard case .rejected(_, .malformedField(let field, _))? = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "Hello.client_commitment")
        }
        // Random bytes in a well-framed envelope never crash the decoder.
        for seed in 0..<200 {
            var generator = SeededGenerator(seed: UInt64(seed))
            var frame = ByteBuffer()
            Frame.write(
                (0..<Int(generator.nextInt(below: 300))).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
                into: &frame)
            _ = try? FrameStream.decode(Array(frame.readableBytesView))
        }
    }

    /// A Hello always carries its dataset root (32 zero bytes in plain mode); one without it is
    /// refused while decoding, never read as the zero root.
    func testHelloWithoutDatasetRootIsRefused() throws {
        var hello = Message.Hello(
            dataset: DatasetAnnouncement(root: Fr(7), size: 1, scheduleCommitment: [], fixedScheduleSeed: 1))
        hello.mode = .plain
        var envelope = try Verisplit_Split_V1_Envelope(serializedBytes: Wire.encode(.hello(hello)))
        guard case .hello(var body)? = envelope.body else { return XCTFail("not a Hello") }
        guard case .hello(let decoded) = try Wire.decode(try envelope.serializedBytes()) else {
            return XCTFail("not a Hello")
        }
        XCTAssertEqual(decoded.dataset.root, Fr(7))
        body.datasetRoot = Data()
        envelope.body = .hello(body)
        XCTAssertThrowsError(try Wire.decode(try envelope.serializedBytes())) {
            XCTAssertEqual($0 as? Rejection, .missing(.datasetRoot), "\($0)")
        }
    }

    /// A Reject frame carries the refusal's case: a known one arrives typed, one this side does
    /// not know (a newer or hostile peer) arrives as absent, never as a guess.
    func testRejectFrameCarriesTheRejectionKind() throws {
        let notice = Message.RejectNotice(step: 4, .proofInvalid(.server))
        guard case .reject(let known) = try Wire.decode(Wire.encode(.reject(notice))) else {
            return XCTFail("not a Reject")
        }
        XCTAssertEqual(known, notice)
        XCTAssertEqual(known.kind, "proofInvalid")
        var envelope = Verisplit_Split_V1_Envelope()
        var body = Verisplit_Split_V1_Reject()
        body.step = 4
        body.reason = "made up"
        body.kind = "noSuchRejection"
        envelope.body = .reject(body)
        guard case .reject(let unknown) = try Wire.decode(try envelope.serializedBytes()) else {
            return XCTFail("not a Reject")
        }
        XCTAssertNil(unknown.kind)
        XCTAssertEqual(unknown.reason, "made up")
    }

    func testRejectsOversizeEmptyAndWrongVersion() {
        var big = ByteBuffer()
        big.writeInteger(UInt32(1 << 30))
        XCTAssertThrowsError(try Frame.split(&big, maxBytes: 1 << 20)) {
            XCTAssertEqual($0 as? SplitError, .malformedFrame(.tooLarge(length: 1 << 30, limit: 1 << 20)))
            XCTAssertTrue("\($0)".contains("exceeds"))
        }
        var empty = ByteBuffer()
        empty.writeInteger(UInt32(0))
        XCTAssertThrowsError(try Frame.split(&empty, maxBytes: 100)) {
            XCTAssertEqual($0 as? SplitError, .malformedFrame(.empty))
        }
        var version = ByteBuffer()
        version.writeInteger(UInt32(2))
        version.writeBytes([9, 0])
        XCTAssertThrowsError(try Frame.split(&version, maxBytes: 100)) {
            XCTAssertEqual($0 as? SplitError, .malformedFrame(.version(got: 9, expected: Frame.version)))
            XCTAssertTrue("\($0)".contains("version 9"))
        }
    }
}

/// The outcomes of a test server's sessions, in the order they end.
actor ServedSessions {
    var outcomes: [SessionOutcome] = []
    var waiting: CheckedContinuation<SessionOutcome, Never>?

    func add(_ outcome: SessionOutcome) {
        if let waiting {
            self.waiting = nil
            waiting.resume(returning: outcome)
        } else {
            outcomes.append(outcome)
        }
    }

    func next() async -> SessionOutcome {
        if !outcomes.isEmpty { return outcomes.removeFirst() }
        return await withCheckedContinuation { waiting = $0 }
    }
}

/// Little-endian field bytes as the wire carries them.
enum Wire32 {
    static func canonical(_ value: UInt64) -> [UInt8] { Fr(value).littleEndianBytes() }
}

final class SplitProtocolTests: XCTestCase {
    /// Same seeds and fixed point: every mode trains exactly the same weights as plain.
    func testAllModesTrainTheSameWeightsAsPlain() async throws {
        let plain = try await Fixture.run(.plain)
        XCTAssertEqual(plain.report.stepsCompleted, 3)
        XCTAssertFalse(plain.report.rejected, plain.report.reason ?? "")
        for mode in [SplitMode.ledger, .verified, .pipelined] {
            let run = try await Fixture.run(mode)
            XCTAssertFalse(run.report.rejected, "\(mode): \(run.report.reason ?? "")")
            XCTAssertEqual(run.report.stepsCompleted, 3, "\(mode)")
            XCTAssertEqual(run.clientLayer, plain.clientLayer, "\(mode) client weights")
            XCTAssertEqual(run.serverLayer, plain.serverLayer, "\(mode) server weights")
            XCTAssertNotEqual(
                run.clientLayer, try SplitClient.initialLayer(spec: Fixture.spec, seed: 1), "training changed nothing")
            if mode.rawValue != "ledger" { XCTAssertGreaterThan(run.report.client.verifications, 0) }
        }
    }

    func testEveryAdversaryIsCaughtWithProofsAndLedgerMissesTheComputationalOnes() async throws {
        for adversary in Adversary.allCases where adversary != .none {
            for mode in [SplitMode.verified, .pipelined, .ledger] {
                // Two steps: the attack comes at step 1 (the replay needs step 0's proof).
                let run = try await Fixture.run(mode, steps: 2, adversary: adversary)
                XCTAssertEqual(
                    run.report.rejected, adversary.isCaught(by: mode),
                    "\(adversary.rawValue) in \(mode.rawValue): rejected=\(run.report.rejected) reason=\(run.report.reason ?? "-")"
                )
                if run.report.rejected {
                    XCTAssertNotNil(run.report.reason)
                    XCTAssertLessThanOrEqual(
                        run.report.stepsCompleted, 1,
                        "\(adversary.rawValue) in \(mode.rawValue): trained on a bad message")
                    // The honest side refused it, by the check that catches this adversary.
                    XCTAssertEqual(
                        run.report.rejectedBy, adversary.side == .server ? .client : .server,
                        "\(adversary.rawValue) in \(mode.rawValue)")
                    XCTAssertTrue(
                        Self.catches(adversary, run.report.rejection),
                        "\(adversary.rawValue) in \(mode.rawValue): \(run.report.rejection.map { "\($0)" } ?? "no rejection")"
                    )
                }
            }
        }
    }

    /// The refusal each adversary must meet: a wrong computation fails its proof (the part of
    /// the dishonest side), the rest fail the check written for them. An off-dataset sample
    /// fails the one-sample forward proof (which opens the leaf inside) or, in a batch, whose
    /// proof is honest for the sample it names, the verifier's native dataset opening.
    static func catches(_ adversary: Adversary, _ rejection: Rejection?) -> Bool {
        switch (adversary, rejection) {
        case (.fsha, .proofInvalid(.server)?), (.scaleGradient, .proofInvalid(.server)?),
            (.replay, .proofInvalid(.server)?),
            (.wrongSession, .proofInvalid(.server)?), (.forgedActivations, .proofInvalid(.client)?),
            (.forgedInput, .proofInvalid(.client)?),
            (.badCommitment, .doesNotOpen(.gradient)?), (.garbageFrame, .malformedFrame?),
            (.extremeGradient, .outOfRange(.gradient, index: 0, bits: _)?),
            (.offDataset, .proofInvalid(.client)?), (.offDataset, .notInDataset(sample: 0, index: _)?):
            return true
        default:
            return false
        }
    }

    /// The honest client's model is untouched by the rejected gradient: it equals an honest run
    /// stopped before the attack step.
    func testRejectedGradientLeavesTheClientModelAtTheLastVerifiedStep() async throws {
        let honest = try await Fixture.run(.verified, steps: 1)
        for mode in [SplitMode.verified, .pipelined] {
            let attacked = try await Fixture.run(mode, adversary: .scaleGradient)
            XCTAssertTrue(attacked.report.rejected)
            XCTAssertEqual(attacked.report.stepsCompleted, 1)
            XCTAssertEqual(attacked.clientLayer, honest.clientLayer, "\(mode)")
        }
    }

    func testKilledClientResumesToTheSameWeights() async throws {
        for mode in [SplitMode.verified, .ledger] {
            let uninterrupted = try await Fixture.run(mode, steps: 4)
            let state = Fixture.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            let first = try await Fixture.run(mode, steps: 4, state: state, stopAfter: 2)
            XCTAssertLessThan(first.report.stepsCompleted, 4)
            let resumed = try await Fixture.run(mode, steps: 4, state: state, resume: true)
            XCTAssertFalse(resumed.report.rejected, resumed.report.reason ?? "")
            XCTAssertEqual(resumed.report.stepsCompleted, 4)
            XCTAssertEqual(resumed.clientLayer, uninterrupted.clientLayer, "\(mode)")
            XCTAssertEqual(resumed.serverLayer, uninterrupted.serverLayer, "\(mode)")
            // The resumed session's record re-verifies offline, from the first step.
            let (header, steps) = try SessionRecordFile.read(state.appendingPathComponent("client/record.jsonl"))
            XCTAssertEqual(steps.count, 4)
            let server = try SessionRecordFile.read(try Self.serverRecord(in: state))
            let report = try RecordVerifier.verify(
                header: header, steps: steps, spec: Fixture.spec, specHash: Fixture.setup.specHash, keys: Fixture.keys,
                anchor: mode.usesProofs ? .none : .peerRecord(header: server.header, steps: server.steps))
            XCTAssertEqual(report.transcriptHead, resumed.report.transcriptHead)
        }
    }

    func testRecordVerifiesOfflineAndTamperingIsCaught() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await Fixture.run(.verified, steps: 2, state: state, schedule: nil)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
        for role in ["client", "server"] {
            let url =
                role == "client"
                ? state.appendingPathComponent("client/record.jsonl") : try Self.serverRecord(in: state)
            let (header, steps) = try SessionRecordFile.read(url)
            let report = try RecordVerifier.verify(
                header: header, steps: steps, spec: Fixture.spec, specHash: Fixture.setup.specHash, keys: Fixture.keys)
            XCTAssertEqual(report.steps, 2)
            XCTAssertEqual(report.proofsChecked, 6)
            XCTAssertEqual(report.transcriptHead, run.report.transcriptHead, role)
        }
        let (header, steps) = try SessionRecordFile.read(state.appendingPathComponent("client/record.jsonl"))
        func refuses(
            _ header: RecordHeader, _ steps: [StepRecord], specHash: [UInt8] = Fixture.setup.specHash,
            _ expected: Rejection, at step: UInt64 = 0, line: UInt = #line
        ) {
            XCTAssertThrowsError(
                try RecordVerifier.verify(
                    header: header, steps: steps, spec: Fixture.spec, specHash: specHash,
                    keys: Fixture.keys), line: line
            ) {
                XCTAssertEqual($0 as? SplitError, .rejected(step: step, expected), line: line)
            }
        }
        var tampered = steps
        tampered[1].gradient[0] += 1
        refuses(header, tampered, .doesNotOpen(.gradient), at: 1)
        tampered = steps
        tampered[0].serverProof = tampered[1].serverProof
        refuses(header, tampered, .proofInvalid(.server))
        tampered = steps
        tampered[1].clientWeights = tampered[0].clientWeights
        refuses(header, tampered, .chainBroken(.client), at: 1)
        XCTAssertThrowsError(try SessionRecordFile.read(state.appendingPathComponent("missing.jsonl")))
        // Fails closed (finding 8): another spec, absent or unparsable commitments, a step on
        // another sample than the schedule's, a schedule secret that does not open.
        refuses(header, steps, specHash: SHA256.hash(Array("another spec".utf8)), .specMismatch)
        var badHeader = header
        badHeader.clientStart = nil
        refuses(badHeader, steps, .malformedHeader("client start commitment"))
        // A commitment that is not a field element never gets past reading the record.
        let headerLine = String(decoding: try JSONEncoder().encode(header), as: UTF8.self)
        let serverStart = try XCTUnwrap(header.serverStart)
        let unparsable = headerLine.replacingOccurrences(
            of: "\"\(Hex32.encode(serverStart.littleEndianBytes()))\"", with: "\"zz\"")
        XCTAssertNotEqual(unparsable, headerLine)
        XCTAssertThrowsError(try JSONDecoder().decode(RecordHeader.self, from: Data(unparsable.utf8))) {
            XCTAssertTrue("\($0)".contains("server_start"), "\($0)")
        }
        tampered = steps
        tampered[1].clientWeightsAfter = nil
        refuses(header, tampered, .missing(.clientWeightsAfter), at: 1)
        tampered = steps
        let scheduled = tampered[1].samples[0].index
        tampered[1].samples[0].index = (scheduled + 1) % 4000
        refuses(header, tampered, .wrongSampleIndex(expected: scheduled, got: (scheduled + 1) % 4000), at: 1)
        tampered = steps
        tampered[0].scheduleSecret = [UInt8](repeating: 0, count: 32)
        refuses(header, tampered, .scheduleSecretDoesNotOpen)
        tampered = steps
        tampered[0].samples[0].leaf = nil
        refuses(header, tampered, .missing(.sampleLeaf))
        // The session id binds the header: another dataset root (or size, or schedule
        // commitment) no longer derives it, before any proof is looked at.
        badHeader = header
        badHeader.datasetRoot = Fr(7)
        refuses(badHeader, steps, .sessionIDMismatch)
        badHeader = header
        badHeader.datasetSize -= 1
        refuses(badHeader, steps, .sessionIDMismatch)
        badHeader = header
        badHeader.serverNonce[0] ^= 1
        refuses(badHeader, steps, .sessionIDMismatch)
        // A forger who re-derives the session id for the new root: every proof's statement
        // starts from the session id, so the first proof fails.
        badHeader = header
        badHeader.datasetRoot = Fr(7)
        badHeader.session = badHeader.derivedSession
        XCTAssertThrowsError(
            try RecordVerifier.verify(
                header: badHeader, steps: steps, spec: Fixture.spec, specHash: Fixture.setup.specHash,
                keys: Fixture.keys)
        ) {
            // The coin-tossed schedule is seeded by the session id, so the sample index is the
            // first to disagree; with a matching index the forward proof would fail.
            guard case .rejected(0, let rejection) = $0 as? SplitError,
                ["wrongSampleIndex", "proofInvalid"].contains(rejection.kind)
            else {
                return XCTFail("\($0)")
            }
        }
    }

    /// The server's record file under a `--state` directory of a local run.
    static func serverRecord(in state: URL) throws -> URL {
        try XCTUnwrap(
            FileManager.default.enumerator(at: state.appendingPathComponent("server"), includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.first { $0.lastPathComponent == "record.jsonl" })
    }

    /// A ledger record has no proofs: on its own it is refused as unanchored, and against the
    /// peer's record (or the head the peer reported) every rewrite a party could make of its own
    /// file is caught: a sample's leaf or index, a commitment, the header's dataset root with or
    /// without a re-derived session id. The record format is strict: an unknown or missing key,
    /// or a record of the older format without nonces, does not parse.
    func testLedgerRecordsAreCheckedAgainstThePeer() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await Fixture.run(.ledger, steps: 3, state: state, schedule: nil)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
        let clientURL = state.appendingPathComponent("client/record.jsonl")
        let (header, steps) = try SessionRecordFile.read(clientURL)
        let server = try SessionRecordFile.read(try Self.serverRecord(in: state))
        let head = try XCTUnwrap(run.report.transcriptHead)
        func verify(
            _ header: RecordHeader, _ steps: [StepRecord], _ anchor: RecordVerifier.Anchor
        ) throws -> RecordVerifier.Report {
            try RecordVerifier.verify(
                header: header, steps: steps, spec: Fixture.spec, specHash: Fixture.setup.specHash, keys: nil,
                anchor: anchor)
        }
        let peer = RecordVerifier.Anchor.peerRecord(header: server.header, steps: server.steps)
        XCTAssertThrowsError(try verify(header, steps, .none)) {
            XCTAssertEqual($0 as? SplitError, .unanchoredRecord(mode: .ledger))
        }
        XCTAssertEqual(try verify(header, steps, peer).anchor, .peerRecord)
        XCTAssertEqual(
            try verify(server.header, server.steps, .peerRecord(header: header, steps: steps)).anchor, .peerRecord)
        XCTAssertEqual(try verify(header, steps, .transcriptHead(head)).transcriptHead, run.report.transcriptHead)
        XCTAssertThrowsError(try verify(header, steps, .peerRecord(header: header, steps: steps))) {
            XCTAssertEqual(
                $0 as? SplitError, .rejected(step: 0, .peerRecordDiffers("role (both records are the client's)")))
        }

        func refuses(_ h: RecordHeader, _ s: [StepRecord], _ expected: Rejection, at step: UInt64, line: UInt = #line) {
            for anchor in [peer, .transcriptHead(head)] {
                XCTAssertThrowsError(try verify(h, s, anchor), line: line) { error in
                    guard case .rejected(let got, let rejection) = error as? SplitError else {
                        return XCTFail("\(error)", line: line)
                    }
                    if case .transcriptHead = anchor {
                        // Against a head alone, the chain ends elsewhere (or an earlier check fails first).
                        XCTAssertTrue(rejection == .transcriptHead || rejection == expected, "\(rejection)", line: line)
                    } else {
                        XCTAssertEqual(rejection, expected, line: line)
                        XCTAssertEqual(got, step, line: line)
                    }
                }
            }
        }
        var forged = steps
        forged[1].samples[0].leaf = Fr(424242)
        refuses(header, forged, .peerRecordDiffers("transcript from step 1 on"), at: 1)
        forged = steps
        forged[2].serverAfter = forged[2].serverBefore
        refuses(header, forged, .peerRecordDiffers("transcript from step 2 on"), at: 2)
        // The last step's client weights after its update are outside the transcript (they travel
        // in Finish): the peer's record still disagrees. A head alone does not bind them.
        forged = steps
        forged[2].clientWeightsAfter = Fr(5)
        XCTAssertThrowsError(try verify(header, forged, peer)) {
            XCTAssertEqual($0 as? SplitError, .rejected(step: 2, .peerRecordDiffers("step 2 client_weights_after")))
        }
        XCTAssertNoThrow(try verify(header, forged, .transcriptHead(head)))
        // The index must follow the schedule even without proofs.
        forged = steps
        forged[1].samples[0].index = (forged[1].samples[0].index + 1) % Int(header.datasetSize)
        XCTAssertThrowsError(try verify(header, forged, peer)) {
            guard case .rejected(1, .wrongSampleIndex) = $0 as? SplitError else { return XCTFail("\($0)") }
        }
        var forgedHeader = header
        forgedHeader.datasetRoot = Fr(99)
        XCTAssertThrowsError(try verify(forgedHeader, steps, peer)) {
            XCTAssertEqual($0 as? SplitError, .rejected(step: 0, .peerRecordDiffers("dataset_root")))
        }
        XCTAssertThrowsError(try verify(forgedHeader, steps, .transcriptHead(head))) {
            XCTAssertEqual($0 as? SplitError, .rejected(step: 0, .sessionIDMismatch))
        }
        // Re-deriving the session id for the new root makes a self-consistent file, which the
        // peer's record and head still contradict.
        forgedHeader.session = forgedHeader.derivedSession
        XCTAssertThrowsError(try verify(forgedHeader, steps, peer)) {
            XCTAssertEqual($0 as? SplitError, .rejected(step: 0, .peerRecordDiffers("session")))
        }
        XCTAssertThrowsError(try verify(forgedHeader, steps, .transcriptHead(head))) {
            // The new session id reseeds the schedule (first to disagree) and restarts the chain.
            guard case .rejected(_, let rejection) = $0 as? SplitError,
                ["wrongSampleIndex", "transcriptHead"].contains(rejection.kind)
            else {
                return XCTFail("\($0)")
            }
        }

        // Strict lines: an extra key, a missing key, an older header without nonces.
        let lines = try String(contentsOf: clientURL, encoding: .utf8).split(separator: "\n").map(String.init)
        func reads(_ edited: [String]) -> String? {
            let url = state.appendingPathComponent("edited.jsonl")
            do {
                try edited.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
                _ = try SessionRecordFile.read(url)
                return nil
            } catch { return "\(error)" }
        }
        XCTAssertNil(reads(lines))
        var edited = lines
        edited[1] = edited[1].replacingOccurrences(
            of: "{\"activation_commitment\"", with: "{\"extra\":\"\",\"activation_commitment\"")
        XCTAssertNotEqual(edited, lines)
        XCTAssertTrue(reads(edited)?.contains("unknown key 'extra'") ?? false, reads(edited) ?? "parsed")
        edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "\"forward_proof\":\"\",", with: "")
        XCTAssertNotEqual(edited, lines)
        XCTAssertTrue(reads(edited)?.contains("forward_proof") ?? false, reads(edited) ?? "parsed")
        // One spelling per value: upper-case hex reads as the same bytes, so it is refused.
        edited = lines
        let salt = try XCTUnwrap(steps[1].activationSalt).littleEndianBytes()
        let lower = Hex32.encode(salt)
        edited[2] = edited[2].replacingOccurrences(of: lower, with: lower.uppercased())
        XCTAssertNotEqual(edited, lines)
        XCTAssertTrue(reads(edited)?.contains("lower-case") ?? false, reads(edited) ?? "parsed")
        edited = lines
        edited[0] = edited[0].replacingOccurrences(of: "\"version\":3", with: "\"version\":2")
        XCTAssertNotEqual(edited, lines)
        XCTAssertTrue(reads(edited)?.contains("version 2") ?? false, reads(edited) ?? "parsed")
    }

    func testHandshakeRefusesAnotherSpecOrOtherKeys() async throws {
        var otherJSON = String(decoding: tinySpecJSON, as: UTF8.self)
        otherJSON = otherJSON.replacingOccurrences(of: "\"learning_rate_shift\": 5", with: "\"learning_rate_shift\": 6")
        let other = try CircuitSpec.load(Data(otherJSON.utf8))
        let otherSetup = SessionSetup(spec: other, specData: Data(otherJSON.utf8), keys: Fixture.keys)
        // The server runs the tiny spec; a client with another spec file must be refused.
        var c = LocalRunConfiguration()
        c.mode = .plain
        c.steps = 1
        let (listener, served, serving) = try await Fixture.serve(ServerOptions())
        defer { serving.cancel() }
        let client = SplitClient(
            setup: otherSetup, data: Fixture.data.train,
            options: {
                var o = ClientOptions()
                o.mode = .plain
                o.steps = 1
                return o
            }())
        let result = await client.run(
            over: try await Connector.connect(host: "127.0.0.1", port: listener.port, tls: nil))
        XCTAssertTrue(result.outcome.peerRejected)
        // The server's Reject frame names the case, so the client matches it without the text.
        XCTAssertEqual(result.outcome.peerRejection, "specMismatch", result.outcome.reason ?? "")
        let serverOutcome = await served.next()
        XCTAssertEqual(serverOutcome.rejection, .specMismatch, serverOutcome.reason ?? "")
        await listener.close()
    }

    /// The order of each proof's public inputs is the order the circuits allocate them.
    func testStatementsMatchTheCircuitsPublicInputs() throws {
        let spec = Fixture.spec
        let layers = try spec.sampleLayers(seed: 3)
        let x = try Fixture.data.train.features.storage[0..<784].map { try spec.format.quantize($0) }
        let dataset = try spec.singleSampleDataset(input: x, label: 4)
        let sample = try dataset.opening(0)
        let session = Fr(77), salt = Fr(5), salt2 = Fr(6)
        let a = try layers.client.forward(x)
        let forward = try spec.clientForwardCircuit(
            layers.client, sample: sample, root: dataset.root, session: session, step: 3, salt: salt)
        let cW = try ParameterCommitment.commit(
            layers.client.weights + layers.client.bias, format: spec.format, salt: salt)
        XCTAssertEqual(
            forward.publicValues,
            StepStatement.forward(
                session: session, step: 3, index: 0, label: 4, root: dataset.root,
                sample: sample.leaf, weights: cW, activations: a))
        let (server, result) = try spec.serverStepCircuit(
            layers.server, activations: a, label: 4, session: session, step: 3,
            saltBefore: salt, saltAfter: salt2)
        let before = try ParameterCommitment.commit(
            layers.server.weights + layers.server.bias, format: spec.format, salt: salt)
        let after = try ParameterCommitment.commit(
            result.updated.weights + result.updated.bias, format: spec.format, salt: salt2)
        XCTAssertEqual(
            server.publicValues,
            StepStatement.server(
                session: session, step: 3, activations: a, label: 4,
                classes: spec.server.outputs, format: spec.format,
                gradient: result.inputGradient, before: before, after: after))
        let (update, updated) = try spec.clientUpdateCircuit(
            layers.client, sample: sample, gradient: result.inputGradient,
            session: session, step: 3, saltBefore: salt, saltAfter: salt2)
        let cW2 = try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: salt2)
        XCTAssertEqual(
            update.publicValues,
            StepStatement.update(
                session: session, step: 3, label: 4, sample: sample.leaf,
                activations: a, gradient: result.inputGradient, before: cW, after: cW2))
    }

    /// A client that asks for a fixed sample order is refused unless the server allows it.
    func testFixedScheduleNeedsTheServersConsent() async throws {
        let (listener, served, serving) = try await Fixture.serve(ServerOptions())
        defer { serving.cancel() }
        var options = ClientOptions()
        options.mode = .plain
        options.steps = 1
        options.fixedScheduleSeed = 3
        let client = SplitClient(setup: Fixture.setup, data: Fixture.data.train, options: options)
        let result = await client.run(
            over: try await Connector.connect(host: "127.0.0.1", port: listener.port, tls: nil))
        XCTAssertTrue(result.outcome.peerRejected)
        XCTAssertEqual(result.outcome.peerRejection, "fixedScheduleRefused", result.outcome.reason ?? "")
        let serverOutcome = await served.next()
        XCTAssertEqual(serverOutcome.rejection, .fixedScheduleRefused, serverOutcome.reason ?? "")
        await listener.close()
    }

    /// Finding 11: the client refuses a pipeline deeper than it can afford to be steered.
    func testClientCapsThePipelineDepth() async throws {
        var c = LocalRunConfiguration()
        c.mode = .pipelined
        c.steps = 1
        c.pipelineDepth = ClientOptions.maxPipelineDepth + 1
        c.fixedScheduleSeed = 1
        let run = try await LocalRun.run(setup: Fixture.setup, train: Fixture.data.train, test: nil, configuration: c)
        XCTAssertEqual(run.report.stepsCompleted, 0)
        XCTAssertEqual(
            run.report.error,
            .pipelineTooDeep(depth: ClientOptions.maxPipelineDepth + 1, limit: ClientOptions.maxPipelineDepth),
            run.report.reason ?? "")
    }
}

final class TLSTests: XCTestCase {
    func tlsFile(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "tls/\(name)", withExtension: nil)).path
    }

    func serverTLS() throws -> TLSOptions {
        TLSOptions(
            certificateChain: try tlsFile("server.pem"), privateKey: try tlsFile("server.key"),
            trustRoots: try tlsFile("ca.pem"), requirePeerCertificate: true)
    }

    func testMutualTLSSessionTrains() async throws {
        var c = LocalRunConfiguration()
        c.mode = .verified
        c.steps = 1
        c.serverTLS = try serverTLS()
        c.clientTLS = TLSOptions(
            certificateChain: try tlsFile("client.pem"), privateKey: try tlsFile("client.key"),
            trustRoots: try tlsFile("ca.pem"), serverHostname: "localhost")
        let run = try await LocalRun.run(setup: Fixture.setup, train: Fixture.data.train, test: nil, configuration: c)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
        XCTAssertEqual(run.report.stepsCompleted, 1)
    }

    func testClientWithoutAnEnrolledCertificateIsRefused() async throws {
        for identity in [nil, ("stranger.pem", "stranger.key")] {
            var c = LocalRunConfiguration()
            c.mode = .plain
            c.steps = 1
            c.serverTLS = try serverTLS()
            c.clientTLS = TLSOptions(
                certificateChain: try identity.map { try tlsFile($0.0) },
                privateKey: try identity.map { try tlsFile($0.1) },
                trustRoots: try tlsFile("ca.pem"), serverHostname: "localhost")
            let run = try await LocalRun.run(
                setup: Fixture.setup, train: Fixture.data.train, test: nil, configuration: c)
            XCTAssertEqual(run.report.stepsCompleted, 0)
            XCTAssertNotNil(run.report.reason)
        }
    }

    func testClientRefusesAServerItDoesNotTrust() async throws {
        var c = LocalRunConfiguration()
        c.mode = .plain
        c.steps = 1
        c.serverTLS = TLSOptions(certificateChain: try tlsFile("server.pem"), privateKey: try tlsFile("server.key"))
        c.clientTLS = TLSOptions(trustRoots: try tlsFile("other-ca.pem"), serverHostname: "localhost")
        let run = try await LocalRun.run(setup: Fixture.setup, train: Fixture.data.train, test: nil, configuration: c)
        XCTAssertEqual(run.report.stepsCompleted, 0)
        XCTAssertNotNil(run.report.reason)
    }
}

final class LoadTests: XCTestCase {
    /// Short form of `verisplit split load-test`: garbage and stalled connections do not stop
    /// the honest sessions, which end with the weights of an undisturbed one.
    func testServerKeepsServingHonestClientsUnderGarbageAndStalls() async throws {
        var c = LoadTestConfiguration()
        c.mode = .ledger
        c.honestClients = 4
        c.garbageClients = 6
        c.stallingClients = 3
        c.steps = 3
        c.maxConnections = 6
        c.idleTimeout = .seconds(1)
        c.timeLimit = .seconds(120)
        let report = try await LoadTest.run(setup: Fixture.setup, train: Fixture.data.train, configuration: c)
        XCTAssertEqual(report.honestCompleted, 4, "\(report.failures)")
        XCTAssertEqual(report.honestIntact, 4)
        XCTAssertEqual(report.garbageRefused, 6)
        XCTAssertEqual(report.stallingClosed, 3)
        XCTAssertLessThan(report.rssGrowthMegabytes, 200)
    }
}

final class CeremonyKeyTests: XCTestCase {
    /// A 4x4-input spec (and a depth-3 dataset tree) keeps real ceremonies short.
    static let microJSON = Data(
        """
        {"name": "micro", "input": {"channels": 1, "height": 4, "width": 4},
         "client": {"out_channels": 1, "kernel": 2, "stride": 2}, "server": {"outputs": 2},
         "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
         "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 3}
        """.utf8)

    /// Finding 4: a party accepts ceremony keys only with its own contribution in both phases of
    /// every part. The client contributes to both; the server only to phase 2, so whoever made
    /// phase 1 (here: the client) could forge against it: the server refuses, the client
    /// accepts, and a verified session trains on the client's keys.
    func testPartiesNeedTheirOwnContributionInBothPhases() async throws {
        let spec = try CircuitSpec.load(Self.microJSON)
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try SplitCeremony.create(spec: spec, root: root)
        var clientReceipts: [ContributionReceipt] = [], serverReceipts: [ContributionReceipt] = []
        for part in CircuitSpec.Part.allCases {
            var transcript = try CeremonyTranscript.load(root.appendingPathComponent(part.rawValue).path)
            clientReceipts.append(try transcript.contribute(name: "client", phase: 1))
            clientReceipts.append(try transcript.contribute(name: "client", phase: 2))
            serverReceipts.append(try transcript.contribute(name: "server", phase: 2))
        }
        let verified = try SplitCeremony.verify(root: root, spec: spec)
        let clientKeys = try verified.keys(receipts: clientReceipts)
        let clientPart = root.appendingPathComponent(CircuitSpec.Part.client.rawValue).path
        XCTAssertThrowsError(try verified.keys(receipts: serverReceipts)) {
            XCTAssertEqual(
                $0 as? SplitError, .ceremonyLacksContribution(path: clientPart, phase: 1, importedPtauSHA256: nil))
        }
        XCTAssertThrowsError(try verified.keys(receipts: clientReceipts.filter { $0.phase == 1 })) {
            XCTAssertEqual(
                $0 as? SplitError, .ceremonyLacksContribution(path: clientPart, phase: 2, importedPtauSHA256: nil))
        }
        // A party that did not contribute at all refuses the keys.
        var stranger = clientReceipts[0]
        stranger.hash = String(repeating: "ab", count: 32)
        XCTAssertThrowsError(try verified.keys(receipts: [stranger]))

        // The ceremony keys run a verified session.
        try await Self.assertTwoVerifiedSteps(
            SessionSetup(spec: spec, specData: Self.microJSON, keys: clientKeys), seed: 5)
    }

    /// Two verified steps of `setup` on synthetic 4x4 images of two classes complete.
    static func assertTwoVerifiedSteps(
        _ setup: SessionSetup, seed: UInt64, file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        var generator = SeededGenerator(seed: seed)
        let images = (0..<(8 * 16)).map { _ in generator.nextUniform() }
        let data = try Dataset(
            features: Tensor(shape: [8, 1, 4, 4], storage: images), labels: (0..<8).map { $0 % 2 }, classCount: 2)
        var c = LocalRunConfiguration()
        c.mode = .verified
        c.steps = 2
        let run = try await LocalRun.run(setup: setup, train: data, test: nil, configuration: c)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "", file: file, line: line)
        XCTAssertEqual(run.report.stepsCompleted, 2, file: file, line: line)
    }

    /// A batched spec's circuits carry a commitment to witness wires: the ceremony makes their
    /// commitment keys too (sigma and eta contributed in phase 2). Its update is the linked
    /// circuit, so its keys need the link ceremony: refused before the link has a contribution,
    /// refused to a party whose own link contribution is missing, refused once a client
    /// ceremony moves on after the link; with both parties' link contributions the keys run a
    /// verified (linked) batched session. A ceremony started for the unlinked update still
    /// gives keys, without a link.
    func testBatchedSpecCeremonyNeedsTheLinkAndItsKeysRunAVerifiedSession() async throws {
        let json = Data(
            String(decoding: Self.microJSON, as: UTF8.self).replacingOccurrences(
                of: "\"batch\": 1", with: "\"batch\": 2"
            ).utf8)
        let spec = try CircuitSpec.load(json)
        XCTAssertTrue(spec.usesBatchedCircuits)
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try SplitCeremony.create(spec: spec, root: root)
        let linkDirectory = root.appendingPathComponent(SplitCeremony.linkDirectory).path
        XCTAssertThrowsError(try SplitCeremony.contributeLink(root: root, spec: spec, name: "too early")) {
            guard case .file(let path, let reason) = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertTrue(path.hasSuffix(CircuitSpec.Part.client.rawValue), path)
            XCTAssertTrue(reason.contains("phase-2"), reason)
        }
        // (Each part's transcript is verified below; contributions skip re-verifying it.)
        var client: [ContributionReceipt] = []
        for part in CircuitSpec.Part.allCases {
            var transcript = try CeremonyTranscript.load(root.appendingPathComponent(part.rawValue).path)
            client.append(try transcript.contribute(name: "client", phase: 1, verifyFirst: false))
            client.append(try transcript.contribute(name: "client", phase: 2, verifyFirst: false))
        }
        XCTAssertThrowsError(try SplitCeremony.keys(root: root, spec: spec, receipts: client)) {
            guard case .file(let path, let reason) = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, linkDirectory)
            XCTAssertTrue(reason.contains("ceremony-link"), reason)
        }
        // The server's link contribution alone: the client refuses (the server could know both
        // link secrets and link an update to images the forward proof never opened).
        let server = try SplitCeremony.contributeLink(root: root, spec: spec, name: "server")
        XCTAssertThrowsError(try SplitCeremony.keys(root: root, spec: spec, receipts: client)) {
            XCTAssertEqual(
                $0 as? SplitError,
                .ceremonyLacksContribution(path: linkDirectory, phase: LinkTranscript.phase, importedPtauSHA256: nil))
        }
        client.append(try SplitCeremony.contributeLink(root: root, spec: spec, name: "client"))
        let verified = try SplitCeremony.verify(root: root, spec: spec)
        XCTAssertTrue(verified.linked)
        XCTAssertEqual(verified.link?.contributions.map(\.name), ["server", "client"])
        let keys = try verified.keys(receipts: client)
        for part in CircuitSpec.Part.allCases {
            XCTAssertNotEqual(keys.key(part).provingKey.verifyingKey.commitment?.sigma, nil, part.rawValue)
            XCTAssertNotEqual(keys.key(part).provingKey.verifyingKey.commitment?.sigma, .generator, part.rawValue)
        }
        let link = try XCTUnwrap(keys.link)
        XCTAssertEqual(link.pairs, try SplitKeys.linkPairs(for: spec))
        let linkedUpdate = try XCTUnwrap(try SplitKeys.circuits(for: spec, linked: true)[.clientUpdate])
        XCTAssertEqual(Groth16.circuitHash(keys.update.r1cs), Groth16.circuitHash(linkedUpdate))
        try await Self.assertTwoVerifiedSteps(SessionSetup(spec: spec, specData: json, keys: keys), seed: 6)

        // The keys on disk load as linked keys, with the link checked against them.
        let saved = root.appendingPathComponent("saved-keys")
        try keys.write(to: saved)
        XCTAssertEqual(try SplitKeys.load(from: saved, spec: spec).hashes, keys.hashes)

        // One more phase-2 contribution to the update ceremony moves its eta/gamma: the link
        // was made of the old commitment key and no longer verifies.
        // A ceremony for the unlinked update (started before the link existed) is set up first
        // from copies of the client and server parts.
        let legacy = root.appendingPathComponent("legacy")
        for part in [CircuitSpec.Part.client, .server] {
            try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: root.appendingPathComponent(part.rawValue), to: legacy.appendingPathComponent(part.rawValue))
        }
        var update = try CeremonyTranscript.load(
            root.appendingPathComponent(CircuitSpec.Part.clientUpdate.rawValue).path)
        _ = try update.contribute(name: "late", phase: 2, verifyFirst: false)
        XCTAssertThrowsError(try SplitCeremony.verify(root: root, spec: spec)) {
            guard case .unsound(let phase, _, _, let reason) = $0 as? CeremonyError else { return XCTFail("\($0)") }
            XCTAssertEqual(phase, LinkTranscript.phase)
            XCTAssertTrue(reason.contains("other client keys"), reason)
        }

        // The unlinked update's ceremony gives keys without a link.
        let unlinked = try XCTUnwrap(try SplitKeys.circuits(for: spec, linked: false)[.clientUpdate])
        let updateDirectory = legacy.appendingPathComponent(CircuitSpec.Part.clientUpdate.rawValue).path
        var unlinkedUpdate = try CeremonyTranscript.create(
            directory: updateDirectory, circuit: Circom.writeR1CS(unlinked))
        let own = [
            try unlinkedUpdate.contribute(name: "client", phase: 1, verifyFirst: false),
            try unlinkedUpdate.contribute(name: "client", phase: 2, verifyFirst: false),
        ]
        let legacyKeys = try SplitCeremony.keys(root: legacy, spec: spec, receipts: client + own)
        XCTAssertNil(legacyKeys.link)
        XCTAssertEqual(Groth16.circuitHash(legacyKeys.update.r1cs), Groth16.circuitHash(unlinked))
        XCTAssertThrowsError(try SplitCeremony.contributeLink(root: legacy, spec: spec, name: "client")) {
            guard case .file(_, let reason) = $0 as? SplitError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("needs no link"), reason)
        }
        try await Self.assertTwoVerifiedSteps(SessionSetup(spec: spec, specData: json, keys: legacyKeys), seed: 7)
    }

    /// Finding 4, the attack: phase 1 imported from a .ptau whose tau, alpha and beta someone
    /// knows (here a beacon anyone can recompute). With gamma the generator, as in every
    /// snarkjs-style phase 2, knowing alpha * beta is enough to forge a server-step proof for any
    /// statement, whatever delta the honest parties contributed. Keys whose phase 1 is such an
    /// import are refused unless the party pinned that exact file.
    func testImportedPhaseOneWithKnownSecretsForgesAndIsRefusedUnlessPinned() throws {
        let spec = try CircuitSpec.load(Self.microJSON)
        let work = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        // The "public" .ptau: phase 1 of a scratch ceremony whose only contribution is a beacon.
        let circuits = try SplitKeys.circuits(for: spec)
        let largest = try XCTUnwrap(circuits.values.max { $0.constraintCount < $1.constraintCount })
        let scratch = work.appendingPathComponent("scratch").path
        var transcript = try CeremonyTranscript.create(directory: scratch, circuit: Circom.writeR1CS(largest))
        let beacon = Array("a beacon everyone knows".utf8)
        _ = try transcript.applyBeacon(beacon, iterationsExponent: 0)
        let ptau = Array(try Data(contentsOf: URL(fileURLWithPath: scratch + "/phase1/0001.ptau")))

        let root = work.appendingPathComponent("split")
        try SplitCeremony.create(spec: spec, root: root, ptau: ptau)
        var receipts: [ContributionReceipt] = []
        for part in CircuitSpec.Part.allCases {
            var t = try CeremonyTranscript.load(root.appendingPathComponent(part.rawValue).path)
            receipts.append(try t.contribute(name: "honest party", phase: 2))
        }
        let verified = try SplitCeremony.verify(root: root, spec: spec)
        XCTAssertThrowsError(try verified.keys(receipts: receipts)) {
            XCTAssertEqual(
                $0 as? SplitError,
                .ceremonyLacksContribution(
                    path: root.appendingPathComponent(CircuitSpec.Part.client.rawValue).path, phase: 1,
                    importedPtauSHA256: SHA256.hex(SHA256.hash(ptau))))
        }
        let pinned = try verified.keys(receipts: receipts, pinnedPtauSHA256: [SHA256.hex(SHA256.hash(ptau))])

        // The forgery the refusal prevents: alpha and beta from the public beacon.
        let (alpha, beta) = Self.beaconAlphaBeta(beacon)
        let vk = pinned.server.provingKey.verifyingKey
        XCTAssertEqual(vk.alpha, G1Affine.generator.multiplied(by: alpha).affine, "the beacon's alpha")
        XCTAssertEqual(vk.gamma, G2Affine.generator)
        let inputs = (0..<vk.publicInputCount).map { Fr(UInt64($0 * 7 + 1)) }
        var vkx = vk.ic[0].jacobian
        for (i, x) in inputs.enumerated() { vkx += vk.ic[i + 1].multiplied(by: x) }
        let a = (G1Affine.generator.multiplied(by: alpha * beta) + vkx).affine
        let forged = Proof(a: a, b: (G2Affine.generator.jacobian + vk.delta).affine, c: a)
        XCTAssertTrue(
            try Groth16.verify(key: vk, proof: forged, publicInputs: inputs),
            "anyone who knows alpha * beta forges under these keys")
    }

    /// The beacon's phase-1 secrets as `Beacon.secrets` documents them: SHA-256 iterated
    /// 2^exponent times (here once: exponent 0), then SHA-256(tag, digest, i, 0 | 1) as a 512-bit
    /// integer reduced mod r, for i = 0 (tau), 1 (alpha), 2 (beta).
    static func beaconAlphaBeta(_ beacon: [UInt8]) -> (Fr, Fr) {
        let digest = SHA256.hash(beacon)
        let tag = Array("VeriSplit ceremony beacon".utf8)
        func secret(_ i: UInt32) -> Fr {
            let prefix = tag + digest + withUnsafeBytes(of: i.littleEndian, Array.init)
            return Fr(reducing: BigInt(bigEndian: SHA256.hash(prefix + [0]) + SHA256.hash(prefix + [1])))
        }
        return (secret(1), secret(2))
    }
}

final class ProcessRunTests: XCTestCase {
    /// The server as its own OS process (the `verisplit` binary built next to the tests): the
    /// session trains the same weights as the in-process one.
    func testServerProcessTrainsTheSameWeights() async throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map {
            $0.appendingPathComponent("verisplit")
        }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("no verisplit executable next to the test bundle")
        }
        var c = LocalRunConfiguration()
        c.mode = .verified
        c.steps = 2
        c.fixedScheduleSeed = 7
        let separate = try await ProcessRun.run(
            setup: Fixture.setup, serverExecutable: executable, train: Fixture.sessionData,
            test: nil, configuration: c)
        XCTAssertFalse(separate.report.rejected, separate.report.reason ?? "")
        XCTAssertEqual(separate.report.stepsCompleted, 2)
        XCTAssertGreaterThan(separate.report.server.provingSeconds, 0, "the server process's summary was read")
        let inProcess = try await Fixture.run(.verified, steps: 2)
        XCTAssertEqual(separate.clientLayer, inProcess.clientLayer)
        XCTAssertEqual(separate.serverLayer, inProcess.serverLayer)
    }
}
