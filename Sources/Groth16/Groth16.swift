import Algebra
import Circuit
import Dispatch

/// Groth16 over BN254 (Groth 2016), with arkworks' and snarkjs's conventions: one extra
/// constraint row "x_i * 0 = 0" per public wire (including the constant), which keeps the
/// public inputs' polynomials independent, and the quotient h = (AB - C)/Z computed on the
/// coset 5H.
public enum Groth16 {
    /// The secrets of a setup. Whoever knows them can forge proofs: they come from the
    /// OpenSSL CSPRNG, stay in memory only during `setup`, and are erased afterwards.
    struct ToxicWaste {
        var tau, alpha, beta, gamma, delta: Fr
        /// The commitment's blinding base eta and its knowledge-proof secret sigma (used only for
        /// circuits with a commitment to witness wires).
        var eta, sigma: Fr

        static func sample() -> ToxicWaste {
            func nonzero() -> Fr {
                while true {
                    let x = Fr.random()
                    if !x.isZero { return x }
                }
            }
            var w = ToxicWaste(
                tau: nonzero(), alpha: nonzero(), beta: nonzero(), gamma: nonzero(), delta: nonzero(),
                eta: nonzero(), sigma: nonzero())
            while w.gamma == w.delta { w.delta = nonzero() }
            return w
        }

        mutating func erase() {
            withUnsafeMutableBytes(of: &self) { SecureRandom.erase($0) }
        }
    }

    /// SHA-256 of the circuit's circom encoding: binds keys to one circuit.
    public static func circuitHash(_ r1cs: R1CS<Fr>) -> [UInt8] {
        SHA256.hash(Circom.writeR1CS(r1cs))
    }

    /// The evaluation domain for `r1cs`: constraint rows plus one row per public wire.
    public static func domain(for r1cs: R1CS<Fr>) throws(Groth16Error) -> EvaluationDomain {
        let rows = r1cs.constraintCount + r1cs.numPublic + 1
        do { return try EvaluationDomain(minimumSize: rows) } catch {
            throw .circuitTooLarge(constraints: r1cs.constraintCount)
        }
    }

    /// Generates a proving key (with its verifying key) for `r1cs` from fresh toxic waste.
    /// Cost: O(n) field work plus about 4 fixed-base G1 and 1 G2 multiplication per wire and
    /// one G1 multiplication per domain point, spread over all cores.
    public static func setup(_ r1cs: R1CS<Fr>) throws(Groth16Error) -> ProvingKey {
        var waste = ToxicWaste.sample()
        defer { waste.erase() }
        return try setup(r1cs, waste: waste)
    }

    /// Like `setup`, but the H query is in snarkjs's form (`.oddCosetLagrange`:
    /// L_{2i+1}(tau)/delta over the 2n-point domain, i < n), so the key can be written as a
    /// `.zkey` with `Zkey.write` and used by snarkjs's prover. Costs one more O(n) Lagrange
    /// evaluation (over 2n points) than `setup`. Domains up to 2^27 points.
    public static func setupSnarkjsStyle(_ r1cs: R1CS<Fr>) throws(Groth16Error) -> ProvingKey {
        var waste = ToxicWaste.sample()
        defer { waste.erase() }
        return try setup(r1cs, waste: waste, reduction: OddCosetLagrangeReduction.self)
    }

