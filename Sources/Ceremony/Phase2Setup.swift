import Algebra
import Circuit
import Groth16

/// Phase 2: the circuit-specific Groth16 key from phase-1 powers, delta updates, and the
/// checks a verifier runs on both.
///
/// The key is snarkjs's: gamma = 1 (the G2 generator), delta = 1 before any contribution, and
/// the H query in the odd-coset Lagrange form (`ProvingKey.HQueryForm.oddCosetLagrange`), so it
/// can be written with `Zkey.write` and used by snarkjs's prover as well as `Groth16.prove`.
enum Phase2Setup {
    /// The key with delta = gamma = 1 for `r1cs` from `powers` (power >= log2 of the domain).
    ///
    /// A_k = u_k(tau) G1 and so on are combinations of the Lagrange-basis points L_j(tau) G,
    /// which come from the powers by an inverse FFT over the points (as `snarkjs powersoftau
    /// prepare phase2` does). H_i = L_{2i+1}(tau) G1 over the 2n-point domain is
    /// (1/2n) sum_j omega_n^(-ij) omega_2n^(-j) (tau^j - tau^(j+n)) G1: one more n-point FFT.
    /// When the powers stop at tau^(2n-2) (power = log2 n), tau^(2n-1) is taken as zero, as
    /// snarkjs does: h Z has degree <= 2n - 2, so an honest proof never uses that coefficient,
    /// and a cheating one gains nothing because the public-input rows force the error to zero.
    ///
    /// Cost: 4 G1 and 1 G2 point FFTs of size n ((n/2) log n variable-base multiplications each,
    /// by GLV on the vector kernel) plus one multiplication per R1CS nonzero (cheap for small
    /// coefficients).
    static func initialKey(
        r1cs: R1CS<Fr>, powers: PowersOfTau, progress: (String) -> Void
    ) throws(CeremonyError) -> ProvingKey {
        let domain = try domainFor(r1cs, powers: powers)
        let n = domain.size, m = r1cs.constraintCount, np = r1cs.numPublic, wires = r1cs.numWires
        // the twiddles' GLV split, shared by the five FFTs (only the vector kernel uses it)
        let twiddles = PointKernels.available(G1Parameters.self) && n >= 16 ? PublicScalars(twiddlesOf: domain) : nil
        progress("Lagrange basis: tau G1")
        let lt = PointBatch.inverseFFT(Array(powers.tauG1[0..<n]), domain: domain, twiddles: twiddles)
        progress("Lagrange basis: alpha tau G1")
        let la = PointBatch.inverseFFT(Array(powers.alphaTauG1[0..<n]), domain: domain, twiddles: twiddles)
        progress("Lagrange basis: beta tau G1")
        let lb = PointBatch.inverseFFT(Array(powers.betaTauG1[0..<n]), domain: domain, twiddles: twiddles)
        progress("Lagrange basis: tau G2")
        let lt2 = PointBatch.inverseFFT(Array(powers.tauG2[0..<n]), domain: domain, twiddles: twiddles)
        progress("H query")
        let doubled = try domainOfSize(2 * n)
        var differences = JacobianPoint<G1Parameters>.batchToAffine(
            (0..<n).map { j in
                let high = j + n < powers.tauG1.count ? powers.tauG1[j + n] : .infinity
                return powers.tauG1[j].jacobian - high.jacobian
            })
        guard let half = Fr(2).inverse() else { preconditionFailure("2 is invertible in Fr") }
        PointBatch.scaleByPowers(&differences, first: half, ratio: doubled.generatorInverse)
        let h = PointBatch.inverseFFT(differences, domain: domain, twiddles: twiddles)

        progress("circuit queries")
        var u = [JacobianPoint<G1Parameters>](repeating: .infinity, count: wires)
        var v1 = u, k = u
        var v2 = [JacobianPoint<G2Parameters>](repeating: .infinity, count: wires)
        // A coefficient below 2^64 in magnitude costs its bit length in doublings, done here; a
        // wider one (the batched circuits' packing weights and limb sums) costs a full
        // multiplication, so those are gathered and multiplied in bulk on all cores
        // (`PointBatch.products`), then added in.
        var wide1 = PointBatch.Products<G1Parameters>(), wide2 = PointBatch.Products<G2Parameters>()
        func add1(_ target: inout [JacobianPoint<G1Parameters>], _ query: Int, _ w: Int, _ p: G1Affine, _ value: Fr) {
            if !wide1.gather(p, value, target: query * wires + w) { target[w] += PointBatch.times(p, value) }
        }
        let (uQuery, v1Query, kQuery) = (0, 1, 2)
        for j in 0..<m {
            let a = r1cs.a, b = r1cs.b, c = r1cs.c
            for e in a.rowStart[j]..<a.rowStart[j + 1] {
                let w = Int(a.columns[e]), value = a.values[e]
                add1(&u, uQuery, w, lt[j], value)
                add1(&k, kQuery, w, lb[j], value)
            }
            for e in b.rowStart[j]..<b.rowStart[j + 1] {
                let w = Int(b.columns[e]), value = b.values[e]
                add1(&v1, v1Query, w, lt[j], value)
                if !wide2.gather(lt2[j], value, target: w) { v2[w] += PointBatch.times(lt2[j], value) }
                add1(&k, kQuery, w, la[j], value)
            }
            for e in c.rowStart[j]..<c.rowStart[j + 1] {
                add1(&k, kQuery, Int(c.columns[e]), lt[j], c.values[e])
            }
        }
        wide1.apply { target, point in
            let (query, w) = target.quotientAndRemainder(dividingBy: wires)
            switch query {
            case uQuery: u[w] += point
            case v1Query: v1[w] += point
            default: k[w] += point
            }
        }
        wide2.apply { w, point in v2[w] += point }
        for i in 0...np {
            u[i] += lt[m + i]
            k[i] += lb[m + i]
        }
        let kAffine = JacobianPoint<G1Parameters>.batchToAffine(k)
        var vk = VerifyingKey(
            alpha: powers.alphaTauG1[0], beta: powers.betaG2, gamma: .generator, delta: .generator,
            ic: Array(kAffine[0...np]))
        var l = Array(kAffine[(np + 1)...])
        var commitment: CommitmentKey?
        if let info = r1cs.commitment {
            // The committed wires' K-terms move from L (over delta) to the basis (over gamma = 1),
            // as `Groth16.setup` does; sigma = eta = 1 until the first contribution.
            let basis = info.wires.map { kAffine[$0] }
            for wire in info.wires { l[wire - np - 1] = .infinity }
            commitment = CommitmentKey(
                wires: info.wires, challenge: info.challenge, basis: basis, basisSigma: basis,
                etaGamma: .generator, etaGammaSigma: .generator, etaDelta: .generator)
            vk.commitment = CommitmentVerifyingKey(committedWires: info.wires.count, sigma: .generator)
        }
        var key = ProvingKey(
            verifyingKey: vk, alpha: powers.alphaTauG1[0], beta1: powers.betaTauG1[0], beta2: powers.betaG2,
            delta1: .generator, delta2: .generator, a: JacobianPoint.batchToAffine(u),
            b1: JacobianPoint.batchToAffine(v1), b2: JacobianPoint.batchToAffine(v2), h: h,
            l: l, domainSize: n, hForm: .oddCosetLagrange,
            circuitHash: Groth16.circuitHash(r1cs))
        key.commitment = commitment
        return key
    }

