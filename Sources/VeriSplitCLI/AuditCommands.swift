import ArgumentParser
import Audit
import Foundation
import NeuralNet
import Report

/// `verisplit audit ...`: privacy audits of trained models.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Privacy audits: membership inference (loss, LiRA, RMIA) and canary audits with empirical epsilon.",
        subcommands: [AuditMIA.self, AuditCanaries.self])
}

/// Prints `error: <message>` on standard error and exits with status 2 (bad input).
func exitBadInput(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    Foundation.exit(2)
}

/// Versions recorded in every audit report.
func auditVersions() -> [(String, String)] {
    var v: [(String, String)] = [("verisplit", VeriSplit.configuration.version), ("report_format", "verisplit-audit-1")]
    #if compiler(>=6.2)
    v.append(("swift_compiler", ">= 6.2"))
    #else
    v.append(("swift_compiler", "< 6.2"))
    #endif
    v.append(("os", ProcessInfo.processInfo.operatingSystemVersionString))
    return v
}

/// The command line as one string, for reports.
func commandLine() -> String {
    CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
}

/// Loads one split of labelled data for an audit.
///
/// `bundled`, `system` and `auto` name Fashion-MNIST sources (the train split for members, the
/// test split for non-members); a `.csv` file is read with the label in the last column; a
/// directory of MNIST-style IDX files gives its `train-*` files for members and `t10k-*` for
/// non-members (falling back to the other split if only one exists).
func loadAuditData(_ argument: String, members: Bool) throws(AuditError) -> Dataset {
    let role = members ? "--train" : "--test"
    do {
        switch argument {
        case "bundled", "system", "auto", "fashion-mnist":
            let (train, test) = try MNISTFamily.load(DataSource(argument: argument))
            return members ? train : test
        default:
            break
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
            throw AuditError.unreadable(path: argument, what: "\(role) data", reason: "no such file or directory (use a CSV file, an IDX directory, or bundled/system)")
        }
        let url = URL(fileURLWithPath: argument)
        if isDirectory.boolValue {
            let prefixes = members ? ["train", "t10k"] : ["t10k", "train"]
            do {
                return try MNISTFamily.split(directory: url, prefix: prefixes[0])
            } catch DatasetError.missingFile {
                return try MNISTFamily.split(directory: url, prefix: prefixes[1])
            }
        }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw AuditError.unreadable(path: argument, what: "\(role) data", reason: error.localizedDescription)
        }
        return try Dataset.csv(text)
    } catch let e as AuditError {
        throw e
    } catch {
        throw .unreadable(path: argument, what: "\(role) data", reason: "\(error)")
    }
}

/// A trained model file with its spec and preprocessing.
struct LoadedModel {
    var spec: ModelSpec
    var model: Sequential
    var metadata: [String: String]
}

/// Loads weights (safetensors); the spec comes from `--spec` or the file's `model_spec` metadata.
func loadAuditModel(path: String, specArgument: String?) throws(AuditError) -> LoadedModel {
    guard FileManager.default.fileExists(atPath: path) else {
        throw .unreadable(path: path, what: "model weights (--model)", reason: "no such file; train one with `verisplit train --out model.safetensors`")
    }
    let file: SafeTensorsFile
    do { file = try SafeTensors.read(URL(fileURLWithPath: path)) } catch {
        throw .unreadable(path: path, what: "model weights (--model)", reason: "\(error)")
    }
    let spec: ModelSpec
    do {
        if let specArgument {
            spec = try ModelSpec.resolve(specArgument)
        } else if let json = file.metadata["model_spec"] {
            spec = try ModelSpec.parse(Data(json.utf8))
        } else {
            throw AuditError.mismatch(what: "model \(path)", detail: "the file carries no model_spec metadata", hint: "pass --spec SPEC.json or a bundled name")
        }
    } catch let e as AuditError {
        throw e
    } catch {
        throw .unreadable(path: specArgument ?? path, what: "model spec", reason: "\(error)")
    }
    var model = spec.makeModel()
    do { try model.loadParameters(file.byName) } catch {
        throw .mismatch(what: "model \(path)", detail: "\(error)", hint: "pass the spec the weights were trained with (--spec)")
    }
    return LoadedModel(spec: spec, model: model, metadata: file.metadata)
}

