import Algebra
import Circuit
import Foundation
import Groth16
import Support
import XCTest

/// Checks the rendered contract's constants and simulates its verification logic: the
/// constants, the linear combination of the IC points and the 24-word pairing input are
/// read from the Solidity text and evaluated with our curve arithmetic and pairing, the way
/// the EVM precompiles would (no solc or EVM is available here).
final class SolidityVerifierTests: XCTestCase {
    func fixture() throws -> (VerifyingKey, Proof, [Fr]) {
        (
            try SnarkjsJSON.verifyingKey(try resource("verification_key.json")),
            try SnarkjsJSON.proof(try resource("proof.json")),
            try SnarkjsJSON.publicInputs(try resource("public.json"))
        )
    }

    /// `uint256 internal constant NAME = VALUE;` lines.
    func constants(_ source: String) -> [String: BigInt] {
        var out: [String: BigInt] = [:]
        for line in source.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("uint256 internal constant "), t.hasSuffix(";") else { continue }
            let parts = t.dropFirst("uint256 internal constant ".count).dropLast().components(separatedBy: " = ")
            if parts.count == 2, let v = BigInt(parts[1]) { out[parts[0]] = v }
        }
        return out
    }

    func testConstantsAreTheKeys() throws {
        let (vk, _, _) = try fixture()
        let source = try SolidityVerifier.render(vk)
        XCTAssertTrue(source.contains("pragma solidity ^0.8.0;"))
        XCTAssertTrue(
            source.contains(
                "function verifyProof(\n        uint256[2] calldata a,\n        uint256[2][2] calldata b,\n        uint256[2] calldata c,\n        uint256[3] calldata input\n    ) public view returns (bool)"
            ))
        let k = constants(source)
        XCTAssertEqual(k["R"], Fr.modulus)
        XCTAssertEqual(k["Q"], Fq.modulus)
        XCTAssertEqual(k["ALPHA_X"], vk.alpha.x.bigInt)
        XCTAssertEqual(k["ALPHA_Y"], vk.alpha.y.bigInt)
        for (name, p) in [("BETA", vk.beta), ("GAMMA", vk.gamma), ("DELTA", vk.delta)] {
            XCTAssertEqual(k[name + "_X_IM"], p.x.c1.bigInt)
            XCTAssertEqual(k[name + "_X_RE"], p.x.c0.bigInt)
            XCTAssertEqual(k[name + "_Y_IM"], p.y.c1.bigInt)
            XCTAssertEqual(k[name + "_Y_RE"], p.y.c0.bigInt)
        }
        for (i, p) in vk.ic.enumerated() {
            XCTAssertEqual(k["IC\(i)_X"], p.x.bigInt)
            XCTAssertEqual(k["IC\(i)_Y"], p.y.bigInt)
        }
        XCTAssertNil(k["IC\(vk.ic.count)_X"])
        // Every decimal in the key's snarkjs JSON appears verbatim in the contract.
        let json = String(decoding: SnarkjsJSON.encode(vk), as: UTF8.self)
        let regex = try NSRegularExpression(pattern: "\"([0-9]{20,})\"")
        for match in regex.matches(in: json, range: NSRange(json.startIndex..., in: json)) {
            let number = String(json[Range(match.range(at: 1), in: json)!])
            XCTAssertTrue(source.contains(number), "missing \(number)")
        }
        // Range checks on the inputs and the proof coordinates.
        XCTAssertTrue(source.contains("if (input[i] >= R) return false;"))
        XCTAssertTrue(source.contains("if (a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q) return false;"))
        XCTAssertTrue(
            source.contains("if (b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q) return false;"))
    }

    func testNoPublicInputsOmitsTheInputParameter() throws {
        let (vk, _, _) = try fixture()
        var k = vk
        k.ic = [vk.ic[0]]
        let source = try SolidityVerifier.render(k)
        XCTAssertTrue(source.contains("uint256[2] calldata c\n    ) public view returns (bool)"))
        XCTAssertFalse(source.contains("calldata input"))
        XCTAssertFalse(source.contains("input["))
        XCTAssertFalse(source.contains("mulAdd(ok"))
    }

    /// Runs the contract's verification on snarkjs-style calldata, evaluating its statements.
    func simulate(_ source: String, a: [BigInt], b: [[BigInt]], c: [BigInt], input: [BigInt]) throws -> Bool {
        let k = constants(source)
        let r = k["R"]!, q = k["Q"]!
        if input.contains(where: { $0 >= r }) { return false }
        if (a + c + b.flatMap { $0 }).contains(where: { $0 >= q }) { return false }
        func word(_ e: String, x: BigInt, y: BigInt) throws -> BigInt {
            let e = e.trimmingCharacters(in: .whitespaces)
            if let v = k[e] { return v }
            if e == "x" { return x }
            if e == "y" { return y }
            if e == "(Q - a[1]) % Q" { return (q - a[1]) % q }
            let idx = e.split(whereSeparator: { "[]".contains($0) }).map(String.init)
            switch idx.first {
            case "a": return a[Int(idx[1])!]
            case "c": return c[Int(idx[1])!]
            case "b": return b[Int(idx[1])!][Int(idx[2])!]
            case "input": return input[Int(idx[1])!]
            default: throw CocoaError(.formatting)
            }
        }
        func g1(_ x: BigInt, _ y: BigInt) throws -> G1Affine {
            try G1Affine(uncompressed: x.bigEndianBytes(count: 32) + y.bigEndianBytes(count: 32))
        }
        // vk_x: IC0, then one mulAdd line per input.
        var x = k["IC0_X"]!, y = k["IC0_Y"]!
        let mulAdd = try NSRegularExpression(
            pattern: #"\(ok, x, y\) = mulAdd\(ok, x, y, (\w+), (\w+), (input\[\d+\])\);"#)
        for m in mulAdd.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
            let parts = (1...3).map { String(source[Range(m.range(at: $0), in: source)!]) }
            let p = try g1(try word(parts[0], x: x, y: y), try word(parts[1], x: x, y: y))
            let s = Fr(reducing: try word(parts[2], x: x, y: y))
            let sum = (try g1(x, y).jacobian + p.multiplied(by: s)).affine
            (x, y) = sum.isInfinity ? (BigInt(0), BigInt(0)) : (sum.x.bigInt, sum.y.bigInt)
        }
        // The 24 pairing words.
        var words = [BigInt?](repeating: nil, count: 24)
        let assign = try NSRegularExpression(pattern: #"p\[(\d+)\] = ([^;]+);"#)
        for m in assign.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
            let i = Int(source[Range(m.range(at: 1), in: source)!])!
            words[i] = try word(String(source[Range(m.range(at: 2), in: source)!]), x: x, y: y)
        }
        let w = words.compactMap { $0 }
        XCTAssertEqual(w.count, 24)
        var pairs: [(G1Affine, G2Affine)] = []
        for i in 0..<4 {
            let base = 6 * i
            let p = try g1(w[base], w[base + 1])
            let g2 = try G2Affine(uncompressed: (2..<6).flatMap { w[base + $0].bigEndianBytes(count: 32) })
            pairs.append((p, g2))
        }
        return Pairing.pairingCheck(pairs)
    }

    /// snarkjs calldata: a = [x, y], b = [[x.c1, x.c0], [y.c1, y.c0]], c = [x, y].
    func calldata(_ proof: Proof) -> ([BigInt], [[BigInt]], [BigInt]) {
        (
            [proof.a.x.bigInt, proof.a.y.bigInt],
            [[proof.b.x.c1.bigInt, proof.b.x.c0.bigInt], [proof.b.y.c1.bigInt, proof.b.y.c0.bigInt]],
            [proof.c.x.bigInt, proof.c.y.bigInt]
        )
    }

    func testSimulatedContractAcceptsFixtureProofAndRejectsTampering() throws {
        let (vk, proof, inputs) = try fixture()
        let source = try SolidityVerifier.render(vk)
        let (a, b, c) = calldata(proof)
        let x = inputs.map(\.bigInt)
        XCTAssertTrue(try simulate(source, a: a, b: b, c: c, input: x))
        var wrongInput = x
        wrongInput[1] = wrongInput[1] + BigInt(1)
        XCTAssertFalse(try simulate(source, a: a, b: b, c: c, input: wrongInput))
        // b with real and imaginary parts swapped (the wrong calldata order) is not accepted.
        let swapped = [[b[0][1], b[0][0]], [b[1][1], b[1][0]]]
        XCTAssertFalse((try? simulate(source, a: a, b: swapped, c: c, input: x)) ?? false)
        // An input >= r and a coordinate >= q are refused before any precompile.
        var big = x
        big[0] = big[0] + Fr.modulus
        XCTAssertFalse(try simulate(source, a: a, b: b, c: c, input: big))
        XCTAssertFalse(try simulate(source, a: [a[0], a[1] + Fq.modulus], b: b, c: c, input: x))
        // A shifted C.
        let other = calldata(Proof(a: proof.a, b: proof.b, c: (proof.c.jacobian + G1Jacobian.generator).affine))
        XCTAssertFalse(try simulate(source, a: a, b: b, c: other.2, input: x))
    }

    func testSimulatedContractAcceptsOurProofFromZkeyKey() throws {
        let r1cs = try Circom.readR1CS(Array(try resource("square64.r1cs")))
        let witness = try Circom.readWitness(Array(try resource("square64.wtns")))
        let (key, circuit) = try Zkey.read(try Zkey.write(try Groth16.setupSnarkjsStyle(r1cs), r1cs: r1cs))
        let proof = try Groth16.prove(key: key, r1cs: circuit, witness: witness)
        let (a, b, c) = calldata(proof)
        let source = try SolidityVerifier.render(key.verifyingKey)
        XCTAssertTrue(try simulate(source, a: a, b: b, c: c, input: witness[1...3].map(\.bigInt)))
    }

    // MARK: committed proofs (BSB22)

    typealias LC = LinearCombination<Fr>

    /// x y = z with x, y private (4-bit, by lookup), z committed and checked against the public
    /// product through the challenge (z + rho = product + rho, a row that uses the challenge), and
    /// `extra` more public inputs, so the statement has 2 + extra values before the challenge.
    func committedCircuit(oracle: (@Sendable ([Fr], [Fr]) -> Fr)?, extra: Int = 0) -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        let product = cs.allocatePublic("product", value: Fr(UInt64(77)))
        _ = cs.allocatePublicInput("session", value: Fr(UInt64(5)))
        for i in 0..<extra { _ = cs.allocatePublicInput("extra\(i)", value: Fr(UInt64(1000 + i))) }
        let table = LookupRangeTable<Fr>(limbBits: 4)
        let x = LC(cs.allocatePrivateInput("x", value: Fr(UInt64(7))))
        let y = LC(cs.allocatePrivateInput("y", value: Fr(UInt64(11))))
        cs.lookupRange(x, bits: 4, table: table, "x")
        cs.lookupRange(y, bits: 4, table: table, "y")
        let z = LC(cs.allocateCommitted("z", value: Fr(UInt64(77))))
        cs.enforce(x, y, z, "xy")
        let m = table.commitMultiplicities(in: cs)
        cs.challengeOracle = oracle
        let rho = cs.drawChallenge()
        cs.enforce(z + LC(rho), LC(constant: .one), LC(product) + LC(rho), "bound")
        table.prove(in: cs, multiplicities: m, challenge: rho)
        return cs
    }

    func committedFixture(extra: Int = 0) throws -> (VerifyingKey, CommittedProof, [Fr]) {
        let r1cs = committedCircuit(oracle: nil, extra: extra).r1cs()
        let key = try Groth16.setup(r1cs)
        let proof = try Groth16.proveCommitted(key: key, r1cs: r1cs) { oracle in
            self.committedCircuit(oracle: oracle, extra: extra)
        }
        let statement = [Fr(UInt64(77)), Fr(UInt64(5))] + (0..<extra).map { Fr(UInt64(1000 + $0)) }
        XCTAssertTrue(try Groth16.verifyCommitted(key: key.verifyingKey, proof: proof, statement: statement))
        return (key.verifyingKey, proof, statement)
    }

    /// The committed contract's calldata: a, b, c as snarkjs's, then D and K as [x, y].
    struct CommittedCalldata {
        var a: [BigInt]
        var b: [[BigInt]]
        var c: [BigInt]
        var d: [BigInt]
        var k: [BigInt]
    }

    func calldata(_ proof: CommittedProof) -> CommittedCalldata {
        let (a, b, c) = calldata(proof.proof)
        return CommittedCalldata(
            a: a, b: b, c: c, d: [proof.commitment.x.bigInt, proof.commitment.y.bigInt],
            k: [proof.knowledge.x.bigInt, proof.knowledge.y.bigInt])
    }

    /// `reverseBytes` as the contract writes it: each `v = ((v & 0xM) >> w) | ((v & 0xM') << w);`
    /// line in order, then the final half swap, on the word's 32 big-endian bytes (every shift is
    /// whole bytes; a left shift drops what passes the top, as the EVM does).
    func reverseBytes(_ source: String, _ value: BigInt) throws -> BigInt {
        let line = try NSRegularExpression(
            pattern: #"v = \(\(v & 0x([0-9A-F]+)\) >> (\d+)\) \| \(\(v & 0x([0-9A-F]+)\) << (\d+)\);"#)
        let matches = line.matches(in: source, range: NSRange(source.startIndex..., in: source))
        XCTAssertEqual(matches.count, 4)
        func mask(_ text: Substring) throws -> [UInt8] {
            let digits = Array(text)
            XCTAssertEqual(digits.count, 64, "a full word")
            return try stride(from: 0, to: digits.count, by: 2).map { i in
                try XCTUnwrap(UInt8(String(digits[i..<(i + 2)]), radix: 16))
            }
        }
        func and(_ v: [UInt8], _ m: [UInt8]) -> [UInt8] { zip(v, m).map { $0 & $1 } }
        func or(_ v: [UInt8], _ m: [UInt8]) -> [UInt8] { zip(v, m).map { $0 | $1 } }
        func right(_ v: [UInt8], _ bits: Int) -> [UInt8] {
            [UInt8](repeating: 0, count: bits / 8) + v.dropLast(bits / 8)
        }
        func left(_ v: [UInt8], _ bits: Int) -> [UInt8] {
            Array(v.dropFirst(bits / 8)) + [UInt8](repeating: 0, count: bits / 8)
        }
        var v = value.bigEndianBytes(count: 32)
        for m in matches {
            let part = { (i: Int) in source[Range(m.range(at: i), in: source)!] }
            let shiftRight = try XCTUnwrap(Int(part(2))), shiftLeft = try XCTUnwrap(Int(part(4)))
            XCTAssertEqual(shiftRight % 8, 0)
            XCTAssertEqual(shiftRight, shiftLeft)
            v = or(right(and(v, try mask(part(1))), shiftRight), left(and(v, try mask(part(3))), shiftLeft))
        }
        XCTAssertTrue(source.contains("return (v >> 128) | (v << 128);"))
        return BigInt(bigEndian: or(right(v, 128), left(v, 128)))
    }

    /// Runs the committed contract on its calldata, reading from the Solidity text the constants,
    /// the domain tag, the byte reversal, the IC combination (with the challenge and D) and the
    /// words of both pairing calls, and evaluating them with our SHA-256, curve and pairing.
    func simulateCommitted(_ source: String, _ call: CommittedCalldata, input: [BigInt]) throws -> Bool {
        let k = constants(source)
        let r = k["R"]!, q = k["Q"]!
        if input.contains(where: { $0 >= r }) { return false }
        let coordinates = call.a + call.c + call.d + call.k + call.b.flatMap { $0 }
        if coordinates.contains(where: { $0 >= q }) { return false }
        for pair in [call.a, call.c, call.d, call.k] where pair.allSatisfy({ $0 == BigInt(0) }) { return false }
        let domainLine = try XCTUnwrap(
            source.split(separator: "\n").first { $0.contains("string internal constant DOMAIN = ") })
        let domain = try XCTUnwrap(domainLine.split(separator: "\"").dropFirst().first)
        XCTAssertTrue(
            source.contains(
                input.isEmpty
                    ? "bytes memory prefix = abi.encodePacked(DOMAIN, commitment[0], commitment[1]);"
                    : "bytes memory prefix = abi.encodePacked(DOMAIN, commitment[0], commitment[1], littleEndian);"))
        XCTAssertTrue(source.contains("return addmod(mulmod(high, TWO_256_MOD_R, R), low, R);"))
        var prefix = Array(domain.utf8) + call.d[0].bigEndianBytes(count: 32) + call.d[1].bigEndianBytes(count: 32)
        for value in input { prefix += try reverseBytes(source, value).bigEndianBytes(count: 32) }
        let high = BigInt(bigEndian: SHA256.hash(prefix + [0])), low = BigInt(bigEndian: SHA256.hash(prefix + [1]))
        let challenge = ((high % r) * k["TWO_256_MOD_R"]! + low) % r

        func g1(_ x: BigInt, _ y: BigInt) throws -> G1Affine {
            try G1Affine(uncompressed: x.bigEndianBytes(count: 32) + y.bigEndianBytes(count: 32))
        }
        func word(_ e: String, x: BigInt, y: BigInt) throws -> BigInt {
            let e = e.trimmingCharacters(in: .whitespaces)
            if let v = k[e] { return v }
            switch e {
            case "x": return x
            case "y": return y
            case "1": return BigInt(1)
            case "challenge": return challenge
            case "(Q - a[1]) % Q": return (q - call.a[1]) % q
            case "(Q - knowledge[1]) % Q": return (q - call.k[1]) % q
            default: break
            }
            let idx = e.split(whereSeparator: { "[]".contains($0) }).map(String.init)
            switch idx.first {
            case "a": return call.a[Int(idx[1])!]
            case "c": return call.c[Int(idx[1])!]
            case "b": return call.b[Int(idx[1])!][Int(idx[2])!]
            case "commitment": return call.d[Int(idx[1])!]
            case "knowledge": return call.k[Int(idx[1])!]
            case "input": return input[Int(idx[1])!]
            default: throw CocoaError(.formatting)
            }
        }
        var x = k["IC0_X"]!, y = k["IC0_Y"]!
        let mulAdd = try NSRegularExpression(pattern: #"\(ok, x, y\) = mulAdd\(ok, x, y, ([^,]+), ([^,]+), ([^)]+)\);"#)
        let lines = mulAdd.matches(in: source, range: NSRange(source.startIndex..., in: source))
        XCTAssertEqual(lines.count, input.count + 2, "one per input, the challenge, then D")
        for m in lines {
            let parts = (1...3).map { String(source[Range(m.range(at: $0), in: source)!]) }
            let p = try g1(try word(parts[0], x: x, y: y), try word(parts[1], x: x, y: y))
            let s = Fr(reducing: try word(parts[2], x: x, y: y))
            let sum = (try g1(x, y).jacobian + p.multiplied(by: s)).affine
            (x, y) = sum.isInfinity ? (BigInt(0), BigInt(0)) : (sum.x.bigInt, sum.y.bigInt)
        }
        func pairs(_ array: String, count: Int) throws -> [(G1Affine, G2Affine)] {
            var words = [BigInt?](repeating: nil, count: count)
            let assign = try NSRegularExpression(pattern: array + #"\[(\d+)\] = ([^;]+);"#)
            for m in assign.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                let i = Int(source[Range(m.range(at: 1), in: source)!])!
                words[i] = try word(String(source[Range(m.range(at: 2), in: source)!]), x: x, y: y)
            }
            let w = words.compactMap { $0 }
            XCTAssertEqual(w.count, count)
            return try (0..<(count / 6)).map { i in
                let base = 6 * i
                let g2 = try G2Affine(uncompressed: (2..<6).flatMap { w[base + $0].bigEndianBytes(count: 32) })
                return (try g1(w[base], w[base + 1]), g2)
            }
        }
        let groth16 = Pairing.pairingCheck(try pairs(" p", count: 24))
        let knowledge = Pairing.pairingCheck(try pairs(" k", count: 12))
        return groth16 && knowledge
    }

    /// The committed contract embeds sigma, the G2 generator, the domain tag and 2^256 mod r, and
    /// one IC point past the statement (the challenge's); its entry point takes D and K.
    func testCommittedContractConstantsAndShape() throws {
        let (vk, _, _) = try committedFixture()
        let commitment = try XCTUnwrap(vk.commitment)
        let source = try SolidityVerifier.render(vk)
        let k = constants(source)
        XCTAssertEqual(vk.publicInputCount, 3)
        XCTAssertNotNil(k["IC3_X"])
        XCTAssertNil(k["IC4_X"])
        XCTAssertEqual(k["SIGMA_X_IM"], commitment.sigma.x.c1.bigInt)
        XCTAssertEqual(k["SIGMA_Y_RE"], commitment.sigma.y.c0.bigInt)
        XCTAssertEqual(k["G2_X_RE"], G2Affine.generator.x.c0.bigInt)
        XCTAssertEqual(k["TWO_256_MOD_R"], (BigInt(1) << 256) % Fr.modulus)
        XCTAssertTrue(source.contains("string internal constant DOMAIN = \"\(Groth16.commitmentDomain)\";"))
        XCTAssertTrue(
            source.contains(
                "uint256[2] calldata commitment,\n        uint256[2] calldata knowledge,\n        uint256[2] calldata input\n    ) public view returns (bool)"
            ))
        XCTAssertEqual(try reverseBytes(source, BigInt(0x0102)), BigInt(0x0201) * (BigInt(1) << 240))
        let value = Fr.random()
        XCTAssertEqual(
            try reverseBytes(source, value.bigInt), BigInt(bigEndian: value.littleEndianBytes()),
            "a word holding the value's little-endian bytes")
    }

    /// Our committed proof passes the simulated contract; a wrong statement value, a D moved off
    /// its value (the challenge and the sum change), a K that is not D's, a proof point at
    /// infinity and an input >= r fail.
    func testSimulatedCommittedContractAcceptsOurProofAndRejectsTampering() throws {
        for extra in [0, 3] {
            let (vk, proof, statement) = try committedFixture(extra: extra)
            let source = try SolidityVerifier.render(vk)
            let call = calldata(proof)
            let input = statement.map(\.bigInt)
            XCTAssertTrue(try simulateCommitted(source, call, input: input), "extra \(extra)")
            var wrong = input
            wrong[0] = wrong[0] + BigInt(1)
            XCTAssertFalse(try simulateCommitted(source, call, input: wrong))
            var big = input
            big[1] = big[1] + Fr.modulus
            XCTAssertFalse(try simulateCommitted(source, call, input: big))
            var moved = proof
            moved.commitment = (proof.commitment.jacobian + G1Affine.generator).affine
            XCTAssertFalse(try simulateCommitted(source, calldata(moved), input: input))
            var otherKnowledge = proof
            otherKnowledge.knowledge = (proof.knowledge.jacobian + G1Affine.generator).affine
            XCTAssertFalse(try simulateCommitted(source, calldata(otherKnowledge), input: input))
            var zero = call
            zero.k = [BigInt(0), BigInt(0)]
            XCTAssertFalse(try simulateCommitted(source, zero, input: input))
        }
    }

    /// A key whose circuit has nothing public but the challenge: no `input` parameter, and the
    /// hash covers the domain tag and D alone.
    func testCommittedContractWithOnlyTheChallenge() throws {
        let (vk, _, _) = try committedFixture()
        var onlyChallenge = vk
        onlyChallenge.ic = [vk.ic[0], vk.ic[3]]
        let source = try SolidityVerifier.render(onlyChallenge)
        XCTAssertTrue(source.contains("uint256[2] calldata knowledge\n    ) public view returns (bool)"))
        XCTAssertFalse(source.contains("calldata input"))
        XCTAssertTrue(source.contains("publicInputPoint(commitment)"))
        XCTAssertTrue(source.contains("(ok, x, y) = mulAdd(ok, x, y, IC1_X, IC1_Y, challenge);"))
    }

    /// A committed key's `verification_key.json` carries sigma in `vs_commitment`, reads back to
    /// the same key (which verifies the proof and exports the committed contract), and a plain
    /// key's has no such field. Bad extension fields are refused by name, and a sigma of +-1 as
    /// a degenerate key.
    func testCommittedVerifyingKeyJSON() throws {
        let (vk, proof, statement) = try committedFixture()
        let json = SnarkjsJSON.encode(vk)
        let back = try SnarkjsJSON.verifyingKey(json)
        XCTAssertEqual(back, vk)
        XCTAssertTrue(try Groth16.verifyCommitted(key: back, proof: proof, statement: statement))
        XCTAssertEqual(try SolidityVerifier.render(back), try SolidityVerifier.render(vk))
        let (plain, _, _) = try fixture()
        XCTAssertFalse(String(decoding: SnarkjsJSON.encode(plain), as: UTF8.self).contains(SnarkjsJSON.commitmentField))

        func edited(_ edit: (inout [String: Any]) -> Void) throws -> Data {
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            edit(&object)
            return try JSONSerialization.data(withJSONObject: object)
        }
        func refused(_ data: Data, _ expected: String, line: UInt = #line) {
            XCTAssertThrowsError(try SnarkjsJSON.verifyingKey(data), line: line) {
                XCTAssertTrue("\($0)".contains(expected), "\($0)", line: line)
            }
        }
        let field = SnarkjsJSON.commitmentField
        let sigma = vk.commitment!.sigma.snarkjsStrings()
        refused(try edited { $0[field] = "sigma" }, "should be an object")
        refused(try edited { $0[field] = ["sigma_2": sigma] }, "missing field '\(field).committed_wires'")
        refused(try edited { $0[field] = ["committed_wires": 1] }, "missing field '\(field).sigma_2'")
        refused(try edited { $0[field] = ["committed_wires": -1, "sigma_2": sigma] }, "committed_wires")
        refused(try edited { $0[field] = ["committed_wires": "1", "sigma_2": sigma] }, "committed_wires")
        var offCurve = sigma
        offCurve[0][0] = "5"
        refused(try edited { $0[field] = ["committed_wires": 1, "sigma_2": offCurve] }, "\(field).sigma_2")
        refused(
            try edited { $0[field] = ["committed_wires": 1, "sigma_2": G2Affine.generator.snarkjsStrings()] },
            "sigma is +-1")
        refused(
            try edited { $0[field] = ["committed_wires": 1, "sigma_2": (-G2Affine.generator).snarkjsStrings()] },
            "sigma is +-1")
    }
}