    static func domainFor(_ r1cs: R1CS<Fr>, powers: PowersOfTau) throws(CeremonyError) -> EvaluationDomain {
        let domain: EvaluationDomain
        do { domain = try Groth16.domain(for: r1cs) } catch { throw .usage(error.description) }
        guard domain.size <= 1 << powers.power else {
            throw .usage(
                "the circuit needs a domain of 2^\(domain.logSize) points (\(r1cs.constraintCount) constraints + "
                    + "\(r1cs.numPublic + 1) public rows) but the powers of tau stop at 2^\(powers.power); "
                    + "use a .ptau of power \(domain.logSize) or more")
        }
        guard domain.size <= Zkey.maxDomainSize else {
            throw .usage("domains above 2^27 points are not supported (snarkjs changes the H layout at 2^28)")
        }
        return domain
    }

    static func domainOfSize(_ size: Int) throws(CeremonyError) -> EvaluationDomain {
        do { return try EvaluationDomain(size: size) } catch { throw .usage(error.description) }
    }

    /// Why `key` is not the initial key `initialKey(r1cs, powers)` would build, or nil.
    ///
    /// Instead of redoing the FFTs, each query is checked by a random linear combination:
    /// sum_k rho_k A_k = sum_j (A rho)_j L_j(tau) G1 = sum_d ifft(A rho)_d tau^d G1, one MSM per
    /// side, and likewise for B1, B2, IC and L (alpha, beta and tau lists) and H. A key that
    /// differs anywhere passes with probability at most 2^-127. Cost: G1 MSMs over the key and
    /// over 2n + 2n powers, one G2 MSM pair over n points, O(n log n) field FFTs.
    static func initialKeyError(_ key: ProvingKey, r1cs: R1CS<Fr>, powers: PowersOfTau) throws(CeremonyError) -> String?
    {
        let domain = try domainFor(r1cs, powers: powers)
        let n = domain.size, m = r1cs.constraintCount, np = r1cs.numPublic, wires = r1cs.numWires
        guard key.domainSize == n, key.hForm == .oddCosetLagrange, key.a.count == wires, key.b1.count == wires,
            key.b2.count == wires, key.verifyingKey.ic.count == np + 1, key.l.count == wires - np - 1, key.h.count == n
        else { return "the key's sizes do not fit the circuit" }
        guard key.alpha == powers.alphaTauG1[0], key.verifyingKey.alpha == key.alpha, key.beta1 == powers.betaTauG1[0],
            key.beta2 == powers.betaG2, key.verifyingKey.beta == key.beta2
        else { return "alpha or beta is not the one of the powers of tau" }
        guard key.verifyingKey.gamma == .generator, key.delta1 == .generator, key.delta2 == .generator,
            key.verifyingKey.delta == .generator
        else { return "the starting key must have gamma = delta = 1 (the generators)" }
        // With a commitment, the basis takes the committed wires' K-terms out of L: the random
        // combination below runs over IC, L with the basis put back, and L's committed entries
        // must be empty.
        var kTerms = key.verifyingKey.ic + key.l
        switch (r1cs.commitment, key.commitment, key.verifyingKey.commitment) {
        case (nil, nil, nil): break
        case (let info?, let commitment?, let verifying?):
            guard commitment.wires == info.wires, commitment.challenge == info.challenge,
                commitment.basis.count == info.wires.count, verifying.committedWires == info.wires.count
            else { return "the commitment key does not fit the circuit's committed wires" }
            guard commitment.basisSigma == commitment.basis, commitment.etaGamma == .generator,
                commitment.etaGammaSigma == .generator, commitment.etaDelta == .generator,
                verifying.sigma == .generator
            else { return "the starting commitment key must have sigma = eta = 1 (the generators)" }
            for (wire, point) in zip(info.wires, commitment.basis) {
                guard kTerms[wire].isInfinity else { return "a committed wire's L entry is not empty" }
                kTerms[wire] = point
            }
        default: return "the key and the circuit disagree on having a commitment to witness wires"
        }

        func apply(_ matrix: SparseMatrix<Fr>, _ rho: [Fr], publicRows: Bool) -> [Fr] {
            var out = [Fr](repeating: .zero, count: n)
            for j in 0..<m { out[j] = matrix.dot(row: j, rho) }
            if publicRows { for i in 0...np { out[m + i] += rho[i] } }
            return out
        }
        func ifft(_ v: [Fr]) -> [Fr] {
            do { return try domain.ifft(v) } catch { preconditionFailure("vectors are sized to the domain: \(error)") }
        }
        let rA = SameRatio.randomScalars(wires), rB = SameRatio.randomScalars(wires)
        let rK = SameRatio.randomScalars(wires), rH = SameRatio.randomScalars(n), rB2 = SameRatio.randomScalars(wires)

        let sigmaA = apply(r1cs.a, rA, publicRows: true), sigmaB = apply(r1cs.b, rB, publicRows: false)
        let betaCoefficients = ifft(apply(r1cs.a, rK, publicRows: true))
        let alphaCoefficients = ifft(apply(r1cs.b, rK, publicRows: false))
        let kC = apply(r1cs.c, rK, publicRows: false)
        let tauLagrange = ifft((0..<n).map { sigmaA[$0] + sigmaB[$0] + kC[$0] })
        // H: sum_i rho_i H_i = sum_{d < 2n} (omega_2n^-d / 2) ifft(rho)_{d mod n} tau^d G1.
        let rhoH = ifft(rH)
        let used = min(2 * n, powers.tauG1.count)
        let doubled = try domainOfSize(2 * n)
        guard let half = Fr(2).inverse() else { preconditionFailure("2 is invertible in Fr") }
        var tauCoefficients = [Fr](repeating: .zero, count: used)
        var factor = half
        for d in 0..<used {
            tauCoefficients[d] = (d < n ? tauLagrange[d] : .zero) + factor * rhoH[d % n]
            factor = factor * doubled.generatorInverse
        }
        let keyPoints = key.a + key.b1 + kTerms + key.h
        let keyScalars = rA + rB + rK + rH
        let lhs = MSM.multiply(bases: keyPoints, scalars: keyScalars)
        let rhs =
            MSM.multiply(bases: Array(powers.tauG1[0..<used]), scalars: tauCoefficients)
            + MSM.multiply(bases: Array(powers.alphaTauG1[0..<n]), scalars: alphaCoefficients)
            + MSM.multiply(bases: Array(powers.betaTauG1[0..<n]), scalars: betaCoefficients)
        guard lhs == rhs else { return "the G1 queries (A, B1, IC, L or H) are not the ones the powers of tau give" }
        let lhs2 = MSM.multiply(bases: key.b2, scalars: rB2)
        let rhs2 = MSM.multiply(bases: Array(powers.tauG2[0..<n]), scalars: ifft(apply(r1cs.b, rB2, publicRows: false)))
        guard lhs2 == rhs2 else { return "the B2 query is not the one the powers of tau give" }
        return nil
    }

