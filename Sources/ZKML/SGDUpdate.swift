import Algebra
import Circuit

extension QuantizedDense {
    /// The SGD step with learning rate 2^-k, exactly as `ConstraintSystem.sgdUpdate` constrains it:
    /// W'_ij = W_ij - floor(g_i a_j / 2^(S+k)), b'_i = b_i - floor(g_i / 2^k), where g is dL/dz at
    /// scale 2^S and a the layer's input. Throws if an updated value leaves the B-bit range.
    public func sgdUpdated(
        outputGradient g: [Int64], inputs a: [Int64], learningRateShift k: Int
    ) throws(FixedPointError) -> QuantizedDense {
        precondition(g.count == outputs && a.count == inputs, "gradient or input shape mismatch")
        let shift = Int64(format.fractionBits + k)
        var w = weights
        for i in 0..<outputs {
            for j in 0..<inputs { w[i * inputs + j] -= (g[i] * a[j]) >> shift }
        }
        let b = bias.enumerated().map { i, bi in bi - (g[i] >> Int64(k)) }
        return try QuantizedDense(inputs: inputs, outputs: outputs, weights: w, bias: b, relu: relu, format: format)
    }
}

extension ConstraintSystem where F == Fr {
    /// The updated parameters (row-major W' then b') as linear combinations, for
    /// W' = W - rescale_{S+k}(g a^T) and b' = b - rescale_k(g). Cost: outputs * inputs products and
    /// rescales of S + k + B + 2 constraints, plus outputs rescales of k + B + 2 (none when k = 0).
    public func sgdUpdate(
        weights w: [[Variable]], bias b: [Variable], outputGradient g: [LinearCombination<Fr>],
        inputs a: [LinearCombination<Fr>], format: FixedPointFormat, learningRateShift k: Int,
        _ name: String = "sgd"
    ) -> [LinearCombination<Fr>] {
        withNamespace(name) {
            var updated: [LinearCombination<Fr>] = []
            for i in 0..<w.count {
                for j in 0..<a.count {
                    let product = multiply(g[i], a[j], "ga\(i).\(j)")
                    let delta = rescale(
                        LinearCombination(product), shift: format.fractionBits + k, format: format, "dW\(i).\(j)"
                    ).q
                    updated.append(LinearCombination(w[i][j]) - LinearCombination(delta))
                }
            }
            for i in 0..<b.count {
                if k == 0 {
                    updated.append(LinearCombination(b[i]) - g[i])
                } else {
                    let delta = rescale(g[i], shift: k, format: format, "db\(i)").q
                    updated.append(LinearCombination(b[i]) - LinearCombination(delta))
                }
            }
            return updated
        }
    }
}
