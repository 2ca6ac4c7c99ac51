import Algebra
import Circuit
import Commitment
import XCTest

/// circomlib's poseidon([1, 2, ..., t - 1]) for every width. Computed by
/// scripts/poseidon_reference.py, which runs circomlib's optimized template (sparse matrices,
/// pre-transformed constants) on circomlib's own constant tables as shipped in the PyPI package
/// `poseidon-hash-lib-from-circom`; it reproduces the two published values below (t = 3, 5), and
/// shares no code or constants with the Swift generator.
let circomlibReference: [Int: String] = [
    2: "18586133768512220936620570745912940619677854269274689475585506675881198879027",
    3: "7853200120776062878684798364095072458815029376092732009249414926327459813530",
    4: "6542985608222806190361240322586112750744169038454362455181422643027100751666",
    5: "18821383157269793795438455681495246036402687001665670618754263018637548127333",
    6: "6183221330272524995739186171720101788151706631170188140075976616310159254464",
    7: "20400040500897583745843009878988256314335038853985262692600694741116813247201",
    8: "12748163991115452309045839028154629052133952896122405799815156419278439301912",
    9: "18604317144381847857886385684060986177838410221561136253933256952257712543953",
    10: "13589767895268936107593642967621470491511464502761040466226072462545218539640",
    11: "3657500514307717306974218405144578736633140001277925127187636780142269815841",
    12: "3572015662710076994097916907865950486270383304442561406230608893458731714472",
    13: "2501997477381648492950318384533644783248002172679259592360114615426357826485",
    14: "7041832639553862712666971417715061873827921493498355005117622707743491651590",
    15: "8354478399926161176778659061636406690034081872658507739535256090879947077494",
    16: "4203130618016961831408770638653325366880478848856764494148034853759773445968",
    17: "9989051620750914585850546081941653841776809718687451684622678807385399211877",
]

func fr(_ decimal: String) -> Fr {
    guard let v = BigInt(decimal) else { preconditionFailure("bad test constant \(decimal)") }
    return Fr(reducing: v)
}

final class PoseidonTests: XCTestCase {
    func testPublishedValues() throws {
        XCTAssertEqual(
            try Poseidon.hash([1, 2]),
            fr("7853200120776062878684798364095072458815029376092732009249414926327459813530"))
        let four = try Poseidon.hash([1, 2, 3, 4])
        XCTAssertEqual(
            SHA256.hex(four.bigEndianBytes()),
            "299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465")
    }

    func testEveryWidthMatchesCircomlib() throws {
        for t in 2...17 {
            let inputs = (1..<t).map { Fr(UInt64($0)) }
            let expected = try XCTUnwrap(circomlibReference[t])
            XCTAssertEqual(try Poseidon.hash(inputs), fr(expected), "width \(t)")
        }
    }

    /// Wide states run the partial rounds compiled (`PoseidonCircuitPlan`); the reference rounds
    /// must give the same permutation on random states, the zero state and the all-(r - 1)
    /// state, at every width (the circomlib vectors above check the same path on one input).
    func testCompiledPartialRoundsEqualTheReferenceRounds() throws {
        for t in 2...17 {
            let p = try Poseidon(width: t)
            let states = [
                [Fr](repeating: .zero, count: t), [Fr](repeating: -Fr.one, count: t),
                (0..<t).map { _ in Fr.random() }, (0..<t).map { _ in Fr.random() },
            ]
            for state in states {
                var fast = state, reference = state
                try p.permute(&fast)
                try p.permuteReference(&reference)
                XCTAssertEqual(fast, reference, "width \(t)")
            }
        }
    }

    func testFirstRoundConstantAndMatrixEntryForWidth3() throws {
        // The first Grain draws for t = 3 as printed by the reference script (and circomlib's
        // poseidon_constants C[1][0] before its transformation of later rounds).
        let p = try PoseidonParameters.forWidth(3)
        XCTAssertEqual(
            SHA256.hex(p.roundConstants[0].bigEndianBytes()),
            "0ee9a592ba9a9518d05986d656f40c2114c4993c11bb29938d21d47304cd8e6e")
        XCTAssertEqual(p.roundConstants.count, (8 + 57) * 3)
        XCTAssertEqual(p.mds.count, 9)
    }

    func testRefusesUnsupportedShapes() {
        XCTAssertThrowsError(try Poseidon.hash([])) { error in
            XCTAssertEqual(error as? PoseidonError, .unsupportedInputCount(0))
        }
        XCTAssertThrowsError(try Poseidon.hash([Fr](repeating: 1, count: 17)))
        XCTAssertThrowsError(try Poseidon(width: 1))
        XCTAssertThrowsError(try Poseidon(width: 18))
        XCTAssertThrowsError(try PoseidonSponge(width: 1))
        let p = try? Poseidon(width: 3)
        var wrong: [Fr] = [1, 2]
        XCTAssertThrowsError(try p?.permute(&wrong)) { error in
            XCTAssertEqual(error as? PoseidonError, .wrongStateLength(expected: 3, got: 2))
        }
    }

