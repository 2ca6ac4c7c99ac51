import ArgumentParser
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
            throw InputError("need 1 <= --public-outputs <= --constraints <= 2^27")
        }
        do {
            print(
                try Groth16Benchmark.squaringChain(
                    constraints: constraints, publicOutputs: publicOutputs,
                    repetitions: repetitions, export: export
                ).rendered(json: json))
        } catch Groth16Error.proofRejectedByOwnKey {
            throw Refusal("the benchmark proof did not verify")
        }
    }
}