extension AuditCommand {
    /// `verisplit audit mia`: membership-inference audit of a trained model.
    struct AuditMIA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mia",
            abstract: "Membership-inference audit of a trained model: ROC, AUC, TPR at low FPR, empirical epsilon; writes report.json and report.html.",
            discussion: """
            Attacks: loss and confidence thresholds (Yeom et al. 2018); lira and lira-offline \
            (Carlini et al. 2022) and rmia and rmia-offline (Zarifzadeh et al. 2024), which train \
            shadow/reference models with the target's recipe on random halves of the audited \
            examples and cache them on disk (a second audit reuses them). Exit status 0 when the \
            audit ran, 2 for bad input (missing files, shape mismatch, invalid options).
            """)

        @Option(help: "Trained weights (safetensors, e.g. from `verisplit train --out`).") var model: String?
        @Option(help: "Model spec (file or bundled name); default: the spec stored in the weights' metadata.") var spec: String?
        @Option(help: "Members: data the model was trained on (bundled, system, an IDX directory, or a CSV file with the label last).") var train: String?
        @Option(help: "Non-members: data from the same distribution not used in training (same forms as --train).") var test: String?
        @Option(help: "Attack: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")).") var attack: String = "lira"
        @Option(help: "Output directory for report.json and report.html.") var out: String = "report"
        @Option(help: "Shadow/reference models to train (lira, rmia).") var shadowModels: Int?
        @Option(help: "Members and non-members audited, each (subsampled, seeded).") var examples: Int?
        @Option(help: "Seed for subsampling and shadow training.") var seed: UInt64 = 1
        @Option(help: "Delta for the epsilon lower bounds.") var delta: Double = 1e-5
        @Option(help: "Confidence of the bounds.") var confidence: Double = 0.95
        @Option(help: "Shadow training epochs (default: the model's trained_epochs metadata, else 5).") var epochs: Int?
        @Option(help: "Shadow training batch size.") var batchSize: Int = 64
        @Option(help: "Shadow training optimizer: adam or sgd.") var optimizer: String = "adam"
        @Option(help: "Shadow training learning rate (default 0.001 adam, 0.05 sgd).") var lr: Float?
        @Option(help: "Shadow model cache directory (default ~/.cache/verisplit/shadow-models).") var cacheDir: String?
        @Flag(help: "Do not read or write the shadow model cache.") var noCache = false
        @Flag(help: "Print the report JSON headline (auc, tpr_at_fpr, epsilon_lower_bound, threshold_selection, epsilon_lb_posthoc) as one JSON line after the table.") var json = false

        func run() async throws {
            do {
                try execute()
            } catch {
                exitBadInput(error.description)
            }
        }

        private func execute() throws(AuditError) {
            guard let model else { exitBadInput("missing --model (trained weights, safetensors)") }
            guard let train else { exitBadInput("missing --train (the data the model was trained on)") }
            guard let test else { exitBadInput("missing --test (data the model was not trained on)") }
            guard let kind = AttackKind(rawValue: attack) else {
                exitBadInput("invalid --attack = \(attack): use \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let opt = PlainTrainer.OptimizerKind(rawValue: optimizer) else { exitBadInput("invalid --optimizer = \(optimizer): use adam or sgd") }
            let loaded = try loadAuditModel(path: model, specArgument: spec)
            var members = try loadAuditData(train, members: true)
            var nonMembers = try loadAuditData(test, members: false)
            try MembershipAudit.check(spec: loaded.spec, data: members, role: "members (--train \(train))")
            try MembershipAudit.check(spec: loaded.spec, data: nonMembers, role: "non-members (--test \(test))")
            let standardizer = Standardizer(metadata: loaded.metadata) ?? Standardizer.fit(members)
            members.standardize(with: standardizer)
            nonMembers.standardize(with: standardizer)
            let defaultEpochs = loaded.metadata["trained_epochs"].flatMap { Int($0) } ?? 5
            let trainer = try PlainTrainer(epochs: epochs ?? defaultEpochs, batchSize: batchSize, optimizer: opt, learningRate: lr)
            let cache: URL? = noCache ? nil : (cacheDir.map { URL(fileURLWithPath: $0) } ?? ShadowCache.defaultDirectory)
            let config = MIAConfiguration(attack: kind, shadowModels: shadowModels ?? 16, seed: seed, examplesPerSide: examples ?? 1000,
                                          delta: delta, confidence: confidence, cacheDirectory: cache)
            let result = try MembershipAudit.run(spec: loaded.spec, target: loaded.model, members: members, nonMembers: nonMembers,
                                                 trainer: trainer, configuration: config)
            let report = MIAReport(result: result, context: ReportContext(
                versions: auditVersions(),
                inputs: [("model", model), ("spec", loaded.spec.name), ("train (members)", train), ("test (non-members)", test)],
                command: commandLine()))
            let files = try report.write(to: URL(fileURLWithPath: out))
            print(report.table())
            print("report: \(files.json.path), \(files.html.path)")
            if json {
                let j = report.json()
                print(JSONValue.object([JSONMember("auc", j["auc"] ?? .null), JSONMember("tpr_at_fpr", j["tpr_at_fpr"] ?? .null),
                                        JSONMember("epsilon_lower_bound", j["epsilon_lower_bound"] ?? .null),
                                        JSONMember("threshold_selection", j["threshold_selection"] ?? .null),
                                        JSONMember("epsilon_lb_posthoc", j["epsilon_lb_posthoc"] ?? .null)]).serialized(indent: nil))
            }
        }
    }
}

