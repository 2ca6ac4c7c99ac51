import Algebra

/// The attack that a range check on the input defeats: every accumulator of a convolution is
/// linear in its input, so a prover who may feed arbitrary field elements can solve for an
/// "input" that the committed kernel maps to any activations it likes (32 equations in 784
/// unknowns for `circuits/split.json`). Used by the `forged-input` client adversary and the
/// soundness tests; an honest party never calls it.
public enum InputForgery {
    /// Field values x' with conv(x') = `target` after the rescale and ReLU (same remainders as
    /// the honest accumulators), or nil when the linear system has no solution.
    /// Cost: Gaussian elimination on outputs x inputs, O(outputs^2 * inputs) field operations.
    public static func solve(_ conv: QuantizedConv2d, input x: [Int64], target: [Int64]) -> [Fr]? {
        guard target.count == conv.outputCount, let accumulators = try? conv.accumulators(x) else { return nil }
        let s = Int64(conv.format.fractionBits)
        let field = conv.receptiveField
        var rows: [[Fr]] = []
        var rhs: [Fr] = []
        for o in 0..<conv.outChannels {
            for i in 0..<conv.outHeight {
                for j in 0..<conv.outWidth {
                    let p = conv.outputIndex(channel: o, row: i, column: j)
                    let acc = accumulators[p]
                    let honest = conv.relu ? max(acc >> s, 0) : acc >> s
                    var row = [Fr](repeating: .zero, count: conv.inputCount)
                    for (t, index) in conv.window(row: i, column: j).enumerated() {
                        row[index] += Fr(conv.weights[o * field + t])
                    }
                    rows.append(row)
                    // Keep the output (delta 0) or move the accumulator to target * 2^S + remainder.
                    let remainder = acc - ((acc >> s) << s)
                    rhs.append(target[p] == honest ? .zero : Fr((target[p] << s) + remainder - acc))
                }
            }
        }
        guard let delta = solveLinear(rows, rhs, columns: conv.inputCount) else { return nil }
        return zip(x, delta).map { Fr($0) + $1 }
    }

    /// Any solution of rows * v = rhs over Fr (free variables 0), or nil if inconsistent.
    static func solveLinear(_ matrix: [[Fr]], _ rhs: [Fr], columns: Int) -> [Fr]? {
        var a = matrix
        var b = rhs
        var pivotColumns: [Int] = []
        var row = 0
        for column in 0..<columns where row < a.count {
            guard let pivot = (row..<a.count).first(where: { !a[$0][column].isZero }) else { continue }
            a.swapAt(row, pivot)
            b.swapAt(row, pivot)
            guard let inverse = a[row][column].inverse() else { continue }
            for k in column..<columns { a[row][k] *= inverse }
            b[row] *= inverse
            for r in 0..<a.count where r != row && !a[r][column].isZero {
                let factor = a[r][column]
                for k in column..<columns where !a[row][k].isZero { a[r][k] -= factor * a[row][k] }
                b[r] -= factor * b[row]
            }
            pivotColumns.append(column)
            row += 1
        }
        for r in row..<a.count where !b[r].isZero { return nil }
        var solution = [Fr](repeating: .zero, count: columns)
        for (r, column) in pivotColumns.enumerated() { solution[column] = b[r] }
        return solution
    }
}
