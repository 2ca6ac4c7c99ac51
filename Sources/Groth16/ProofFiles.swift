import Algebra
import Circuit
import Foundation
import Report

/// `verisplit setup` and `verisplit prove` over files: circom `.r1cs` and `.wtns` in, key files
/// and snarkjs JSON out. `log` times each costly stage (a line on standard error on a terminal).
public enum ProofFiles {
    /// Groth16 setup of a circuit (toxic waste from the CSPRNG, erased after use): writes
    /// DIR/proving.key and DIR/verification_key.json and returns the line saying so.
    public static func setup(circuit: String, out: String, log: StepLog = StepLog()) throws -> String {
        let r1cs = try Circom.readR1CS(try Files.read(circuit), file: circuit)
        let key = try log.step("setup (\(r1cs.constraintCount) constraints)") { try Groth16.setup(r1cs) }
        try Files.write(out + "/proving.key", KeyFile.encode(key, r1cs: r1cs))
        try Files.write(out + "/verification_key.json", SnarkjsJSON.encode(key.verifyingKey))
        return "wrote \(out)/proving.key and \(out)/verification_key.json"
    }

    /// Proves a witness with a `proving.key` or `.zkey` (`ProvingKeyFile`); writes the proof and
    /// the public inputs as snarkjs JSON, and the 256-byte Ethereum layout as hex when `eth` is
    /// given. Throws `Groth16Error.proofRejectedByOwnKey` when the key's own proof fails: the
    /// key is invalid, not merely unreadable.
    public static func prove(
        key: String, witness: String, proof: String, publicInputs: String, eth: String?, allowInsecure: Bool,
        log: StepLog = StepLog()
    ) throws -> String {
        let (pk, r1cs) = try log.step("loading key") {
            try ProvingKeyFile.load(try Files.read(key), file: key, allowInsecure: allowInsecure)
        }
        let w = try Circom.readWitness(try Files.read(witness), file: witness)
        let p = try log.step("proving") { try Groth16.prove(key: pk, r1cs: r1cs, witness: w) }
        try Files.write(proof, SnarkjsJSON.encode(p))
        try Files.write(publicInputs, SnarkjsJSON.encode(publicInputs: Array(w[1...r1cs.numPublic])))
        if let eth { try Files.write(eth, Data((SHA256.hex(p.ethereumBytes) + "\n").utf8)) }
        return "wrote \(proof) and \(publicInputs)"
    }
}
