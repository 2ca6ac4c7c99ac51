import Algebra
import Circuit
import Commitment
import Foundation
import XCTest

final class PoseidonCommitmentTests: XCTestCase {
    /// A circuit with a public commitment, private values and a private salt.
    private func openingCircuit(
        _ commitment: PoseidonCommitment, _ opening: PoseidonOpening, width: Int
    ) throws
        -> (ConstraintSystem<Fr>, values: [Variable], salt: Variable)
    {
        let cs = ConstraintSystem<Fr>()
        let c = cs.allocatePublic("commitment", value: commitment.value)
        let values = opening.values.map { cs.allocatePrivate("v", value: $0) }
        let salt = cs.allocatePrivate("salt", value: opening.salt)
        try cs.assertPoseidonOpening(
            commitment: LinearCombination(c), values: values.map { LinearCombination($0) },
            salt: LinearCombination(salt), width: width)
        return (cs, values, salt)
    }

    func testNativeCommitOpenAndHiding() throws {
        let committer = try PoseidonCommitter()
        let values: [Fr] = (0..<40).map { Fr(UInt64($0)) }
        let (c1, o1) = committer.commit(values)
        let (c2, o2) = committer.commit(values)
        XCTAssertTrue(committer.verify(c1, opening: o1))
        XCTAssertNotEqual(c1, c2, "fresh salts give unlinkable commitments to equal values")
        XCTAssertFalse(committer.verify(c1, opening: o2))
        XCTAssertFalse(committer.verify(c1, opening: PoseidonOpening(values: values, salt: o1.salt + .one)))
        var changed = values
        changed[17] += .one
        XCTAssertFalse(committer.verify(c1, opening: PoseidonOpening(values: changed, salt: o1.salt)))
        XCTAssertFalse(committer.verify(c1, opening: PoseidonOpening(values: values + [0], salt: o1.salt)))
    }

    func testGadgetProvesOpeningAndRejectsWrongSaltOrValue() throws {
        for width in [3, 17] {
            let committer = try PoseidonCommitter(width: width)
            let (commitment, opening) = committer.commit((0..<20).map { _ in Fr.random() })
            let (honest, _, _) = try openingCircuit(commitment, opening, width: width)
            XCTAssertTrue(honest.isSatisfied)

            let (wrongSalt, _, salt) = try openingCircuit(commitment, opening, width: width)
            wrongSalt.tamper(salt, with: opening.salt + .one)
            XCTAssertFalse(wrongSalt.isSatisfied)

            let (wrongValue, values, _) = try openingCircuit(commitment, opening, width: width)
            wrongValue.tamper(values[5], with: opening.values[5] + .one)
            XCTAssertFalse(wrongValue.isSatisfied)

            // A prover who recomputes the whole witness for a wrong opening fails only at the
            // final equality with the public commitment.
            let forged = PoseidonOpening(values: opening.values, salt: opening.salt + .one)
            let (recomputed, _, _) = try openingCircuit(commitment, forged, width: width)
            XCTAssertEqual(recomputed.firstViolation()?.name, "opening/equalsCommitment")
        }
    }
}

final class PedersenTests: XCTestCase {
    func testGeneratorsAreDeterministicOnCurveAndDistinct() {
        let a = PedersenParameters(count: 8)
        let b = PedersenParameters(count: 8)
        XCTAssertEqual(a.generators, b.generators)
        XCTAssertEqual(a.blindingGenerator, b.blindingGenerator)
        let all = a.generators + [a.blindingGenerator]
        XCTAssertEqual(Set(all).count, all.count)
        for g in all {
            XCTAssertTrue(g.isOnCurve)
            XCTAssertFalse(g.isInfinity)
            XCTAssertFalse(g.y.isNegativeSigned, "the smaller square root is chosen")
            XCTAssertNotEqual(g, G1Affine.generator)
            XCTAssertTrue(G1Jacobian(x: g.x, y: g.y, z: .one).multiplied(byLimbs: FrParameters.modulus).isInfinity)
        }
        // A prefix of a longer parameter set, and a different domain gives different generators.
        XCTAssertEqual(Array(PedersenParameters(count: 12).generators.prefix(8)), a.generators)
        XCTAssertNotEqual(PedersenParameters(count: 1, domain: "other").generators[0], a.generators[0])
        // The derivation is the documented one: SHA-256(domain || 0 || "G" || i || counter).
        let manual = PedersenParameters.hashToCurve(
            domain: "VeriSplit/Pedersen/v1",
            label: Array("G".utf8) + [0, 0, 0, 0, 0, 0, 0, 3])
        XCTAssertEqual(manual, a.generators[3])
    }

