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
        let mechanism = try PoissonSampledGaussian(
            samplingRate: 256.0 / 60000.0, noiseMultiplier: 1.1, steps: 14_062)
        let delta = 1e-5
        let (rdpMs, rdp) = try medianMilliseconds(runs: max(rdpRuns, 1)) {
            try RDPAccountant().guarantee(for: mechanism, delta: delta)
        }
        let (pldMs, pld) = try medianMilliseconds(runs: max(pldRuns, 1)) {
            try PLDAccountant().guarantee(for: mechanism, delta: delta)
        }
        printBenchResult(
            [
                ("q", mechanism.samplingRate), ("sigma", mechanism.noiseMultiplier),
                ("steps", mechanism.steps), ("delta", delta),
                ("rdp_ms", rdpMs), ("rdp_epsilon", rdp.epsilon), ("rdp_order", rdp.order ?? .nan),
                ("pld_ms", pldMs), ("pld_epsilon", pld.epsilon),
            ], json: json, title: "DP accountant, one call (median wall time)")
    }

    private func medianMilliseconds<T>(runs: Int, _ body: () throws -> T) throws -> (Double, T) {
        let clock = ContinuousClock()
        var times: [Double] = []
        var last: T? = nil
        for _ in 0..<runs {
            let start = clock.now
            let value = try body()
            let elapsed = clock.now - start
            times.append(
                Double(elapsed.components.seconds) * 1e3
                    + Double(elapsed.components.attoseconds) * 1e-15)
            last = value
        }
        times.sort()
        guard let result = last else { throw ValidationError("no runs") }
        return (times[times.count / 2], result)
    }
}
