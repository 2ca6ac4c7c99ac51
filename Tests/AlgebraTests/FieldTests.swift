import Algebra
import XCTest

/// Differential tests of the Montgomery fields against GMP (the oracle), with edge values.
final class FieldTests: XCTestCase {
    /// Values that stress carries and reductions: 0, 1, 2, p-1, p-2, (p-1)/2, 2^64-1, 2^192, 2^253.
    func edgeValues(_ p: BigInt) -> [BigInt] {
        let one = BigInt(1)
        return [
            BigInt(0), one, BigInt(2), p - one, p - BigInt(2), (p - one) >> 1, (p + one) >> 1,
            BigInt(UInt64.max), one << 64, one << 128, one << 192, one << 253, p - (one << 64),
        ]
    }

    func randomBelow(_ p: BigInt) -> BigInt {
        BigInt(littleEndian: SecureRandom.bytes(40)) % p
    }

    func checkField<P: MontgomeryParameters>(_: P.Type, cases: Int) {
        typealias F = MontgomeryField<P>
        let p = F.modulus
        XCTAssertTrue(p.isProbablePrime())
        // The constants are what GMP says they are.
        let r = (BigInt(1) << 256) % p
        XCTAssertEqual(BigInt(limbs: P.montgomeryOne.array), r)
        XCTAssertEqual(BigInt(limbs: P.montgomeryRSquared.array), (r * r) % p)
        XCTAssertEqual((BigInt(limbs: [P.inverseModulusNegated]) * p + BigInt(1)) % (BigInt(1) << 64), BigInt(0))

        var samples = edgeValues(p)
        for _ in 0..<cases { samples.append(randomBelow(p)) }
        var pairs: [(BigInt, BigInt)] = []
        for a in edgeValues(p) { for b in edgeValues(p) { pairs.append((a, b)) } }
        for i in 0..<cases { pairs.append((samples[i % samples.count], randomBelow(p))) }

        for (a, b) in pairs {
            let fa = F(reducing: a), fb = F(reducing: b)
            XCTAssertEqual(fa.bigInt, a % p)
            XCTAssertEqual((fa + fb).bigInt, (a + b) % p, "add \(a) \(b)")
            XCTAssertEqual((fa - fb).bigInt, (a - b) % p, "sub \(a) \(b)")
            XCTAssertEqual((fa * fb).bigInt, (a * b) % p, "mul \(a) \(b)")
            XCTAssertEqual((-fa).bigInt, (-a) % p, "neg \(a)")
            XCTAssertEqual(fa.squared().bigInt, (a * a) % p, "sqr \(a)")
            XCTAssertEqual(fa.doubled().bigInt, (a + a) % p)
            XCTAssertEqual(F.select(false, fa, fb), fa)
            XCTAssertEqual(F.select(true, fa, fb), fb)
        }
        for a in samples.prefix(200) {
            let fa = F(reducing: a)
            if a.isZero {
                XCTAssertNil(fa.inverse())
            } else {
                XCTAssertEqual(fa.inverse()?.bigInt, a.inverse(modulus: p))
            }
            XCTAssertEqual(fa.legendre, a.isZero ? 0 : a.jacobi(p))
            if let root = fa.squareRoot() {
                XCTAssertEqual(root.squared(), fa)
            } else {
                XCTAssertEqual(a.jacobi(p), -1, "squareRoot failed on a residue")
            }
            // byte round trip
            let bytes = fa.littleEndianBytes()
            XCTAssertEqual(try F(littleEndian: bytes), fa)
            XCTAssertEqual(try F(bigEndian: fa.bigEndianBytes()), fa)
            XCTAssertEqual(try F(decimal: a.description), fa)
        }
        let e = BigInt(12_345_678_901_234_567)
        let base = randomBelow(p)
        XCTAssertEqual(F(reducing: base).power(limbs: e.limbs(count: 1)).bigInt, base.power(e, modulus: p))
    }

    /// Every multiplication path the CPU can run: the GMP-oracle checks under each kernel.
    func underEachKernel(_ body: (FieldKernel) -> Void) {
        let original = FieldKernel.current
        defer { FieldKernel.select(original) }
        for kernel in FieldKernel.allCases {
            guard FieldKernel.select(kernel) == kernel else {
                print("note: the \(kernel) field kernel is not supported on this CPU; not tested")
                continue
            }
            body(kernel)
        }
    }

    func testFqAgainstGMP() { underEachKernel { _ in checkField(FqParameters.self, cases: 3000) } }
    func testFrAgainstGMP() { underEachKernel { _ in checkField(FrParameters.self, cases: 3000) } }

