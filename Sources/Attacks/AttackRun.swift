import DP
import Defenses
import Foundation
import NeuralNet

/// The Gaussian-noise defense's guarantee as every attack output reports it: one round, no
/// amplification (the server sees one fixed batch), both layers of the attacked model clipped.
public struct DefenseGuaranteeSummary: Encodable, Sendable {
    public var epsilon: Double
    public var delta: Double
    public var noiseMultiplier: Double
    public var clipNorm: Double
    public var layers: Int
    public var neighbouring: String
    public var amplification: String
    public var noise: String
    public var label: String

    public static func make(_ options: DefenseOptions, delta: Double = 1e-5) -> DefenseGuaranteeSummary? {
        guard
            let dp = try? GaussianGradientNoise(
                clipNorm: options.clipNorm, noiseMultiplier: options.noiseMultiplier,
                noise: options.randomness),
            let g = try? dp.perRoundGuarantee(delta: delta, layers: MaliciousModel.parametricLayers)
        else { return nil }
        return DefenseGuaranteeSummary(
            epsilon: g.epsilon, delta: g.delta, noiseMultiplier: g.noiseMultiplier,
            clipNorm: Double(options.clipNorm), layers: g.layers, neighbouring: g.neighbouring,
            amplification: g.amplification, noise: g.noise, label: g.label)
    }
}

/// Metrics of one `attack` run over K seeds, as printed with --json and written to metrics.json.
public struct AttackSummary: Encodable, Sendable {
    public var attack: String
    public var data: String
    public var entry: String
    public var defense: String
    /// How the images were standardized (the paper: per-channel).
    public var standardization: String
    public var aggpThreshold: Int
    public var aggpLayers: String
    /// Where the defense's randomness came from: "system" or "seeded".
    public var defenseRandomness: String
    /// For the dp defense: its per-round, unamplified guarantee in this setting.
    public var dpGuarantee: DefenseGuaranteeSummary?
    public var neurons: Int
    public var batch: Int
    public var seeds: Int
    public var active: Double
    public var activeCi: [Double]
    public var precision: Double
    public var precisionCi: [Double]
    /// Exact recoveries from the gradient the server received (after the defense).
    public var recall: Double
    public var recallCi: [Double]
    /// Samples that are some unit's only activator (the undefended potential).
    public var recallStructural: Double
    public var recallStructuralCi: [Double]
    public var recallTheory: Double
    public var psnr: Double
    public var psnrCi: [Double]
    public var ssim: Double
    public var ssimCi: [Double]
    public var perSeed: [TrialResult]
    public var pairs: [PAIRSReport]?
    public var files: [String]
}

/// One `verisplit attack` run: the setting, then `run` over K seeds.
public struct AttackRun: Sendable {
    public var kind: AttackKind
    /// nil with `synthetic`; else a `DataSource` argument ("bundled", "system", a directory).
    public var data: String?
    public var synthetic: Bool
    public var neurons: Int
    public var batch: Int
    public var seeds: Int
    public var seed: UInt64
    public var defense: DefenseKind
    /// Standardization, AGGP's threshold and layers, and the defense seed.
    public var settings: AttackBenchSettings
    public var entry: AttackEntryPoint
    /// Directory for PNG grids and metrics.json.
    public var out: String?

    public init(
        kind: AttackKind, data: String?, synthetic: Bool, neurons: Int, batch: Int, seeds: Int, seed: UInt64,
        defense: DefenseKind, settings: AttackBenchSettings, entry: AttackEntryPoint, out: String?
    ) {
        self.kind = kind
        self.data = data
        self.synthetic = synthetic
        self.neurons = neurons
        self.batch = batch
        self.seeds = seeds
        self.seed = seed
        self.defense = defense
        self.settings = settings
        self.entry = entry
        self.out = out
    }

    func attackData() throws -> AttackData {
        if synthetic { return .synthetic() }
        let source = DataSource(argument: data ?? "bundled")
        let (train, test) = try MNISTFamily.load(source)
        return try AttackData.images(
            train: train, test: test, name: source.description,
            standardization: settings.standardization)
    }

