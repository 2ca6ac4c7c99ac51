import Algebra
import Circuit
import Foundation
import XCTest

/// The packed Freivalds checks (C's columns, or a gathered product's blocks, packed several to a
/// field element under constant powers of 2^b): they accept the honest product, refuse a wrong
/// one except at the root of the stated polynomial, and are exact only under the error bound
/// their callers' range checks give, which the carry forgery below shows.
final class FreivaldsPackedTests: XCTestCase {
    typealias CS = ConstraintSystem<Fr>
    typealias LC = LinearCombination<Fr>

    /// 2 x 3 times 3 x 7; with an 80-bit error bound b = 81 and g = 3 columns per group
    /// (groups {0, 1, 2}, {3, 4, 5}, {6}).
    static let a: [Int64] = [3, -1, 4, -2, 5, 9]
    static let b: [Int64] = (0..<21).map { Int64(($0 * 5 + 3) % 11) }
    static let errorBits = 80

    static var product: [Int64] {
        var c = [Int64](repeating: 0, count: 14)
        for i in 0..<2 { for j in 0..<7 { for l in 0..<3 { c[i * 7 + j] += a[i * 3 + l] * b[l * 7 + j] } } }
        return c
    }

    static let twoToB: Fr = {
        var x = Fr.one
        for _ in 0...errorBits { x = x.doubled() }
        return x
    }()

    /// Bounds every entry of C to a signed 80-bit value (|E| < 2^80 then), as a caller's range
    /// checks would.
    static func rangeCheck(_ c: [LC], in cs: CS) {
        var half = Fr.one
        for _ in 0..<(errorBits - 1) { half = half.doubled() }
        for (index, entry) in c.enumerated() { cs.assertRange(entry + half, bits: errorBits, "range\(index)") }
    }

    /// The circuit with `offsets` added to C's entries (as field elements); `rangeCheckC` bounds
    /// every C entry to a signed 80-bit value, as a caller's range checks would.
    func circuit(offsets: [Int: Fr] = [:], rho: Fr = Fr(UInt64(987_654_321)), rangeCheckC: Bool = false) -> CS {
        let cs = CS()
        _ = cs.allocatePublicInput("session", value: .one)
        let a = Self.a.enumerated().map { LC(cs.allocateCommitted("a\($0.offset)", value: Fr($0.element))) }
        let b = Self.b.enumerated().map { LC(cs.allocateCommitted("b\($0.offset)", value: Fr($0.element))) }
        let c = Self.product.enumerated().map { index, value in
            LC(cs.allocateCommitted("c\(index)", value: Fr(value) + (offsets[index] ?? .zero)))
        }
        if rangeCheckC { Self.rangeCheck(c, in: cs) }
        cs.challengeOracle = { _, _ in rho }
        let r = cs.drawChallenge()
        let powers = cs.challengePowers(r, count: 2)
        cs.freivaldsPacked(
            LCMatrix(rows: 2, columns: 3, entries: a), LCMatrix(rows: 3, columns: 7, entries: b),
            equals: LCMatrix(rows: 2, columns: 7, entries: c), errorBits: Self.errorBits, challenge: r,
            rhoPowers: powers)
        return cs
    }

    /// The error bound from entry bounds: n maxA maxB + maxC below 2^result, for the batched
    /// forward's numbers (49 kernel entries of 2^23, 8-bit pixels, products below 2^32 + 2^8:
    /// 39 bits, so b = 40 and g = 6), a 512-term sum and small cases.
    func testErrorBitsBoundTheWorstCase() {
        XCTAssertEqual(CS.freivaldsErrorBits(maxA: 1 << 23, maxB: 255, inner: 49, maxC: (1 << 32) + 256), 39)
        XCTAssertEqual(CS.freivaldsErrorBits(maxA: 1 << 23, maxB: 255, inner: 512, maxC: 1 << 41), 43)
        for (maxA, maxB, n, maxC) in [
            (UInt64(1) << 23, UInt64(255), 49, UInt64(1) << 33), (3, 5, 7, 200), (1, 1, 1, 0),
        ] {
            let bits = CS.freivaldsErrorBits(maxA: maxA, maxB: maxB, inner: n, maxC: maxC)
            let worst = Double(n) * Double(maxA) * Double(maxB) + Double(maxC)
            XCTAssertLessThan(worst, pow(2, Double(bits)), "\(maxA) \(maxB) \(n) \(maxC)")
        }
    }

