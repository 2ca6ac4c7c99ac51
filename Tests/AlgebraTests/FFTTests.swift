import Algebra
import Foundation
import XCTest

/// FFT, inverse FFT, coset FFT, Lagrange basis and the Groth16 quotient over BN254's Fr,
/// checked against naive O(n^2) / Horner evaluation.
final class FFTTests: XCTestCase {

    // MARK: Oracles

    private func randomVector(_ n: Int) -> [Fr] { (0..<n).map { _ in Fr.random() } }

    /// p(x) by Horner's rule (independent of the library's polynomial type).
    private func horner(_ coefficients: [Fr], _ x: Fr) -> Fr {
        var acc = Fr.zero
        for c in coefficients.reversed() { acc = acc * x + c }
        return acc
    }

    /// Naive O(n^2) DFT: [p(shift * root^i) for i < n].
    private func naiveEvaluate(_ coefficients: [Fr], root: Fr, shift: Fr = .one, count n: Int) -> [Fr] {
        var out: [Fr] = []
        var x = shift
        for _ in 0..<n {
            out.append(horner(coefficients, x))
            x = x * root
        }
        return out
    }

    /// x^e by repeated squaring of an exponent that is a power of two.
    private func pow2(_ x: Fr, log e: Int) -> Fr {
        var y = x
        for _ in 0..<e { y = y.squared() }
        return y
    }

    private func schoolbook(_ a: [Fr], _ b: [Fr]) -> [Fr] {
        var out = [Fr](repeating: .zero, count: a.count + b.count - 1)
        for i in a.indices { for j in b.indices { out[i + j] = out[i + j] + a[i] * b[j] } }
        return out
    }

    // MARK: Root of unity and domain constants

    func testTwoAdicRootOfUnityHasExactOrder2To28() {
        let w = Fr.twoAdicRootOfUnity
        XCTAssertEqual(Fr.twoAdicity, 28)
        XCTAssertEqual(pow2(w, log: 27), -Fr.one, "w^(2^27) must be -1 (order exactly 2^28)")
        XCTAssertEqual(pow2(w, log: 28), Fr.one)
        // 2^28 divides r - 1 and not 2^29
        let rMinus1 = Fr.modulus - BigInt(1)
        XCTAssertEqual(rMinus1 % BigInt(1 << 28), BigInt(0))
        XCTAssertNotEqual(rMinus1 % BigInt(1 << 29), BigInt(0))
        // it is the documented one: 5^((r-1)/2^28)
        let e = rMinus1 >> 28
        XCTAssertEqual(Fr(5).power(limbs: e.limbs(count: 4)), w)
        // 5 is a non-residue (so it generates the whole 2-Sylow part): 5^((r-1)/2) = -1
        XCTAssertEqual(Fr(5).power(limbs: (rMinus1 >> 1).limbs(count: 4)), -Fr.one)
    }

    func testDomainConstants() throws {
        for log in [0, 1, 2, 3, 5, 10, 16] {
            let d = try EvaluationDomain(logSize: log)
            let n = 1 << log
            XCTAssertEqual(d.size, n)
            XCTAssertEqual(d.logSize, log)
            XCTAssertEqual(pow2(d.generator, log: log), .one, "w^n = 1")
            if log > 0 { XCTAssertEqual(pow2(d.generator, log: log - 1), -Fr.one, "w^(n/2) = -1 (primitive)") }
            XCTAssertEqual(d.generator * d.generatorInverse, .one)
            XCTAssertEqual(d.sizeInverse * Fr(UInt64(n)), .one)
            XCTAssertEqual(d.cosetShift, Fr(5))
            XCTAssertEqual(d.cosetShift * d.cosetShiftInverse, .one)
            XCTAssertEqual(d.twiddles.count, max(1, n / 2))
            XCTAssertEqual(d.inverseTwiddles.count, max(1, n / 2))
            // spot-check the twiddle tables
            for i in Set([0, 1, d.twiddles.count / 3, d.twiddles.count - 1]) where i < d.twiddles.count {
                XCTAssertEqual(d.twiddles[i], d.generator.power(UInt64(i)), "twiddle \(i) of 2^\(log)")
                XCTAssertEqual(d.twiddles[i] * d.inverseTwiddles[i], .one)
            }
            XCTAssertEqual(d.element(n + 3), d.generator.power(3 % UInt64(n)))
            if n >= 2 { XCTAssertEqual(d.element(n - 1), d.generatorInverse) }
        }
        let d = try EvaluationDomain(logSize: 6)
        XCTAssertEqual(d.elements(), naiveEvaluate([.zero, .one], root: d.generator, count: 64))
        XCTAssertEqual(d.cosetElements(), naiveEvaluate([.zero, .one], root: d.generator, shift: Fr(5), count: 64))
    }