    /// Runs the K seeds (each a fresh malicious layer and client batch, the defense applied to the
    /// gradient), writes the PNG grids and metrics.json when `out` is set, and summarizes.
    public func run() throws -> AttackSummary {
        let o = self
        let data = try attackData()
        let defenseKind = defense
        var results = [TrialResult]()
        var reports = [PAIRSReport]()
        var files = [String]()
        if let out = o.out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        }
        for k in 0..<o.seeds {
            let seed = o.seed &+ UInt64(k)
            let round = try AttackTrial.prepare(
                kind: kind, neurons: o.neurons, batch: o.batch, data: data, seed: seed, entry: entry)
            var defense = try defenseKind.make(settings.options(seed: seed))
            let trial = try AttackTrial.evaluate(round, display: data.display) { defense.apply(to: &$0) }
            results.append(trial.result)
            if let r = round.layer.pairsReport { reports.append(r) }
            if let out = o.out {
                let png = try ReconstructionGrid.png(
                    originals: round.originals, inversion: trial.inversion,
                    quality: trial.quality, display: data.display)
                let path = (out as NSString).appendingPathComponent("\(kind.rawValue)-seed\(seed).png")
                try Self.write(png, to: path)
                files.append(path)
            }
        }
        let s = { (f: (TrialResult) -> Double) in Statistics.summarize(results.map(f)) }
        let (a, p, r, rs, ps, ss) = (
            s(\.active), s(\.precision), s(\.recall), s(\.structuralRecall), s(\.psnr), s(\.ssim)
        )
        var summary = AttackSummary(
            attack: kind.rawValue, data: data.name, entry: entry.rawValue, defense: defenseKind.rawValue,
            standardization: data.standardizationName, aggpThreshold: settings.defenses.aggpThreshold,
            aggpLayers: settings.defenses.aggpLayers == .all ? "all" : "first-dense",
            defenseRandomness: settings.defenseSeed == nil ? "system" : "seeded",
            dpGuarantee: defenseKind == .dp ? DefenseGuaranteeSummary.make(settings.options(seed: o.seed)) : nil,
            neurons: o.neurons, batch: o.batch, seeds: o.seeds, active: a.mean, activeCi: a.interval,
            precision: p.mean, precisionCi: p.interval, recall: r.mean, recallCi: r.interval,
            recallStructural: rs.mean, recallStructuralCi: rs.interval,
            recallTheory: RecallTheory.recall(for: kind, neurons: o.neurons, batch: o.batch),
            psnr: ps.mean, psnrCi: ps.interval, ssim: ss.mean, ssimCi: ss.interval, perSeed: results,
            pairs: reports.isEmpty ? nil : reports, files: files)
        if let out = o.out {
            let path = (out as NSString).appendingPathComponent("metrics.json")
            summary.files.append(path)
            try Self.write(Data(jsonLine(summary).utf8), to: path)
        }
        return summary
    }

    static func write(_ data: Data, to path: String) throws(AttackError) {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, reason: error.localizedDescription)
        }
    }
}

extension AttackSummary {
    /// The human-readable table of one run: setting, then each metric's mean and 95% interval.
    public var text: String {
        func row(_ name: String, _ mean: Double, _ ci: [Double], _ digits: Int = 3) -> String {
            "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: " %.\(digits)f  [%.\(digits)f, %.\(digits)f]", mean, ci[0], ci[1])
        }
        var defenseText = defense
        if defense == DefenseKind.aggp.rawValue { defenseText += " (T = \(aggpThreshold), layers \(aggpLayers))" }
        if defense != DefenseKind.none.rawValue { defenseText += ", randomness \(defenseRandomness)" }
        var lines = [
            "\(attack) on \(data) (standardization \(standardization)), N = \(neurons), B = \(batch), "
                + "\(seeds) seeds, entry \(entry), defense \(defenseText)"
        ]
        if let g = dpGuarantee {
            lines.append(String(format: "  dp defense: epsilon %.3g at delta %g, %@", g.epsilon, g.delta, g.label))
        }
        lines.append("  metric             mean   95% interval")
        lines.append(row("active (A)", active, activeCi))
        lines.append(row("precision (P)", precision, precisionCi))
        lines.append(row("recall (exact)", recall, recallCi))
        lines.append(row("recall (isolated)", recallStructural, recallStructuralCi))
        lines.append(
            "  " + "recall (theory)".padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: " %.3f", recallTheory))
        lines.append(row("PSNR (dB)", psnr, psnrCi, 2))
        lines.append(row("SSIM", ssim, ssimCi))
        lines += files.map { "  wrote \($0)" }
        return lines.joined(separator: "\n")
    }
}
