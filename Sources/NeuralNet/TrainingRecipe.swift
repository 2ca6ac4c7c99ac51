import Foundation

/// `verisplit train`: centralized training, the baseline the privacy tools start from. Resolves
/// the spec, checks both splits fit the model, standardizes with the training set's mean and
/// standard deviation (stored in the model file's metadata so evaluation reuses them), trains with
/// Adam or SGD and writes safetensors.
public struct TrainingRecipe: Sendable {
    public enum OptimizerChoice: String, Sendable, CaseIterable { case adam, sgd }

    public var model = "mlp-784-128-10"
    public var data = DataSource.bundled
    public var epochs = 5
    public var batchSize = 64
    public var optimizer = OptimizerChoice.adam
    /// nil: 0.001 for Adam, 0.05 for SGD.
    public var learningRate: Float?
    public var momentum: Float = 0.9
    public var seed: UInt64 = 1
    /// Where to write the weights; nil: not written.
    public var out: String?

    public init() {}

    public func run(progress: @escaping (TrainingEvent) -> Void = { _ in }) throws -> TrainingSummary {
        let spec = try ModelSpec.resolve(model)
        var (train, test) = try MNISTFamily.load(data)
        var net = spec.makeModel(seed: seed)
        // Both splits must fit the model (sample size, every label below the outputs).
        try net.check(train)
        try net.check(test)
        let standardizer = Standardizer.fit(train)
        train.standardize(with: standardizer)
        test.standardize(with: standardizer)
        let rate: Float
        let history: [EpochSummary]
        switch optimizer {
        case .sgd:
            rate = learningRate ?? 0.05
            var opt = SGD(learningRate: rate, momentum: momentum)
            history = Trainer.fit(
                model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test, epochs: epochs,
                batchSize: batchSize, seed: seed, progress: progress)
        case .adam:
            rate = learningRate ?? 1e-3
            var opt = Adam(learningRate: rate)
            history = Trainer.fit(
                model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test, epochs: epochs,
                batchSize: batchSize, seed: seed, progress: progress)
        }
        if let out {
            var meta = standardizer.metadata
            meta["model"] = spec.name
            meta["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
            meta["trained_epochs"] = String(epochs)
            meta["data"] = data.description
            try net.saveSafetensors(to: URL(fileURLWithPath: out), metadata: meta)
        }
        return TrainingSummary(
            model: spec.name, data: data.description, trainSamples: train.count, testSamples: test.count,
            parameters: net.parameterCount, optimizer: optimizer.rawValue, learningRate: rate,
            batchSize: batchSize, epochs: history, testAccuracy: history.last?.testAccuracy, out: out)
    }
}

/// What `verisplit train` prints (one JSON value).
public struct TrainingSummary: Encodable, Sendable {
    public var model: String
    public var data: String
    public var trainSamples: Int
    public var testSamples: Int
    public var parameters: Int
    public var optimizer: String
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: [EpochSummary]
    public var testAccuracy: Float?
    public var out: String?
}

/// `verisplit eval`: accuracy, loss and per-class accuracy of saved weights on the test split,
/// with the preprocessing the weights were trained with (else a fit on the train split).
public struct ModelEvaluation: Encodable, Sendable {
    public var model: String
    public var weights: String
    public var data: String
    public var samples: Int
    public var loss: Float
    public var accuracy: Float
    public var perClassAccuracy: [Float]

    public static func run(model: String, weights: String, data source: DataSource) throws -> ModelEvaluation {
        let spec = try ModelSpec.resolve(model)
        var net = spec.makeModel()
        let meta = try net.loadSafetensors(from: URL(fileURLWithPath: weights))
        let (train, rawTest) = try MNISTFamily.load(source)
        try net.check(rawTest)
        var test = rawTest
        test.standardize(with: Standardizer(metadata: meta) ?? Standardizer.fit(train))
        let ev = Trainer.evaluate(model: net, loss: spec.loss, data: test)
        var correct = [Int](repeating: 0, count: test.classCount), total = correct
        for indices in Dataset.batches(Array(0..<test.count), size: 1000) {
            let (x, y) = test.batch(indices)
            for (p, l) in zip(net.forward(x).argmaxRows(), y) {
                total[l] += 1
                if p == l { correct[l] += 1 }
            }
        }
        let perClass = zip(correct, total).map { $1 == 0 ? 0 : Float($0) / Float($1) }
        return ModelEvaluation(
            model: spec.name, weights: weights, data: source.description, samples: ev.samples,
            loss: ev.loss, accuracy: ev.accuracy, perClassAccuracy: perClass)
    }

    /// The one-line human summary.
    public var text: String {
        String(format: "%@ on %@: accuracy %.2f%%, loss %.4f (%d samples)", model, data, accuracy * 100, loss, samples)
    }
}

/// A one-line training progress bar on standard output when it is a terminal; silent otherwise
/// (logs, pipes).
public struct TrainingProgressLine: Sendable {
    public let enabled = isatty(STDOUT_FILENO) == 1
    public let epochs: Int

    public init(epochs: Int) { self.epochs = epochs }

    public func report(_ event: TrainingEvent) {
        guard enabled else { return }
        switch event {
        case let .batch(epoch, batch, batches, loss, accuracy):
            guard batch == batches || batch % 20 == 0 else { return }
            let width = 30
            let filled = batches > 0 ? width * batch / batches : width
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            let text = String(
                format: "\repoch %d/%d [%@] %d/%d  loss %.4f  acc %.2f%%", epoch, epochs, bar, batch, batches,
                loss, accuracy * 100)
            FileHandle.standardOutput.write(Data(text.utf8))
        case let .epoch(s):
            var text = String(
                format: "\repoch %d/%d  loss %.4f  acc %.2f%%", s.epoch, epochs, s.trainLoss, s.trainAccuracy * 100)
            if let tl = s.testLoss, let ta = s.testAccuracy {
                text += String(format: "  test loss %.4f  test acc %.2f%%", tl, ta * 100)
            }
            text += String(format: "  (%.2fs)", s.seconds)
            print(text + String(repeating: " ", count: 20))
        }
    }
}
