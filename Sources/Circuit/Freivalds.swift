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
    /// against m n k for computing A B directly (`freivaldsCost`). `rhoPowers` are rho^0... (at
    /// least m of them).
    public func freivalds(
        _ a: LCMatrix<F>, _ b: LCMatrix<F>, equals c: LCMatrix<F>, challenge: Variable,
        rhoPowers: [LinearCombination<F>], _ name: String = "freivalds"
    ) {
        let m = a.rows, n = a.columns, k = b.columns
        precondition(
            b.rows == n && c.rows == m && c.columns == k, "shapes \(m)x\(n) * \(b.rows)x\(k) != \(c.rows)x\(c.columns)")
        precondition(rhoPowers.count >= m, "need \(m) powers of the challenge")
        withNamespace(name) {
            let sigma = freivaldsSigma(rhoPowers, rows: m, challenge: challenge)
            var v: [LinearCombination<F>] = [.one]
            while v.count < k { v.append(LinearCombination(multiply(v[v.count - 1], sigma, "v\(v.count)"))) }
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

    /// Constraints of `freivalds` for an m x n by n x k product (all entries non-constant).
    public static func freivaldsCost(m: Int, n: Int, k: Int) -> Int { n * k + m * n + m * k + 4 * m + n + k }

    /// Checks C = A B where B is gathered from short vectors, as the im2col matrix of a
    /// convolution is: B's k = blocks * positions columns come in blocks (one per sample), and
    /// B[l][s * positions + p] = x_s[gather[l][p]]. The same check as `freivalds`, evaluated in
    /// another order: with w = u^T A and v_(s, p) = tau^s beta_p (tau = sigma^positions,
    /// beta_p = sigma^p, so v_j = sigma^j exactly as there),
    /// u^T A B v = sum_s tau^s sum_e x_s[e] c_e, c_e = sum over (l, p) gathering e of w_l beta_p.
    /// The c_e are shared by every block, so each block costs one product per entry of its
    /// vector, not one per entry of its B columns (a 5x5 stride-2 window reads each pixel about
    /// six times).
    ///
    /// Soundness: as `freivalds`, the two sides differ by sum_{i,j} (AB - C)_ij rho^(i + m j),
    /// nonzero of degree below m k when C != AB, so it vanishes at the random rho with
    /// probability below m k / |F|. Cost (`gatheredFreivaldsCost`): m n + n + n positions + e +
    /// blocks (e + 3) + m k + 2 m blocks + 3 m + positions, with e the vectors' length.
    public func freivaldsGathered(
        _ a: LCMatrix<F>, blocks x: [[LinearCombination<F>]], gather: [[Int]], equals c: LCMatrix<F>,
        challenge: Variable, rhoPowers: [LinearCombination<F>], _ name: String = "freivalds"
    ) {
        let m = a.rows, n = a.columns, blocks = x.count
        let positions = gather.first?.count ?? 0, length = x.first?.count ?? 0
        precondition(gather.count == n && gather.allSatisfy { $0.count == positions }, "gather is not \(n) x positions")
        precondition(x.allSatisfy { $0.count == length }, "blocks of different lengths")
        precondition(
            gather.allSatisfy { $0.allSatisfy { (0..<length).contains($0) } }, "a gather index is out of range")
        precondition(c.rows == m && c.columns == blocks * positions, "C is not \(m) x \(blocks * positions)")
        precondition(rhoPowers.count >= m, "need \(m) powers of the challenge")
        withNamespace(name) {
            let sigma = freivaldsSigma(rhoPowers, rows: m, challenge: challenge)
            var beta: [LinearCombination<F>] = [.one]
            while beta.count < positions { beta.append(times(beta[beta.count - 1], sigma, "beta\(beta.count)")) }
            let tau = positions == 0 ? LinearCombination<F>.one : times(beta[positions - 1], sigma, "tau")
            var alpha: [LinearCombination<F>] = [.one]
            while alpha.count < blocks { alpha.append(times(alpha[alpha.count - 1], tau, "alpha\(alpha.count)")) }
            // w = u^T A.
            var w: [LinearCombination<F>] = []
            w.reserveCapacity(n)
            for l in 0..<n {
                var sum = LinearCombination<F>()
                for i in 0..<m { sum += times(rhoPowers[i], a[i, l], "w\(l).\(i)") }
                w.append(wire(sum, "w\(l)"))
            }
            // c_e: what each vector entry is weighted by, shared by every block.
            var weights = [LinearCombination<F>](repeating: LinearCombination(), count: length)
            for l in 0..<n {
                for p in 0..<positions { weights[gather[l][p]] += times(w[l], beta[p], "c\(l).\(p)") }
            }
            weights = weights.enumerated().map { e, lc in wire(lc, "c\(e)") }
            var left = LinearCombination<F>()
            for s in 0..<blocks {
                var sum = LinearCombination<F>()
                for e in 0..<length { sum += times(x[s][e], weights[e], "xc\(s).\(e)") }
                left += times(alpha[s], wire(sum, "xc\(s)"), "left\(s)")
            }
            var right = LinearCombination<F>()
            for i in 0..<m {
                var row = LinearCombination<F>()
                for s in 0..<blocks {
                    var sum = LinearCombination<F>()
                    for p in 0..<positions { sum += times(c[i, s * positions + p], beta[p], "cv\(i).\(s).\(p)") }
                    row += times(alpha[s], wire(sum, "cv\(i).\(s)"), "cvs\(i).\(s)")
                }
                right += times(rhoPowers[i], wire(row, "cv\(i)"), "right\(i)")
            }
            enforceEqual(left, right, "check")
        }
    }

    /// Constraints of `freivaldsGathered` (all entries non-constant; a bound when some are).
    public static func gatheredFreivaldsCost(m: Int, n: Int, positions: Int, blocks: Int, length: Int) -> Int {
        m * n + n + n * positions + length + blocks * (length + 3) + m * blocks * positions + 2 * m * blocks + 3 * m
            + positions
    }

    /// sigma = rho^m, the base of the column weights (v_j = sigma^j), so that u_i v_j = rho^(i + m j)
    /// gives every entry of an m-row product its own power of rho.
    func freivaldsSigma(_ rhoPowers: [LinearCombination<F>], rows m: Int, challenge: Variable) -> LinearCombination<F> {
        m == 0 ? .one : LinearCombination(multiply(rhoPowers[m - 1], LinearCombination(challenge), "sigma"))
    }

    /// x y as a combination: free when either is a constant, else one constraint.
    func times(_ x: LinearCombination<F>, _ y: LinearCombination<F>, _ label: String) -> LinearCombination<F> {
        if let cx = x.constantValue { return y * cx }
        if let cy = y.constantValue { return x * cy }
        return LinearCombination(multiply(x, y, label))
    }

    /// A sum used as a factor again becomes one wire (one linear constraint), so that no
    /// constraint carries a long combination more than once (the prover's cost follows the
    /// nonzero terms).
    func wire(_ lc: LinearCombination<F>, _ label: String) -> LinearCombination<F> {
        if lc.terms.count <= 1 { return lc }
        let w = allocatePrivate(label, value: value(lc))
        enforceEqual(LinearCombination(w), lc, label)
        return LinearCombination(w)
    }
}
