import Dispatch
import Foundation

/// `verisplit bench gemm`: square Float32 GEMM throughput, comparable with numpy_gemm.py (same n,
/// minimum over repetitions after one warm-up).
public enum GEMMBenchmark {
    public static func square(n: Int, threads: Int, repetitions: Int, kernel level: GEMMKernel) -> BenchTable {
        var rng = SeededGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in rng.nextUniform() }
        let b = (0..<(n * n)).map { _ in rng.nextUniform() }
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress else { return }
                    for rep in 0...repetitions {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        GEMM.sgemm(
                            transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n,
                            b: b, ldb: n, beta: 0, c: c, ldc: n, threads: threads, kernel: level)
                        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        if rep > 0 { best = min(best, dt) }  // rep 0 warms caches and thread pools
                    }
                }
            }
        }
        let used = min(level.rawValue, GEMMKernel.best.rawValue)
        return BenchTable(
            title: "GEMM Float32 \(n)x\(n)x\(n)",
            rows: [
                ("n", n), ("threads", threads), ("seconds", best),
                ("gflops", 2 * Double(n) * Double(n) * Double(n) / best / 1e9),
                ("kernel", GEMMKernel(rawValue: used)?.description ?? "portable"),
            ])
    }
}

/// `verisplit bench train`: epoch time and test accuracy of a model trained with Adam (seed 1)
/// on standardized Fashion-MNIST.
public enum TrainingBenchmark {
    public static func table(
        model: String, data source: DataSource, epochs: Int, batchSize: Int,
        learningRate: Float
    ) throws -> BenchTable {
        let spec = try ModelSpec.resolve(model)
        var (train, test) = try MNISTFamily.load(source)
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        var net = spec.makeModel(seed: 1)
        var opt = Adam(learningRate: learningRate)
        let history = Trainer.fit(
            model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test,
            epochs: epochs, batchSize: batchSize, seed: 1)
        let times = history.map(\.seconds)
        return BenchTable(
            title: "Training \(spec.name) on \(source)",
            rows: [
                ("model", spec.name), ("data", source.description), ("train_samples", train.count),
                ("batch_size", batchSize), ("threads", GEMM.defaultThreads), ("epochs", epochs),
                ("epoch_seconds_mean", times.reduce(0, +) / Double(max(times.count, 1))),
                ("epoch_seconds_min", times.min() ?? 0), ("train_loss", Double(history.last?.trainLoss ?? 0)),
                ("test_accuracy", Double(history.last?.testAccuracy ?? 0)),
            ])
    }
}
