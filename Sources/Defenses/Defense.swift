import DP
import NeuralNet

/// A client-side defense that edits gradients in a `Sequential` gradient hook, so the same value
/// works in centralized training (`Trainer.fit(hook:)`), a FedSGD client (`FedSGDRound.clientUpdate`)
/// and split learning (`SplitLearningServer.step`).
public protocol GradientDefense: Sendable {
    /// Short name for tables (`aggp`, `dp`, `prune`, `none`).
    var name: String { get }
    /// Edits the gradients of one layer in place. Called once per parametric layer per step.
    mutating func apply(to context: inout GradientHookContext)
    /// Looks at the model the hook will run on before the first step (e.g. AGGP finds its first
    /// fully connected layer). The default does nothing.
    mutating func prepare(for model: Sequential)
}

extension GradientDefense {
    public mutating func prepare(for model: Sequential) {}
}

/// No defense.
public struct NoDefense: GradientDefense {
    public init() {}
    public var name: String { "none" }
    public mutating func apply(to context: inout GradientHookContext) {}
}

/// The settings of the defenses a command builds (every field has the paper's or the usual
/// default).
public struct DefenseOptions: Sendable, Hashable {
    /// AGGP's activation threshold T (the authors' demo: 10).
    public var aggpThreshold: Int
    /// Which layers AGGP defends (the paper: the first fully connected one).
    public var aggpLayers: AGGP.Layers
    /// The Gaussian-noise defense's clipping norm C and noise multiplier sigma.
    public var clipNorm: Float
    public var noiseMultiplier: Float
    /// Where AGGP's random zeroing and the Gaussian noise come from: the system CSPRNG unless the
    /// run is seeded.
    public var randomness: RandomSource

    public init(
        aggpThreshold: Int = 10, aggpLayers: AGGP.Layers = .firstDense, clipNorm: Float = 1,
        noiseMultiplier: Float = 1, randomness: RandomSource = .system
    ) {
        self.aggpThreshold = aggpThreshold
        self.aggpLayers = aggpLayers
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.randomness = randomness
    }
}

/// The defenses by command-line name.
public enum DefenseKind: String, Sendable, Codable, CaseIterable {
    case none, aggp, dp, prune

    /// The defense with `options`.
    /// - Throws: `DPError.invalidParameter` for an AGGP threshold < 1 or a non-positive clip norm
    ///   or negative noise multiplier.
    public func make(_ options: DefenseOptions = DefenseOptions()) throws(DPError) -> any GradientDefense {
        switch self {
        case .none: return NoDefense()
        case .aggp:
            return try AGGP(
                threshold: options.aggpThreshold, layers: options.aggpLayers, randomness: options.randomness)
        case .dp:
            return try GaussianGradientNoise(
                clipNorm: options.clipNorm, noiseMultiplier: options.noiseMultiplier,
                noise: options.randomness)
        case .prune: return TopKPruning()
        }
    }
}

extension GradientHookContext {
    /// True for a fully connected layer: weight `[out, in]`, input `[B, in]`, output `[B, out]`.
    var isDense: Bool {
        let w = weightGradient.shape
        return w.count == 2 && input.rank == 2 && preActivations.rank == 2 && preActivations.shape[1] == w[0]
            && input.shape[1] == w[1]
    }
}

/// Indices of the `k` largest values of `values` (ties broken towards lower indices), in
/// ascending index order. Average O(n): a quickselect finds the k-th largest value, then one pass
/// collects everything above it and as many equal values as fit.
func largestIndices(_ values: [Float], count k: Int) -> [Int] {
    let n = values.count
    guard k > 0 else { return [] }
    guard k < n else { return Array(0..<n) }
    var scratch = values
    var lo = 0, hi = n - 1
    let target = k - 1  // position of the k-th largest in descending order
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(n)
    while lo < hi {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let pivot = scratch[lo + Int((state >> 33) % UInt64(hi - lo + 1))]
        var i = lo, j = hi
        while i <= j {
            while scratch[i] > pivot { i += 1 }
            while scratch[j] < pivot { j -= 1 }
            if i <= j {
                scratch.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        if target <= j { hi = j } else if target >= i { lo = i } else { break }
    }
    let threshold = scratch[target]
    var above = 0
    for v in values where v > threshold { above += 1 }
    var equalSlots = k - above
    var out = [Int]()
    out.reserveCapacity(k)
    for (i, v) in values.enumerated() {
        if v > threshold {
            out.append(i)
        } else if v == threshold && equalSlots > 0 {
            out.append(i)
            equalSlots -= 1
        }
    }
    return out
}
