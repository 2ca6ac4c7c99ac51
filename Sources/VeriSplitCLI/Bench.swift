import ArgumentParser
import Support

/// `verisplit bench ...`: every benchmark prints a readable table, or with `--json` exactly one
/// JSON object (or array, where the command documents a list) on stdout.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (readable table, or one JSON value with --json).",
        subcommands: [
            BenchAlgebra.self, BenchGroth16.self, BenchCommitment.self, BenchZKML.self, BenchGemm.self, BenchTrain.self,
            BenchDPAccountant.self, BenchDP.self, BenchDPSpeed.self, BenchAttacks.self, BenchAudit.self,
            BenchSplit.self, BenchCeremony.self, BenchProverPool.self,
        ])
}
