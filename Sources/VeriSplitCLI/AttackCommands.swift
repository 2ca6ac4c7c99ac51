import ArgumentParser
import Attacks
import DP
import Defenses
import Foundation
import NeuralNet

/// `verisplit attack qbi|pairs|rtf|random`: gradient-inversion attacks on a malicious first fully
/// connected layer, measured over seeds (mean and 95% t-interval).
struct AttackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Gradient inversion by a malicious server (QBI, PAIRS, Robbing the Fed, or the random baseline).",
        subcommands: [QBIAttack.self, PAIRSAttack.self, RtFAttack.self, RandomAttack.self])
}

struct AttackOptions: ParsableArguments {
    @Option(help: "Images: 'bundled' (Fashion-MNIST subset), 'system', or an IDX directory. Victims come from the train split, the attacker's auxiliary data from the test split.")
    var data: String?
    @Flag(help: "Use Gaussian synthetic data (784 i.i.d. N(0,1) features) instead of images.")
    var synthetic = false
    @Option(help: "Neurons N of the malicious layer.") var neurons: Int = 500
    @Option(help: "Client batch size B.") var batch: Int = 20
    @Option(help: "Number of seeds K (independent layers and batches).") var seeds: Int = 5
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Client defense: none, aggp, dp or prune.") var defense: String = "none"
    @Option(help: "Image standardization: per-channel (the paper's) or per-feature (every pixel N(0,1), which flatters QBI).")
    var standardize: String = "per-channel"
    @Option(help: "AGGP activation threshold T (the authors' demo: 10; their keep formula with c = 16 suggests 15).")
    var aggpThreshold: Int = 10
    @Option(help: "Layers AGGP defends: first-dense (the paper's imprint layer) or all (every dense layer, the head included).")
    var aggpLayers: String = "first-dense"
    @Option(help: "Seed the defense's randomness (AGGP's random zeroing, the dp noise); default: system CSPRNG.")
    var defenseSeed: UInt64?
    @Option(help: "Where the attacker sits: fedsgd (malicious aggregator) or split (malicious server after an identity client half).")
    var entry: String = "fedsgd"
    @Option(help: "Directory for PNG grids (originals beside reconstructions) and metrics.json.") var out: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard neurons >= 1 else { throw ValidationError("--neurons must be >= 1") }
        guard batch >= 2 else { throw ValidationError("--batch must be >= 2") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be >= 1") }
        guard DefenseKind(rawValue: defense) != nil else {
            throw ValidationError("--defense must be one of \(DefenseKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard AttackEntryPoint(rawValue: entry) != nil else { throw ValidationError("--entry must be fedsgd or split") }
        guard !(synthetic && data != nil) else { throw ValidationError("give --data or --synthetic, not both") }
        guard Standardization(rawValue: standardize) != nil else {
            throw ValidationError("--standardize must be per-channel or per-feature")
        }
        guard aggpThreshold >= 1 else { throw ValidationError("--aggp-threshold must be >= 1") }
        guard ["first-dense", "all"].contains(aggpLayers) else { throw ValidationError("--aggp-layers must be first-dense or all") }
    }

    func attackData() throws -> AttackData {
        if synthetic { return .synthetic() }
        let source = DataSource(argument: data ?? "bundled")
        let (train, test) = try MNISTFamily.load(source)
        return try AttackData.images(train: train, test: test, name: source.description,
                                     standardization: Standardization(rawValue: standardize) ?? .perChannel)
    }

    /// The defenses' settings; `seed` seeds their randomness when `--defense-seed` was given.
    func defenseOptions(seed: UInt64) -> DefenseOptions {
        DefenseOptions(aggpThreshold: aggpThreshold, aggpLayers: aggpLayers == "all" ? .all : .firstDense,
                       randomness: defenseSeed.map { .seeded($0 &+ seed) } ?? .system)
    }
}

/// The Gaussian-noise defense's guarantee as every attack output reports it: one round, no
/// amplification (the server sees one fixed batch), both layers of the attacked model clipped.
struct DefenseGuaranteeSummary: Encodable {
    var epsilon: Double
    var delta: Double
    var noiseMultiplier: Double
    var clipNorm: Double
    var layers: Int
    var neighbouring: String
    var amplification: String
    var noise: String
    var label: String

    static func make(_ options: DefenseOptions, delta: Double = 1e-5) -> DefenseGuaranteeSummary? {
        guard let dp = try? GaussianGradientNoise(clipNorm: options.clipNorm, noiseMultiplier: options.noiseMultiplier,
                                                  noise: options.randomness),
              let g = try? dp.perRoundGuarantee(delta: delta, layers: MaliciousModel.parametricLayers) else { return nil }
        return DefenseGuaranteeSummary(epsilon: g.epsilon, delta: g.delta, noiseMultiplier: g.noiseMultiplier,
                                       clipNorm: Double(options.clipNorm), layers: g.layers, neighbouring: g.neighbouring,
                                       amplification: g.amplification, noise: g.noise, label: g.label)
    }
}

/// Metrics of one `attack` run over K seeds, as printed with --json and written to metrics.json.
struct AttackSummary: Encodable {
    var attack: String
    var data: String
    var entry: String
    var defense: String
    /// How the images were standardized (the paper: per-channel).
    var standardization: String
    var aggpThreshold: Int
    var aggpLayers: String
    /// Where the defense's randomness came from: "system" or "seeded".
    var defenseRandomness: String
    /// For the dp defense: its per-round, unamplified guarantee in this setting.
    var dpGuarantee: DefenseGuaranteeSummary?
    var neurons: Int
    var batch: Int
    var seeds: Int
    var active: Double
    var activeCi: [Double]
    var precision: Double
    var precisionCi: [Double]
    /// Exact recoveries from the gradient the server received (after the defense).
    var recall: Double
    var recallCi: [Double]
    /// Samples that are some unit's only activator (the undefended potential).
    var recallStructural: Double
    var recallStructuralCi: [Double]
    var recallTheory: Double
    var psnr: Double
    var psnrCi: [Double]
    var ssim: Double
    var ssimCi: [Double]
    var perSeed: [TrialResult]
    var pairs: [PAIRSReport]?
    var files: [String]
}

enum AttackRunner {
    static func run(_ kind: AttackKind, _ o: AttackOptions) throws {
        let data = try o.attackData()
        let defenseKind = DefenseKind(rawValue: o.defense) ?? .none
        let entry = AttackEntryPoint(rawValue: o.entry) ?? .fedsgd
        var results = [TrialResult]()
        var reports = [PAIRSReport]()
        var files = [String]()
        if let out = o.out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        }
        for k in 0..<o.seeds {
            let seed = o.seed &+ UInt64(k)
            let round = try AttackTrial.prepare(kind: kind, neurons: o.neurons, batch: o.batch, data: data, seed: seed, entry: entry)
            var defense = try defenseKind.make(o.defenseOptions(seed: seed))
            let trial = try AttackTrial.evaluate(round, display: data.display) { defense.apply(to: &$0) }
            results.append(trial.result)
            if let r = round.layer.pairsReport { reports.append(r) }
            if let out = o.out {
                let png = try ReconstructionGrid.png(originals: round.originals, inversion: trial.inversion,
                                                     quality: trial.quality, display: data.display)
                let path = (out as NSString).appendingPathComponent("\(kind.rawValue)-seed\(seed).png")
                try write(png, to: path)
                files.append(path)
            }
        }
        let s = { (f: (TrialResult) -> Double) in Statistics.summarize(results.map(f)) }
        let (a, p, r, rs, ps, ss) = (s(\.active), s(\.precision), s(\.recall), s(\.structuralRecall), s(\.psnr), s(\.ssim))
        var summary = AttackSummary(
            attack: kind.rawValue, data: data.name, entry: entry.rawValue, defense: defenseKind.rawValue,
            standardization: data.standardizationName, aggpThreshold: o.aggpThreshold, aggpLayers: o.aggpLayers,
            defenseRandomness: o.defenseSeed == nil ? "system" : "seeded",
            dpGuarantee: defenseKind == .dp ? DefenseGuaranteeSummary.make(o.defenseOptions(seed: o.seed)) : nil,
            neurons: o.neurons, batch: o.batch, seeds: o.seeds, active: a.mean, activeCi: a.interval,
            precision: p.mean, precisionCi: p.interval, recall: r.mean, recallCi: r.interval,
            recallStructural: rs.mean, recallStructuralCi: rs.interval,
            recallTheory: RecallTheory.recall(for: kind, neurons: o.neurons, batch: o.batch),
            psnr: ps.mean, psnrCi: ps.interval, ssim: ss.mean, ssimCi: ss.interval, perSeed: results,
            pairs: reports.isEmpty ? nil : reports, files: files)
        if let out = o.out {
            let path = (out as NSString).appendingPathComponent("metrics.json")
            summary.files.append(path)
            try write(Data(jsonLine(summary).utf8), to: path)
        }
        if o.json {
            print(jsonLine(summary))
            return
        }
        func row(_ name: String, _ v: SampleSummary, _ digits: Int = 3) -> String {
            "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: " %.\(digits)f  [%.\(digits)f, %.\(digits)f]", v.mean, v.lower, v.upper)
        }
        var defenseText = defenseKind.rawValue
        if defenseKind == .aggp { defenseText += " (T = \(o.aggpThreshold), layers \(o.aggpLayers))" }
        if defenseKind != .none { defenseText += ", randomness \(summary.defenseRandomness)" }
        print("\(kind.rawValue) on \(data.name) (standardization \(data.standardizationName)), N = \(o.neurons), B = \(o.batch), "
              + "\(o.seeds) seeds, entry \(entry.rawValue), defense \(defenseText)")
        if let g = summary.dpGuarantee {
            print(String(format: "  dp defense: epsilon %.3g at delta %g, %@", g.epsilon, g.delta, g.label))
        }
        print("  metric             mean   95% interval")
        print(row("active (A)", a))
        print(row("precision (P)", p))
        print(row("recall (exact)", r))
        print(row("recall (isolated)", rs))
        print("  " + "recall (theory)".padding(toLength: 18, withPad: " ", startingAt: 0)
              + String(format: " %.3f", summary.recallTheory))
        print(row("PSNR (dB)", ps, 2))
        print(row("SSIM", ss))
        for f in summary.files { print("  wrote \(f)") }
    }

    static func write(_ data: Data, to path: String) throws(AttackError) {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, reason: error.localizedDescription)
        }
    }
}

struct QBIAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbi", abstract: "QBI: N(0,1) weights, bias Phi^-1(1/B) sqrt(n) (Nowak et al. 2024).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try AttackRunner.run(.qbi, options) }
}

struct PAIRSAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs", abstract: "PAIRS: QBI with rows redrawn on auxiliary data until each isolates one sample.")
    @OptionGroup var options: AttackOptions
    func run() async throws { try AttackRunner.run(.pairs, options) }
}

struct RtFAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtf", abstract: "Robbing the Fed: one measurement direction, bias bins (Fowl et al. 2022).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try AttackRunner.run(.rtf, options) }
}

struct RandomAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random", abstract: "Baseline: the honest Kaiming initialization (passive leakage only).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try AttackRunner.run(.random, options) }
}
