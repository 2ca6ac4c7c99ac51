import Algebra
import Circuit
import Foundation

/// `verisplit bench groth16`: setup, prove (best of `repetitions`) and verify (best of 20) on the
/// reference squaring chain v_{i+1} = v_i^2 + i.
public enum Groth16Benchmark {
    /// Needs 1 <= publicOutputs <= constraints <= 2^27. With `export`, also writes BASE.r1cs and
    /// BASE.wtns (circom format) for other provers. A proof that does not verify under its own key
    /// throws `Groth16Error.proofRejectedByOwnKey`.
    public static func squaringChain(
        constraints: Int, publicOutputs: Int, repetitions: Int, export: String?
    ) throws -> BenchTable {
        let (r1cs, witness) = SquaringChain.make(constraints: constraints, publicOutputs: publicOutputs)
        if let base = export {
            try Data(Circom.writeR1CS(r1cs)).write(to: URL(fileURLWithPath: base + ".r1cs"))
            try Data(Circom.writeWitness(witness)).write(to: URL(fileURLWithPath: base + ".wtns"))
        }
        var start = Date()
        let key = try Groth16.setup(r1cs)
        let setupSeconds = Date().timeIntervalSince(start)
        var proveSeconds = Double.infinity
        var proof: Proof?
        for _ in 0..<max(1, repetitions) {
            start = Date()
            proof = try Groth16.prove(key: key, r1cs: r1cs, witness: witness)
            proveSeconds = min(proveSeconds, Date().timeIntervalSince(start))
        }
        let inputs = Array(witness[1...publicOutputs])
        var verifyMs = Double.infinity
        for _ in 0..<20 {
            start = Date()
            guard let proof, try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: inputs) else {
                throw Groth16Error.proofRejectedByOwnKey
            }
            verifyMs = min(verifyMs, Date().timeIntervalSince(start) * 1000)
        }
        return BenchTable(
            title: "Groth16 on the squaring chain (release build)",
            rows: [
                ("constraints", constraints), ("setup_s", setupSeconds), ("prove_s", proveSeconds),
                ("verify_ms", verifyMs), ("threads", ProcessInfoCores.activeCount),
            ])
    }
}