    static func setup(
        _ r1cs: R1CS<Fr>, waste: ToxicWaste,
        reduction: any QAPReduction.Type = MonomialReduction.self
    ) throws(Groth16Error) -> ProvingKey {
        let domain = try domain(for: r1cs)
        let m = r1cs.constraintCount
        let numWires = r1cs.numWires
        let numPublic = r1cs.numPublic

        // u_k(tau), v_k(tau), w_k(tau) for every wire, from the Lagrange basis at tau.
        var lagrange = domain.evaluateLagrangeBasis(at: waste.tau)
        var u = [Fr](repeating: .zero, count: numWires)
        var v = [Fr](repeating: .zero, count: numWires)
        var w = [Fr](repeating: .zero, count: numWires)
        func accumulate(_ matrix: SparseMatrix<Fr>, into out: inout [Fr]) {
            for j in 0..<m {
                let lj = lagrange[j]
                for k in matrix.rowStart[j]..<matrix.rowStart[j + 1] {
                    out[Int(matrix.columns[k])] += matrix.values[k] * lj
                }
            }
        }
        accumulate(r1cs.a, into: &u)
        accumulate(r1cs.b, into: &v)
        accumulate(r1cs.c, into: &w)
        for i in 0...numPublic { u[i] += lagrange[m + i] }

        guard let gammaInv = waste.gamma.inverse(), let deltaInv = waste.delta.inverse() else {
            preconditionFailure("toxic waste is sampled nonzero")
        }
        var icScalars = (0...numPublic).map { k in (waste.beta * u[k] + waste.alpha * v[k] + w[k]) * gammaInv }
        var lScalars = ((numPublic + 1)..<max(numPublic + 1, numWires)).map { k in
            (waste.beta * u[k] + waste.alpha * v[k] + w[k]) * deltaInv
        }
        // A commitment to witness wires (BSB22): the committed wires leave the L query (over
        // delta) for the commitment basis (over gamma, like the public inputs).
        var commitmentScalars: [Fr] = []
        if let info = r1cs.commitment {
            guard reduction.supportsCommitments else { throw .circuitMismatch }
            for k in info.wires {
                commitmentScalars.append((waste.beta * u[k] + waste.alpha * v[k] + w[k]) * gammaInv)
                lScalars[k - numPublic - 1] = .zero
            }
        }
        guard domain.size <= reduction.largestDomain else { throw .circuitTooLarge(constraints: m) }
        var hScalars = try reduction.hQueryScalars(domain: domain, tau: waste.tau, deltaInverse: deltaInv)

        let g1 = FixedBaseTable(base: G1Affine.generator)
        let g2 = FixedBaseTable(base: G2Affine.generator, windowBits: 8)
        let alpha1 = g1.multiply(waste.alpha).affine
        let beta1 = g1.multiply(waste.beta).affine
        let beta2 = g2.multiply(waste.beta).affine
        let gamma2 = g2.multiply(waste.gamma).affine
        let delta1 = g1.multiply(waste.delta).affine
        let delta2 = g2.multiply(waste.delta).affine

        let aQuery = g1.multiplyAll(u)
        let b1Query = g1.multiplyAll(v)
        let b2Query = g2.multiplyAll(v)
        let ic = g1.multiplyAll(icScalars)
        let lQuery = g1.multiplyAll(lScalars)
        let hQuery = g1.multiplyAll(hScalars)

        for i in 0..<lagrange.count { lagrange[i] = .zero }
        SecureRandom.erase(&lagrange)
        SecureRandom.erase(&u)
        SecureRandom.erase(&v)
        SecureRandom.erase(&w)
        SecureRandom.erase(&icScalars)
        SecureRandom.erase(&lScalars)
        SecureRandom.erase(&hScalars)

        var vk = VerifyingKey(alpha: alpha1, beta: beta2, gamma: gamma2, delta: delta2, ic: ic)
        var commitmentKey: CommitmentKey?
        if let info = r1cs.commitment {
            let basis = g1.multiplyAll(commitmentScalars)
            var sigmaScalars = commitmentScalars.map { $0 * waste.sigma }
            let basisSigma = g1.multiplyAll(sigmaScalars)
            let etaGamma = waste.eta * gammaInv
            commitmentKey = CommitmentKey(
                wires: info.wires, challenge: info.challenge, basis: basis, basisSigma: basisSigma,
                etaGamma: g1.multiply(etaGamma).affine,
                etaGammaSigma: g1.multiply(etaGamma * waste.sigma).affine,
                etaDelta: g1.multiply(waste.eta * deltaInv).affine)
            vk.commitment = CommitmentVerifyingKey(
                committedWires: info.wires.count, sigma: g2.multiply(waste.sigma).affine)
            SecureRandom.erase(&commitmentScalars)
            SecureRandom.erase(&sigmaScalars)
        }
        var key = ProvingKey(
            verifyingKey: vk, alpha: alpha1, beta1: beta1, beta2: beta2, delta1: delta1,
            delta2: delta2, a: aQuery, b1: b1Query, b2: b2Query, h: hQuery, l: lQuery,
            domainSize: domain.size, hForm: reduction.form, circuitHash: circuitHash(r1cs))
        key.commitment = commitmentKey
        return key
    }

