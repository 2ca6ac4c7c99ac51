import NeuralNet

/// Reconstructions read off one layer's gradient: row r of `reconstructions` came from unit
/// `units[r]` (a neuron, or a bin for RtF).
public struct Inversion: Sendable {
    /// `[R, inputSize]`.
    public let reconstructions: Tensor
    public let units: [Int]

    public init(reconstructions: Tensor, units: [Int]) {
        precondition(
            reconstructions.rank == 2 && reconstructions.shape[0] == units.count, "one unit per reconstruction")
        self.reconstructions = reconstructions
        self.units = units
    }

    public var count: Int { units.count }
}

/// The inversion step of every attack here: for a fully connected layer followed by ReLU,
/// `dL/dW_i = sum_n g_{n,i} x_n` and `dL/db_i = sum_n g_{n,i}` with `g_{n,i} = 0` unless neuron i
/// fires for sample n. A neuron that fires for one sample alone gives `x = dL/dW_i / dL/db_i`
/// (Phong et al. 2017; the basis of Fowl et al. 2022 and Nowak et al. 2024).
public enum GradientInversion {
    /// One reconstruction per unit whose bias gradient (difference, for RtF) is nonzero: the server
    /// cannot tell isolated neurons from mixtures, so it divides every nonzero row. O(N * n).
    public static func invert(
        weightGradient: Tensor, biasGradient: Tensor,
        units kind: ReconstructionUnits
    ) throws(AttackError) -> Inversion {
        guard weightGradient.rank == 2 else {
            throw .shapeMismatch(context: "weight gradient", expected: [-1, -1], got: weightGradient.shape)
        }
        let (n, d) = (weightGradient.shape[0], weightGradient.shape[1])
        guard biasGradient.shape == [n] else {
            throw .shapeMismatch(context: "bias gradient", expected: [n], got: biasGradient.shape)
        }
        var units = [Int]()
        var rows = [Float]()
        rows.reserveCapacity(n * d)
        weightGradient.withUnsafeBufferPointer { w in
            biasGradient.withUnsafeBufferPointer { b in
                for i in 0..<n {
                    let next = kind == .adjacentDifferences && i + 1 < n
                    let db = next ? b[i] - b[i + 1] : b[i]
                    guard db != 0, db.isFinite else { continue }
                    units.append(i)
                    let inv = 1 / db
                    if next {
                        for j in 0..<d { rows.append((w[i * d + j] - w[(i + 1) * d + j]) * inv) }
                    } else {
                        for j in 0..<d { rows.append(w[i * d + j] * inv) }
                    }
                }
            }
        }
        let t = Tensor(shape: [units.count, d]) { out in
            for i in 0..<out.count { out[i] = rows[i] }
        }
        return Inversion(reconstructions: t, units: units)
    }
}

/// Nowak et al.'s activation metrics for one batch: A, P and R.
public struct ActivationMetrics: Sendable, Codable, Equatable {
    /// Fraction of units active for at least one sample.
    public var active: Double
    /// Fraction of units active for exactly one sample.
    public var precision: Double
    /// Fraction of the batch's samples that are the only activator of some unit (recoverable
    /// exactly from an undefended gradient).
    public var recall: Double
    /// Per sample: whether it is some unit's only activator.
    public var isolated: [Bool]

    /// Counts from the layer's pre-activations `z = x W^T + b` (`[B, N]`). A unit is a neuron, or
    /// for RtF bin k: samples with `z_k > 0` and `z_{k+1} <= 0`. O(B * N), no allocation per sample.
    public static func measure(preActivations z: Tensor, units: ReconstructionUnits) -> ActivationMetrics {
        precondition(z.rank == 2, "pre-activations must be [batch, neurons]")
        let (batch, n) = (z.shape[0], z.shape[1])
        var counts = [Int](repeating: 0, count: n)
        var last = [Int](repeating: -1, count: n)
        z.withUnsafeBufferPointer { p in
            for s in 0..<batch {
                let row = s * n
                for i in 0..<n where p[row + i] > 0 {
                    if units == .adjacentDifferences && i + 1 < n && p[row + i + 1] > 0 { continue }
                    counts[i] += 1
                    last[i] = s
                }
            }
        }
        var isolated = [Bool](repeating: false, count: batch)
        var active = 0, single = 0
        for i in 0..<n where counts[i] > 0 {
            active += 1
            if counts[i] == 1 {
                single += 1
                isolated[last[i]] = true
            }
        }
        let recovered = isolated.lazy.filter { $0 }.count
        return ActivationMetrics(
            active: Double(active) / Double(max(n, 1)), precision: Double(single) / Double(max(n, 1)),
            recall: Double(recovered) / Double(max(batch, 1)), isolated: isolated)
    }
}
