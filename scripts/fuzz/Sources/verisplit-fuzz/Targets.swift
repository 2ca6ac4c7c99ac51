import Algebra
import Circuit
import Commitment
import DP
import Foundation
import Groth16
import NeuralNet
import SplitLearning
import ZKML

/// Every fuzz target. To add one, append a line here (seeds may be `{ [:] }` at first);
/// `scripts/fuzz.sh` lists targets from this table, so nothing else changes. A target calls a
/// pure decoder, bytes in and a value or a typed error out, never a socket or file reader.
///
let targets: [FuzzTarget] = [
    // Protocol frames: length prefix, version byte, protobuf envelope, validated fields.
    FuzzTarget(name: "frame", maxLen: 65536, seeds: { ["session.frames": FrameStream.sample()] }) {
        _ = try? FrameStream.decode($0, maxFrameBytes: 1 << 16)
    },
    FuzzTarget(name: "r1cs", maxLen: 8192, seeds: { ["square4.r1cs": Circom.writeR1CS(Seeds.circuit.0)] }) {
        guard let r1cs = try? Circom.readR1CS($0) else { return }
        reread("r1cs", Circom.writeR1CS(r1cs)) { Circom.writeR1CS(try Circom.readR1CS($0)) }
    },
    FuzzTarget(name: "wtns", maxLen: 4096, seeds: { ["square4.wtns": Circom.writeWitness(Seeds.circuit.1)] }) {
        guard let w = try? Circom.readWitness($0) else { return }
        reread("wtns", w) { try Circom.readWitness(Circom.writeWitness($0)) }
    },
    FuzzTarget(name: "zkey", maxLen: 16384, seeds: { ["square4.zkey": try Seeds.zkey()] }) {
        _ = try? Zkey.parse($0, allowInsecureTestKey: true)
    },
    // The harness appends the SHA-256 checksum, so mutations reach the fields behind it.
    FuzzTarget(name: "keyfile", maxLen: 16384, seeds: { ["square4.key-body": try Seeds.keyFileBody()] }) {
        _ = try? KeyFile.decode($0 + SHA256.hash($0))
    },
    FuzzTarget(name: "snarkjs-json", maxLen: 4096, seeds: { try Seeds.snarkjs() }) {
        let data = Data($0)
        _ = try? SnarkjsJSON.verifyingKey(data)
        _ = try? SnarkjsJSON.proof(data)
        _ = try? SnarkjsJSON.publicInputs(data)
    },
    FuzzTarget(name: "points", maxLen: 256, seeds: { Seeds.points() }) {
        _ = try? G1Affine(uncompressed: $0)
        _ = try? G1Affine(compressed: $0)
        _ = try? G2Affine(uncompressed: $0)
        _ = try? G2Affine(compressed: $0)
        _ = try? Proof(ethereumBytes: $0)
    },
    FuzzTarget(name: "safetensors", maxLen: 4096, seeds: { ["tiny.safetensors": Seeds.safetensors()] }) {
        guard let file = try? SafeTensors.decode(Data($0)) else { return }
        _ = try? PrivacyRecord(metadata: file.metadata)
        _ = TrainingHyperparameters(metadata: file.metadata)
        _ = Standardizer(metadata: file.metadata)
    },
    FuzzTarget(name: "idx", maxLen: 4096, seeds: { Seeds.idx() }) {
        guard let array = try? IDX.parse(Data($0)) else { return }
        _ = Tensor(shape: array.dimensions)
    },
    FuzzTarget(name: "csv", maxLen: 4096, seeds: { ["iris-like.csv": Array(Seeds.csv.utf8)] }) {
        _ = try? Dataset.csv(String(decoding: $0, as: UTF8.self))
    },
    FuzzTarget(name: "model-spec", maxLen: 4096, seeds: { try Seeds.modelSpecs() }) {
        guard let spec = try? ModelSpec.parse(Data($0)) else { return }
        reread("model spec", spec) { try ModelSpec.parse($0.jsonData()) }
    },
    FuzzTarget(name: "circuit-spec", maxLen: 2048, seeds: { ["demo.json": Array(Seeds.circuitSpec.utf8)] }) {
        _ = try? CircuitSpec.load(Data($0))
    },
    FuzzTarget(name: "transcript", maxLen: 4096, seeds: { ["two-entries.json": Seeds.transcript()] }) {
        guard let t = try? Transcript(json: Data($0)) else { return }
        reread("transcript", t) { try Transcript(json: $0.jsonData()) }
    },
]