    func testCommitVerifyBindingAndHomomorphism() throws {
        let params = PedersenParameters(count: 40)
        let v = (0..<40).map { _ in Fr.random() }
        let w = (0..<40).map { _ in Fr.random() }
        let (cv, rv) = try params.commit(v)
        let (cw, rw) = try params.commit(w)
        XCTAssertTrue(try params.verify(cv, values: v, blinding: rv))
        XCTAssertFalse(try params.verify(cv, values: v, blinding: rv + .one))
        var changed = v
        changed[39] += .one
        XCTAssertFalse(try params.verify(cv, values: changed, blinding: rv))
        XCTAssertNotEqual(try params.commit(v, blinding: rv), try params.commit(changed, blinding: rv))
        XCTAssertNotEqual(try params.commit(v, blinding: .zero), try params.commit(w, blinding: .zero))
        let sum = zip(v, w).map { $0 + $1 }
        XCTAssertEqual(cv + cw, try params.commit(sum, blinding: rv + rw))
        XCTAssertTrue(try params.verify(cv + cw, values: sum, blinding: rv + rw))
        // Same values, fresh blinding: a different point (hiding).
        XCTAssertNotEqual(cv, try params.commit(v).commitment)
    }

    func testEncodingAndRefusals() throws {
        let params = PedersenParameters(count: 3)
        let (c, _) = try params.commit([1, 2, 3])
        XCTAssertEqual(try PedersenCommitment(compressed: c.compressed), c)
        XCTAssertThrowsError(try params.commit([1, 2, 3, 4])) { error in
            XCTAssertEqual(error as? PedersenError, .tooManyValues(values: 4, generators: 3))
        }
        XCTAssertThrowsError(try PedersenCommitment(compressed: [1, 2, 3]))
        var bad = c.compressed
        bad[0] |= 0xc0
        XCTAssertThrowsError(try PedersenCommitment(compressed: bad))
    }
}

final class MerkleTests: XCTestCase {
    func leaves(_ n: Int) -> [[UInt8]] { (0..<n).map { Array("leaf \($0)".utf8) } }

    func testProofsVerifyForEverySizeAndIndex() throws {
        for n in 1...17 {
            let tree = try MerkleTree(leaves: leaves(n))
            for i in 0..<n {
                let proof = try tree.proof(index: i)
                XCTAssertTrue(proof.verify(leaf: leaves(n)[i], root: tree.root), "n \(n) index \(i)")
                XCTAssertFalse(proof.verify(leaf: Array("other".utf8), root: tree.root))
                if n > 1 {
                    var siblings = proof.siblings
                    var flipped = siblings[0].bytes
                    flipped[0] ^= 1
                    siblings[0] = try Digest(bytes: flipped)
                    let bad = MerkleProof(leafIndex: i, leafCount: n, siblings: siblings)
                    XCTAssertFalse(bad.verify(leaf: leaves(n)[i], root: tree.root))
                    let moved = MerkleProof(leafIndex: (i + 1) % n, leafCount: n, siblings: proof.siblings)
                    XCTAssertFalse(moved.verify(leaf: leaves(n)[i], root: tree.root))
                    let shorter = MerkleProof(leafIndex: i, leafCount: n, siblings: Array(proof.siblings.dropLast()))
                    XCTAssertFalse(shorter.verify(leaf: leaves(n)[i], root: tree.root))
                }
            }
        }
    }

