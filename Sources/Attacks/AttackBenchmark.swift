import DP
import Defenses
import Foundation
import NeuralNet

/// `verisplit bench attacks`: every attack against every defense on the grid
/// N in {200, 500, 1000} x B in {20, 50, 100, 200} (the quick grid: N in {200, 500}, B in {20, 100}),
/// on the bundled images and on Gaussian synthetic data (K seeds each, mean and 95% t-interval),
/// plus each defense's accuracy cost on the bundled MLP; writes an HTML report with SVG plots and
/// optionally a Markdown summary.
public enum AttackBenchmark {
    public struct Configuration: Sendable {
        public var seeds: Int
        public var quick: Bool
        public var epochs: Int
        public var settings: AttackBenchSettings
        public var report: String
        public var markdown: String?

        /// Defaults: 10 seeds and 2 epochs, 3 and 1 with `quick`.
        public init(
            quick: Bool, seeds: Int? = nil, epochs: Int? = nil, settings: AttackBenchSettings,
            report: String, markdown: String? = nil
        ) {
            self.quick = quick
            self.seeds = seeds ?? (quick ? 3 : 10)
            self.epochs = epochs ?? (quick ? 1 : 2)
            self.settings = settings
            self.report = report
            self.markdown = markdown
        }

        public var neurons: [Int] { quick ? [200, 500] : [200, 500, 1000] }
        public var batches: [Int] { quick ? [20, 100] : [20, 50, 100, 200] }
    }

    /// Runs the grid and the accuracy costs on `train`/`test` (the bundled images), writes the
    /// report files, and returns the cells and costs.
    public static func run(_ c: Configuration, train: Dataset, test: Dataset) throws -> AttackBenchmarkResult {
        let settings = c.settings
        let datasets = [
            try AttackData.images(train: train, test: test, name: "images", standardization: settings.standardization),
            AttackData.synthetic(),
        ]
        let clock = ContinuousClock()
        let start = clock.now
        var cells = [GridCell]()
        for data in datasets {
            for n in c.neurons {
                for b in c.batches {
                    for kind in AttackKind.allCases {
                        cells += try AttackGrid.cell(
                            kind: kind, neurons: n, batch: b, data: data, seeds: c.seeds,
                            settings: settings)
                    }
                }
            }
        }
        let gridSeconds = (clock.now - start).inSeconds
        let trainStart = clock.now
        let costs = try AccuracyCost.measure(
            train: train, test: test, epochs: c.epochs, seeds: c.quick ? 1 : 3,
            settings: settings)
        let trainSeconds = (clock.now - trainStart).inSeconds
        let html = AttackReport.html(
            cells: cells, costs: costs, neurons: c.neurons, batches: c.batches, seeds: c.seeds,
            gridSeconds: gridSeconds, settings: settings)
        try AttackRun.write(Data(html.utf8), to: c.report)
        if let markdown = c.markdown {
            let md = AttackReport.markdown(
                cells: cells, costs: costs, neurons: c.neurons, batches: c.batches,
                seeds: c.seeds, gridSeconds: gridSeconds, trainSeconds: trainSeconds,
                settings: settings)
            try AttackRun.write(Data(md.utf8), to: markdown)
        }
        return AttackBenchmarkResult(
            seeds: c.seeds, gridSeconds: gridSeconds, trainingSeconds: trainSeconds, threads: GEMM.defaultThreads,
            standardization: settings.standardization.rawValue, aggpThreshold: settings.defenses.aggpThreshold,
            aggpLayers: settings.defenses.aggpLayers.description,
            defenseRandomness: settings.defenseSeed == nil ? "system" : "seeded", dpGuarantee: settings.dpGuarantee,
            grid: cells, accuracy: costs, report: c.report, neurons: c.neurons, batches: c.batches,
            settingsDescription: settings.description)
    }
}

extension AttackBenchmarkResult {
    /// The recall tables, the accuracy-cost table and a timing line.
    public var text: String {
        AttackReport.table(cells: grid, neurons: neurons, batches: batches) + "\n"
            + AttackReport.costTable(accuracy, settingsDescription: settingsDescription) + "\n"
            + String(
                format: "grid: %d cells x %d seeds in %.1f s; accuracy cost training %.1f s; report %@",
                grid.count, seeds, gridSeconds, trainingSeconds, report)
    }
}

/// The settings of one attack-benchmark run, named in every output.
public struct AttackBenchSettings: Sendable {
    public var standardization: Standardization
    public var defenses: DefenseOptions
    /// Seeds the defenses' randomness per cell; nil: the system CSPRNG.
    public var defenseSeed: UInt64?

    public init(standardization: Standardization, defenses: DefenseOptions, defenseSeed: UInt64?) {
        self.standardization = standardization
        self.defenses = defenses
        self.defenseSeed = defenseSeed
    }

    /// The defense options of one seed of one cell.
    public func options(seed: UInt64) -> DefenseOptions {
        var o = defenses
        o.randomness = defenseSeed.map { .seeded($0 &+ seed) } ?? .system
        return o
    }

    public var dpGuarantee: DefenseGuaranteeSummary? { DefenseGuaranteeSummary.make(options(seed: 0)) }

