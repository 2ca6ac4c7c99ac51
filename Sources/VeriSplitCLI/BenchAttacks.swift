import ArgumentParser
import Attacks
import DP
import Defenses
import Dispatch
import Foundation
import NeuralNet

/// `verisplit bench attacks`: every attack against every defense on the grid
/// N in {200, 500, 1000} x B in {20, 50, 100, 200}, on the bundled images and on Gaussian
/// synthetic data (K seeds each, mean and 95% t-interval), plus each defense's accuracy cost on
/// the bundled MLP. Prints a table (or one JSON object) and writes an HTML report with SVG plots.
struct BenchAttacks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attacks",
        abstract: "Attack x defense grid (recall with 95% intervals), defense accuracy cost, HTML report.")

    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Small grid (N 200, 500; B 20, 100; 3 seeds; 1 training epoch).") var quick = false
    @Option(help: "Seeds per cell (default 10, 3 with --quick).") var seeds: Int?
    @Option(help: "Training epochs for the accuracy cost (default 2, 1 with --quick).") var epochs: Int?
    @Option(help: "HTML report path.") var report: String = "attacks-report.html"
    @Option(help: "Also write a Markdown summary (table, time, machine) to this path.") var markdown: String?

    func run() async throws {
        let seedCount = seeds ?? (quick ? 3 : 10)
        let neurons = quick ? [200, 500] : [200, 500, 1000]
        let batches = quick ? [20, 100] : [20, 50, 100, 200]
        let (train, test) = try MNISTFamily.load(.bundled)
        let datasets = [try AttackData.images(train: train, test: test, name: "images"), AttackData.synthetic()]
        let clock = ContinuousClock()
        let start = clock.now
        var cells = [GridCell]()
        for data in datasets {
            for n in neurons {
                for b in batches {
                    for kind in AttackKind.allCases {
                        cells += try AttackGrid.cell(kind: kind, neurons: n, batch: b, data: data, seeds: seedCount)
                    }
                }
            }
        }
        let gridSeconds = (clock.now - start).seconds
        let trainStart = clock.now
        let costs = AccuracyCost.measure(train: train, test: test, epochs: epochs ?? (quick ? 1 : 2),
                                         seeds: quick ? 1 : 3)
        let trainSeconds = (clock.now - trainStart).seconds
        let html = AttackReport.html(cells: cells, costs: costs, neurons: neurons, batches: batches, seeds: seedCount,
                                     gridSeconds: gridSeconds)
        try AttackRunner.write(Data(html.utf8), to: report)
        if let markdown {
            let md = AttackReport.markdown(cells: cells, costs: costs, neurons: neurons, batches: batches,
                                           seeds: seedCount, gridSeconds: gridSeconds, trainSeconds: trainSeconds)
            try AttackRunner.write(Data(md.utf8), to: markdown)
        }
        if json {
            print(jsonLine(BenchAttacksJSON(seeds: seedCount, gridSeconds: gridSeconds, trainingSeconds: trainSeconds,
                                            threads: GEMM.defaultThreads, grid: cells, accuracy: costs, report: report)))
            return
        }
        print(AttackReport.table(cells: cells, neurons: neurons, batches: batches))
        print(AttackReport.costTable(costs))
        print(String(format: "grid: %d cells x %d seeds in %.1f s; accuracy cost training %.1f s; report %@",
                     cells.count, seedCount, gridSeconds, trainSeconds, report))
    }
}

