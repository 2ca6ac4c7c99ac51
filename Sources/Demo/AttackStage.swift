import Attacks
import Defenses
import Foundation
import NeuralNet
import ZKML

/// Stage 3's result: QBI by a malicious split server, with and without AGGP on its layer.
public struct AttackSummary: Sendable {
    public var neurons: Int
    public var batch: Int
    public var seeds: Int
    /// Features per reconstructed sample (the cut width).
    public var dimension: Int
    /// Exact recall per seed, and their means.
    public var recallNone: [Double]
    public var recallAGGP: [Double]
    public var meanRecallNone: Double { recallNone.reduce(0, +) / Double(max(recallNone.count, 1)) }
    public var meanRecallAGGP: Double { recallAGGP.reduce(0, +) / Double(max(recallAGGP.count, 1)) }
    /// Nowak et al.'s R(N, B) for random directions with p = 1/B.
    public var recallTheory: Double
    /// How the activations were standardized ("per-channel": one mean and deviation per conv
    /// channel, the paper's normalization).
    public var standardization: String
    /// AGGP's threshold and where it ran ("first-dense": the server's first layer, the paper's).
    public var aggpThreshold: Int
    public var aggpLayers: String
    /// Samples that were some neuron's only activator (the undefended potential), mean over seeds.
    public var structuralRecall: Double
    /// PNG grids (relative to the output folder) of the first seed: originals beside their best
    /// reconstruction, without and with AGGP.
    public var gridNone: String
    public var gridAGGP: String
}

/// QBI against the trained split setup.
///
/// The attack runs at `Attacks.SplitLearningServer`, the split-server entry point: the server's
/// first layer is the malicious QBI layer on the cut, and what it reconstructs from that layer's
/// gradient is each isolated sample's cut-layer activation A. The client half is the conv layer
/// the verified session just trained, and A is exactly what that client sends: its fixed-point
/// `QuantizedConv2d.forward` on the image, dequantized. (The float `NeuralNet` twin with the same
/// weights would compute A up to rounding; using the protocol's own values avoids that gap.)
///
/// QBI's bias assumes standardized inputs. The server sees the activations of every step, so it
/// knows their mean and deviation per channel; it folds the standardization into its layer, which
/// `AttackData.images` models by standardizing A per conv channel (the paper's per-channel
/// normalization) with the training activations' statistics (the auxiliary data are the test
/// images' activations). Exact recall is then the fraction of
/// the victim batch whose A the server recovers to relative error 1e-3. AGGP runs where the
/// defended protocol would have to run it: on the server layer's gradient before the update.
enum AttackStage {
    /// AGGP's threshold in the demo (the authors' value).
    static let aggpThreshold = 10

