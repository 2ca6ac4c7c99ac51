import ArgumentParser
import Foundation

/// The `verisplit` executable: a thin layer of commands over the library modules.
@main
struct VeriSplit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verisplit",
        abstract: "Verifiable split learning and privacy tooling (Groth16 over BN254).",
        discussion:
            "Exit codes everywhere: 0 ok or valid, 1 invalid (a proof, key, transcript or peer was refused), 2 bad input or usage.",
        version: "0.1.0",
        subcommands: [
            R1CSCommand.self, Setup.self, Prove.self, Verify.self, Export.self, CircuitCommand.self, SplitCommand.self,
            ProverCommand.self, CeremonyCommand.self, Train.self, Eval.self, DPCommand.self, AttackCommand.self,
            AuditCommand.self, Bench.self, DemoCommand.self,
        ])

    /// Runs the command and keeps the exit codes to the convention, in one place: usage errors
    /// (ArgumentParser's 64, a `ValidationError`) print ArgumentParser's message and exit 2; an
    /// explicit `ExitCode(1)` stays 1 and any other exit code becomes 2; a `Refusal` prints its
    /// message and exits 1 (invalid); any other error escaping a command is bad input: one line
    /// "error: ..." on standard error, exit 2. So a failure never exits 0 and no other code
    /// appears. Help and version exit 0.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            if let code = error as? ExitCode { Foundation.exit(code == .failure ? 1 : 2) }
            let message = exitCode(for: error) == .failure ? "error: \(error)" : fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(error is Refusal ? 1 : 2)
        }
    }
}

/// A refusal a command reports (a proof, key, transcript or run that is invalid): the root
/// prints "error: DESCRIPTION" and exits with status 1.
struct Refusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
