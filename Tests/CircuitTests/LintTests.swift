import Algebra
import Circuit
import XCTest

/// The under-constraint linter on seeded circuits: each bug class is flagged, each sound pattern
/// passes, and the findings survive a round trip through the circom file format.
final class LintTests: XCTestCase {
    typealias CS = ConstraintSystem<Fr>
    typealias LC = LinearCombination<Fr>

    func lint(_ cs: CS) -> R1CSLinter<Fr>.Report {
        let names = Dictionary(uniqueKeysWithValues: cs.wireNames().enumerated().map { ($0.offset, $0.element) })
        var linter = R1CSLinter(cs.r1cs(), names: names)
        return linter.run()
    }

    func kinds(_ report: R1CSLinter<Fr>.Report) -> Set<String> { Set(report.findings.map(\.kind.rawValue)) }

    /// q = floor(acc / 2^S) with both hints range-checked: unique, so the output is determined.
    func rescaleCircuit(checkRemainder: Bool) -> CS {
        let cs = CS()
        let a = cs.allocatePrivateInput("a", value: Fr(UInt64(1000)))
        let w = cs.allocatePrivateInput("w", value: Fr(UInt64(77)))
        cs.assertRange(LC(a), bits: 16, "aRange")
        cs.assertRange(LC(w), bits: 16, "wRange")
        let product = cs.multiply(LC(a), LC(w), "product")
        let q = cs.allocatePrivate("q", value: Fr(UInt64(77_000 >> 8)))
        if checkRemainder {
            cs.assertRange(LC(product) - LC(q, Fr(UInt64(256))), bits: 8, "remainder")
        }
        cs.assertRange(LC(q), bits: 24, "quotient")
        let out = cs.allocatePublic("out", value: cs.value(q))
        cs.enforceEqual(LC(out), LC(q), "out")
        XCTAssertTrue(cs.isSatisfied)
        return cs
    }

    func testRescaleWithBothRangeChecksIsClean() {
        let report = lint(rescaleCircuit(checkRemainder: true))
        XCTAssertTrue(report.isClean, "\(report.findings)")
        XCTAssertEqual(report.boundedPrivateInputs, 2)
    }

    /// Without the remainder's range check the quotient is free: q' = q + k with remainder
    /// r - k 2^S satisfies the same constraints, and the output is not determined.
    func testRescaleWithoutRemainderCheckIsFlagged() {
        let report = lint(rescaleCircuit(checkRemainder: false))
        XCTAssertTrue(kinds(report).contains("output-not-determined"), "\(report.findings)")
        XCTAssertTrue(report.findings.contains { $0.name == "out" })
    }

    func testHintNeverConstrainedIsFlagged() {
        let cs = CS()
        let x = cs.allocatePrivateInput("x", value: Fr(UInt64(3)))
        cs.assertRange(LC(x), bits: 8)
        let hint = cs.allocatePrivate("hint", value: Fr(UInt64(9)))
        // The hint is used in the output but never pinned to x * x.
        let out = cs.allocatePublic("out", value: Fr(UInt64(10)))
        cs.enforceEqual(LC(out), LC(hint) + Fr.one, "out")
        let report = lint(cs)
        XCTAssertTrue(kinds(report).contains("output-not-determined"))
        XCTAssertTrue(kinds(report).contains("wire-not-determined"))
        XCTAssertTrue(report.findings.contains { $0.name == "hint" })
    }

    func testUnconstrainedWireIsFlagged() {
        let cs = CS()
        _ = cs.allocatePrivate("orphan", value: .one)
        let report = lint(cs)
        XCTAssertEqual(report.findings.map(\.kind.rawValue), ["unconstrained-wire"])
    }

    /// Today's client input before the fix: a private input read as an integer (it feeds a
    /// rescale) without a range check.
    func testUnboundedPrivateInputFeedingARescaleIsFlagged() {
        let cs = CS()
        let x = cs.allocatePrivateInput("x", value: Fr(UInt64(5)))
        let w = cs.allocatePrivateInput("w", value: Fr(UInt64(3)))
        cs.assertRange(LC(w), bits: 8, "wRange")
        let product = cs.multiply(LC(x), LC(w))
        let q = cs.allocatePrivate("q", value: .zero)
        cs.assertRange(LC(product) - LC(q, Fr(UInt64(256))), bits: 8, "remainder")
        cs.assertRange(LC(q), bits: 8, "quotient")
        let report = lint(cs)
        XCTAssertEqual(report.findings.map(\.kind.rawValue), ["unbounded-private-input"])
        XCTAssertEqual(report.findings.first?.name, "x")
    }

