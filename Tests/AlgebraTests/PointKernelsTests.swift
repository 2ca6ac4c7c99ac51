import Algebra
import XCTest

/// The vector point kernels against the scalar arithmetic: many points times their own
/// scalars (edge scalars 0, 1, r - 1, infinity points), and the inverse point DFT against its
/// definition (1/n) sum_j omega^(-ij) P_j.
final class PointKernelsTests: XCTestCase {
    func points<C: CurveParameters>(_: C.Type, _ n: Int) -> [AffinePoint<C>] {
        let g = JacobianPoint<C>.generator
        return JacobianPoint<C>.batchToAffine((0..<n).map { _ in g.multiplied(by: .random()) })
    }

    func checkScale<C: CurveParameters>(_ c: C.Type) throws {
        guard PointKernels.available(c) else { throw XCTSkip("the IFMA kernel is not available on this CPU") }
        for n in [1, 7, 8, 9, 100] {
            var p = points(c, n)
            if n > 3 { p[3] = .infinity }
            var k = (0..<n).map { _ in Fr.random() }
            k[0] = .zero
            if n > 2 {
                k[1] = .one
                k[2] = -Fr.one
            }
            let expected = zip(p, k).map { $0.multiplied(by: $1).affine }
            var got = p
            XCTAssertTrue(PointKernels.scale(&got, canonicalScalars: k.map(\.canonicalLimbs)))
            XCTAssertEqual(got, expected, "\(C.name), n = \(n)")
            let s = Fr.random()
            var same = p
            XCTAssertTrue(PointKernels.scale(&same, canonicalScalars: [s.canonicalLimbs]))
            XCTAssertEqual(same, p.map { $0.multiplied(by: s).affine }, "\(C.name), one scalar")
        }
    }

    /// Over 1024 points: several work items and several inversion blocks per item, with
    /// infinities at block edges and results at infinity (scalar 0) inside them.
    func testScaleAcrossBlocksAndWorkItems() throws {
        guard PointKernels.available(G1Parameters.self) else {
            throw XCTSkip("the IFMA kernel is not available on this CPU")
        }
        let n = 1100
        var p = points(G1Parameters.self, n)
        for i in [0, 255, 256, 1023, 1024, n - 1] { p[i] = .infinity }
        var k = (0..<n).map { _ in Fr.random() }
        for i in [257, 511, 1025] { k[i] = .zero }
        let expected = zip(p, k).map { $0.multiplied(by: $1).affine }
        var got = p
        XCTAssertTrue(PointKernels.scale(&got, canonicalScalars: k.map(\.canonicalLimbs)))
        for i in 0..<n where got[i] != expected[i] { return XCTFail("point \(i) differs") }
    }

    func testScaleG1() throws { try checkScale(G1Parameters.self) }
    func testScaleG2() throws { try checkScale(G2Parameters.self) }

    func checkInverseFFT<C: CurveParameters>(_ c: C.Type, logSize: Int) throws {
        guard PointKernels.available(c) else { throw XCTSkip("the IFMA kernel is not available on this CPU") }
        let domain = try EvaluationDomain(logSize: logSize)
        let n = domain.size
        var p = points(c, n)
        if n > 2 { p[1] = .infinity }
        guard let got = PointKernels.inverseFFT(p, domain: domain) else { return XCTFail("kernel declined") }
        for i in 0..<n {
            let scalars = (0..<n).map { j in domain.generatorInverse.power(UInt64(i * j % n)) * domain.sizeInverse }
            XCTAssertEqual(got[i], MSM.naive(bases: p, scalars: scalars).affine, "\(C.name) point \(i) of \(n)")
        }
    }

    func testInverseFFT() throws {
        try checkInverseFFT(G1Parameters.self, logSize: 0)
        try checkInverseFFT(G1Parameters.self, logSize: 1)
        try checkInverseFFT(G1Parameters.self, logSize: 5)
        try checkInverseFFT(G2Parameters.self, logSize: 3)
    }

    /// With the kernel switched off the callers are told so (and run their scalar code).
    func testDeclinesWhenScalarKernelSelected() {
        let original = MSMKernel.current
        defer { MSMKernel.select(original) }
        MSMKernel.select(.scalar)
        var p = points(G1Parameters.self, 3)
        XCTAssertFalse(PointKernels.scale(&p, canonicalScalars: [Fr.one.canonicalLimbs]))
        XCTAssertNil(PointKernels.inverseFFT(p + [.infinity], domain: try! EvaluationDomain(logSize: 2)))
    }
}

