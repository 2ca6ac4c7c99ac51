import NeuralNet
import XCTest

final class PerSampleAndHookTests: XCTestCase {
    private let cnn = """
        {"input": [2, 5, 5], "layers": [
          {"type": "conv2d", "name": "conv", "in_channels": 2, "out_channels": 3, "kernel": 3, "stride": 2, "padding": 1},
          {"type": "relu"}, {"type": "flatten"},
          {"type": "dense", "name": "fc", "in": 27, "out": 4}]}
        """

    /// Per-sample gradients must (a) average to the batch gradient and (b) each equal the gradient
    /// of a batch holding that sample alone.
    func testPerSampleGradientsMatchBatchAndSingleSample() throws {
        guard let s = spec(cnn) else { return }
        let model = s.makeModel(seed: 1)
        let batch = 5
        let x = randomTensor([batch, 50], seed: 2)
        let labels = [0, 1, 2, 3, 1]
        var m = model
        let out = m.forward(x, training: true)
        _ = m.backward(Loss.softmaxCrossEntropy(logits: out, labels: labels).gradient, perSample: true)
        for layer in m.layers {
            for p in layer.parameters {
                let ps = try XCTUnwrap(p.perSampleGradient, "\(layer.name).\(p.name)")
                XCTAssertEqual(ps.shape, [batch] + p.value.shape)
                var mean = Tensor(shape: p.value.shape)
                for n in 0..<batch {
                    mean.addScaled(try ps.slice(rows: n..<(n + 1)).reshaped(p.value.shape), alpha: 1 / Float(batch))
                }
                XCTAssertLessThan(mean.maxAbsDifference(p.gradient), 1e-5, "\(layer.name).\(p.name) mean")
            }
        }
        let norms = try XCTUnwrap(m.perSampleGradientNorms)
        XCTAssertEqual(norms.count, batch)
        for n in 0..<batch {
            var single = model
            let xo = single.forward(x.slice(rows: n..<(n + 1)), training: true)
            _ = single.backward(Loss.softmaxCrossEntropy(logits: xo, labels: [labels[n]]).gradient)
            let singleNorm = single.namedGradients.reduce(0.0) { $0 + $1.value.squaredNorm() }.squareRoot()
            XCTAssertEqual(Double(norms[n]), singleNorm, accuracy: 1e-4 * max(1, singleNorm), "norm of sample \(n)")
            for (l, layer) in single.layers.enumerated() {
                for (pi, p) in layer.parameters.enumerated() {
                    let ps = m.layers[l].parameters[pi].perSampleGradient!.slice(rows: n..<(n + 1))
                    XCTAssertLessThan(
                        try ps.reshaped(p.value.shape).maxAbsDifference(p.gradient), 1e-5,
                        "sample \(n) \(layer.name).\(p.name)")
                }
            }
        }
    }

    func testHookSeesPreActivationsAndEditsGradients() {
        guard
            let s = spec(
                """
                {"input": [4], "layers": [{"type": "dense", "name": "a", "in": 4, "out": 6}, {"type": "relu"},
                                          {"type": "dense", "name": "b", "in": 6, "out": 3}]}
                """)
        else { return }
        var model = s.makeModel(seed: 9)
        let before = model.namedParameters
        let x = randomTensor([8, 4], seed: 10)
        let out = model.forward(x, training: true)
        var positiveCounts = [Int]()
        var visited = [String]()
        _ = model.backward(Loss.softmaxCrossEntropy(logits: out, labels: [0, 1, 2, 0, 1, 2, 0, 1]).gradient) { ctx in
            visited.append(ctx.layerName)
            if ctx.layerName == "a" {
                XCTAssertEqual(ctx.preActivations.shape, [8, 6])
                XCTAssertEqual(ctx.input.shape, [8, 4])
                // Per-neuron count of positive pre-activations (what AGGP needs).
                positiveCounts = (0..<6).map { j in (0..<8).filter { ctx.preActivations[$0, j] > 0 }.count }
                ctx.weightGradient.fill(0)
                ctx.biasGradient = Tensor(shape: [6])
            }
        }
        XCTAssertEqual(visited, ["b", "a"])
        XCTAssertEqual(positiveCounts.count, 6)
        XCTAssertTrue(positiveCounts.contains { $0 > 0 && $0 < 8 })
        var sgd = SGD(learningRate: 0.5)
        sgd.step(&model)
        let after = model.namedParameters
        XCTAssertEqual(after[0].value, before[0].value, "zeroed gradient must leave a.weight unchanged")
        XCTAssertEqual(after[1].value, before[1].value)
        XCTAssertNotEqual(after[2].value, before[2].value, "b.weight must move")
    }

