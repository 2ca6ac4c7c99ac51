import NeuralNet
import XCTest

/// A tensor with uniform random elements in [lo, hi), deterministic in `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor(shape: shape) { p in
        for i in 0..<p.count { p[i] = lo + (hi - lo) * rng.nextUniform() }
    }
}

/// Dot product in Double.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in 0..<a.count { s += Double(a.storage[i]) * Double(b.storage[i]) }
    return s
}

/// Relative error ||a - b|| / max(||a||, ||b||, floor).
func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-4) -> Double {
    var d = 0.0, na = 0.0, nb = 0.0
    for i in a.indices {
        d += (a[i] - b[i]) * (a[i] - b[i])
        na += a[i] * a[i]
        nb += b[i] * b[i]
    }
    return d.squareRoot() / max(na.squareRoot(), nb.squareRoot(), floor)
}

/// Finite-difference check of one layer: the scalar is L = <r, layer(x)> with a fixed random r,
/// so dL/dy = r. Compares analytic input and parameter gradients with central differences at up to
/// `samples` coordinates each. Returns the worst relative error.
func gradientCheck(_ layer: any Layer, input: Tensor, eps: Float = 1e-2, samples: Int = 40, seed: UInt64 = 7) -> Double
{
    var l = layer
    let y = l.forward(input, training: true)
    let r = randomTensor(y.shape, seed: seed &+ 1)
    let dx = l.backward(r, options: BackwardOptions(inputGradient: true, perSample: false))
    func lossValue(_ m: any Layer, _ x: Tensor) -> Double {
        var m = m
        return dot(m.forward(x, training: false), r)
    }
    var rng = SeededGenerator(seed: seed)
    var worst = 0.0
    // Input gradient.
    var numeric = [Double](), analytic = [Double]()
    for _ in 0..<min(samples, input.count) {
        let i = rng.nextInt(below: input.count)
        var xp = input, xm = input
        xp.withUnsafeMutableBufferPointer { $0[i] += eps }
        xm.withUnsafeMutableBufferPointer { $0[i] -= eps }
        numeric.append((lossValue(l, xp) - lossValue(l, xm)) / Double(2 * eps))
        analytic.append(Double(dx.storage[i]))
    }
    worst = max(worst, relativeError(numeric, analytic))
    // Parameter gradients.
    for p in l.parameters.indices {
        numeric = []
        analytic = []
        let count = l.parameters[p].value.count
        for _ in 0..<min(samples, count) {
            let i = rng.nextInt(below: count)
            var lp = l, lm = l
            lp.parameters[p].value.withUnsafeMutableBufferPointer { $0[i] += eps }
            lm.parameters[p].value.withUnsafeMutableBufferPointer { $0[i] -= eps }
            numeric.append((lossValue(lp, input) - lossValue(lm, input)) / Double(2 * eps))
            analytic.append(Double(l.parameters[p].gradient.storage[i]))
        }
        worst = max(worst, relativeError(numeric, analytic))
    }
    return worst
}

/// A layer whose parameters are filled with random values.
func randomized<L: Layer>(_ layer: L, seed: UInt64) -> L {
    var l = layer
    for p in l.parameters.indices {
        l.parameters[p].value = randomTensor(
            l.parameters[p].value.shape, seed: seed &+ UInt64(p) &* 31, lo: -0.5, hi: 0.5)
    }
    return l
}

/// Builds a model from spec JSON text (test helper; fails the test on error).
func spec(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> ModelSpec? {
    do { return try ModelSpec.parse(Data(json.utf8)) } catch {
        XCTFail("spec did not parse: \(error)", file: file, line: line)
        return nil
    }
}
