import Algebra
import Foundation
import Groth16
import Logging
import ProverPool
import SplitLearning
import XCTest
import ZKML

/// The tiny architecture with a batch of 4: its circuits commit to witness wires.
let tinyBatchedSpecJSON = Data(
    String(decoding: tinySpecJSON, as: UTF8.self).replacingOccurrences(of: "\"batch\": 1", with: "\"batch\": 4")
        .utf8)

enum BatchedFixture {
    static let spec: CircuitSpec = {
        do { return try CircuitSpec.load(tinyBatchedSpecJSON) } catch { fatalError("batched spec: \(error)") }
    }()
    static let keys: SplitKeys = {
        do { return try SplitKeys.developmentSetup(spec: spec) } catch { fatalError("batched setup: \(error)") }
    }()

    static func run(_ steps: Int, pool: (any ProofService)? = nil) async throws -> LocalRun.Result {
        var c = Fixture.configuration(.verified, steps: steps)
        c.clientProofService = pool
        c.serverProofService = pool
        return try await LocalRun.run(
            setup: SessionSetup(spec: spec, specData: tinyBatchedSpecJSON, keys: keys), train: Fixture.data,
            test: nil, configuration: c, logger: Logger(label: "test"))
    }
}

/// Batched circuits on the pool: the party commits to the committed wires and derives the
/// challenge itself, the worker proves the rest from the witness and the opening.
final class BatchedPoolTests: XCTestCase {
    /// A batched verified session proved by workers ends with the in-process weights; a worker
    /// that stores a wrong proof is caught by the party's check of the committed proof.
    func testBatchedSessionOnThePoolMatchesInProcess() async throws {
        XCTAssertTrue(BatchedFixture.spec.usesBatchedCircuits)
        let pool = try await PoolHarness()
        var faults = WorkerFaults()
        faults.corruptProofs = 1
        let liar = pool.startWorker(faults: faults, name: "liar", keys: BatchedFixture.keys)
        let service = await pool.service()
        let local = try await BatchedFixture.run(2)
        let session = Task { try await BatchedFixture.run(2, pool: service) }
        while await liar.counters.values.corrupted == 0 { try await Task.sleep(for: .milliseconds(50)) }
        pool.startWorker(name: "honest", keys: BatchedFixture.keys)
        let pooled = try await session.value
        XCTAssertFalse(pooled.report.rejected, pooled.report.reason ?? "")
        XCTAssertEqual(pooled.report.stepsCompleted, 2, pooled.report.reason ?? "")
        XCTAssertEqual(pooled.clientLayer, local.clientLayer, "client weights")
        XCTAssertEqual(pooled.serverLayer, local.serverLayer, "server weights")
        let counters = await service.counters.values
        XCTAssertEqual(counters.rejected, 1, "the corrupted proof was refused")
        XCTAssertEqual(counters.accepted, counters.enqueued)
        XCTAssertGreaterThanOrEqual(counters.accepted, 6)
        let left = try await pool.count()
        XCTAssertEqual(left, 0, "accepted jobs are deleted")
        await service.stop()
        await pool.close()
    }

    /// A job whose opening is not the one its challenge came from (the blinding changed) cannot
    /// be proved: the worker's own check refuses the proof and the job fails by name.
    func testAJobWithAnotherOpeningFails() async throws {
        let pool = try await PoolHarness()
        pool.startWorker(name: "w", keys: BatchedFixture.keys)
        let service = await pool.service(maxAttempts: 1)
        let prepared = try await PreparedProofJob.prepare(try Self.serverJob(), keys: BatchedFixture.keys)
        var opening = try XCTUnwrap(prepared.opening)
        opening.blinding = opening.blinding + .one
        let key = BatchedFixture.keys.key(.server)
        let witness = JobCodec.encodeWitness(prepared.witness, opening: opening)
        let id = try await service.enqueue(
            part: "server", step: 0, keyHash: key.verifyingKeyHash, witness: witness,
            publicCount: prepared.publicInputs.count)
        do {
            _ = try await service.result(of: id, witness: witness) { _ in true }
            XCTFail("a job with a wrong opening was proved")
        } catch let error as PoolError {
            XCTAssertTrue("\(error)".contains("proving failed"), "\(error)")
        }
        await service.stop()
        await pool.close()
    }

    /// A committed job's payload is the witness and a 160-byte opening: lengths, points and the
    /// blinding are checked.
    func testCommittedPayloadDecoding() throws {
        let witness = [Fr.one, Fr(UInt64(5)), -Fr.one]
        let opening = CommitmentOpening(
            commitment: G1Affine.generator, knowledge: G1Affine.generator.multiplied(by: Fr(3)).affine,
            blinding: Fr(UInt64(7)))
        let data = JobCodec.encodeWitness(witness, opening: opening)
        let decoded = try JobCodec.decodeCommittedWitness(data, wires: 3, publicCount: 1)
        XCTAssertEqual(decoded.witness, witness)
        XCTAssertEqual(decoded.opening, opening)
        XCTAssertThrowsError(try JobCodec.decodeCommittedWitness(data.dropLast(), wires: 3, publicCount: 1)) {
            guard case .committedWitnessLength = $0 as? JobDefect else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(
            try JobCodec.decodeCommittedWitness(JobCodec.encodeWitness(witness), wires: 3, publicCount: 1))
        var offCurve = data
        offCurve[96] ^= 1  // D's x coordinate
        XCTAssertThrowsError(try JobCodec.decodeCommittedWitness(offCurve, wires: 3, publicCount: 1)) {
            guard case .opening = $0 as? JobDefect else { return XCTFail("\($0)") }
        }
        var highBlinding = data
        for k in (data.count - 32)..<data.count { highBlinding[k] = 0xff }
        XCTAssertThrowsError(try JobCodec.decodeCommittedWitness(highBlinding, wires: 3, publicCount: 1)) {
            guard case .opening = $0 as? JobDefect else { return XCTFail("\($0)") }
        }
    }

    /// The server's step on a batch of synthetic 8-bit images.
    static func serverJob() throws -> ProofJob {
        let spec = BatchedFixture.spec
        let layers = try spec.sampleLayers(seed: 3)
        var x: [[Int64]] = []
        for s in 0..<spec.batch { x.append((0..<784).map { i -> Int64 in Int64((i * 7 + s * 31) % 256) }) }
        let activations = try BatchedStep.forward(layers.client, inputs: x)
        return ProofJob(step: 0, part: .server) { synthesis in
            try spec.batchedServerCircuit(
                layers.server, activations: activations, labels: (0..<spec.batch).map { $0 % 10 }, session: Fr(5),
                step: 0, saltBefore: Fr(11), saltAfter: Fr(12), oracle: synthesis.oracle,
                witnessOnly: synthesis.witnessOnly
            ).circuit
        }
    }
}