    func testGadgetEqualsNativeForEveryWidth() throws {
        for t in 2...17 {
            let cs = ConstraintSystem<Fr>()
            let values = (0..<t).map { _ in Fr.random() }
            let vars = values.enumerated().map { cs.allocatePrivate("in\($0.offset)", value: $0.element) }
            let out = try cs.poseidonPermutation(vars.map { LinearCombination($0) })
            var native = values
            try Poseidon(width: t).permute(&native)
            XCTAssertEqual(out.map { cs.value($0) }, native, "width \(t)")
            let expected = try PoseidonParameters.forWidth(t).constraintsPerPermutation
            XCTAssertEqual(cs.constraintCount, expected, "width \(t)")
            XCTAssertTrue(cs.isSatisfied, "width \(t)")
        }
    }

    func testHashGadgetMatchesCircomlibCount() throws {
        let cs = ConstraintSystem<Fr>()
        let a = cs.allocatePrivate("a", value: 1), b = cs.allocatePrivate("b", value: 2)
        let h = try cs.poseidonHash([LinearCombination(a), LinearCombination(b)])
        XCTAssertEqual(cs.value(h), try Poseidon.hash([1, 2]))
        XCTAssertEqual(cs.constraintCount, 240)  // circomlib's Poseidon(2)
        XCTAssertTrue(cs.isSatisfied)
    }

    func testTamperedSboxOutputIsRejected() throws {
        let cs = ConstraintSystem<Fr>()
        let x = cs.allocatePrivate("x", value: .random())
        let y = cs.allocatePrivate("y", value: .random())
        let digest = try cs.poseidonHash([LinearCombination(x), LinearCombination(y)])
        let expected = cs.allocatePublic("digest", value: cs.value(digest))
        cs.enforceEqual(digest, LinearCombination(expected), "digest")
        XCTAssertTrue(cs.isSatisfied)
        // A cheating prover changes one S-box output (a last-round x5, a term of the digest) and
        // the digest with it, so that only the S-box constraint can catch it.
        let sboxOutput = try XCTUnwrap(digest.terms.first { $0.variable != .one })
        let old = cs.value(sboxOutput.variable)
        cs.tamper(sboxOutput.variable, with: old + .one)
        cs.tamper(expected, with: cs.value(digest))
        XCTAssertEqual(cs.firstViolation()?.name, "poseidonHash/x5")
        // A different public digest is rejected too.
        let honest = ConstraintSystem<Fr>()
        let hx = honest.allocatePrivate("x", value: 5), hy = honest.allocatePrivate("y", value: 6)
        let hd = try honest.poseidonHash([LinearCombination(hx), LinearCombination(hy)])
        let hp = honest.allocatePublic("digest", value: honest.value(hd) + .one)
        honest.enforceEqual(hd, LinearCombination(hp), "digest")
        XCTAssertEqual(honest.firstViolation()?.name, "digest")
    }

    func testSpongeGadgetEqualsNativeAndSeparatesDomains() throws {
        for (width, length) in [(3, 0), (3, 1), (3, 7), (5, 8), (17, 16), (17, 33), (2, 3)] {
            let message = (0..<length).map { _ in Fr.random() }
            let sponge = try PoseidonSponge(width: width)
            let native = sponge.hash(message)
            let cs = ConstraintSystem<Fr>()
            let vars = message.map { LinearCombination<Fr>(cs.allocatePrivate("m", value: $0)) }
            let digest = try cs.poseidonSponge(vars, width: width)
            XCTAssertEqual(cs.value(digest), native, "width \(width) length \(length)")
            XCTAssertTrue(cs.isSatisfied)
            let perPermutation = try PoseidonParameters.forWidth(width).constraintsPerPermutation
            // First-round S-boxes on constants (the capacity, zero padding of a short first block)
            // are computed natively; an empty message is all constants.
            let constantInputs = 1 + sponge.rate - min(sponge.rate, length)
            let expected =
                length == 0 ? 0 : sponge.permutationCount(length: length) * perPermutation - 3 * constantInputs
            XCTAssertEqual(cs.constraintCount, expected, "width \(width) length \(length)")
            XCTAssertNotEqual(native, sponge.hash(message, domain: .commitment))
        }
        // Zero padding does not collide thanks to the length in the capacity.
        let sponge = try PoseidonSponge(width: 3)
        XCTAssertNotEqual(sponge.hash([1]), sponge.hash([1, 0]))
        XCTAssertNotEqual(sponge.hash([]), sponge.hash([0]))
        // Not circomlib's poseidon: the capacity starts nonzero.
        XCTAssertNotEqual(sponge.hash([1, 2]), try Poseidon.hash([1, 2]))
    }
}
