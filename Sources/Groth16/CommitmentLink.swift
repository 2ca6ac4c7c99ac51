import Algebra
import Circuit
import Dispatch

/// A link between two committed proofs (LegoSNARK's CP-link, ePrint 2019/142, in its
/// knowledge-of-exponent form): a proof that the commitments D_L and D_R of two proofs made
/// under different keys agree on chosen committed wires: each linked right wire equals a fixed
/// linear combination of left wires (one left wire with coefficient 1, or the limbs a value
/// was range-checked by, with their weights). It lets a
/// party prove two steps about the same private data (the split client's forward and update
/// proofs about one batch of images) without opening, hashing and range-checking that data in
/// both circuits.
///
/// Columns: every left committed wire i (its right part a_i right_j if it is linked to right
/// wire j with coefficient a_i, else none), then every right committed wire no left wire links
/// to, then the two blinding bases [eta/gamma]_1. For secrets c_L and c_R the prover's key holds
/// E_k = c_L left_k + c_R right_k per column and the verifier's [c_L]_2 and [c_R]_2. The proof is
/// P = sum_k v_k E_k over the column values (left values, then the unlinked right values, then
/// the blindings), which is c_L D_L + c_R D_R when every linked right value is its combination
/// of left values. The check:
///
///     e(P, [1]_2) = e(D_L, [c_L]_2) e(D_R, [c_R]_2).
///
/// Soundness, in the algebraic group model with c_L and c_R unknown to the prover. The points
/// that carry c_L or c_R are the E_k and, from a ceremony, [c_L]_1 and [c_R]_1 (sums of the
/// published G1 shares) and the shares' proof-of-knowledge pairs (s G, x s G). Those others
/// cannot help: they would put the generator or s G into D_L or D_R, outside the commitment
/// bases' span (no combination of committed columns is 1 on every row of the domain: padding
/// and public-input rows have none), which each commitment's knowledge check forbids. So
/// P = sum_k X_k E_k, and comparing the c_L and the c_R parts gives D_L = sum_k X_k left_k and
/// D_R = sum_k X_k right_k with one X: a linked right wire's value is the combination of the left
/// wires' values. Every linked wire must also be separable in its circuit (its column independent
/// of the other committed wires', which `pairs(left:right:links:)` checks), so its value in an
/// opening is unique and the link speaks of the values the proofs use. (Another opening would
/// differ by a null vector of the committed columns, which satisfies the circuit as well; the
/// check is conservative and keeps the argument plain.) The two secrets must be independent: a
/// known ratio c_R / c_L lets a prover move a point that lies in both bases' spans from one
/// commitment to the other. So a ceremony adds c_L and c_R up from contributions with proofs of
/// knowledge (`LinkCeremony`), and whoever knows both links anything (tested): a development
/// setup's process, like the Groth16 toxic waste.
///
/// Zero knowledge: P = c_L D_L + c_R D_R is a function of the two commitments, which hide.
/// Cost: proving is one MSM over the columns (mostly short scalars for quantized data);
/// verifying is a three-pair pairing check.
public enum CommitmentLink {}

/// Why a link could not be set up, proved or checked; tests match on the case.
public enum CommitmentLinkError: Error, Equatable, CustomStringConvertible {
    /// A pair names a wire that this side's commitment does not hold.
    case notCommitted(side: String, wire: Int)
    /// A left wire is linked twice.
    case pairedTwice(side: String, wire: Int)
    /// A link's coefficient is zero (it would link nothing).
    case zeroCoefficient(leftWire: Int)
    /// This paired wire's column could not be shown independent of the other committed wires'
    /// (see `firstInseparable`), so an opening of the commitment need not fix its value.
    case notSeparable(side: String, wire: Int)
    /// There is nothing to link.
    case noPairs
    /// An opening has another number of values than its commitment key has wires.
    case openingLength(side: String, expected: Int, got: Int)
    /// A linked right value is not its combination of left values: the honest prover refuses
    /// (the link would not verify). Positions in each side's committed wires.
    case openingsDisagree(leftWire: Int, rightWire: Int)
    /// The link key's columns do not match the commitment keys it is used with.
    case keyMismatch(String)
    /// A commitment or the proof is the point at infinity.
    case identityPoint(String)
    /// A secret of the link is zero (a key that links nothing, or a degenerate contribution).
    case zeroSecret

