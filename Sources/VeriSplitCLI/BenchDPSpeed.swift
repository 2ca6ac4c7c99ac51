import ArgumentParser
import DP
import Foundation
import Support

/// `verisplit bench dp-speed`: seconds per epoch of plain training and of DP-SGD (per-sample
/// clipping without per-sample gradients, Poisson sampling and noise from the system CSPRNG) for
/// each model and thread count, on the bundled Fashion-MNIST subset: the figures
/// `../shared/bench/opacus_dpsgd.py` prints for Opacus on the same models, data, batch size, clip
/// and noise. Each thread count runs in a child process with `VERISPLIT_THREADS` set (NeuralNet
/// reads it once). `--json` prints one JSON array of {model, threads, plain_epoch_s,
/// dpsgd_epoch_s, ratio, examples, batch}.
struct BenchDPSpeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp-speed",
        abstract: "Seconds per epoch, plain vs DP-SGD, per model and thread count (JSON: an array).")

    @Option(help: "Models, comma-separated (spec files or bundled names).") var models: String =
        "mlp-784-128-10,cnn-small"
    @Option(help: "Thread counts, comma-separated; each runs in its own process.") var threads: String = "1,2"
    @Option(help: "Timed epochs after one warm-up epoch (the fastest is reported).") var epochs: Int = 3
    @Option(help: "(Expected) batch size.") var batch: Int = 64
    @Option(help: "Clipping norm.") var clip: Double = 1
    @Option(help: "Noise multiplier.") var sigma: Double = 1
    @Option(help: "Data: bundled, system, auto or an IDX directory (train split).") var data: String = "bundled"
    @Flag(help: "Print one JSON array.") var json = false
    @Flag(help: .hidden) var child = false

    func validate() throws {
        guard epochs >= 1, batch >= 1, clip > 0, sigma > 0 else {
            throw ValidationError("--epochs, --batch, --clip and --sigma must be positive")
        }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--threads must be positive integers separated by commas, e.g. 1,2")
        }
    }

    private var threadCounts: [Int] {
        threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() async throws {
        let benchmark = DPSpeedBenchmark(
            models: models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            threads: threadCounts, data: data, batch: batch, clip: clip, sigma: sigma, epochs: epochs)
        if child { return print(jsonLine(try benchmark.measureHere())) }
        guard let executable = Bundle.main.executableURL else {
            throw ValidationError("cannot locate the verisplit executable")
        }
        print(benchmark.rendered(try benchmark.run(executable: executable), json: json))
    }
}
