import Foundation
import NeuralNet

/// The attacks that plant weights in the first fully connected layer.
public enum AttackKind: String, Sendable, Codable, CaseIterable {
    /// Quantile-Based Bias Initialization (Nowak et al. 2024).
    case qbi
    /// PAIRS: QBI plus per-neuron redraws tuned on auxiliary data (Nowak et al. 2024).
    case pairs
    /// Robbing the Fed: one measurement direction, bias bins (Fowl et al. 2022).
    case rtf
    /// No attack: the honest Kaiming initialization, the baseline for passive leakage.
    case random
}

/// How reconstructions are read off the layer's gradient.
public enum ReconstructionUnits: String, Sendable, Codable {
    /// One reconstruction per neuron: `x = dL/dW_i / dL/db_i` (QBI, PAIRS, random).
    case neurons
    /// One per bin, from adjacent neurons: `x = (dW_k - dW_{k+1}) / (db_k - db_{k+1})`, with
    /// `dW_N = 0` (Robbing the Fed). Needs the next layer's columns for these neurons to be equal,
    /// so that every active neuron passes the same gradient for a sample.
    case adjacentDifferences
}

/// The weights a malicious server plants in the first fully connected layer (`in` -> `neurons`).
public struct MaliciousLayer: Sendable {
    public let kind: AttackKind
    /// `[neurons, inputSize]` (PyTorch layout, as `Dense`).
    public var weight: Tensor
    /// `[neurons]`.
    public var bias: Tensor
    public let units: ReconstructionUnits
    /// What PAIRS's tuning did (nil for the other attacks).
    public var pairsReport: PAIRSReport?

    public var neurons: Int { weight.shape[0] }
    public var inputSize: Int { weight.shape[1] }
    /// RtF needs the following layer's columns for these neurons to be identical.
    public var needsUniformDownstream: Bool { units == .adjacentDifferences }

    /// Builds the layer `kind` asks for. `auxiliary` (`[M, inputSize]`, preprocessed like the
    /// client's data) is what PAIRS tunes on and what RtF estimates its measurement distribution
    /// from; QBI and the random baseline ignore it.
    public static func make(
        _ kind: AttackKind, neurons: Int, inputSize: Int, batchSize: Int,
        auxiliary: Tensor, generator: inout SeededGenerator,
        pairsOptions: PAIRSOptions = PAIRSOptions()
    ) throws(AttackError) -> MaliciousLayer {
        switch kind {
        case .qbi:
            return try QBI.layer(neurons: neurons, inputSize: inputSize, batchSize: batchSize, generator: &generator)
        case .pairs:
            return try PAIRS.layer(
                neurons: neurons, batchSize: batchSize, auxiliary: auxiliary, generator: &generator,
                options: pairsOptions)
        case .rtf:
            return try RobbingTheFed.layer(neurons: neurons, auxiliary: auxiliary, generator: &generator)
        case .random:
            return try RandomInitialization.layer(neurons: neurons, inputSize: inputSize, generator: &generator)
        }
    }
}

/// Fills `buffer` with i.i.d. N(0, 1) draws (Box-Muller using both outputs of each pair), so
/// re-drawing a weight row costs one logarithm and one sine/cosine per two entries.
func fillStandardNormal(_ buffer: UnsafeMutableBufferPointer<Float>, generator: inout SeededGenerator) {
    var i = 0
    let n = buffer.count
    while i < n {
        let u1 = max(generator.nextUniform(), 0x1p-25)
        let u2 = generator.nextUniform()
        let r = (-2 * logf(u1)).squareRoot()
        let angle = 2 * Float.pi * u2
        buffer[i] = r * cosf(angle)
        if i + 1 < n { buffer[i + 1] = r * sinf(angle) }
        i += 2
    }
}

func standardNormalTensor(shape: [Int], generator: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape) { fillStandardNormal($0, generator: &generator) }
}

