import ArgumentParser
import Ceremony
import Report

/// `verisplit bench ceremony`: one phase-1 and one phase-2 contribution and the transcript
/// verification, on a squaring chain whose domain is exactly 2^N, through the files a real
/// ceremony writes (a scratch directory, removed afterwards).
struct BenchCeremony: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Time ceremony contributions and transcript verification at a 2^N domain, with peak memory.")

    @Option(help: "log2 of the domain (the phase-1 power), 4...20.") var log2: Int = 16
    @Flag(
        help: ArgumentHelp(
            "Stop after phase 1: time the phase-1 contribution and its verification only, skipping the phase-2 setup "
                + "(its point FFTs are most of a full run at large domains), the phase-2 contribution and the full verification."
        )
    )
    var phase1Only = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard (4...20).contains(log2) else { throw InputError("--log2 must be in 4...20") }
        let progress = TerminalProgress()
        print(
            try CeremonyBenchmark.run(
                log2: log2, phase1Only: phase1Only, progress: progress.report,
                finish: progress.finish
            ).rendered(json: json))
    }
}