extension AuditCommand {
    /// `verisplit audit canaries`: one-run canary audit of plain, DP-SGD and DP-Weights training.
    struct AuditCanaries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "canaries",
            abstract: "Insert canaries, train (plain, DP-SGD, DP-Weights) and report empirical epsilon next to the claimed epsilon.",
            discussion: """
            Each of --canaries mislabelled training images is inserted with probability 1/2; one \
            model per method and epsilon is trained once, a loss attack guesses which canaries \
            were inserted, and the one-run bound of Steinke, Nasr & Jagielski (2023) gives an \
            epsilon lower bound at 95% confidence. A claim below the measured bound is flagged \
            CONTRADICTED. Writes report.json and report.html to --out. Exit status 0 when the \
            audit ran, 2 for bad input.
            """)

        @Option(help: "Model spec (file or bundled name).") var model: String = "mlp-784-128-10"
        @Option(help: "Data: bundled, system, auto or an IDX directory (canaries and base from its train split, accuracy on its test split).") var data: String = "bundled"
        @Option(help: "Methods, comma-separated: plain, dpsgd, dpweights.") var methods: String = "plain,dpsgd,dpweights"
        @Option(help: "Claimed epsilons for dpsgd and dpweights, comma-separated.") var epsilons = PositiveNumbers([1, 3, 8])
        @Option(help: "Number of canaries (each inserted with probability 1/2).") var canaries: Int = 1000
        @Option(help: "Base training examples besides the canaries (default: the rest of the train split).") var trainSize: Int?
        @Option(help: "Training epochs.") var epochs: Int = 10
        @Option(help: "Batch size (expected batch size for DP-SGD).") var batchSize: Int = 64
        @Option(help: "Delta for DP-SGD (DP-Weights forces 1/n^2).") var delta: Double = 1e-5
        @Option(help: "DP-SGD clipping norm.") var clip: Double = 1.0
        @Option(help: "Seed (canary choice, coins, training, seeded noise).") var seed: UInt64 = 1
        @Option(help: "Output directory for report.json and report.html.") var out: String = "report-canaries"
        @Flag(help: "Keep the canaries' true labels (weaker audit).") var keepLabels = false

        func run() async throws {
            do {
                try execute()
            } catch {
                exitBadInput(error.description)
            }
        }

        private func execute() throws(AuditError) {
            let names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for n in names where !["plain", "dpsgd", "dpweights"].contains(n) {
                exitBadInput("invalid --methods entry '\(n)': use plain, dpsgd, dpweights")
            }
            let eps = epsilons.values
            let spec: ModelSpec
            do { spec = try ModelSpec.resolve(model) } catch { throw .unreadable(path: model, what: "model spec", reason: error.description) }
            let (train, test): (Dataset, Dataset)
            do { (train, test) = try MNISTFamily.load(DataSource(argument: data)) } catch {
                throw .unreadable(path: data, what: "data", reason: error.description)
            }
            let config = CanaryConfiguration(canaries: canaries, mislabel: !keepLabels, seed: seed)
            guard config.canaries >= 2, config.canaries < train.count else {
                exitBadInput("invalid --canaries = \(config.canaries): need 2 <= canaries < \(train.count) (the train split)")
            }
            var order = Array(0..<train.count)
            var rng = SeededGenerator(seed: config.seed)
            rng.shuffle(&order)
            let rest = Array(order.dropFirst(config.canaries))
            let baseCount = trainSize ?? rest.count
            guard baseCount >= 1, baseCount <= rest.count else { exitBadInput("invalid --train-size = \(baseCount): need 1...\(rest.count)") }
            var base = train.subset(Array(rest.prefix(baseCount)))
            var (canarySet, included) = try CanaryAudit.makeCanaries(from: train.subset(Array(order.prefix(config.canaries))), configuration: config)
            var testSet = test
            let standardizer = Standardizer.fit(base)
            base.standardize(with: standardizer)
            canarySet.standardize(with: standardizer)
            testSet.standardize(with: standardizer)
            let e = epochs, b = batchSize
            let plain = try PlainTrainer(epochs: e, batchSize: b)
            var trainers = [any ModelTrainer]()
            if names.contains("plain") { trainers.append(plain) }
            if names.contains("dpsgd") {
                for x in eps {
                    trainers.append(try DPSGDModelTrainer(targetEpsilon: x, delta: delta, epochs: e, batchSize: b, clippingNorm: clip))
                }
            }
            if names.contains("dpweights") {
                for x in eps { trainers.append(try DPWeightsModelTrainer(epsilon: x, base: plain)) }
            }
            var bar = ProgressBar(label: "canary audit", total: trainers.count)
            var results = [CanaryAuditResult]()
            for (i, t) in trainers.enumerated() {
                bar.update(i, detail: "training \(t.name)")
                results.append(try CanaryAudit.run(spec: spec, base: base, canaries: canarySet, included: included, test: testSet,
                                                   trainer: t, configuration: config))
            }
            bar.finish()
            let report = CanaryReport(results: results, configuration: config, context: ReportContext(
                versions: auditVersions(), inputs: [("model", spec.name), ("data", DataSource(argument: data).description),
                                                    ("base training examples", "\(base.count)")],
                command: commandLine()))
            let files = try report.write(to: URL(fileURLWithPath: out))
            print(report.table())
            print("report: \(files.json.path), \(files.html.path)")
        }
    }
}