/// QBI (Quantile-Based Bias Initialization). Nowak, Bott, Khachaturov, Puppe, Krenzer, Hekalo,
/// "QBI: Quantile-Based Bias Initialization for Efficient Private Data Reconstruction in Federated
/// Learning", arXiv:2406.18745, 2024.
///
/// Every weight is N(0, 1) and every bias is `b = Phi^-1(1/B) * sqrt(n)`. For standardized inputs
/// (`|x|^2` about n), `w . x` is approximately N(0, n), so a neuron fires (`w . x + b > 0`) with
/// probability about 1/B (exactly so for i.i.d. N(0, 1) features; the paper standardizes images
/// per channel, `Standardization.perChannel`): on a batch of B samples each neuron fires for one sample on average, and a
/// neuron that fires for exactly one sample x has `dL/dW_i = g x`, `dL/db_i = g`, hence
/// `x = (dL/dW_i) / (dL/db_i)` exactly.
public enum QBI {
    /// `Phi^-1(1/B) * sqrt(n)`. Precondition-free: validates `batchSize >= 2` and `inputSize >= 1`.
    public static func bias(inputSize: Int, batchSize: Int) throws(AttackError) -> Float {
        try AttackError.require(
            batchSize >= 2, "batch", batchSize, "QBI needs a batch size >= 2 (Phi^-1(1/B) is -inf at B = 1)")
        try AttackError.require(inputSize >= 1, "input size", inputSize, "must be >= 1")
        return Float(Statistics.normalQuantile(1 / Double(batchSize)) * Double(inputSize).squareRoot())
    }

    /// A QBI layer: weights N(0, 1), every bias `bias(inputSize:batchSize:)`.
    public static func layer(
        neurons: Int, inputSize: Int, batchSize: Int,
        generator: inout SeededGenerator
    ) throws(AttackError) -> MaliciousLayer {
        try AttackError.require(neurons >= 1, "neurons", neurons, "must be >= 1")
        let b = try bias(inputSize: inputSize, batchSize: batchSize)
        return MaliciousLayer(
            kind: .qbi, weight: standardNormalTensor(shape: [neurons, inputSize], generator: &generator),
            bias: Tensor(shape: [neurons], repeating: b), units: .neurons, pairsReport: nil)
    }
}

/// Budgets of PAIRS's redraw loop (the constants of Nowak et al.'s Algorithm 1 by default).
public struct PAIRSOptions: Sendable, Equatable {
    /// Redraws allowed per group; nil means `5 * B * N`.
    public var redrawBudgetPerGroup: Int?
    /// A group is abandoned after this many consecutive redraws without placing a neuron.
    public var maxConsecutiveFailures: Int

    public init(redrawBudgetPerGroup: Int? = nil, maxConsecutiveFailures: Int = 2000) {
        self.redrawBudgetPerGroup = redrawBudgetPerGroup
        self.maxConsecutiveFailures = maxConsecutiveFailures
    }
}

/// What PAIRS's tuning did, for reports.
public struct PAIRSReport: Sendable, Codable, Equatable {
    public var groups = 0
    /// Groups stopped by the consecutive-failure limit or the redraw budget.
    public var abandonedGroups = 0
    /// Neurons whose row activates exactly one (unclaimed) auxiliary sample.
    public var placedNeurons = 0
    public var redraws = 0
}

/// PAIRS (Nowak et al. 2024, Algorithm 1): QBI tuned on auxiliary data from the target domain.
///
/// The N neurons are split into groups of B; group t uses auxiliary batch t. For each neuron of
/// the group the weight row is redrawn from N(0, 1) until exactly one auxiliary sample activates
/// it and no earlier neuron of the group claimed that sample; the sample is then claimed. A group
/// may spend `5 * B * N` redraws and is abandoned after 2000 consecutive failures; neurons left
/// unplaced keep their QBI row. Biases are QBI's.
///
/// Candidates are evaluated in chunks: 64 fresh rows times the auxiliary batch is one GEMM, then
/// the rows are tried in order. Unused rows of a chunk serve the next neuron; they are i.i.d.
/// draws, so this is distributed exactly like redrawing one row at a time.
public enum PAIRS {
    static let chunk = 64

