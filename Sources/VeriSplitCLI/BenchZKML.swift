import ArgumentParser
import ZKML

/// `verisplit bench zkml`: constraints, prove and verify times, proof and key sizes of the
/// layer circuits, on a real image from the bundled Fashion-MNIST subset.
struct BenchZKML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkml", abstract: "Time the ZKML layer circuits (Groth16, BN254).")
    @Flag(help: "Print a JSON list of objects.") var json = false
    @Option(help: "Prove repetitions (best reported).") var repetitions: Int = 2
    @Flag(help: "Skip the committed-weights circuit (about 2M constraints, minutes to set up and prove).")
    var skipCommitted = false

    func run() throws {
        let rows = try ZKMLBenchmark.layers(repetitions: repetitions, skipCommitted: skipCommitted)
        print(
            json ? "[" + rows.map(\.json).joined(separator: ", ") + "]" : rows.map(\.table.text).joined(separator: "\n")
        )
    }
}
