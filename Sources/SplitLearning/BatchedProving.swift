import Algebra
import Circuit
import Foundation
import Groth16
import NeuralNet
import ZKML

/// Proving throughput of one verified training step, per sample: today's one-sample circuits
/// (plain Groth16, bit-decomposed range checks, the protocol's circuits) against the batched
/// circuits (Groth16 with a commitment to witness wires, lookups, Freivalds) of the same
/// architecture, on the same samples and in the same run, so the ratio is fair on a noisy
/// machine. Each part is set up once (not timed as proving), then proved `repetitions` times
/// (the best kept: witness generation included, as a party pays it) and verified.
///
/// What this measures is proving and verification, not a whole protocol session: no sockets,
/// no records (`bench split`'s sessions measure those).
public enum BatchedProving {
    public struct Part: Sendable {
        public let part: CircuitSpec.Part
        public let constraints: Int
        public let publicInputs: Int
        public let committedWires: Int
        public let setupSeconds: Double
        public let proveSeconds: Double
        public let verifySeconds: Double
        public let proofBytes: Int
    }

    public struct Run: Sendable {
        /// Samples one step proves (1 for today's circuits).
        public let batch: Int
        public let batched: Bool
        public let parts: [Part]
        public var proveSeconds: Double { parts.reduce(0) { $0 + $1.proveSeconds } }
        public var verifySeconds: Double { parts.reduce(0) { $0 + $1.verifySeconds } }
        public var constraints: Int { parts.reduce(0) { $0 + $1.constraints } }
        public var samplesPerSecond: Double { Double(batch) / proveSeconds }
        public var proveMillisecondsPerSample: Double { proveSeconds * 1000 / Double(batch) }
        public var constraintsPerSample: Int { constraints / batch }
        /// Verification of the three messages of a step, per sample.
        public var verifyMillisecondsPerSample: Double { verifySeconds * 1000 / Double(batch) }
    }

