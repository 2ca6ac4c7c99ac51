import Foundation
import NeuralNet
import Report

/// What the audit commands read: labelled data in the forms users have (Fashion-MNIST sources,
/// IDX directories, CSV) and trained weights with their spec, each failure an `AuditError`
/// naming the file and what to pass instead.
public enum AuditInputs {
    /// Loads one split of labelled data for an audit.
    ///
    /// `bundled`, `system` and `auto` name Fashion-MNIST sources (the train split for members, the
    /// test split for non-members); a `.csv` file is read with the label in the last column; a
    /// directory of MNIST-style IDX files gives its `train-*` files for members and `t10k-*` for
    /// non-members (falling back to the other split if only one exists).
    public static func data(_ argument: String, members: Bool) throws(AuditError) -> Dataset {
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
                throw AuditError.unreadable(
                    path: argument, what: "\(role) data",
                    reason: "no such file or directory (use a CSV file, an IDX directory, or bundled/system)")
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
    public struct LoadedModel {
        public var spec: ModelSpec
        public var model: Sequential
        public var metadata: [String: String]
    }

    /// Loads weights (safetensors); the spec comes from `--spec` or the file's `model_spec` metadata.
    public static func model(path: String, specArgument: String?) throws(AuditError) -> LoadedModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .unreadable(
                path: path, what: "model weights (--model)",
                reason: "no such file; train one with `verisplit train --out model.safetensors`")
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
                throw AuditError.mismatch(
                    what: "model \(path)", detail: "the file carries no model_spec metadata",
                    hint: "pass --spec SPEC.json or a bundled name")
            }
        } catch let e as AuditError {
            throw e
        } catch {
            throw .unreadable(path: specArgument ?? path, what: "model spec", reason: "\(error)")
        }
        var model = spec.makeModel()
        do { try model.loadParameters(file.byName) } catch {
            throw .mismatch(
                what: "model \(path)", detail: "\(error)", hint: "pass the spec the weights were trained with (--spec)")
        }
        return LoadedModel(spec: spec, model: model, metadata: file.metadata)
    }

    /// This process's command line as one string (arguments with spaces quoted), for reports.
    public static var commandLine: String {
        CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// Versions recorded in every audit report (`tool` is the verisplit version).
    public static func versions(tool: String) -> [(String, String)] {
        var v: [(String, String)] = [("verisplit", tool), ("report_format", "verisplit-audit-1")]
        #if compiler(>=6.2)
        v.append(("swift_compiler", ">= 6.2"))
        #else
        v.append(("swift_compiler", "< 6.2"))
        #endif
        v.append(("os", ProcessInfo.processInfo.operatingSystemVersionString))
        return v
    }
}

/// One `verisplit audit mia` run: the target, its members and non-members, the attack and the
/// shadow-training recipe. `run` audits, writes report.json and report.html under `out`.
public struct MIAAuditRequest: Sendable {
    public var model: String
    public var spec: String?
    public var train: String
    public var test: String
    public var attack: AttackKind
    public var out: String
    public var shadowModels = 16
    public var examples = 1000
    public var seed: UInt64 = 1
    public var delta = 1e-5
    public var confidence = 0.95
    /// Shadow training epochs; nil: the model's `trained_epochs` metadata, else 5.
    public var epochs: Int?
    public var batchSize = 64
    public var optimizer = PlainTrainer.OptimizerKind.adam
    public var learningRate: Float?
    /// Shadow-model cache; nil: no cache.
    public var cacheDirectory: URL? = ShadowCache.defaultDirectory
    public var versions: [(String, String)] = []
    public var command = ""

    public init(model: String, spec: String?, train: String, test: String, attack: AttackKind, out: String) {
        self.model = model
        self.spec = spec
        self.train = train
        self.test = test
        self.attack = attack
        self.out = out
    }

    /// The request as `audit mia` states it, versions and command line recorded in the report.
    public init(
        model: String, spec: String?, train: String, test: String, attack: AttackKind, out: String, shadowModels: Int,
        examples: Int, seed: UInt64, delta: Double, confidence: Double, epochs: Int?, batchSize: Int,
        optimizer: PlainTrainer.OptimizerKind, learningRate: Float?, cacheDirectory: URL?, versions: [(String, String)]
    ) {
        self.init(model: model, spec: spec, train: train, test: test, attack: attack, out: out)
        (self.shadowModels, self.examples, self.seed, self.delta) = (shadowModels, examples, seed, delta)
        (self.confidence, self.epochs, self.batchSize, self.optimizer) = (confidence, epochs, batchSize, optimizer)
        (self.learningRate, self.cacheDirectory) = (learningRate, cacheDirectory)
        (self.versions, command) = (versions, AuditInputs.commandLine)
    }