    static func run(
        sizes: DemoSizes, seed: UInt64, client: QuantizedConv2d, train: Dataset, test: Dataset,
        output: URL, stages: StageTracker
    ) throws -> AttackSummary {
        stages.begin(
            "QBI on the cut layer, N = \(sizes.qbiNeurons), B = \(sizes.qbiBatch), without and with AGGP",
            units: sizes.qbiSeeds + 1)
        let trainValues = try activations(client, train)
        let peak = max(displayScale(trainValues), Float.leastNormalMagnitude)
        let trainA = try dataset(trainValues.map { $0 / peak }, like: train, conv: client)
        let testA = try dataset(try activations(client, test).map { $0 / peak }, like: test, conv: client)
        let data = try AttackData.images(
            train: trainA, test: testA, name: "cut-layer activations of the trained client",
            standardization: .perChannel, channels: client.outChannels)
        stages.progress.update(1, detail: "activations of \(train.count + test.count) images")
        var none = [Double](), aggp = [Double](), structural = [Double]()
        var grids = (none: "", aggp: "")
        for k in 0..<sizes.qbiSeeds {
            let s = seed &+ UInt64(k)
            let round = try AttackTrial.prepare(
                kind: .qbi, neurons: sizes.qbiNeurons, batch: sizes.qbiBatch, data: data, seed: s, entry: .split)
            let plain = try AttackTrial.evaluate(round, display: data.display) { _ in }
            var defense = try AGGP(threshold: aggpThreshold, layers: .firstDense, randomness: .seeded(s ^ 0xA66F))
            let defended = try AttackTrial.evaluate(round, display: data.display) { defense.apply(to: &$0) }
            none.append(plain.result.recall)
            aggp.append(defended.result.recall)
            structural.append(plain.result.structuralRecall)
            if k == 0 {
                grids.none = try writeGrid(round, plain, data.display, name: "qbi-none.png", output: output)
                grids.aggp = try writeGrid(round, defended, data.display, name: "qbi-aggp.png", output: output)
            }
            stages.progress.update(
                k + 2,
                detail: String(
                    format: "seed %ld: recall %.2f without, %.2f with AGGP", k + 1, plain.result.recall,
                    defended.result.recall))
        }
        let summary = AttackSummary(
            neurons: sizes.qbiNeurons, batch: sizes.qbiBatch, seeds: sizes.qbiSeeds, dimension: data.dimension,
            recallNone: none, recallAGGP: aggp,
            recallTheory: RecallTheory.randomDirections(neurons: sizes.qbiNeurons, batch: sizes.qbiBatch),
            standardization: data.standardizationName, aggpThreshold: aggpThreshold,
            aggpLayers: AGGP.Layers.firstDense.description,
            structuralRecall: structural.reduce(0, +) / Double(structural.count), gridNone: grids.none,
            gridAGGP: grids.aggp)
        stages.end(
            String(
                format: "exact recall %.2f without AGGP, %.2f with AGGP (theory %.2f)",
                summary.meanRecallNone, summary.meanRecallAGGP, summary.recallTheory))
        return summary
    }

    /// The cut-layer activations the client sends for every image of `data`, dequantized.
    static func activations(_ conv: QuantizedConv2d, _ data: Dataset) throws -> [Float] {
        let size = conv.inputCount
        let f = conv.format
        let pixels = data.features.storage
        var values = [Float]()
        values.reserveCapacity(data.count * conv.outputCount)
        for n in 0..<data.count {
            let x = try pixels[(n * size)..<((n + 1) * size)].map { try f.quantize($0) }
            values += try conv.forward(x).map { f.dequantize($0) }
        }
        return values
    }

    /// The 99th percentile of the positive activations: dividing by it puts almost all of them
    /// in the grid's [0, 1] display range with more contrast than dividing by the maximum (the
    /// few above 1 only saturate in the picture; recall is measured on the values).
    static func displayScale(_ values: [Float]) -> Float {
        let positive = values.filter { $0 > 0 }.sorted()
        guard !positive.isEmpty else { return 1 }
        return positive[min(positive.count - 1, positive.count * 99 / 100)]
    }

    /// Activations as a data set of `[C * H, W]` samples (the channels stacked vertically, so a
    /// grid tile shows them as one image), labelled as the images they came from. The caller
    /// divides them by `displayScale` of the training activations: a positive scale, so exact
    /// recovery is unchanged.
    static func dataset(_ values: [Float], like data: Dataset, conv: QuantizedConv2d) throws -> Dataset {
        let shape = [data.count, conv.outChannels * conv.outHeight, conv.outWidth]
        return try Dataset(
            features: try Tensor(shape: shape, storage: values), labels: data.labels, classCount: data.classCount)
    }

    static func writeGrid(
        _ round: PreparedRound, _ trial: (result: TrialResult, inversion: Inversion, quality: ReconstructionQuality),
        _ display: DisplayTransform, name: String, output: URL
    ) throws -> String {
        let png = try ReconstructionGrid.png(
            originals: round.originals, inversion: trial.inversion, quality: trial.quality,
            display: display, pairsPerRow: 10, scale: 8)
        try Demo.write(png, to: output.appendingPathComponent(name))
        return name
    }
}