    func testHonestProductSatisfiesAndThePackingIsAsStated() {
        XCTAssertEqual(CS.packedColumns(errorBits: Self.errorBits, modulusBits: 254), 3)
        XCTAssertEqual(CS.packedColumns(errorBits: 39, modulusBits: 254), 6, "6 x 40 bits <= 252")
        XCTAssertEqual(CS.packedColumns(errorBits: 251, modulusBits: 254), 1)
        XCTAssertEqual(CS.packedColumns(errorBits: 252, modulusBits: 254), 0, "no room: refused")
        XCTAssertNil(circuit().firstViolation())
        XCTAssertNil(circuit(rangeCheckC: true).firstViolation())
        XCTAssertLessThanOrEqual(
            circuit().constraintCount,
            CS.packedFreivaldsCost(m: 2, n: 3, k: 7, errorBits: Self.errorBits, modulusBits: 254) + 2)
        XCTAssertLessThan(
            CS.packedFreivaldsCost(m: 2, n: 49, k: 512, errorBits: 39, modulusBits: 254),
            CS.freivaldsCost(m: 2, n: 49, k: 512) / 4)
    }

    /// Any single wrong entry (in a full group, in the short last group, off by one or by a
    /// multiple of 2^b) is caught whatever the challenge: its polynomial is a nonzero monomial.
    func testAWrongEntryIsRefused() {
        for rho in [Fr(UInt64(2)), Fr(UInt64(987_654_321)), -Fr.one] {
            for (index, offset) in [(0, Fr.one), (4, -Fr.one), (6, Fr(UInt64(5))), (13, Self.twoToB)] {
                XCTAssertNotNil(circuit(offsets: [index: offset], rho: rho).firstViolation(), "C[\(index)]")
            }
        }
    }

    /// Errors in two groups, e at C[0][0] (group 0) and f at C[0][3] (group 1), give the
    /// polynomial e + f sigma with sigma = rho^2: the check passes only where rho^2 = -e / f.
    func testErrorsInTwoGroupsPassOnlyAtTheRootOfTheirPolynomial() throws {
        // e = 4, f = -1: sigma = 4, rho = 2.
        let offsets: [Int: Fr] = [0: -Fr(UInt64(4)), 3: .one]
        XCTAssertNil(circuit(offsets: offsets, rho: Fr(UInt64(2))).firstViolation())
        XCTAssertNotNil(circuit(offsets: offsets, rho: Fr(UInt64(3))).firstViolation())
        XCTAssertNotNil(circuit(offsets: offsets).firstViolation())
    }

    /// The attack the error bound stops: E_0 = 2^b and E_1 = -1 in one group cancel in the packed
    /// element (2^b - 2^b = 0) for every challenge, so without range checks on C the forged
    /// product passes; with C bounded to 80 bits (|E| < 2^80) it has no witness.
    func testACarryForgeryPassesWithoutTheBoundAndFailsWithIt() {
        let forged: [Int: Fr] = [0: -Self.twoToB, 1: .one]
        for rho in [Fr(UInt64(2)), Fr(UInt64(987_654_321)), Fr(UInt64(123))] {
            XCTAssertNil(circuit(offsets: forged, rho: rho).firstViolation(), "unbounded C: the carry cancels")
            XCTAssertNotNil(circuit(offsets: forged, rho: rho, rangeCheckC: true).firstViolation())
        }
        // The same carry across two groups is just two errors: caught.
        XCTAssertNotNil(circuit(offsets: [2: -Self.twoToB, 3: .one]).firstViolation())
    }

