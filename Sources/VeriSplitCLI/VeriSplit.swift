import ArgumentParser

/// The `verisplit` executable: a thin layer of commands over the library modules.
@main
struct VeriSplit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verisplit",
        abstract: "Verifiable split learning and privacy tooling (Groth16 over BN254).",
        version: "0.1.0",
        subcommands: [R1CSCommand.self, Setup.self, Prove.self, Verify.self, Export.self, CircuitCommand.self, SplitCommand.self, CeremonyCommand.self, Train.self, Eval.self, DPCommand.self, AttackCommand.self, AuditCommand.self, Bench.self, DemoCommand.self])
}
