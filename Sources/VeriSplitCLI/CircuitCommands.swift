import ArgumentParser
import Circuit
import Foundation
import ZKML

/// `verisplit circuit info|compile`: the proved parts of a split network from its spec.
struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit",
        abstract: "Inspect and compile the split network's circuits from a spec (circuits/*.json).",
        subcommands: [Info.self, Compile.self, Accuracy.self])

    static func load(_ path: String) throws -> CircuitSpec {
        try CircuitSpec.load(Data(try readFile(path, limit: 1 << 20)), file: path)
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Constraints per part, by kind (matmul, rescale, ReLU, loss, commitments).")
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "Batch size of the batched step circuits (a power of two in 1...64; default: the spec's).")
        var batch: Int?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let loaded = try CircuitCommand.load(spec)
            let s = try batch.map { b throws(CircuitSpecError) in try loaded.withBatch(b) } ?? loaded
            print(try s.partsTable().rendered(json: json))
        }
    }

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one part as a circom .r1cs and a witness for a bundled sample, for any Groth16 tool.")
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "client, server or client-update.") var part: CircuitSpec.Part
        @Option(help: "Output .r1cs file.") var r1cs: String
        @Option(help: "Output .wtns file.") var wtns: String
        @Option(help: "Also write the wire names as a circom .sym file (for `r1cs lint --sym`).") var sym: String?
        @Flag(
            help: "The batched step circuit (the spec's batch of bundled images, with a proof commitment and lookups).")
        var batched = false
        @Flag(
            help:
                "With --batched and --part client-update: the linked update (its samples pinned to the forward proof's by a commitment link, not opened again)."
        )
        var linked = false

        func run() throws {
            let cs = try CircuitCommand.load(spec).compileBundled(part, batched: batched, linked: linked)
            try writeFile(r1cs, Circom.writeR1CS(cs.r1cs()))
            try writeFile(wtns, Circom.writeWitness(cs.witness()))
            if let sym { try writeFile(sym, Data(Circom.writeSymbols(cs.wireNames()).utf8)) }
            print("wrote \(r1cs) (\(cs.constraintCount) constraints, \(cs.publicCount) public) and \(wtns)")
        }
    }

    struct Accuracy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Train the spec's network in float on the bundled data, then compare float and fixed-point test accuracy."
        )
        @Argument(help: "Circuit spec JSON.") var spec: String
        @Option(help: "Training epochs.") var epochs: Int = 3
        @Option(help: "Seed (initialization and shuffling).") var seed: UInt64 = 1
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let s = try CircuitCommand.load(spec)
            guard (1...100).contains(epochs) else { throw InputError("--epochs must be in 1...100") }
            print(try FixedPointAccuracy.bundledTable(spec: s, epochs: epochs, seed: seed).rendered(json: json))
        }
    }
}
