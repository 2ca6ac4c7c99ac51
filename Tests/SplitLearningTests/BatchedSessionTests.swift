import Algebra
import Circuit
import Foundation
import Groth16
import NeuralNet
import SplitLearning
import SwiftProtobuf
import XCTest
import ZKML

/// The tiny architecture with a batch of 4: the protocol proves each step with the batched
/// circuits (a commitment to witness wires, lookups, Freivalds). Its learning rate changes at
/// every one of the first three steps (2^-5, 2^-6, then 2^-4), so every session test runs a
/// schedule's phases.
let tinyBatchedSpecJSON = Data(
    """
    {"name": "tiny-batch4", "input": {"channels": 1, "height": 28, "width": 28},
     "client": {"out_channels": 1, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
     "fraction_bits": 8, "value_bits": 24, "batch": 4, "loss": "softmax-cross-entropy",
     "learning_rate_shift": 5, "learning_rate_schedule": [{"from_step": 1, "shift": 6}, {"from_step": 2, "shift": 4}],
     "commitment": "poseidon-t17", "dataset_depth": 12}
    """.utf8)

enum BatchedFixture {
    static let spec: CircuitSpec = {
        do { return try CircuitSpec.load(tinyBatchedSpecJSON) } catch { fatalError("batched spec: \(error)") }
    }()
    static let keys: SplitKeys = {
        do { return try SplitKeys.developmentSetup(spec: spec) } catch { fatalError("batched setup: \(error)") }
    }()
    static let setup = SessionSetup(spec: spec, specData: tinyBatchedSpecJSON, keys: keys)

    static func run(
        _ mode: SplitMode, steps: Int = 3, adversary: Adversary = .none, state: URL? = nil, schedule: UInt64? = 7
    ) async throws -> LocalRun.Result {
        try await Fixture.run(mode, steps: steps, adversary: adversary, state: state, setup: setup, schedule: schedule)
    }

    /// The bundled samples in the spec's fixed point, as a client quantizes them.
    static func inputs(_ indices: [Int]) throws -> [[Int64]] {
        let size = spec.input.channels * spec.input.height * spec.input.width
        let pixels = Fixture.sessionData.features.storage
        return try indices.map { n in try pixels[(n * size)..<((n + 1) * size)].map { try spec.format.quantize($0) } }
    }
}

final class BatchedSessionTests: XCTestCase {
    /// The keys are the batched circuits': each part's key carries a commitment key.
    func testBatchedSpecGetsCommittedKeys() {
        for part in CircuitSpec.Part.allCases {
            XCTAssertNotNil(BatchedFixture.keys.key(part).provingKey.commitment, part.rawValue)
            XCTAssertNil(Fixture.keys.key(part).provingKey.commitment, part.rawValue)
        }
    }

    /// Every mode trains the same weights, and those are the native batched step replayed
    /// independently on the samples each step's record names: B = 4 samples per step, SGD on
    /// their mean gradient.
    func testBatchedSessionTrainsTheNativeBatchedStepInEveryMode() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let verified = try await BatchedFixture.run(.verified, state: state)
        XCTAssertFalse(verified.report.rejected, verified.report.reason ?? "")
        XCTAssertEqual(verified.report.stepsCompleted, 3)
        XCTAssertEqual(verified.report.client.proofs, 6)
        XCTAssertEqual(verified.report.server.proofs, 3)

        let (_, steps) = try SessionRecordFile.read(state.appendingPathComponent("client/record.jsonl"))
        XCTAssertEqual(steps.count, 3)
        var conv = try SplitClient.initialLayer(spec: BatchedFixture.spec, seed: 1)
        var head = try SplitServer.initialLayer(spec: BatchedFixture.spec, seed: 2)
        var seen = Set<Int>()
        for record in steps {
            XCTAssertEqual(record.samples.count, 4)
            let indices = record.samples.map(\.index)
            seen.formUnion(indices)
            let labels = indices.map { Fixture.sessionData.labels[$0] }
            XCTAssertEqual(record.samples.map(\.label), labels)
            let inputs = try BatchedFixture.inputs(indices)
            let activations = try BatchedStep.forward(conv, inputs: inputs)
            XCTAssertEqual(record.activations, activations.flatMap { $0 })
            let server = try BatchedStep.server(
                head, activations: activations, labels: labels,
                learningRateShift: BatchedFixture.spec.learningRateShift(atStep: record.step),
                loss: BatchedFixture.spec.loss)
            XCTAssertEqual(record.gradient, server.inputGradients.flatMap { $0 })
            let masked = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
            conv = try BatchedStep.clientUpdate(
                conv, inputs: inputs, masked: masked,
                learningRateShift: BatchedFixture.spec.learningRateShift(atStep: record.step))
            head = server.updated
        }
        XCTAssertEqual(seen.count, 12, "one epoch's permutation: no sample twice in three steps of four")
        XCTAssertEqual(verified.clientLayer, conv)
        XCTAssertEqual(verified.serverLayer, head)

