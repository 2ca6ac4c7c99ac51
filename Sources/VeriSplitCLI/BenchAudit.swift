import ArgumentParser
import Audit
import Foundation
import NeuralNet
import Report

/// `verisplit bench audit`: membership attacks against plain, DP-SGD and DP-Weights models on the
/// bundled data. Prints a table, or with `--json` one JSON array of objects with keys `model`,
/// `attack`, `auc`, `tpr_at_fpr`, `epsilon_lower_bound`, `test_accuracy` (and a few more).
struct BenchAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "AUC, TPR at low FPR and empirical epsilon of loss/LiRA/RMIA attacks on plain, DP-SGD and DP-Weights models.",
        discussion: """
        A pool of --pool examples from the training split. The target is trained with the recipe \
        under test on a random half of it (members; the other half are the non-members), and \
        --shadow-models models with the same recipe on balanced random halves (each example in \
        exactly half of them), chosen independently of the target's half; they serve as LiRA \
        shadow and RMIA reference models. Trained models are cached (--cache-dir), so a rerun \
        is fast.
        """)

    @Option(help: "Model spec file or bundled name.") var model: String = "mlp-784-128-10"
    @Option(help: "Data: bundled, system, auto or an IDX directory.") var data: String = "bundled"
    @Option(help: "Pool size (examples from the training split).") var pool: Int = 2000
    @Option(help: "Shadow/reference models per recipe (even).") var shadowModels: Int = 16
    @Option(help: "Epochs for plain and DP-Weights training.") var epochs: Int = 20
    @Option(help: "Epochs for DP-SGD.") var dpEpochs: Int = 10
    @Option(help: "Recipes, comma-separated (plain, dpsgd-eps1, dpsgd-eps3, dpsgd-eps8, dpweights-eps1, dpweights-eps3, dpweights-eps8).")
    var recipes: String = "plain,dpsgd-eps1,dpsgd-eps3,dpsgd-eps8,dpweights-eps1,dpweights-eps3,dpweights-eps8"
    @Option(help: "Attacks, comma-separated.") var attacks: String = "loss,lira,lira-offline,rmia"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Model cache directory (default ~/.cache/verisplit/shadow-models).") var cacheDir: String?
    @Flag(help: "Do not use the model cache.") var noCache = false
    @Flag(help: "Print one JSON array.") var json = false

    func run() async throws {
        do {
            try execute()
        } catch {
            exitBadInput(error.description)
        }
    }

    private func trainer(_ name: String) throws(AuditError) -> any ModelTrainer {
        let plain = try PlainTrainer(epochs: epochs, batchSize: 64)
        if name == "plain" { return plain }
        for (prefix, dp) in [("dpsgd-eps", true), ("dpweights-eps", false)] where name.hasPrefix(prefix) {
            guard let e = Double(name.dropFirst(prefix.count)) else { break }
            return dp ? try DPSGDModelTrainer(targetEpsilon: e, epochs: dpEpochs, batchSize: 64) : try DPWeightsModelTrainer(epsilon: e, base: plain)
        }
        throw .invalidParameter(name: "recipes", value: name, requirement: "use plain, dpsgd-eps<E> or dpweights-eps<E>")
    }

    private func execute() throws(AuditError) {
        guard shadowModels >= 4, shadowModels % 2 == 0 else {
            throw .invalidParameter(name: "shadow-models", value: "\(shadowModels)", requirement: "must be even and >= 4")
        }
        let attackKinds = try attacks.split(separator: ",").map { (s: Substring) throws(AuditError) -> AttackKind in
            guard let k = AttackKind(rawValue: String(s)) else {
                throw .invalidParameter(name: "attacks", value: String(s), requirement: "use \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return k
        }
        let recipeNames = recipes.split(separator: ",").map(String.init)
        let trainers = try recipeNames.map { (n: String) throws(AuditError) -> any ModelTrainer in try trainer(n) }
        let spec: ModelSpec
        do { spec = try ModelSpec.resolve(model) } catch { throw .unreadable(path: model, what: "model spec", reason: error.description) }
        var (train, test): (Dataset, Dataset)
        do { (train, test) = try MNISTFamily.load(DataSource(argument: data)) } catch {
            throw .unreadable(path: data, what: "data", reason: error.description)
        }
        guard pool >= 4, pool <= train.count else { throw .invalidParameter(name: "pool", value: "\(pool)", requirement: "need 4...\(train.count)") }
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<train.count)
        rng.shuffle(&order)
        let poolSet = train.subset(Array(order.prefix(pool)))
        let targetMask = ShadowTraining.randomHalf(examples: pool, seed: seed)
        let masks = [targetMask] + ShadowTraining.balancedMasks(models: shadowModels, examples: pool, seed: seed)
        let cache = noCache ? nil : ShadowCache(directory: cacheDir.map { URL(fileURLWithPath: $0) } ?? ShadowCache.defaultDirectory)
        let members = masks[0].indices.filter { masks[0][$0] }
        let nonMembers = masks[0].indices.filter { !masks[0][$0] }
        var rows = [JSONValue]()
        var table = TextTable(header: ["model", "attack", "AUC", "TPR@0.1%", "TPR@1%", "eps LB (held-out)", "ceiling", "eps LB post-hoc (optimistic)", "claimed", "test acc", "seconds"])
        for (name, t) in zip(recipeNames, trainers) {
            let start = Date()
            let all = try ShadowTraining.train(spec: spec, pool: poolSet, masks: masks, trainer: t, seed: seed, cache: cache, label: name)
            let target = all.outputs[0]
            let shadows = all.slice(1..<all.count)
            let targetModel = try ExampleOutputs.evaluate(model: all.models[0], data: test).accuracy()
            var claim = t.claim
            if let w = t as? DPWeightsModelTrainer { claim = w.claim(datasetSize: members.count) }
            let delta = claim.map { $0.delta.isFinite ? $0.delta : 1e-5 } ?? 1e-5
            for kind in attackKinds {
                let scores = try MembershipAttack.scores(kind, target: target, examples: members + nonMembers, shadows: shadows,
                                                         population: nonMembers)
                let ev = try AttackEvaluation(attack: kind.rawValue, memberScores: Array(scores[0..<members.count]),
                                              nonMemberScores: Array(scores[members.count...]), delta: delta)
                let tpr = JSONValue.object(MembershipMetrics.fprLevels.enumerated().map { JSONMember(MembershipMetrics.key($1), .number(ev.metrics.tprAtFPR[$0])) })
                let seconds = Date().timeIntervalSince(start)
                rows.append(.object([
                    JSONMember("model", .string(name)), JSONMember("attack", .string(kind.rawValue)),
                    JSONMember("auc", .number(ev.metrics.auc)), JSONMember("tpr_at_fpr", tpr),
                    JSONMember("epsilon_lower_bound", .number(ev.epsilon.bound)),
                    JSONMember("threshold_selection", .string(EmpiricalEpsilon.thresholdSelection)),
                    JSONMember("epsilon_ceiling", .number(ev.epsilon.ceiling)),
                    JSONMember("epsilon_lb_posthoc", .number(ev.epsilon.posthocBound)),
                    JSONMember("test_accuracy", .number(targetModel)),
                    JSONMember("claimed_epsilon", claim.map { .number($0.epsilon) } ?? .null),
                    JSONMember("claim_status", claim.map { .string($0.status.rawValue) } ?? .null),
                    JSONMember("members", .int(members.count)), JSONMember("non_members", .int(nonMembers.count)),
                    JSONMember("shadow_models", .int(shadows.count)), JSONMember("cache_hits", .int(all.cacheHits)),
                    JSONMember("seconds", .number(seconds)),
                ]))
                table.append([name, kind.rawValue, formatDecimal(ev.metrics.auc, digits: 3), formatDecimal(ev.metrics.tprAtFPR[1], digits: 4),
                              formatDecimal(ev.metrics.tprAtFPR[2], digits: 4), formatDecimal(ev.epsilon.bound, digits: 3),
                              formatDecimal(ev.epsilon.ceiling, digits: 2), formatDecimal(ev.epsilon.posthocBound, digits: 3),
                              claim.map { formatDecimal($0.epsilon, digits: 0) + " (\($0.status.rawValue))" } ?? "inf",
                              formatDecimal(targetModel, digits: 3), formatDecimal(seconds, digits: 1)])
            }
        }
        if json {
            print(JSONValue.array(rows).serialized(indent: nil))
        } else {
            print("Membership attacks on \(spec.name), pool \(pool) (\(members.count) members / \(nonMembers.count) non-members), \(shadowModels) shadow models")
            print(table.render())
        }
    }
}