    // MARK: FFT vs naive evaluation

    func testFFTMatchesNaiveEvaluation() throws {
        for n in [1, 2, 4, 8, 64] {
            let d = try EvaluationDomain(size: n)
            let coefficients = randomVector(n)
            let expected = naiveEvaluate(coefficients, root: d.generator, count: n)
            XCTAssertEqual(try d.fft(coefficients), expected, "fft n=\(n)")
            // inverse matches the naive inverse DFT: (1/n) sum y_i w^-ij
            let naiveInverse = naiveEvaluate(expected, root: d.generatorInverse, count: n).map { $0 * d.sizeInverse }
            XCTAssertEqual(naiveInverse, coefficients, "naive inverse DFT n=\(n)")
            XCTAssertEqual(try d.ifft(expected), coefficients, "ifft n=\(n)")
        }
    }

    func testFFTZeroPadsShortInput() throws {
        let d = try EvaluationDomain(size: 16)
        let coefficients = randomVector(5)
        XCTAssertEqual(try d.fft(coefficients), naiveEvaluate(coefficients, root: d.generator, count: 16))
        XCTAssertEqual(
            try d.cosetFFT(coefficients),
            naiveEvaluate(coefficients, root: d.generator, shift: d.cosetShift, count: 16))
    }

    /// Sizes that take the multi-block, multi-core path: check random output positions by Horner.
    func testLargeFFTMatchesHornerAtRandomPoints() throws {
        for log in [12, 14, 16] {
            let d = try EvaluationDomain(logSize: log)
            let coefficients = randomVector(d.size)
            let evaluations = try d.fft(coefficients)
            let coset = try d.cosetFFT(coefficients)
            var indices: Set<Int> = [0, 1, d.size / 2, d.size - 1]
            while indices.count < 12 { indices.insert(Int.random(in: 0..<d.size)) }
            for i in indices {
                let x = d.generator.power(UInt64(i))
                XCTAssertEqual(evaluations[i], horner(coefficients, x), "fft 2^\(log) index \(i)")
                XCTAssertEqual(coset[i], horner(coefficients, d.cosetShift * x), "coset fft 2^\(log) index \(i)")
            }
        }
    }

    /// The oracle is sharp: the same comparison flags a transform built on a wrong root of
    /// unity (a wrong twiddle), and a single corrupted output.
    func testWrongTwiddleIsDetected() throws {
        let n = 8
        let d = try EvaluationDomain(size: n)
        let coefficients = randomVector(n)
        let evaluations = try d.fft(coefficients)
        // the 16th root is a wrong twiddle base for size 8
        let wrongRoot = try EvaluationDomain(size: 16).generator
        let wrong = naiveEvaluate(coefficients, root: wrongRoot, count: n)
        XCTAssertNotEqual(evaluations, wrong)
        XCTAssertEqual(zip(evaluations, wrong).filter { $0 != $1 }.count >= n - 1, true)
        // w^-1 in place of w: the bit-reversed-order / conjugate mistake
        XCTAssertNotEqual(evaluations, naiveEvaluate(coefficients, root: d.generatorInverse, count: n))
        // one corrupted value breaks the round trip
        var corrupted = evaluations
        corrupted[3] = corrupted[3] + .one
        XCTAssertNotEqual(try d.ifft(corrupted), coefficients)
    }

    // MARK: Round trips

