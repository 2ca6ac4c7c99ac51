import ArgumentParser
import Dispatch
import Foundation
import NeuralNet

/// `verisplit bench gemm`: Float32 GEMM throughput, comparable with numpy_gemm.py (same n, min of reps).
struct BenchGemm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square Float32 GEMM throughput (keys n, threads, seconds, gflops, kernel).")

    @Option(help: "Matrix size n (C = A B, all n x n).") var n: Int = 512
    @Option(help: "Threads.") var threads: Int = GEMM.defaultThreads
    @Option(help: "Repetitions; the minimum time is reported.") var reps: Int = 10
    @Option(help: "Kernel: best, avx512, avx2 or portable (clamped to what the CPU supports).") var kernel: String = "best"
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard n > 0, threads > 0, reps > 0 else { throw ValidationError("--n, --threads and --reps must be positive") }
        guard ["best", "avx512", "avx2", "portable"].contains(kernel) else { throw ValidationError("unknown --kernel \(kernel)") }
    }

    func run() async throws {
        let level: GEMMKernel = switch kernel {
        case "avx512": .avx512
        case "avx2": .avx2
        case "portable": .portable
        default: .best
        }
        var rng = SeededGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in rng.nextUniform() }
        let b = (0..<(n * n)).map { _ in rng.nextUniform() }
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        let size = n
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for rep in 0...reps {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        GEMM.sgemm(transposeA: false, transposeB: false, m: size, n: size, k: size, alpha: 1,
                                   a: pa.baseAddress!, lda: size, b: pb.baseAddress!, ldb: size, beta: 0,
                                   c: pc.baseAddress!, ldc: size, threads: threads, kernel: level)
                        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        if rep > 0 { best = min(best, dt) }  // rep 0 warms caches and thread pools
                    }
                }
            }
        }
        let used = min(level.rawValue, GEMMKernel.best.rawValue)
        printBenchResult([("n", n), ("threads", threads), ("seconds", best),
                          ("gflops", 2 * Double(n) * Double(n) * Double(n) / best / 1e9),
                          ("kernel", GEMMKernel(rawValue: used)?.description ?? "portable")],
                         json: json, title: "GEMM Float32 \(n)x\(n)x\(n)")
    }
}

/// `verisplit bench train`: epoch time and accuracy of an MLP on Fashion-MNIST.
struct BenchTrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (default MLP 784-128-10) on Fashion-MNIST; report epoch time and test accuracy.")

    @Option(help: "Model spec file or bundled name.") var model: String = "mlp-784-128-10"
    @Option(help: "Data: system, bundled, auto or an IDX directory (default: auto, the full set when installed).") var data: String?
    @Option(help: "Epochs.") var epochs: Int = 5
    @Option(help: "Mini-batch size.") var batchSize: Int = 64
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let source = data.map(DataSource.init(argument:)) ?? .detected
        let spec = try ModelSpec.resolve(model)
        var (train, test) = try MNISTFamily.load(source)
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        var net = spec.makeModel(seed: 1)
        var opt = Adam(learningRate: lr)
        let history = Trainer.fit(model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test,
                                  epochs: epochs, batchSize: batchSize, seed: 1)
        let times = history.map(\.seconds)
        printBenchResult([("model", spec.name), ("data", source.description), ("train_samples", train.count),
                          ("batch_size", batchSize), ("threads", GEMM.defaultThreads), ("epochs", epochs),
                          ("epoch_seconds_mean", times.reduce(0, +) / Double(max(times.count, 1))),
                          ("epoch_seconds_min", times.min() ?? 0), ("train_loss", Double(history.last?.trainLoss ?? 0)),
                          ("test_accuracy", Double(history.last?.testAccuracy ?? 0))],
                         json: json, title: "Training \(spec.name) on \(source)")
    }
}
