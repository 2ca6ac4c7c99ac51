import ArgumentParser
import Demo
import Foundation

/// `verisplit demo`: the README's first command (the logic is the `Demo` module).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "End to end on the bundled data: verified split training, a rejected dishonest server, QBI vs AGGP, DP audits; one folder with index.html.",
        discussion: """
            Runs offline in a few minutes on 2 cores (--quick: under a minute). Progress goes to \
            standard error, the summary to standard output. Exit status 0 when every dishonest step \
            was rejected by the verified protocol, 1 when one was not, 2 when the demo could not run.
            """)
    @Flag(help: "A smaller run (under a minute): fewer verified steps, smaller attack and audit.") var quick = false
    @Option(help: "Output folder (created; its files are overwritten).") var out: String = "verisplit-demo"
    @Option(help: "Seed of the weights, sample order, attack and audit.") var seed: UInt64 = 1
    @Flag(help: "Print summary.json's content instead of the text summary.") var json = false
    @Flag(help: "Run the server party in this process instead of a separate `verisplit split server` process.")
    var inProcess = false

    func run() async throws {
        // This executable, to start the server party as its own process.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map {
            URL(fileURLWithPath: $0)
        }
        let options = DemoOptions(
            quick: quick, output: URL(fileURLWithPath: out), seed: seed,
            serverExecutable: inProcess ? nil : executable)
        let summary = try await Demo.run(
            options: options, versions: auditVersions(), progress: StandardErrorProgress())
        print(json ? summary.json() : summary.text())
        if !summary.split.allVerifiedAttacksRejected { throw ExitCode(1) }
    }
}
