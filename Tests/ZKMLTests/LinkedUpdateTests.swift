import Algebra
import Circuit
import Foundation
import Groth16
import XCTest
import ZKML

/// The linked update (`batchedUpdateCircuit(..., linked: true)`): it neither opens nor
/// range-checks the batch, so on its own it proves an update over any values; beside a
/// `CommitmentLink` proof to the step's forward proof it proves the update over the forward's
/// samples. Played at batch 4 with real keys: the honest pair links; an update over other
/// samples verifies on its own and cannot be linked.
final class LinkedUpdateTests: XCTestCase {
    typealias Oracle = @Sendable ([Fr], [Fr]) -> Fr
    let spec = BatchedCircuitTests.spec

    struct Proved {
        var proof: CommittedProof
        var opening: CommitmentOpening
        var committed: [Fr]
        var statement: [Fr]
    }

    func prove(
        key: ProvingKey, r1cs: R1CS<Fr>, build: (@escaping Oracle) throws -> ConstraintSystem<Fr>
    ) throws -> Proved {
        let commitmentKey = try XCTUnwrap(key.commitment)
        let committed = try build { _, _ in .one }.committedValues
        let opening = Groth16.commit(commitmentKey, committed: committed)
        let cs = try build { _, statement in
            Groth16.commitmentChallenge(commitment: opening.commitment, statement: statement)
        }
        XCTAssertEqual(cs.committedValues, committed)
        let witness = cs.witness()
        let proof = try Groth16.proveCommitted(key: key, r1cs: r1cs, witness: witness, opening: opening)
        return Proved(
            proof: proof, opening: opening, committed: committed, statement: Array(witness[1..<r1cs.numPublic]))
    }

    func testTheLinkedUpdateProvesTheForwardsSamplesOnly() throws {
        let layers = try spec.sampleLayers(seed: 1)
        let dataset = BatchedCircuitTests.dataset
        let batch = try [5, 1, 6, 2].map { try dataset.opening($0) }
        let other = try [5, 1, 6, 3].map { try dataset.opening($0) }
        let salt = Fr(UInt64(9)), newSalt = Fr(UInt64(10))
        let activations = try BatchedStep.forward(layers.client, inputs: batch.map(\.values))
        let server = try BatchedStep.server(
            layers.server, activations: activations, labels: batch.map(\.label), learningRateShift: 5,
            loss: .softmaxCrossEntropy)
        let delta = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
        func forward(_ oracle: Oracle?) throws -> ConstraintSystem<Fr> {
            try spec.batchedForwardCircuit(
                layers.client, samples: batch, session: .one, step: 3, salt: salt, oracle: oracle)
        }
        func update(_ samples: [SampleOpening], _ oracle: Oracle?) throws -> ConstraintSystem<Fr> {
            try spec.batchedUpdateCircuit(
                layers.client, samples: samples, masked: delta, session: .one, step: 3, saltBefore: salt,
                saltAfter: newSalt, linked: true, oracle: oracle
            ).circuit
        }
        let forwardCS = try forward(nil), updateCS = try update(batch, nil)
        XCTAssertNil(updateCS.firstViolation())
        let unlinked = try spec.batchedUpdateCircuit(
            layers.client, samples: batch, masked: delta, session: .one, step: 3, saltBefore: salt, saltAfter: newSalt
        ).circuit
        XCTAssertLessThan(updateCS.constraintCount, unlinked.constraintCount / 2, "no second opening of the batch")
        let updated = try BatchedStep.clientUpdate(
            layers.client, inputs: batch.map(\.values), masked: delta, learningRateShift: 5)
        let statement = BatchedStatement.update(
            session: .one, step: 3, learningRate: spec.learningRateMultiplier(atStep: 3), labels: [], leaves: [],
            masked: delta,
            before: try ParameterCommitment.commit(
                layers.client.weights + layers.client.bias, format: spec.format, salt: salt),
            after: try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: newSalt))
        XCTAssertEqual(Array(updateCS.publicValues.dropLast()), statement, "no leaves, no labels; then the challenge")
        let names = Dictionary(uniqueKeysWithValues: updateCS.wireNames().enumerated().map { ($0.offset, $0.element) })
        var linter = R1CSLinter(updateCS.r1cs(), names: names)
        let report = linter.run()
        XCTAssertTrue(report.isClean, "\(report.findings.prefix(5))")

