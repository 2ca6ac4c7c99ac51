import NeuralNet
import XCTest

final class GradientTests: XCTestCase {
    func testDenseGradients() {
        let layer = randomized(Dense(name: "fc", inFeatures: 7, outFeatures: 5), seed: 3)
        XCTAssertLessThan(gradientCheck(layer, input: randomTensor([4, 7], seed: 4)), 1e-2)
        let noBias = randomized(Dense(name: "fc", inFeatures: 9, outFeatures: 3, bias: false), seed: 5)
        XCTAssertLessThan(gradientCheck(noBias, input: randomTensor([2, 9], seed: 6)), 1e-2)
    }

    func testConv2dGradients() {
        for (stride, padding) in [(1, 0), (1, 1), (2, 1)] {
            let layer = randomized(
                Conv2d(name: "conv", inChannels: 2, outChannels: 3, kernel: 3, stride: stride, padding: padding),
                seed: 8)
            let err = gradientCheck(layer, input: randomTensor([2, 2, 6, 5], seed: 9))
            XCTAssertLessThan(err, 1e-2, "stride \(stride) padding \(padding)")
        }
    }

    func testReLUGradient() {
        // Keep inputs away from the kink at 0 so central differences are valid.
        var x = randomTensor([3, 10], seed: 11, lo: 0.1, hi: 1)
        x.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 2) { p[i] = -p[i] } }
        XCTAssertLessThan(gradientCheck(ReLU(), input: x), 1e-3)
    }

    func testFlattenGradient() {
        XCTAssertLessThan(gradientCheck(Flatten(), input: randomTensor([2, 3, 2, 2], seed: 12)), 1e-3)
    }

    func testPoolingGradients() {
        // Distinct, well-separated values so max pooling's arg-max does not flip under +-eps.
        var rng = SeededGenerator(seed: 13)
        var values = (0..<(2 * 2 * 6 * 6)).map { Float($0) * 0.05 }
        rng.shuffle(&values)
        let x = try! Tensor(shape: [2, 2, 6, 6], storage: values)
        XCTAssertLessThan(gradientCheck(Pool2d(name: "mp", mode: .max, kernel: 2), input: x, eps: 1e-3), 1e-2)
        XCTAssertLessThan(
            gradientCheck(Pool2d(name: "mp3", mode: .max, kernel: 3, stride: 2), input: x, eps: 1e-3), 1e-2)
        XCTAssertLessThan(gradientCheck(MaxPool2d(kernel: 2, stride: 1), input: x, eps: 1e-3), 1e-2)
        XCTAssertLessThan(gradientCheck(AvgPool2d(kernel: 2), input: x), 1e-3)
        XCTAssertLessThan(gradientCheck(Pool2d(name: "ap", mode: .average, kernel: 2), input: x), 1e-3)
        XCTAssertLessThan(gradientCheck(Pool2d(name: "ap3", mode: .average, kernel: 3, stride: 1), input: x), 1e-3)
    }

    func testPoolingValues() {
        let x = try! Tensor(shape: [1, 1, 2, 4], storage: [1, 5, 2, 0, 3, 4, -1, 7])
        var mp = Pool2d(name: "mp", mode: .max, kernel: 2)
        XCTAssertEqual(mp.forward(x, training: false).storage, [5, 7])
        var ap = Pool2d(name: "ap", mode: .average, kernel: 2)
        XCTAssertEqual(ap.forward(x, training: false).storage, [3.25, 2])
    }

    private func lossGradientCheck(_ loss: Loss, logits: Tensor, labels: [Int]) -> Double {
        let r = loss.evaluate(output: logits, labels: labels)
        var numeric = [Double](), analytic = [Double]()
        let eps: Float = 1e-2
        for i in 0..<logits.count {
            var p = logits, m = logits
            p.withUnsafeMutableBufferPointer { $0[i] += eps }
            m.withUnsafeMutableBufferPointer { $0[i] -= eps }
            let lp = Double(loss.evaluate(output: p, labels: labels).loss)
            let lm = Double(loss.evaluate(output: m, labels: labels).loss)
            numeric.append((lp - lm) / Double(2 * eps))
            analytic.append(Double(r.gradient.storage[i]))
        }
        return relativeError(numeric, analytic)
    }

    func testSoftmaxCrossEntropy() {
        let logits = randomTensor([4, 5], seed: 21, lo: -3, hi: 3)
        XCTAssertLessThan(lossGradientCheck(.softmaxCrossEntropy, logits: logits, labels: [0, 3, 4, 1]), 1e-2)
        // Known value: uniform logits give log(C); huge logits stay finite.
        let uniform = Tensor(shape: [2, 4], repeating: 0.5)
        XCTAssertEqual(Loss.softmaxCrossEntropy(logits: uniform, labels: [1, 2]).loss, logf(4), accuracy: 1e-6)
        let big = try! Tensor(shape: [1, 2], storage: [1000, -1000])
        let r = Loss.softmaxCrossEntropy(logits: big, labels: [1])
        XCTAssertEqual(r.loss, 2000, accuracy: 1e-2)
        XCTAssertEqual(r.correct, 0)
    }

    func testMSE() {
        let logits = randomTensor([3, 4], seed: 22)
        XCTAssertLessThan(lossGradientCheck(.mse, logits: logits, labels: [0, 2, 3]), 1e-2)
        let p = try! Tensor(shape: [2], storage: [1, 3]), t = try! Tensor(shape: [2], storage: [0, 1])
        XCTAssertEqual(Loss.mse(predictions: p, targets: t).loss, 2.5)
        XCTAssertEqual(Loss.mse(predictions: p, targets: t).gradient.storage, [1, 2])
    }

    func testWholeModelGradientThroughSequential() throws {
        guard
            let s = spec(
                """
                {"input": [1, 6, 6], "layers": [
                  {"type": "conv2d", "name": "c", "in_channels": 1, "out_channels": 2, "kernel": 3, "padding": 1},
                  {"type": "avgpool2d", "kernel": 2}, {"type": "flatten"},
                  {"type": "dense", "name": "fc", "in": 18, "out": 3}]}
                """)
        else { return }
        var model = s.makeModel(seed: 4)
        let x = randomTensor([2, 36], seed: 30)
        let labels = [2, 0]
        let out = model.forward(x, training: true)
        let r = Loss.softmaxCrossEntropy(logits: out, labels: labels)
        _ = model.backward(r.gradient)
        let eps: Float = 1e-2
        var numeric = [Double](), analytic = [Double]()
        for (name, value) in model.namedParameters {
            let grad = model.namedGradients.first { $0.name == name }!.value
            for i in stride(from: 0, to: value.count, by: 5) {
                var p = value, m = value
                p.withUnsafeMutableBufferPointer { $0[i] += eps }
                m.withUnsafeMutableBufferPointer { $0[i] -= eps }
                var mp = model, mm = model
                try mp.setParameter(name, to: p)
                try mm.setParameter(name, to: m)
                let lp = Loss.softmaxCrossEntropy(logits: mp.forward(x), labels: labels).loss
                let lm = Loss.softmaxCrossEntropy(logits: mm.forward(x), labels: labels).loss
                numeric.append(Double(lp - lm) / Double(2 * eps))
                analytic.append(Double(grad.storage[i]))
            }
        }
        XCTAssertLessThan(relativeError(numeric, analytic), 1e-2)
    }
}