    /// Today's circuits on the first sample of `inputs`: one sample per step. The dataset is
    /// committed once, outside the timing, as a session does (and as `measureBatched` does).
    public static func measureSingle(
        spec: CircuitSpec, inputs: [[Int64]], labels: [Int], repetitions: Int = 1
    ) throws -> Run {
        let layers = try spec.sampleLayers(seed: 1)
        let dataset = try spec.dataset(inputs: [inputs[0]], labels: [labels[0]])
        var parts: [Part] = []
        for part in CircuitSpec.Part.allCases {
            let first = try spec.build(part, dataset: dataset, index: 0, layers: layers, session: .one, step: 1)
            let r1cs = first.r1cs()
            let (key, setupSeconds) = try timed { try Groth16.setup(r1cs) }
            var best = Double.infinity
            var proof: Proof?
            var statement: [Fr] = []
            for _ in 0..<max(1, repetitions) {
                let (result, seconds) = try timed { () throws -> (Proof, [Fr]) in
                    let cs = try spec.build(
                        part, dataset: dataset, index: 0, layers: layers, session: .one, step: 1, witnessOnly: true)
                    return (try Groth16.prove(key: key, r1cs: r1cs, witness: cs.witness()), cs.publicValues)
                }
                best = min(best, seconds)
                (proof, statement) = result
            }
            guard let proof else { throw BatchedProvingError.noProof(part) }
            let (valid, verifySeconds) = try timed {
                try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: statement)
            }
            guard valid else { throw BatchedProvingError.rejected(part) }
            parts.append(
                Part(
                    part: part, constraints: first.constraintCount, publicInputs: first.publicCount, committedWires: 0,
                    setupSeconds: setupSeconds, proveSeconds: best, verifySeconds: verifySeconds,
                    proofBytes: proof.ethereumBytes.count))
        }
        return Run(batch: 1, batched: false, parts: parts)
    }

    /// The batched circuits at `spec.batch` on the first `spec.batch` samples of `inputs`
    /// (committed as a dataset of the spec's depth), as a session proves them under development
    /// keys: the update is the linked circuit, and its proving time includes the link proof to
    /// the forward proof's commitment (`CommitmentLink`), its verification the link's check.
    public static func measureBatched(
        spec: CircuitSpec, inputs: [[Int64]], labels: [Int], repetitions: Int = 1
    ) throws -> Run {
        guard inputs.count >= spec.batch, labels.count >= spec.batch else {
            throw BatchedProvingError.tooFewSamples(inputs.count, spec.batch)
        }
        let layers = try spec.sampleLayers(seed: 1)
        let dataset = try spec.dataset(
            inputs: Array(inputs.prefix(spec.batch)), labels: Array(labels.prefix(spec.batch)))
        let indices = Array(0..<spec.batch)
        func build(_ part: CircuitSpec.Part, oracle: ProofJob.ChallengeOracle? = nil) throws -> ConstraintSystem<Fr> {
            try spec.buildBatched(
                part, dataset: dataset, indices: indices, layers: layers, session: .one, step: 1, linked: true,
                oracle: oracle, witnessOnly: oracle != nil)
        }
        var systems: [CircuitSpec.Part: ConstraintSystem<Fr>] = [:]
        var keys: [CircuitSpec.Part: (key: ProvingKey, r1cs: R1CS<Fr>, seconds: Double)] = [:]
        for part in CircuitSpec.Part.allCases {
            let cs = try build(part)
            let r1cs = cs.r1cs()
            let (key, seconds) = try timed { try Groth16.setup(r1cs) }
            (systems[part], keys[part]) = (cs, (key, r1cs, seconds))
        }
        guard let forwardKey = keys[.client]?.key.commitment, let updateKey = keys[.clientUpdate]?.key.commitment
        else { throw BatchedProvingError.noProof(.clientUpdate) }
        let (link, linkSetupSeconds) = try timed {
            try CommitmentLink.developmentSetup(
                left: forwardKey, right: updateKey, pairs: try SplitKeys.linkPairs(for: spec, systems: systems))
        }
        var forward: (proof: CommittedProof, blinding: Fr)?
        var forwardCommitted: [Fr] = []
        defer { SecureRandom.erase(&forwardCommitted) }
        var parts: [Part] = []
        for part in CircuitSpec.Part.allCases {
            guard let (key, r1cs, setupSeconds) = keys[part], let commitmentKey = key.commitment else {
                throw BatchedProvingError.noProof(part)
            }
            var best = Double.infinity
            var made: (proof: CommittedProof, link: G1Affine?, statement: [Fr])?
            for _ in 0..<max(1, repetitions) {
                let (result, seconds) = try timed { () throws -> (CommittedProof, G1Affine?, [Fr]) in
                    let box = CommitmentOpeningBox()
                    let cs = try build(part) { committed, statement in
                        let opening = Groth16.commit(commitmentKey, committed: committed)
                        box.set(opening, committed: committed)
                        return Groth16.commitmentChallenge(commitment: opening.commitment, statement: statement)
                    }
                    guard var (committed, opening) = box.takeWithCommittedValues() else {
                        throw BatchedProvingError.noProof(part)
                    }
                    defer { SecureRandom.erase(&committed) }
                    let proof = try Groth16.proveCommitted(
                        key: key, r1cs: r1cs, witness: cs.witness(), opening: opening)
                    var linkProof: G1Affine?
                    switch part {
                    case .client:
                        forward = (proof, opening.blinding)
                        swap(&forwardCommitted, &committed)  // moved, not shared: erased in place later
                    case .clientUpdate:
                        guard let forward else { throw BatchedProvingError.noProof(.client) }
                        linkProof = try CommitmentLink.prove(
                            key: link, left: forwardCommitted, leftBlinding: forward.blinding, right: committed,
                            rightBlinding: opening.blinding)
                    case .server: break
                    }
                    return (proof, linkProof, Array(cs.publicValues.dropLast()))
                }
                best = min(best, seconds)
                made = result
            }
            guard let made else { throw BatchedProvingError.noProof(part) }
            let verifying = PreparedVerifyingKey(key.verifyingKey)
            let (valid, verifySeconds) = try timed { () throws -> Bool in
                guard try Groth16.verifyCommitted(key: verifying, proof: made.proof, statement: made.statement) else {
                    return false
                }
                guard let linkProof = made.link else { return part != .clientUpdate }
                guard let forward else { return false }
                return try CommitmentLink.verify(
                    key: link.verifyingKey, left: forward.proof.commitment, right: made.proof.commitment,
                    proof: linkProof)
            }
            guard valid else { throw BatchedProvingError.rejected(part) }
            let built = systems[part]
            parts.append(
                Part(
                    part: part, constraints: built?.constraintCount ?? r1cs.constraintCount,
                    publicInputs: built?.publicCount ?? r1cs.numPublic,
                    committedWires: r1cs.commitment?.wires.count ?? 0,
                    setupSeconds: setupSeconds + (part == .clientUpdate ? linkSetupSeconds : 0), proveSeconds: best,
                    verifySeconds: verifySeconds,
                    proofBytes: CommittedProof.byteCount + (made.link == nil ? 0 : G1Affine.uncompressedSize)))
        }
        return Run(batch: spec.batch, batched: true, parts: parts)
    }

    static func timed<T>(_ body: () throws -> T) throws -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

public enum BatchedProvingError: Error, CustomStringConvertible {
    case tooFewSamples(Int, Int)
    case noProof(CircuitSpec.Part)
    case rejected(CircuitSpec.Part)

    public var description: String {
        switch self {
        case .tooFewSamples(let have, let need): return "batched proving needs \(need) samples, got \(have)"
        case .noProof(let part): return "no proof was made for the \(part.rawValue) part"
        case .rejected(let part): return "the \(part.rawValue) proof does not verify against its own key (a prover bug)"
        }
    }
}
