import Attacks
import DP
import Defenses
import Foundation
import NeuralNet
import XCTest

final class DefenseTests: XCTestCase {
    private func qbiRound(seed: UInt64 = 5, neurons: Int = 500, batch: Int = 20) throws -> PreparedRound {
        try AttackTrial.prepare(kind: .qbi, neurons: neurons, batch: batch, data: .synthetic(), seed: seed)
    }

    /// p_keep, the kept and zeroed counts, hand-computed for rows of 784 entries:
    /// a = 1: p = 0.01, 7.84 -> keep 8, zero floor(6.0) = 6, 2 survive;
    /// a = 2: p = 0.94/196 + 0.01 = 0.014796, 11.6 -> keep 12, zero 9, 3 survive;
    /// a = 10: p = 81 * 0.94/196 + 0.01 = 0.398469, 312.4 -> keep 313, zero 234, 79 survive.
    func testAGGPCountsByHand() throws {
        let aggp = try AGGP()
        XCTAssertEqual(aggp.keepFraction(activations: 1), 0.01, accuracy: 1e-15)
        XCTAssertEqual(aggp.keepFraction(activations: 10), 81 * 0.94 / 196 + 0.01, accuracy: 1e-15)
        for (a, kept, zeroed) in [(1, 8, 6), (2, 12, 9), (10, 313, 234)] {
            XCTAssertEqual(aggp.keptCount(activations: a, rowLength: 784), kept, "a = \(a)")
            XCTAssertEqual(aggp.randomlyZeroedCount(kept: kept), zeroed, "a = \(a)")
        }
        XCTAssertFalse(aggp.prunes(activations: 0))
        XCTAssertTrue(aggp.prunes(activations: 10))
        XCTAssertFalse(aggp.prunes(activations: 11))
    }

    /// On a real QBI gradient: every row with 0 < a <= T has exactly kept - zeroed nonzero entries,
    /// all of them unchanged and among the row's `kept` largest magnitudes; rows with a = 0 or
    /// a > T and the whole bias gradient are bit-for-bit unchanged.
    func testAGGPEditsExactlyTheSpecifiedRows() throws {
        // QBI with B = 40 gives rows with a = 1...10; the random baseline (zero bias) rows with a > 10.
        var pruned = 0, untouchedHigh = 0
        for kind in [AttackKind.qbi, .random] {
            let round = try AttackTrial.prepare(kind: kind, neurons: 400, batch: 40, data: .synthetic(), seed: 5)
            var ctx = round.context
            var aggp = try AGGP(randomness: .seeded(1))
            aggp.apply(to: &ctx)
            let z = round.context.preActivations
            let (b, n) = (z.shape[0], z.shape[1])
            let d = ctx.weightGradient.shape[1]
            var counts = [Int](repeating: 0, count: n)
            for s in 0..<b { for i in 0..<n where z.storage[s * n + i] > 0 { counts[i] += 1 } }
            XCTAssertEqual(ctx.biasGradient?.storage, round.context.biasGradient?.storage, "bias gradient untouched")
            for i in 0..<n {
                let before = Array(round.context.weightGradient.storage[(i * d)..<((i + 1) * d)])
                let after = Array(ctx.weightGradient.storage[(i * d)..<((i + 1) * d)])
                let a = counts[i]
                if a == 0 || a > 10 {
                    XCTAssertEqual(before, after, "row \(i) with a = \(a) must be unchanged")
                    if a > 10 { untouchedHigh += 1 }
                    continue
                }
                pruned += 1
                let p = Double((a - 1) * (a - 1)) * 0.94 / 196 + 0.01
                let kept = Int((Double(d) * p).rounded(.up))
                let survivors = kept - Int(Double(kept) * 0.75)
                let nonzero = after.indices.filter { after[$0] != 0 }
                XCTAssertEqual(nonzero.count, survivors, "row \(i), a = \(a)")
                let threshold = before.map { abs($0) }.sorted(by: >)[kept - 1]
                for j in nonzero {
                    XCTAssertEqual(after[j], before[j])
                    XCTAssertGreaterThanOrEqual(abs(before[j]), threshold)
                }
            }
        }
        XCTAssertGreaterThan(pruned, 100)
        XCTAssertGreaterThan(untouchedHigh, 100, "the batches must exercise rows with a > T")
    }

    /// AGGP takes QBI's exact reconstructions from most of the batch to (near) zero.
    func testAGGPDefeatsQBI() throws {
        var undefended = [Double](), defended = [Double]()
        for seed in 0..<4 {
            let round = try qbiRound(seed: UInt64(seed))
            let display = AttackData.synthetic().display
            undefended.append(try AttackTrial.evaluate(round, display: display) { _ in }.result.recall)
            var aggp = try AGGP(randomness: .seeded(UInt64(seed)))
            defended.append(try AttackTrial.evaluate(round, display: display) { aggp.apply(to: &$0) }.result.recall)
        }
        XCTAssertGreaterThan(undefended.reduce(0, +) / 4, 0.6)
        XCTAssertLessThanOrEqual(defended.max() ?? 1, 0.01, "AGGP recalls \(defended)")
    }

