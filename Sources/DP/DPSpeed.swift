import Foundation
import NeuralNet

/// Seconds per epoch of plain training and of DP-SGD on the same model, data and batch size: what
/// `verisplit bench dp-speed` reports beside Opacus.
public struct EpochTiming: Sendable, Codable, Equatable {
    public var model: String
    /// Threads NeuralNet used (`GEMM.defaultThreads` of the measuring process).
    public var threads: Int
    public var plainEpochS: Double
    public var dpsgdEpochS: Double
    public var examples: Int
    public var batch: Int
    /// dpsgd / plain, from the same process.
    public var ratio: Double
}

/// The timing loops behind `bench dp-speed`.
public enum DPSpeed {
    /// Plain: shuffled batches of `batchSize`, forward, loss, backward, SGD (lr 0.05, momentum
    /// 0.9). DP-SGD: Poisson batches at q = batchSize / n from the system CSPRNG, per-sample
    /// clipping to `clip` without per-sample gradients, noise `sigma * clip` from the system
    /// CSPRNG, the same SGD. Each is timed over one warm-up epoch and then `epochs` epochs; the
    /// fastest epoch is reported (the figure least disturbed by other jobs on a shared machine).
    /// - Throws: `DPError` for parameters the DP-SGD configuration rejects, or `nonFinite` if a
    ///   step diverged.
    public static func measure(
        spec: ModelSpec, train: Dataset, batchSize: Int, clip: Double, sigma: Double,
        epochs: Int, seed: UInt64 = 1
    ) throws(DPError) -> EpochTiming {
        guard batchSize >= 1, batchSize <= train.count, epochs >= 1 else {
            throw .invalidParameter(
                name: "batch/epochs", value: "\(batchSize)/\(epochs)",
                requirement: "need 1 <= batch <= n and epochs >= 1", hint: "Use e.g. batch 64, 3 epochs.")
        }
        let clock = ContinuousClock()

        var plain = spec.makeModel(seed: seed)
        var sgd = SGD(learningRate: 0.05, momentum: 0.9)
        var order = SeededGenerator(seed: seed)
        var plainBest = Double.infinity
        for e in 0...epochs {
            let start = clock.now
            _ = Trainer.trainEpoch(
                model: &plain, optimizer: &sgd, loss: spec.loss, data: train, batchSize: batchSize,
                generator: &order)
            if e > 0 { plainBest = min(plainBest, (clock.now - start).inSeconds) }
        }

        var model = spec.makeModel(seed: seed)
        let q = Double(batchSize) / Double(train.count)
        let configuration = try DPSGDConfiguration(
            clippingNorm: clip, noiseMultiplier: sigma,
            expectedBatchSize: Double(batchSize))
        var dp = DPOptimizer(base: SGD(learningRate: 0.05, momentum: 0.9), configuration: configuration, noise: .system)
        var sampler = DPRandomGenerator(.system)
        let steps = max(1, Int((1 / q).rounded()))
        var dpBest = Double.infinity
        for e in 0...epochs {
            let start = clock.now
            for _ in 0..<steps {
                let (x, y) = train.batch(PoissonSampling.sample(count: train.count, rate: q, generator: &sampler))
                _ = try dp.step(&model, features: x, labels: y, loss: spec.loss)
            }
            if e > 0 { dpBest = min(dpBest, (clock.now - start).inSeconds) }
        }
        return EpochTiming(
            model: spec.name, threads: GEMM.defaultThreads, plainEpochS: plainBest, dpsgdEpochS: dpBest,
            examples: train.count, batch: batchSize, ratio: dpBest / plainBest)
    }
}

extension DPSpeed {
    /// Every model in `models` measured in this process (whose thread count `VERISPLIT_THREADS`
    /// fixed), on the standardized train split of `data`.
    public static func measureAll(
        models: [String], data: String, batchSize: Int, clip: Double, sigma: Double,
        epochs: Int
    ) throws -> [EpochTiming] {
        var (train, _) = try MNISTFamily.load(DataSource(argument: data))
        train.standardize(with: DPTraining.dataIndependentStandardizer)
        return try models.map { name in
            try measure(
                spec: try ModelSpec.resolve(name), train: train, batchSize: batchSize, clip: clip, sigma: sigma,
                epochs: epochs)
        }
    }

    /// Runs `executable arguments` as a child with `VERISPLIT_THREADS = threads` (NeuralNet reads
    /// it once per process) and decodes the JSON array of timings it prints.
    public static func measureInChild(executable: URL, arguments: [String], threads: Int) throws -> [EpochTiming] {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["VERISPLIT_THREADS"] = "\(threads)"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DPError.invalidParameter(
                name: "threads", value: "\(threads)",
                requirement: "the measurement exited with status \(process.terminationStatus)",
                hint: "Run it alone with VERISPLIT_THREADS=\(threads) to see its error.")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([EpochTiming].self, from: output)
    }

    /// The timings as a table under a title naming the setting.
    public static func render(
        _ rows: [EpochTiming], data: String, batch: Int, clip: Double, sigma: Double, epochs: Int
    ) -> String {
        ([
            "Seconds per epoch on \(data) data (batch \(batch), clip \(clip), sigma \(sigma); fastest of \(epochs) after a warm-up)",
            "  model            threads  plain s/epoch  DP-SGD s/epoch  DP-SGD / plain",
        ]
            + rows.map { r in
                "  " + r.model.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(format: " %7d  %13.4f  %14.4f  %14.2f", r.threads, r.plainEpochS, r.dpsgdEpochS, r.ratio)
            }).joined(separator: "\n")
    }
}

/// `bench dp-speed`: each thread count measured in a child process of `executable` (the
/// `verisplit` binary, run as `bench dp-speed --child ...` with `VERISPLIT_THREADS` set, since
/// NeuralNet reads the thread count once per process).
public struct DPSpeedBenchmark: Sendable {
    public var models: [String]
    public var threads: [Int]
    public var data: String
    public var batch: Int
    public var clip: Double
    public var sigma: Double
    /// Timed epochs after one warm-up (the fastest is reported).
    public var epochs: Int

    public init(
        models: [String], threads: [Int], data: String, batch: Int, clip: Double, sigma: Double, epochs: Int
    ) {
        (self.models, self.threads, self.data, self.batch) = (models, threads, data, batch)
        (self.clip, self.sigma, self.epochs) = (clip, sigma, epochs)
    }

    /// The child's command line (after the executable).
    public var childArguments: [String] {
        [
            "bench", "dp-speed", "--child", "--models", models.joined(separator: ","), "--epochs", "\(epochs)",
            "--batch", "\(batch)", "--clip", "\(clip)", "--sigma", "\(sigma)", "--data", data,
        ]
    }

    /// What a child measures: every model at this process's thread count.
    public func measureHere() throws -> [EpochTiming] {
        try DPSpeed.measureAll(models: models, data: data, batchSize: batch, clip: clip, sigma: sigma, epochs: epochs)
    }

    /// One child per thread count, in order.
    public func run(executable: URL) throws -> [EpochTiming] {
        try threads.flatMap {
            try DPSpeed.measureInChild(executable: executable, arguments: childArguments, threads: $0)
        }
    }

    public func rendered(_ rows: [EpochTiming], json: Bool) -> String {
        json
            ? jsonLine(rows)
            : DPSpeed.render(rows, data: data, batch: batch, clip: clip, sigma: sigma, epochs: epochs)
    }
}