        for mode in [SplitMode.plain, .ledger, .pipelined] {
            let run = try await BatchedFixture.run(mode)
            XCTAssertFalse(run.report.rejected, "\(mode): \(run.report.reason ?? "")")
            XCTAssertEqual(run.clientLayer, conv, "\(mode)")
            XCTAssertEqual(run.serverLayer, head, "\(mode)")
        }
    }

    /// A client that trains a step at another phase's rate. Its schedule has the same slowest
    /// shift, so its circuit is the keys' circuit and its proof is a real proof of its own
    /// statement; the verifier puts the step's multiplier from its own spec in the statement, and
    /// the proof fails there.
    func testAnUpdateAtAnotherPhasesRateIsRejected() throws {
        let spec = BatchedFixture.spec
        let cheat = try CircuitSpec.load(
            Data(
                String(decoding: tinyBatchedSpecJSON, as: UTF8.self).replacingOccurrences(
                    of: #"{"from_step": 2, "shift": 4}"#, with: #"{"from_step": 2, "shift": 6}"#
                ).utf8))
        XCTAssertEqual(cheat.slowestLearningRateShift, spec.slowestLearningRateShift)
        XCTAssertEqual(spec.learningRateMultiplier(atStep: 2), 4)
        XCTAssertEqual(cheat.learningRateMultiplier(atStep: 2), 1)
        let indices = [3, 0, 2, 1]
        let dataset = try spec.dataset(
            inputs: try BatchedFixture.inputs(indices), labels: indices.map { Fixture.sessionData.labels[$0] })
        let samples = try (0..<4).map { try dataset.opening($0) }
        let layers = try spec.sampleLayers(seed: 1)
        let activations = try BatchedStep.forward(layers.client, inputs: samples.map(\.values))
        let server = try BatchedStep.server(
            layers.server, activations: activations, labels: samples.map(\.label),
            learningRateShift: spec.learningRateShift(atStep: 2), loss: spec.loss)
        let masked = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
        let key = BatchedFixture.keys.key(.clientUpdate)
        var trained: QuantizedConv2d?
        let proof = try Groth16.proveCommitted(key: key.provingKey, r1cs: key.r1cs) { oracle in
            let (circuit, updated) = try cheat.batchedUpdateCircuit(
                layers.client, samples: samples, masked: masked, session: Fr(9), step: 2, saltBefore: Fr(1),
                saltAfter: Fr(2), linked: true, oracle: oracle)
            trained = updated
            return circuit
        }
        let updated = try XCTUnwrap(trained)
        let honest = try BatchedStep.clientUpdate(
            layers.client, inputs: samples.map(\.values), masked: masked, learningRateShift: 4)
        XCTAssertNotEqual(updated, honest, "the cheater moved its weights by a quarter of the step")
        func statement(_ rate: Int64) throws -> [Fr] {
            BatchedStatement.update(
                session: Fr(9), step: 2, learningRate: rate, labels: [], leaves: [], masked: masked,
                before: try ParameterCommitment.commit(
                    layers.client.weights + layers.client.bias, format: spec.format, salt: Fr(1)),
                after: try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: Fr(2)))
        }
        XCTAssertTrue(
            try Groth16.verifyCommitted(key: key.verifyingKey, proof: proof, statement: statement(1)),
            "a real proof of the cheater's own statement")
        XCTAssertFalse(
            try Groth16.verifyCommitted(
                key: key.verifyingKey, proof: proof, statement: statement(spec.learningRateMultiplier(atStep: 2))),
            "refused at the step's rate")
    }

    /// Each dishonest party is refused in the batched protocol by the check that catches it:
    /// a wrong computation by its proof, the rest by the check written for them.
    func testEveryAdversaryIsCaughtByTheBatchedProofs() async throws {
        for adversary in Adversary.allCases where adversary != .none {
            for mode in [SplitMode.verified, .pipelined] {
                if mode == .pipelined, ![Adversary.fsha, .forgedActivations, .replay, .offDataset].contains(adversary) {
                    continue
                }
                let run = try await BatchedFixture.run(mode, steps: 2, adversary: adversary)
                let label = "\(adversary.rawValue) in \(mode.rawValue)"
                XCTAssertTrue(run.report.rejected, "\(label) was not refused")
                XCTAssertLessThanOrEqual(run.report.stepsCompleted, 1, "\(label): trained on a bad message")
                XCTAssertEqual(run.report.rejectedBy, adversary.side == .server ? .client : .server, label)
                XCTAssertTrue(
                    SplitProtocolTests.catches(adversary, run.report.rejection),
                    "\(label): \(run.report.rejection.map { "\($0)" } ?? "no rejection")")
            }
        }
    }

    /// The record of a batched session verifies offline (both parties'), and rewriting it is
    /// caught: a sample's leaf or index, a label, a proof moved from another step, a plain proof
    /// in place of a committed one.
    func testBatchedRecordVerifiesOfflineAndTamperingIsCaught() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await BatchedFixture.run(.verified, steps: 2, state: state, schedule: nil)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
        let spec = BatchedFixture.spec, specHash = BatchedFixture.setup.specHash, keys = BatchedFixture.keys
        for url in [
            state.appendingPathComponent("client/record.jsonl"), try SplitProtocolTests.serverRecord(in: state),
        ] {
            let (header, steps) = try SessionRecordFile.read(url)
            let report = try RecordVerifier.verify(
                header: header, steps: steps, spec: spec, specHash: specHash, keys: keys)
            XCTAssertEqual(report.proofsChecked, 6)
            XCTAssertEqual(report.transcriptHead, run.report.transcriptHead)
        }
        let (header, steps) = try SessionRecordFile.read(state.appendingPathComponent("client/record.jsonl"))
        func refuses(_ steps: [StepRecord], _ expected: Rejection, at step: UInt64, line: UInt = #line) {
            XCTAssertThrowsError(
                try RecordVerifier.verify(header: header, steps: steps, spec: spec, specHash: specHash, keys: keys),
                line: line
            ) { XCTAssertEqual($0 as? SplitError, .rejected(step: step, expected), line: line) }
        }
        // A leaf that is not the one at its index: another sample's leaf, with or without that
        // sample's own (valid) path; a sibling changed; a path one level short.
        var tampered = steps
        let index = steps[1].samples[2].index
        tampered[1].samples[2].leaf = tampered[1].samples[3].leaf
        refuses(tampered, .notInDataset(sample: 2, index: index), at: 1)
        tampered[1].samples[2].siblings = tampered[1].samples[3].siblings
        refuses(tampered, .notInDataset(sample: 2, index: index), at: 1)
        for level in [0, 5, 11] {
            tampered = steps
            tampered[1].samples[2].siblings[level] += .one
            refuses(tampered, .notInDataset(sample: 2, index: index), at: 1)
        }
        tampered = steps
        tampered[1].samples[2].siblings.removeLast()
        refuses(tampered, .notInDataset(sample: 2, index: index), at: 1)
        // Two samples swapped (index, leaf and path together): the schedule's order is refused.
        tampered = steps
        tampered[1].samples.swapAt(0, 1)
        XCTAssertThrowsError(
            try RecordVerifier.verify(header: header, steps: tampered, spec: spec, specHash: specHash, keys: keys))
        tampered = steps
        tampered[0].serverProof = tampered[1].serverProof
        refuses(tampered, .proofInvalid(.server), at: 0)
        tampered = steps
        tampered[0].updateProof = tampered[0].forwardProof
        refuses(tampered, .proofInvalid(.clientUpdate), at: 0)
        // The update is linked to its step's forward proof (`SplitKeys.link`): without its link,
        // or with the link of another step's update, it is refused; the link itself holds only
        // with its own step's forward commitment.
        guard case .linked(let update1, let link1)? = steps[1].updateProof,
            case .linked(_, let link0)? = steps[0].updateProof,
            let forward0 = steps[0].forwardProof?.commitment, let forward1 = steps[1].forwardProof?.commitment
        else { return XCTFail("the batched dev keys link the update: \(String(describing: steps[1].updateProof))") }
        tampered = steps
        tampered[1].updateProof = .committed(update1)
        refuses(tampered, .proofInvalid(.clientUpdate), at: 1)
        tampered[1].updateProof = .linked(update1, link: link0)
        refuses(tampered, .proofInvalid(.clientUpdate), at: 1)
        let linkKey = try XCTUnwrap(keys.link?.verifyingKey)
        XCTAssertTrue(try CommitmentLink.verify(key: linkKey, left: forward1, right: update1.commitment, proof: link1))
        XCTAssertFalse(try CommitmentLink.verify(key: linkKey, left: forward0, right: update1.commitment, proof: link1))
        // A plain Groth16 proof (a one-sample key's) is never accepted under a batched key.
        let plain = Fixture.keys.key(.server)
        let layers = try Fixture.spec.sampleLayers(seed: 1)
        let x = [Int64](repeating: 3, count: 784)
        let cs = try Fixture.spec.build(.server, input: x, label: 0, layers: layers, session: Fr(1), step: 0)
        tampered = steps
        tampered[0].serverProof = .plain(
            try Groth16.prove(key: plain.provingKey, r1cs: plain.r1cs, witness: cs.witness()))
        refuses(tampered, .proofInvalid(.server), at: 0)
        // A sample count other than the batch.
        tampered = steps
        tampered[1].samples.removeLast()
        refuses(tampered, .wrongSampleCount(expected: 4, got: 3), at: 1)
        // Keys that differ only in the update key's sigma (made consistently, as a forger who
        // knows it would: `testAProverWhoKnowsSigmaProvesAFalseStatement` forges under such a
        // key) do not carry the record's key hashes.
        let update = keys.key(.clientUpdate)
        var forgerKey = update.provingKey
        let sigma = Fr.random()
        forgerKey.verifyingKey.commitment?.sigma = G2Affine.generator.multiplied(by: sigma).affine
        var commitmentKey = try XCTUnwrap(forgerKey.commitment)
        commitmentKey.basisSigma = commitmentKey.basis.map { $0.multiplied(by: sigma).affine }
        commitmentKey.etaGammaSigma = commitmentKey.etaGamma.multiplied(by: sigma).affine
        forgerKey.commitment = commitmentKey
        let forgerKeys = SplitKeys(
            forward: keys.forward, server: keys.server,
            update: PartKey(part: .clientUpdate, provingKey: forgerKey, r1cs: update.r1cs), link: keys.link)
        XCTAssertEqual(forgerKeys.update.provingKey.verifyingKey.ic, update.provingKey.verifyingKey.ic)
        XCTAssertNotEqual(forgerKeys.hashes, keys.hashes)
        XCTAssertThrowsError(
            try RecordVerifier.verify(header: header, steps: steps, spec: spec, specHash: specHash, keys: forgerKeys)
        ) { XCTAssertEqual($0 as? SplitError, .rejected(step: 0, .keyMismatch)) }
    }

    /// The record line of a batched step lists its samples; a line with both forms, or a
    /// `samples` list of one, does not parse.
    func testBatchedRecordLinesAreStrict() throws {
        let samples = (0..<4).map { Message.Sample(index: $0 * 3, label: $0, leaf: Fr(UInt64(10 + $0))) }
        var record = StepRecord(step: 0, activations: [Int64](repeating: 5, count: 64), samples: samples)
        record.gradient = [Int64](repeating: -1, count: 64)
        let line = try JSONEncoder().encode(record)
        XCTAssertEqual(try JSONDecoder().decode(StepRecord.self, from: line), record)
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        XCTAssertNil(object["label"])
        XCTAssertEqual((object["samples"] as? [Any])?.count, 4)
        var both = object
        both["label"] = 1
        both["sample_index"] = 0
        both["sample_leaf"] = ""
        XCTAssertThrowsError(
            try JSONDecoder().decode(StepRecord.self, from: try JSONSerialization.data(withJSONObject: both)))
        object["samples"] = [["index": 0, "label": 1, "leaf": ""]]
        XCTAssertThrowsError(
            try JSONDecoder().decode(StepRecord.self, from: try JSONSerialization.data(withJSONObject: object)))
        object["samples"] = [["index": 0, "label": 1, "leaf": "", "extra": 1], ["index": 1, "label": 1, "leaf": ""]]
        XCTAssertThrowsError(
            try JSONDecoder().decode(StepRecord.self, from: try JSONSerialization.data(withJSONObject: object)))
        // Merkle siblings: a list of canonical hex field elements, 1 to 24 of them, or no key.
        var withPath = record
        withPath.samples[1].siblings = (0..<12).map { Fr(UInt64(50 + $0)) }
        let pathLine = try JSONEncoder().encode(withPath)
        XCTAssertEqual(try JSONDecoder().decode(StepRecord.self, from: pathLine), withPath)
        let pathObject = try XCTUnwrap(try JSONSerialization.jsonObject(with: pathLine) as? [String: Any])
        let entries = try XCTUnwrap(pathObject["samples"] as? [[String: Any]])
        XCTAssertNil(entries[0]["siblings"], "an empty path is no key")
        let good = try XCTUnwrap(entries[1]["siblings"] as? [String])
        let overR = String(repeating: "f", count: 64)
        for bad: Any in [
            [String](), Array(repeating: good[0], count: 25), [good[0], overR], [good[0], "AB"], [1, 2],
        ] {
            var object = pathObject
            var list = entries
            list[1]["siblings"] = bad
            object["samples"] = list
            XCTAssertThrowsError(
                try JSONDecoder().decode(StepRecord.self, from: try JSONSerialization.data(withJSONObject: object)),
                "\(bad)")
        }
        // One sample keeps the single-sample keys (batch-1 records are unchanged).
        let single = StepRecord(step: 0, activations: [1], samples: [samples[0]])
        let singleObject = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(single)) as? [String: Any])
        XCTAssertNil(singleObject["samples"])
        XCTAssertEqual(singleObject["sample_index"] as? Int, 0)
    }

    /// A batch travels in the Activations message's sample list; a message with the list and
    /// the single-sample fields both set is refused by name, and a committed proof round-trips.
    func testBatchedActivationsOnTheWire() throws {
        let samples = (0..<4).map { Message.Sample(index: $0, label: 9 - $0, leaf: Fr(UInt64($0 + 1))) }
        var a = Message.Activations(step: 3, session: Fr(7), values: [1, 2, 3], samples: samples)
        let key = BatchedFixture.keys.key(.client)
        let proof = CommittedProof(
            proof: Proof(a: G1Affine.generator, b: G2Affine.generator, c: G1Affine.generator),
            commitment: G1Affine.generator, knowledge: G1Affine.generator)
        a.forwardProof = .committed(proof)
        let bytes = Wire.encode(.activations(a))
        XCTAssertEqual(try Wire.decode(bytes), .activations(a))
        XCTAssertNotNil(key.provingKey.commitment)

        var envelope = try Verisplit_Split_V1_Envelope(serializedBytes: bytes)
        guard case .activations(var m)? = envelope.body else { return XCTFail("not activations") }
        m.sampleIndex = 2
        envelope.body = .activations(m)
        XCTAssertThrowsError(try Wire.decode(try envelope.serializedBytes())) {
            guard case .malformedField(let field, _)? = $0 as? Rejection else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "Activations.samples")
        }
        m.sampleIndex = 0
        // Merkle siblings: each a canonical, non-empty field element; at most 24 of them.
        let honest = m
        for (bad, field) in [
            ([Data(repeating: 0xff, count: 32)], "Activations.samples[1].siblings[0]"),
            ([Data(count: 32), Data()], "Activations.samples[1].siblings[1]"),
            ([Data](repeating: Data(count: 32), count: 25), "Activations.samples[1].siblings"),
        ] {
            m.samples[1].siblings = bad
            envelope.body = .activations(m)
            XCTAssertThrowsError(try Wire.decode(try envelope.serializedBytes())) {
                guard case .malformedField(let got, _)? = $0 as? Rejection else { return XCTFail("\($0)") }
                XCTAssertEqual(got, field)
            }
        }
        m = honest
        m.samples[1].siblings = [Data(count: 32), Data(repeating: 7, count: 31) + Data([0])]
        envelope.body = .activations(m)
        guard case .activations(let decoded) = try Wire.decode(try envelope.serializedBytes()) else {
            return XCTFail("not activations")
        }
        XCTAssertEqual(decoded.samples[1].siblings.count, 2)
        m.forwardProof = Data(repeating: 1, count: 300)
        envelope.body = .activations(m)
        XCTAssertThrowsError(try Wire.decode(try envelope.serializedBytes())) {
            guard case .malformedField(let field, let reason)? = $0 as? Rejection else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "Activations.forward_proof")
            XCTAssertTrue(reason.contains("256, 384 or 448"), reason)
        }
    }

    /// Preparing a batched job for the prover pool commits and finishes the witness in the party;
    /// a job whose circuit is not the key's (here one that draws no challenge) is refused by name
    /// before anything is queued.
    func testPoolPreparationRefusesACircuitThatIsNotTheKeys() async throws {
        let job = ProofJob(step: 0, part: .server) { _ in ConstraintSystem<Fr>() }
        do {
            _ = try await PreparedProofJob.prepare(job, keys: BatchedFixture.keys)
            XCTFail("a job whose circuit is not the key's was prepared for the pool")
        } catch let error as SplitError {
            XCTAssertTrue(error.description.contains("not the key's"), error.description)
        }
    }
}

