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
        freivaldsColumns(a, b, equals: c, packing: [.one], challenge: challenge, rhoPowers: rhoPowers, name)
    }

    /// Checks C = A B as `freivalds` does, with C's columns packed g at a time under constant
    /// weights: v_j = 2^(b (j mod g)) sigma^(j div g), b = errorBits + 1, so that B v and C v
    /// take one product per group of g entries (a free linear combination times a power of
    /// sigma) instead of one per entry. Each side's packed group is then one field element, and
    /// the caller's range checks are what make that packing exact.
    ///
    /// Soundness: the two sides differ by sum_{i, group} rho^(i + m group) P_(i, group) with
    /// P = sum_(t < g) 2^(b t) E_t over the group's error entries E = (AB - C)_ij. Precondition
    /// (the caller's range checks): every |E| < 2^errorBits as an integer. Then |P| < 2^(b g)
    /// <= 2^(modulusBits - 2) <= r / 2, so P = 0 mod r only when P = 0 over the integers, and then
    /// every E_t = 0 (base-2^b digits of magnitude below 2^(b - 1) are unique). So if C != AB some
    /// P is nonzero and the check passes with probability below m ceil(k / g) / |F|. Without the
    /// bound it is unsound: E_t = 2^b, E_(t+1) = -1 cancel in P for every challenge (tested).
    /// Cost (`packedFreivaldsCost`): about n ceil(k / g) + m n + m ceil(k / g) + 4 m + n.
    public func freivaldsPacked(
        _ a: LCMatrix<F>, _ b: LCMatrix<F>, equals c: LCMatrix<F>, errorBits: Int, challenge: Variable,
        rhoPowers: [LinearCombination<F>], _ name: String = "freivalds"
    ) {
        let perGroup = Self.packedColumns(errorBits: errorBits, modulusBits: modulusBits)
        precondition(perGroup >= 1, "an error bound of \(errorBits) bits leaves no room to pack in Fr")
        var base = F.one
        for _ in 0...errorBits { base = base.doubled() }
        var weights: [F] = [.one]
        while weights.count < perGroup { weights.append(weights[weights.count - 1] * base) }
        freivaldsColumns(a, b, equals: c, packing: weights, challenge: challenge, rhoPowers: rhoPowers, name)
    }

    /// The check of `freivalds` (one column per group, weight 1) and `freivaldsPacked` (g columns
    /// per group under `packing`, the weights 2^(b t)): v_j = packing[j mod g] sigma^(j div g).
    private func freivaldsColumns(
        _ a: LCMatrix<F>, _ b: LCMatrix<F>, equals c: LCMatrix<F>, packing: [F], challenge: Variable,
        rhoPowers: [LinearCombination<F>], _ name: String
    ) {
        let m = a.rows, n = a.columns, k = b.columns, perGroup = packing.count
        precondition(
            b.rows == n && c.rows == m && c.columns == k, "shapes \(m)x\(n) * \(b.rows)x\(k) != \(c.rows)x\(c.columns)")
        precondition(rhoPowers.count >= m, "need \(m) powers of the challenge")
        let groups = (k + perGroup - 1) / perGroup
        withNamespace(name) {
            let sigma = freivaldsSigma(rhoPowers, rows: m, challenge: challenge)
            var v: [LinearCombination<F>] = [.one]
            while v.count < groups { v.append(LinearCombination(multiply(v[v.count - 1], sigma, "v\(v.count)"))) }
            /// Row `row` of a matrix with k columns, group `group` packed: a free combination.
            func packed(_ matrix: LCMatrix<F>, row: Int, group: Int) -> LinearCombination<F> {
                if perGroup == 1 { return matrix[row, group] }
                var sum = LinearCombination<F>()
                for t in 0..<perGroup {
                    let j = group * perGroup + t
                    guard j < k else { break }
                    sum += matrix[row, j] * packing[t]
                }
                return sum
            }
            var bv: [LinearCombination<F>] = []
            bv.reserveCapacity(n)
            for l in 0..<n {
                var sum = LinearCombination<F>()
                for group in 0..<groups { sum += times(packed(b, row: l, group: group), v[group], "bv\(l).\(group)") }
                bv.append(wire(sum, "bv\(l)"))
            }
            var left = LinearCombination<F>()
            var right = LinearCombination<F>()
            for i in 0..<m {
                var abv = LinearCombination<F>()
                for l in 0..<n { abv += times(a[i, l], bv[l], "abv\(i).\(l)") }
                var cv = LinearCombination<F>()
                for group in 0..<groups { cv += times(packed(c, row: i, group: group), v[group], "cv\(i).\(group)") }
                left += times(rhoPowers[i], wire(abv, "abv\(i)"), "left\(i)")
                right += times(rhoPowers[i], wire(cv, "cv\(i)"), "right\(i)")
            }
            enforceEqual(left, right, "check")
        }
    }

    /// Columns per packed group for errors below 2^errorBits: the largest g with
    /// g (errorBits + 1) <= modulusBits - 2 (0: no packing is sound).
    public static func packedColumns(errorBits: Int, modulusBits: Int) -> Int {
        errorBits < 1 ? 0 : (modulusBits - 2) / (errorBits + 1)
    }

    /// A bound on |(AB - C)_ij| for |A| <= maxA, |B| <= maxB, |C| <= maxC entrywise and an inner
    /// dimension n: |AB - C| <= n maxA maxB + maxC < 2^(bits(n) + bits(maxA) + bits(maxB)) +
    /// 2^bits(maxC) <= 2^(result). Pass the bounds the circuit's range checks enforce.
    public static func freivaldsErrorBits(maxA: UInt64, maxB: UInt64, inner n: Int, maxC: UInt64) -> Int {
        func bits(_ x: UInt64) -> Int { UInt64.bitWidth - x.leadingZeroBitCount }
        return max(bits(UInt64(max(n, 1))) + bits(maxA) + bits(maxB), bits(maxC)) + 1
    }

    /// Constraints of `freivaldsPacked` (all entries non-constant; a bound when some are).
    public static func packedFreivaldsCost(m: Int, n: Int, k: Int, errorBits: Int, modulusBits: Int) -> Int {
        let g = max(1, packedColumns(errorBits: errorBits, modulusBits: modulusBits))
        let groups = (k + g - 1) / g
        return n * groups + m * n + m * groups + 4 * m + n + groups
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
    /// With `errorBits` the blocks are also packed g at a time, as `freivaldsPacked` packs
    /// columns: v_(s, p) = 2^(b (s mod g)) tau^(s div g) beta_p with b = errorBits + 1, so a
    /// group of g blocks costs one product per vector entry (their values packed, a free
    /// combination) and C one per g entries. Precondition as there: |(AB - C)_ij| < 2^errorBits
    /// for every entry, which the caller's range checks enforce.
    ///
    /// Soundness: as `freivalds`, the two sides differ by a polynomial in rho whose coefficients
    /// are the entries of AB - C (packed: their exact base-2^b combinations, zero only when every
    /// entry is, see `freivaldsPacked`), nonzero of degree below m k when C != AB, so it vanishes
    /// at the random rho with probability below m k / |F|. Cost (`gatheredFreivaldsCost`): m n +
    /// n + n positions + e + groups (e + 3) + m k / g + 2 m groups + 3 m + positions, with e the
    /// vectors' length and groups = ceil(blocks / g) (g = 1 unpacked).
    public func freivaldsGathered(
        _ a: LCMatrix<F>, blocks x: [[LinearCombination<F>]], gather: [[Int]], equals c: LCMatrix<F>,
        errorBits: Int? = nil, challenge: Variable, rhoPowers: [LinearCombination<F>], _ name: String = "freivalds"
    ) {
        let m = a.rows, n = a.columns, blocks = x.count
        let positions = gather.first?.count ?? 0, length = x.first?.count ?? 0
        precondition(gather.count == n && gather.allSatisfy { $0.count == positions }, "gather is not \(n) x positions")
        precondition(x.allSatisfy { $0.count == length }, "blocks of different lengths")
        precondition(
            gather.allSatisfy { $0.allSatisfy { (0..<length).contains($0) } }, "a gather index is out of range")
        precondition(c.rows == m && c.columns == blocks * positions, "C is not \(m) x \(blocks * positions)")
        precondition(rhoPowers.count >= m, "need \(m) powers of the challenge")
        let perGroup = errorBits.map { Self.packedColumns(errorBits: $0, modulusBits: modulusBits) } ?? 1
        precondition(perGroup >= 1, "an error bound of \(errorBits ?? 0) bits leaves no room to pack in Fr")
        let groups = (blocks + perGroup - 1) / perGroup
        var packing: [F] = [.one]
        if let errorBits {
            var base = F.one
            for _ in 0...errorBits { base = base.doubled() }
            while packing.count < perGroup { packing.append(packing[packing.count - 1] * base) }
        }
        withNamespace(name) {
            let sigma = freivaldsSigma(rhoPowers, rows: m, challenge: challenge)
            var beta: [LinearCombination<F>] = [.one]
            while beta.count < positions { beta.append(times(beta[beta.count - 1], sigma, "beta\(beta.count)")) }
            let tau = positions == 0 ? LinearCombination<F>.one : times(beta[positions - 1], sigma, "tau")
            var alpha: [LinearCombination<F>] = [.one]
            while alpha.count < groups { alpha.append(times(alpha[alpha.count - 1], tau, "alpha\(alpha.count)")) }
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
            /// The blocks of group `group`, weighted by the packing: sum_t 2^(b t) f(block g group + t).
            func packed(_ group: Int, _ entry: (Int) -> LinearCombination<F>) -> LinearCombination<F> {
                var sum = LinearCombination<F>()
                for t in 0..<perGroup {
                    let s = group * perGroup + t
                    guard s < blocks else { break }
                    sum += entry(s) * packing[t]
                }
                return sum
            }
            var left = LinearCombination<F>()
            for group in 0..<groups {
                var sum = LinearCombination<F>()
                for e in 0..<length { sum += times(packed(group) { x[$0][e] }, weights[e], "xc\(group).\(e)") }
                left += times(alpha[group], wire(sum, "xc\(group)"), "left\(group)")
            }
            var right = LinearCombination<F>()
            for i in 0..<m {
                var row = LinearCombination<F>()
                for group in 0..<groups {
                    var sum = LinearCombination<F>()
                    for p in 0..<positions {
                        sum += times(packed(group) { c[i, $0 * positions + p] }, beta[p], "cv\(i).\(group).\(p)")
                    }
                    row += times(alpha[group], wire(sum, "cv\(i).\(group)"), "cvs\(i).\(group)")
                }
                right += times(rhoPowers[i], wire(row, "cv\(i)"), "right\(i)")
            }
            enforceEqual(left, right, "check")
        }
    }

    /// Constraints of `freivaldsGathered` with blocks packed `perGroup` at a time (all entries
    /// non-constant; a bound when some are).
    public static func gatheredFreivaldsCost(
        m: Int, n: Int, positions: Int, blocks: Int, length: Int, perGroup: Int = 1
    ) -> Int {
        let groups = (blocks + max(perGroup, 1) - 1) / max(perGroup, 1)
        return m * n + n + n * positions + length + groups * (length + 3) + m * groups * positions + 2 * m * groups
            + 3 * m + positions
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
