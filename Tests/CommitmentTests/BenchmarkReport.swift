import Algebra
import Commitment
import Foundation
import XCTest

/// Prints the figures of Benchmarks/commitment.md. A measurement, not a timed test: it runs only
/// with VERISPLIT_BENCH_COMMITMENT=1 (it builds a 1.9M-constraint circuit and takes minutes).
final class CommitmentBenchmarkReport: XCTestCase {
    func testReport() throws {
        guard ProcessInfo.processInfo.environment["VERISPLIT_BENCH_COMMITMENT"] == "1" else {
            throw XCTSkip("set VERISPLIT_BENCH_COMMITMENT=1 to measure")
        }
        print(String(format: "fr_mul_ns %.1f", AlgebraBenchmark.fieldMultiplicationNanoseconds(Fr.self)))
        print(String(format: "poseidon_t3_hash_us %.2f", try CommitmentBenchmark.poseidonHashMicroseconds()))
        for t in 2...17 {
            let counted = try CommitmentBenchmark.constraintsPerPermutation(width: t)
            let formula = try PoseidonParameters.forWidth(t).constraintsPerPermutation
            XCTAssertEqual(counted, formula)
            print(String(format: "width %d R_P %d constraints %d per_rate_element %.2f permutation_us %.1f",
                         t, PoseidonParameters.partialRoundsByWidth[t - 2], counted,
                         Double(counted) / Double(t - 1), try CommitmentBenchmark.permutationMicroseconds(width: t)))
        }
        let n = 50_176
        for t in [3, 5, 9, 17] {
            print(String(format: "native_commit_%d_t%d_s %.3f", n, t, try CommitmentBenchmark.nativeCommitSeconds(count: n, width: t)))
        }
        let pedersen = CommitmentBenchmark.pedersen(count: n)
        print(String(format: "pedersen_%d_derive_s %.2f commit_s %.3f", n, pedersen.deriveSeconds, pedersen.commitSeconds))
        for t in [17, 3] {
            let c = try CommitmentBenchmark.circuitCommit(count: n, width: t)
            XCTAssertTrue(c.satisfied)
            print(String(format: "circuit_commit_%d_t%d constraints %d build_s %.1f check_s %.1f", n, t, c.constraints,
                         c.buildSeconds, c.checkSeconds))
        }
    }
}
