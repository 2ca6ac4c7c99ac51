import NeuralNet

/// Float vs fixed-point accuracy of a spec's network on real data: the network is trained in
/// float with NeuralNet (Conv2d + ReLU, flatten, Dense), its weights are quantized to the spec's
/// format, and the test set is classified again by the fixed-point execution the circuits prove
/// (`QuantizedConv2d.forward`, `QuantizedDense.forward`). Inputs are pixels in [0, 1].
public enum FixedPointAccuracy {
    public struct Report: Sendable, Equatable {
        public let floatAccuracy: Double
        public let fixedPointAccuracy: Double
        /// Fraction of test images on which both executions predict the same class.
        public let agreement: Double
        public let testImages: Int
    }

    public static func measure(
        spec: CircuitSpec, train: Dataset, test: Dataset, epochs: Int, seed: UInt64
    ) throws -> Report {
        var model = Sequential(
            layers: [
                Conv2d(
                    name: "conv", inChannels: spec.input.channels, outChannels: spec.client.outChannels,
                    kernel: spec.client.kernel, stride: spec.client.stride),
                ReLU(), Flatten(),
                Dense(name: "fc", inFeatures: spec.cutWidth, outFeatures: spec.server.outputs),
            ], inputShape: [spec.input.channels, spec.input.height, spec.input.width])
        var generator = SeededGenerator(seed: seed)
        WeightInit.kaiming.apply(to: &model, generator: &generator)
        var optimizer = Adam(learningRate: 1e-3)
        _ = Trainer.fit(
            model: &model, optimizer: &optimizer, loss: .softmaxCrossEntropy, train: train, test: nil,
            epochs: epochs, batchSize: 64, seed: seed)
        let floatAccuracy = Double(Trainer.evaluate(model: model, loss: .softmaxCrossEntropy, data: test).accuracy)

        let f = spec.format
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.value.storage) })
        func quantized(_ name: String) throws -> [Int64] { try (parameters[name] ?? []).map { try f.quantize($0) } }
        let conv = try QuantizedConv2d(
            inChannels: spec.input.channels, outChannels: spec.client.outChannels,
            height: spec.input.height, width: spec.input.width, kernelSize: spec.client.kernel,
            stride: spec.client.stride, weights: try quantized("conv.weight"),
            bias: try quantized("conv.bias"), relu: true, format: f)
        let head = try QuantizedDense(
            inputs: spec.cutWidth, outputs: spec.server.outputs, weights: try quantized("fc.weight"),
            bias: try quantized("fc.bias"), relu: false, format: f)
        var floatModel = model
        let floatPredictions = argmaxRows(
            floatModel.forward(test.features, training: false), classes: spec.server.outputs)
        let size = spec.input.channels * spec.input.height * spec.input.width
        let pixels = test.features.storage
        var correct = 0, agree = 0
        for n in 0..<test.count {
            let x = try pixels[(n * size)..<((n + 1) * size)].map { try spec.quantizeInput($0) }
            let logits = try head.forward(try conv.forward(x))
            let predicted = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            if predicted == test.labels[n] { correct += 1 }
            if predicted == floatPredictions[n] { agree += 1 }
        }
        let count = max(test.count, 1)
        return Report(
            floatAccuracy: floatAccuracy, fixedPointAccuracy: Double(correct) / Double(count),
            agreement: Double(agree) / Double(count), testImages: test.count)
    }

    static func argmaxRows(_ output: Tensor, classes: Int) -> [Int] {
        let values = output.storage
        return (0..<(values.count / classes)).map { row in
            let slice = values[(row * classes)..<((row + 1) * classes)]
            return (slice.indices.max { slice[$0] < slice[$1] } ?? row * classes) - row * classes
        }
    }
}

extension FixedPointAccuracy {
    /// `circuit accuracy`: the spec's network trained `epochs` epochs in float on the bundled
    /// data, float against fixed-point accuracy on the bundled test set, as a two-column table.
    public static func bundledTable(spec: CircuitSpec, epochs: Int, seed: UInt64) throws -> BenchTable {
        let (train, test) = try MNISTFamily.load(.bundled)
        let r = try measure(spec: spec, train: train, test: test, epochs: epochs, seed: seed)
        return BenchTable(
            title: "\(spec.name): float vs fixed point on the bundled test set",
            rows: [
                ("float_accuracy", r.floatAccuracy), ("fixed_point_accuracy", r.fixedPointAccuracy),
                ("agreement", r.agreement), ("test_images", r.testImages), ("fraction_bits", spec.fractionBits),
                ("epochs", epochs),
            ])
    }
}
