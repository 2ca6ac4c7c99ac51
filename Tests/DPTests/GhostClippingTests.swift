import CNeuralKernels
import DP
import Foundation
import NeuralNet
import XCTest

/// Per-sample clipping without per-sample gradients (issue 21) against the materialized oracle.
final class GhostClippingTests: XCTestCase {
    /// A CNN (conv, relu, max pool, conv, relu, avg pool, flatten, dense) whose two convolutions
    /// take opposite norm strategies, and an MLP.
    private func models(seed: UInt64) throws -> [(name: String, model: Sequential, input: [Int])] {
        let cnn = try ModelSpec(
            name: "cnn-test", inputShape: [2, 12, 12],
            layers: [
                // 12x12 -> 12x12: S = 144 spatial, R = 18: S^2 (4 + 18) > S 4 18, instantiate.
                .conv2d(name: "conv1", inChannels: 2, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
                .relu(name: "relu1"), .maxPool2d(name: "pool1", kernel: 2, stride: 2),
                // 6x6 -> 2x2: S = 4, R = 36: S^2 (16 + 36) < S 16 36, ghost.
                .conv2d(name: "conv2", inChannels: 4, outChannels: 16, kernel: 3, stride: 2, padding: 0, bias: true),
                .relu(name: "relu2"), .avgPool2d(name: "pool2", kernel: 2, stride: 2),
                .flatten(name: "flatten"), .dense(name: "fc", inFeatures: 16, outFeatures: 5, bias: true),
            ])
        let mlp = try ModelSpec(
            name: "mlp-test", inputShape: [30],
            layers: [
                .dense(name: "fc1", inFeatures: 30, outFeatures: 20, bias: true), .relu(name: "r"),
                .dense(name: "fc2", inFeatures: 20, outFeatures: 5, bias: false),
            ])
        return [("cnn", cnn.makeModel(seed: seed), [2, 12, 12]), ("mlp", mlp.makeModel(seed: seed), [30])]
    }

    private func batch(_ shape: [Int], size: Int, seed: UInt64, scale: Float) -> (Tensor, [Int]) {
        var rng = SeededGenerator(seed: seed)
        let per = shape.reduce(1, *)
        let x = Tensor(shape: [size] + shape) { p in for i in 0..<(size * per) { p[i] = scale * rng.nextNormal() } }
        return (x, (0..<size).map { _ in rng.nextInt(below: 5) })
    }

    /// The norm strategies the CNN above is built to exercise.
    func testConvolutionChoosesItsNormStrategyByCost() throws {
        let conv1 = Conv2d(name: "a", inChannels: 2, outChannels: 4, kernel: 3, stride: 1, padding: 1)
        let conv2 = Conv2d(name: "b", inChannels: 4, outChannels: 16, kernel: 3, stride: 2, padding: 0)
        XCTAssertEqual(conv1.normStrategy(forInput: [2, 12, 12]), .instantiate)
        XCTAssertEqual(conv2.normStrategy(forInput: [4, 6, 6]), .ghost)
        // cnn-small: both of its convolutions are cheaper to instantiate.
        let small = Conv2d(name: "c", inChannels: 8, outChannels: 16, kernel: 3, stride: 1, padding: 1)
        XCTAssertEqual(small.normStrategy(forInput: [8, 14, 14]), .instantiate)
    }

    /// On random models and batches, with the clip set so that some samples' norms are below it
    /// and some above: per-sample norms and the clipped sum agree with the materialized
    /// per-sample gradients to float tolerance, and so does the whole privatized gradient (same
    /// seeded noise).
    func testGhostNormsAndClippedSumMatchTheMaterializedOracle() throws {
        for seed in UInt64(1)...3 {
            for (name, model, input) in try models(seed: seed) {
                let (x, y) = batch(input, size: 9, seed: seed &+ 100, scale: seed == 2 ? 4 : 1)
                var oracle = model
                var ghost = model
                let r = Loss.softmaxCrossEntropy.evaluate(output: oracle.forward(x, training: true), labels: y)
                _ = oracle.backward(r.gradient, inputGradient: false, perSample: true)
                _ = ghost.forward(x, training: true)
                let norms = ghost.backwardPerSampleNorms(r.gradient)
                let expected = try PerSampleClipping.perSampleNorms(oracle)
                XCTAssertEqual(norms.count, 9)
                for (a, b) in zip(norms, expected) {
                    XCTAssertEqual(a, b, accuracy: 1e-4 * max(b, 1e-3), "\(name) seed \(seed)")
                }
                // A clip between the smallest and the largest norm: both cases occur.
                let sorted = norms.sorted()
                let clip = (sorted[2] + sorted[6]) / 2
                XCTAssertTrue(norms.contains { $0 < clip } && norms.contains { $0 > clip })
                let configuration = try DPSGDConfiguration(
                    clippingNorm: clip, noiseMultiplier: 0.7, expectedBatchSize: 8)
                var noiseA = GaussianSampler(.seeded(seed))
                var noiseB = GaussianSampler(.seeded(seed))
                var viaOracle = oracle
                let statsA = try DPSGD.privatizeGradients(&viaOracle, configuration: configuration, noise: &noiseA)
                let statsB = try DPSGD.privatizeGradients(
                    &ghost, perSampleNorms: norms, configuration: configuration,
                    noise: &noiseB)
                XCTAssertEqual(statsA.clippedFraction, statsB.clippedFraction)
                XCTAssertGreaterThan(statsB.clippedFraction, 0)
                XCTAssertLessThan(statsB.clippedFraction, 1)
                for (a, b) in zip(viaOracle.namedGradients, ghost.namedGradients) {
                    XCTAssertEqual(a.name, b.name)
                    XCTAssertEqual(a.value.shape, b.value.shape)
                    let scale = max(1e-3, a.value.storage.map { abs($0) }.max() ?? 0)
                    XCTAssertLessThanOrEqual(
                        a.value.maxAbsDifference(b.value), 2e-4 * scale, "\(name) \(a.name) seed \(seed)")
                }
                // Noise off: the clipped sum itself (times 1/qn) agrees too.
                var quietA = model, quietB = model
                _ = quietA.forward(x, training: true)
                _ = quietA.backward(r.gradient, inputGradient: false, perSample: true)
                _ = quietB.forward(x, training: true)
                let normsB = quietB.backwardPerSampleNorms(r.gradient)
                let factors = PerSampleClipping.factors(norms: normsB, clippingNorm: clip)
                try PerSampleClipping.clip(&quietA, clippingNorm: clip)
                quietB.setClippedGradientSum(factors: factors)
                for (l, layer) in quietA.layers.enumerated() {
                    for (p, param) in layer.parameters.enumerated() {
                        let ps = try XCTUnwrap(param.perSampleGradient)
                        let size = param.value.count
                        var sum = [Float](repeating: 0, count: size)
                        for n in 0..<9 { for i in 0..<size { sum[i] += ps.storage[n * size + i] } }
                        let got = quietB.layers[l].parameters[p].gradient.storage
                        let scale = max(1e-3, sum.map { abs($0) }.max() ?? 0)
                        for i in 0..<size {
                            XCTAssertEqual(
                                got[i], sum[i], accuracy: 2e-4 * scale, "\(name) \(layer.name).\(param.name)")
                        }
                    }
                }
            }
        }
    }

    /// The ghost path allocates nothing proportional to batch x parameters: a Dense 4096 -> 1024
    /// layer (4.2M parameters) on a batch of 256 would need 4.3 GB of per-sample gradients; the
    /// whole DP-SGD step must raise the peak resident set by far less than that (Linux: VmHWM,
    /// reset through /proc/self/clear_refs first).
    func testGhostStepNeedsNoBatchTimesParameterMemory() throws {
        #if os(Linux)
        let (inF, outF, b) = (4096, 1024, 256)
        var model = Sequential(layers: [Dense(name: "fc", inFeatures: inF, outFeatures: outF)], inputShape: [inF])
        var rng = SeededGenerator(seed: 3)
        WeightInit.kaiming.apply(to: &model, generator: &rng)
        let x = Tensor(shape: [b, inF]) { p in for i in 0..<p.count { p[i] = rng.nextNormal() } }
        let y = (0..<b).map { $0 % outF }
        var dp = DPOptimizer(
            base: SGD(learningRate: 0.01),
            configuration: try DPSGDConfiguration(
                clippingNorm: 1, noiseMultiplier: 1, expectedBatchSize: Double(b)), noise: .system)
        _ = try dp.step(&model, features: x, labels: y, loss: .softmaxCrossEntropy)
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = try peakResidentBytes()
        _ = try dp.step(&model, features: x, labels: y, loss: .softmaxCrossEntropy)
        let growth = try peakResidentBytes() - before
        let perSampleBytes = b * inF * outF * 4
        print(
            "ghost DP-SGD step, Dense \(inF)->\(outF), B = \(b): peak RSS growth \(growth >> 20) MiB "
                + "(materialized per-sample gradients: \(perSampleBytes >> 20) MiB)")
        XCTAssertLessThan(growth, perSampleBytes / 16)
        #else
        throw XCTSkip("peak resident set read from /proc (Linux)")
        #endif
    }

    private func peakResidentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "")
        else {
            throw XCTSkip("no VmHWM in /proc/self/status")
        }
        return kb * 1024
    }

    /// A NaN norm is refused before any gradient changes.
    func testGhostPrivatizationRefusesNonFiniteNorms() throws {
        var model = try models(seed: 1)[1].model
        let (x, y) = batch([30], size: 4, seed: 1, scale: 1)
        let r = Loss.softmaxCrossEntropy.evaluate(output: model.forward(x, training: true), labels: y)
        var norms = model.backwardPerSampleNorms(r.gradient)
        norms[2] = .nan
        var noise = GaussianSampler(.seeded(1))
        XCTAssertThrowsError(
            try DPSGD.privatizeGradients(
                &model, perSampleNorms: norms,
                configuration: try DPSGDConfiguration(clippingNorm: 1, noiseMultiplier: 1, expectedBatchSize: 4),
                noise: &noise)
        ) {
            guard case .nonFinite = $0 as? DPError else { return XCTFail("\($0)") }
        }
    }

    /// The ziggurat's fast-path kernels (portable, AVX2 gathers, AVX-512 permutes: each one this
    /// CPU has) give bit-identical outputs and the same misses, on tables with every acceptance
    /// rate and on the sampler's own tables, including lengths that leave a scalar tail.
    func testZigguratFastPathKernelsAgree() {
        var rng = SeededGenerator(seed: 12)
        let n = 10_003
        let bits = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        let start = (0..<n).map { _ in Float(rng.nextNormal()) }
        let synthetic: ([Int32], [Float]) = (
            (0..<128).map { Int32($0 % 17) << 20 }, (0..<128).map { Float(128 - $0) / 30 * 0x1p-24 }
        )
        var kernelsRun = 0
        for (threshold, scaledX) in [synthetic, Ziggurat.fastTables] {
            for count in [n, 15, 1] {
                var reference = start, referenceMisses = [UInt32](repeating: 0, count: n)
                let referenceCount = vs_ziggurat_fast_kernel(
                    0, &reference, bits, count, threshold, scaledX, 0.7, 0.25, &referenceMisses)
                for kernel in Int32(1)...2 {
                    var out = start, misses = [UInt32](repeating: 0, count: n)
                    let missed = vs_ziggurat_fast_kernel(
                        kernel, &out, bits, count, threshold, scaledX, 0.7, 0.25, &misses)
                    if missed < 0 { continue }  // SIZE_MAX: this CPU lacks the kernel
                    kernelsRun += 1
                    XCTAssertEqual(missed, referenceCount, "kernel \(kernel), \(count) draws")
                    XCTAssertEqual(Array(misses[0..<missed]), Array(referenceMisses[0..<referenceCount]))
                    XCTAssertEqual(out, reference, "kernel \(kernel), \(count) draws")
                }
                var dispatched = start, dispatchedMisses = [UInt32](repeating: 0, count: n)
                let d = vs_ziggurat_fast(&dispatched, bits, count, threshold, scaledX, 0.7, 0.25, &dispatchedMisses)
                XCTAssertEqual(d, referenceCount)
                XCTAssertEqual(dispatched, reference)
                // Missed positions are untouched.
                for k in referenceMisses[0..<referenceCount].map(Int.init) { XCTAssertEqual(reference[k], start[k]) }
                if count == n { XCTAssertGreaterThan(referenceCount, 0) }
            }
        }
        XCTAssertGreaterThan(kernelsRun, 0, "no vectorized kernel ran on this CPU")
    }

    /// The integer acceptance test is exactly the ziggurat's |u| < ratio[i] (u = m 2^-24) at
    /// every layer's boundary, for both signs, and an accepted value is u x[i] to Float
    /// precision (at most 2 ulps from the Double product rounded once).
    func testZigguratFastPathIsTheExactAcceptanceTest() {
        let (x, ratio) = Ziggurat.tables
        let (threshold, scaledX) = Ziggurat.fastTables
        var bits: [UInt32] = []
        for i in 0..<128 {
            let t = Int(threshold[i])
            for m in [t - 2, t - 1, t, t + 1, 0, 1] where m <= 1 << 24 - 1 && m >= 0 {
                for sign in [1, -1] { bits.append(UInt32(bitPattern: Int32(sign * m) << 7) | UInt32(i)) }
            }
            bits.append(UInt32(bitPattern: Int32.min) | UInt32(i))  // m = -2^24, u = -1
        }
        var out = [Float](repeating: 0, count: bits.count), misses = [UInt32](repeating: 0, count: bits.count)
        let missed = vs_ziggurat_fast(&out, bits, bits.count, threshold, scaledX, 1, 1, &misses)
        let missedSet = Set(misses[0..<missed].map(Int.init))
        for (k, b) in bits.enumerated() {
            let (i, u) = (Int(b & 0x7F), Double(Int32(bitPattern: b) >> 7) * 0x1p-24)
            let accepted = abs(u) < ratio[i]
            XCTAssertEqual(!missedSet.contains(k), accepted, "layer \(i), u = \(u)")
            if accepted {
                let exact = Float(u * x[i])
                XCTAssertLessThanOrEqual(abs(out[k] - exact), 2 * exact.ulp, "layer \(i), u = \(u)")
            }
        }
    }

    /// The ziggurat sampler is N(0, 1): Kolmogorov-Smirnov distance to the normal CDF on 400k
    /// draws below the 1 % critical value, tail frequencies beyond the ziggurat's base strip
    /// (|z| > 3.443) and beyond 4.5 as the normal's, for the CSPRNG and a seed; bulk noise with
    /// a scale is (t + std z) * scale, identical for a seed whatever the thread count.
    func testZigguratIsStandardNormalAndBulkNoiseIsThreadIndependent() throws {
        for source in [RandomSource.seeded(77), .system] {
            var g = GaussianSampler(source)
            let n = 400_000
            var draws = (0..<n).map { _ in g.next() }
            draws.sort()
            var ks = 0.0
            for (i, z) in draws.enumerated() {
                let cdf = 0.5 * erfc(-z / 2.0.squareRoot())
                ks = max(ks, abs(cdf - Double(i) / Double(n)), abs(cdf - Double(i + 1) / Double(n)))
            }
            XCTAssertLessThan(ks, 1.63 / Double(n).squareRoot(), "KS distance, \(source)")
            for (cut, label) in [(3.442619855899, "tail strip"), (4.5, "far tail")] {
                let p = erfc(cut / 2.0.squareRoot())
                let seen = Double(draws.filter { abs($0) > cut }.count)
                XCTAssertEqual(
                    seen, p * Double(n), accuracy: 5 * (p * Double(n)).squareRoot() + 1, "\(label), \(source)")
            }
        }
        var one = GaussianSampler(.seeded(5)), two = GaussianSampler(.seeded(5))
        var a = Tensor(shape: [200_000], repeating: 1), b = a
        one.addNoise(standardDeviation: 2, to: &a, scale: 0.5, threads: 1)
        two.addNoise(standardDeviation: 2, to: &b, scale: 0.5, threads: 2)
        XCTAssertEqual(a.storage, b.storage)
        let values = a.storage.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
        XCTAssertEqual(sd, 1, accuracy: 0.01)
        // Copies of a system sampler never repeat each other's words.
        let original = GaussianSampler(.system)
        var c1 = original, c2 = original
        XCTAssertNotEqual((0..<16).map { _ in c1.next() }, (0..<16).map { _ in c2.next() })
    }
}