/// The GLV paths for public scalars (issue 19: the Lagrange-basis FFTs of the ceremony's phase
/// 2) against the constant-time kernel and the scalar arithmetic.
final class PublicScalarKernelTests: XCTestCase {
    let lambda = Fr(reducing: BigInt("30644e72e131a029048b6e193fd84104cc37a73fec2bc5e9b8ca0b2d36636f23", radix: 16)!)

    func points<C: CurveParameters>(_: C.Type, _ n: Int) -> [AffinePoint<C>] {
        let g = JacobianPoint<C>.generator
        return JacobianPoint<C>.batchToAffine((0..<n).map { _ in g.multiplied(by: .random()) })
    }

    /// Each split satisfies k = k1 + k2 lambda (mod r) with both halves below 2^127, for edge
    /// scalars and random ones.
    func testSplitRecombines() {
        var scalars: [Fr] = [.zero, .one, -Fr.one, lambda, -lambda, lambda * lambda, Fr(2).inverse()!]
        scalars += (0..<200).map { _ in Fr.random() }
        let split = PublicScalars(scalars)
        XCTAssertEqual(split.words.count, 5 * scalars.count)
        for (i, k) in scalars.enumerated() {
            let w = Array(split.words[(5 * i)..<(5 * i + 5)])
            XCTAssertLessThan(w[1], 1 << 63, "k1 below 2^127")
            XCTAssertLessThan(w[3], 1 << 63, "k2 below 2^127")
            var k1 = Fr(reducing: BigInt(limbs: [w[0], w[1]])), k2 = Fr(reducing: BigInt(limbs: [w[2], w[3]]))
            if w[4] & 1 == 1 { k1 = -k1 }
            if w[4] & 2 == 2 { k2 = -k2 }
            XCTAssertEqual(k1 + k2 * lambda, k, "scalar \(i)")
        }
    }

    /// phi acts as lambda on both groups (a wrong cube root of unity for either curve fails
    /// here), and the shared-scalar NAF multiplication agrees with the scalar code, including
    /// the identity, the scalars 0, 1, -1 and lambda, and more points than one work item.
    func checkScalePublic<C: CurveParameters>(_ c: C.Type) throws {
        guard PointKernels.available(c) else { throw XCTSkip("the IFMA kernel is not available on this CPU") }
        for n in [1, 9, 1030] {
            var p = points(c, min(n, 40))
            while p.count < n { p += p.prefix(n - p.count) }
            if n > 3 { p[3] = .infinity }
            for k in [Fr.zero, .one, -Fr.one, lambda, Fr.random(), Fr.random()] {
                var got = p
                XCTAssertTrue(PointKernels.scalePublic(&got, by: k))
                let expected = JacobianPoint<C>.batchToAffine(p.map { $0.multiplied(by: k) })
                for i in 0..<n where got[i] != expected[i] { return XCTFail("\(C.name) n = \(n) point \(i) k = \(k)") }
            }
        }
    }

    func testScalePublicG1() throws { try checkScalePublic(G1Parameters.self) }
    func testScalePublicG2() throws { try checkScalePublic(G2Parameters.self) }

    /// The GLV inverse FFT against the former constant-time one, bit for bit, over sizes where
    /// both of its stage kinds run (shared twiddles in the first log2(n) - 3 stages, one twiddle
    /// per lane in the last three), with infinities and repeated points (doublings inside the
    /// butterflies) in the input, and with a shared twiddle table.
    func checkAgainstConstantTime<C: CurveParameters>(_ c: C.Type, logSize: Int) throws {
        guard PointKernels.available(c) else { throw XCTSkip("the IFMA kernel is not available on this CPU") }
        let domain = try EvaluationDomain(logSize: logSize)
        let n = domain.size
        var p = points(c, n)
        p[1] = .infinity
        p[n - 1] = .infinity
        p[5] = p[4]
        p[n / 2] = p[0]
        p[n / 2 + 2] = -p[2]
        guard let old = PointKernels.inverseFFT(p, domain: domain, constantTime: true),
            let new = PointKernels.inverseFFT(p, domain: domain),
            let shared = PointKernels.inverseFFT(p, domain: domain, twiddles: PublicScalars(twiddlesOf: domain))
        else { return XCTFail("kernel declined") }
        XCTAssertEqual(new, old, "\(C.name) 2^\(logSize)")
        XCTAssertEqual(shared, old, "\(C.name) 2^\(logSize), shared twiddles")
    }

    func testInverseFFTMatchesConstantTimeG1() throws {
        for logSize in [4, 5, 7, 10] { try checkAgainstConstantTime(G1Parameters.self, logSize: logSize) }
    }

    func testInverseFFTMatchesConstantTimeG2() throws {
        for logSize in [4, 6] { try checkAgainstConstantTime(G2Parameters.self, logSize: logSize) }
    }
}
