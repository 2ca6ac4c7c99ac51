import DP
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
/// Where: the paper defends the first fully connected layer, the one a malicious server turns into
/// an imprint layer, and so does `layers = .firstDense` (the default); `.all` defends every fully
/// connected layer, the classification head included.
///
/// The paper's constants disagree: the keep formula reaches pUpper at a = c - 1 = 15, which
/// suggests T = 15, while the authors' demo prunes only a <= T = 10, so rows with 11 to 15
/// activators jump from keeping about 40-75 % to 100 %. The threshold is therefore a parameter.
///
/// Counts: `kept = ceil(n * p_keep)` of a row of n entries (the authors prune
/// `floor(n * (1 - p_keep))`, the same number away from float ties) and
/// `zeroed = floor(kept * randomZeroFraction)` of them, chosen uniformly without replacement.
/// Layers other than fully connected ones (weight `[out, in]`, pre-activations `[B, out]`) pass
/// through unchanged.
public struct AGGP: GradientDefense {
    /// Which fully connected layers AGGP defends.
    public enum Layers: Sendable, Hashable {
        /// The first fully connected layer of the model (the paper's setting). `prepare(for:)`
        /// names it; before that, the fully connected layer at index 0 of the model.
        case firstDense
        /// Every fully connected layer, the classification head included.
        case all
        /// The layers with these names.
        case named(Set<String>)

        /// "first-dense", "all", or the names joined by commas.
        public var description: String {
            switch self {
            case .firstDense: return "first-dense"
            case .all: return "all"
            case .named(let names): return names.sorted().joined(separator: ",")
            }
        }
    }

    public var threshold: Int
    public var pLower: Double
    public var pUpper: Double
    public var c: Double
    public var randomZeroFraction: Double
    public var layers: Layers
    /// The first dense layer's name once `prepare(for:)` has seen the model.
    private var firstDenseName: String?
    private var generator: DPRandomGenerator

    /// - Parameter randomness: the source of the random zeroing: the system CSPRNG by default, a
    ///   seed for reproducible experiments.
    /// - Throws: `DPError.invalidParameter` for a threshold < 1, c <= 2 or fractions outside [0, 1].
    public init(
        threshold: Int = 10, pLower: Double = 0.01, pUpper: Double = 0.95, c: Double = 16,
        randomZeroFraction: Double = 0.75, layers: Layers = .firstDense,
        randomness: RandomSource = .system
    ) throws(DPError) {
        guard threshold >= 1 else {
            throw .invalidParameter(
                name: "aggp-threshold", value: "\(threshold)", requirement: "must be an integer >= 1",
                hint: "The authors' demo uses 10; the keep formula with c = 16 suggests 15.")
        }
        guard c > 2, (0...1).contains(pLower), (0...1).contains(pUpper), (0...1).contains(randomZeroFraction) else {
            throw .invalidParameter(
                name: "aggp constants", value: "c \(c), pLower \(pLower), pUpper \(pUpper), zero \(randomZeroFraction)",
                requirement: "need c > 2 and the fractions in [0, 1]", hint: "Use the defaults.")
        }
        self.threshold = threshold
        self.pLower = pLower
        self.pUpper = pUpper
        self.c = c
        self.randomZeroFraction = randomZeroFraction
        self.layers = layers
        self.generator = DPRandomGenerator(randomness)
    }

    public var name: String { "aggp" }

    /// The name of the first fully connected (`Dense`) layer of `model`, if any.
    public static func firstDenseLayer(of model: Sequential) -> String? {
        model.layers.first { $0 is Dense }?.name
    }

    public mutating func prepare(for model: Sequential) {
        firstDenseName = AGGP.firstDenseLayer(of: model)
    }

    /// Whether the layer of `context` is one AGGP defends.
    func defends(_ context: GradientHookContext) -> Bool {
        guard context.isDense else { return false }
        switch layers {
        case .all: return true
        case .named(let names): return names.contains(context.layerName)
        case .firstDense:
            if let firstDenseName { return context.layerName == firstDenseName }
            return context.layerIndex == 0
        }
    }

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
        guard defends(context) else { return }
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