    /// Running a defense inside the client's backward hook gives the same update as applying it to
    /// the captured context (what the benchmark does).
    func testHookAndCapturedContextAgree() throws {
        var rng = SeededGenerator(seed: 9)
        let data = AttackData.synthetic()
        let (x, y) = try data.batch(size: 20, generator: &rng)
        let layer = try QBI.layer(neurons: 100, inputSize: 784, batchSize: 20, generator: &rng)
        let round = try FedSGDRound(layer: layer, classes: 10, generator: &rng)
        for kind in DefenseKind.allCases {
            var inHook = try kind.make(DefenseOptions(randomness: .seeded(4)))
            let update = try FedSGDRound.clientUpdate(model: round.model, inputs: x, labels: y) { ctx in
                if ctx.layerName == MaliciousModel.layerName { inHook.apply(to: &ctx) }
            }
            var captured: GradientHookContext?
            _ = try FedSGDRound.clientUpdate(model: round.model, inputs: x, labels: y) { ctx in
                if ctx.layerName == MaliciousModel.layerName { captured = ctx }
            }
            var ctx = try XCTUnwrap(captured)
            var copy = try kind.make(DefenseOptions(randomness: .seeded(4)))
            copy.apply(to: &ctx)
            XCTAssertEqual(update.gradients["imprint.weight"]?.storage, ctx.weightGradient.storage, "\(kind)")
            XCTAssertEqual(update.gradients["imprint.bias"]?.storage, ctx.biasGradient?.storage, "\(kind)")
        }
    }

    /// Per-sample clipping of Dense layers without materializing per-sample gradients equals the
    /// explicit computation from `perSampleGradient` (noise off).
    func testDPClippingMatchesExplicitPerSampleClipping() throws {
        var rng = SeededGenerator(seed: 2)
        var model = Sequential(
            layers: [
                Dense(name: "fc1", inFeatures: 6, outFeatures: 5), ReLU(name: "r"),
                Dense(name: "fc2", inFeatures: 5, outFeatures: 3),
            ], inputShape: [6])
        WeightInit.kaiming.apply(to: &model, generator: &rng)
        let x = Tensor(shape: [8, 6]) { p in for i in 0..<p.count { p[i] = 3 * rng.nextNormal() } }
        let labels = (0..<8).map { $0 % 3 }
        let out = model.forward(x, training: true)
        let grad = Loss.softmaxCrossEntropy(logits: out, labels: labels).gradient
        var explicit: [String: [Float]] = [:], ghost: [String: [Float]] = [:]
        let clip: Float = 0.5
        let quiet = try GaussianGradientNoise(clipNorm: clip, noiseMultiplier: 0)
        _ = model.backward(grad, perSample: true) { ctx in
            var c = ctx
            var dp = quiet
            dp.apply(to: &c)
            ghost[ctx.layerName] = c.weightGradient.storage + (c.biasGradient?.storage ?? [])
            // Explicit: clip [w, b] per sample, then average.
            let psW = ctx.parameters[0].perSampleGradient!, psB = ctx.parameters[1].perSampleGradient!
            let (sw, sb) = (psW.count / 8, psB.count / 8)
            var mean = [Float](repeating: 0, count: sw + sb)
            for n in 0..<8 {
                let row = Array(psW.storage[(n * sw)..<((n + 1) * sw)]) + Array(psB.storage[(n * sb)..<((n + 1) * sb)])
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let f = min(1, clip / norm)
                for i in row.indices { mean[i] += f * row[i] / 8 }
            }
            explicit[ctx.layerName] = mean
        }
        for name in ["fc1", "fc2"] {
            let (a, b) = (try XCTUnwrap(ghost[name]), try XCTUnwrap(explicit[name]))
            XCTAssertEqual(a.count, b.count)
            for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-5, "\(name)[\(i)]") }
        }
    }

    func testTopKKeepsExactlyTheLargest() throws {
        let round = try qbiRound(neurons: 50)
        var ctx = round.context
        var prune = TopKPruning(keepFraction: 0.1)
        prune.apply(to: &ctx)
        let before = round.context.weightGradient.storage, after = ctx.weightGradient.storage
        let k = Int((Double(before.count) * 0.1).rounded(.up))
        let nonzeroBefore = before.filter { $0 != 0 }.count
        XCTAssertEqual(after.filter { $0 != 0 }.count, min(k, nonzeroBefore))
        let threshold = before.map { abs($0) }.sorted(by: >)[k - 1]
        for i in after.indices where after[i] != 0 {
            XCTAssertEqual(after[i], before[i])
            XCTAssertGreaterThanOrEqual(abs(before[i]), threshold)
        }
    }
}
