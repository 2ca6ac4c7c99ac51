/// A univariate polynomial over Fr in coefficient form, lowest degree first, with trailing
/// zero coefficients trimmed (so equal polynomials compare equal and the zero polynomial has no
/// coefficients).
public struct DensePolynomial: Equatable, Sendable, CustomStringConvertible {
    public private(set) var coefficients: [Fr]

    public init(coefficients: [Fr]) {
        self.coefficients = coefficients
        trim()
    }

    public static var zero: DensePolynomial { DensePolynomial(coefficients: []) }
    public var isZero: Bool { coefficients.isEmpty }
    /// The degree, or -1 for the zero polynomial.
    public var degree: Int { coefficients.count - 1 }

    /// The polynomial whose evaluations on `domain` (natural order) are `evaluations`:
    /// one inverse FFT, O(n log n). `evaluations.count` must equal the domain size.
    public init(interpolating evaluations: [Fr], over domain: EvaluationDomain) throws(EvaluationDomainError) {
        self.init(coefficients: try domain.ifft(evaluations))
    }

    /// p(x) by Horner's rule, O(deg).
    public func evaluate(at x: Fr) -> Fr {
        var acc = Fr.zero
        for c in coefficients.reversed() { acc = acc * x + c }
        return acc
    }

    /// Evaluations on all of `domain` (natural order): one FFT, O(n log n). The degree must be
    /// below the domain size.
    public func evaluations(over domain: EvaluationDomain) throws(EvaluationDomainError) -> [Fr] {
        try domain.fft(coefficients)
    }

    public static func + (a: DensePolynomial, b: DensePolynomial) -> DensePolynomial {
        var out = a.coefficients.count >= b.coefficients.count ? a.coefficients : b.coefficients
        let other = a.coefficients.count >= b.coefficients.count ? b.coefficients : a.coefficients
        for i in other.indices { out[i] = out[i] + other[i] }
        return DensePolynomial(coefficients: out)
    }

    public static prefix func - (a: DensePolynomial) -> DensePolynomial {
        DensePolynomial(coefficients: a.coefficients.map { -$0 })
    }

    public static func - (a: DensePolynomial, b: DensePolynomial) -> DensePolynomial { a + (-b) }

    /// The product: schoolbook when either factor is short (fewer than 64 coefficients),
    /// otherwise by FFT over the smallest domain holding deg(a) + deg(b) + 1 points.
    public static func * (a: DensePolynomial, b: DensePolynomial) -> DensePolynomial {
        if min(a.coefficients.count, b.coefficients.count) < 64 { return a.multipliedSchoolbook(by: b) }
        return a.multipliedByFFT(by: b)
    }

    /// Schoolbook product, O(deg(a) deg(b)).
    public func multipliedSchoolbook(by other: DensePolynomial) -> DensePolynomial {
        if isZero || other.isZero { return .zero }
        var out = [Fr](repeating: .zero, count: coefficients.count + other.coefficients.count - 1)
        for (i, x) in coefficients.enumerated() {
            for (j, y) in other.coefficients.enumerated() { out[i + j] = out[i + j] + x * y }
        }
        return DensePolynomial(coefficients: out)
    }

    /// FFT product: two forward FFTs, n pointwise multiplications, one inverse FFT over a
    /// domain of size n >= deg(a) + deg(b) + 1: O(n log n). Traps if the product has more than
    /// 2^28 coefficients (beyond Fr's two-adic subgroup).
    public func multipliedByFFT(by other: DensePolynomial) -> DensePolynomial {
        if isZero || other.isZero { return .zero }
        let count = coefficients.count + other.coefficients.count - 1
        let domain: EvaluationDomain
        do {
            domain = try EvaluationDomain(minimumSize: count)
        } catch {
            preconditionFailure("polynomial product with \(count) coefficients: \(error)")
        }
        var x = coefficients, y = other.coefficients
        try! domain.fft(&x)  // counts <= domain size by construction
        try! domain.fft(&y)
        for i in 0..<domain.size { x[i] = x[i] * y[i] }
        try! domain.ifft(&x)
        return DensePolynomial(coefficients: x)
    }

    /// Division by the vanishing polynomial Z(x) = x^n - 1 of `domain`: returns (q, r) with
    /// p = q Z + r and deg r < n. O(deg p).
    public func divided(
        byVanishingPolynomialOf domain: EvaluationDomain
    ) -> (quotient: DensePolynomial, remainder: DensePolynomial) {
        let n = domain.size
        guard coefficients.count > n else { return (.zero, self) }
        var r = coefficients
        var q = [Fr](repeating: .zero, count: coefficients.count - n)
        // x^i = x^(i-n) (x^n - 1) + x^(i-n): move each top coefficient down by n
        for i in stride(from: r.count - 1, through: n, by: -1) {
            let c = r[i]
            q[i - n] = q[i - n] + c
            r[i - n] = r[i - n] + c
            r[i] = .zero
        }
        return (DensePolynomial(coefficients: q), DensePolynomial(coefficients: r))
    }

    public var description: String {
        if isZero { return "0" }
        return coefficients.enumerated().reversed().compactMap { i, c in
            c.isZero ? nil : (i == 0 ? "\(c)" : "\(c)*x^\(i)")
        }.joined(separator: " + ")
    }

    private mutating func trim() {
        while let last = coefficients.last, last.isZero { coefficients.removeLast() }
    }
}
