import ArgumentParser
import Attacks
import Defenses
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
    @Option(
        help:
            "Images: 'bundled' (Fashion-MNIST subset), 'system', or an IDX directory. Victims come from the train split, the attacker's auxiliary data from the test split."
    )
    var data: String?
    @Flag(help: "Use Gaussian synthetic data (784 i.i.d. N(0,1) features) instead of images.")
    var synthetic = false
    @Option(help: "Neurons N of the malicious layer.") var neurons: Int = 500
    @Option(help: "Client batch size B.") var batch: Int = 20
    @Option(help: "Number of seeds K (independent layers and batches).") var seeds: Int = 5
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Client defense: none, aggp, dp or prune.") var defense = DefenseKind.none
    @OptionGroup var setting: AttackSettingOptions
    @Option(
        help:
            "Where the attacker sits: fedsgd (malicious aggregator) or split (malicious server after an identity client half)."
    )
    var entry = AttackEntryPoint.fedsgd
    @Option(help: "Directory for PNG grids (originals beside reconstructions) and metrics.json.") var out: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard neurons >= 1 else { throw ValidationError("--neurons must be >= 1") }
        guard batch >= 2 else { throw ValidationError("--batch must be >= 2") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be >= 1") }
        guard !(synthetic && data != nil) else { throw ValidationError("give --data or --synthetic, not both") }
    }

    /// Runs the attack and prints its table (or one JSON value).
    func run(_ kind: AttackKind) throws {
        let summary = try AttackRun(
            kind: kind, data: data, synthetic: synthetic, neurons: neurons, batch: batch, seeds: seeds, seed: seed,
            defense: defense, settings: setting.settings, entry: entry, out: out
        ).run()
        print(json ? jsonLine(summary) : summary.text)
    }
}

/// The attack setting's standardization and defense options, shared by `attack *` and
/// `bench attacks`.
struct AttackSettingOptions: ParsableArguments {
    @Option(
        help:
            "Image standardization: per-channel (the paper's) or per-feature (every pixel N(0,1), which flatters QBI).")
    var standardize = Standardization.perChannel
    @Option(help: "AGGP activation threshold T (the authors' demo: 10; their keep formula with c = 16 suggests 15).")
    var aggpThreshold: Int = 10
    @Option(
        help:
            "Layers AGGP defends: first-dense (the paper's imprint layer) or all (every dense layer, the head included)."
    )
    var aggpLayers: String = "first-dense"
    @Option(help: "Seed the defense's randomness (AGGP's random zeroing, the dp noise); default: system CSPRNG.")
    var defenseSeed: UInt64?

    func validate() throws {
        guard aggpThreshold >= 1 else { throw ValidationError("--aggp-threshold must be >= 1") }
        guard ["first-dense", "all"].contains(aggpLayers) else {
            throw ValidationError("--aggp-layers must be first-dense or all")
        }
    }

    var settings: AttackBenchSettings {
        AttackBenchSettings(
            standardization: standardize,
            defenses: DefenseOptions(
                aggpThreshold: aggpThreshold, aggpLayers: aggpLayers == "all" ? .all : .firstDense),
            defenseSeed: defenseSeed)
    }
}

struct QBIAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbi", abstract: "QBI: N(0,1) weights, bias Phi^-1(1/B) sqrt(n) (Nowak et al. 2024).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try options.run(.qbi) }
}

struct PAIRSAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs", abstract: "PAIRS: QBI with rows redrawn on auxiliary data until each isolates one sample."
    )
    @OptionGroup var options: AttackOptions
    func run() async throws { try options.run(.pairs) }
}

struct RtFAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtf", abstract: "Robbing the Fed: one measurement direction, bias bins (Fowl et al. 2022).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try options.run(.rtf) }
}

struct RandomAttack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random", abstract: "Baseline: the honest Kaiming initialization (passive leakage only).")
    @OptionGroup var options: AttackOptions
    func run() async throws { try options.run(.random) }
}