struct BenchAttacksJSON: Encodable {
    var seeds: Int
    var gridSeconds: Double
    var trainingSeconds: Double
    var threads: Int
    var grid: [GridCell]
    var accuracy: [DefenseCost]
    var report: String
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// One (data, attack, defense, N, B) cell over K seeds.
struct GridCell: Encodable, Sendable {
    var data: String
    var attack: String
    var defense: String
    var neurons: Int
    var batch: Int
    var recall: Double
    var recallCi: [Double]
    var recallStructural: Double
    var recallTheory: Double
    var active: Double
    var precision: Double
    var psnr: Double
    var psnrCi: [Double]
    var ssim: Double
}

/// Thread-safe slots for results computed in parallel (one slot per seed, written once).
final class Slots<T: Sendable>: @unchecked Sendable {
    private var values: [T?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
    var all: [T?] { lock.lock(); defer { lock.unlock() }; return values }
}

enum AttackGrid {
    /// Runs K seeds of one attack setting (seeds in parallel over the cores), each seed's client
    /// step once, and every defense on a copy of that step's gradient.
    static func cell(kind: AttackKind, neurons: Int, batch: Int, data: AttackData, seeds: Int) throws -> [GridCell] {
        let defenses = DefenseKind.allCases
        let slots = Slots<Result<[TrialResult], AttackError>>(count: seeds)
        let workers = max(1, min(seeds, GEMM.defaultThreads))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for k in stride(from: w, to: seeds, by: workers) {
                let seed = UInt64(k + 1)
                do throws(AttackError) {
                    let round = try AttackTrial.prepare(kind: kind, neurons: neurons, batch: batch, data: data, seed: seed)
                    var out = [TrialResult]()
                    for d in defenses {
                        var defense = d.make(seed: seed ^ 0xDEFE_5E)
                        out.append(try AttackTrial.evaluate(round, display: data.display) { defense.apply(to: &$0) }.result)
                    }
                    slots.set(k, .success(out))
                } catch {
                    slots.set(k, .failure(error))
                }
            }
        }
        var perSeed = [[TrialResult]]()
        for slot in slots.all {
            switch slot {
            case let .success(v)?: perSeed.append(v)
            case let .failure(e)?: throw e
            case nil: throw ValidationError("a seed of \(kind) N=\(neurons) B=\(batch) produced no result")
            }
        }
        return defenses.enumerated().map { i, d in
            let r = perSeed.map { $0[i] }
            let recall = Statistics.summarize(r.map(\.recall)), psnr = Statistics.summarize(r.map(\.psnr))
            func mean(_ f: (TrialResult) -> Double) -> Double { r.map(f).reduce(0, +) / Double(max(r.count, 1)) }
            return GridCell(data: data.name, attack: kind.rawValue, defense: d.rawValue, neurons: neurons, batch: batch,
                            recall: recall.mean, recallCi: recall.interval, recallStructural: mean(\.structuralRecall),
                            recallTheory: RecallTheory.recall(for: kind, neurons: neurons, batch: batch),
                            active: mean(\.active), precision: mean(\.precision), psnr: psnr.mean, psnrCi: psnr.interval,
                            ssim: mean(\.ssim))
        }
    }
}

/// Test accuracy of the bundled MLP trained briefly with each defense in the gradient hook.
struct DefenseCost: Encodable, Sendable {
    var defense: String
    var accuracy: Double
    var accuracyCi: [Double]
    /// Accuracy without defense minus with it (paired by seed), in accuracy units.
    var cost: Double
    var costCi: [Double]
    /// For dp: the RDP epsilon of the training run at delta = 1e-5 (Poisson sampling assumed).
    var epsilon: Double?
}

enum AccuracyCost {
    static func measure(train: Dataset, test: Dataset, epochs: Int, seeds: Int) -> [DefenseCost] {
        var tr = train, te = test
        let s = Standardizer.fit(train)
        tr.standardize(with: s)
        te.standardize(with: s)
        let batchSize = 64
        guard let spec = try? ModelSpec.bundled("mlp-784-128-10") else { return [] }
        var accuracies = [DefenseKind: [Double]]()
        for seed in 1...seeds {
            for kind in DefenseKind.allCases {
                var model = spec.makeModel(seed: UInt64(seed))
                var opt = Adam(learningRate: 1e-3)
                var defense = kind.make(seed: UInt64(seed) ^ 0xACC)
                let history = Trainer.fit(model: &model, optimizer: &opt, loss: spec.loss, train: tr, test: te,
                                          epochs: epochs, batchSize: batchSize, seed: UInt64(seed),
                                          hook: { defense.apply(to: &$0) })
                accuracies[kind, default: []].append(Double(history.last?.testAccuracy ?? 0))
            }
        }
        let base = accuracies[DefenseKind.none] ?? []
        let steps = epochs * ((train.count + batchSize - 1) / batchSize)
        return DefenseKind.allCases.map { kind in
            let acc = accuracies[kind] ?? []
            let a = Statistics.summarize(acc)
            let c = Statistics.summarize(zip(base, acc).map { $0 - $1 })
            let epsilon = kind == .dp
                ? try? GaussianGradientNoise().guarantee(samplingRate: Double(batchSize) / Double(train.count),
                                                         steps: steps, delta: 1e-5, layers: 2).epsilon
                : nil
            return DefenseCost(defense: kind.rawValue, accuracy: a.mean, accuracyCi: a.interval, cost: c.mean,
                               costCi: c.interval, epsilon: epsilon)
        }
    }
}
