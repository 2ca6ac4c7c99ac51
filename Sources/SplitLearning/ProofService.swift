import Algebra
import Circuit
import Foundation
import Groth16
import ZKML

/// Where a party's proofs are made. The state machines only ask for proofs (`Action.prove`,
/// `Action.proveInBackground`); the driver hands each job to the party's proof service. The
/// default proves in this process; `ProverPool.PostgresProofService` queues jobs in a
/// PostgreSQL database for prover workers on any number of machines.
///
/// Soundness contract: whatever the service returns is sent to the peer as this party's proof,
/// so a service that proves outside this process must verify each proof against the job's
/// public inputs before returning it (the workers are not trusted). An honest party's witness
/// never leaves the party's own trust domain: a service that ships witnesses elsewhere must keep
/// them in infrastructure the party controls.
public protocol ProofService: Sendable {
    /// The proof of `job` under `keys`; throws when it cannot be made.
    func prove(_ job: ProofJob, keys: SplitKeys) async throws -> StepProof
    /// Whether several jobs may be in flight at once. The in-process prover already keeps every
    /// core busy with one proof, so its deferred jobs run one after another; a pool of workers
    /// gains throughput from concurrent jobs (pipelined mode keeps up to its depth in flight).
    var runsConcurrently: Bool { get }
}

/// Proves in this process, off the Swift concurrency pool (the embedded default).
public struct InProcessProofService: ProofService {
    public init() {}

    public var runsConcurrently: Bool { false }

    public func prove(_ job: ProofJob, keys: SplitKeys) async throws -> StepProof {
        try await ProofWork.offload { try ProofWork.prove(job, keys: keys) }
    }
}

/// A job's circuit turned into what an out-of-process prover needs: the full witness (wire 0 is
/// the constant one, then the public values, then the private ones), the public inputs a proof
/// must verify against and, for a circuit with a commitment to witness wires, the commitment
/// opening its challenge was derived from (the statement is then the public inputs but the
/// last, the challenge, which the verifier derives itself).
public struct PreparedProofJob: Sendable {
    public let part: CircuitSpec.Part
    public let step: UInt64
    public let witness: [Fr]
    public let publicInputs: [Fr]
    public let opening: CommitmentOpening?
    /// The update's link proof under linked keys (`ProofWork.link`), made here on the party's side.
    public let link: G1Affine?

    /// Builds the circuit and checks that the witness satisfies it (as the in-process prover
    /// does) before anything leaves the process. A batched circuit is built with an oracle that
    /// commits to the committed wires here (`Groth16.commit`: a fresh blinding, two MSMs over
    /// them), so its witness is complete and its challenge the one the verifier will derive.
    /// Runs off the concurrency pool: building a step's circuit takes up to a second.
    public static func prepare(_ job: ProofJob, keys: SplitKeys) async throws -> PreparedProofJob {
        try await ProofWork.offload {
            let key = keys.key(job.part)
            let r1cs = key.r1cs
            let box = CommitmentOpeningBox()
            let cs: ConstraintSystem<Fr>
            if r1cs.commitment != nil {
                guard let commitmentKey = key.provingKey.commitment, commitmentKey.wires == r1cs.commitment?.wires
                else {
                    throw SplitError.invalidArgument(
                        "the \(job.part.rawValue) circuit commits to witness wires but its key has no matching commitment key"
                    )
                }
                let oracle: ProofJob.ChallengeOracle = { committed, statement in
                    let opening = Groth16.commit(commitmentKey, committed: committed)
                    box.set(opening, committed: committed)
                    return Groth16.commitmentChallenge(commitment: opening.commitment, statement: statement)
                }
                cs = try job.circuit(ProofJob.Synthesis(oracle: oracle, witnessOnly: true))
                guard cs.commitmentInfo == r1cs.commitment else {
                    throw SplitError.invalidArgument("the \(job.part.rawValue) circuit built is not the key's")
                }
            } else {
                cs = try job.circuit(ProofJob.Synthesis(witnessOnly: true))
            }
            let witness = cs.witness()
            guard witness.count == r1cs.numWires else {
                throw SplitError.invalidArgument(
                    "\(job.part.rawValue) witness has \(witness.count) wires, the key's circuit \(r1cs.numWires)")
            }
            // The party checks its witness against the key's R1CS before a worker sees it.
            if let row = r1cs.firstUnsatisfied(witness) {
                throw ProofWork.namingViolation(job, row: row)
            }
            let captured = box.takeWithCommittedValues()
            guard (captured != nil) == (r1cs.commitment != nil) else {
                throw SplitError.invalidArgument("the \(job.part.rawValue) circuit never drew its challenge")
            }
            var committed = captured?.committed ?? []
            defer { SecureRandom.erase(&committed) }
            let link = try captured.flatMap {
                try ProofWork.link(job, keys: keys, committed: committed, opening: $0.opening)
            }
            return PreparedProofJob(
                part: job.part, step: job.step, witness: witness,
                publicInputs: Array(witness[1..<(r1cs.numPublic + 1)]), opening: captured?.opening, link: link)
        }
    }
}
