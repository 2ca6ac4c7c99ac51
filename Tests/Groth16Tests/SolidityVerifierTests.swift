import Algebra
import Circuit
import Foundation
import Groth16
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
}
