import Foundation

/// Training losses. Both are means over the batch, so gradients carry a 1/B factor and
/// per-sample gradients (which layers scale back by B) are gradients of each sample's own loss.
public enum Loss: String, Sendable, Codable, CaseIterable {
    /// Softmax followed by cross-entropy against integer class labels.
    case softmaxCrossEntropy = "softmax_cross_entropy"
    /// Mean squared error; with class labels the target is the one-hot vector.
    case mse

    /// Loss value (mean over the batch), gradient w.r.t. `output`, and the number of rows whose
    /// arg-max equals the label.
    public struct Result: Sendable {
        public var loss: Float
        public var gradient: Tensor
        public var correct: Int
    }

    /// Evaluates the loss of `output` (`[B, classes]`) against `labels` (B class indices).
    /// Precondition: labels in range (datasets validate labels when loaded). O(B * classes).
    public func evaluate(output: Tensor, labels: [Int]) -> Result {
        switch self {
        case .softmaxCrossEntropy: return Loss.softmaxCrossEntropy(logits: output, labels: labels)
        case .mse:
            let classes = output.count / max(labels.count, 1)
            var target = Tensor(shape: [labels.count, classes])
            target.withUnsafeMutableBufferPointer { p in
                for (n, l) in labels.enumerated() { p[n * classes + l] = 1 }
            }
            var r = Loss.mse(predictions: output, targets: target)
            r.correct = zip(output.argmaxRows(), labels).filter { $0 == $1 }.count
            return r
        }
    }

    /// Numerically stable softmax cross-entropy: loss = mean_n(logsumexp(z_n) - z_n[y_n]),
    /// gradient = (softmax(z) - onehot(y)) / B.
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> Result {
        let batch = labels.count
        precondition(logits.rank == 2 && logits.shape[0] == batch, "logits \(logits.shape) vs \(batch) labels")
        let classes = logits.shape[1]
        var total = 0.0
        var correct = 0
        let invB = 1 / Float(batch)
        let grad = Tensor(shape: logits.shape) { g in
            logits.withUnsafeBufferPointer { z in
                for n in 0..<batch {
                    let row = n * classes
                    let label = labels[n]
                    precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
                    var mx = -Float.infinity
                    var arg = 0
                    for c in 0..<classes where z[row + c] > mx {
                        mx = z[row + c]
                        arg = c
                    }
                    if arg == label { correct += 1 }
                    var sum: Float = 0
                    for c in 0..<classes {
                        let e = expf(z[row + c] - mx)
                        g[row + c] = e
                        sum += e
                    }
                    total += Double(logf(sum) + mx - z[row + label])
                    let inv = 1 / sum
                    for c in 0..<classes { g[row + c] *= inv * invB }
                    g[row + label] -= invB
                }
            }
        }
        return Result(loss: Float(total / Double(batch)), gradient: grad, correct: correct)
    }

    /// Mean squared error over every element: loss = mean_n mean_j (p - t)^2,
    /// gradient = 2 (p - t) / (B * D). `correct` is 0 (no classes). Precondition: equal counts.
    public static func mse(predictions: Tensor, targets: Tensor) -> Result {
        precondition(predictions.count == targets.count, "mse: \(predictions.shape) vs \(targets.shape)")
        let n = predictions.count
        var total = 0.0
        let scale = 2 / Float(max(n, 1))
        let grad = Tensor(shape: predictions.shape) { g in
            predictions.withUnsafeBufferPointer { p in
                targets.withUnsafeBufferPointer { t in
                    for i in 0..<n {
                        let d = p[i] - t[i]
                        total += Double(d * d)
                        g[i] = scale * d
                    }
                }
            }
        }
        return Result(loss: Float(total / Double(max(n, 1))), gradient: grad, correct: 0)
    }
}
