import Algebra
import ArgumentParser
import Circuit
import Foundation
import Groth16

/// `verisplit bench groth16`: setup, prove and verify on the reference squaring chain.
struct BenchGroth16: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groth16",
        abstract: "Time Groth16 setup, prove and verify on the squaring chain v_{i+1} = v_i^2 + i.")

    @Option(help: "Number of constraints (the chain length).") var constraints: Int = 1 << 16
    @Option(help: "Public outputs (the last K chain values).") var publicOutputs: Int = 1
    @Option(help: "Prove repetitions (the best is reported).") var repetitions: Int = 3
    @Option(help: "Also write BASE.r1cs and BASE.wtns (circom format) for other provers.") var export: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard constraints >= 1, constraints <= 1 << 27, publicOutputs >= 1, publicOutputs <= constraints else {
            FileHandle.standardError.write(Data("error: need 1 <= --public-outputs <= --constraints <= 2^27\n".utf8))
            throw ExitCode(2)
        }
        let (r1cs, witness) = SquaringChain.make(constraints: constraints, publicOutputs: publicOutputs)
        if let base = export {
            try withInputErrors {
                try writeFile(base + ".r1cs", Circom.writeR1CS(r1cs))
                try writeFile(base + ".wtns", Circom.writeWitness(witness))
            }
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
                FileHandle.standardError.write(Data("error: the benchmark proof did not verify\n".utf8))
                throw ExitCode(1)
            }
            verifyMs = min(verifyMs, Date().timeIntervalSince(start) * 1000)
        }
        printBenchResult([
            ("constraints", constraints), ("setup_s", setupSeconds), ("prove_s", proveSeconds),
            ("verify_ms", verifyMs), ("threads", ProcessInfoCores.activeCount),
        ], json: json, title: "Groth16 on the squaring chain (release build)")
    }
}