    public static func layer(
        neurons: Int, batchSize: Int, auxiliary: Tensor, generator: inout SeededGenerator,
        options: PAIRSOptions = PAIRSOptions()
    ) throws(AttackError) -> MaliciousLayer {
        guard auxiliary.rank == 2 else {
            throw .shapeMismatch(context: "PAIRS auxiliary data", expected: [-1, -1], got: auxiliary.shape)
        }
        let (m, d) = (auxiliary.shape[0], auxiliary.shape[1])
        guard m >= batchSize else { throw .insufficientAuxiliaryData(needed: batchSize, available: m) }
        try AttackError.require(
            options.maxConsecutiveFailures >= 1, "max consecutive failures",
            options.maxConsecutiveFailures, "must be >= 1")
        var layer = try QBI.layer(neurons: neurons, inputSize: d, batchSize: batchSize, generator: &generator)
        let b = try QBI.bias(inputSize: d, batchSize: batchSize)
        let budget = options.redrawBudgetPerGroup ?? 5 * batchSize * neurons
        var report = PAIRSReport()
        var candidates = Tensor(shape: [chunk, d])
        var scores = Tensor(shape: [chunk, batchSize])
        var groupData = Tensor(shape: [batchSize, d])
        var claimed = [Bool](repeating: false, count: batchSize)
        for first in stride(from: 0, to: neurons, by: batchSize) {
            report.groups += 1
            let group = first / batchSize
            let rows = (0..<batchSize).map { (group * batchSize + $0) % m }
            groupData = Tensor(shape: [batchSize, d]) { out in
                auxiliary.withUnsafeBufferPointer { src in
                    for (r, i) in rows.enumerated() {
                        (out.baseAddress! + r * d).update(from: src.baseAddress! + i * d, count: d)
                    }
                }
            }
            for j in claimed.indices { claimed[j] = false }
            var retries = 0, noProgress = 0
            var next = chunk  // index of the next unused candidate; chunk means "draw a new chunk"
            var abandoned = false
            neuronLoop: for neuron in first..<min(neurons, first + batchSize) {
                while true {
                    if retries >= budget || noProgress >= options.maxConsecutiveFailures {
                        abandoned = true
                        break neuronLoop
                    }
                    if next == chunk {
                        candidates.withUnsafeMutableBufferPointer { fillStandardNormal($0, generator: &generator) }
                        scores = Tensor.matmul(candidates, groupData, transposeB: true, threads: 1)
                        next = 0
                    }
                    let c = next
                    next += 1
                    var hits = 0, hit = -1
                    scores.withUnsafeBufferPointer { s in
                        for j in 0..<batchSize where s[c * batchSize + j] + b > 0 {
                            hits += 1
                            hit = j
                        }
                    }
                    if hits == 1 && !claimed[hit] {
                        claimed[hit] = true
                        noProgress = 0
                        report.placedNeurons += 1
                        candidates.withUnsafeBufferPointer { src in
                            layer.weight.withUnsafeMutableBufferPointer { w in
                                (w.baseAddress! + neuron * d).update(from: src.baseAddress! + c * d, count: d)
                            }
                        }
                        continue neuronLoop
                    }
                    retries += 1
                    noProgress += 1
                    report.redraws += 1
                }
            }
            if abandoned { report.abandonedGroups += 1 }
        }
        return MaliciousLayer(
            kind: .pairs, weight: layer.weight, bias: layer.bias, units: .neurons, pairsReport: report)
    }
}

