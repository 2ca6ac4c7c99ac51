import ArgumentParser
import Commitment

/// `verisplit bench commitment`: Poseidon cost per width and the cost of committing the
/// 50,176 parameters of a Dense 784 -> 64 layer natively and in a circuit.
struct BenchCommitment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commitment", abstract: "Poseidon and Pedersen commitment costs (native time, constraints).")
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Also build the 1.9M-constraint circuit commitment (minutes, several GiB).") var circuit = false

    func run() throws {
        do { print(try CommitmentBenchmark.table(circuit: circuit).rendered(json: json)) } catch is CommitmentBenchmark
            .Unsatisfied
        {
            throw ExitCode(1)
        }
    }
}
