import Algebra
import Circuit
import Commitment
import Foundation
import Groth16
import NeuralNet
import XCTest
import ZKML

/// Attacks on the client's statements, played as a capable prover would: solve for a witness,
/// then try to prove it. Each names the finding of the soundness review it reproduces.
final class SoundnessAttackTests: XCTestCase {
    /// circuits/split.json's architecture (conv 1 -> 2, 7x7 stride 7, 10 classes), with a small
    /// dataset tree so the tests stay fast.
    static let spec: CircuitSpec = {
        do {
            return try CircuitSpec.load(
                Data(
                    """
                    {"name": "split", "input": {"channels": 1, "height": 28, "width": 28},
                     "client": {"out_channels": 2, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
                     "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
                     "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 4}
                    """.utf8))
        } catch { fatalError("spec: \(error)") }
    }()

    static let data: (x: [[Int64]], labels: [Int]) = {
        do {
            let (train, _) = try MNISTFamily.load(.bundled)
            let x = try (0..<8).map { n in
                try train.features.storage[(n * 784)..<((n + 1) * 784)].map { try spec.format.quantize($0) }
            }
            return (x, Array(train.labels[0..<8]))
        } catch { fatalError("data: \(error)") }
    }()

    func dataset() throws -> CommittedDataset {
        try CommittedDataset(
            values: Self.data.x, labels: Self.data.labels, classes: 10, layout: Self.spec.inputLayout,
            depth: Self.spec.datasetDepth, secret: SecureRandom.bytes(32))
    }

    /// The activations an attacker wants: the honest ones with one active output raised by 1.0.
    func forgedTarget(_ conv: QuantizedConv2d, _ x: [Int64]) throws -> [Int64] {
        var target = try conv.forward(x)
        let active = try XCTUnwrap(target.firstIndex { $0 > 0 }, "no active output in this sample")
        target[active] += 1 << Int64(Self.spec.fractionBits)
        return target
    }

