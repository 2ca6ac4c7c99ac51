import ArgumentParser
import DP

/// `verisplit bench dp-accountant`: wall time of one accountant call for the DP-SGD setting of
/// the issue (q = 256/60000, sigma = 1.1, 14,062 steps, delta = 1e-5). The requirement is
/// < 50 ms for RDP; PLD is reported alongside. Compare with the reference timing script in
/// Benchmarks/dp.md.
struct BenchDPAccountant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp-accountant",
        abstract: "Time one RDP and one PLD accountant call at 14,062 steps.")

    @Option(help: "Repetitions for RDP (median reported).")
    var rdpRuns = 20

    @Option(help: "Repetitions for PLD (median reported).")
    var pldRuns = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        print(try AccountantBenchmark.table(rdpRuns: rdpRuns, pldRuns: pldRuns).rendered(json: json))
    }
}
