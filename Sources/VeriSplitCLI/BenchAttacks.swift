import ArgumentParser
import Attacks
import Defenses
import NeuralNet

/// `verisplit bench attacks`: every attack against every defense on the grid
/// N in {200, 500, 1000} x B in {20, 50, 100, 200}, on the bundled images and on Gaussian
/// synthetic data (K seeds each, mean and 95% t-interval), plus each defense's accuracy cost on
/// the bundled MLP. Prints a table (or one JSON object) and writes an HTML report with SVG plots.
struct BenchAttacks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attacks",
        abstract: "Attack x defense grid (recall with 95% intervals), defense accuracy cost, HTML report.")

    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Small grid (N 200, 500; B 20, 100; 3 seeds; 1 training epoch).") var quick = false
    @Option(help: "Seeds per cell (default 10, 3 with --quick).") var seeds: Int?
    @Option(help: "Training epochs for the accuracy cost (default 2, 1 with --quick).") var epochs: Int?
    @Option(help: "HTML report path.") var report: String = "attacks-report.html"
    @Option(help: "Also write a Markdown summary (table, time, machine) to this path.") var markdown: String?
    @OptionGroup var setting: AttackSettingOptions

    func run() async throws {
        let (train, test) = try MNISTFamily.load(.bundled)
        let result = try AttackBenchmark.run(
            .init(
                quick: quick, seeds: seeds, epochs: epochs, settings: setting.settings, report: report,
                markdown: markdown),
            train: train, test: test)
        print(json ? jsonLine(result) : result.text)
    }
}
