import ArgumentParser
import NeuralNet

/// `verisplit bench gemm`: Float32 GEMM throughput, comparable with numpy_gemm.py (same n, min of reps).
struct BenchGemm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square Float32 GEMM throughput (keys n, threads, seconds, gflops, kernel).")

    @Option(help: "Matrix size n (C = A B, all n x n).") var n: Int = 512
    @Option(help: "Threads.") var threads: Int = GEMM.defaultThreads
    @Option(help: "Repetitions; the minimum time is reported.") var reps: Int = 10
    @Option(help: "Kernel: best, avx512, avx2 or portable (clamped to what the CPU supports).") var kernel: String =
        "best"
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard n > 0, threads > 0, reps > 0 else { throw ValidationError("--n, --threads and --reps must be positive") }
        guard ["best", "avx512", "avx2", "portable"].contains(kernel) else {
            throw ValidationError("unknown --kernel \(kernel)")
        }
    }

    func run() async throws {
        let level: GEMMKernel = ["avx512": .avx512, "avx2": .avx2, "portable": .portable][kernel] ?? .best
        print(GEMMBenchmark.square(n: n, threads: threads, repetitions: reps, kernel: level).rendered(json: json))
    }
}

/// `verisplit bench train`: epoch time and accuracy of an MLP on Fashion-MNIST.
struct BenchTrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (default MLP 784-128-10) on Fashion-MNIST; report epoch time and test accuracy.")

    @Option(help: "Model spec file or bundled name.") var model: String = "mlp-784-128-10"
    @Option(help: "Data: system, bundled, auto or an IDX directory (default: auto, the full set when installed).")
    var data: String?
    @Option(help: "Epochs.") var epochs: Int = 5
    @Option(help: "Mini-batch size.") var batchSize: Int = 64
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let source = data.map(DataSource.init(argument:)) ?? .detected
        print(
            try TrainingBenchmark.table(
                model: model, data: source, epochs: epochs, batchSize: batchSize, learningRate: lr
            )
            .rendered(json: json))
    }
}
