import Algebra

extension Groth16 {
    /// Checks a proof against public inputs: e(A, B) = e(alpha, beta) e(IC(x), gamma) e(C, delta),
    /// as one multi-pairing with one final exponentiation.
    ///
    /// Input rules (anything that breaks them is an error, not a `false`): the number of
    /// public inputs must match the key, each must be canonical (< r; `Fr` guarantees it
    /// for values built in memory, `verify(...decimal:)` checks strings), and A, B, C must not
    /// be the point at infinity. Points decoded through `AffinePoint` initializers are already
    /// on the curve and in the subgroup.
    public static func verify(key: VerifyingKey, proof: Proof, publicInputs: [Fr]) throws(Groth16Error) -> Bool {
        guard publicInputs.count == key.publicInputCount else {
            throw .publicInputCount(expected: key.publicInputCount, got: publicInputs.count)
        }
        if proof.a.isInfinity { throw .identityPoint("A") }
        if proof.b.isInfinity { throw .identityPoint("B") }
        if proof.c.isInfinity { throw .identityPoint("C") }
        var acc = key.ic[0].jacobian
        for (x, point) in zip(publicInputs, key.ic.dropFirst()) { acc += point.multiplied(by: x) }
        return Pairing.pairingCheck([
            (-proof.a, proof.b),
            (key.alpha, key.beta),
            (acc.affine, key.gamma),
            (proof.c, key.delta),
        ])
    }

    /// Parses decimal public inputs (snarkjs `public.json`), rejecting values >= r.
    public static func publicInputs(decimal: [String]) throws(Groth16Error) -> [Fr] {
        var out: [Fr] = []
        for (i, text) in decimal.enumerated() {
            guard let value = try? Fr(decimal: text) else { throw .publicInputNotCanonical(index: i, value: text) }
            out.append(value)
        }
        return out
    }
}