    func testRoundTripRandomInputs() throws {
        for log in [0, 1, 2, 3, 4, 7, 10, 11, 12, 13, 15] {
            let d = try EvaluationDomain(logSize: log)
            let x = randomVector(d.size)
            var y = x
            try d.fft(&y)
            if d.size > 1 { XCTAssertNotEqual(y, x, "fft is not the identity for n=\(d.size)") }
            try d.ifft(&y)
            XCTAssertEqual(y, x, "ifft(fft(x)) n=2^\(log)")
            // and the other order
            var z = x
            try d.ifft(&z)
            try d.fft(&z)
            XCTAssertEqual(z, x, "fft(ifft(x)) n=2^\(log)")
        }
    }

    func testCosetRoundTripAndNaive() throws {
        for n in [1, 2, 4, 8, 64] {
            let d = try EvaluationDomain(size: n)
            let coefficients = randomVector(n)
            let evaluations = try d.cosetFFT(coefficients)
            XCTAssertEqual(
                evaluations, naiveEvaluate(coefficients, root: d.generator, shift: Fr(5), count: n),
                "coset fft n=\(n)")
            XCTAssertEqual(try d.cosetIFFT(evaluations), coefficients, "coset ifft n=\(n)")
            if n > 1 { XCTAssertNotEqual(evaluations, try d.fft(coefficients)) }
        }
        for log in [12, 14] {
            let d = try EvaluationDomain(logSize: log)
            let x = randomVector(d.size)
            XCTAssertEqual(try d.cosetIFFT(try d.cosetFFT(x)), x, "coset round trip 2^\(log)")
            XCTAssertEqual(try d.cosetFFT(try d.cosetIFFT(x)), x, "coset round trip (other order) 2^\(log)")
        }
    }

    func testCustomCosetShift() throws {
        let g = Fr(7)
        let d = try EvaluationDomain(size: 32, cosetShift: g)
        let coefficients = randomVector(32)
        let evaluations = try d.cosetFFT(coefficients)
        XCTAssertEqual(evaluations, naiveEvaluate(coefficients, root: d.generator, shift: g, count: 32))
        XCTAssertEqual(try d.cosetIFFT(evaluations), coefficients)
        XCTAssertEqual(d.vanishingPolynomialOnCoset, g.power(32) - .one)
    }

    // MARK: Polynomial multiplication

    func testPolynomialMultiplicationViaFFTMatchesSchoolbook() throws {
        for (la, lb) in [(1, 1), (1, 7), (3, 5), (64, 64), (100, 37), (200, 300)] {
            let a = randomVector(la), b = randomVector(lb)
            let expected = schoolbook(a, b)
            // by hand with the domain
            let d = try EvaluationDomain(minimumSize: la + lb - 1)
            var fa = try d.fft(a), fb = try d.fft(b)
            for i in 0..<d.size { fa[i] = fa[i] * fb[i] }
            try d.ifft(&fa)
            XCTAssertEqual(Array(fa.prefix(la + lb - 1)), expected, "\(la) x \(lb)")
            XCTAssertTrue(fa.dropFirst(la + lb - 1).allSatisfy(\.isZero))
            // through DensePolynomial
            let pa = DensePolynomial(coefficients: a), pb = DensePolynomial(coefficients: b)
            XCTAssertEqual(pa.multipliedByFFT(by: pb), DensePolynomial(coefficients: expected))
            XCTAssertEqual(pa * pb, DensePolynomial(coefficients: expected))
            XCTAssertEqual(pa.multipliedSchoolbook(by: pb), DensePolynomial(coefficients: expected))
        }
    }

    func testDensePolynomialBasics() throws {
        let d = try EvaluationDomain(size: 16)
        let p = DensePolynomial(coefficients: randomVector(10) + [.zero, .zero])
        XCTAssertEqual(p.degree, 9)
        XCTAssertEqual(DensePolynomial.zero.degree, -1)
        let x = Fr.random()
        XCTAssertEqual(p.evaluate(at: x), horner(p.coefficients, x))
        let evals = try p.evaluations(over: d)
        XCTAssertEqual(try DensePolynomial(interpolating: evals, over: d), p)
        XCTAssertEqual((p - p), .zero)
        XCTAssertEqual((p + p).evaluate(at: x), p.evaluate(at: x).doubled())
        // division by Z(x) = x^16 - 1
        let big = DensePolynomial(coefficients: randomVector(40))
        let (q, r) = big.divided(byVanishingPolynomialOf: d)
        XCTAssertLessThan(r.degree, 16)
        XCTAssertEqual(
            big.evaluate(at: x), q.evaluate(at: x) * d.evaluateVanishingPolynomial(at: x) + r.evaluate(at: x))
    }