/// The forward opening a linked update waits for: an update started first (a concurrent pool)
/// waits until the forward proof's commitment step sets it, fails if the forward proof failed,
/// and finds nothing once the opening was used and erased.
final class ForwardOpeningTests: XCTestCase {
    func testAnUpdateWaitsForItsForwardOpeningAndAFailedForwardFailsIt() async throws {
        let opening = CommitmentOpening(commitment: .generator, knowledge: .generator, blinding: Fr(UInt64(5)))
        let box = ForwardOpening()
        let waiter = Task { try await box.ready() }
        try await Task.sleep(nanoseconds: 50_000_000)
        XCTAssertNil(box.value())
        box.set(committed: [Fr(UInt64(1)), Fr(UInt64(2))], opening: opening)
        try await waiter.value
        XCTAssertEqual(box.value()?.committed, [Fr(UInt64(1)), Fr(UInt64(2))])
        try await box.ready()
        box.erase()
        XCTAssertNil(box.value())
        do {
            try await box.ready()
            XCTFail("an erased opening is not ready")
        } catch {}

        let failed = ForwardOpening()
        let other = Task { try await failed.ready() }
        try await Task.sleep(nanoseconds: 50_000_000)
        failed.fail("the witness does not satisfy the circuit")
        do {
            try await other.value
            XCTFail("the update of a failed forward proof must fail, not wait")
        } catch let error as SplitError {
            XCTAssertTrue("\(error)".contains("the forward proof failed"), "\(error)")
        }
    }
}

