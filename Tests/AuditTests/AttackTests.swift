import Audit
import Foundation
import NeuralNet
import XCTest

/// End-to-end attacks on small models trained on the bundled Fashion-MNIST subset.
final class AttackTests: XCTestCase {
    static func spec() throws -> ModelSpec {
        try ModelSpec(
            name: "mlp-test", inputShape: [784],
            layers: [
                .dense(name: "fc1", inFeatures: 784, outFeatures: 64, bias: true), .relu(name: "relu1"),
                .dense(name: "fc2", inFeatures: 64, outFeatures: 10, bias: true),
            ])
    }

    /// 200 training images and 100 test images, standardized.
    static func data() throws -> (train: Dataset, test: Dataset) {
        var (train, test) = try MNISTFamily.load(.bundled)
        train = train.subset(Array(0..<200))
        test = test.subset(Array(0..<100))
        let s = Standardizer.fit(train)
        train.standardize(with: s)
        test.standardize(with: s)
        return (train, test)
    }

    func testLossAttackBeatsChanceOnOverfitModelButNotOnRandomModel() throws {
        let spec = try Self.spec()
        let (train, test) = try Self.data()
        let members = train.subset(Array(0..<100))
        let trainer = try PlainTrainer(epochs: 40, batchSize: 32)
        let trained = try trainer.train(spec: spec, data: members, seed: 7)
        for (model, trainedModel) in [(trained, true), (spec.makeModel(seed: 7), false)] {
            let m = try ExampleOutputs.evaluate(model: model, data: members)
            let n = try ExampleOutputs.evaluate(model: model, data: test)
            let ev = try AttackEvaluation(
                attack: "loss", memberScores: m.loss.map { -$0 }, nonMemberScores: n.loss.map { -$0 }, delta: 1e-5)
            if trainedModel {
                XCTAssertGreaterThan(ev.metrics.auc, 0.75, "trained model: loss attack should clearly beat chance")
                XCTAssertGreaterThan(ev.epsilon.bound, 0)
            } else {
                XCTAssertEqual(ev.metrics.auc, 0.5, accuracy: 0.15, "untrained model: no membership signal")
                XCTAssertEqual(ev.epsilon.bound, 0, accuracy: 0.5)
            }
        }
    }

    func testLiRAAndRMIABeatChanceWithShadowModelsAndCacheIsReused() throws {
        let spec = try Self.spec()
        let (train, _) = try Self.data()
        let trainer = try PlainTrainer(epochs: 30, batchSize: 32)
        let shadowMasks = ShadowTraining.balancedMasks(models: 8, examples: train.count, seed: 3)
        for i in 0..<train.count { XCTAssertEqual(shadowMasks.filter { $0[i] }.count, 4) }
        let targetMask = ShadowTraining.randomHalf(examples: train.count, seed: 3)
        XCTAssertEqual(targetMask.filter { $0 }.count, train.count / 2)
        let masks = [targetMask] + shadowMasks
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-audit-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = ShadowCache(directory: dir)
        let all = try ShadowTraining.train(
            spec: spec, pool: train, masks: masks, trainer: trainer, seed: 3, cache: cache, showProgress: false)
        XCTAssertEqual(all.cacheHits, 0)
        let again = try ShadowTraining.train(
            spec: spec, pool: train, masks: masks, trainer: trainer, seed: 3, cache: cache, showProgress: false)
        XCTAssertEqual(again.cacheHits, 9, "second run must load every model from the cache")
        XCTAssertEqual(again.outputs, all.outputs)
        let other = try PlainTrainer(epochs: 29, batchSize: 32)
        let changed = try ShadowTraining.train(
            spec: spec, pool: train, masks: Array(masks.prefix(1)), trainer: other, seed: 3, cache: cache,
            showProgress: false)
        XCTAssertEqual(changed.cacheHits, 0, "different hyperparameters must not hit the cache")

        let shadows = all.slice(1..<9)
        let members = masks[0].indices.filter { masks[0][$0] }
        let nonMembers = masks[0].indices.filter { !masks[0][$0] }
        let random = try ExampleOutputs.evaluate(model: spec.makeModel(seed: 99), data: train)
        for attack in [AttackKind.lira, .liraOffline, .rmia] {
            for (target, isTrained) in [(all.outputs[0], true), (random, false)] {
                let s = try MembershipAttack.scores(
                    attack, target: target, examples: members + nonMembers, shadows: shadows, population: nonMembers)
                let ev = try AttackEvaluation(
                    attack: attack.rawValue, memberScores: Array(s[0..<members.count]),
                    nonMemberScores: Array(s[members.count...]), delta: 1e-5)
                if isTrained {
                    XCTAssertGreaterThan(ev.metrics.auc, 0.7, "\(attack) on a trained model")
                } else {
                    XCTAssertEqual(ev.metrics.auc, 0.5, accuracy: 0.15, "\(attack) on a random model")
                }
            }
        }
        XCTAssertThrowsError(
            try MembershipAttack.scores(.lira, target: random, examples: members, shadows: nil, population: nonMembers))
    }
}