    public var description: String {
        switch self {
        case .notCommitted(let side, let wire):
            return "link: the \(side) circuit does not commit to wire \(wire); pair committed wires only"
        case .pairedTwice(let side, let wire):
            return "link: wire \(wire) of the \(side) circuit is linked twice; each left wire links at most once"
        case .zeroCoefficient(let wire): return "link: left wire \(wire) is linked with coefficient zero"
        case .notSeparable(let side, let wire):
            return "link: wire \(wire) of the \(side) circuit is not separable from the other committed wires, so "
                + "its committed value need not be unique; constrain it on its own (a range check, say)"
        case .noPairs: return "link: no wire pairs given; a link needs at least one"
        case .openingLength(let side, let expected, let got):
            return "link: the \(side) opening has \(got) values, its commitment key \(expected) wires"
        case .openingsDisagree(let left, let right):
            return "link: the openings disagree on left wire \(left) and right wire \(right); refusing to link"
        case .keyMismatch(let why): return "link: the key does not match the commitment keys: \(why)"
        case .identityPoint(let what): return "link: \(what) is the point at infinity"
        case .zeroSecret: return "link: a secret is zero; the key links nothing"
        }
    }
}

/// The verifier's part of a link key: [c_L]_2 and [c_R]_2.
public struct CommitmentLinkVerifyingKey: Sendable, Equatable {
    public var leftScale: G2Affine
    public var rightScale: G2Affine

    public init(leftScale: G2Affine, rightScale: G2Affine) {
        self.leftScale = leftScale
        self.rightScale = rightScale
    }
}

/// A link key: the pairs, the column points E_k and the verifying key.
public struct CommitmentLinkKey: Sendable, Equatable {
    /// A left wire's share in a linked right wire: right value = sum over its pairs of
    /// coefficient * left value. Positions in the left and the right commitment key's `wires`.
    public struct Pair: Sendable, Equatable, Hashable {
        public var left: Int
        public var right: Int
        public var coefficient: Fr

        public init(left: Int, right: Int, coefficient: Fr = .one) {
            self.left = left
            self.right = right
            self.coefficient = coefficient
        }
    }

    /// Strictly increasing in `left`; a right position may repeat (a combination of left wires).
    public var pairs: [Pair]
    public var leftCount: Int
    public var rightCount: Int
    /// E_k per column (see `CommitmentLink`): `columnCount` points.
    public var points: [G1Affine]
    public var verifyingKey: CommitmentLinkVerifyingKey

    public init(
        pairs: [Pair], leftCount: Int, rightCount: Int, points: [G1Affine], verifyingKey: CommitmentLinkVerifyingKey
    ) {
        self.pairs = pairs
        self.leftCount = leftCount
        self.rightCount = rightCount
        self.points = points
        self.verifyingKey = verifyingKey
    }

    public var columnCount: Int { leftCount + rightCount - Set(pairs.map(\.right)).count + 2 }
}

extension CommitmentLink {
    /// The pairs, as positions in each side's committed wires, from (left wire, right wire,
    /// coefficient) in wire numbers; checks that every linked wire is committed, that no left
    /// wire is linked twice, that no coefficient is zero and that every linked wire is separable
    /// in its circuit. Cost: one pass over the three matrices of each circuit.
    public static func pairs(
        left: R1CS<Fr>, right: R1CS<Fr>, links: [(left: Int, right: Int, coefficient: Fr)]
    ) throws(CommitmentLinkError) -> [CommitmentLinkKey.Pair] {
        guard !links.isEmpty else { throw .noPairs }
        let leftWires = left.commitment?.wires ?? [], rightWires = right.commitment?.wires ?? []
        let leftPosition = Dictionary(uniqueKeysWithValues: leftWires.enumerated().map { ($1, $0) })
        let rightPosition = Dictionary(uniqueKeysWithValues: rightWires.enumerated().map { ($1, $0) })
        var pairs: [CommitmentLinkKey.Pair] = []
        var usedLeft = Set<Int>(), usedRight = Set<Int>()
        for (l, r, coefficient) in links {
            guard let i = leftPosition[l] else { throw .notCommitted(side: "left", wire: l) }
            guard let j = rightPosition[r] else { throw .notCommitted(side: "right", wire: r) }
            guard usedLeft.insert(l).inserted else { throw .pairedTwice(side: "left", wire: l) }
            guard !coefficient.isZero else { throw .zeroCoefficient(leftWire: l) }
            usedRight.insert(r)
            pairs.append(.init(left: i, right: j, coefficient: coefficient))
        }
        if let wire = firstInseparable(left, among: usedLeft) { throw .notSeparable(side: "left", wire: wire) }
        if let wire = firstInseparable(right, among: usedRight) { throw .notSeparable(side: "right", wire: wire) }
        return pairs.sorted { $0.left < $1.left }
    }

