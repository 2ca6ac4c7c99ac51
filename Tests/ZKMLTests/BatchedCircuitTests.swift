import Algebra
import Circuit
import Foundation
import NeuralNet
import XCTest
import ZKML

/// The batched step circuits (lookups, Freivalds, one challenge): the honest witness satisfies,
/// the native execution is what they prove, and a prover who changes a committed hint or a
/// public value is caught.
final class BatchedCircuitTests: XCTestCase {
    static let spec: CircuitSpec = {
        do {
            return try CircuitSpec.load(
                Data(
                    """
                    {"name": "split", "input": {"channels": 1, "height": 28, "width": 28},
                     "client": {"out_channels": 2, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
                     "fraction_bits": 8, "value_bits": 24, "batch": 4, "loss": "softmax-cross-entropy",
                     "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 4}
                    """.utf8))
        } catch { fatalError("spec: \(error)") }
    }()

    static let dataset: CommittedDataset = {
        do {
            let (train, _) = try MNISTFamily.load(.bundled)
            let x = try (0..<8).map { n in
                try train.features.storage[(n * 784)..<((n + 1) * 784)].map { try spec.format.quantize($0) }
            }
            return try CommittedDataset(
                values: x, labels: Array(train.labels[0..<8]), classes: 10, layout: spec.inputLayout,
                depth: spec.datasetDepth, secret: Array(repeating: 7, count: 32))
        } catch { fatalError("data: \(error)") }
    }()

    func samples() throws -> [SampleOpening] { try [5, 1, 6, 2].map { try Self.dataset.opening($0) } }

    func testForwardSatisfiesAndMatchesNative() throws {
        let conv = try Self.spec.sampleLayers(seed: 1).client
        let batch = try samples()
        let cs = try Self.spec.batchedForwardCircuit(conv, samples: batch, session: .one, step: 3, salt: Fr(UInt64(9)))
        XCTAssertNil(cs.firstViolation())
        XCTAssertFalse(Self.spec.gathersConvolution(conv, batch: 4), "7x7 windows of stride 7 do not overlap")
        let activations = try BatchedStep.forward(conv, inputs: batch.map(\.values))
        let weights = try ParameterCommitment.commit(
            conv.weights + conv.bias, format: Self.spec.format, salt: Fr(UInt64(9)))
        let statement = BatchedStatement.forward(
            session: .one, step: 3, labels: batch.map(\.label), leaves: batch.map(\.leaf), weights: weights,
            activations: activations)
        XCTAssertEqual(Array(cs.publicValues.dropLast()), statement, "the statement, then the challenge")
        XCTAssertEqual(cs.commitmentInfo?.challenge, cs.publicCount)
        // An activation off by one, and a committed product off by one: no witness.
        let a = try XCTUnwrap(cs.publicVariable(named: "A0.3"))
        cs.tamper(a, with: cs.value(a) + .one)
        XCTAssertNotNil(cs.firstViolation())
        cs.tamper(a, with: cs.value(a) - .one)
        let product = try XCTUnwrap(cs.privateVariable(named: "conv.product0.1.2"))
        cs.tamper(product, with: cs.value(product) + .one)
        XCTAssertNotNil(cs.firstViolation(), "a wrong product hint fails the Freivalds check or the rescale")
        print("batched forward, batch 4:", cs.constraintCount, "constraints")
    }