    // MARK: Lagrange basis, vanishing polynomial

    func testLagrangeBasisMatchesNaive() throws {
        for n in [1, 2, 8, 16] {
            let d = try EvaluationDomain(size: n)
            let tau = Fr.random()
            let basis = d.evaluateLagrangeBasis(at: tau)
            let points = d.elements()
            for i in 0..<n {
                var num = Fr.one, den = Fr.one
                for j in 0..<n where j != i {
                    num = num * (tau - points[j])
                    den = den * (points[i] - points[j])
                }
                XCTAssertEqual(basis[i], num * den.inverse()!, "L_\(i)(tau), n=\(n)")
            }
        }
        // interpolation identity at a larger size: sum L_i(tau) p(w^i) = p(tau), sum L_i = 1
        let d = try EvaluationDomain(size: 1024)
        let coefficients = randomVector(1024)
        let evaluations = try d.fft(coefficients)
        let tau = Fr.random()
        let basis = d.evaluateLagrangeBasis(at: tau)
        var sum = Fr.zero, total = Fr.zero
        for i in 0..<1024 {
            sum = sum + basis[i] * evaluations[i]
            total = total + basis[i]
        }
        XCTAssertEqual(sum, horner(coefficients, tau))
        XCTAssertEqual(total, .one)
        // tau inside H gives a unit vector
        let inside = d.evaluateLagrangeBasis(at: d.element(37))
        XCTAssertEqual(inside[37], .one)
        XCTAssertEqual(inside.filter { !$0.isZero }.count, 1)
    }

    func testVanishingPolynomial() throws {
        let d = try EvaluationDomain(size: 64)
        for i in [0, 1, 17, 63] { XCTAssertTrue(d.evaluateVanishingPolynomial(at: d.element(i)).isZero) }
        let x = Fr.random()
        XCTAssertEqual(d.evaluateVanishingPolynomial(at: x), x.power(64) - .one)
        XCTAssertEqual(d.vanishingPolynomialOnCoset, Fr(5).power(64) - .one)
        XCTAssertFalse(d.vanishingPolynomialOnCoset.isZero)
        // constant on the whole coset
        for y in d.cosetElements().prefix(5) {
            XCTAssertEqual(d.evaluateVanishingPolynomial(at: y), d.vanishingPolynomialOnCoset)
        }
        var values = randomVector(64)
        let copy = values
        try d.divideByVanishingPolynomialOnCoset(&values)
        for i in 0..<64 { XCTAssertEqual(values[i] * d.vanishingPolynomialOnCoset, copy[i]) }
    }

    // MARK: Groth16 quotient

