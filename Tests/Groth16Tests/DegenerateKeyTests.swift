import Algebra
import Circuit
import Foundation
import Groth16
import XCTest

/// Degenerate verifying keys are refused wherever a key enters: `Groth16.verify` (plain,
/// prepared, batch), snarkjs JSON import, the Solidity export and the key file. Each case plays
/// the forgery the key would allow.
final class DegenerateKeyTests: XCTestCase {
    static let cached: (pk: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr])? = {
        guard let r1cs = try? Circom.readR1CS(Array(resource("square64.r1cs"))),
            let witness = try? Circom.readWitness(Array(resource("square64.wtns"))),
            let pk = try? Groth16.setup(r1cs)
        else { return nil }
        return (pk, r1cs, witness)
    }()

    var fixture: (pk: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr]) {
        get throws { try XCTUnwrap(Self.cached, "the square64 fixture did not load") }
    }

    var inputs: [Fr] { get throws { Array(try fixture.witness[1...3]) } }

    /// vk_x = IC_0 + sum x_i IC_i, what the verifier computes from the public inputs.
    func vkX(_ vk: VerifyingKey, _ x: [Fr]) -> G1Jacobian {
        var acc = vk.ic[0].jacobian
        for (xi, p) in zip(x, vk.ic.dropFirst()) { acc += p.multiplied(by: xi) }
        return acc
    }

    /// The attack from the issue: under a key with delta = gamma, A = alpha, B = beta,
    /// C = -vk_x satisfies the pairing equation for any public inputs (here random ones), so
    /// `verify` said "valid" to a proof nobody computed. Now the key is refused; with
    /// gamma = -delta the mirrored forgery C = +vk_x is refused likewise.
    func testGammaEqualsPlusMinusDeltaForgeryIsRefused() throws {
        var vk = try fixture.pk.verifyingKey
        let random = (0..<3).map { _ in Fr.random() }
        for sign in [1, -1] {
            vk.delta = sign == 1 ? vk.gamma : -vk.gamma
            let x = vkX(vk, random)
            let forged = Proof(a: vk.alpha, b: vk.beta, c: (sign == 1 ? -x : x).affine)
            XCTAssertTrue(
                Pairing.pairingCheck([
                    (-forged.a, forged.b), (vk.alpha, vk.beta), (x.affine, vk.gamma),
                    (forged.c, vk.delta),
                ]), "the forgery satisfies the equation (sign \(sign))")
            for verify in verifiers {
                XCTAssertThrowsError(try verify(vk, forged, random)) { error in
                    guard case Groth16Error.insecureKey(let why) = error else { return XCTFail("\(error)") }
                    XCTAssertTrue(why.contains("gamma = \(sign == 1 ? "" : "-")delta"), why)
                }
            }
            XCTAssertNotNil(vk.degeneracy)
        }
    }

    /// Each of alpha, beta, gamma, delta and an IC point at infinity is refused; an IC point at
    /// infinity would leave its public input unbound (a valid proof verifies for any value).
    func testIdentityPointsAreRefused() throws {
        let good = try fixture.pk.verifyingKey
        XCTAssertNil(good.degeneracy)
        var keys: [(String, VerifyingKey)] = []
        var k = good
        k.alpha = .infinity
        keys.append(("alpha", k))
        k = good
        k.beta = .infinity
        keys.append(("beta", k))
        k = good
        k.gamma = .infinity
        keys.append(("gamma", k))
        k = good
        k.delta = .infinity
        keys.append(("delta", k))
        k = good
        k.ic[2] = .infinity
        keys.append(("IC[2]", k))
        let proof = try Groth16.prove(key: try fixture.pk, r1cs: try fixture.r1cs, witness: try fixture.witness)
        for (what, key) in keys {
            XCTAssertTrue(key.degeneracy?.contains(what) == true, "\(what): \(key.degeneracy ?? "nil")")
            for verify in verifiers {
                XCTAssertThrowsError(try verify(key, proof, try inputs), what)
            }
            XCTAssertThrowsError(try SolidityVerifier.render(key), what)
            XCTAssertThrowsError(try SnarkjsJSON.verifyingKey(SnarkjsJSON.encode(key))) { error in
                guard case SnarkjsJSONError.insecureKey = error else { return XCTFail("\(what): \(error)") }
            }
        }
        // The unbound input: with IC[2] = 0, the honest proof's second input can be anything.
        var unbound = good
        unbound.ic[2] = .infinity
        var changed = try inputs
        changed[1] += Fr(UInt64(12345))
        let honest = try inputs
        let term = vkX(good, honest)
        let honestTermWithout = (term - good.ic[2].multiplied(by: honest[1])).affine
        XCTAssertEqual(vkX(unbound, changed).affine, honestTermWithout, "IC[2] = 0 drops input #2 from vk_x")
    }

    /// A degenerate key is refused by snarkjs JSON import with a clear one-line reason, and the
    /// Solidity export refuses it too: a deployed contract would accept the forgery.
    func testJSONImportAndSolidityExportRefuseGammaEqualsDelta() throws {
        var vk = try fixture.pk.verifyingKey
        XCTAssertNoThrow(try SnarkjsJSON.verifyingKey(SnarkjsJSON.encode(vk)))
        XCTAssertNoThrow(try SolidityVerifier.render(vk))
        vk.delta = vk.gamma
        XCTAssertThrowsError(try SnarkjsJSON.verifyingKey(SnarkjsJSON.encode(vk), file: "vk.json")) { error in
            guard case SnarkjsJSONError.insecureKey(let file, let why) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "vk.json")
            XCTAssertTrue(why.contains("gamma = delta"), why)
            XCTAssertFalse(error.localizedDescription.isEmpty)
            XCTAssertFalse((error as? SnarkjsJSONError)?.description.contains("\n") ?? true)
        }
        XCTAssertThrowsError(try SolidityVerifier.render(vk)) { error in
            guard case Groth16Error.insecureKey = error else { return XCTFail("\(error)") }
        }
    }

    /// The proving-key file refuses a degenerate verifying key even with a recomputed checksum.
    func testKeyFileRefusesGammaEqualsDeltaWithRecomputedChecksum() throws {
        var pk = try fixture.pk
        pk.verifyingKey.delta = pk.verifyingKey.gamma
        pk.delta2 = pk.verifyingKey.gamma
        let bytes = KeyFile.encode(pk, r1cs: try fixture.r1cs)
        XCTAssertThrowsError(try KeyFile.decode(bytes)) { error in
            guard case KeyFileError.invalid(_, _, let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("gamma = delta"), why)
        }
    }

    /// The issue's case: a proving key whose A-query point was changed and whose checksum was
    /// recomputed loads (every point is valid) but its proofs do not verify. `prove` used to
    /// return such a proof; it now checks every proof it makes and refuses.
    func testProveRefusesAKeyWhoseProofsDoNotVerify() throws {
        var pk = try fixture.pk
        pk.a[5] = (pk.a[5].jacobian + G1Jacobian.generator).affine
        let bytes = KeyFile.encode(pk, r1cs: try fixture.r1cs)
        let (loaded, r1cs) = try KeyFile.decode(bytes)
        XCTAssertThrowsError(try Groth16.prove(key: loaded, r1cs: r1cs, witness: try fixture.witness)) { error in
            XCTAssertEqual(error as? Groth16Error, .proofRejectedByOwnKey)
        }
        // The untouched key still proves.
        let proof = try Groth16.prove(key: try fixture.pk, r1cs: r1cs, witness: try fixture.witness)
        XCTAssertTrue(try Groth16.verify(key: try fixture.pk.verifyingKey, proof: proof, publicInputs: try inputs))
    }

    /// With the number of public inputs known, the key's size and IC count are checked before
    /// any point is decoded: a key with 10^5 IC entries is refused at once, by its size when
    /// the bytes are given, by its count when it is small enough to parse.
    func testICCountIsCheckedBeforeDecodingPoints() throws {
        let vk = try fixture.pk.verifyingKey
        let good = SnarkjsJSON.encode(vk)
        XCTAssertEqual(try SnarkjsJSON.verifyingKey(good, expectedPublicInputs: 3), vk)
        XCTAssertThrowsError(try SnarkjsJSON.verifyingKey(good, expectedPublicInputs: 2)) { error in
            XCTAssertEqual(
                error as? SnarkjsJSONError, .publicInputCount(file: "verification_key.json", expected: 2, got: 3))
        }
        // 10^5 IC entries, all the same (valid) point: refused by size before parsing.
        var dict = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        let ic0 = try XCTUnwrap((dict["IC"] as? [Any])?.first)
        dict["IC"] = [Any](repeating: ic0, count: 100_000)
        dict.removeValue(forKey: "nPublic")
        let huge = try JSONSerialization.data(withJSONObject: dict)
        let start = Date()
        XCTAssertThrowsError(try SnarkjsJSON.verifyingKey(huge, expectedPublicInputs: 3)) { error in
            guard case SnarkjsJSONError.tooLarge = error else { return XCTFail("\(error)") }
        }
        // Small enough to parse but with the wrong count: refused by the count, no point decoded.
        dict["IC"] = [Any](repeating: "not a point", count: 40)
        XCTAssertThrowsError(
            try SnarkjsJSON.verifyingKey(JSONSerialization.data(withJSONObject: dict), expectedPublicInputs: 3)
        ) { error in
            XCTAssertEqual(
                error as? SnarkjsJSONError, .publicInputCount(file: "verification_key.json", expected: 3, got: 39))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// The verifiers a degenerate key must not pass: plain, prepared and batch.
    var verifiers: [(VerifyingKey, Proof, [Fr]) throws -> Bool] {
        [
            { try Groth16.verify(key: $0, proof: $1, publicInputs: $2) },
            { try Groth16.verify(key: PreparedVerifyingKey($0), proof: $1, publicInputs: $2) },
            { try Groth16.batchVerify(key: PreparedVerifyingKey($0), proofs: [($1, $2)]) },
        ]
    }
}