/// Traps unless `value`, written out by our own writer and read back, is accepted and equal.
func reread<T: Equatable>(_ what: String, _ value: T, _ writeAndRead: (T) throws -> T) {
    do {
        let again = try writeAndRead(value)
        if again != value { fatalError("\(what): read back differs from what was written") }
    } catch { fatalError("\(what): our own output is rejected: \(error)") }
}

/// Small valid inputs for the seed corpora (`scripts/fuzz.sh --make-seeds`).
enum Seeds {
    static let circuit = SquaringChain.make(constraints: 4, publicOutputs: 1)

    static func zkey() throws -> [UInt8] {
        try Zkey.write(try Groth16.setupSnarkjsStyle(circuit.0), r1cs: circuit.0)
    }

    static func keyFileBody() throws -> [UInt8] {
        Array(KeyFile.encode(try Groth16.setup(circuit.0), r1cs: circuit.0).dropLast(32))
    }

    static func snarkjs() throws -> [String: [UInt8]] {
        let key = try Groth16.setup(circuit.0)
        let proof = try Groth16.prove(key: key, r1cs: circuit.0, witness: circuit.1)
        return ["verification_key.json": Array(SnarkjsJSON.encode(key.verifyingKey)),
                "proof.json": Array(SnarkjsJSON.encode(proof)),
                "public.json": Array(SnarkjsJSON.encode(publicInputs: [circuit.1[1]]))]
    }

    static func points() -> [String: [UInt8]] {
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        return ["g1.uncompressed": g1.uncompressed(), "g1.compressed": g1.compressed(),
                "g2.uncompressed": g2.uncompressed(), "g2.compressed": g2.compressed(),
                "proof.eth": g1.uncompressed() + g2.uncompressed() + g1.uncompressed()]
    }

    static func safetensors() -> [UInt8] {
        let record = PrivacyRecord(method: .dpsgd, sigma: 1.1, epsilon: 2, delta: 1e-5, proven: false,
                                   accountant: "rdp", samplingRate: 0.01, steps: 10, note: "seed")
        let meta = record.merged(into: TrainingHyperparameters(epochs: 1, learningRate: 0.1).metadata)
        let t = Tensor(shape: [2, 3], repeating: 0.5), b = Tensor(shape: [2], repeating: -1)
        return Array(SafeTensors.encode(SafeTensorsFile(tensors: [("fc.weight", t), ("fc.bias", b)], metadata: meta)))
    }

    static func idx() -> [String: [UInt8]] {
        ["images.idx": Array(IDX.encodeUBytes((0..<24).map { UInt8($0 * 10) }, dimensions: [2, 3, 4])),
         "labels.idx": Array(IDX.encodeUBytes([3, 1, 4], dimensions: [3]))]
    }

    static func modelSpecs() throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in ModelSpec.bundledNames { out[name + ".json"] = Array(try ModelSpec.bundled(name).jsonData()) }
        return out
    }

    static let csv = "sepal,petal,class\n5.1,1.4,0\n7.0,4.7,1\n\n6.3,6.0,2\n"

    static let circuitSpec = """
        {"name": "demo", "input": {"channels": 1, "height": 28, "width": 28},
         "client": {"out_channels": 4, "kernel": 5, "stride": 2}, "server": {"outputs": 10},
         "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
         "learning_rate_shift": 4, "commitment": "poseidon-t17"}
        """

    static func transcript() -> [UInt8] {
        var t = Transcript(session: "fuzz")
        _ = t.append(label: "activations", payload: [1, 2, 3])
        _ = t.append(label: "proof", payload: [])
        return Array(t.jsonData())
    }
}