    func testDomainSeparationAndOddLevels() throws {
        let three = try MerkleTree(leaves: leaves(3))
        let l = three.levels[0]
        XCTAssertEqual(three.root, MerkleTree.nodeHash(MerkleTree.nodeHash(l[0], l[1]), l[2]))
        // Duplicating the last leaf (Bitcoin's rule) would give the same root; promotion does not.
        XCTAssertNotEqual(three.root, try MerkleTree(leaves: leaves(3) + [leaves(3)[2]]).root)
        // A leaf whose data is two concatenated child hashes is not an inner node.
        let two = try MerkleTree(leaves: leaves(2))
        XCTAssertNotEqual(two.root, MerkleTree.leafHash(two.levels[0][0].bytes + two.levels[0][1].bytes))
        XCTAssertEqual(try MerkleTree(leaves: [[7]]).root, MerkleTree.leafHash([7]))
        XCTAssertThrowsError(try MerkleTree(leaves: [])) { XCTAssertEqual($0 as? MerkleError, .emptyTree) }
        XCTAssertThrowsError(try three.proof(index: 3))
    }
}

final class TranscriptTests: XCTestCase {
    func sample() -> Transcript {
        var t = Transcript(session: "session-42")
        for step in 0..<5 { t.append(label: "step \(step)", payload: Array("commitments \(step)".utf8)) }
        return t
    }

