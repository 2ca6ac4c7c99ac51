import Algebra
import XCTest

final class MSMTests: XCTestCase {
    func randomBases<C: CurveParameters>(_: C.Type, _ n: Int) -> [AffinePoint<C>] {
        let g = JacobianPoint<C>.generator
        return JacobianPoint<C>.batchToAffine((0..<n).map { _ in g.multiplied(by: .random()) })
    }

    func checkAgainstNaive<C: CurveParameters>(_ c: C.Type, sizes: [Int]) {
        for n in sizes {
            let bases = randomBases(c, n)
            var scalars = (0..<n).map { _ in Fr.random() }
            // Edge scalars: 0, 1, -1 (= r - 1, which recodes into a top carry), and repeats.
            if n > 3 {
                scalars[0] = .zero
                scalars[1] = .one
                scalars[2] = -Fr.one
            }
            let expected = MSM.naive(bases: bases, scalars: scalars)
            XCTAssertEqual(MSM.multiply(bases: bases, scalars: scalars), expected, "\(C.name) MSM, n = \(n)")
            XCTAssertEqual(
                MSM.multiply(bases: bases, scalars: scalars, threads: 1), expected, "single thread, n = \(n)")
        }
    }

    /// The mixed-length MSM (short scalars apart) against the naive sum: small positive and
    /// negative values, both sides of the 64-bit boundary in both signs, and full-size scalars,
    /// in every proportion (all short, all long, a few long among many short).
    func testMixedLengthsMatchNaive() {
        let two64 = Fr(UInt64.max) + .one
        let boundary: [Fr] = [Fr(UInt64.max), two64, -Fr(UInt64.max), -two64, two64 + .one, -(two64 + .one)]
        for (n, longEvery) in [(0, 1), (1, 1), (5, 2), (40, 0), (40, 1), (300, 50), (300, 0)] {
            let bases = randomBases(G1Parameters.self, n)
            let scalars = (0..<n).map { i -> Fr in
                if longEvery > 0, i % longEvery == 0 { return .random() }
                if i % 7 == 3 { return boundary[i % boundary.count] }
                let small = Fr(UInt64(i * 2_654_435_761 % (1 << 24)))
                return i % 2 == 0 ? small : -small
            }
            let expected = MSM.naive(bases: bases, scalars: scalars)
            XCTAssertEqual(MSM.multiplyMixedLengths(bases: bases, scalars: scalars), expected, "n = \(n)")
            XCTAssertEqual(MSM.multiplyMixedLengths(bases: bases, scalars: scalars, shortBits: 24), expected)
        }
    }

    func testG1MatchesNaive() {
        checkAgainstNaive(G1Parameters.self, sizes: [0, 1, 2, 3, 15, 16, 17, 33, 64, 255, 1024])
    }
    func testG2MatchesNaive() { checkAgainstNaive(G2Parameters.self, sizes: [1, 2, 17, 100, 256]) }

    /// Repeated bases and scalars force equal-x additions (doubling and P + (-P)) in the buckets.
    func testRepeatedAndOpposingPoints() {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G1Jacobian.generator.multiplied(by: .random()).affine
        var bases: [G1Affine] = []
        var scalars: [Fr] = []
        for i in 0..<600 {
            bases.append(i % 3 == 0 ? -p : (i % 3 == 1 ? p : q))
            scalars.append(Fr(UInt64(i % 7 + 1)))
        }
        bases.append(.infinity)
        scalars.append(.random())
        XCTAssertEqual(MSM.multiply(bases: bases, scalars: scalars), MSM.naive(bases: bases, scalars: scalars))
        // All-cancelling input sums to infinity.
        let cancel = [p, -p, q, -q] + [G1Affine](repeating: p, count: 40) + [G1Affine](repeating: -p, count: 40)
        XCTAssertTrue(
            MSM.multiply(bases: cancel, scalars: [Fr](repeating: Fr(UInt64(5)), count: cancel.count)).isInfinity)
    }

    /// Proving keys hold the point at infinity for wires a query does not use.
    func testInfinityBasesAreSkipped() {
        var bases = randomBases(G2Parameters.self, 120)
        for i in stride(from: 0, to: 120, by: 3) { bases[i] = .infinity }
        let scalars = (0..<120).map { _ in Fr.random() }
        XCTAssertEqual(MSM.multiply(bases: bases, scalars: scalars), MSM.naive(bases: bases, scalars: scalars))
        var g1 = randomBases(G1Parameters.self, 300)
        for i in stride(from: 1, to: 300, by: 2) { g1[i] = .infinity }
        let k = (0..<300).map { _ in Fr.random() }
        XCTAssertEqual(MSM.multiply(bases: g1, scalars: k), MSM.naive(bases: g1, scalars: k))
    }

    /// Fixed-point data: small positive and small negative (r - small) scalars, which the
    /// MSM folds to short signed values; and all-zero scalars.
    func testSmallSignedScalars() {
        let bases = randomBases(G1Parameters.self, 500)
        let scalars: [Fr] = (0..<500).map { (i: Int) -> Fr in
            let v: Int64 = i % 2 == 0 ? Int64(i * 37) : -Int64(i * 1001)
            return Fr(v)
        }
        XCTAssertEqual(MSM.multiply(bases: bases, scalars: scalars), MSM.naive(bases: bases, scalars: scalars))
        let halfR = Fr(reducing: (Fr.modulus - BigInt(1)) >> 1)
        var edges: [Fr] = [halfR, halfR + Fr.one, -halfR, Fr.one, -Fr.one]
        edges += [Fr](repeating: Fr.zero, count: 45)
        XCTAssertEqual(
            MSM.multiply(bases: Array(bases.prefix(50)), scalars: edges),
            MSM.naive(bases: Array(bases.prefix(50)), scalars: edges))
        XCTAssertTrue(MSM.multiply(bases: bases, scalars: [Fr](repeating: .zero, count: 500)).isInfinity)
    }