    /// One-to-one pairs (coefficient 1): the same value on both sides.
    public static func pairs(
        left: R1CS<Fr>, right: R1CS<Fr>, shared: [(left: Int, right: Int)]
    ) throws(CommitmentLinkError) -> [CommitmentLinkKey.Pair] {
        try pairs(left: left, right: right, links: shared.map { ($0.left, $0.right, Fr.one) })
    }

    /// The first wire of `wires` (in increasing order) whose column in (A | B | C) is not shown
    /// independent of the other committed wires' columns, by peeling: a row holding one committed
    /// wire not yet shown independent shows that one (its coefficient in any vanishing
    /// combination must be zero), and so on until nothing moves. A range-checked value passes
    /// through its limbs: each limb has its own lookup row, then the recomposition row frees the
    /// value. An independent column makes the wire's value in an opening unique.
    /// Cost: linear in the nonzero entries.
    static func firstInseparable(_ r1cs: R1CS<Fr>, among wires: Set<Int>) -> Int? {
        let committed = r1cs.commitment?.wires ?? []
        var index = [Int: Int]()
        for (i, wire) in committed.enumerated() { index[wire] = i }
        // Rows as lists of committed positions, and each position's rows.
        var rowWires: [[Int]] = []
        var wireRows = [[Int]](repeating: [], count: committed.count)
        for matrix in [r1cs.a, r1cs.b, r1cs.c] {
            for row in 0..<matrix.rowCount {
                var list: [Int] = []
                for k in matrix.rowStart[row]..<matrix.rowStart[row + 1] where !matrix.values[k].isZero {
                    if let i = index[Int(matrix.columns[k])] { list.append(i) }
                }
                guard !list.isEmpty else { continue }
                for i in list { wireRows[i].append(rowWires.count) }
                rowWires.append(list)
            }
        }
        var remaining = rowWires.map(\.count)
        var independent = [Bool](repeating: false, count: committed.count)
        var queue = remaining.indices.filter { remaining[$0] == 1 }
        while let row = queue.popLast() {
            guard remaining[row] == 1, let i = rowWires[row].first(where: { !independent[$0] }) else { continue }
            independent[i] = true
            for other in wireRows[i] {
                remaining[other] -= 1
                if remaining[other] == 1 { queue.append(other) }
            }
        }
        return wires.sorted().first { wire in index[wire].map { !independent[$0] } ?? true }
    }

    /// Every column's left and right point (the point at infinity where a side has none); a
    /// linked left wire's right point is its coefficient times its right wire's basis point.
    public static func columns(
        left: CommitmentKey, right: CommitmentKey, pairs: [CommitmentLinkKey.Pair]
    ) -> (left: [G1Affine], right: [G1Affine]) {
        var link = [CommitmentLinkKey.Pair?](repeating: nil, count: left.basis.count)
        var linked = [Bool](repeating: false, count: right.basis.count)
        for pair in pairs {
            link[pair.left] = pair
            linked[pair.right] = true
        }
        var l: [G1Affine] = [], r: [JacobianPoint<G1Parameters>] = []
        let count = left.basis.count + right.basis.count - linked.lazy.filter { $0 }.count + 2
        l.reserveCapacity(count)
        r.reserveCapacity(count)
        for (i, point) in left.basis.enumerated() {
            l.append(point)
            if let pair = link[i] {
                let base = right.basis[pair.right]
                r.append(pair.coefficient == .one ? base.jacobian : base.multiplied(by: pair.coefficient))
            } else {
                r.append(.infinity)
            }
        }
        for (j, point) in right.basis.enumerated() where !linked[j] {
            l.append(.infinity)
            r.append(point.jacobian)
        }
        l += [left.etaGamma, .infinity]
        r += [.infinity, right.etaGamma.jacobian]
        return (l, JacobianPoint<G1Parameters>.batchToAffine(r))
    }