    /// The gathered form with its blocks packed: a 2-channel 2x2 convolution over seven 3x3
    /// images, packed 3 images to a group; accepts the honest product, refuses a wrong entry,
    /// and falls to the same carry forgery across two images of one group when C is unbounded.
    func gatheredCircuit(offsets: [Int: Fr] = [:], rho: Fr = Fr(UInt64(55_555)), rangeCheckC: Bool = false) -> CS {
        let kernel: [Int64] = [2, -3, 1, 4, -1, 5, 2, -2]
        let images: [[Int64]] = (0..<7).map { s in (0..<9).map { e in Int64((e * 3 + s * 7) % 13) } }
        let gather: [[Int]] = (0..<4).map { t in (0..<4).map { p in (p / 2 + t / 2) * 3 + p % 2 + t % 2 } }
        var product = [Int64](repeating: 0, count: 2 * 28)
        for o in 0..<2 {
            for s in 0..<7 {
                for p in 0..<4 {
                    for t in 0..<4 { product[o * 28 + s * 4 + p] += kernel[o * 4 + t] * images[s][gather[t][p]] }
                }
            }
        }
        let cs = CS()
        _ = cs.allocatePublicInput("session", value: .one)
        let a = kernel.enumerated().map { LC(cs.allocateCommitted("a\($0.offset)", value: Fr($0.element))) }
        let x = images.enumerated().map { s, image in
            image.enumerated().map { LC(cs.allocateCommitted("x\(s).\($0.offset)", value: Fr($0.element))) }
        }
        let c = product.enumerated().map { index, value in
            LC(cs.allocateCommitted("c\(index)", value: Fr(value) + (offsets[index] ?? .zero)))
        }
        if rangeCheckC { Self.rangeCheck(c, in: cs) }
        cs.challengeOracle = { _, _ in rho }
        let r = cs.drawChallenge()
        let powers = cs.challengePowers(r, count: 2)
        cs.freivaldsGathered(
            LCMatrix(rows: 2, columns: 4, entries: a), blocks: x, gather: gather,
            equals: LCMatrix(rows: 2, columns: 28, entries: c), errorBits: Self.errorBits, challenge: r,
            rhoPowers: powers)
        return cs
    }

    func testPackedGatheredFormAcceptsExactlyTheBoundedProduct() {
        XCTAssertNil(gatheredCircuit().firstViolation())
        for rho in [Fr(UInt64(2)), Fr(UInt64(55_555))] {
            XCTAssertNotNil(gatheredCircuit(offsets: [5: .one], rho: rho).firstViolation())
            XCTAssertNotNil(gatheredCircuit(offsets: [27: -Fr.one], rho: rho).firstViolation(), "the short last group")
            XCTAssertNotNil(gatheredCircuit(offsets: [30: Self.twoToB], rho: rho).firstViolation())
            // Image 0 and image 1 at the same position share a group: C[0][0 * 4 + 1] and
            // C[0][1 * 4 + 1] carry into each other.
            XCTAssertNil(gatheredCircuit(offsets: [1: -Self.twoToB, 5: .one], rho: rho).firstViolation())
            XCTAssertNotNil(
                gatheredCircuit(offsets: [1: -Self.twoToB, 5: .one], rho: rho, rangeCheckC: true).firstViolation(),
                "C bounded: the carry has no witness")
        }
        XCTAssertNil(gatheredCircuit(rangeCheckC: true).firstViolation())
        XCTAssertLessThanOrEqual(
            gatheredCircuit().constraintCount,
            CS.gatheredFreivaldsCost(m: 2, n: 4, positions: 4, blocks: 7, length: 9, perGroup: 3) + 2)
    }
}
