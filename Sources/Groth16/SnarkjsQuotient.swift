import Algebra

/// The quotient in the form a snarkjs `.zkey` expects. snarkjs stores its H query as
/// L_{2i+1}(tau) / delta, the Lagrange basis of the 2n-point domain at its odd points (the coset
/// w_2n * H). There, A*B - C already equals h * Z, so the prover needs only A*B - C evaluated on
/// that coset: 3 inverse FFTs and 3 coset FFTs, no division by Z.
enum SnarkjsQuotient {
    static func evaluations(a: [Fr], b: [Fr], c: [Fr], domain: EvaluationDomain) throws -> [Fr] {
        let oddCoset = try EvaluationDomain(size: domain.size, cosetShift: try rootOfUnity(order: 2 * domain.size))
        var a = a, b = b, c = c
        try domain.ifft(&a)
        try oddCoset.cosetFFT(&a)
        try domain.ifft(&b)
        try oddCoset.cosetFFT(&b)
        try domain.ifft(&c)
        try oddCoset.cosetFFT(&c)
        for i in 0..<a.count { a[i] = a[i] * b[i] - c[i] }
        return a
    }

    /// A primitive root of unity of order 2^k (k <= 28).
    static func rootOfUnity(order: Int) throws -> Fr {
        var w = Fr.twoAdicRootOfUnity
        var o = 1 << Fr.twoAdicity
        guard order > 0, order.nonzeroBitCount == 1, order <= o else {
            throw EvaluationDomainError.sizeTooLarge(requested: order, maximum: o)
        }
        while o > order {
            w = w.squared()
            o >>= 1
        }
        return w
    }
}
