import ArgumentParser
import Audit
import Foundation
import NeuralNet

/// `verisplit audit ...`: privacy audits of trained models.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Privacy audits: membership inference (loss, LiRA, RMIA) and canary audits with empirical epsilon.",
        subcommands: [AuditMIA.self, AuditCanaries.self])
}

/// Versions recorded in every audit report.
func auditVersions() -> [(String, String)] { AuditInputs.versions(tool: VeriSplit.configuration.version) }

extension AuditCommand {
    /// `verisplit audit mia`: membership-inference audit of a trained model.
    struct AuditMIA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mia",
            abstract:
                "Membership-inference audit of a trained model: ROC, AUC, TPR at low FPR, empirical epsilon; writes report.json and report.html.",
            discussion: """
                Attacks: loss and confidence thresholds (Yeom et al. 2018); lira and lira-offline \
                (Carlini et al. 2022) and rmia and rmia-offline (Zarifzadeh et al. 2024), which train \
                shadow/reference models with the target's recipe on random halves of the audited \
                examples and cache them on disk (a second audit reuses them). Exit status 0 when the \
                audit ran, 2 for bad input (missing files, shape mismatch, invalid options).
                """)

        @Option(help: "Trained weights (safetensors, e.g. from `verisplit train --out`).") var model: String?
        @Option(help: "Model spec (file or bundled name); default: the spec stored in the weights' metadata.") var spec:
            String?
        @Option(
            help:
                "Members: data the model was trained on (bundled, system, an IDX directory, or a CSV file with the label last)."
        ) var train: String?
        @Option(help: "Non-members: data from the same distribution not used in training (same forms as --train).")
        var test: String?
        @Option(help: "Attack: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")).") var attack = AttackKind
            .lira
        @Option(help: "Output directory for report.json and report.html.") var out: String = "report"
        @Option(help: "Shadow/reference models to train (lira, rmia).") var shadowModels: Int?
        @Option(help: "Members and non-members audited, each (subsampled, seeded).") var examples: Int?
        @Option(help: "Seed for subsampling and shadow training.") var seed: UInt64 = 1
        @Option(help: "Delta for the epsilon lower bounds.") var delta: Double = 1e-5
        @Option(help: "Confidence of the bounds.") var confidence: Double = 0.95
        @Option(help: "Shadow training epochs (default: the model's trained_epochs metadata, else 5).") var epochs: Int?
        @Option(help: "Shadow training batch size.") var batchSize: Int = 64
        @Option(help: "Shadow training optimizer: adam or sgd.") var optimizer = PlainTrainer.OptimizerKind.adam
        @Option(help: "Shadow training learning rate (default 0.001 adam, 0.05 sgd).") var lr: Float?
        @Option(help: "Shadow model cache directory (default ~/.cache/verisplit/shadow-models).") var cacheDir: String?
        @Flag(help: "Do not read or write the shadow model cache.") var noCache = false
        @Flag(
            help:
                "Print the report JSON headline (auc, tpr_at_fpr, epsilon_lower_bound, threshold_selection, epsilon_lb_posthoc) as one JSON line after the table."
        ) var json = false

        func run() async throws {
            let model = try OptionCheck.required(model, "model", "trained weights, safetensors")
            let train = try OptionCheck.required(train, "train", "the data the model was trained on")
            let test = try OptionCheck.required(test, "test", "data the model was not trained on")
            let request = MIAAuditRequest(
                model: model, spec: spec, train: train, test: test, attack: attack, out: out,
                shadowModels: shadowModels ?? 16, examples: examples ?? 1000, seed: seed, delta: delta,
                confidence: confidence, epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: lr,
                cacheDirectory: ShadowCache.directory(path: cacheDir, disabled: noCache), versions: auditVersions())
            let result = try request.run()
            print(result.report.table())
            print("report: \(result.json.path), \(result.html.path)")
            if json { print(result.report.headline()) }
        }
    }
}

extension AuditCommand {
    /// `verisplit audit canaries`: one-run canary audit of plain, DP-SGD and DP-Weights training.
    struct AuditCanaries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "canaries",
            abstract:
                "Insert canaries, train (plain, DP-SGD, DP-Weights) and report empirical epsilon next to the claimed epsilon.",
            discussion: """
                Each of --canaries mislabelled training images is inserted with probability 1/2; one \
                model per method and epsilon is trained once, a loss attack guesses which canaries \
                were inserted, and the one-run bound of Steinke, Nasr & Jagielski (2023) gives an \
                epsilon lower bound at 95% confidence. A claim below the measured bound is flagged \
                CONTRADICTED. Writes report.json and report.html to --out. Exit status 0 when the \
                audit ran, 2 for bad input.
                """)

        @Option(help: "Model spec (file or bundled name).") var model: String = "mlp-784-128-10"
        @Option(
            help:
                "Data: bundled, system, auto or an IDX directory (canaries and base from its train split, accuracy on its test split)."
        ) var data: String = "bundled"
        @Option(help: "Methods, comma-separated: plain, dpsgd, dpweights.") var methods: String =
            "plain,dpsgd,dpweights"
        @Option(help: "Claimed epsilons for dpsgd and dpweights, comma-separated.") var epsilons = PositiveNumbers([
            1, 3, 8,
        ])
        @Option(help: "Number of canaries (each inserted with probability 1/2).") var canaries: Int = 1000
        @Option(help: "Base training examples besides the canaries (default: the rest of the train split).")
        var trainSize: Int?
        @Option(help: "Training epochs.") var epochs: Int = 10
        @Option(help: "Batch size (expected batch size for DP-SGD).") var batchSize: Int = 64
        @Option(help: "Delta for DP-SGD (DP-Weights forces 1/n^2).") var delta: Double = 1e-5
        @Option(help: "DP-SGD clipping norm.") var clip: Double = 1.0
        @Option(help: "Seed (canary choice, coins, training, seeded noise).") var seed: UInt64 = 1
        @Option(help: "Output directory for report.json and report.html.") var out: String = "report-canaries"
        @Flag(help: "Keep the canaries' true labels (weaker audit).") var keepLabels = false

        func run() async throws {
            let (chosen, unknown) = CanaryAuditRequest.Method.list(methods)
            if let unknown {
                throw ValidationError("invalid --methods entry '\(unknown)': use plain, dpsgd, dpweights")
            }
            let request = CanaryAuditRequest(
                model: model, data: data, methods: chosen, epsilons: epsilons.values, canaries: canaries,
                trainSize: trainSize, epochs: epochs, batchSize: batchSize, delta: delta, clip: clip, seed: seed,
                keepLabels: keepLabels, out: out, versions: auditVersions())
            let result = try request.run()
            print(result.report.table())
            print("report: \(result.json.path), \(result.html.path)")
        }
    }
}
