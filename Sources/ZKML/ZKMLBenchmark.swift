import Algebra
import Circuit
import Foundation
import Groth16
import NeuralNet

/// `verisplit bench zkml`: constraints, prove and verify times, proof and key sizes of the layer
/// circuits (client Dense, committed Dense, server step, the demo's conv client and head), on a
/// real image from the bundled Fashion-MNIST subset. A proof that fails its own key throws
/// `Groth16Error.proofRejectedByOwnKey`.
public enum ZKMLBenchmark {
    /// Measures the five layer circuits in order (best of `repetitions` proofs, best of 10
    /// verifications each); `skipCommitted` leaves out the ~2M-constraint committed-weights one.
    public static func layers(repetitions: Int, skipCommitted: Bool) throws -> [Row] {
        let format = try FixedPointFormat(fractionBits: 8, valueBits: 24)
        let (train, _) = try MNISTFamily.load(.bundled)
        let image = Array(train.features.storage[0..<784])
        let x = try image.map { try format.quantize($0) }
        var g = SeededGenerator(seed: 7)
        // Kaiming-scale weights for 784 inputs (std sqrt(2/784) ~ 0.05) in fixed point.
        let w = (0..<(784 * 64)).map { _ in Int64((Double.random(in: -0.09...0.09, using: &g) * format.scale).rounded())
        }
        let b = (0..<64).map { _ in Int64((Double.random(in: -0.1...0.1, using: &g) * format.scale).rounded()) }
        let layer = try QuantizedDense(inputs: 784, outputs: 64, weights: w, bias: b, relu: true, format: format)

        let cs = ConstraintSystem<Fr>()
        layer.synthesize(into: cs, input: x)
        let row = try measure(
            name: "client Dense 784->64 + ReLU, batch 1 (W, x private; activations public)",
            r1cs: cs.r1cs(), witness: cs.witness(), repetitions: repetitions)
        var rows = [row]
        // (3) the server step on the client layer's real activations of this image.
        let activations = try layer.forward(x)
        let sw = (0..<(64 * 10)).map { _ in Int64((Double.random(in: -0.25...0.25, using: &g) * format.scale).rounded())
        }
        let head = try QuantizedDense(
            inputs: 64, outputs: 10, weights: sw, bias: [Int64](repeating: 0, count: 10),
            relu: false, format: format)
        let server = ConstraintSystem<Fr>()
        _ = try ServerStep(layer: head, learningRateShift: 4, loss: .softmaxCrossEntropy).synthesize(
            into: server, activations: activations, label: train.labels[0], session: .random(), step: 1,
            saltBefore: .random(), saltAfter: .random())
        let serverRow = try measure(
            name:
                "server step Dense 64->10, softmax cross-entropy, backward (dL/da), SGD lr 2^-4; W before/after committed",
            r1cs: server.r1cs(), witness: server.witness(), repetitions: repetitions)
        if !skipCommitted {
            let committed = ConstraintSystem<Fr>()
            try layer.synthesizeCommitted(into: committed, input: x, salt: .random())
            rows.append(
                try measure(
                    name: "the same with W, b bound to a public Poseidon commitment (sponge t = 17)",
                    r1cs: committed.r1cs(), witness: committed.witness(), repetitions: repetitions))
        }
        rows.append(serverRow)
        // (4) the demo architecture: client Conv 1->4, 5x5, stride 2, ReLU with committed weights;
        // server Dense 576->10 with cross-entropy, backward and SGD, weights committed.
        let kernel = (0..<(4 * 25)).map { _ in
            Int64((Double.random(in: -0.3...0.3, using: &g) * format.scale).rounded())
        }
        let conv = try QuantizedConv2d(
            inChannels: 1, outChannels: 4, height: 28, width: 28, kernelSize: 5, stride: 2,
            weights: kernel, bias: [Int64](repeating: 0, count: 4), relu: true, format: format)
        let client = ConstraintSystem<Fr>()
        try conv.synthesizeCommitted(into: client, input: x, salt: .random())
        rows.append(
            try measure(
                name: "demo client step: Conv 1->4 5x5 stride 2 + ReLU, weights committed, activations public",
                r1cs: client.r1cs(), witness: client.witness(), repetitions: repetitions))
        let convOut = try conv.forward(x)
        let hw = (0..<(576 * 10)).map { _ in
            Int64((Double.random(in: -0.05...0.05, using: &g) * format.scale).rounded())
        }
        let demoHead = try QuantizedDense(
            inputs: 576, outputs: 10, weights: hw, bias: [Int64](repeating: 0, count: 10),
            relu: false, format: format)
        let demoServer = ConstraintSystem<Fr>()
        _ = try ServerStep(layer: demoHead, learningRateShift: 4, loss: .softmaxCrossEntropy).synthesize(
            into: demoServer, activations: convOut, label: train.labels[0], session: .random(), step: 1,
            saltBefore: .random(), saltAfter: .random())
        rows.append(
            try measure(
                name: "demo server step: Dense 576->10, cross-entropy, backward, SGD, weights committed",
                r1cs: demoServer.r1cs(), witness: demoServer.witness(), repetitions: repetitions))
        return rows
    }

    /// One circuit's figures.
    public struct Row: Sendable {
        public let name: String
        public let constraints: Int
        public let prove: Double
        public let verifyMs: Double
        public let proofBytes: Int
        public let pkBytes: Int
        public var table: BenchTable {
            BenchTable(
                title: name,
                rows: [
                    ("constraints", constraints), ("prove_s", prove), ("verify_ms", verifyMs),
                    ("proof_bytes", proofBytes), ("pk_bytes", pkBytes),
                ])
        }
        public var json: String {
            String(
                format:
                    "{\"name\": \"%@\", \"constraints\": %d, \"prove_s\": %.4f, \"verify_ms\": %.4f, \"proof_bytes\": %d, \"pk_bytes\": %d}",
                name, constraints, prove, verifyMs, proofBytes, pkBytes)
        }
    }

    static func measure(name: String, r1cs: R1CS<Fr>, witness: [Fr], repetitions: Int) throws -> Row {
        let pk = try Groth16.setup(r1cs)
        var best = Double.infinity
        var proof: Proof?
        for _ in 0..<max(1, repetitions) {
            let start = Date()
            proof = try Groth16.prove(key: pk, r1cs: r1cs, witness: witness)
            best = min(best, Date().timeIntervalSince(start))
        }
        guard let proof else { throw Groth16Error.proofRejectedByOwnKey }
        let inputs = Array(witness[1...r1cs.numPublic])
        var verify = Double.infinity
        for _ in 0..<10 {
            let start = Date()
            guard try Groth16.verify(key: pk.verifyingKey, proof: proof, publicInputs: inputs) else {
                throw Groth16Error.proofRejectedByOwnKey
            }
            verify = min(verify, Date().timeIntervalSince(start) * 1000)
        }
        return Row(
            name: name, constraints: r1cs.constraintCount, prove: best, verifyMs: verify,
            proofBytes: proof.a.compressed().count + proof.b.compressed().count + proof.c.compressed().count,
            pkBytes: KeyFile.encode(pk, r1cs: r1cs).count)
    }
}
