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

    @Flag(help: "Only time the pairing and its pieces, on the fast and the portable field kernel.")
    var pairingOnly = false

    func run() throws {
        let table =
            pairingOnly
            ? PairingBenchmark.table()
            : (msmOnly.map { AlgebraBenchmark.msmTable(logSize: $0) } ?? AlgebraBenchmark.table(quick: quick))
        print(table.rendered(json: json))
    }
}
