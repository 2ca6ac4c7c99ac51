import Dispatch

/// Timings behind `verisplit bench algebra`. Each figure is the best of a few repetitions
/// (the least disturbed by other processes on a shared machine).
public enum AlgebraBenchmark {
    @inlinable
    public static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Best wall time of `body` over `repetitions` runs, in nanoseconds.
    @inlinable
    public static func bestTime(repetitions: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = nanoseconds()
            body()
            best = min(best, Double(nanoseconds() - start))
        }
        return best
    }

    /// Latency of one multiplication in a dependent chain (x <- x * y), in ns.
    @inlinable
    public static func fieldMultiplicationNanoseconds<F: SampleableField>(
        _: F.Type, iterations: Int = 1_000_000
    ) -> Double {
        var x = F.random()
        let y = F.random()
        let t = bestTime(repetitions: 3) {
            for _ in 0..<iterations { x = x * y }
        }
        blackHole(x)
        return t / Double(iterations)
    }

    /// Latency of one addition in a dependent chain (x <- x + y), in ns.
    @inlinable
    public static func fieldAdditionNanoseconds<F: SampleableField>(_: F.Type, iterations: Int = 1_000_000) -> Double {
        var x = F.random()
        let y = F.random()
        let t = bestTime(repetitions: 3) {
            for _ in 0..<iterations { x = x + y }
        }
        blackHole(x)
        return t / Double(iterations)
    }

    /// One Jacobian + Jacobian addition on G1, in ns.
    public static func g1AdditionNanoseconds(iterations: Int = 200_000) -> Double {
        var acc = G1Jacobian.generator.multiplied(by: .random())
        let q = G1Jacobian.generator.multiplied(by: .random())
        let t = bestTime(repetitions: 3) {
            for _ in 0..<iterations { acc = acc + q }
        }
        blackHole(acc)
        return t / Double(iterations)
    }

    /// `count` distinct G1 bases, cheaply: consecutive multiples of a random point.
    public static func sampleG1Bases(count: Int) -> [G1Affine] {
        let step = G1Jacobian.generator.multiplied(by: .random())
        var points = [G1Jacobian]()
        points.reserveCapacity(count)
        var acc = step
        for _ in 0..<count {
            points.append(acc)
            acc = acc + step
        }
        return G1Jacobian.batchToAffine(points)
    }

    /// G1 MSM of 2^logSize random scalars on all cores, in ms.
    public static func msmG1Milliseconds(logSize: Int, repetitions: Int = 3) -> Double {
        let n = 1 << logSize
        let bases = sampleG1Bases(count: n)
        let scalars = (0..<n).map { _ in Fr.random() }
        var result = G1Jacobian.infinity
        let t = bestTime(repetitions: repetitions) {
            result = MSM.multiply(bases: bases, scalars: scalars)
        }
        blackHole(result)
        return t / 1e6
    }

    @inline(never) @usableFromInline
    static func blackHole<T>(_ value: T) { _ = value }
}

extension AlgebraBenchmark {
    /// `bench algebra --msm-only N`: one G1 MSM of 2^N points (for profiling).
    public static func msmTable(logSize n: Int) -> BenchTable {
        BenchTable(title: "G1 MSM", rows: [("msm_g1_2e\(n)_ms", msmG1Milliseconds(logSize: n, repetitions: 1))])
    }

    /// `verisplit bench algebra`: field, curve, pairing, MSM and FFT figures. `quick` skips the
    /// 2^18 MSM and the 2^20 FFT.
    public static func table(quick: Bool) -> BenchTable {
        var t = BenchTable(title: "BN254 algebra (release build)")
        t.append("fr_mul_ns", fieldMultiplicationNanoseconds(Fr.self))
        t.append("fq_mul_ns", fieldMultiplicationNanoseconds(Fq.self))
        t.append("fq_add_ns", fieldAdditionNanoseconds(Fq.self))
        t.append("fq2_mul_ns", fieldMultiplicationNanoseconds(Fq2.self))
        t.append("fq12_mul_ns", PairingBenchmark.fq12MultiplicationNanoseconds())
        t.append("g1_add_ns", g1AdditionNanoseconds())
        t.append("pairing_ms", PairingBenchmark.pairingMilliseconds())
        let pieces = PairingBenchmark.piecesMicroseconds()
        t.append("pairing_g2_prepare_us", pieces.prepare)
        t.append("pairing_miller_loop_us", pieces.miller)
        t.append("pairing_final_exp_us", pieces.final)
        t.append("msm_g1_2e16_ms", msmG1Milliseconds(logSize: 16))
        if !quick { t.append("msm_g1_2e18_ms", msmG1Milliseconds(logSize: 18, repetitions: 2)) }
        t.append("fft_2e16_ms", FFTBenchmark.time(logSize: 16))
        if !quick { t.append("fft_2e20_ms", FFTBenchmark.time(logSize: 20, iterations: 3)) }
        t.append("threads", ProcessInfoCores.activeCount)
        return t
    }
}