    /// Finding 1: each accumulator is linear in x mod r, so with x a free field vector the
    /// committed convolution proves any activations. The circuit shape of main before the fix
    /// (x private and unbounded) accepts the solved "input"; the linter flags that shape; the
    /// production forward circuit (range-checked x bound to the dataset leaf) has no witness.
    func testForgedInputSatisfiesTheUnboundCircuitOnlyAndTheLinterFlagsIt() throws {
        let conv = try Self.spec.sampleLayers(seed: 1).client
        let x = Self.data.x[0]
        let target = try forgedTarget(conv, x)
        let forged = try XCTUnwrap(InputForgery.solve(conv, input: x, target: target), "the linear system is solvable")
        XCTAssertTrue(
            forged.contains { $0.signedInt64.map { abs($0) > 1 << 20 } ?? true }, "the solution leaves the pixel range")

        // Main's shape: x private, unbounded, committed weights.
        let legacy = ConstraintSystem<Fr>()
        let xs = forged.enumerated().map {
            LinearCombination<Fr>(legacy.allocatePrivateInput("x\($0.offset)", value: $0.element))
        }
        let (_, outputs, _) = try conv.synthesizeCommitted(into: legacy, inputs: xs, salt: .random())
        XCTAssertTrue(
            legacy.isSatisfied,
            "the forgery satisfies the unbound circuit: \(String(describing: legacy.firstViolation()))")
        XCTAssertEqual(outputs.map { legacy.value($0) }, target.map { Fr($0) })
        var linter = R1CSLinter(legacy.r1cs())
        let report = linter.run()
        XCTAssertTrue(report.findings.contains { $0.kind == .unboundedInput }, "\(report.findings.prefix(3))")

        // The production circuit: no witness, and a proof of the unsatisfied witness fails.
        let committed = try dataset()
        let opening = try committed.opening(0)
        let cs = try Self.spec.clientForwardCircuit(
            conv, sample: opening, root: committed.root, session: Fr(UInt64(3)), step: 0,
            salt: .random(), sampleValues: forged)
        XCTAssertNotNil(cs.firstViolation(), "range checks refuse the wrapped-around values")
        let r1cs = cs.r1cs()
        let key = try Groth16.setup(r1cs)
        let proof = try Groth16.proveUnchecked(key: key, r1cs: r1cs, witness: cs.witness())
        XCTAssertFalse(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: cs.publicValues))
    }

    /// Finding 2: with x range-checked but free, a client could still pick any in-range image
    /// after seeing the model. The forward proof opens the dataset leaf at the scheduled index, so
    /// another image, another index or another root has no witness.
    func testForwardProofIsBoundToTheCommittedSampleAtItsIndex() throws {
        let conv = try Self.spec.sampleLayers(seed: 1).client
        let committed = try dataset()
        let opening = try committed.opening(3)
        let honest = try Self.spec.clientForwardCircuit(
            conv, sample: opening, root: committed.root, session: .one, step: 0, salt: .random())
        XCTAssertNil(honest.firstViolation())
        // Another in-range image at the same index.
        var chosen = opening.values
        chosen[400] = chosen[400] == 0 ? 200 : 0
        let swapped = try Self.spec.clientForwardCircuit(
            conv, sample: opening, root: committed.root, session: .one, step: 0,
            salt: .random(), sampleValues: chosen.map { Fr($0) })
        XCTAssertNotNil(swapped.firstViolation())
        // The right sample claimed at another index, or under another root.
        let moved = SampleOpening(
            index: 4, values: opening.values, label: opening.label, salt: opening.salt,
            siblings: opening.siblings, leaf: opening.leaf)
        XCTAssertNotNil(
            try Self.spec.clientForwardCircuit(
                conv, sample: moved, root: committed.root, session: .one, step: 0,
                salt: .random()
            ).firstViolation())
        XCTAssertNotNil(
            try Self.spec.clientForwardCircuit(
                conv, sample: opening, root: committed.root + .one, session: .one, step: 0,
                salt: .random()
            ).firstViolation())
        // Another label with the same image.
        let relabeled = SampleOpening(
            index: 3, values: opening.values, label: (opening.label + 1) % 10, salt: opening.salt,
            siblings: opening.siblings, leaf: opening.leaf)
        XCTAssertNotNil(
            try Self.spec.clientForwardCircuit(
                conv, sample: relabeled, root: committed.root, session: .one, step: 0,
                salt: .random()
            ).firstViolation())
    }

    /// The update proof of a step allocates its own x: bound to the same leaf, another image
    /// (which would let the client choose its kernel change) has no witness.
    func testUpdateProofIsBoundToTheSameSample() throws {
        let layers = try Self.spec.sampleLayers(seed: 1)
        let committed = try dataset()
        let opening = try committed.opening(2)
        let a = try layers.client.forward(opening.values)
        let gradient = try ServerStep(layer: layers.server, learningRateShift: 5, loss: .softmaxCrossEntropy)
            .run(activations: a, label: opening.label).inputGradient
        let honest = try Self.spec.clientUpdateCircuit(
            layers.client, sample: opening, gradient: gradient, session: .one, step: 0,
            saltBefore: .random(), saltAfter: .random()
        ).circuit
        XCTAssertNil(honest.firstViolation())
        var other = opening.values
        other[0] = 17
        let cs = ConstraintSystem<Fr>()
        _ = try ConvClientUpdate(layer: layers.client, learningRateShift: 5).synthesize(
            into: cs, sample: opening, layout: Self.spec.inputLayout, outputGradient: gradient, session: .one, step: 0,
            saltBefore: .random(), saltAfter: .random(), sampleValues: other.map { Fr($0) })
        XCTAssertEqual(
            cs.firstViolation()?.name.hasPrefix("sample.leaf"), true, "\(String(describing: cs.firstViolation()))")
    }

    /// Finding 3: committed parameters are range-checked at every opening. A prover who puts a
    /// wrapped-around weight under a commitment (computing the packing over the field) gets no
    /// witness; natively such a weight cannot even be committed.
    func testOutOfRangeParametersAreRefusedAtTheOpening() throws {
        let format = Self.spec.format
        XCTAssertThrowsError(try ParameterCommitment.commit([1, 2, 1 << 23], format: format, salt: .one))
        let cs = ConstraintSystem<Fr>()
        let salt = Fr.random()
        let honest: [Int64] = [5, -7, 9]
        let commitment = cs.allocatePublic(
            "c", value: try ParameterCommitment.commit(honest, format: format, salt: salt))
        let values = honest.map { LinearCombination<Fr>(cs.allocatePrivateInput("w", value: Fr($0))) }
        try cs.openParameterCommitment(commitment, values: values, salt: salt, format: format, "w")
        XCTAssertNil(cs.firstViolation())
        // w0 + r * 0 is the same field element; w0 + 2^24 wraps the packing: the range check refuses it.
        cs.tamper(try XCTUnwrap(values[0].terms.first?.variable), with: Fr(Int64(5 + (1 << 24))))
        XCTAssertNotNil(cs.firstViolation())
    }

    /// Every part of every spec in circuits/ lints clean: each output and intermediate is
    /// determined by the inputs, and every private input read as an integer is range-checked.
    func testEveryCompiledPartLintsClean() throws {
        for json in [Self.specJSON("tiny"), Self.specJSON("split")] {
            let spec = try CircuitSpec.load(Data(json.utf8))
            let layers = try spec.sampleLayers(seed: 1)
            for part in CircuitSpec.Part.allCases {
                let cs = try spec.build(
                    part, input: Self.data.x[0], label: Self.data.labels[0], layers: layers, session: .one, step: 1)
                XCTAssertNil(cs.firstViolation())
                let names = Dictionary(
                    uniqueKeysWithValues: cs.wireNames().enumerated().map { ($0.offset, $0.element) })
                var linter = R1CSLinter(cs.r1cs(), names: names)
                let report = linter.run()
                XCTAssertTrue(report.isClean, "\(spec.name) \(part): \(report.findings.prefix(5))")
                XCTAssertEqual(
                    report.boundedPrivateInputs + Self.fieldInputs(cs), cs.privateInputCount, "\(spec.name) \(part)")
            }
        }
    }

    /// Private inputs that are field elements by design: salts and Merkle siblings.
    static func fieldInputs(_ cs: ConstraintSystem<Fr>) -> Int {
        cs.privateNames.prefix(cs.privateInputCount).filter { $0.hasSuffix("salt") || $0.contains("sibling") }.count
    }

    static func specJSON(_ name: String) -> String {
        """
        {"name": "\(name)", "input": {"channels": 1, "height": 28, "width": 28},
         "client": {"out_channels": \(name == "tiny" ? 1 : 2), "kernel": 7, "stride": 7}, "server": {"outputs": 10},
         "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
         "learning_rate_shift": 5, "commitment": "poseidon-t17", "dataset_depth": 12}
        """
    }

    /// Finding 9: formats that are sound in the field but cannot be proved are refused.
    func testSpecValidatorRefusesUnprovableFormats() {
        func rejects(_ replacements: [(String, String)], field: String) {
            var json = Self.specJSON("split")
            for (from, to) in replacements { json = json.replacingOccurrences(of: from, with: to) }
            XCTAssertThrowsError(try CircuitSpec.load(Data(json.utf8))) {
                XCTAssertTrue("\($0)".contains(field), "\($0)")
            }
        }
        rejects([("\"fraction_bits\": 8", "\"fraction_bits\": 16")], field: "S + 10 <= B")
        rejects([("\"value_bits\": 24", "\"value_bits\": 40")], field: "value_bits")
        rejects([("\"dataset_depth\": 12", "\"dataset_depth\": 40")], field: "dataset_depth")
        rejects([("\"width\": 28}", "\"width\": 28, \"bits\": 30}")], field: "input.bits")
    }

    /// The schedule is a permutation per epoch, the same for both parties, and differs per seed.
    func testScheduleIsAPermutationPerEpoch() {
        var schedule = SampleSchedule(seed: Array(repeating: 7, count: 32), count: 50)
        let first = (0..<50).map { schedule.index(step: UInt64($0)) }
        XCTAssertEqual(first.sorted(), Array(0..<50))
        let second = (50..<100).map { schedule.index(step: UInt64($0)) }
        XCTAssertEqual(second.sorted(), Array(0..<50))
        XCTAssertNotEqual(first, second)
        var again = SampleSchedule(seed: Array(repeating: 7, count: 32), count: 50)
        XCTAssertEqual((0..<50).map { again.index(step: UInt64($0)) }, first)
        var other = SampleSchedule(seed: Array(repeating: 8, count: 32), count: 50)
        XCTAssertNotEqual((0..<50).map { other.index(step: UInt64($0)) }, first)
    }
}