    /// The demo's convolution (5x5 windows of stride 2 overlap) takes the gathered Freivalds
    /// form from batch 16 (its blocks packed six to a group; below that the packed im2col form
    /// is cheaper): the honest batch satisfies it, and a wrong product or a wrong activation does
    /// not. Shown on 12 x 12 crops of the images, which keep the overlap and the batch and make
    /// the circuit a tenth of the size.
    func testOverlappingConvolutionForwardSatisfiesAndRefusesTampering() throws {
        let demo = try CircuitSpec.load(
            Data(
                """
                {"name": "demo", "input": {"channels": 1, "height": 28, "width": 28, "bits": 8},
                 "client": {"out_channels": 4, "kernel": 5, "stride": 2}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": 32, "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 4, "commitment": "poseidon-t17", "dataset_depth": 4}
                """.utf8))
        let demoConv = try demo.sampleLayers(seed: 2).client
        XCTAssertTrue(demo.gathersConvolution(demoConv, batch: 32))
        XCTAssertFalse(demo.gathersConvolution(demoConv, batch: 2))
        let spec = try CircuitSpec.load(
            Data(
                """
                {"name": "crops", "input": {"channels": 1, "height": 12, "width": 12, "bits": 8},
                 "client": {"out_channels": 4, "kernel": 5, "stride": 2}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": 16, "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 4, "commitment": "poseidon-t17", "dataset_depth": 4}
                """.utf8))
        let conv = try spec.sampleLayers(seed: 2).client
        XCTAssertTrue(spec.gathersConvolution(conv, batch: 16))
        let (train, _) = try MNISTFamily.load(.bundled)
        let x = try (0..<4).map { n in
            try (0..<144).map { e in
                try spec.quantizeInput(train.features.storage[n * 784 + (8 + e / 12) * 28 + 8 + e % 12])
            }
        }
        let dataset = try CommittedDataset(
            values: x, labels: Array(train.labels[0..<4]), classes: 10, layout: spec.inputLayout,
            depth: spec.datasetDepth, secret: Array(repeating: 3, count: 32))
        let batch = try (0..<16).map { try dataset.opening([3, 0, 1, 2][$0 % 4]) }
        let cs = try spec.batchedForwardCircuit(conv, samples: batch, session: .one, step: 0, salt: Fr(UInt64(8)))
        XCTAssertNil(cs.firstViolation())
        XCTAssertEqual(
            Array(cs.publicValues[17..<(17 + 4 * 16)]),  // after 16 leaves and the weights
            try BatchedStep.forward(conv, inputs: batch.map(\.values))[0].map { Fr($0) })
        for (name, isPublic) in [("conv.product2.1.7", false), ("conv.product0.13.15", false), ("A1.30", true)] {
            let variable = try XCTUnwrap(isPublic ? cs.publicVariable(named: name) : cs.privateVariable(named: name))
            let honest = cs.value(variable)
            cs.tamper(variable, with: honest + .one)
            XCTAssertNotNil(cs.firstViolation(), name)
            cs.tamper(variable, with: honest)
        }
        XCTAssertNil(cs.firstViolation())
        let names = Dictionary(uniqueKeysWithValues: cs.wireNames().enumerated().map { ($0.offset, $0.element) })
        var linter = R1CSLinter(cs.r1cs(), names: names)
        let report = linter.run()
        XCTAssertTrue(report.isClean, "\(report.findings.count) findings, first \(report.findings.prefix(5))")
    }

