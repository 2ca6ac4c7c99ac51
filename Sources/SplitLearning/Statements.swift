import Algebra
import Circuit
import Dispatch
import Groth16
import ZKML

/// Proving and verifying, off the Swift concurrency pool: a Groth16 proof keeps every core busy
/// for up to seconds, which must not starve the tasks that move frames.
enum ProofWork {
    static let queue = DispatchQueue(label: "verisplit.split.prover", qos: .userInitiated)

    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Builds the circuit with `build`, checks the witness satisfies it (a failure here is our
    /// own bug, named by its first violated constraint) and proves under `key`.
    static func prove(_ key: PartKey, _ build: () throws -> ConstraintSystem<Fr>) throws -> Proof {
        let cs = try build()
        if let violation = cs.firstViolation() {
            throw SplitError.invalidArgument("\(key.part.rawValue) witness violates constraint \(violation)")
        }
        return try Groth16.prove(key: key.provingKey, r1cs: key.r1cs, witness: cs.witness())
    }

    static func verify(_ key: PartKey, proof: Proof, publicInputs: [Fr]) -> Bool {
        (try? Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: publicInputs)) ?? false
    }
}