/// Linked keys on disk: `link.key` beside the part directories round-trips; without it the
/// linked update key is refused (its circuit is not the unlinked update's); a link key whose
/// points were swapped, checksum recomputed, is refused against the client keys.
final class LinkedKeysOnDiskTests: XCTestCase {
    func testLinkKeyRoundTripsAndIsCheckedAgainstTheClientKeys() throws {
        let directory = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = BatchedFixture.keys
        try keys.write(to: directory)
        let loaded = try SplitKeys.load(from: directory, spec: BatchedFixture.spec)
        XCTAssertEqual(loaded.link, keys.link)
        XCTAssertEqual(loaded.hashes, keys.hashes)
        let path = directory.appendingPathComponent("link.key")
        let bytes = Array(try Data(contentsOf: path))
        let link = try XCTUnwrap(keys.link)
        var swapped = link
        swapped.points.swapAt(0, 1)
        try Data(LinkKeyFile.encode(swapped)).write(to: path)
        XCTAssertThrowsError(try SplitKeys.load(from: directory, spec: BatchedFixture.spec))
        try FileManager.default.removeItem(at: path)
        XCTAssertThrowsError(try SplitKeys.load(from: directory, spec: BatchedFixture.spec))
        try Data(bytes).write(to: path)
        XCTAssertNoThrow(try SplitKeys.load(from: directory, spec: BatchedFixture.spec))
    }
}