    /// One line naming the settings.
    public var description: String {
        "images standardized \(standardization.rawValue); AGGP T = \(defenses.aggpThreshold) on "
            + (defenses.aggpLayers == .all ? "every dense layer" : "the first dense layer")
            + "; defense randomness \(defenseSeed == nil ? "system CSPRNG" : "seeded")"
    }
}

/// The benchmark's result, the `--json` value.
public struct AttackBenchmarkResult: Encodable, Sendable {
    public var seeds: Int
    public var gridSeconds: Double
    public var trainingSeconds: Double
    public var threads: Int
    public var standardization: String
    public var aggpThreshold: Int
    public var aggpLayers: String
    public var defenseRandomness: String
    /// The dp defense's per-round, unamplified guarantee in the attack setting.
    public var dpGuarantee: DefenseGuaranteeSummary?
    public var grid: [GridCell]
    public var accuracy: [DefenseCost]
    public var report: String
    /// Grid axes and the settings line, for the text rendering (not in the JSON).
    var neurons: [Int] = []
    var batches: [Int] = []
    var settingsDescription = ""

    enum CodingKeys: String, CodingKey {
        case seeds, gridSeconds, trainingSeconds, threads, standardization, aggpThreshold, aggpLayers
        case defenseRandomness, dpGuarantee, grid, accuracy, report
    }
}

/// One (data, attack, defense, N, B) cell over K seeds.
public struct GridCell: Encodable, Sendable {
    public var data: String
    public var standardization: String
    public var attack: String
    public var defense: String
    public var neurons: Int
    public var batch: Int
    public var recall: Double
    public var recallCi: [Double]
    public var recallStructural: Double
    public var recallTheory: Double
    public var active: Double
    public var precision: Double
    public var psnr: Double
    public var psnrCi: [Double]
    public var ssim: Double
}

/// Thread-safe slots for results computed in parallel (one slot per seed, written once).
final class Slots<T: Sendable>: @unchecked Sendable {
    private var values: [T?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) {
        lock.lock()
        values[i] = v
        lock.unlock()
    }
    var all: [T?] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

enum AttackGrid {
    /// Runs K seeds of one attack setting (seeds in parallel over the cores), each seed's client
    /// step once, and every defense on a copy of that step's gradient.
    static func cell(
        kind: AttackKind, neurons: Int, batch: Int, data: AttackData, seeds: Int,
        settings: AttackBenchSettings
    ) throws -> [GridCell] {
        let defenses = DefenseKind.allCases
        let slots = Slots<Result<[TrialResult], any Error>>(count: seeds)
        Parallel.forEachChunk(seeds, chunks: GEMM.defaultThreads) { _, range in
            for k in range {
                let seed = UInt64(k + 1)
                do {
                    let round = try AttackTrial.prepare(
                        kind: kind, neurons: neurons, batch: batch, data: data, seed: seed)
                    var out = [TrialResult]()
                    for d in defenses {
                        var defense = try d.make(settings.options(seed: seed))
                        out.append(
                            try AttackTrial.evaluate(round, display: data.display) { defense.apply(to: &$0) }.result)
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
            case nil:
                throw AttackError.invalidParameter(
                    name: "seeds", value: "\(seeds)",
                    requirement: "a seed of \(kind) N=\(neurons) B=\(batch) produced no result")
            }
        }
        return defenses.enumerated().map { i, d in
            let r = perSeed.map { $0[i] }
            let recall = Statistics.summarize(r.map(\.recall)), psnr = Statistics.summarize(r.map(\.psnr))
            func mean(_ f: (TrialResult) -> Double) -> Double { r.map(f).reduce(0, +) / Double(max(r.count, 1)) }
            return GridCell(
                data: data.name, standardization: data.standardizationName, attack: kind.rawValue, defense: d.rawValue,
                neurons: neurons, batch: batch,
                recall: recall.mean, recallCi: recall.interval, recallStructural: mean(\.structuralRecall),
                recallTheory: RecallTheory.recall(for: kind, neurons: neurons, batch: batch),
                active: mean(\.active), precision: mean(\.precision), psnr: psnr.mean, psnrCi: psnr.interval,
                ssim: mean(\.ssim))
        }
    }
}

/// Test accuracy of the bundled MLP trained briefly with each defense in the gradient hook.
public struct DefenseCost: Encodable, Sendable {
    public var defense: String
    public var accuracy: Double
    public var accuracyCi: [Double]
    /// Accuracy without defense minus with it (paired by seed), in accuracy units.
    public var cost: Double
    public var costCi: [Double]
    /// For dp: the per-round, unamplified epsilon at delta = 1e-5 (replace-one, both layers
    /// clipped): what one defended step guarantees against a server that sees its update.
    public var epsilonPerRound: Double?
}

enum AccuracyCost {
    static func measure(
        train: Dataset, test: Dataset, epochs: Int, seeds: Int,
        settings: AttackBenchSettings
    ) throws -> [DefenseCost] {
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
                let history = Trainer.fit(
                    model: &model, optimizer: &opt, loss: spec.loss, train: tr, test: te,
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
            return DefenseCost(
                defense: kind.rawValue, accuracy: a.mean, accuracyCi: a.interval, cost: c.mean,
                costCi: c.interval, epsilonPerRound: epsilon)
        }
    }
}