    /// The kernels directly on Montgomery limbs (any value below p, not only images of
    /// integers), against GMP's a * b * 2^-256 mod p, and the portable CIOS against both.
    func checkKernels<P: MontgomeryParameters>(_: P.Type, cases: Int) {
        let p = MontgomeryField<P>.modulus
        let rInverse = (BigInt(1) << 256).inverse(modulus: p)!
        func limbs(_ v: BigInt) -> Limbs4 {
            let l = v.limbs(count: 4)
            return Limbs4(l[0], l[1], l[2], l[3])
        }
        var values = edgeValues(p)
        for _ in 0..<cases { values.append(randomBelow(p)) }
        let adx = FieldKernel.best == .adx
        for (i, a) in values.enumerated() {
            let b = values[(i * 7 + 3) % values.count]
            let (la, lb) = (limbs(a), limbs(b))
            let product = limbs((a * b * rInverse) % p), square = limbs((a * a * rInverse) % p)
            XCTAssertEqual(MontgomeryField<P>.portableMontMul(la, lb), product, "portable \(a) * \(b)")
            XCTAssertEqual(MontgomeryField<P>.portableMontMul(la, la), square)
            if adx {
                XCTAssertEqual(P.assemblyMultiply(la, lb), product, "adx \(a) * \(b)")
                XCTAssertEqual(P.assemblySquare(la), square, "adx square \(a)")
            }
        }
    }

    func testKernelsAgainstGMP() {
        XCTAssertTrue(FqParameters.hasAssemblyKernel && FrParameters.hasAssemblyKernel)
        checkKernels(FqParameters.self, cases: 20000)
        checkKernels(FrParameters.self, cases: 20000)
        // The fastest supported kernel is the one in use.
        XCTAssertEqual(FieldKernel.current, FieldKernel.best)
    }

    func testSignedIntegers() {
        XCTAssertEqual(Fr(Int64(-1)), -Fr.one)
        XCTAssertEqual(Fr(Int64(-5)) + Fr(UInt64(5)), .zero)
        XCTAssertEqual(Fr(Int64.min).bigInt, Fr.modulus - (BigInt(1) << 63))
        XCTAssertTrue(Fr(Int64(-3)).isNegativeSigned)
        XCTAssertFalse(Fr(UInt64(3)).isNegativeSigned)
    }

    func testBatchInversion() {
        var values = (0..<37).map { $0 % 5 == 0 ? Fr.zero : Fr.random() }
        let expected = values.map { $0.inverse() ?? .zero }
        Fr.batchInvert(&values)
        XCTAssertEqual(values, expected)
    }

    func testRootOfUnityOrder() {
        let w = Fr.twoAdicRootOfUnity
        var x = w
        for _ in 0..<27 { x = x.squared() }
        XCTAssertEqual(x, -Fr.one, "w^(2^27) must be -1")
        XCTAssertEqual(x.squared(), .one)
    }

    func testRejectsNonCanonicalEncodings() {
        let p = Fq.modulus
        XCTAssertThrowsError(try Fq(littleEndian: p.littleEndianBytes(count: 32)))
        XCTAssertThrowsError(try Fq(littleEndian: [UInt8](repeating: 0xff, count: 32)))
        XCTAssertThrowsError(try Fq(littleEndian: [UInt8](repeating: 0, count: 31)))
        XCTAssertThrowsError(try Fr(decimal: Fr.modulus.description))
        XCTAssertThrowsError(try Fr(decimal: "12a"))
        XCTAssertThrowsError(try Fr(decimal: "-1"))
        XCTAssertEqual(try Fr(decimal: (Fr.modulus - BigInt(1)).description), -Fr.one)
    }

    func testRandomIsSpreadAndCanonical() {
        let values = (0..<64).map { _ in Fr.random() }
        XCTAssertEqual(Set(values).count, 64)
        for v in values { XCTAssertTrue(v.bigInt < Fr.modulus) }
    }

    func testBigIntParsing() {
        XCTAssertEqual(BigInt("0x10", radix: 16), BigInt(16))
        XCTAssertEqual(BigInt("ff", radix: 16), BigInt(255))
        XCTAssertNil(BigInt(""))
        XCTAssertNil(BigInt("12x"))
        XCTAssertNil(BigInt("0x", radix: 16))
        XCTAssertEqual(BigInt("-42"), -BigInt(42))
        XCTAssertEqual(BigInt(bigEndian: [1, 0]), BigInt(256))
        XCTAssertEqual(BigInt(123_456_789).toString(radix: 16), "75bcd15")
    }
}

final class BigIntTests: XCTestCase {
    func testByteImportExport() {
        XCTAssertEqual(BigInt(littleEndian: [1, 2]), BigInt(513))
        XCTAssertEqual(BigInt(bigEndian: [1, 2]), BigInt(258))
        XCTAssertEqual(BigInt(513).littleEndianBytes(count: 3), [1, 2, 0])
        XCTAssertEqual(BigInt(limbs: [0, 1]), BigInt(1) << 64)
        let r = BigInt(littleEndian: SecureRandom.bytes(40))
        XCTAssertGreaterThan(r.bitWidth, 250, "random 320-bit values are almost never this small")
    }
}