/// Robbing the Fed's binning attack. Fowl, Geiping, Czaja, Goldblum, Goldstein, "Robbing the Fed:
/// Directly Obtaining Private Data in Federated Learning with Modified Models", ICLR 2022.
///
/// Every neuron measures the same direction m (a random unit vector); neuron k has bias `-c_k`
/// with `c_k = mu + sigma * Phi^-1(k / (N + 1))`, the quantiles of the measurement `m . x`
/// (mean and standard deviation estimated on the auxiliary data). Neuron k fires for every sample
/// with `m . x > c_k`, so the samples in bin `(c_k, c_{k+1}]` are isolated by subtracting adjacent
/// neurons' gradients (`ReconstructionUnits.adjacentDifferences`). A sample is recovered exactly
/// when it is alone in its bin.
public enum RobbingTheFed {
    public static func layer(
        neurons: Int, auxiliary: Tensor,
        generator: inout SeededGenerator
    ) throws(AttackError) -> MaliciousLayer {
        try AttackError.require(neurons >= 1, "neurons", neurons, "must be >= 1")
        guard auxiliary.rank == 2 else {
            throw .shapeMismatch(context: "RtF auxiliary data", expected: [-1, -1], got: auxiliary.shape)
        }
        let (m, d) = (auxiliary.shape[0], auxiliary.shape[1])
        guard m >= 2 else { throw .insufficientAuxiliaryData(needed: 2, available: m) }
        var direction = standardNormalTensor(shape: [1, d], generator: &generator)
        direction.scale(by: Float(1 / direction.squaredNorm().squareRoot()))
        let measured = Tensor.matmul(auxiliary, direction, transposeB: true).storage.map(Double.init)
        let mu = measured.reduce(0, +) / Double(m)
        let sigma = (measured.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(m - 1)).squareRoot()
        let weight = Tensor(shape: [neurons, d]) { w in
            direction.withUnsafeBufferPointer { src in
                for k in 0..<neurons { (w.baseAddress! + k * d).update(from: src.baseAddress!, count: d) }
            }
        }
        let bias = Tensor(shape: [neurons]) { b in
            for k in 0..<neurons {
                b[k] = Float(-(mu + sigma * Statistics.normalQuantile(Double(k + 1) / Double(neurons + 1))))
            }
        }
        return MaliciousLayer(kind: .rtf, weight: weight, bias: bias, units: .adjacentDifferences, pairsReport: nil)
    }
}

/// The honest baseline: Kaiming-normal weights N(0, 2/n) and zero biases, as `WeightInit.kaiming`.
/// Each neuron fires for about half the batch, so almost nothing is isolated.
public enum RandomInitialization {
    public static func layer(
        neurons: Int, inputSize: Int,
        generator: inout SeededGenerator
    ) throws(AttackError) -> MaliciousLayer {
        try AttackError.require(neurons >= 1, "neurons", neurons, "must be >= 1")
        try AttackError.require(inputSize >= 1, "input size", inputSize, "must be >= 1")
        var w = standardNormalTensor(shape: [neurons, inputSize], generator: &generator)
        w.scale(by: (2 / Float(inputSize)).squareRoot())
        return MaliciousLayer(
            kind: .random, weight: w, bias: Tensor(shape: [neurons]), units: .neurons, pairsReport: nil)
    }
}

/// Closed-form recall (fraction of a batch recovered exactly) under idealized independence.
public enum RecallTheory {
    /// Random directions with activation probability p per (neuron, sample): a sample is the sole
    /// activator of a given neuron with probability `q = p (1 - p)^(B - 1)`, of at least one of N
    /// neurons with `1 - (1 - q)^N`. With QBI's p = 1/B this is Nowak et al.'s
    /// `R(N, B) = 1 - (1 - (1/B)(1 - 1/B)^(B-1))^N`.
    public static func randomDirections(neurons: Int, batch: Int, activationProbability p: Double? = nil) -> Double {
        let p = p ?? 1 / Double(batch)
        let q = p * pow(1 - p, Double(batch - 1))
        return 1 - pow(1 - q, Double(neurons))
    }

    /// Binning with N equiprobable bins above the lowest edge (N + 1 cells in all): a sample is
    /// recovered if it lands in one of the N bins and none of the other B - 1 samples does too:
    /// `N/(N+1) * (1 - 1/(N+1))^(B-1)`.
    public static func binning(bins: Int, batch: Int) -> Double {
        let cells = Double(bins + 1)
        return Double(bins) / cells * pow(1 - 1 / cells, Double(batch - 1))
    }

    /// The formula matching `kind`'s design: QBI and PAIRS the random-direction formula with
    /// p = 1/B (PAIRS tunes directions on auxiliary data to beat it); RtF the binning formula; the
    /// random baseline the random-direction formula with p = 1/2 (zero bias, symmetric data).
    public static func recall(for kind: AttackKind, neurons: Int, batch: Int) -> Double {
        switch kind {
        case .qbi, .pairs: return randomDirections(neurons: neurons, batch: batch)
        case .rtf: return binning(bins: neurons, batch: batch)
        case .random: return randomDirections(neurons: neurons, batch: batch, activationProbability: 0.5)
        }
    }
}