    /// Proves that `witness` (the full wire assignment [1, public..., private...]) satisfies
    /// `r1cs`, with fresh blinding r, s from the CSPRNG. The witness is checked first: an
    /// unsatisfying witness is refused before any proving work.
    ///
    /// Keys in snarkjs's form (`.oddCosetLagrange`) prove the snarkjs way: C is taken as A * B
    /// row by row, so the circuit need not carry C. A circuit read from a `.zkey` has empty C
    /// rows (the format stores only A and B); its witness cannot be checked constraint by
    /// constraint; an invalid proof from it is refused as `witnessRejectedByKey`. Every proof is
    /// verified against the key's verifying key before it is returned: with a satisfied
    /// witness a failure means the key is inconsistent (`proofRejectedByOwnKey`).
    ///
    /// Cost: 6 FFTs of the domain size, G1 MSMs over the wires (A, B1, L) and the domain (H),
    /// and one G2 MSM; the independent MSMs run concurrently; then one verification (a
    /// four-pair pairing check and an MSM over the public inputs).
    public static func prove(key: ProvingKey, r1cs: R1CS<Fr>, witness: [Fr]) throws(Groth16Error) -> Proof {
        guard key.commitment == nil, r1cs.commitment == nil else {
            throw .commitmentMismatch("this circuit commits to witness wires: prove it with proveCommitted")
        }
        guard witness.count == r1cs.numWires, witness.count == key.wireCount else {
            throw .witnessLength(expected: key.wireCount, got: witness.count)
        }
        guard witness[0] == .one, r1cs.numPublic == key.publicInputCount else { throw .circuitMismatch }
        let knowsC = !key.reduction.derivesCFromAB || r1cs.c.nonZeroCount > 0
        let domain = try domain(for: r1cs)
        guard domain.size == key.domainSize else { throw .circuitMismatch }
        // The snarkjs form needs the 2n-point domain, which Fr has up to n = 2^27.
        if domain.size > key.reduction.largestDomain {
            throw .circuitTooLarge(constraints: r1cs.constraintCount)
        }

        let h = try quotient(
            r1cs: r1cs, witness: witness, domain: domain, reduction: key.reduction, checkingWitness: knowsC)
        var r = Fr.random(), s = Fr.random()
        defer {
            r = .zero
            s = .zero
        }
        let proof = msmProof(key: key, witness: witness, h: h, r: r, s: s)
        // Every proof is checked before it leaves: with a satisfied witness, a proof that fails
        // means the key's queries do not match its verifying key (a corrupted or altered key,
        // whose checksum the alterer can recompute). One pairing check, about 1-2 ms.
        // The key's degeneracy is its loader's business (a test key may be allowed explicitly).
        let inputs = Array(witness[1..<(r1cs.numPublic + 1)])
        let valid =
            !proof.a.isInfinity && !proof.b.isInfinity && !proof.c.isInfinity
            && pairingEquationHolds(key: key.verifyingKey, proof: proof, publicInputs: inputs)
        guard valid else { throw knowsC ? .proofRejectedByOwnKey : .witnessRejectedByKey }
        return proof
    }

