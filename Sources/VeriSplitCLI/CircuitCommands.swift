import Algebra
import ArgumentParser
import Circuit
import Foundation
import NeuralNet
import ZKML

/// `verisplit circuit info|compile`: the proved parts of a split network from its spec.
struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit", abstract: "Inspect and compile the split network's circuits from a spec (circuits/*.json).",
        subcommands: [Info.self, Compile.self, Accuracy.self])

    /// The spec, its seeded layers and the first bundled training image in fixed point.
    static func load(_ path: String) throws -> (CircuitSpec, (client: QuantizedConv2d, server: QuantizedDense), [Int64], Int) {
        let spec = try CircuitSpec.load(Data(try readFile(path, limit: 1 << 20)), file: path)
        guard spec.input.channels == 1, spec.input.height == 28, spec.input.width == 28 else {
            throw InputError("\(path): the bundled sample is a 1x28x28 image; this spec expects \(spec.input.channels)x\(spec.input.height)x\(spec.input.width)")
        }
        let (train, _) = try MNISTFamily.load(.bundled)
        let x = try train.features.storage[0..<784].map { try spec.format.quantize($0) }
        return (spec, try spec.sampleLayers(seed: 1), x, train.labels[0])
    }

    /// The first `spec.batch` bundled training images, committed as a dataset of the spec's
    /// depth: the samples the batched circuits of `info` prove.
    static func bundledDataset(_ spec: CircuitSpec) throws -> CommittedDataset {
        let (train, _) = try MNISTFamily.load(.bundled)
        let n = spec.inputCount
        guard train.labels.count >= spec.batch, train.features.storage.count >= spec.batch * n else {
            throw InputError("the bundled training set has fewer than \(spec.batch) images")
        }
        let inputs = try (0..<spec.batch).map { i in try train.features.storage[(i * n)..<((i + 1) * n)].map { try spec.format.quantize($0) } }
        return try spec.dataset(inputs: inputs, labels: Array(train.labels[0..<spec.batch]))
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Constraints per part, by kind (matmul, rescale, ReLU, loss, commitments).")
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "Batch size of the batched step circuits (a power of two in 1...64; default: the spec's).") var batch: Int?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            try withInputErrors {
                let (loaded, layers, x, label) = try CircuitCommand.load(spec)
                let s = try batch.map { b throws(CircuitSpecError) in try loaded.withBatch(b) } ?? loaded
                var rows: [(String, any Sendable)] = [("cut_width", s.cutWidth)]
                for part in CircuitSpec.Part.allCases {
                    let cs = try s.build(part, input: x, label: label, layers: layers, session: .one, step: 1)
                    let b = ConstraintBreakdown(cs)
                    let key = part.rawValue.replacingOccurrences(of: "-", with: "_")
                    rows += [("\(key)_constraints", b.total), ("\(key)_matmul", b.matmul), ("\(key)_rescale", b.rescale),
                             ("\(key)_relu", b.relu), ("\(key)_loss", b.loss), ("\(key)_commitment", b.commitment),
                             ("\(key)_range", b.range), ("\(key)_dataset", b.dataset),
                             ("\(key)_other", b.other), ("\(key)_public_inputs", cs.publicCount)]
                }
                let dataset = try CircuitCommand.bundledDataset(s)
                var batched = 0
                rows.append(("batch", s.batch))
                for part in CircuitSpec.Part.allCases {
                    let cs = try s.buildBatched(part, dataset: dataset, indices: Array(0..<s.batch), layers: layers, session: .one, step: 1)
                    let key = "batched_" + part.rawValue.replacingOccurrences(of: "-", with: "_")
                    rows += [("\(key)_constraints", cs.constraintCount), ("\(key)_committed", cs.commitmentInfo?.wires.count ?? 0),
                             ("\(key)_public_inputs", cs.publicCount)]
                    batched += cs.constraintCount
                }
                rows.append(("constraints_per_sample", batched / s.batch))
                printBenchResult(rows, json: json, title: "\(s.name): constraints per part")
            }
        }
    }

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one part as a circom .r1cs and a witness for a bundled sample, for any Groth16 tool.")
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "client, server or client-update.") var part: String
        @Option(help: "Output .r1cs file.") var r1cs: String
        @Option(help: "Output .wtns file.") var wtns: String
        @Option(help: "Also write the wire names as a circom .sym file (for `r1cs lint --sym`).") var sym: String?
        @Flag(help: "The batched step circuit (the spec's batch of bundled images, with a proof commitment and lookups).")
        var batched = false

        func run() throws {
            try withInputErrors {
                guard let which = CircuitSpec.Part(rawValue: part) else {
                    throw InputError("--part must be client, server or client-update, not '\(part)'")
                }
                let (s, layers, x, label) = try CircuitCommand.load(spec)
                let cs = batched
                    ? try s.buildBatched(which, dataset: try CircuitCommand.bundledDataset(s), indices: Array(0..<s.batch), layers: layers,
                                         session: .one, step: 1)
                    : try s.build(which, input: x, label: label, layers: layers, session: .one, step: 1)
                if let violation = cs.firstViolation() { throw InputError("the sample's witness fails: \(violation)") }
                try writeFile(r1cs, Circom.writeR1CS(cs.r1cs()))
                try writeFile(wtns, Circom.writeWitness(cs.witness()))
                if let sym { try writeFile(sym, Data(Circom.writeSymbols(cs.wireNames()).utf8)) }
                print("wrote \(r1cs) (\(cs.constraintCount) constraints, \(cs.publicCount) public) and \(wtns)")
            }
        }
    }

    struct Accuracy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the spec's network in float on the bundled data, then compare float and fixed-point test accuracy.")
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "Training epochs.") var epochs: Int = 3
        @Option(help: "Seed (initialization and shuffling).") var seed: UInt64 = 1
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            try withInputErrors {
                let s = try CircuitSpec.load(Data(try readFile(spec, limit: 1 << 20)), file: spec)
                guard (1...100).contains(epochs) else { throw InputError("--epochs must be in 1...100") }
                let (train, test) = try MNISTFamily.load(.bundled)
                let r = try FixedPointAccuracy.measure(spec: s, train: train, test: test, epochs: epochs, seed: seed)
                printBenchResult([("float_accuracy", r.floatAccuracy), ("fixed_point_accuracy", r.fixedPointAccuracy),
                                  ("agreement", r.agreement), ("test_images", r.testImages),
                                  ("fraction_bits", s.fractionBits), ("epochs", epochs)],
                                 json: json, title: "\(s.name): float vs fixed point on the bundled test set")
            }
        }
    }
}
