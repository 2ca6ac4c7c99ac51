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

    @Option(help: "Only time a G1 MSM of 2^N points (for profiling).")
    var msmOnly: Int?

    func run() throws {
        if let n = msmOnly {
            printBenchResult([("msm_g1_2e\(n)_ms", AlgebraBenchmark.msmG1Milliseconds(logSize: n, repetitions: 1))],
                             json: json, title: "G1 MSM")
            return
        }
        var rows: [(String, Any)] = []
        rows.append(("fr_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fr.self)))
        rows.append(("fq_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fq.self)))
        rows.append(("fq_add_ns", AlgebraBenchmark.fieldAdditionNanoseconds(Fq.self)))
        rows.append(("fq2_mul_ns", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fq2.self)))
        rows.append(("fq12_mul_ns", PairingBenchmark.fq12MultiplicationNanoseconds()))
        rows.append(("g1_add_ns", AlgebraBenchmark.g1AdditionNanoseconds()))
        rows.append(("pairing_ms", PairingBenchmark.pairingMilliseconds()))
        rows.append(("msm_g1_2e16_ms", AlgebraBenchmark.msmG1Milliseconds(logSize: 16)))
        if !quick {
            rows.append(("msm_g1_2e18_ms", AlgebraBenchmark.msmG1Milliseconds(logSize: 18, repetitions: 2)))
        }
        rows.append(("fft_2e16_ms", FFTBenchmark.time(logSize: 16)))
        if !quick {
            rows.append(("fft_2e20_ms", FFTBenchmark.time(logSize: 20, iterations: 3)))
        }
        rows.append(("threads", ProcessInfoCores.activeCount))
        printBenchResult(rows, json: json, title: "BN254 algebra (release build)")
    }
}
