import Foundation
import NeuralNet

/// How the models of an audit (target, shadow and reference models) are trained. Shadow models
/// must be trained the way the target was, or LiRA and RMIA calibrate against the wrong
/// distribution (Carlini et al. 2022, Sec. VI).
public protocol ModelTrainer: Sendable {
    /// A short label for reports, e.g. "plain" or "dpsgd-eps3".
    var name: String { get }
    /// Every hyperparameter that changes the trained weights, as stable text (part of the cache
    /// key of shadow models: change any of them and cached models are not reused).
    var identity: String { get }
    /// The hyperparameters for reports.
    var parameters: [(String, String)] { get }
    /// Trains a fresh model of `spec` on `data`, deterministically in `seed` (initialization,
    /// shuffling, and any noise).
    func train(spec: ModelSpec, data: Dataset, seed: UInt64) throws(AuditError) -> Sequential
    /// The privacy guarantee the training claims (nil: none).
    var claim: PrivacyClaim? { get }
}

extension ModelTrainer {
    public var claim: PrivacyClaim? { nil }
}

/// The (epsilon, delta) a training method claims, and what kind of claim it is.
public struct PrivacyClaim: Sendable, Equatable {
    /// How much a claim is worth.
    public enum Status: String, Sendable, Equatable, CaseIterable {
        /// An accountant's bound for a run whose every random choice (batch sampling, noise) came
        /// from the system CSPRNG.
        case proven
        /// The algorithm has a proof, but this run's sampling or noise was seeded (a reproducible
        /// experiment): anyone who knows the seed can replay that randomness, so it is not a release.
        case seeded
        /// A published heuristic without a proof (DP-Weights).
        case heuristic
    }

    public var epsilon: Double
    public var delta: Double
    public var status: Status
    public var note: String

    /// True only for `.proven`.
    public var proven: Bool { status == .proven }

    public init(epsilon: Double, delta: Double, status: Status, note: String) {
        self.epsilon = epsilon
        self.delta = delta
        self.status = status
        self.note = note
    }
}

/// Non-private mini-batch training with Adam or SGD (the recipe of `verisplit train`).
public struct PlainTrainer: ModelTrainer {
    public enum OptimizerKind: String, Sendable, CaseIterable { case adam, sgd }

    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var momentum: Float

    /// Throws for non-positive epochs, batch size or learning rate.
    public init(
        epochs: Int = 5, batchSize: Int = 64, optimizer: OptimizerKind = .adam, learningRate: Float? = nil,
        momentum: Float = 0.9
    ) throws(AuditError) {
        guard epochs >= 1 else {
            throw .invalidParameter(name: "epochs", value: "\(epochs)", requirement: "must be >= 1")
        }
        guard batchSize >= 1 else {
            throw .invalidParameter(name: "batch-size", value: "\(batchSize)", requirement: "must be >= 1")
        }
        let lr = learningRate ?? (optimizer == .adam ? 1e-3 : 0.05)
        guard lr > 0, lr.isFinite else {
            throw .invalidParameter(name: "lr", value: "\(lr)", requirement: "must be a finite number > 0")
        }
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = lr
        self.momentum = momentum
    }

    public var name: String { "plain" }

    public var identity: String {
        "plain;epochs=\(epochs);batch=\(batchSize);opt=\(optimizer.rawValue);lr=\(learningRate);momentum=\(momentum)"
    }

    public var parameters: [(String, String)] {
        [
            ("training", "plain (no privacy)"), ("epochs", "\(epochs)"), ("batch_size", "\(batchSize)"),
            ("optimizer", optimizer.rawValue), ("learning_rate", "\(learningRate)"),
        ]
            + (optimizer == .sgd ? [("momentum", "\(momentum)")] : [])
    }

    public func train(spec: ModelSpec, data: Dataset, seed: UInt64) throws(AuditError) -> Sequential {
        var model = spec.makeModel(seed: seed)
        switch optimizer {
        case .adam:
            var opt = Adam(learningRate: learningRate)
            _ = Trainer.fit(
                model: &model, optimizer: &opt, loss: spec.loss, train: data, test: nil, epochs: epochs,
                batchSize: batchSize, seed: seed ^ 0x5EED)
        case .sgd:
            var opt = SGD(learningRate: learningRate, momentum: momentum)
            _ = Trainer.fit(
                model: &model, optimizer: &opt, loss: spec.loss, train: data, test: nil, epochs: epochs,
                batchSize: batchSize, seed: seed ^ 0x5EED)
        }
        return model
    }
}

/// Per-example outputs of one model on a data set: what every attack here is computed from.
public struct ExampleOutputs: Sendable, Equatable {
    /// Cross-entropy loss -log p_y.
    public var loss: [Double]
    /// Confidence p_y = softmax(z)_y in the true class.
    public var confidence: [Double]
    /// Logit-scaled confidence phi = log(p_y / (1 - p_y)) (Carlini et al. 2022, Sec. IV-B), computed
    /// stably as z_y - logsumexp_{j != y} z_j so it stays finite when p_y rounds to 1.
    public var logitConfidence: [Double]
    /// Whether the arg-max prediction equals the label.
    public var correct: [Bool]

    public var count: Int { loss.count }

    /// Accuracy over `indices` (all when nil).
    public func accuracy(_ indices: [Int]? = nil) -> Double {
        let idx = indices ?? Array(correct.indices)
        guard !idx.isEmpty else { return 0 }
        return Double(idx.filter { correct[$0] }.count) / Double(idx.count)
    }

    /// Runs `model` on `data` in batches (inference mode) and collects the outputs in Double.
    /// Throws if the model's output does not have one column per class. O(N * forward).
    public static func evaluate(
        model: Sequential, data: Dataset, batchSize: Int = 500
    ) throws(AuditError) -> ExampleOutputs {
        var m = model
        var out = ExampleOutputs(loss: [], confidence: [], logitConfidence: [], correct: [])
        out.loss.reserveCapacity(data.count)
        for indices in Dataset.batches(Array(0..<data.count), size: batchSize) {
            let (x, y) = data.batch(indices)
            let logits = m.forward(x, training: false)
            guard logits.rank == 2, logits.shape[0] == y.count, logits.shape[1] >= data.classCount else {
                throw .mismatch(
                    what: "model output",
                    detail: "shape \(logits.shape) for \(y.count) samples of \(data.classCount) classes",
                    hint: "the model needs one output per class")
            }
            let classes = logits.shape[1]
            logits.withUnsafeBufferPointer { z in
                for (n, label) in y.enumerated() {
                    let row = n * classes
                    var mx = -Double.infinity, arg = 0
                    for c in 0..<classes where Double(z[row + c]) > mx {
                        mx = Double(z[row + c])
                        arg = c
                    }
                    var total = 0.0, others = 0.0
                    var mxOther = -Double.infinity
                    for c in 0..<classes where c != label { mxOther = max(mxOther, Double(z[row + c])) }
                    for c in 0..<classes {
                        let v = Double(z[row + c])
                        total += exp(v - mx)
                        if c != label { others += exp(v - mxOther) }
                    }
                    let zy = Double(z[row + label])
                    let logP = zy - (mx + log(total))
                    out.loss.append(-logP)
                    out.confidence.append(exp(logP))
                    out.logitConfidence.append(classes > 1 ? zy - (mxOther + log(others)) : .infinity)
                    out.correct.append(arg == label)
                }
            }
        }
        return out
    }
}