    /// delta -> x delta: H and L are divided by x, everything else stays. With a commitment
    /// key, also sigma -> s sigma and eta -> e eta (`commitment` = (s, e)): the sigma points
    /// times s, eta/gamma times e, sigma eta/gamma times s e, eta/delta times e / x; the basis
    /// (over gamma = 1) stays. Cost: one G1 multiplication per H, L and basis point.
    static func contribute(_ key: inout ProvingKey, x: Fr, commitment: (sigma: Fr, eta: Fr)? = nil) {
        guard var xInverse = x.inverse() else { preconditionFailure("contribution secrets are sampled nonzero") }
        defer { xInverse = .zero }
        PointBatch.scaleByPowers(&key.h, first: xInverse, ratio: .one)
        PointBatch.scaleByPowers(&key.l, first: xInverse, ratio: .one)
        key.delta1 = key.delta1.multiplied(by: x).affine
        key.delta2 = key.delta2.multiplied(by: x).affine
        key.verifyingKey.delta = key.delta2
        if let (s, e) = commitment, var c = key.commitment, var verifying = key.verifyingKey.commitment {
            var etaOverX = e * xInverse
            var sigmaEta = s * e
            defer {
                etaOverX = .zero
                sigmaEta = .zero
            }
            PointBatch.scaleByPowers(&c.basisSigma, first: s, ratio: .one)
            c.etaGamma = c.etaGamma.multiplied(by: e).affine
            c.etaGammaSigma = c.etaGammaSigma.multiplied(by: sigmaEta).affine
            c.etaDelta = c.etaDelta.multiplied(by: etaOverX).affine
            verifying.sigma = verifying.sigma.multiplied(by: s).affine
            key.commitment = c
            key.verifyingKey.commitment = verifying
        }
    }

