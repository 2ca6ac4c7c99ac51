import Algebra
import ArgumentParser
import Commitment
import Foundation

/// `verisplit bench commitment`: Poseidon cost per width and the cost of committing the
/// 50,176 parameters of a Dense 784 -> 64 layer natively and in a circuit.
struct BenchCommitment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commitment", abstract: "Poseidon and Pedersen commitment costs (native time, constraints).")
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Also build the 1.9M-constraint circuit commitment (minutes, several GiB).") var circuit = false

    func run() throws {
        var rows: [(String, Any)] = [
            ("poseidon_t3_hash_us", try CommitmentBenchmark.poseidonHashMicroseconds()),
        ]
        for t in [2, 3, 5, 9, 17] {
            rows.append(("constraints_per_permutation_t\(t)", try CommitmentBenchmark.constraintsPerPermutation(width: t)))
        }
        let n = 50_176
        for t in [3, 17] {
            rows.append(("native_commit_\(n)_t\(t)_s", try CommitmentBenchmark.nativeCommitSeconds(count: n, width: t)))
        }
        let pedersen = CommitmentBenchmark.pedersen(count: n)
        rows.append(("pedersen_\(n)_generators_s", pedersen.deriveSeconds))
        rows.append(("pedersen_\(n)_commit_s", pedersen.commitSeconds))
        if circuit {
            let c = try CommitmentBenchmark.circuitCommit(count: n, width: 17)
            guard c.satisfied else { throw ExitCode(1) }
            rows.append(("circuit_commit_\(n)_t17_constraints", c.constraints))
        }
        printBenchResult(rows, json: json, title: "Commitments (release build)")
    }
}