    func testOptimizersDescendOnQuadratic() throws {
        // Fit a linear map exactly (targets come from a known W); both optimizers must drive the
        // loss to under 1% of its start.
        for useAdam in [false, true] {
            var model = Sequential(layers: [Dense(name: "d", inFeatures: 3, outFeatures: 2)], inputShape: [3])
            let x = randomTensor([16, 3], seed: 1)
            let wTrue = randomTensor([2, 3], seed: 2)
            let t = Tensor.matmul(x, wTrue, transposeB: true)
            var sgd = SGD(learningRate: 0.1, momentum: 0.9)
            var adam = Adam(learningRate: 0.05)
            var first: Float = 0, last: Float = 0
            for step in 0..<300 {
                let r = Loss.mse(predictions: model.forward(x, training: true), targets: t)
                if step == 0 { first = r.loss }
                last = r.loss
                _ = model.backward(r.gradient)
                if useAdam { adam.step(&model) } else { sgd.step(&model) }
            }
            XCTAssertLessThan(last, first * 0.01, useAdam ? "adam" : "sgd")
        }
    }

    func testSetParameterCustomInitAndErrors() throws {
        var model = Sequential(layers: [Dense(name: "d", inFeatures: 2, outFeatures: 1)], inputShape: [2])
        try model.setParameter("d.weight", to: try Tensor(shape: [1, 2], storage: [2, -1]))
        try model.setParameter("d.bias", to: try Tensor(shape: [1], storage: [0.5]))
        XCTAssertEqual(model.forward(try Tensor(shape: [1, 2], storage: [3, 4])).storage, [2.5])
        XCTAssertThrowsError(try model.setParameter("d.weight", to: Tensor(shape: [2, 2])))
        XCTAssertThrowsError(try model.setParameter("nope.weight", to: Tensor(shape: [1, 2])))
        XCTAssertThrowsError(try model.predict(Tensor(shape: [1, 3])))
        XCTAssertEqual(try model.predict(Tensor(shape: [0, 2])).shape, [0, 1], "empty batch")
    }

    func testInitSchemesAreSeededAndScaled() {
        guard
            let s = spec(
                #"{"input": [400], "init": "kaiming", "layers": [{"type": "dense", "name": "d", "in": 400, "out": 300}]}"#
            )
        else { return }
        let a = s.makeModel(seed: 1), b = s.makeModel(seed: 1), c = s.makeModel(seed: 2)
        XCTAssertEqual(a.namedParameters[0].value, b.namedParameters[0].value)
        XCTAssertNotEqual(a.namedParameters[0].value, c.namedParameters[0].value)
        let w = a.namedParameters[0].value
        let std = (w.squaredNorm() / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 400).squareRoot(), accuracy: 0.003)
        var x = a
        var rng = SeededGenerator(seed: 3)
        WeightInit.xavier.apply(to: &x, generator: &rng)
        let bound = Float((6.0 / 700).squareRoot())
        XCTAssertTrue(x.namedParameters[0].value.storage.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(x.namedParameters[1].value.storage.allSatisfy { $0 == 0 })
    }

    func testSplitHalvesComposeToTheWholeModel() throws {
        guard let s = spec(cnn.replacingOccurrences(of: "\"input\"", with: "\"cut\": 2, \"input\"")) else { return }
        var whole = s.makeModel(seed: 4)
        var (client, server) = whole.split(at: s.cut!)
        XCTAssertEqual(server.inputShape, [3, 3, 3])
        let x = randomTensor([3, 50], seed: 5)
        XCTAssertEqual(server.forward(client.forward(x)), whole.forward(x))
        let (cs, ss) = try s.split()
        XCTAssertEqual(cs.layers.count, 2)
        XCTAssertEqual(ss.inputShape, [3, 3, 3])
    }
}