    /// The first basis point that is not the point at infinity: the base of the sigma update's
    /// proof of knowledge (see `KnowledgeProof.prove`), and the point whose sigma multiple
    /// links one contribution's sigma to the previous one.
    static func sigmaAnchor(_ commitment: CommitmentKey) -> Int? {
        commitment.basis.firstIndex { !$0.isInfinity }
    }

    /// Why `current`'s commitment key is not `previous`'s after one update (sigma and eta
    /// times factors the transcript proves knowledge of), or nil. Checks the wires and the
    /// basis unchanged, then in the exponent: basis sigma = sigma basis (one batched same-ratio
    /// check), sigma eta/gamma = sigma (eta/gamma), (eta/delta) delta = eta/gamma (gamma = 1).
    /// The factors' links to the previous state are the proofs' (before, after) pairs.
    static func commitmentUpdateError(previous: ProvingKey, current: ProvingKey) -> String? {
        guard let before = previous.commitment, let now = current.commitment,
            let sigma = current.verifyingKey.commitment?.sigma,
            current.verifyingKey.commitment?.committedWires == previous.verifyingKey.commitment?.committedWires
        else { return "the contribution removed or altered the commitment key" }
        guard now.wires == before.wires, now.challenge == before.challenge, now.basis == before.basis,
            now.basisSigma.count == before.basisSigma.count
        else { return "the contribution changed the committed wires or the commitment basis" }
        guard !sigma.isInfinity, !now.etaGamma.isInfinity, !now.etaDelta.isInfinity, !now.etaGammaSigma.isInfinity
        else { return "a commitment key point is the point at infinity" }
        let rho = SameRatio.randomScalars(now.basis.count)
        let combined = MSM.multiply(bases: now.basis, scalars: rho).affine
        let combinedSigma = MSM.multiply(bases: now.basisSigma, scalars: rho).affine
        guard Pairing.pairingCheck([(combinedSigma, .generator), (-combined, sigma)]) else {
            return "the basis times sigma is not the basis times the key's sigma"
        }
        guard Pairing.pairingCheck([(now.etaGammaSigma, .generator), (-now.etaGamma, sigma)]) else {
            return "sigma eta/gamma is not eta/gamma times the key's sigma"
        }
        guard Pairing.pairingCheck([(now.etaDelta, current.delta2), (-now.etaGamma, .generator)]) else {
            return "eta/delta times delta is not eta/gamma"
        }
        return nil
    }

