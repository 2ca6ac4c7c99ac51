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
    @Option(help: "Image standardization: per-channel (the paper's) or per-feature.") var standardize: String = "per-channel"
    @Option(help: "AGGP activation threshold T (the authors' demo: 10).") var aggpThreshold: Int = 10
    @Option(help: "Layers AGGP defends: first-dense (the paper's) or all.") var aggpLayers: String = "first-dense"
    @Option(help: "Seed the defenses' randomness (AGGP zeroing, dp noise); default: system CSPRNG.") var defenseSeed: UInt64?

    func validate() throws {
        guard Standardization(rawValue: standardize) != nil else { throw ValidationError("--standardize must be per-channel or per-feature") }
        guard aggpThreshold >= 1 else { throw ValidationError("--aggp-threshold must be >= 1") }
        guard ["first-dense", "all"].contains(aggpLayers) else { throw ValidationError("--aggp-layers must be first-dense or all") }
    }

    var settings: AttackBenchSettings {
        AttackBenchSettings(standardization: Standardization(rawValue: standardize) ?? .perChannel,
                            defenses: DefenseOptions(aggpThreshold: aggpThreshold, aggpLayers: aggpLayers == "all" ? .all : .firstDense),
                            defenseSeed: defenseSeed)
    }

    func run() async throws {
        let seedCount = seeds ?? (quick ? 3 : 10)
        let neurons = quick ? [200, 500] : [200, 500, 1000]
        let batches = quick ? [20, 100] : [20, 50, 100, 200]
        let (train, test) = try MNISTFamily.load(.bundled)
        let settings = self.settings
        let datasets = [try AttackData.images(train: train, test: test, name: "images", standardization: settings.standardization),
                        AttackData.synthetic()]
        let clock = ContinuousClock()
        let start = clock.now
        var cells = [GridCell]()
        for data in datasets {
            for n in neurons {
                for b in batches {
                    for kind in AttackKind.allCases {
                        cells += try AttackGrid.cell(kind: kind, neurons: n, batch: b, data: data, seeds: seedCount,
                                                     settings: settings)
                    }
                }
            }
        }
        let gridSeconds = (clock.now - start).seconds
        let trainStart = clock.now
        let costs = try AccuracyCost.measure(train: train, test: test, epochs: epochs ?? (quick ? 1 : 2),
                                             seeds: quick ? 1 : 3, settings: settings)
        let trainSeconds = (clock.now - trainStart).seconds
        let html = AttackReport.html(cells: cells, costs: costs, neurons: neurons, batches: batches, seeds: seedCount,
                                     gridSeconds: gridSeconds, settings: settings)
        try AttackRunner.write(Data(html.utf8), to: report)
        if let markdown {
            let md = AttackReport.markdown(cells: cells, costs: costs, neurons: neurons, batches: batches,
                                           seeds: seedCount, gridSeconds: gridSeconds, trainSeconds: trainSeconds,
                                           settings: settings)
            try AttackRunner.write(Data(md.utf8), to: markdown)
        }
        if json {
            print(jsonLine(BenchAttacksJSON(seeds: seedCount, gridSeconds: gridSeconds, trainingSeconds: trainSeconds,
                                            threads: GEMM.defaultThreads, standardization: settings.standardization.rawValue,
                                            aggpThreshold: settings.defenses.aggpThreshold,
                                            aggpLayers: settings.defenses.aggpLayers.description,
                                            defenseRandomness: settings.defenseSeed == nil ? "system" : "seeded",
                                            dpGuarantee: settings.dpGuarantee, grid: cells, accuracy: costs, report: report)))
            return
        }
        print(AttackReport.table(cells: cells, neurons: neurons, batches: batches))
        print(AttackReport.costTable(costs, settings: settings))
        print(String(format: "grid: %d cells x %d seeds in %.1f s; accuracy cost training %.1f s; report %@",
                     cells.count, seedCount, gridSeconds, trainSeconds, report))
    }
}

/// The settings of one attack-benchmark run, named in every output.
struct AttackBenchSettings: Sendable {
    var standardization: Standardization
    var defenses: DefenseOptions
    /// Seeds the defenses' randomness per cell; nil: the system CSPRNG.
    var defenseSeed: UInt64?

    /// The defense options of one seed of one cell.
    func options(seed: UInt64) -> DefenseOptions {
        var o = defenses
        o.randomness = defenseSeed.map { .seeded($0 &+ seed) } ?? .system
        return o
    }

    var dpGuarantee: DefenseGuaranteeSummary? { DefenseGuaranteeSummary.make(options(seed: 0)) }

    /// One line naming the settings.
    var description: String {
        "images standardized \(standardization.rawValue); AGGP T = \(defenses.aggpThreshold) on "
            + (defenses.aggpLayers == .all ? "every dense layer" : "the first dense layer")
            + "; defense randomness \(defenseSeed == nil ? "system CSPRNG" : "seeded")"
    }
}

struct BenchAttacksJSON: Encodable {
    var seeds: Int
    var gridSeconds: Double
    var trainingSeconds: Double
    var threads: Int
    var standardization: String
    var aggpThreshold: Int
    var aggpLayers: String
    var defenseRandomness: String
    /// The dp defense's per-round, unamplified guarantee in the attack setting.
    var dpGuarantee: DefenseGuaranteeSummary?
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
    var standardization: String
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
    static func cell(kind: AttackKind, neurons: Int, batch: Int, data: AttackData, seeds: Int,
                     settings: AttackBenchSettings) throws -> [GridCell] {
        let defenses = DefenseKind.allCases
        let slots = Slots<Result<[TrialResult], any Error>>(count: seeds)
        let workers = max(1, min(seeds, GEMM.defaultThreads))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for k in stride(from: w, to: seeds, by: workers) {
                let seed = UInt64(k + 1)
                do {
                    let round = try AttackTrial.prepare(kind: kind, neurons: neurons, batch: batch, data: data, seed: seed)
                    var out = [TrialResult]()
                    for d in defenses {
                        var defense = try d.make(settings.options(seed: seed))
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
            return GridCell(data: data.name, standardization: data.standardizationName, attack: kind.rawValue, defense: d.rawValue, neurons: neurons, batch: batch,
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
    /// For dp: the per-round, unamplified epsilon at delta = 1e-5 (replace-one, both layers
    /// clipped): what one defended step guarantees against a server that sees its update.
    var epsilonPerRound: Double?
}

enum AccuracyCost {
    static func measure(train: Dataset, test: Dataset, epochs: Int, seeds: Int,
                        settings: AttackBenchSettings) throws -> [DefenseCost] {
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
                var defense = try kind.make(settings.options(seed: UInt64(seed) ^ 0xACC))
                defense.prepare(for: model)
                let history = Trainer.fit(model: &model, optimizer: &opt, loss: spec.loss, train: tr, test: te,
                                          epochs: epochs, batchSize: batchSize, seed: UInt64(seed),
                                          hook: { defense.apply(to: &$0) })
                accuracies[kind, default: []].append(Double(history.last?.testAccuracy ?? 0))
            }
        }
        let base = accuracies[DefenseKind.none] ?? []
        return DefenseKind.allCases.map { kind in
            let acc = accuracies[kind] ?? []
            let a = Statistics.summarize(acc)
            let c = Statistics.summarize(zip(base, acc).map { $0 - $1 })
            let epsilon = kind == .dp ? settings.dpGuarantee?.epsilon : nil
            return DefenseCost(defense: kind.rawValue, accuracy: a.mean, accuracyCi: a.interval, cost: c.mean,
                               costCi: c.interval, epsilonPerRound: epsilon)
        }
    }
}
