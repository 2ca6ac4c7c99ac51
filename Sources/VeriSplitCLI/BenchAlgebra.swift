import Algebra
import ArgumentParser

/// `verisplit bench algebra`: field, curve, pairing, MSM and FFT figures (release build).
struct BenchAlgebra: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "algebra", abstract: "Time BN254 field, curve, MSM, pairing and FFT operations.")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "Skip the 2^18 MSM and 2^20 FFT (faster).")
    var quick = false

    func run() throws {
        var rows: [(String, Any)] = []
        rows.append(("fr_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fr.self)))
        rows.append(("fq_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fq.self)))
        rows.append(("fq_add_ns", AlgebraBenchmark.fieldAdditionNanoseconds(Fq.self)))
        rows.append(("fq2_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fq2.self)))
        rows.append(("g1_add_ns", AlgebraBenchmark.g1AdditionNanoseconds()))
        rows.append(("msm_g1_2e16_ms", AlgebraBenchmark.msmG1Milliseconds(logSize: 16)))
        if !quick {
            rows.append(("msm_g1_2e18_ms", AlgebraBenchmark.msmG1Milliseconds(logSize: 18, repetitions: 2)))
        }
        rows.append(("threads", ProcessInfoCores.activeCount))
        printBenchResult(rows, json: json, title: "BN254 algebra (release build)")
    }
}
