import Algebra
import Circuit
import Foundation

/// `verisplit bench ceremony`: one phase-1 and one phase-2 contribution and the transcript
/// verification, on a squaring chain whose domain is exactly 2^log2, through the files a real
/// ceremony writes (a scratch directory, removed afterwards).
public enum CeremonyBenchmark {
    /// A benchmark transcript that did not verify (a bug, never input).
    public struct Unsound: Error, CustomStringConvertible {
        public var description: String { "the benchmark transcript did not verify" }
    }

    /// Needs 4 <= log2 <= 20. `phase1Only` stops after phase 1 (the contribution and its
    /// verification), skipping the phase-2 setup, whose point FFTs are most of a full run at large
    /// domains. `progress` and `finish` drive a display of each step.
    public static func run(
        log2: Int, phase1Only: Bool, progress: @escaping @Sendable (String, Int, Int) -> Void,
        finish: () -> Void
    ) throws -> BenchTable {
        let dir = NSTemporaryDirectory() + "verisplit-bench-ceremony-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r1cs, _) = SquaringChain.make(constraints: (1 << log2) - 2, publicOutputs: 1)
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let start = Date()
            let value = try body()
            return (value, Date().timeIntervalSince(start))
        }
        var (t, _) = try timed { try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(r1cs)) }
        // Contributions are timed alone (`verifyFirst: false`); the verification is timed
        // separately below, and the transcript is this run's own.
        let (_, phase1) = try timed { try t.contribute(name: "bench", verifyFirst: false, progress: progress) }
        finish()
        let (_, verify1) = try timed { try t.verify(progress: progress) }
        finish()
        var table = BenchTable(
            title: "Groth16 ceremony at a 2^\(log2) domain (release build)",
            rows: [
                ("log2_domain", log2), ("phase1_contribution_s", phase1),
                ("phase1_verify_start_and_1_contribution_s", verify1),
            ])
        if !phase1Only {
            let (_, setup2) = try timed { try t.startPhase2(progress: progress) }
            finish()
            let (_, phase2) = try timed {
                try t.contribute(name: "bench", phase: 2, verifyFirst: false, progress: progress)
            }
            finish()
            let (verified, verifyAll) = try timed { try t.verify(progress: progress) }
            finish()
            guard verified.contributions.count == 2 else { throw Unsound() }
            table.rows += [
                ("phase2_setup_s", setup2), ("phase2_contribution_s", phase2), ("transcript_verify_s", verifyAll),
            ]
        }
        table.rows += [("peak_rss_mb", ProcessMemory.peakResidentMegabytes), ("threads", ProcessInfoCores.activeCount)]
        return table
    }
}
