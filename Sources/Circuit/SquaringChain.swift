import Algebra

/// The benchmark circuit shared with the reference tools: v_{i+1} = v_i^2 + i for n steps from
/// a private v_0, with the last k chain values public. Laid out exactly like the reference
/// script (`square_chain.py`): wire 0 = 1, wires 1...k = the public outputs, wire k+1 = v_0,
/// then the other chain values; constraint i is v_i * v_i = v_{i+1} - i.
public enum SquaringChain {
    /// The R1CS and a satisfying witness. Cost O(n); no ConstraintSystem bookkeeping, so it
    /// scales to the 2^20-constraint benchmark.
    public static func make(constraints n: Int, publicOutputs k: Int = 1, start x: UInt64 = 3) -> (R1CS<Fr>, [Fr]) {
        precondition(n >= 1 && k >= 1 && k <= n, "need 1 <= k <= n")
        func wire(_ i: Int) -> Int { i >= n - k ? 1 + (i - (n - k)) : k + 2 + i }
        let numWires = n + 2
        var a = SparseMatrix<Fr>(), b = SparseMatrix<Fr>(), c = SparseMatrix<Fr>()
        a.reserve(rows: n, nonZeros: n)
        b.reserve(rows: n, nonZeros: n)
        c.reserve(rows: n, nonZeros: 2 * n)
        var witness = [Fr](repeating: .zero, count: numWires)
        witness[0] = .one
        witness[k + 1] = Fr(x)
        var prevWire = k + 1
        var value = Fr(x)
        for i in 0..<n {
            let out = wire(i)
            a.appendRow([(prevWire, Fr.one)])
            b.appendRow([(prevWire, Fr.one)])
            if i == 0 {
                c.appendRow([(out, Fr.one)])
            } else {
                c.appendRow([(0, -Fr(UInt64(i))), (out, Fr.one)])
            }
            value = value.squared() + Fr(UInt64(i))
            witness[out] = value
            prevWire = out
        }
        let r1cs = R1CS(
            numWires: numWires, numPublicOutputs: k, numPublicInputs: 0, numPrivateInputs: 1,
            a: a, b: b, c: c)
        return (r1cs, witness)
    }
}