    /// Why `current` is not `previous` after a delta update, or nil. Checks the unchanged parts
    /// for equality, delta in G1 and G2 for one scalar, and H, L by one batched same-ratio check:
    /// e(sum rho_i H'_i, delta') = e(sum rho_i H_i, delta) (L alike). The proof of knowledge of
    /// the factor is checked by the transcript. Cost: two G1 MSMs over H and L, a few pairings.
    static func updateError(previous: ProvingKey, current: ProvingKey) -> String? {
        guard current.verifyingKey.alpha == previous.verifyingKey.alpha,
            current.verifyingKey.beta == previous.verifyingKey.beta,
            current.verifyingKey.gamma == previous.verifyingKey.gamma,
            current.verifyingKey.ic == previous.verifyingKey.ic,
            current.alpha == previous.alpha, current.beta1 == previous.beta1, current.beta2 == previous.beta2,
            current.a == previous.a, current.b1 == previous.b1, current.b2 == previous.b2,
            current.domainSize == previous.domainSize, current.hForm == previous.hForm
        else { return "the contribution changed key parts other than delta, H and L" }
        guard current.h.count == previous.h.count, current.l.count == previous.l.count else {
            return "the H or L query changed length"
        }
        guard (current.commitment == nil) == (previous.commitment == nil),
            (current.verifyingKey.commitment == nil) == (previous.verifyingKey.commitment == nil)
        else { return "the contribution added or removed the commitment key" }
        if previous.commitment != nil, let why = commitmentUpdateError(previous: previous, current: current) {
            return why
        }
        guard current.verifyingKey.delta == current.delta2, !current.delta1.isInfinity,
            SameRatio.holds((.generator, current.delta1), (.generator, current.delta2))
        else { return "delta in G1 and delta in G2 are not the same scalar" }
        let rho = SameRatio.randomScalars(current.h.count + current.l.count)
        let now = MSM.multiply(bases: current.h + current.l, scalars: rho).affine
        let before = MSM.multiply(bases: previous.h + previous.l, scalars: rho).affine
        guard Pairing.pairingCheck([(now, current.delta2), (-before, previous.delta2)]) else {
            return "H and L were not divided by the same factor delta was multiplied by"
        }
        return nil
    }
}