    /// A salt that only enters a hash is a field element by design: not reported.
    func testPrivateInputThatOnlyFeedsAProductChainIsNotAnInteger() {
        let cs = CS()
        let salt = cs.allocatePrivateInput("salt", value: Fr(UInt64(123_456)))
        let square = cs.multiply(LC(salt), LC(salt))
        let out = cs.allocatePublic("digest", value: cs.value(square) + Fr(UInt64(7)))
        cs.enforceEqual(LC(out), LC(square) + Fr(UInt64(7)))
        XCTAssertTrue(lint(cs).isClean)
    }

    func testIsZeroOutputIsDeterminedAndItsHintIsFreeByDesign() {
        for value: UInt64 in [0, 5] {
            let cs = CS()
            let v = cs.allocatePrivateInput("v", value: Fr(value))
            cs.assertRange(LC(v), bits: 8)
            let z = cs.isZero(LC(v))
            let out = cs.allocatePublic("out", value: cs.value(z))
            cs.enforceEqual(LC(out), LC(z))
            let report = lint(cs)
            XCTAssertTrue(report.isClean, "\(report.findings)")
            XCTAssertEqual(report.freeByDesign.count, 1)
        }
    }

    /// floor(N / D) with q range-checked, 0 <= N - qD and D - 1 - (N - qD) range-checked.
    func testEuclideanDivisionIsDetermined() {
        let cs = CS()
        let n = cs.allocatePrivateInput("n", value: Fr(UInt64(1000)))
        let d = cs.allocatePrivateInput("d", value: Fr(UInt64(37)))
        cs.assertRange(LC(n), bits: 16)
        cs.assertRange(LC(d), bits: 16)
        let q = cs.allocatePrivate("q", value: Fr(UInt64(1000 / 37)))
        cs.assertRange(LC(q), bits: 16, "qRange")
        let qd = cs.multiply(LC(q), LC(d), "qd")
        let remainder = LC(n) - LC(qd)
        cs.assertRange(remainder, bits: 16, "remainder")
        cs.assertRange(LC(d) - remainder - LC.one, bits: 16, "belowDivisor")
        let out = cs.allocatePublic("q", value: cs.value(q))
        cs.enforceEqual(LC(out), LC(q))
        XCTAssertTrue(cs.isSatisfied)
        let report = lint(cs)
        XCTAssertTrue(report.isClean, "\(report.findings)")
        XCTAssertEqual(report.ruleCounts["division"], 1)
        // Without the upper bound the quotient is not unique.
        let loose = CS()
        let n2 = loose.allocatePrivateInput("n", value: Fr(UInt64(1000)))
        let d2 = loose.allocatePrivateInput("d", value: Fr(UInt64(37)))
        loose.assertRange(LC(n2), bits: 16)
        loose.assertRange(LC(d2), bits: 16)
        let q2 = loose.allocatePrivate("q", value: Fr(UInt64(1000 / 37)))
        loose.assertRange(LC(q2), bits: 16, "qRange")
        let qd2 = loose.multiply(LC(q2), LC(d2), "qd")
        loose.assertRange(LC(n2) - LC(qd2), bits: 16, "remainder")
        let out2 = loose.allocatePublic("q", value: loose.value(q2))
        loose.enforceEqual(LC(out2), LC(q2))
        XCTAssertTrue(kinds(lint(loose)).contains("output-not-determined"))
    }

    func testComparisonAndSelectAreDetermined() {
        let cs = CS()
        let a = cs.allocatePrivateInput("a", value: Fr(UInt64(12)))
        let b = cs.allocatePrivateInput("b", value: Fr(UInt64(40)))
        cs.assertRange(LC(a), bits: 8)
        cs.assertRange(LC(b), bits: 8)
        let less = cs.lessThan(LC(a), LC(b), bits: 8)
        let max = cs.select(less, LC(b), LC(a))
        let out = cs.allocatePublic("max", value: cs.value(max))
        cs.enforceEqual(LC(out), LC(max))
        XCTAssertTrue(lint(cs).isClean)
    }

    func testInputsAndOutputsSurviveTheCircomFormatAndSymbols() throws {
        let cs = rescaleCircuit(checkRemainder: false)
        let r1cs = try Circom.readR1CS(Circom.writeR1CS(cs.r1cs()))
        XCTAssertEqual(r1cs.numPublicOutputs, 1)
        XCTAssertEqual(r1cs.numPrivateInputs, 2)
        let names = try Circom.readSymbols(Circom.writeSymbols(cs.wireNames()), wireCount: r1cs.numWires)
        var linter = R1CSLinter(r1cs, names: names)
        let report = linter.run()
        XCTAssertTrue(report.findings.contains { $0.kind == .outputNotDetermined && $0.name == "out" })
        XCTAssertThrowsError(try Circom.readSymbols("1,1,0,a\nnot a line\n", wireCount: 5))
        XCTAssertThrowsError(try Circom.readSymbols("1,99,0,a\n", wireCount: 5))
        XCTAssertEqual(try Circom.readSymbols("1,-1,0,gone\n2,2,0,b\n", wireCount: 5), [2: "b"])
    }