    /// The JSON object, edited, then decoded again.
    func edited(_ t: Transcript, _ edit: (inout [[String: Any]]) -> Void) throws -> Data {
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: t.jsonData()) as? [String: Any])
        var entries = try XCTUnwrap(object["entries"] as? [[String: Any]])
        edit(&entries)
        object["entries"] = entries
        return try JSONSerialization.data(withJSONObject: object)
    }

    func assertError(_ data: Data, _ expected: TranscriptError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Transcript(json: data), file: file, line: line) { error in
            XCTAssertEqual(error as? TranscriptError, expected, file: file, line: line)
        }
    }

    func testAppendVerifyAndRoundTrip() throws {
        let t = sample()
        XCTAssertNoThrow(try t.verify())
        XCTAssertEqual(t.entries.count, 5)
        XCTAssertEqual(t.entries[0].previous, t.genesis)
        XCTAssertEqual(t.entries[3].previous, t.entries[2].link)
        let back = try Transcript(json: t.jsonData())
        XCTAssertEqual(back, t)
        XCTAssertEqual(back.head, t.head)
        XCTAssertNoThrow(try back.verify(expectedHead: t.head))
        XCTAssertNotEqual(Transcript(session: "other").genesis, t.genesis)
    }

    func testTamperingIsDetected() throws {
        let t = sample()
        // Changed payload.
        assertError(try edited(t) { $0[2]["payload"] = SHA256.hex(Array("forged".utf8)) }, .badLink(index: 2))
        // Changed label.
        assertError(try edited(t) { $0[1]["label"] = "step 9" }, .badLink(index: 1))
        // Changed entry with its own link recomputed: the next entry no longer chains.
        var forged = t
        let data = try edited(t) { entries in
            let link = Transcript.linkHash(
                index: 2, label: "step 2", payload: Array("forged".utf8), previous: t.entries[1].link)
            entries[2]["payload"] = SHA256.hex(Array("forged".utf8))
            entries[2]["link"] = link.hex
        }
        assertError(data, .brokenChain(index: 3))
        // Removed entry.
        assertError(try edited(t) { $0.remove(at: 1) }, .indexMismatch(position: 1, found: 2))
        // Removed and renumbered.
        assertError(
            try edited(t) { entries in
                entries.remove(at: 1)
                for i in entries.indices { entries[i]["index"] = i }
            }, .brokenChain(index: 1))
        // Reordered.
        assertError(try edited(t) { $0.swapAt(1, 3) }, .indexMismatch(position: 1, found: 3))
        assertError(
            try edited(t) { entries in
                entries.swapAt(1, 3)
                for i in entries.indices { entries[i]["index"] = i }
            }, .brokenChain(index: 1))
        // Truncation is only caught against a kept head.
        let truncated = try Transcript(json: try edited(t) { $0.removeLast() })
        XCTAssertThrowsError(try truncated.verify(expectedHead: t.head)) { error in
            XCTAssertEqual(error as? TranscriptError, .headMismatch(expected: t.head, found: truncated.head))
        }
        forged.append(label: "extra", payload: [])
        XCTAssertNoThrow(try forged.verify())
    }

    func testBadJSONGivesTypedErrors() throws {
        let t = sample()
        XCTAssertThrowsError(try Transcript(json: Data("not json".utf8))) { error in
            guard case .malformedJSON = error as? TranscriptError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Transcript(json: Data(#"{"version":1}"#.utf8))) { error in
            guard case .malformedJSON = error as? TranscriptError else { return XCTFail("\(error)") }
        }
        assertError(Data(#"{"version":2,"session":"s","entries":[]}"#.utf8), .unsupportedVersion(2))
        assertError(
            try edited(t) { $0[0]["payload"] = "abc" },
            .invalidField(entry: 0, field: "payload", reason: "not an even number of hex digits"))
        assertError(
            try edited(t) { $0[0]["payload"] = "zz" },
            .invalidField(entry: 0, field: "payload", reason: "not an even number of hex digits"))
        XCTAssertThrowsError(try Transcript(json: try edited(t) { $0[4]["link"] = "00" })) { error in
            guard case .invalidField(4, "link", _) = error as? TranscriptError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(
            try Transcript(json: try edited(t) { $0[1]["previous"] = String(repeating: "g", count: 64) })
        ) { error in
            guard case .invalidField(1, "previous", _) = error as? TranscriptError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Transcript(json: try edited(t) { $0[1]["index"] = "one" })) { error in
            guard case .malformedJSON = error as? TranscriptError else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try Transcript(json: Transcript(session: "empty").jsonData()))
    }
}

/// The Poseidon Merkle tree against a naive full tree (every level materialized, padded with
/// zeros) as the reference: the same root and paths for every leaf count, including paths to
/// padding positions; a depth-24 tree of a few leaves builds without materializing 2^24 leaves.
final class PoseidonMerkleTreeTests: XCTestCase {
    func naiveRoot(_ leaves: [Fr], depth: Int) -> Fr {
        var level = leaves + [Fr](repeating: .zero, count: (1 << depth) - leaves.count)
        for _ in 0..<depth {
            level = stride(from: 0, to: level.count, by: 2).map {
                (try? Poseidon.hash([level[$0], level[$0 + 1]])) ?? .zero
            }
        }
        return level[0]
    }

    func testRootsAndPathsMatchTheFullTree() throws {
        for depth in 1...5 {
            for count in [0, 1, 2, 3, (1 << depth) - 1, 1 << depth] where count <= 1 << depth {
                let leaves = (0..<count).map { Fr(UInt64(1000 * depth + $0 + 1)) }
                let tree = try PoseidonMerkleTree(leaves: leaves, depth: depth)
                XCTAssertEqual(tree.root, naiveRoot(leaves, depth: depth), "depth \(depth), \(count) leaves")
                for index in 0..<(1 << depth) {
                    let leaf = index < count ? leaves[index] : .zero
                    XCTAssertEqual(tree.leaf(index), leaf)
                    let path = try tree.path(index)
                    XCTAssertEqual(path.count, depth)
                    XCTAssertEqual(PoseidonMerkleTree.root(leaf: leaf, index: index, siblings: path), tree.root)
                }
                XCTAssertThrowsError(try tree.path(1 << depth))
            }
        }
    }

    func testDeepSparseTreeIsCheap() throws {
        let leaves = [Fr(UInt64(7)), Fr(UInt64(8)), Fr(UInt64(9))]
        let tree = try PoseidonMerkleTree(leaves: leaves, depth: 24)
        let path = try tree.path(2)
        XCTAssertEqual(PoseidonMerkleTree.root(leaf: leaves[2], index: 2, siblings: path), tree.root)
        let far = (1 << 24) - 1
        XCTAssertEqual(PoseidonMerkleTree.root(leaf: .zero, index: far, siblings: try tree.path(far)), tree.root)
    }
}

/// The native opening verifier of the batched protocol, played against by a prover who knows
/// the whole tree: every honest opening verifies (in any order, with the remembered nodes), and
/// a leaf that is not at its index, a node that disagrees with a remembered one, a path of the
/// wrong length or an internal node presented as a leaf are refused, before and after the cache
/// is warm; a refused opening teaches the cache nothing.
final class MerkleOpeningVerifierTests: XCTestCase {
    let depth = 5
    lazy var leaves = (0..<23).map { Fr(UInt64(777 + 13 * $0)) }
    lazy var tree = try? PoseidonMerkleTree(leaves: leaves, depth: depth)

    func testEveryHonestOpeningVerifiesColdAndWarm() throws {
        let tree = try XCTUnwrap(tree)
        var cold = MerkleOpeningVerifier(root: tree.root, depth: depth)
        for index in [17, 3, 22, 0, 3, 31, 16, 1] {
            let leaf = index < leaves.count ? leaves[index] : .zero
            XCTAssertTrue(cold.verify(leaf: leaf, index: index, siblings: try tree.path(index)), "index \(index)")
        }
        // A verifier that has seen every opening still answers each one the same way.
        var warm = MerkleOpeningVerifier(root: tree.root, depth: depth)
        for index in 0..<32 { _ = warm.verify(leaf: tree.leaf(index), index: index, siblings: try tree.path(index)) }
        for index in 0..<32 {
            XCTAssertTrue(warm.verify(leaf: tree.leaf(index), index: index, siblings: try tree.path(index)))
            XCTAssertFalse(warm.verify(leaf: tree.leaf(index) + .one, index: index, siblings: try tree.path(index)))
        }
    }

    func testForgedOpeningsAreRefusedColdAndWarm() throws {
        let tree = try XCTUnwrap(tree)
        for warmUp in [false, true] {
            var verifier = MerkleOpeningVerifier(root: tree.root, depth: depth)
            if warmUp {
                for index in 0..<32 {
                    XCTAssertTrue(verifier.verify(leaf: tree.leaf(index), index: index, siblings: try tree.path(index)))
                }
            }
            // An uncommitted sample's leaf with the real path of the index it claims.
            XCTAssertFalse(verifier.verify(leaf: Fr(UInt64(5)), index: 4, siblings: try tree.path(4)))
            // A committed leaf with its own valid path, claimed at another index.
            XCTAssertFalse(verifier.verify(leaf: leaves[6], index: 7, siblings: try tree.path(6)))
            XCTAssertFalse(verifier.verify(leaf: leaves[6], index: 6 + 32, siblings: try tree.path(6)))
            XCTAssertFalse(verifier.verify(leaf: leaves[6], index: -1, siblings: try tree.path(6)))
            // A sibling changed at the top or at the bottom (the rest honest), cold or warm.
            for level in [depth - 1, 0] {
                var path = try tree.path(9)
                path[level] += .one
                XCTAssertFalse(verifier.verify(leaf: leaves[9], index: 9, siblings: path), "level \(level)")
            }
            // An internal node presented as a leaf one level up, with the rest of its path.
            let parent = PoseidonMerkleTree.node(leaves[10], leaves[11])
            XCTAssertFalse(verifier.verify(leaf: parent, index: 5, siblings: Array(try tree.path(10).dropFirst())))
            XCTAssertFalse(
                verifier.verify(leaf: parent, index: 5, siblings: Array(try tree.path(10).dropFirst()) + [.zero]))
            // Too long a path.
            XCTAssertFalse(verifier.verify(leaf: leaves[2], index: 2, siblings: try tree.path(2) + [.zero]))
        }
    }

    /// Nodes of a refused opening are not remembered: a second opening that agrees with the
    /// refused one's made-up nodes (and would pass if they had been) is refused too.
    func testARefusedOpeningDoesNotPoisonTheCache() throws {
        let tree = try XCTUnwrap(tree)
        var verifier = MerkleOpeningVerifier(root: tree.root, depth: depth)
        var path = try tree.path(12)
        path[0] = Fr(UInt64(99))
        XCTAssertFalse(verifier.verify(leaf: Fr(UInt64(1)), index: 12, siblings: path))
        // The made-up sibling at (level 0, position 13) was not remembered: the honest leaf 13
        // still verifies, and the made-up one as leaf 13 does not.
        XCTAssertTrue(verifier.verify(leaf: leaves[13], index: 13, siblings: try tree.path(13)))
        XCTAssertFalse(verifier.verify(leaf: Fr(UInt64(99)), index: 13, siblings: try tree.path(13)))
        XCTAssertFalse(verifier.verify(leaf: Fr(UInt64(1)), index: 12, siblings: try tree.path(12)))
    }
}