    /// Evaluations of <A_j, w>, <B_j, w>, <C_j, w> on the domain rows (public rows appended),
    /// then h in the reduction's basis. When the reduction derives C (snarkjs), C_j is
    /// <A_j, w> <B_j, w> as in snarkjs's prover (equal to <C_j, w> for a satisfying witness; the
    /// circuit may lack C).
    ///
    /// With `checkingWitness`, the same pass checks every row, <A_j, w> <B_j, w> = <C_j, w>
    /// (one product and, for a reduction that derives C, one more row product), on all cores,
    /// and throws `witnessDoesNotSatisfy` with the first row that fails: the honest provers'
    /// witness check, which was a separate single-threaded pass over the matrices.
    static func quotient(
        r1cs: R1CS<Fr>, witness: [Fr], domain: EvaluationDomain,
        reduction: any QAPReduction.Type, checkingWitness: Bool = false
    ) throws(Groth16Error) -> [Fr] {
        let m = r1cs.constraintCount
        var a = [Fr](repeating: .zero, count: domain.size)
        var b = [Fr](repeating: .zero, count: domain.size)
        var c = [Fr](repeating: .zero, count: domain.size)
        // Rows on all cores (4 chunks per core, inline below 4096 rows); disjoint writes.
        let chunks = m < 4096 ? 1 : 4 * ProcessInfoCores.activeCount
        var firstFailure = [Int](repeating: Int.max, count: chunks)
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    firstFailure.withUnsafeMutableBufferPointer { pf in
                        let out = UnsafeSendable((pa, pb, pc, pf))
                        let cFromAB = reduction.derivesCFromAB
                        Parallel.forEachChunk(m, chunks: chunks) { chunk, rows in
                            for j in rows {
                                let aj = r1cs.a.dot(row: j, witness), bj = r1cs.b.dot(row: j, witness)
                                let ab = aj * bj
                                out.value.0[j] = aj
                                out.value.1[j] = bj
                                if cFromAB && !checkingWitness {
                                    out.value.2[j] = ab
                                    continue
                                }
                                let cj = r1cs.c.dot(row: j, witness)
                                out.value.2[j] = cFromAB ? ab : cj
                                if checkingWitness, ab != cj, out.value.3[chunk] == Int.max { out.value.3[chunk] = j }
                            }
                        }
                    }
                }
            }
        }
        if let bad = firstFailure.min(), bad != Int.max { throw .witnessDoesNotSatisfy(constraint: bad) }
        for i in 0...r1cs.numPublic { a[m + i] = witness[i] }
        do {
            return try reduction.quotient(a: a, b: b, c: c, domain: domain)
        } catch {
            preconditionFailure("vectors are sized to the domain: \(error)")
        }
    }

    /// The five MSMs (each spread over all cores), then the blinding with r and s:
    /// A = alpha + sum w_k u_k + r delta, B = beta + sum w_k v_k + s delta,
    /// C = sum_{private} w_k L_k + sum h_i H_i + s A + r B1 - r s delta.
    static func msmProof(key: ProvingKey, witness: [Fr], h: [Fr], r: Fr, s: Fr) -> Proof {
        let scalars = witness.map(\.canonicalLimbs)
        let privateScalars = Array(scalars[(key.publicInputCount + 1)...])
        let wires = MSM.RecodedScalars(scalars)  // shared by A, B1 and B2
        let aSum = MSM.multiply(bases: key.a, recoded: wires)
        let b1Sum = MSM.multiply(bases: key.b1, recoded: wires)
        let b2Sum = MSM.multiply(bases: key.b2, recoded: wires)
        let hSum = MSM.multiply(bases: key.h, canonicalScalars: h.map(\.canonicalLimbs))
        let lSum = MSM.multiply(bases: key.l, canonicalScalars: privateScalars)

        let delta1 = key.delta1.jacobian
        let proofA = key.alpha.jacobian + aSum + delta1.multiplied(by: r)
        let proofB2 = key.beta2.jacobian + b2Sum + key.delta2.jacobian.multiplied(by: s)
        let proofB1 = key.beta1.jacobian + b1Sum + delta1.multiplied(by: s)
        let proofC = lSum + hSum + proofA.multiplied(by: s) + proofB1.multiplied(by: r) - delta1.multiplied(by: r * s)
        return Proof(a: proofA.affine, b: proofB2.affine, c: proofC.affine)
    }
}