    /// The column values of two openings (left values, unlinked right values, blindings),
    /// checked: every linked right value is its combination of left values.
    static func columnValues(
        key: CommitmentLinkKey, left: [Fr], leftBlinding: Fr, right: [Fr], rightBlinding: Fr
    ) throws(CommitmentLinkError) -> [Fr] {
        guard left.count == key.leftCount else {
            throw .openingLength(side: "left", expected: key.leftCount, got: left.count)
        }
        guard right.count == key.rightCount else {
            throw .openingLength(side: "right", expected: key.rightCount, got: right.count)
        }
        var combination = [Fr?](repeating: nil, count: right.count)
        var lastLeft = [Int](repeating: 0, count: right.count)
        for pair in key.pairs {
            combination[pair.right] = (combination[pair.right] ?? .zero) + pair.coefficient * left[pair.left]
            lastLeft[pair.right] = pair.left
        }
        var values = left
        values.reserveCapacity(key.columnCount)
        for (j, v) in right.enumerated() {
            guard let expected = combination[j] else {
                values.append(v)
                continue
            }
            guard expected == v else { throw .openingsDisagree(leftWire: lastLeft[j], rightWire: j) }
        }
        values += [leftBlinding, rightBlinding]
        return values
    }

    /// A link key for secrets chosen by the caller: E_k = c_L left_k + c_R right_k. Whoever
    /// knows both secrets can link commitments that disagree; this is for a ceremony's start
    /// (from zero, see `LinkCeremony`) and for tests. `developmentSetup` draws them.
    public static func setup(
        left: CommitmentKey, right: CommitmentKey, pairs: [CommitmentLinkKey.Pair], leftScale: Fr, rightScale: Fr
    ) throws(CommitmentLinkError) -> CommitmentLinkKey {
        guard !pairs.isEmpty else { throw .noPairs }
        for pair in pairs where pair.left >= left.basis.count || pair.right >= right.basis.count {
            throw .keyMismatch("a pair (\(pair.left), \(pair.right)) lies outside the commitment keys")
        }
        let sorted = pairs.sorted { $0.left < $1.left }
        guard Set(sorted.map(\.left)).count == sorted.count else { throw .keyMismatch("a left wire is linked twice") }
        if sorted.contains(where: { $0.coefficient.isZero }) { throw .keyMismatch("a pair has coefficient zero") }
        let (l, r) = columns(left: left, right: right, pairs: sorted)
        let points = combine(l, leftScale, r, rightScale)
        let g2 = G2Affine.generator
        return CommitmentLinkKey(
            pairs: sorted, leftCount: left.basis.count, rightCount: right.basis.count, points: points,
            verifyingKey: .init(
                leftScale: g2.multiplied(by: leftScale).affine, rightScale: g2.multiplied(by: rightScale).affine))
    }

    /// A link key from fresh secrets of the CSPRNG, erased afterwards: a development setup
    /// (the process that runs it could link anything; a ceremony replaces it).
    public static func developmentSetup(
        left: CommitmentKey, right: CommitmentKey, pairs: [CommitmentLinkKey.Pair]
    ) throws(CommitmentLinkError) -> CommitmentLinkKey {
        var cL = Fr.random(), cR = Fr.random()
        defer {
            cL = .zero
            cR = .zero
        }
        guard !cL.isZero, !cR.isZero else { throw .zeroSecret }
        return try setup(left: left, right: right, pairs: pairs, leftScale: cL, rightScale: cR)
    }

