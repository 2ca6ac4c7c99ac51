import Foundation

/// Progress of a training run, reported to the caller (the CLI draws a progress bar from it).
public enum TrainingEvent: Sendable {
    /// After each batch: running mean loss and accuracy of the epoch so far.
    case batch(epoch: Int, batch: Int, batches: Int, loss: Float, accuracy: Float)
    /// After each epoch.
    case epoch(EpochSummary)
}

/// Figures for one epoch.
public struct EpochSummary: Sendable, Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Float
    public var trainAccuracy: Float
    public var testLoss: Float?
    public var testAccuracy: Float?
    public var seconds: Double
}

/// Loss and accuracy of a model on a data set.
public struct Evaluation: Sendable, Codable, Equatable {
    public var loss: Float
    public var accuracy: Float
    public var samples: Int
}

/// Mini-batch training and evaluation loops over `Sequential` models.
public enum Trainer {
    /// One epoch of mini-batch training: shuffle (seeded), then forward, loss, backward, hook,
    /// optimizer step per batch. Returns the epoch's mean loss and accuracy. O(epoch flops).
    public static func trainEpoch<O: Optimizer>(
        model: inout Sequential, optimizer: inout O, loss: Loss, data: Dataset, batchSize: Int,
        generator: inout SeededGenerator, epoch: Int = 1,
        hook: (inout GradientHookContext) -> Void = { _ in },
        progress: (TrainingEvent) -> Void = { _ in }
    ) -> (loss: Float, accuracy: Float) {
        var rng: SeededGenerator? = generator
        let order = data.epochOrder(generator: &rng)
        generator = rng ?? generator
        let batches = Dataset.batches(order, size: batchSize)
        var totalLoss = 0.0
        var correct = 0
        var seen = 0
        for (b, indices) in batches.enumerated() {
            let (x, y) = data.batch(indices)
            let out = model.forward(x, training: true)
            let r = loss.evaluate(output: out, labels: y)
            _ = model.backward(r.gradient, inputGradient: false, hook: hook)
            optimizer.step(&model)
            totalLoss += Double(r.loss) * Double(y.count)
            correct += r.correct
            seen += y.count
            progress(
                .batch(
                    epoch: epoch, batch: b + 1, batches: batches.count,
                    loss: Float(totalLoss / Double(seen)), accuracy: Float(correct) / Float(seen)))
        }
        return (Float(totalLoss / Double(max(seen, 1))), Float(correct) / Float(max(seen, 1)))
    }

    /// Evaluates in batches of `batchSize` (inference mode, no caches). O(N * forward flops).
    public static func evaluate(model: Sequential, loss: Loss, data: Dataset, batchSize: Int = 1000) -> Evaluation {
        var m = model
        var total = 0.0
        var correct = 0
        for indices in Dataset.batches(Array(0..<data.count), size: batchSize) {
            let (x, y) = data.batch(indices)
            let r = loss.evaluate(output: m.forward(x, training: false), labels: y)
            total += Double(r.loss) * Double(y.count)
            correct += r.correct
        }
        let n = max(data.count, 1)
        return Evaluation(loss: Float(total / Double(n)), accuracy: Float(correct) / Float(n), samples: data.count)
    }

    /// Trains for `epochs` epochs, evaluating on `test` (if given) after each. Deterministic in
    /// `seed` (shuffling) given the model's initial weights. Returns one summary per epoch.
    public static func fit<O: Optimizer>(
        model: inout Sequential, optimizer: inout O, loss: Loss, train: Dataset, test: Dataset?,
        epochs: Int, batchSize: Int, seed: UInt64,
        hook: (inout GradientHookContext) -> Void = { _ in },
        progress: (TrainingEvent) -> Void = { _ in }
    ) -> [EpochSummary] {
        var rng = SeededGenerator(seed: seed)
        var out = [EpochSummary]()
        for e in 1...max(epochs, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let (l, a) = trainEpoch(
                model: &model, optimizer: &optimizer, loss: loss, data: train, batchSize: batchSize,
                generator: &rng, epoch: e, hook: hook, progress: progress)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let ev = test.map { evaluate(model: model, loss: loss, data: $0) }
            let summary = EpochSummary(
                epoch: e, trainLoss: l, trainAccuracy: a, testLoss: ev?.loss,
                testAccuracy: ev?.accuracy, seconds: seconds)
            progress(.epoch(summary))
            out.append(summary)
        }
        return out
    }
}
