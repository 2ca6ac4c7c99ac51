import Algebra

/// A dense matrix of linear combinations, row-major (the operands of a Freivalds check).
public struct LCMatrix<F: PrimeField> {
    public let rows: Int
    public let columns: Int
    public var entries: [LinearCombination<F>]

    public init(rows: Int, columns: Int, entries: [LinearCombination<F>]) {
        precondition(entries.count == rows * columns, "\(entries.count) entries for a \(rows)x\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.entries = entries
    }

    public subscript(i: Int, j: Int) -> LinearCombination<F> { entries[i * columns + j] }
}

extension LinearCombination {
    /// The constant value when the combination has no variable term.
    var constantValue: F? {
        var c = F.zero
        for (v, k) in terms {
            guard v == .one else { return nil }
            c += k
        }
        return c
    }
}

extension ConstraintSystem {
    /// Checks C = A B (A m x n, B n x k, C m x k, all fixed before the challenge: committed
    /// wires, public inputs or wires they determine) with Freivalds' algorithm on the challenge:
    /// u_i = rho^i, v_j = sigma^j with sigma = rho^m, and u^T (A (B v)) = u^T (C v).
    ///
    /// Soundness: the difference of the two sides is sum_{i,j} (AB - C)_ij rho^(i + m j), a
    /// polynomial in rho of degree below m k whose coefficients are the entries of AB - C; if
    /// C != AB it is nonzero and vanishes at the random rho with probability below m k / |F|.
    /// Cost: n k + m n + m k + 4 m + n + k constraints (a product with a constant entry is free),
    /// against m n k for computing A B directly. `rhoPowers` are rho^0... (at least m of them).
    public func freivalds(
        _ a: LCMatrix<F>, _ b: LCMatrix<F>, equals c: LCMatrix<F>, challenge: Variable,
        rhoPowers: [LinearCombination<F>], _ name: String = "freivalds"
    ) {
        let m = a.rows, n = a.columns, k = b.columns
        precondition(
            b.rows == n && c.rows == m && c.columns == k, "shapes \(m)x\(n) * \(b.rows)x\(k) != \(c.rows)x\(c.columns)")
        precondition(rhoPowers.count >= m, "need \(m) powers of the challenge")
        withNamespace(name) {
            // sigma = rho^m and its powers.
            let sigma =
                m == 0
                ? LinearCombination<F>.one
                : LinearCombination(multiply(rhoPowers[m - 1], LinearCombination(challenge), "sigma"))
            var v: [LinearCombination<F>] = [.one]
            while v.count < k { v.append(LinearCombination(multiply(v[v.count - 1], sigma, "v\(v.count)"))) }
            func times(_ x: LinearCombination<F>, _ y: LinearCombination<F>, _ label: String) -> LinearCombination<F> {
                if let cx = x.constantValue { return y * cx }
                if let cy = y.constantValue { return x * cy }
                return LinearCombination(multiply(x, y, label))
            }
            // A sum used as a factor again becomes one wire (one linear constraint), so that no
            // constraint carries a long combination more than once (the prover's cost follows
            // the nonzero terms).
            func wire(_ lc: LinearCombination<F>, _ label: String) -> LinearCombination<F> {
                if lc.terms.count <= 1 { return lc }
                let w = allocatePrivate(label, value: value(lc))
                enforceEqual(LinearCombination(w), lc, label)
                return LinearCombination(w)
            }
            var bv: [LinearCombination<F>] = []
            bv.reserveCapacity(n)
            for l in 0..<n {
                var sum = LinearCombination<F>()
                for j in 0..<k { sum += times(b[l, j], v[j], "bv\(l).\(j)") }
                bv.append(wire(sum, "bv\(l)"))
            }
            var left = LinearCombination<F>()
            var right = LinearCombination<F>()
            for i in 0..<m {
                var abv = LinearCombination<F>()
                for l in 0..<n { abv += times(a[i, l], bv[l], "abv\(i).\(l)") }
                var cv = LinearCombination<F>()
                for j in 0..<k { cv += times(c[i, j], v[j], "cv\(i).\(j)") }
                left += times(rhoPowers[i], wire(abv, "abv\(i)"), "left\(i)")
                right += times(rhoPowers[i], wire(cv, "cv\(i)"), "right\(i)")
            }
            enforceEqual(left, right, "check")
        }
    }
}