    /// The wire layout puts outputs before public inputs and private inputs before hints, in
    /// allocation order within each class, and the statement follows it.
    func testLayoutOrdersOutputsThenInputs() {
        let cs = CS()
        let session = cs.allocatePublicInput("session", value: Fr(UInt64(9)))
        let hint = cs.allocatePrivate("hint", value: Fr(UInt64(2)))
        let x = cs.allocatePrivateInput("x", value: Fr(UInt64(3)))
        let y = cs.allocatePublic("y", value: Fr(UInt64(6)))
        cs.enforce(LC(hint), LC(x), LC(y))
        XCTAssertEqual(cs.publicValues, [Fr(UInt64(6)), Fr(UInt64(9))])
        XCTAssertEqual(cs.wire(y), 1)
        XCTAssertEqual(cs.wire(session), 2)
        XCTAssertEqual(cs.wire(x), 3)
        XCTAssertEqual(cs.wire(hint), 4)
        XCTAssertEqual(cs.witness(), [.one, Fr(UInt64(6)), Fr(UInt64(9)), Fr(UInt64(3)), Fr(UInt64(2))])
        XCTAssertTrue(cs.r1cs().isSatisfied(by: cs.witness()))
        XCTAssertEqual(cs.publicVariable(0), y)
        XCTAssertEqual(cs.publicVariable(named: "session"), session)
    }

    // MARK: Proof commitment (rule 6)

    /// C = A B for 2x2 matrices of private inputs, C a committed hint: checked by Freivalds on
    /// the challenge (clean), or never checked (every entry of C flagged, and the output too
    /// when nothing else pins it).
    func committedProduct(checked: Bool) -> CS {
        let cs = CS()
        let values: [UInt64] = [1, 2, 3, 4]
        let a = values.enumerated().map { cs.allocatePrivateInput("a\($0.offset)", value: Fr($0.element)) }
        let b = values.enumerated().map { cs.allocatePrivateInput("b\($0.offset)", value: Fr($0.element + 4)) }
        for v in a + b { cs.assertRange(LC(v), bits: 8) }
        let product: [UInt64] = [19, 22, 43, 50]
        let out = cs.allocatePublic("trace", value: product.reduce(Fr.zero) { $0 + Fr($1) })
        let c = product.enumerated().map { cs.allocateCommitted("c\($0.offset)", value: Fr($0.element)) }
        let challenge = cs.drawChallenge()
        if checked {
            let powers = cs.challengePowers(challenge, count: 2)
            cs.freivalds(
                LCMatrix(rows: 2, columns: 2, entries: a.map { LC($0) }),
                LCMatrix(rows: 2, columns: 2, entries: b.map { LC($0) }),
                equals: LCMatrix(rows: 2, columns: 2, entries: c.map { LC($0) }), challenge: challenge,
                rhoPowers: powers)
        }
        cs.enforceEqual(LC(out), c.reduce(LC()) { $0 + LC($1) }, "trace")
        XCTAssertTrue(cs.isSatisfied)
        return cs
    }

    func testCommittedHintCheckedByFreivaldsIsClean() {
        let report = lint(committedProduct(checked: true))
        XCTAssertTrue(report.isClean, "\(report.findings)")
        XCTAssertEqual(report.ruleCounts["commitment"], 4)
    }

    func testCommittedHintNothingChecksIsFlagged() {
        let report = lint(committedProduct(checked: false))
        let unchecked = report.findings.filter { $0.kind == .committedUnchecked }.compactMap(\.name)
        XCTAssertEqual(Set(unchecked), ["c0", "c1", "c2", "c3"])
    }

    /// The commitment section survives the circom file round trip, and so does the finding.
    func testCommittedFindingSurvivesTheFileFormat() throws {
        let cs = committedProduct(checked: false)
        let decoded = try Circom.readR1CS(Circom.writeR1CS(cs.r1cs()))
        XCTAssertEqual(decoded.commitment, cs.r1cs().commitment)
        var linter = R1CSLinter(decoded)
        XCTAssertEqual(linter.run().findings.filter { $0.kind == .committedUnchecked }.count, 4)
    }
}