    /// A prover's witness-only synthesis records the same witness and counts the same
    /// constraints as the full one, for every part, batched and one-sample: the constraints are
    /// not needed to compute any value.
    func testWitnessOnlySynthesisRecordsTheSameWitness() throws {
        let layers = try Self.spec.sampleLayers(seed: 1)
        let batch = try samples()
        let activations = try BatchedStep.forward(layers.client, inputs: batch.map(\.values))
        let labels = batch.map(\.label)
        let server = try BatchedStep.server(
            layers.server, activations: activations, labels: labels, learningRateShift: 5, loss: Self.spec.loss)
        let masked = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
        let single = try Self.spec.withBatch(1)
        let sample = batch[0]
        let singleServer = try ServerStep(layer: layers.server, learningRateShift: 5, loss: .softmaxCrossEntropy).run(
            activations: activations[0], label: labels[0])
        let builders: [(String, (Bool) throws -> ConstraintSystem<Fr>)] = [
            (
                "batched forward",
                {
                    try Self.spec.batchedForwardCircuit(
                        layers.client, samples: batch, session: .one, step: 3, salt: Fr(UInt64(9)), witnessOnly: $0)
                }
            ),
            (
                "batched server",
                {
                    try Self.spec.batchedServerCircuit(
                        layers.server, activations: activations, labels: labels, session: .one, step: 3,
                        saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)), witnessOnly: $0
                    ).circuit
                }
            ),
            (
                "batched update",
                {
                    try Self.spec.batchedUpdateCircuit(
                        layers.client, samples: batch, masked: masked, session: .one, step: 3,
                        saltBefore: Fr(UInt64(6)), saltAfter: Fr(UInt64(7)), witnessOnly: $0
                    ).circuit
                }
            ),
            (
                "forward",
                {
                    try single.clientForwardCircuit(
                        layers.client, sample: sample, root: Self.dataset.root, session: .one, step: 3,
                        salt: Fr(UInt64(9)), witnessOnly: $0)
                }
            ),
            (
                "server step",
                {
                    try single.serverStepCircuit(
                        layers.server, activations: activations[0], label: labels[0], session: .one, step: 3,
                        saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)), witnessOnly: $0
                    ).circuit
                }
            ),
            (
                "update",
                {
                    try single.clientUpdateCircuit(
                        layers.client, sample: sample, gradient: singleServer.inputGradient, session: .one, step: 3,
                        saltBefore: Fr(UInt64(6)), saltAfter: Fr(UInt64(7)), witnessOnly: $0
                    ).circuit
                }
            ),
        ]
        for (name, build) in builders {
            let full = try build(false), lean = try build(true)
            XCTAssertTrue(full.recordsConstraints, name)
            XCTAssertFalse(lean.recordsConstraints, name)
            XCTAssertNil(full.firstViolation(), name)
            XCTAssertTrue(lean.constraints.isEmpty, name)
            XCTAssertEqual(lean.constraintCount, full.constraintCount, name)
            XCTAssertEqual(lean.witness(), full.witness(), name)
            XCTAssertEqual(lean.commitmentInfo, full.commitmentInfo, name)
            XCTAssertTrue(full.r1cs().isSatisfied(by: lean.witness()), name)
        }
    }

    func testServerSatisfiesAndMatchesNative() throws {
        let layers = try Self.spec.sampleLayers(seed: 1)
        let batch = try samples()
        let activations = try BatchedStep.forward(layers.client, inputs: batch.map(\.values))
        let labels = batch.map(\.label)
        let (cs, result) = try Self.spec.batchedServerCircuit(
            layers.server, activations: activations, labels: labels, session: .one,
            step: 3, saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)))
        XCTAssertNil(cs.firstViolation())
        // Per-sample gradients agree with the single-sample server step at batch 1.
        let single = try ServerStep(layer: layers.server, learningRateShift: 5, loss: .softmaxCrossEntropy).run(
            activations: activations[0], label: labels[0])
        XCTAssertEqual(result.inputGradients[0], single.inputGradient)
        let before = try ParameterCommitment.commit(
            layers.server.weights + layers.server.bias, format: Self.spec.format, salt: Fr(UInt64(4)))
        let after = try ParameterCommitment.commit(
            result.updated.weights + result.updated.bias, format: Self.spec.format, salt: Fr(UInt64(5)))
        XCTAssertEqual(
            Array(cs.publicValues.dropLast()),
            BatchedStatement.server(
                session: .one, step: 3, learningRate: 1, activations: activations, labels: labels,
                gradients: result.inputGradients, before: before, after: after))
        // A gradient off by one, or another label.
        let g = try XCTUnwrap(cs.publicVariable(named: "dA2.5"))
        cs.tamper(g, with: cs.value(g) + .one)
        XCTAssertNotNil(cs.firstViolation())
        cs.tamper(g, with: cs.value(g) - .one)
        let label = try XCTUnwrap(cs.publicVariable(named: "label1"))
        cs.tamper(label, with: cs.value(label) + .one)
        XCTAssertNotNil(cs.firstViolation())
        print("batched server step, batch 4:", cs.constraintCount, "constraints")
    }

    /// The batched SGD rounds its rescale to nearest, halves up (a floor drifts every parameter
    /// down by half a unit per step); a server step whose new weights were floored instead does
    /// not open the committed "after" weights the circuit proves.
    func testSGDRoundsToNearestAndAFlooredUpdateIsRefused() throws {
        XCTAssertEqual(BatchedStep.roundedShift(5, 2), 1)
        XCTAssertEqual(BatchedStep.roundedShift(6, 2), 2)
        XCTAssertEqual(BatchedStep.roundedShift(-6, 2), -1)
        XCTAssertEqual(BatchedStep.roundedShift(-7, 2), -2)
        XCTAssertEqual(BatchedStep.roundedShift(-3, 1), -1)
        XCTAssertEqual(BatchedStep.roundedShift(-9, 0), -9)
        let layers = try Self.spec.sampleLayers(seed: 1)
        let batch = try samples()
        let activations = try BatchedStep.forward(layers.client, inputs: batch.map(\.values))
        let labels = batch.map(\.label)
        let (cs, result) = try Self.spec.batchedServerCircuit(
            layers.server, activations: activations, labels: labels, session: .one,
            step: 3, saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)))
        XCTAssertNil(cs.firstViolation())
        // The floored update, computed independently of BatchedStep.
        let f = Self.spec.format, head = layers.server
        let beta = BatchedStep.shift(batch: batch.count), k = Self.spec.learningRateShift
        var weights = head.weights, bias = head.bias
        for i in 0..<head.outputs {
            var biasSum: Int64 = 0
            for s in 0..<batch.count { biasSum += result.outputGradients[s][i] }
            for j in 0..<head.inputs {
                var sum: Int64 = 0
                for s in 0..<batch.count { sum += result.outputGradients[s][i] * activations[s][j] }
                weights[i * head.inputs + j] -= sum >> Int64(f.fractionBits + k + beta)
            }
            bias[i] -= biasSum >> Int64(k + beta)
        }
        XCTAssertNotEqual(weights + bias, result.updated.weights + result.updated.bias, "rounding changed nothing")
        let floored = try ParameterCommitment.commit(weights + bias, format: f, salt: Fr(UInt64(5)))
        let after = try XCTUnwrap(cs.publicVariable(named: "commitmentAfter"))
        cs.tamper(after, with: floored)
        XCTAssertNotNil(cs.firstViolation())
    }

    func testUpdateSatisfiesAndMatchesNative() throws {
        let layers = try Self.spec.sampleLayers(seed: 1)
        let batch = try samples()
        let activations = try BatchedStep.forward(layers.client, inputs: batch.map(\.values))
        let server = try BatchedStep.server(
            layers.server, activations: activations, labels: batch.map(\.label), learningRateShift: 5,
            loss: .softmaxCrossEntropy)
        let delta = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
        let (cs, updated) = try Self.spec.batchedUpdateCircuit(
            layers.client, samples: batch, masked: delta, session: .one, step: 3,
            saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)))
        XCTAssertNil(cs.firstViolation())
        XCTAssertNotEqual(updated, layers.client)
        let d = try XCTUnwrap(cs.publicVariable(named: "delta1.7"))
        cs.tamper(d, with: cs.value(d) + Fr(UInt64(1000)))
        XCTAssertNotNil(cs.firstViolation())
        print("batched client update, batch 4:", cs.constraintCount, "constraints")
    }

    /// Every batched part lints clean: outputs and intermediates determined from the inputs and
    /// the committed wires, every committed wire read by a constraint that depends on the
    /// challenge (rule 6 of the linter), no unbounded integer input.
    func testEveryBatchedPartLintsClean() throws {
        let layers = try Self.spec.sampleLayers(seed: 1)
        for part in CircuitSpec.Part.allCases {
            let cs = try Self.spec.buildBatched(
                part, dataset: Self.dataset, indices: [5, 1, 6, 2], layers: layers, session: .one, step: 2)
            XCTAssertNil(cs.firstViolation(), "\(part)")
            let names = Dictionary(uniqueKeysWithValues: cs.wireNames().enumerated().map { ($0.offset, $0.element) })
            var linter = R1CSLinter(cs.r1cs(), names: names)
            let report = linter.run()
            XCTAssertTrue(
                report.isClean, "\(part): \(report.findings.count) findings, first \(report.findings.prefix(5))")
            XCTAssertGreaterThan(report.ruleCounts["commitment"] ?? 0, 0, "\(part)")
        }
        XCTAssertThrowsError(
            try Self.spec.buildBatched(
                .client, dataset: Self.dataset, indices: [1, 2], layers: layers,
                session: .one, step: 2), "a batch of another size than the spec's")
    }
}
