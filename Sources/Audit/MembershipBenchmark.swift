import Foundation
import NeuralNet
import Report

/// `verisplit bench audit`: membership attacks against plain, DP-SGD and DP-Weights models. A pool
/// of `pool` examples from the training split; the target is trained with the recipe under test on
/// a random half (members; the other half are the non-members), and `shadowModels` models with the
/// same recipe on balanced random halves chosen independently of the target's; they serve as LiRA
/// shadow and RMIA reference models. Trained models are cached.
public struct MembershipBenchmark: Sendable {
    public var model = "mlp-784-128-10"
    public var data = "bundled"
    public var pool = 2000
    public var shadowModels = 16
    public var epochs = 20
    public var dpEpochs = 10
    /// plain, dpsgd-eps<E> or dpweights-eps<E>.
    public var recipes: [String] = []
    public var attacks: [String] = []
    public var seed: UInt64 = 1
    /// nil: no cache.
    public var cacheDirectory: URL? = ShadowCache.defaultDirectory

    public init() {}

    func trainer(_ name: String) throws(AuditError) -> any ModelTrainer {
        let plain = try PlainTrainer(epochs: epochs, batchSize: 64)
        if name == "plain" { return plain }
        for (prefix, dp) in [("dpsgd-eps", true), ("dpweights-eps", false)] where name.hasPrefix(prefix) {
            guard let e = Double(name.dropFirst(prefix.count)) else { break }
            return dp
                ? try DPSGDModelTrainer(targetEpsilon: e, epochs: dpEpochs, batchSize: 64)
                : try DPWeightsModelTrainer(epsilon: e, base: plain)
        }
        throw .invalidParameter(
            name: "recipes", value: name, requirement: "use plain, dpsgd-eps<E> or dpweights-eps<E>")
    }

    /// Trains (or loads from the cache) every recipe's target and shadow models and runs every
    /// attack; returns the rows as one JSON array and as a table under a title.
    public func run() throws(AuditError) -> (json: JSONValue, text: String) {
        guard shadowModels >= 4, shadowModels % 2 == 0 else {
            throw .invalidParameter(
                name: "shadow-models", value: "\(shadowModels)", requirement: "must be even and >= 4")
        }
        let attackKinds = try attacks.map { (s: String) throws(AuditError) -> AttackKind in
            guard let k = AttackKind(rawValue: s) else {
                throw .invalidParameter(
                    name: "attacks", value: s,
                    requirement: "use \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return k
        }
        let recipeNames = recipes
        let trainers = try recipeNames.map { (n: String) throws(AuditError) -> any ModelTrainer in try trainer(n) }
        let spec: ModelSpec
        do { spec = try ModelSpec.resolve(model) } catch {
            throw .unreadable(path: model, what: "model spec", reason: error.description)
        }
        var (train, test): (Dataset, Dataset)
        do { (train, test) = try MNISTFamily.load(DataSource(argument: data)) } catch {
            throw .unreadable(path: data, what: "data", reason: error.description)
        }
        guard pool >= 4, pool <= train.count else {
            throw .invalidParameter(name: "pool", value: "\(pool)", requirement: "need 4...\(train.count)")
        }
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<train.count)
        rng.shuffle(&order)
        let poolSet = train.subset(Array(order.prefix(pool)))
        let targetMask = ShadowTraining.randomHalf(examples: pool, seed: seed)
        let masks = [targetMask] + ShadowTraining.balancedMasks(models: shadowModels, examples: pool, seed: seed)
        let cache = cacheDirectory.map { ShadowCache(directory: $0) }
        let members = masks[0].indices.filter { masks[0][$0] }
        let nonMembers = masks[0].indices.filter { !masks[0][$0] }
        var rows = [JSONValue]()
        var table = TextTable(header: [
            "model", "attack", "AUC", "TPR@0.1%", "TPR@1%", "eps LB (held-out)", "ceiling",
            "eps LB post-hoc (optimistic)", "claimed", "test acc", "seconds",
        ])
        for (name, t) in zip(recipeNames, trainers) {
            let start = Date()
            let all = try ShadowTraining.train(
                spec: spec, pool: poolSet, masks: masks, trainer: t, seed: seed, cache: cache, label: name)
            let target = all.outputs[0]
            let shadows = all.slice(1..<all.count)
            let targetModel = try ExampleOutputs.evaluate(model: all.models[0], data: test).accuracy()
            var claim = t.claim
            if let w = t as? DPWeightsModelTrainer { claim = w.claim(datasetSize: members.count) }
            let delta = claim.map { $0.delta.isFinite ? $0.delta : 1e-5 } ?? 1e-5
            for kind in attackKinds {
                let scores = try MembershipAttack.scores(
                    kind, target: target, examples: members + nonMembers, shadows: shadows,
                    population: nonMembers)
                let ev = try AttackEvaluation(
                    attack: kind.rawValue, memberScores: Array(scores[0..<members.count]),
                    nonMemberScores: Array(scores[members.count...]), delta: delta)
                let tpr = JSONValue.object(
                    MembershipMetrics.fprLevels.enumerated().map {
                        JSONMember(MembershipMetrics.key($1), .number(ev.metrics.tprAtFPR[$0]))
                    })
                let seconds = Date().timeIntervalSince(start)
                rows.append(
                    .object([
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
                table.append([
                    name, kind.rawValue, formatDecimal(ev.metrics.auc, digits: 3),
                    formatDecimal(ev.metrics.tprAtFPR[1], digits: 4),
                    formatDecimal(ev.metrics.tprAtFPR[2], digits: 4), formatDecimal(ev.epsilon.bound, digits: 3),
                    formatDecimal(ev.epsilon.ceiling, digits: 2), formatDecimal(ev.epsilon.posthocBound, digits: 3),
                    claim.map { formatDecimal($0.epsilon, digits: 0) + " (\($0.status.rawValue))" } ?? "inf",
                    formatDecimal(targetModel, digits: 3), formatDecimal(seconds, digits: 1),
                ])
            }
        }
        return (
            .array(rows),
            "Membership attacks on \(spec.name), pool \(pool) (\(members.count) members / \(nonMembers.count) non-members), \(shadowModels) shadow models\n"
                + table.render()
        )
    }
}
