import Foundation

/// Updates a model's parameters from the gradients its last backward pass stored.
///
/// State (momentum, Adam moments) is kept per parameter in model order, allocated on the first
/// step; an optimizer instance belongs to one model.
public protocol Optimizer: Sendable {
    /// Applies one update to every parameter of `model`. O(number of parameters).
    mutating func step(_ model: inout Sequential)
}

/// Stochastic gradient descent with optional (heavy-ball) momentum and L2 weight decay:
/// `v = momentum * v + (g + decay * w); w -= lr * v`.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    private var velocity: [[Float]] = []

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func step(_ model: inout Sequential) {
        var slot = 0
        let (lr, mu, wd) = (learningRate, momentum, weightDecay)
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                if slot == velocity.count {
                    velocity.append(
                        mu == 0 ? [] : [Float](repeating: 0, count: model.layers[l].parameters[p].value.count))
                }
                let grad = model.layers[l].parameters[p].gradient
                model.layers[l].parameters[p].value.withUnsafeMutableBufferPointer { w in
                    grad.withUnsafeBufferPointer { g in
                        if mu == 0 {
                            for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) }
                        } else {
                            velocity[slot].withUnsafeMutableBufferPointer { v in
                                for i in 0..<w.count {
                                    v[i] = mu * v[i] + g[i] + wd * w[i]
                                    w[i] -= lr * v[i]
                                }
                            }
                        }
                    }
                }
                slot += 1
            }
        }
    }
}

/// Adam (Kingma & Ba) with bias correction:
/// `m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr * m_hat / (sqrt(v_hat) + eps)`.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public private(set) var stepCount = 0
    private var m: [[Float]] = []
    private var v: [[Float]] = []

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public mutating func step(_ model: inout Sequential) {
        stepCount += 1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let c1 = 1 - Float(pow(Double(b1), Double(stepCount)))
        let c2 = 1 - Float(pow(Double(b2), Double(stepCount)))
        let lr = learningRate * c2.squareRoot() / c1
        let epsHat = eps * c2.squareRoot()
        var slot = 0
        for l in model.layers.indices {
            for p in model.layers[l].parameters.indices {
                let count = model.layers[l].parameters[p].value.count
                if slot == m.count {
                    m.append([Float](repeating: 0, count: count))
                    v.append([Float](repeating: 0, count: count))
                }
                let grad = model.layers[l].parameters[p].gradient
                model.layers[l].parameters[p].value.withUnsafeMutableBufferPointer { w in
                    grad.withUnsafeBufferPointer { g in
                        m[slot].withUnsafeMutableBufferPointer { pm in
                            v[slot].withUnsafeMutableBufferPointer { pv in
                                for i in 0..<w.count {
                                    pm[i] = b1 * pm[i] + (1 - b1) * g[i]
                                    pv[i] = b2 * pv[i] + (1 - b2) * g[i] * g[i]
                                    w[i] -= lr * pm[i] / (pv[i].squareRoot() + epsHat)
                                }
                            }
                        }
                    }
                }
                slot += 1
            }
        }
    }
}