    public func run() throws(AuditError) -> (report: MIAReport, json: URL, html: URL) {
        let loaded = try AuditInputs.model(path: model, specArgument: spec)
        var members = try AuditInputs.data(train, members: true)
        var nonMembers = try AuditInputs.data(test, members: false)
        try MembershipAudit.check(spec: loaded.spec, data: members, role: "members (--train \(train))")
        try MembershipAudit.check(spec: loaded.spec, data: nonMembers, role: "non-members (--test \(test))")
        let standardizer = Standardizer(metadata: loaded.metadata) ?? Standardizer.fit(members)
        members.standardize(with: standardizer)
        nonMembers.standardize(with: standardizer)
        let defaultEpochs = loaded.metadata["trained_epochs"].flatMap { Int($0) } ?? 5
        let trainer = try PlainTrainer(
            epochs: epochs ?? defaultEpochs, batchSize: batchSize, optimizer: optimizer,
            learningRate: learningRate)
        let config = MIAConfiguration(
            attack: attack, shadowModels: shadowModels, seed: seed, examplesPerSide: examples,
            delta: delta, confidence: confidence, cacheDirectory: cacheDirectory)
        let result = try MembershipAudit.run(
            spec: loaded.spec, target: loaded.model, members: members, nonMembers: nonMembers,
            trainer: trainer, configuration: config)
        let report = MIAReport(
            result: result,
            context: ReportContext(
                versions: versions,
                inputs: [
                    ("model", model), ("spec", loaded.spec.name), ("train (members)", train),
                    ("test (non-members)", test),
                ],
                command: command))
        let files = try report.write(to: URL(fileURLWithPath: out))
        return (report, files.json, files.html)
    }
}

extension MIAReport {
    /// The report's headline (auc, tpr_at_fpr, epsilon_lower_bound, threshold_selection,
    /// epsilon_lb_posthoc) as one JSON line.
    public func headline() -> String {
        let j = json()
        return JSONValue.object(
            ["auc", "tpr_at_fpr", "epsilon_lower_bound", "threshold_selection", "epsilon_lb_posthoc"]
                .map { JSONMember($0, j[$0] ?? .null) }
        ).serialized(indent: nil)
    }
}