        let forwardR1CS = forwardCS.r1cs(), updateR1CS = updateCS.r1cs()
        let shared = try spec.updateLinkPairs(forward: forwardCS, update: updateCS)
        XCTAssertEqual(Set(shared.map(\.right)).count, 4 * 784)
        let pairs = try CommitmentLink.pairs(left: forwardR1CS, right: updateR1CS, links: shared)
        let forwardKey = try Groth16.setup(forwardR1CS), updateKey = try Groth16.setup(updateR1CS)
        let link = try CommitmentLink.developmentSetup(
            left: try XCTUnwrap(forwardKey.commitment), right: try XCTUnwrap(updateKey.commitment), pairs: pairs)

        let f = try prove(key: forwardKey, r1cs: forwardR1CS) { try forward($0) }
        let u = try prove(key: updateKey, r1cs: updateR1CS) { try update(batch, $0) }
        XCTAssertTrue(try Groth16.verifyCommitted(key: forwardKey.verifyingKey, proof: f.proof, statement: f.statement))
        XCTAssertTrue(try Groth16.verifyCommitted(key: updateKey.verifyingKey, proof: u.proof, statement: u.statement))
        let proof = try CommitmentLink.prove(
            key: link, left: f.committed, leftBlinding: f.opening.blinding, right: u.committed,
            rightBlinding: u.opening.blinding)
        XCTAssertTrue(
            try CommitmentLink.verify(
                key: link.verifyingKey, left: f.proof.commitment, right: u.proof.commitment, proof: proof))

        // The update over another image (sample 3 for 2): a valid proof on its own, which the
        // link refuses, honestly or combined from the key's points with either side's values.
        let w = try prove(key: updateKey, r1cs: updateR1CS) { try update(other, $0) }
        XCTAssertTrue(try Groth16.verifyCommitted(key: updateKey.verifyingKey, proof: w.proof, statement: w.statement))
        XCTAssertThrowsError(
            try CommitmentLink.prove(
                key: link, left: f.committed, leftBlinding: f.opening.blinding, right: w.committed,
                rightBlinding: w.opening.blinding))
        var paired = Set<Int>()
        for pair in link.pairs { paired.insert(pair.right) }
        for fromForward in [true, false] {
            var left = f.committed
            // The forward's limbs reset to the other values (each in its low limb).
            if !fromForward {
                for pair in link.pairs { left[pair.left] = pair.coefficient == .one ? w.committed[pair.right] : .zero }
            }
            let rightOnly = w.committed.enumerated().filter { !paired.contains($0.offset) }.map(\.element)
            let values = left + rightOnly + [f.opening.blinding, w.opening.blinding]
            let forged = MSM.multiply(bases: link.points, scalars: values).affine
            XCTAssertFalse(
                try CommitmentLink.verify(
                    key: link.verifyingKey, left: f.proof.commitment, right: w.proof.commitment, proof: forged))
        }
        XCTAssertFalse(
            try CommitmentLink.verify(
                key: link.verifyingKey, left: f.proof.commitment, right: w.proof.commitment, proof: proof),
            "the honest link, with the other update's commitment")
        print(
            "linked update, batch 4:", updateCS.constraintCount, "constraints (unlinked", unlinked.constraintCount, ")")
    }

    /// Overlapping windows that leave the last row and column unread (kernel 5, stride 2 on
    /// 28x28, as `demo.json`): the unread pixels stay out of the linked update and of the link,
    /// every read one is paired with its forward limb and separable in both circuits.
    func testUnreadPixelsStayOutOfTheLink() throws {
        let spec = try CircuitSpec.load(
            Data(
                """
                {"name": "overlap", "input": {"channels": 1, "height": 28, "width": 28, "bits": 8},
                 "client": {"out_channels": 1, "kernel": 5, "stride": 2}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": 2, "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 4, "commitment": "poseidon-t17", "dataset_depth": 4}
                """.utf8))
        let layers = try spec.sampleLayers(seed: 1)
        XCTAssertEqual(layers.client.readInputs.count, 27 * 27)
        let dataset = BatchedCircuitTests.dataset
        let forward = try spec.buildBatched(
            .client, dataset: dataset, indices: [0, 1], layers: layers, session: .one, step: 1)
        let update = try spec.buildBatched(
            .clientUpdate, dataset: dataset, indices: [0, 1], layers: layers, session: .one, step: 1, linked: true)
        XCTAssertNil(update.firstViolation())
        let links = try spec.updateLinkPairs(forward: forward, update: update)
        XCTAssertEqual(links.count, 2 * 27 * 27)
        XCTAssertNoThrow(try CommitmentLink.pairs(left: forward.r1cs(), right: update.r1cs(), links: links))
    }
}
