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