    /// Runs `body` under each MSM kernel the CPU supports, restoring the selection after.
    func underEachKernel(_ body: (MSMKernel) -> Void) {
        let original = MSMKernel.current
        defer { MSMKernel.select(original) }
        for kernel in MSMKernel.allCases {
            guard MSMKernel.select(kernel) == kernel else {
                print("note: the \(kernel) MSM kernel is not supported on this CPU; not tested")
                continue
            }
            body(kernel)
        }
    }

    /// The IFMA kernel (sizes from its threshold up) against the naive sum and the scalar path.
    func testVectorKernelMatchesNaive() {
        underEachKernel { kernel in
            for n in [511, 512, 777, 2500] {
                let bases = randomBases(G1Parameters.self, n)
                var scalars = (0..<n).map { _ in Fr.random() }
                scalars[0] = .zero
                scalars[1] = .one
                scalars[2] = -Fr.one
                let expected = MSM.naive(bases: bases, scalars: scalars)
                XCTAssertEqual(MSM.multiply(bases: bases, scalars: scalars), expected, "\(kernel) G1, n = \(n)")
                XCTAssertEqual(
                    MSM.multiply(bases: bases, scalars: scalars, threads: 1), expected, "\(kernel) G1 one thread")
            }
            let bases = randomBases(G2Parameters.self, 700)
            let scalars = (0..<700).map { _ in Fr.random() }
            XCTAssertEqual(
                MSM.multiply(bases: bases, scalars: scalars), MSM.naive(bases: bases, scalars: scalars), "\(kernel) G2")
        }
    }

    /// Inputs that derail careless batch-affine code, at sizes the vector kernel takes: equal
    /// and opposite points in one bucket (doubling, P + (-P)), infinity bases, buckets that
    /// receive hundreds of points (small scalars), and sums that cancel to infinity.
    func testVectorKernelEdgeCases() {
        let p = G1Jacobian.generator.multiplied(by: .random()).affine
        let q = G1Jacobian.generator.multiplied(by: .random()).affine
        let p2 = G2Jacobian.generator.multiplied(by: .random()).affine
        underEachKernel { kernel in
            var bases: [G1Affine] = [], scalars: [Fr] = []
            for i in 0..<1500 {
                bases.append(i % 3 == 0 ? -p : (i % 3 == 1 ? p : q))
                scalars.append(Fr(UInt64(i % 7 + 1)))
            }
            for i in stride(from: 5, to: 1500, by: 11) { bases[i] = .infinity }
            XCTAssertEqual(
                MSM.multiply(bases: bases, scalars: scalars), MSM.naive(bases: bases, scalars: scalars),
                "\(kernel) repeats")
            let random = randomBases(G1Parameters.self, 1200)
            let small = (0..<1200).map { Fr(Int64($0 % 5) - 2) }  // digits -2...2 only: five heavy buckets
            XCTAssertEqual(
                MSM.multiply(bases: random, scalars: small), MSM.naive(bases: random, scalars: small),
                "\(kernel) heavy buckets")
            let ones = [Fr](repeating: .one, count: 1200)
            XCTAssertEqual(
                MSM.multiply(bases: random, scalars: ones), MSM.naive(bases: random, scalars: ones),
                "\(kernel) one bucket")
            let cancel = [G1Affine](repeating: p, count: 600) + [G1Affine](repeating: -p, count: 600)
            XCTAssertTrue(
                MSM.multiply(bases: cancel, scalars: [Fr](repeating: Fr(UInt64(3)), count: 1200)).isInfinity,
                "\(kernel)")
            var g2 =
                [G2Affine](repeating: p2, count: 300) + [G2Affine](repeating: -p2, count: 200)
                + randomBases(G2Parameters.self, 300)
            g2[7] = .infinity
            let k2 = (0..<800).map { i in i < 500 ? Fr(UInt64(i % 4 + 1)) : Fr.random() }
            XCTAssertEqual(
                MSM.multiply(bases: g2, scalars: k2), MSM.naive(bases: g2, scalars: k2), "\(kernel) G2 repeats")
        }
    }

    func testWindowChoiceGrowsWithSize() {
        XCTAssertLessThan(MSM.windowBits(forCount: 1 << 10), MSM.windowBits(forCount: 1 << 20))
        XCTAssertLessThanOrEqual(MSM.windowBits(forCount: 1 << 28), 16)
    }
}

final class FixedBaseTests: XCTestCase {
    func check<C: CurveParameters>(_: C.Type, windowBits: Int) {
        let base = JacobianPoint<C>.generator.multiplied(by: .random()).affine
        let table = FixedBaseTable(base: base, windowBits: windowBits)
        var scalars = (0..<300).map { _ in Fr.random() }
        scalars += [.zero, .one, -Fr.one, Fr(UInt64(1) << 40), Fr(UInt64.max)]
        scalars += [Fr](repeating: Fr(UInt64(7)), count: 5)  // equal accumulators: doubling path
        let all = table.multiplyAll(scalars)
        for (k, p) in zip(scalars, all) {
            let expected = base.multiplied(by: k)
            XCTAssertEqual(p, expected.affine, "\(C.name) w=\(windowBits) k=\(k)")
            XCTAssertEqual(table.multiply(k), expected)
        }
    }

    func testG1() {
        check(G1Parameters.self, windowBits: 10)
        check(G1Parameters.self, windowBits: 7)
    }
    func testG2() { check(G2Parameters.self, windowBits: 8) }
}
