import ArgumentParser
import Foundation
import NeuralNet

/// Draws a one-line progress bar on stdout when it is a terminal; silent otherwise (logs, pipes).
struct ProgressLine {
    let enabled = isatty(STDOUT_FILENO) == 1

    func batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Float, accuracy: Float) {
        guard enabled, batch == batches || batch % 20 == 0 else { return }
        let width = 30
        let filled = batches > 0 ? width * batch / batches : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let text = String(format: "\repoch %d/%d [%@] %d/%d  loss %.4f  acc %.2f%%", epoch, epochs, bar, batch, batches,
                          loss, accuracy * 100)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    func epoch(_ s: EpochSummary, epochs: Int) {
        guard enabled else { return }
        var text = String(format: "\repoch %d/%d  loss %.4f  acc %.2f%%", s.epoch, epochs, s.trainLoss, s.trainAccuracy * 100)
        if let tl = s.testLoss, let ta = s.testAccuracy { text += String(format: "  test loss %.4f  test acc %.2f%%", tl, ta * 100) }
        text += String(format: "  (%.2fs)", s.seconds)
        print(text + String(repeating: " ", count: 20))
    }
}

/// Options shared by `train` and `eval` for choosing data.
struct DataOptions: ParsableArguments {
    @Option(help: "Data: 'bundled' (4000/1000-image Fashion-MNIST subset shipped with the package), 'system' (full Fashion-MNIST from the Debian package dataset-fashion-mnist), 'auto' (system if installed, else bundled), or a directory of MNIST-style IDX files (gzipped or plain).")
    var data: String = "bundled"
}

/// `verisplit train`: centralized training, the baseline the privacy tools start from.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from a spec on Fashion-MNIST (or other IDX data) and save safetensors.",
        discussion: """
        Prints a progress bar with loss and accuracy per epoch on a terminal, and a JSON summary at \
        the end. Inputs are scaled to [0, 1] and standardized with the training set's mean and \
        standard deviation, which are stored in the model file's metadata so `eval` reuses them.
        """)

    @Option(help: "Model spec JSON file, or a bundled spec name (\(ModelSpec.bundledNames.joined(separator: ", "))).")
    var model: String = "mlp-784-128-10"
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Number of epochs.") var epochs: Int = 5
    @Option(help: "Mini-batch size.") var batchSize: Int = 64
    @Option(help: "Optimizer: adam or sgd.") var optimizer: String = "adam"
    @Option(help: "Learning rate (default 0.001 for adam, 0.05 for sgd).") var lr: Float?
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "Seed for initialization and shuffling.") var seed: UInt64 = 1
    @Option(help: "Where to write the trained weights (safetensors).") var out: String?

    struct Summary: Encodable {
        var model: String
        var data: String
        var trainSamples: Int
        var testSamples: Int
        var parameters: Int
        var optimizer: String
        var learningRate: Float
        var batchSize: Int
        var epochs: [EpochSummary]
        var testAccuracy: Float?
        var out: String?
    }

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard ["adam", "sgd"].contains(optimizer) else { throw ValidationError("--optimizer must be adam or sgd") }
    }

    func run() async throws {
        let source = DataSource(argument: dataOptions.data)
        let (spec, initial, train, test, standardizer) = try withInputErrors {
            let spec = try ModelSpec.resolve(model)
            var (train, test) = try MNISTFamily.load(source)
            let net = spec.makeModel(seed: seed)
            // Both splits must fit the model (sample size, every label below the outputs).
            try net.check(train)
            try net.check(test)
            let standardizer = Standardizer.fit(train)
            train.standardize(with: standardizer)
            test.standardize(with: standardizer)
            return (spec, net, train, test, standardizer)
        }
        var net = initial
        let progress = ProgressLine()
        let totalEpochs = epochs
        let report: (TrainingEvent) -> Void = { event in
            switch event {
            case let .batch(e, b, n, loss, acc): progress.batch(epoch: e, epochs: totalEpochs, batch: b, batches: n, loss: loss, accuracy: acc)
            case let .epoch(s): progress.epoch(s, epochs: totalEpochs)
            }
        }
        let rate: Float
        let history: [EpochSummary]
        if optimizer == "sgd" {
            rate = lr ?? 0.05
            var opt = SGD(learningRate: rate, momentum: momentum)
            history = Trainer.fit(model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test, epochs: epochs,
                                  batchSize: batchSize, seed: seed, progress: report)
        } else {
            rate = lr ?? 1e-3
            var opt = Adam(learningRate: rate)
            history = Trainer.fit(model: &net, optimizer: &opt, loss: spec.loss, train: train, test: test, epochs: epochs,
                                  batchSize: batchSize, seed: seed, progress: report)
        }
        if let out {
            var meta = standardizer.metadata
            meta["model"] = spec.name
            meta["model_spec"] = String(decoding: spec.jsonData(), as: UTF8.self)
            meta["trained_epochs"] = String(epochs)
            meta["data"] = source.description
            try net.saveSafetensors(to: URL(fileURLWithPath: out), metadata: meta)
        }
        print(jsonLine(Summary(model: spec.name, data: source.description, trainSamples: train.count, testSamples: test.count,
                               parameters: net.parameterCount, optimizer: optimizer, learningRate: rate, batchSize: batchSize,
                               epochs: history, testAccuracy: history.last?.testAccuracy, out: out)))
    }
}

/// `verisplit eval`: accuracy and loss of saved weights on the test split.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate saved weights on the test split; prints one JSON object.")

    @Option(help: "Model spec JSON file, or a bundled spec name.") var model: String = "mlp-784-128-10"
    @Option(help: "Weights (safetensors) written by `verisplit train`.") var weights: String
    @OptionGroup var dataOptions: DataOptions

    struct Result: Encodable {
        var model: String
        var weights: String
        var data: String
        var samples: Int
        var loss: Float
        var accuracy: Float
        var perClassAccuracy: [Float]
    }

    func run() async throws {
        let source = DataSource(argument: dataOptions.data)
        let (spec, net, test) = try withInputErrors {
            let spec = try ModelSpec.resolve(model)
            var net = spec.makeModel()
            let meta = try net.loadSafetensors(from: URL(fileURLWithPath: weights))
            let (train, rawTest) = try MNISTFamily.load(source)
            try net.check(rawTest)
            var test = rawTest
            // Use the preprocessing the weights were trained with; fall back to fitting on train.
            test.standardize(with: Standardizer(metadata: meta) ?? Standardizer.fit(train))
            return (spec, net, test)
        }
        let ev = Trainer.evaluate(model: net, loss: spec.loss, data: test)
        var correct = [Int](repeating: 0, count: test.classCount), total = correct
        var m = net
        for indices in Dataset.batches(Array(0..<test.count), size: 1000) {
            let (x, y) = test.batch(indices)
            for (p, l) in zip(m.forward(x).argmaxRows(), y) {
                total[l] += 1
                if p == l { correct[l] += 1 }
            }
        }
        let perClass = zip(correct, total).map { $1 == 0 ? 0 : Float($0) / Float($1) }
        if isatty(STDOUT_FILENO) == 1 {
            print(String(format: "%@ on %@: accuracy %.2f%%, loss %.4f (%d samples)", spec.name, source.description,
                         ev.accuracy * 100, ev.loss, ev.samples))
        }
        print(jsonLine(Result(model: spec.name, weights: weights, data: source.description, samples: ev.samples,
                              loss: ev.loss, accuracy: ev.accuracy, perClassAccuracy: perClass)))
    }
}
