import Algebra
import Circuit
import Foundation
import Groth16
import NeuralNet
import XCTest
import ZKML

final class CircuitSpecTests: XCTestCase {
    let json = """
        {"name": "small", "input": {"channels": 1, "height": 8, "width": 8},
         "client": {"out_channels": 2, "kernel": 3, "stride": 2}, "server": {"outputs": 3},
         "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
         "learning_rate_shift": 4, "commitment": "poseidon-t17"}
        """

    func testBuildsBothPartsFromTheSpec() throws {
        let spec = try CircuitSpec.load(Data(json.utf8))
        XCTAssertEqual(spec.cutWidth, 2 * 3 * 3)
        let layers = try spec.sampleLayers(seed: 1)
        XCTAssertEqual(try spec.sampleLayers(seed: 1).client, layers.client, "seeded layers are deterministic")
        let x = (0..<64).map { _ in Int64.random(in: 0...256) }
        for part in CircuitSpec.Part.allCases {
            let cs = try spec.build(part, input: x, label: 2, layers: layers, session: .one, step: 1)
            XCTAssertTrue(cs.isSatisfied, "\(part): \(String(describing: cs.firstViolation()))")
            let breakdown = ConstraintBreakdown(cs)
            XCTAssertEqual(breakdown.total, cs.constraintCount)
            XCTAssertGreaterThan(breakdown.commitment, 0)
            XCTAssertGreaterThan(breakdown.matmul, 0)
            // The circom export reads back and is satisfied by the exported witness.
            let back = try Circom.readR1CS(Circom.writeR1CS(cs.r1cs()))
            XCTAssertTrue(back.isSatisfied(by: try Circom.readWitness(Circom.writeWitness(cs.witness()))))
        }
    }

    /// `input.bits` 8: a pixel of 1.0 (256 at scale 2^8) is clamped to 255, every pixel is one
    /// 8-bit lookup, and the dataset refuses a value above the range; the default (9 bits) keeps
    /// 256. The 8-bit forward circuit is smaller by one boolean per pixel.
    func testEightBitInputsClampAndSaveABitPerPixel() throws {
        let eight = try CircuitSpec.load(
            Data(json.replacingOccurrences(of: "\"width\": 8}", with: "\"width\": 8, \"bits\": 8}").utf8))
        let nine = try CircuitSpec.load(Data(json.utf8))
        XCTAssertEqual(eight.inputBits, 8)
        XCTAssertEqual(nine.inputBits, 9)
        XCTAssertEqual(try eight.quantizeInput(1.0), 255)
        XCTAssertEqual(try nine.quantizeInput(1.0), 256)
        XCTAssertEqual(try eight.quantizeInput(0.5), 128)
        XCTAssertEqual(try eight.quantizeInput(0), 0)
        XCTAssertThrowsError(
            try eight.dataset(inputs: [[Int64](repeating: 256, count: 64)], labels: [0]))
        let layers = try eight.sampleLayers(seed: 1)
        let x = (0..<64).map { _ in Int64.random(in: 0...255) }
        let small = try eight.build(.client, input: x, label: 1, layers: layers, session: .one, step: 1)
        let large = try nine.build(.client, input: x, label: 1, layers: layers, session: .one, step: 1)
        XCTAssertTrue(small.isSatisfied)
        XCTAssertEqual(large.constraintCount - small.constraintCount, 64, "one bit per pixel")
    }

    func testBadSpecsAreRejectedWithTheField() {
        func reject(_ from: String, _ to: String, field: String) {
            let bad = json.replacingOccurrences(of: from, with: to)
            XCTAssertThrowsError(try CircuitSpec.load(Data(bad.utf8))) { error in
                XCTAssertTrue("\(error)".contains(field), "\(error) should name \(field)")
            }
        }
        reject("\"batch\": 1", "\"batch\": 3", field: "batch")
        reject("\"batch\": 1", "\"batch\": 128", field: "batch")
        reject("\"kernel\": 3", "\"kernel\": 30", field: "client.kernel")
        reject("\"commitment\": \"poseidon-t17\"", "\"commitment\": \"md5\"", field: "commitment")
        reject("\"value_bits\": 24", "\"value_bits\": 250", field: "fraction_bits/value_bits")
        reject("\"softmax-cross-entropy\"", "\"hinge\"", field: "not a valid circuit spec")
        XCTAssertThrowsError(try CircuitSpec.load(Data("{".utf8)))
    }
}

final class FixedPointAccuracyTests: XCTestCase {
    /// The fixed-point execution the circuits prove classifies (almost) like the float model.
    func testFixedPointTracksFloatOnBundledData() throws {
        let spec = try CircuitSpec.load(
            Data(
                """
                {"name": "demo", "input": {"channels": 1, "height": 28, "width": 28},
                 "client": {"out_channels": 4, "kernel": 5, "stride": 2}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 4, "commitment": "poseidon-t17"}
                """.utf8))
        let (train, test) = try MNISTFamily.load(.bundled)
        let r = try FixedPointAccuracy.measure(spec: spec, train: train, test: test, epochs: 1, seed: 3)
        XCTAssertEqual(r.testImages, 1000)
        XCTAssertGreaterThan(r.floatAccuracy, 0.6, "one epoch of the demo CNN should clear 60 %")
        XCTAssertEqual(r.fixedPointAccuracy, r.floatAccuracy, accuracy: 0.02)
        XCTAssertGreaterThan(r.agreement, 0.97)
    }
}

/// End to end on real data: both parts of a small spec, built for a bundled Fashion-MNIST image,
/// proved and verified with Groth16; a forged public value fails.
final class BundledDataEndToEndTests: XCTestCase {
    func testClientAndServerStepsProveOnABundledImage() throws {
        let spec = try CircuitSpec.load(
            Data(
                """
                {"name": "tiny", "input": {"channels": 1, "height": 28, "width": 28},
                 "client": {"out_channels": 1, "kernel": 5, "stride": 4}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 4, "commitment": "poseidon-t17"}
                """.utf8))
        let (train, _) = try MNISTFamily.load(.bundled)
        let x = try train.features.storage[0..<784].map { try spec.format.quantize($0) }
        let layers = try spec.sampleLayers(seed: 1)
        for part in CircuitSpec.Part.allCases {
            let cs = try spec.build(
                part, input: x, label: train.labels[0], layers: layers, session: Fr(UInt64(11)), step: 2)
            let r1cs = cs.r1cs()
            let pk = try Groth16.setup(r1cs)
            let proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: cs.witness())
            XCTAssertTrue(
                try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: cs.publicValues), "\(part)")
            var forged = cs.publicValues
            forged[forged.count - 1] += .one
            XCTAssertFalse(try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: forged), "\(part)")
        }
    }
}
