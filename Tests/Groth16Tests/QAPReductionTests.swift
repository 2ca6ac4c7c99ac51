import Algebra
import Circuit
import Groth16
import XCTest

/// Both QAP reductions must commit to the same h(tau) Z(tau) = A(tau) B(tau) - C(tau): the H
/// query's scalars at tau dotted with the prover's h, for a satisfying witness.
final class QAPReductionTests: XCTestCase {
    func testBothReductionsOpenToABMinusCAtTau() throws {
        let (r1cs, witness) = SquaringChain.make(constraints: 37, publicOutputs: 2)
        let domain = try Groth16.domain(for: r1cs)
        let m = r1cs.constraintCount
        var a = [Fr](repeating: .zero, count: domain.size), b = a, c = a
        for j in 0..<m {
            a[j] = r1cs.a.dot(row: j, witness)
            b[j] = r1cs.b.dot(row: j, witness)
            c[j] = r1cs.c.dot(row: j, witness)
        }
        for i in 0...r1cs.numPublic { a[m + i] = witness[i] }
        let tau = Fr.random()
        let lagrange = domain.evaluateLagrangeBasis(at: tau)
        func at(_ v: [Fr]) -> Fr { zip(v, lagrange).reduce(Fr.zero) { $0 + $1.0 * $1.1 } }
        let expected = at(a) * at(b) - at(c)
        let reductions: [any QAPReduction.Type] = [MonomialReduction.self, OddCosetLagrangeReduction.self]
        for reduction in reductions {
            let scalars = try reduction.hQueryScalars(domain: domain, tau: tau, deltaInverse: .one)
            var h = try reduction.quotient(a: a, b: b, c: c, domain: domain)
            XCTAssertEqual(scalars.count, reduction.hQueryCount(domainSize: domain.size), "\(reduction)")
            XCTAssertEqual(h.count, scalars.count, "\(reduction)")
            XCTAssertEqual(zip(scalars, h).reduce(Fr.zero) { $0 + $1.0 * $1.1 }, expected, "\(reduction)")
            // A prover's h off by one coefficient no longer opens to A B - C.
            h[1] += .one
            XCTAssertNotEqual(zip(scalars, h).reduce(Fr.zero) { $0 + $1.0 * $1.1 }, expected, "\(reduction)")
            XCTAssertEqual(reduction.form.reduction == reduction, true)
        }
    }

    /// Keys carry their reduction: our setup's is the monomial one, the snarkjs-style setup's the
    /// odd-coset one, and proofs from both verify.
    func testKeysProveWithTheirOwnReduction() throws {
        let (r1cs, witness) = SquaringChain.make(constraints: 20, publicOutputs: 1)
        for (key, form) in [
            (try Groth16.setup(r1cs), ProvingKey.HQueryForm.monomial),
            (try Groth16.setupSnarkjsStyle(r1cs), .oddCosetLagrange),
        ] {
            XCTAssertEqual(key.hForm, form)
            XCTAssertEqual(key.h.count, key.reduction.hQueryCount(domainSize: key.domainSize))
            let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
            XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: [witness[1]]))
        }
    }
}