    func testQuotientPolynomialForGroth16() throws {
        for n in [1, 4, 64, 4096] {
            let d = try EvaluationDomain(size: n)
            // A, B arbitrary on H; C = A*B on H (a satisfied R1CS)
            let a = randomVector(n), b = randomVector(n)
            let c = zip(a, b).map { $0 * $1 }
            let h = try d.quotientPolynomial(a: a, b: b, c: c)
            XCTAssertEqual(h.count, n)
            XCTAssertTrue(h[n - 1].isZero, "deg h <= n - 2")
            let pa = try d.ifft(a), pb = try d.ifft(b), pc = try d.ifft(c)
            let tau = Fr.random()
            let lhs = horner(pa, tau) * horner(pb, tau) - horner(pc, tau)
            XCTAssertEqual(lhs, horner(h, tau) * d.evaluateVanishingPolynomial(at: tau), "n=\(n)")
            // against exact division of A*B - C by x^n - 1
            if n <= 64 {
                let num =
                    DensePolynomial(coefficients: pa) * DensePolynomial(coefficients: pb)
                    - DensePolynomial(coefficients: pc)
                let (q, r) = num.divided(byVanishingPolynomialOf: d)
                XCTAssertTrue(r.isZero)
                XCTAssertEqual(DensePolynomial(coefficients: h), q)
            }
            // an unsatisfied row: A B - C no longer divisible, the identity fails
            if n > 1 {
                var bad = c
                bad[n / 2] = bad[n / 2] + .one
                let hBad = try d.quotientPolynomial(a: a, b: b, c: bad)
                let lhsBad = horner(pa, tau) * horner(pb, tau) - horner(try d.ifft(bad), tau)
                XCTAssertNotEqual(lhsBad, horner(hBad, tau) * d.evaluateVanishingPolynomial(at: tau))
            }
        }
        // short inputs are zero-padded rows
        let d = try EvaluationDomain(size: 8)
        let a = randomVector(5), b = randomVector(5)
        let h = try d.quotientPolynomial(a: a, b: b, c: zip(a, b).map { $0 * $1 })
        XCTAssertTrue(h[7].isZero)
    }

    // MARK: Errors

    func testBadSizesThrow() throws {
        XCTAssertThrowsError(try EvaluationDomain(size: 0)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .sizeNotPositive(0))
        }
        XCTAssertThrowsError(try EvaluationDomain(size: -8)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .sizeNotPositive(-8))
        }
        for bad in [3, 6, 12, 1000, (1 << 20) + 1] {
            XCTAssertThrowsError(try EvaluationDomain(size: bad)) {
                XCTAssertEqual($0 as? EvaluationDomainError, .sizeNotPowerOfTwo(bad))
            }
        }
        XCTAssertThrowsError(try EvaluationDomain(size: 1 << 29)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .sizeTooLarge(requested: 1 << 29, maximum: 1 << 28))
        }
        XCTAssertThrowsError(try EvaluationDomain(logSize: 29)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .sizeTooLarge(requested: 1 << 29, maximum: 1 << 28))
        }
        XCTAssertThrowsError(try EvaluationDomain(logSize: -1))
        XCTAssertThrowsError(try EvaluationDomain(minimumSize: (1 << 28) + 1)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .sizeTooLarge(requested: (1 << 28) + 1, maximum: 1 << 28))
        }
        XCTAssertThrowsError(try EvaluationDomain(minimumSize: -1))
        // rounding up
        XCTAssertEqual(try EvaluationDomain(minimumSize: 0).size, 1)
        XCTAssertEqual(try EvaluationDomain(minimumSize: 1).size, 1)
        XCTAssertEqual(try EvaluationDomain(minimumSize: 5).size, 8)
        XCTAssertEqual(try EvaluationDomain(minimumSize: 8).size, 8)
        XCTAssertEqual(try EvaluationDomain(minimumSize: 1025).size, 2048)
        // coset shifts inside the subgroup (or zero) are rejected
        let d = try EvaluationDomain(size: 8)
        for g in [Fr.zero, Fr.one, d.generator, -Fr.one] {
            XCTAssertThrowsError(try EvaluationDomain(size: 8, cosetShift: g)) {
                XCTAssertEqual($0 as? EvaluationDomainError, .invalidCosetShift)
            }
        }
        // vectors that do not fit
        var long = randomVector(9)
        XCTAssertThrowsError(try d.fft(&long)) {
            XCTAssertEqual($0 as? EvaluationDomainError, .lengthMismatch(expected: 8, got: 9))
        }
        XCTAssertThrowsError(try d.cosetFFT(long))
        XCTAssertThrowsError(try d.ifft(randomVector(7))) {
            XCTAssertEqual($0 as? EvaluationDomainError, .lengthMismatch(expected: 8, got: 7))
        }
        XCTAssertThrowsError(try d.cosetIFFT(randomVector(16)))
        XCTAssertThrowsError(try d.quotientPolynomial(a: randomVector(9), b: [], c: []))
        XCTAssertFalse(EvaluationDomainError.sizeNotPowerOfTwo(12).description.isEmpty)
    }
}