/// One `verisplit audit canaries` run: canaries drawn from the train split, a base training set,
/// and one model per method and claimed epsilon, each audited once (Steinke, Nasr & Jagielski
/// 2023).
public struct CanaryAuditRequest: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case plain, dpsgd, dpweights

        /// A comma-separated list of methods ("plain,dpsgd"), and the first entry that is none.
        public static func list(_ text: String) -> (methods: [Method], unknown: String?) {
            var methods: [Method] = []
            for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let method = Method(rawValue: name) else { return (methods, name) }
                methods.append(method)
            }
            return (methods, nil)
        }
    }

    public var model = "mlp-784-128-10"
    public var data = "bundled"
    public var methods = Method.allCases
    public var epsilons: [Double] = [1, 3, 8]
    public var canaries = 1000
    /// Base training examples besides the canaries; nil: the rest of the train split.
    public var trainSize: Int?
    public var epochs = 10
    public var batchSize = 64
    public var delta = 1e-5
    public var clip = 1.0
    public var seed: UInt64 = 1
    public var keepLabels = false
    public var out = "report-canaries"
    public var versions: [(String, String)] = []
    public var command = ""

    public init() {}

    /// The request as `audit canaries` states it, versions and command line recorded in the report.
    public init(
        model: String, data: String, methods: [Method], epsilons: [Double], canaries: Int, trainSize: Int?,
        epochs: Int, batchSize: Int, delta: Double, clip: Double, seed: UInt64, keepLabels: Bool, out: String,
        versions: [(String, String)]
    ) {
        (self.model, self.data, self.methods, self.epsilons, self.canaries) = (model, data, methods, epsilons, canaries)
        (self.trainSize, self.epochs, self.batchSize, self.delta, self.clip) = (
            trainSize, epochs, batchSize, delta, clip
        )
        (self.seed, self.keepLabels, self.out, self.versions) = (seed, keepLabels, out, versions)
        command = AuditInputs.commandLine
    }

    /// The canary data preparation: a seeded shuffle of the train split, its first `canaries`
    /// examples become canaries (mislabelled unless `keepLabels`, each included with probability
    /// 1/2), the next `trainSize` the base set; all three sets standardized with the base's fit.
    public func prepare(
        train: Dataset, test: Dataset
    ) throws(AuditError)
        -> (base: Dataset, canaries: Dataset, included: [Bool], test: Dataset, configuration: CanaryConfiguration)
    {
        let config = CanaryConfiguration(canaries: canaries, mislabel: !keepLabels, seed: seed)
        guard config.canaries >= 2, config.canaries < train.count else {
            throw .invalidParameter(
                name: "--canaries", value: "\(config.canaries)",
                requirement: "need 2 <= canaries < \(train.count) (the train split)")
        }
        var order = Array(0..<train.count)
        var rng = SeededGenerator(seed: config.seed)
        rng.shuffle(&order)
        let rest = Array(order.dropFirst(config.canaries))
        let baseCount = trainSize ?? rest.count
        guard baseCount >= 1, baseCount <= rest.count else {
            throw .invalidParameter(name: "--train-size", value: "\(baseCount)", requirement: "need 1...\(rest.count)")
        }
        var base = train.subset(Array(rest.prefix(baseCount)))
        var (canarySet, included) = try CanaryAudit.makeCanaries(
            from: train.subset(Array(order.prefix(config.canaries))),
            configuration: config)
        var testSet = test
        let standardizer = Standardizer.fit(base)
        base.standardize(with: standardizer)
        canarySet.standardize(with: standardizer)
        testSet.standardize(with: standardizer)
        return (base, canarySet, included, testSet, config)
    }

    /// The trainers in order: plain, then DP-SGD and DP-Weights at each claimed epsilon.
    public func trainers() throws(AuditError) -> [any ModelTrainer] {
        let plain = try PlainTrainer(epochs: epochs, batchSize: batchSize)
        var trainers = [any ModelTrainer]()
        if methods.contains(.plain) { trainers.append(plain) }
        if methods.contains(.dpsgd) {
            for x in epsilons {
                trainers.append(
                    try DPSGDModelTrainer(
                        targetEpsilon: x, delta: delta, epochs: epochs, batchSize: batchSize,
                        clippingNorm: clip))
            }
        }
        if methods.contains(.dpweights) {
            for x in epsilons { trainers.append(try DPWeightsModelTrainer(epsilon: x, base: plain)) }
        }
        return trainers
    }

    /// Prepares the data, trains and audits every model (a progress bar on a terminal), and writes
    /// report.json and report.html under `out`.
    public func run() throws(AuditError) -> (report: CanaryReport, json: URL, html: URL) {
        let spec: ModelSpec
        do { spec = try ModelSpec.resolve(model) } catch {
            throw .unreadable(path: model, what: "model spec", reason: error.description)
        }
        let (train, test): (Dataset, Dataset)
        do { (train, test) = try MNISTFamily.load(DataSource(argument: data)) } catch {
            throw .unreadable(path: data, what: "data", reason: error.description)
        }
        let prepared = try prepare(train: train, test: test)
        let trainers = try trainers()
        var bar = ProgressBar(label: "canary audit", total: trainers.count)
        var results = [CanaryAuditResult]()
        for (i, t) in trainers.enumerated() {
            bar.update(i, detail: "training \(t.name)")
            results.append(
                try CanaryAudit.run(
                    spec: spec, base: prepared.base, canaries: prepared.canaries,
                    included: prepared.included, test: prepared.test, trainer: t,
                    configuration: prepared.configuration))
        }
        bar.finish()
        let report = CanaryReport(
            results: results, configuration: prepared.configuration,
            context: ReportContext(
                versions: versions,
                inputs: [
                    ("model", spec.name), ("data", DataSource(argument: data).description),
                    ("base training examples", "\(prepared.base.count)"),
                ],
                command: command))
        let files = try report.write(to: URL(fileURLWithPath: out))
        return (report, files.json, files.html)
    }
}
