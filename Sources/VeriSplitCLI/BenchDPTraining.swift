import ArgumentParser
import DP
import Foundation
import NeuralNet

/// `verisplit bench dp`: what the DP methods cost in accuracy and time on the bundled data, for
/// the MLP and the CNN (`cnn-small`). Rows per model: plain training; DP-SGD at epsilon 1, 3, 8;
/// DP-Weights noise on the plain model at the same nominal epsilons (heuristic, not proven); then,
/// once, output perturbation of L2 logistic regression at the same epsilons (proven method). Time per epoch of DP-SGD vs plain (the fastest epoch of each run, which
/// is the figure least disturbed by other jobs on a shared machine). All randomness is seeded so
/// the accuracies are reproducible, so every row's claim is "seeded" or "heuristic", never
/// "proven" (a release draws its batches and noise from the system CSPRNG); `--json` prints one
/// JSON array with one object per row.
struct BenchDP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract: "Accuracy and epoch time: plain vs DP-SGD vs DP-Weights vs output perturbation.")

    @Option(help: "Model spec files or bundled names, comma-separated.") var model: String = "mlp-784-128-10,cnn-small"
    @Option(help: "Data: bundled, system, auto or an IDX directory.") var data: String = "bundled"
    @Option(help: "Epochs (plain and DP-SGD).") var epochs: Int = 5
    @Option(help: "(Expected) batch size.") var batchSize: Int = 64
    @Option(help: "SGD learning rate (momentum 0.9), plain and DP-SGD.") var lr: Double = 0.05
    @Option(help: "DP-SGD clipping norm (also the C of the DP-Weights formula).") var clip: Double = 1
    @Option(help: "Delta for DP-SGD and output perturbation.") var delta: Double = 1e-5
    @Option(help: "Comma-separated target epsilons.") var epsilons = PositiveNumbers([1, 3, 8])
    @Option(help: "L2 strength gamma of the logistic regression.") var l2: Double = 0.01
    @Option(help: "Noise draws averaged for the weight-noise rows.") var noiseDraws: Int = 5
    @Option(
        help: "Seed of initialization, shuffling, batch sampling and noise (runs with different seeds show the spread)."
    )
    var seed: UInt64 = 1
    @Flag(help: "Print one JSON array (one object per row).") var json = false

    func validate() throws {
        guard epochs > 0, batchSize > 0, lr > 0, clip > 0, l2 > 0, noiseDraws > 0 else {
            throw ValidationError("--epochs, --batch-size, --lr, --clip, --l2 and --noise-draws must be positive")
        }
        guard delta > 0, delta < 1 else { throw ValidationError("--delta must lie in (0, 1)") }
    }

    func run() async throws {
        let models = model.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let (rows, title) = try DPMethodsBenchmark(
            models: models, data: data, epochs: epochs, batchSize: batchSize, lr: lr, clip: clip, delta: delta,
            targets: epsilons.values, l2: l2, noiseDraws: noiseDraws, seed: seed
        ).run()
        print(DPMethodsBenchmark.render(rows, title: title, json: json))
    }
}