    /// a_k x + b_k y for every k, scaled on all cores (constant time in x and y on the vector
    /// kernel: they may be secrets).
    public static func combine(_ a: [G1Affine], _ x: Fr, _ b: [G1Affine], _ y: Fr) -> [G1Affine] {
        var sa = a, sb = b
        scale(&sa, by: x)
        scale(&sb, by: y)
        let sums = zip(sa, sb).map { $0.jacobian + $1 }
        return JacobianPoint<G1Parameters>.batchToAffine(sums)
    }

    /// points[k] *= x.
    static func scale(_ points: inout [G1Affine], by x: Fr) {
        var scalar = [x.canonicalLimbs]
        defer { SecureRandom.erase(&scalar) }
        if PointKernels.scale(&points, canonicalScalars: scalar) { return }
        points = JacobianPoint<G1Parameters>.batchToAffine(points.map { $0.multiplied(by: x) })
    }

    /// The link proof for two openings (committed values in each key's wire order and the
    /// blindings nu their commitments were made with). Throws if they disagree on a pair.
    public static func prove(
        key: CommitmentLinkKey, left: [Fr], leftBlinding: Fr, right: [Fr], rightBlinding: Fr
    ) throws(CommitmentLinkError) -> G1Affine {
        var values = try columnValues(
            key: key, left: left, leftBlinding: leftBlinding, right: right, rightBlinding: rightBlinding)
        defer { SecureRandom.erase(&values) }
        guard key.points.count == values.count else {
            throw .keyMismatch("\(key.points.count) column points for \(values.count) columns")
        }
        return MSM.multiply(bases: key.points, scalars: values).affine
    }

    /// Checks a link proof against the two commitments it links (points already validated as
    /// on the curve and in the subgroup by their decoders). One three-pair pairing check.
    public static func verify(
        key: CommitmentLinkVerifyingKey, left: G1Affine, right: G1Affine, proof: G1Affine
    ) throws(CommitmentLinkError) -> Bool {
        if left.isInfinity { throw .identityPoint("the left commitment") }
        if right.isInfinity { throw .identityPoint("the right commitment") }
        if proof.isInfinity { throw .identityPoint("the link proof") }
        if key.leftScale.isInfinity || key.rightScale.isInfinity { throw .zeroSecret }
        return Pairing.pairingCheck([(-proof, .generator), (left, key.leftScale), (right, key.rightScale)])
    }

    /// Whether `key`'s column points are c_L left + c_R right for the secrets of its verifying
    /// key, on the columns of `left` and `right`: one batched pairing check under random
    /// 128-bit weights (a wrong point survives with probability at most 2^-128). What a party
    /// runs on a link key it did not make. Cost: three MSMs over the columns and a three-pair check.
    public static func isWellFormed(
        _ key: CommitmentLinkKey, left: CommitmentKey, right: CommitmentKey
    ) throws(CommitmentLinkError) -> Bool {
        guard key.leftCount == left.basis.count, key.rightCount == right.basis.count,
            key.pairs.allSatisfy({ $0.left < left.basis.count && $0.right < right.basis.count })
        else { throw .keyMismatch("the key was made for commitments of other sizes") }
        let (l, r) = columns(left: left, right: right, pairs: key.pairs)
        guard key.points.count == l.count else {
            throw .keyMismatch("\(key.points.count) column points for \(l.count) columns")
        }
        if key.verifyingKey.leftScale.isInfinity || key.verifyingKey.rightScale.isInfinity { throw .zeroSecret }
        let rho = (0..<l.count).map { _ in
            Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0))
        }
        let combined = MSM.multiply(bases: key.points, scalars: rho).affine
        let leftSum = MSM.multiply(bases: l, scalars: rho).affine
        let rightSum = MSM.multiply(bases: r, scalars: rho).affine
        return Pairing.pairingCheck([
            (-combined, .generator), (leftSum, key.verifyingKey.leftScale), (rightSum, key.verifyingKey.rightScale),
        ])
    }
}

