import Foundation
import NeuralNet

/// AGGP, activation-based gradient pruning. Nowak, Bott, Khachaturov, Puppe, Krenzer, Hekalo,
/// "QBI: Quantile-Based Bias Initialization for Efficient Private Data Reconstruction in Federated
/// Learning", arXiv:2406.18745, 2024, Section 5 (Equation 14).
///
/// For a fully connected layer on a batch, `a_i` is the number of samples with a positive
/// pre-activation at neuron i. A neuron with few activators leaks those samples through
/// `dW_i / db_i`, so if `0 < a_i <= threshold` AGGP keeps only the top
///
///     p_keep(a) = (a - 1)^2 * (pUpper - pLower) / (c - 2)^2 + pLower
///
/// fraction of row i's weight-gradient entries by magnitude and then zeroes `randomZeroFraction`
/// of the kept entries at random. Rows with `a_i = 0` or `a_i > threshold`, and all bias
/// gradients, are left untouched. Defaults: threshold T = 10, pLower = 0.01, pUpper = 0.95,
/// c = 16, randomZeroFraction = 0.75 (the authors' values).
///
/// Counts: `kept = ceil(n * p_keep)` of a row of n entries (the authors prune
/// `floor(n * (1 - p_keep))`, the same number away from float ties) and
/// `zeroed = floor(kept * randomZeroFraction)` of them, chosen uniformly without replacement.
/// Layers other than fully connected ones (weight `[out, in]`, pre-activations `[B, out]`) pass
/// through unchanged.
public struct AGGP: GradientDefense {
    public var threshold: Int
    public var pLower: Double
    public var pUpper: Double
    public var c: Double
    public var randomZeroFraction: Double
    /// Layers to defend by name; nil means every fully connected layer.
    public var layerNames: Set<String>?
    private var generator: SeededGenerator

    public init(threshold: Int = 10, pLower: Double = 0.01, pUpper: Double = 0.95, c: Double = 16,
                randomZeroFraction: Double = 0.75, layerNames: Set<String>? = nil, seed: UInt64 = 0) {
        precondition(threshold >= 1 && c > 2 && (0...1).contains(pLower) && (0...1).contains(pUpper)
                     && (0...1).contains(randomZeroFraction), "AGGP constants out of range")
        self.threshold = threshold
        self.pLower = pLower
        self.pUpper = pUpper
        self.c = c
        self.randomZeroFraction = randomZeroFraction
        self.layerNames = layerNames
        self.generator = SeededGenerator(seed: seed)
    }

    public var name: String { "aggp" }

    /// p_keep(a), clamped to [0, 1].
    public func keepFraction(activations a: Int) -> Double {
        let p = Double((a - 1) * (a - 1)) * (pUpper - pLower) / ((c - 2) * (c - 2)) + pLower
        return min(1, max(0, p))
    }

    /// Entries of a row of `rowLength` kept by magnitude for `a` activators (before the random zeroing).
    public func keptCount(activations a: Int, rowLength n: Int) -> Int {
        min(n, Int((Double(n) * keepFraction(activations: a) - 1e-9).rounded(.up)))
    }

    /// How many of `kept` entries are then zeroed at random.
    public func randomlyZeroedCount(kept: Int) -> Int {
        Int((Double(kept) * randomZeroFraction + 1e-9).rounded(.down))
    }

    /// Whether AGGP edits a row with `a` activators.
    public func prunes(activations a: Int) -> Bool { a > 0 && a <= threshold }

    public mutating func apply(to context: inout GradientHookContext) {
        guard context.isDense, layerNames?.contains(context.layerName) ?? true else { return }
        let (batch, out) = (context.preActivations.shape[0], context.preActivations.shape[1])
        let n = context.weightGradient.shape[1]
        var counts = [Int](repeating: 0, count: out)
        context.preActivations.withUnsafeBufferPointer { z in
            for s in 0..<batch {
                for i in 0..<out where z[s * out + i] > 0 { counts[i] += 1 }
            }
        }
        var grad = context.weightGradient
        var magnitudes = [Float](repeating: 0, count: n)
        grad.withUnsafeMutableBufferPointer { g in
            for i in 0..<out where prunes(activations: counts[i]) {
                let row = i * n
                for j in 0..<n { magnitudes[j] = abs(g[row + j]) }
                var kept = largestIndices(magnitudes, count: keptCount(activations: counts[i], rowLength: n))
                let zeroed = randomlyZeroedCount(kept: kept.count)
                for t in 0..<zeroed { kept.swapAt(t, t + generator.nextInt(below: kept.count - t)) }
                var keep = [Bool](repeating: false, count: n)
                for j in kept[zeroed...] { keep[j] = true }
                for j in 0..<n where !keep[j] { g[row + j] = 0 }
            }
        }
        context.weightGradient = grad
    }
}
