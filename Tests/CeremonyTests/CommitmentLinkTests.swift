import Algebra
import Ceremony
import Circuit
import Groth16
import XCTest

/// The link between two committed proofs (`CommitmentLink`) and its ceremony (`LinkCeremony`),
/// attacked: openings that disagree on a paired wire (by the honest prover, and by an adversary
/// combining the key's points either way), a proof reused with another commitment, a swapped or
/// tampered key, a prover who knows the secrets, contributions that reset the secrets or are
/// replayed on another key, and wires whose committed value an opening would not fix.
final class CommitmentLinkTests: XCTestCase {
    typealias LC = LinearCombination<Fr>

    /// Commits to four 4-bit values x (range-checked by lookup: the limbs are committed too) and
    /// proves their weighted sum public.
    static func left(_ x: [Int64], oracle: (@Sendable ([Fr], [Fr]) -> Fr)?) -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        let weighted = x.enumerated().reduce(Int64(0)) { $0 + Int64($1.offset + 1) * $1.element }
        let out = cs.allocatePublic("weighted", value: Fr(weighted))
        _ = cs.allocatePublicInput("session", value: Fr(UInt64(7)))
        let table = LookupRangeTable<Fr>(limbBits: 4)
        let xs = x.enumerated().map { LC(cs.allocateCommitted("x\($0.offset)", value: Fr($0.element))) }
        for (i, v) in xs.enumerated() { _ = cs.lookupRange(v, bits: 4, table: table, "range\(i)") }
        var sum = LC()
        for (i, v) in xs.enumerated() { sum += v * Fr(UInt64(i + 1)) }
        cs.enforceEqual(sum, LC(out), "weighted")
        let m = table.commitMultiplicities(in: cs)
        cs.challengeOracle = oracle
        let r = cs.drawChallenge()
        table.prove(in: cs, multiplicities: m, challenge: r)
        return cs
    }

    /// Commits to four values x and one z, proves z + sum x^2 public; after the challenge r, a
    /// product r z (so the proof has a challenge to draw).
    static func right(
        _ x: [Int64], z: Int64, oracle: (@Sendable ([Fr], [Fr]) -> Fr)?
    ) -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("squares", value: Fr(x.reduce(z) { $0 + $1 * $1 }))
        _ = cs.allocatePublicInput("session", value: Fr(UInt64(7)))
        let xs = x.enumerated().map { cs.allocateCommitted("x\($0.offset)", value: Fr($0.element)) }
        let zv = cs.allocateCommitted("z", value: Fr(z))
        var total = LC(zv)
        for (i, v) in xs.enumerated() {
            let square = cs.allocatePrivate("square\(i)", value: Fr(x[i] * x[i]))
            cs.enforce(LC(v), LC(v), LC(square), "square\(i)")
            total += LC(square)
        }
        cs.enforceEqual(total, LC(out), "total")
        cs.challengeOracle = oracle
        let r = cs.drawChallenge()
        let product = cs.allocatePrivate("rz", value: cs.value(r) * Fr(z))
        cs.enforce(LC(r), LC(zv), LC(product), "rz")
        return cs
    }

    struct Proved {
        var proof: CommittedProof
        var opening: CommitmentOpening
        var committed: [Fr]
        var statement: [Fr]
    }

    /// A committed proof with its opening kept (what the client keeps between its two proofs).
    static func prove(
        key: ProvingKey, r1cs: R1CS<Fr>, build: (@escaping @Sendable ([Fr], [Fr]) -> Fr) -> ConstraintSystem<Fr>
    ) throws -> Proved {
        let commitmentKey = try XCTUnwrap(key.commitment)
        let committed = build { _, _ in .one }.committedValues
        let opening = Groth16.commit(commitmentKey, committed: committed)
        let cs = build { _, statement in
            Groth16.commitmentChallenge(commitment: opening.commitment, statement: statement)
        }
        XCTAssertNil(cs.firstViolation())
        XCTAssertEqual(cs.committedValues, committed)
        let witness = cs.witness()
        let proof = try Groth16.proveCommitted(key: key, r1cs: r1cs, witness: witness, opening: opening)
        let statement = Array(witness[1..<r1cs.numPublic])
        XCTAssertTrue(try Groth16.verifyCommitted(key: key.verifyingKey, proof: proof, statement: statement))
        return Proved(proof: proof, opening: opening, committed: committed, statement: statement)
    }

    struct Setting {
        var leftR1CS: R1CS<Fr>
        var rightR1CS: R1CS<Fr>
        var leftKey: ProvingKey
        var rightKey: ProvingKey
        var pairs: [CommitmentLinkKey.Pair]
        var leftCommitment: CommitmentKey { leftKey.commitment! }
        var rightCommitment: CommitmentKey { rightKey.commitment! }
    }

    let x: [Int64] = [3, 14, 0, 9]

    func setting() throws -> Setting {
        let leftR1CS = Self.left(x, oracle: nil).r1cs(), rightR1CS = Self.right(x, z: 5, oracle: nil).r1cs()
        let leftWires = try XCTUnwrap(leftR1CS.commitment?.wires),
            rightWires = try XCTUnwrap(rightR1CS.commitment?.wires)
        // Both circuits allocate x first among their committed wires.
        let shared = (0..<4).map { (left: leftWires[$0], right: rightWires[$0]) }
        let pairs = try CommitmentLink.pairs(left: leftR1CS, right: rightR1CS, shared: shared)
        XCTAssertEqual(pairs, (0..<4).map { CommitmentLinkKey.Pair(left: $0, right: $0) })
        return Setting(
            leftR1CS: leftR1CS, rightR1CS: rightR1CS, leftKey: try Groth16.setup(leftR1CS),
            rightKey: try Groth16.setup(rightR1CS), pairs: pairs)
    }

    func proveLeft(_ s: Setting, _ values: [Int64]) throws -> Proved {
        try Self.prove(key: s.leftKey, r1cs: s.leftR1CS) { Self.left(values, oracle: $0) }
    }

    func proveRight(_ s: Setting, _ values: [Int64], z: Int64 = 5) throws -> Proved {
        try Self.prove(key: s.rightKey, r1cs: s.rightR1CS) { Self.right(values, z: z, oracle: $0) }
    }

    func link(_ key: CommitmentLinkKey, _ l: Proved, _ r: Proved) throws -> G1Affine {
        try CommitmentLink.prove(
            key: key, left: l.committed, leftBlinding: l.opening.blinding, right: r.committed,
            rightBlinding: r.opening.blinding)
    }

    func verify(_ key: CommitmentLinkVerifyingKey, _ l: Proved, _ r: Proved, _ proof: G1Affine) throws -> Bool {
        try CommitmentLink.verify(key: key, left: l.proof.commitment, right: r.proof.commitment, proof: proof)
    }

    /// The column values an adversary would use for two openings, taking the paired columns'
    /// values from one side (`fromLeft`) or the other.
    func adversarialColumns(_ key: CommitmentLinkKey, _ l: Proved, _ r: Proved, fromLeft: Bool) -> [Fr] {
        var left = l.committed
        var paired = Set<Int>()
        for pair in key.pairs {
            paired.insert(pair.right)
            if !fromLeft { left[pair.left] = r.committed[pair.right] }
        }
        let rightOnly = r.committed.enumerated().filter { !paired.contains($0.offset) }.map(\.element)
        return left + rightOnly + [l.opening.blinding, r.opening.blinding]
    }

    func testHonestLinkVerifiesAndTheKeyIsWellFormed() throws {
        let s = try setting()
        let key = try CommitmentLink.developmentSetup(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        XCTAssertEqual(key.columnCount, s.leftCommitment.basis.count + s.rightCommitment.basis.count - 4 + 2)
        XCTAssertTrue(try CommitmentLink.isWellFormed(key, left: s.leftCommitment, right: s.rightCommitment))
        let l = try proveLeft(s, x), r = try proveRight(s, x)
        XCTAssertTrue(try verify(key.verifyingKey, l, r, try link(key, l, r)))
        // The right-only value (z) is free: another z links as well.
        let r9 = try proveRight(s, x, z: 9)
        XCTAssertTrue(try verify(key.verifyingKey, l, r9, try link(key, l, r9)))
    }

    /// The right proof is a valid proof about other data (x with one entry changed). The honest
    /// prover refuses; an adversary without the secrets, combining the key's points with the
    /// paired values of either side, is rejected; one who knows both secrets links them.
    func testOpeningsThatDisagreeCannotBeLinked() throws {
        let s = try setting()
        var other = x
        other[2] = 1
        let l = try proveLeft(s, x), r = try proveRight(s, other)
        let key = try CommitmentLink.developmentSetup(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        XCTAssertThrowsError(try link(key, l, r)) { error in
            XCTAssertEqual(error as? CommitmentLinkError, .openingsDisagree(leftWire: 2, rightWire: 2))
        }
        for fromLeft in [true, false] {
            let forged = MSM.multiply(bases: key.points, scalars: adversarialColumns(key, l, r, fromLeft: fromLeft))
            XCTAssertFalse(
                try verify(key.verifyingKey, l, r, forged.affine), "paired values from the left: \(fromLeft)")
        }
        // Both commitments' own terms, each under the key's points for its side alone, do not
        // add up to a link either: the points carry both secrets at once.
        let cL = Fr.random(), cR = Fr.random()
        let known = try CommitmentLink.setup(
            left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs, leftScale: cL, rightScale: cR)
        let forged = (l.proof.commitment.multiplied(by: cL) + r.proof.commitment.multiplied(by: cR)).affine
        XCTAssertTrue(try verify(known.verifyingKey, l, r, forged), "whoever knows c_L and c_R links anything")
        XCTAssertFalse(try verify(key.verifyingKey, l, r, forged))
    }

    /// A right value linked to a weighted sum of left wires (how a value is linked to the limbs
    /// it was range-checked by): right x0 = left x0 + 16 left x1 links; one more does not.
    func testARightValueLinksToAWeightedSumOfLeftWires() throws {
        let s = try setting()
        let leftWires = try XCTUnwrap(s.leftR1CS.commitment?.wires),
            rightWires = try XCTUnwrap(s.rightR1CS.commitment?.wires)
        let pairs = try CommitmentLink.pairs(
            left: s.leftR1CS, right: s.rightR1CS,
            links: [
                (left: leftWires[0], right: rightWires[0], coefficient: .one),
                (left: leftWires[1], right: rightWires[0], coefficient: Fr(UInt64(16))),
            ])
        let key = try CommitmentLink.developmentSetup(left: s.leftCommitment, right: s.rightCommitment, pairs: pairs)
        XCTAssertEqual(key.columnCount, s.leftCommitment.basis.count + s.rightCommitment.basis.count - 1 + 2)
        XCTAssertTrue(try CommitmentLink.isWellFormed(key, left: s.leftCommitment, right: s.rightCommitment))
        let l = try proveLeft(s, x)
        let combined = x[0] + 16 * x[1]
        let r = try proveRight(s, [combined, 1, 2, 3])
        XCTAssertTrue(try verify(key.verifyingKey, l, r, try link(key, l, r)))
        let off = try proveRight(s, [combined + 1, 1, 2, 3])
        XCTAssertThrowsError(try link(key, l, off)) {
            XCTAssertEqual($0 as? CommitmentLinkError, .openingsDisagree(leftWire: 1, rightWire: 0))
        }
        var values = l.committed + Array(off.committed.dropFirst()) + [l.opening.blinding, off.opening.blinding]
        XCTAssertFalse(try verify(key.verifyingKey, l, off, MSM.multiply(bases: key.points, scalars: values).affine))
        values[0] += .one
        XCTAssertFalse(try verify(key.verifyingKey, l, off, MSM.multiply(bases: key.points, scalars: values).affine))
    }

    /// A link proof is bound to the two commitments, blindings included: it fails with a fresh
    /// proof of the same values (another blinding), under another key, and the well-formedness
    /// check catches a key with one point moved or made for other commitments.
    func testReusedProofsAndSwappedOrTamperedKeysFail() throws {
        let s = try setting()
        let key = try CommitmentLink.developmentSetup(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        let l = try proveLeft(s, x), r = try proveRight(s, x)
        let proof = try link(key, l, r)
        let l2 = try proveLeft(s, x), r2 = try proveRight(s, x)
        XCTAssertNotEqual(l.proof.commitment, l2.proof.commitment)
        XCTAssertFalse(try verify(key.verifyingKey, l2, r, proof))
        XCTAssertFalse(try verify(key.verifyingKey, l, r2, proof))
        XCTAssertFalse(try verify(key.verifyingKey, r, l, proof), "the sides swapped")
        XCTAssertTrue(try verify(key.verifyingKey, l2, r2, try link(key, l2, r2)))

        let other = try CommitmentLink.developmentSetup(
            left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        XCTAssertFalse(try verify(other.verifyingKey, l, r, proof))
        XCTAssertFalse(try verify(key.verifyingKey, l, r, try link(other, l, r)))

        var tampered = key
        tampered.points[1] = (tampered.points[1].jacobian + G1Affine.generator).affine
        XCTAssertFalse(try CommitmentLink.isWellFormed(tampered, left: s.leftCommitment, right: s.rightCommitment))
        var swappedScale = key
        swappedScale.verifyingKey.leftScale = other.verifyingKey.leftScale
        XCTAssertFalse(try CommitmentLink.isWellFormed(swappedScale, left: s.leftCommitment, right: s.rightCommitment))
        // The key for commitments under other proving keys (same circuits, other setup).
        let otherLeft = try XCTUnwrap(try Groth16.setup(s.leftR1CS).commitment)
        XCTAssertFalse(try CommitmentLink.isWellFormed(key, left: otherLeft, right: s.rightCommitment))
        XCTAssertThrowsError(try CommitmentLink.isWellFormed(key, left: s.rightCommitment, right: s.leftCommitment))

        XCTAssertThrowsError(
            try CommitmentLink.verify(
                key: key.verifyingKey, left: .infinity, right: r.proof.commitment, proof: proof))
        XCTAssertThrowsError(
            try CommitmentLink.verify(
                key: key.verifyingKey, left: l.proof.commitment, right: r.proof.commitment, proof: .infinity))
        XCTAssertThrowsError(
            try CommitmentLink.prove(
                key: key, left: Array(l.committed.dropLast()), leftBlinding: l.opening.blinding, right: r.committed,
                rightBlinding: r.opening.blinding)
        ) {
            XCTAssertEqual(
                $0 as? CommitmentLinkError,
                .openingLength(side: "left", expected: l.committed.count, got: l.committed.count - 1))
        }
    }

    /// Pairs must name committed, separable wires, each once. Two wires that only ever appear
    /// as y1 + y2 are refused (an opening could move value between them); a third that shares a
    /// row with them but has a row of its own is separable.
    func testPairsMustBeCommittedSeparableAndUnique() throws {
        let s = try setting()
        let leftWires = try XCTUnwrap(s.leftR1CS.commitment?.wires),
            rightWires = try XCTUnwrap(s.rightR1CS.commitment?.wires)
        XCTAssertThrowsError(try CommitmentLink.pairs(left: s.leftR1CS, right: s.rightR1CS, shared: [])) {
            XCTAssertEqual($0 as? CommitmentLinkError, .noPairs)
        }
        XCTAssertThrowsError(
            try CommitmentLink.pairs(left: s.leftR1CS, right: s.rightR1CS, shared: [(left: 1, right: rightWires[0])])
        ) { XCTAssertEqual($0 as? CommitmentLinkError, .notCommitted(side: "left", wire: 1)) }
        XCTAssertThrowsError(
            try CommitmentLink.pairs(
                left: s.leftR1CS, right: s.rightR1CS,
                shared: [(left: leftWires[0], right: rightWires[0]), (left: leftWires[0], right: rightWires[1])])
        ) { XCTAssertEqual($0 as? CommitmentLinkError, .pairedTwice(side: "left", wire: leftWires[0])) }
        XCTAssertThrowsError(
            try CommitmentLink.pairs(
                left: s.leftR1CS, right: s.rightR1CS,
                links: [(left: leftWires[0], right: rightWires[0], coefficient: .zero)])
        ) { XCTAssertEqual($0 as? CommitmentLinkError, .zeroCoefficient(leftWire: leftWires[0])) }

        let cs = ConstraintSystem<Fr>()
        let sum = cs.allocatePublic("sum", value: Fr(UInt64(12)))
        let y1 = cs.allocateCommitted("y1", value: Fr(UInt64(3))), y2 = cs.allocateCommitted("y2", value: Fr(UInt64(4)))
        let y3 = cs.allocateCommitted("y3", value: Fr(UInt64(5)))
        cs.enforceEqual(LC(y1) + LC(y2) + LC(y3), LC(sum), "sum")
        let r = cs.drawChallenge()
        let product = cs.allocatePrivate("ry", value: cs.value(r) * Fr(UInt64(7)))
        cs.enforce(LC(r), LC(y1) + LC(y2), LC(product), "ry")
        let y3Square = cs.allocatePrivate("y3squared", value: Fr(UInt64(25)))
        cs.enforce(LC(y3), LC(y3), LC(y3Square), "y3squared")
        let entangled = cs.r1cs()
        XCTAssertNil(cs.firstViolation())
        let wires = try XCTUnwrap(entangled.commitment?.wires)
        XCTAssertNoThrow(
            try CommitmentLink.pairs(
                left: s.leftR1CS, right: entangled, shared: [(left: leftWires[0], right: wires[2])]))
        for k in 0..<2 {
            XCTAssertThrowsError(
                try CommitmentLink.pairs(
                    left: s.leftR1CS, right: entangled, shared: [(left: leftWires[0], right: wires[k])])
            ) { XCTAssertEqual($0 as? CommitmentLinkError, .notSeparable(side: "right", wire: wires[k])) }
        }
    }

    /// Two contributions from zero: each verifies against its before and after, the final key
    /// is well formed and links; a contribution that resets the secrets to values the attacker
    /// knows, or one replayed on another key, is refused.
    func testLinkCeremony() throws {
        let s = try setting()
        let context = LinkCeremony.Context(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        let start = try LinkCeremony.start(context)
        XCTAssertTrue(start.points.allSatisfy(\.isInfinity))
        XCTAssertThrowsError(try CommitmentLink.isWellFormed(start, left: s.leftCommitment, right: s.rightCommitment)) {
            XCTAssertEqual($0 as? CommitmentLinkError, .zeroSecret)
        }
        var key = start
        let first = try LinkCeremony.contribute(&key, context: context)
        let afterFirst = key
        let second = try LinkCeremony.contribute(&key, context: context)
        func moves(_ c: LinkContribution, _ before: CommitmentLinkKey, _ after: CommitmentLinkKey) -> Bool {
            LinkCeremony.verify(c, context: context, before: before.verifyingKey, after: after.verifyingKey)
        }
        XCTAssertTrue(moves(first, start, afterFirst))
        XCTAssertTrue(moves(second, afterFirst, key))
        XCTAssertFalse(moves(second, start, key), "replayed at another position")
        XCTAssertFalse(moves(first, start, key), "scales moved by more")
        // Replayed into a link for other commitment keys (the same pairs and scales).
        var otherRight = s.rightCommitment
        otherRight.etaGamma = G1Affine.generator.multiplied(by: Fr.random()).affine
        let other = LinkCeremony.Context(left: s.leftCommitment, right: otherRight, pairs: s.pairs)
        XCTAssertFalse(
            LinkCeremony.verify(first, context: other, before: start.verifyingKey, after: afterFirst.verifyingKey),
            "replayed in another link")
        XCTAssertTrue(try CommitmentLink.isWellFormed(key, left: s.leftCommitment, right: s.rightCommitment))
        let l = try proveLeft(s, x), r = try proveRight(s, x)
        XCTAssertTrue(try verify(key.verifyingKey, l, r, try link(key, l, r)))

        // The reset: the attacker wants c_L = t, c_R = u it knows. The final key t left + u right
        // needs no secret and is well formed; the contribution must claim shares [t]_2 - [c_L]_2
        // and [u]_2 - [c_R]_2, whose logarithms it does not know. Its best: proofs of knowledge
        // for shares it does know, which then disagree with the claimed G2 shares.
        let t = Fr.random(), u = Fr.random()
        let reset = try CommitmentLink.setup(
            left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs, leftScale: t, rightScale: u)
        XCTAssertTrue(try CommitmentLink.isWellFormed(reset, left: s.leftCommitment, right: s.rightCommitment))
        var scratch = key
        var claimed = try LinkCeremony.contribute(&scratch, context: context)
        claimed.leftG2 = (reset.verifyingKey.leftScale.jacobian - key.verifyingKey.leftScale.jacobian).affine
        claimed.rightG2 = (reset.verifyingKey.rightScale.jacobian - key.verifyingKey.rightScale.jacobian).affine
        XCTAssertFalse(moves(claimed, key, reset))
        // The G1 shares can match: [c_L]_1 is the sum of the published G1 shares. Then the
        // proofs of knowledge fail: the attacker can scale its share by s, not the hashed G2
        // point by the share's unknown logarithm.
        let published = [first, second]
        for (side, scale) in [(0, t), (1, u)] {
            let sum = published.reduce(G1Affine.infinity.jacobian) { $0 + (side == 0 ? $1.leftG1 : $1.rightG1) }
            let share = (G1Affine.generator.multiplied(by: scale) - sum).affine
            let s = Fr.random()
            let proof = KnowledgeProof(
                g1S: G1Affine.generator.multiplied(by: s).affine, g1SX: share.multiplied(by: s).affine,
                g2SPX: G2Affine.generator.multiplied(by: Fr.random()).affine)
            if side == 0 {
                claimed.leftG1 = share
                claimed.leftProof = proof
            } else {
                claimed.rightG1 = share
                claimed.rightProof = proof
            }
        }
        XCTAssertFalse(moves(claimed, key, reset))
    }

    /// The link key file: it round-trips; a wrong magic, a flipped byte, a truncation and
    /// tampering with the checksum recomputed (a pair out of range or out of order, a zero or
    /// unreduced coefficient, a point off the
    /// curve, a scale at infinity, a missing point, trailing bytes) are refused with a typed
    /// error; a valid point moved with the checksum recomputed loads and fails `isWellFormed`.
    func testLinkKeyFileRoundTripAndTampering() throws {
        let s = try setting()
        let key = try CommitmentLink.developmentSetup(left: s.leftCommitment, right: s.rightCommitment, pairs: s.pairs)
        let bytes = LinkKeyFile.encode(key)
        XCTAssertEqual(try LinkKeyFile.decode(bytes), key)
        func resealed(_ body: [UInt8]) -> [UInt8] { body + SHA256.hash(body) }
        let body = Array(bytes.dropLast(32))
        XCTAssertThrowsError(try LinkKeyFile.decode(Array("VSPK".utf8) + bytes.dropFirst(4))) {
            XCTAssertEqual($0 as? KeyFileError, .notAKeyFile(file: "link.key"))
        }
        var flipped = bytes
        flipped[40] ^= 1
        XCTAssertThrowsError(try LinkKeyFile.decode(flipped)) {
            XCTAssertEqual($0 as? KeyFileError, .checksumMismatch(file: "link.key"))
        }
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(Array(body.dropLast(100)))))
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(body + [0])))
        // Layout: magic, version, left count, right count, pair count at 16, pairs from 20.
        var outOfRange = body
        outOfRange[20] = UInt8(key.leftCount)
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(outOfRange)))
        // Each pair: u32 left, u32 right, 32-byte coefficient.
        var repeated = body
        repeated[60..<64] = repeated[20..<24]
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(repeated)), "left positions must increase")
        var zero = body
        zero.replaceSubrange(28..<60, with: [UInt8](repeating: 0, count: 32))
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(zero)), "a zero coefficient")
        var unreduced = body
        unreduced.replaceSubrange(28..<60, with: [UInt8](repeating: 0xff, count: 32))
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(unreduced)), "a coefficient not below r")
        let pointsStart = 20 + 40 * key.pairs.count + 4
        var offCurve = body
        offCurve[pointsStart + 63] ^= 1
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(offCurve)))
        var noScale = body
        noScale.replaceSubrange((body.count - 256)..<(body.count - 128), with: [UInt8](repeating: 0, count: 128))
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(noScale)))
        var fewer = body
        fewer.removeSubrange(pointsStart..<(pointsStart + 64))
        fewer[pointsStart - 4] &-= 1
        XCTAssertThrowsError(try LinkKeyFile.decode(resealed(fewer)))
        var swapped = body
        let a = Array(swapped[pointsStart..<(pointsStart + 64)])
        swapped.replaceSubrange(
            pointsStart..<(pointsStart + 64), with: swapped[(pointsStart + 64)..<(pointsStart + 128)])
        swapped.replaceSubrange((pointsStart + 64)..<(pointsStart + 128), with: a)
        let loaded = try LinkKeyFile.decode(resealed(swapped))
        XCTAssertFalse(try CommitmentLink.isWellFormed(loaded, left: s.leftCommitment, right: s.rightCommitment))
    }
}
