import Algebra
import ArgumentParser
import Ceremony
import Circuit
import Foundation

/// `verisplit bench ceremony`: one phase-1 and one phase-2 contribution and the transcript
/// verification, on a squaring chain whose domain is exactly 2^N, through the files a real
/// ceremony writes (a scratch directory, removed afterwards).
struct BenchCeremony: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Time ceremony contributions and transcript verification at a 2^N domain, with peak memory.")

    @Option(help: "log2 of the domain (the phase-1 power), 4...20.") var log2: Int = 16
    @Flag(help: "Stop after phase 1 (the phase-2 setup's point FFTs take minutes at 2^16, far longer at 2^20).")
    var phase1Only = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard (4...20).contains(log2) else {
            FileHandle.standardError.write(Data("error: --log2 must be in 4...20\n".utf8))
            throw ExitCode(2)
        }
        let dir = NSTemporaryDirectory() + "verisplit-bench-ceremony-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r1cs, _) = SquaringChain.make(constraints: (1 << log2) - 2, publicOutputs: 1)
        let progress = CeremonyProgressDisplay()
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let start = Date()
            let value = try body()
            return (value, Date().timeIntervalSince(start))
        }
        try withInputErrors {
            var (t, _) = try timed { try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(r1cs)) }
            // Contributions are timed alone (`verifyFirst: false`); the verification is timed
            // separately below, and the transcript is this run's own.
            let (_, phase1) = try timed { try t.contribute(name: "bench", verifyFirst: false, progress: progress.report) }
            progress.finish()
            let (_, verify1) = try timed { try t.verify(progress: progress.report) }
            progress.finish()
            var rows: [(String, Any)] = [
                ("log2_domain", log2), ("phase1_contribution_s", phase1),
                ("phase1_verify_start_and_1_contribution_s", verify1),
            ]
            if !phase1Only {
                let (_, setup2) = try timed { try t.startPhase2(progress: progress.report) }
                progress.finish()
                let (_, phase2) = try timed { try t.contribute(name: "bench", phase: 2, verifyFirst: false, progress: progress.report) }
                progress.finish()
                let (verified, verifyAll) = try timed { try t.verify(progress: progress.report) }
                progress.finish()
                guard verified.contributions.count == 2 else { throw InputError("the benchmark transcript did not verify") }
                rows += [("phase2_setup_s", setup2), ("phase2_contribution_s", phase2), ("transcript_verify_s", verifyAll)]
            }
            printBenchResult(rows + [("peak_rss_mb", ProcessMemory.peakResidentMegabytes), ("threads", ProcessInfoCores.activeCount)], json: json,
                             title: "Groth16 ceremony at a 2^\(log2) domain (release build)")
        }
    }
}