/// The link key file (`link.key`), version 1. All integers little-endian.
///
/// ```
/// magic "VSLK" | u32 version (1) | u32 left wires | u32 right wires
/// u32 n, n x (u32 left position, u32 right position, 32-byte coefficient, little-endian)
///                                                      (pairs, left positions increasing)
/// u32 n, n x G1 column points                          (EIP-197 uncompressed, 64 bytes)
/// G2 [c_L]_2 | G2 [c_R]_2                               (128 bytes each)
/// 32-byte SHA-256 of everything before it
/// ```
/// Loading checks the checksum, every count against the bytes present before allocating, the
/// pairs (in range, left increasing, coefficients below r and nonzero), that there is one point per
/// column, every point on its curve and every G2 point in the subgroup, and that no scale is
/// the identity. Whether the points fit the two commitment keys is `CommitmentLink.isWellFormed`,
/// which a party runs on a link key it did not make.
public enum LinkKeyFile {
    static let magic = Array("VSLK".utf8)
    public static let version: UInt32 = 1

    public static func encode(_ key: CommitmentLinkKey) -> [UInt8] {
        var w = ByteWriter()
        w.bytes += magic
        w.u32(version)
        w.u32(UInt32(key.leftCount))
        w.u32(UInt32(key.rightCount))
        w.u32(UInt32(key.pairs.count))
        for pair in key.pairs {
            w.u32(UInt32(pair.left))
            w.u32(UInt32(pair.right))
            w.bytes += pair.coefficient.littleEndianBytes()
        }
        w.g1List(key.points)
        w.bytes += key.verifyingKey.leftScale.uncompressed() + key.verifyingKey.rightScale.uncompressed()
        w.bytes += SHA256.hash(w.bytes)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8], file: String = "link.key") throws(KeyFileError) -> CommitmentLinkKey {
        guard bytes.count >= 8 + 32, Array(bytes[0..<4]) == magic else { throw .notAKeyFile(file: file) }
        guard SHA256.hash(Array(bytes[0..<(bytes.count - 32)])) == Array(bytes[(bytes.count - 32)...]) else {
            throw .checksumMismatch(file: file)
        }
        var r = KeyReader(bytes: bytes, end: bytes.count - 32, file: file, offset: 4)
        let v = try r.u32("version")
        guard v == version else { throw .unsupportedVersion(file: file, version: v) }
        let leftCount = Int(try r.u32("left wire count")), rightCount = Int(try r.u32("right wire count"))
        let pairCount = Int(try r.u32("pair count"))
        guard pairCount * 40 <= r.remaining else { throw .truncated(file: file, offset: r.offset, what: "pairs") }
        var pairs: [CommitmentLinkKey.Pair] = []
        pairs.reserveCapacity(pairCount)
        for _ in 0..<pairCount {
            let at = r.offset
            let left = Int(try r.u32("pair")), right = Int(try r.u32("pair"))
            let bytes = try r.take(32, "pair coefficient")
            let coefficient: Fr
            do { coefficient = try Fr(littleEndian: bytes) } catch {
                throw .invalid(file: file, offset: at + 8, reason: "pair coefficient is not below r")
            }
            guard left < leftCount, right < rightCount, !coefficient.isZero, left > (pairs.last?.left ?? -1) else {
                throw .invalid(
                    file: file, offset: at,
                    reason: "pair (\(left), \(right)) is out of range, out of order or has a zero coefficient")
            }
            pairs.append(.init(left: left, right: right, coefficient: coefficient))
        }
        guard !pairs.isEmpty else { throw .invalid(file: file, offset: r.offset, reason: "a link key with no pairs") }
        let points = try r.g1List("column points")
        let leftScale = try r.g2("[c_L]_2"), rightScale = try r.g2("[c_R]_2")
        guard r.offset == r.end else {
            throw .invalid(file: file, offset: r.offset, reason: "unexpected trailing bytes")
        }
        let key = CommitmentLinkKey(
            pairs: pairs, leftCount: leftCount, rightCount: rightCount, points: points,
            verifyingKey: .init(leftScale: leftScale, rightScale: rightScale))
        guard points.count == key.columnCount else {
            throw .invalid(
                file: file, offset: r.offset,
                reason: "\(points.count) column points for \(key.columnCount) columns")
        }
        guard !leftScale.isInfinity, !rightScale.isInfinity else {
            throw .invalid(file: file, offset: r.offset, reason: "a scale is the identity: the key links nothing")
        }
        return key
    }
}
