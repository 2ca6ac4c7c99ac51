import NeuralNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The assumptions under which output perturbation of a logistic-regression model is proven
/// (epsilon, delta)-DP, and the sensitivity they give. Stored in the model file's metadata so
/// `verisplit dp noise --method output-perturbation` can check them instead of trusting a flag.
///
/// The model is multinomial logistic regression theta = (W, b), K classes, trained on
/// x_aug = (x_hat, 1) where every input x_hat is clipped to L2 norm <= 1 (so ||x_aug|| <= R_x =
/// sqrt 2). Per example it minimizes f(theta; z) = CE(W x_hat + b, y) + (gamma / 2) ||theta||^2.
/// - The cross-entropy gradient is (p - e_y) x_aug^T, and ||p - e_y|| <= sqrt 2, so the loss is
///   L0 = sqrt(2) R_x Lipschitz (= 2).
/// - f is gamma-strongly convex (the L2 term) and beta-smooth with beta = R_x^2 / 2 + gamma
///   (the softmax cross-entropy Hessian in the logits is at most 1/2 in spectral norm; Boehning
///   1992).
/// - The minimizer lies in the ball ||theta|| <= R = L0 / gamma (at the optimum gamma theta =
///   -mean gradient), so training projects onto that ball, on which f is L = L0 + gamma R = 2 L0
///   Lipschitz.
/// Claim: projected SGD over `passes` random permutations (each independent of the data) with
/// step eta_t = min(1/beta, 1/(gamma t)) has L2 sensitivity of its final iterate at most
/// 2 L / (gamma n) for replace-one neighbours (Wu et al. 2017, "Bolt-on Differential Privacy for
/// Scalable Stochastic Gradient Descent-based Analytics", strongly convex case with decreasing
/// steps: each pass meets the differing example once, contributing 2 eta_t L times the
/// contraction prod_{s>t} (1 - eta_s gamma) <= 2 L / (gamma T), T = passes * n). The Gaussian
/// noise calibrated to that sensitivity (analytic Gaussian mechanism) then gives (epsilon, delta)-DP
/// for the released weights. For the exact minimizer the sensitivity would be 2 L0 / (gamma n)
/// (Chaudhuri, Monteleoni & Sarwate 2011, Corollary 8); the SGD bound is the one that holds for
/// what is actually computed. The preprocessing (centre at 0.5, clip each input's norm) uses no
/// statistic of the data, so it spends no privacy.
public struct LogisticRegressionAssumptions: Sendable, Hashable, Codable {
    public let classes: Int
    /// R_x: bound on ||x_aug|| (sqrt 2: clipped input plus the constant bias feature).
    public let inputNormBound: Double
    /// gamma: the L2 regularization strength.
    public let l2: Double
    /// n: number of training examples.
    public let datasetSize: Int
    /// Number of passes of projected SGD.
    public let passes: Int

    /// L0 = sqrt(2) R_x, the cross-entropy's Lipschitz constant in theta.
    public var lossLipschitz: Double { 2.0.squareRoot() * inputNormBound }
    /// R = L0 / gamma, the projection radius.
    public var radius: Double { lossLipschitz / l2 }
    /// L = L0 + gamma R, the regularized loss's Lipschitz constant on the ball.
    public var lipschitz: Double { lossLipschitz + l2 * radius }
    /// beta = R_x^2 / 2 + gamma.
    public var smoothness: Double { inputNormBound * inputNormBound / 2 + l2 }
    /// 2 L / (gamma n).
    public var sensitivity: Double { 2 * lipschitz / (l2 * Double(datasetSize)) }

    /// Metadata entries (`l2`, `lipschitz`, `loss_lipschitz`, `input_norm_bound`, `radius`,
    /// `smoothness`, `dataset_size`, `passes`, `trainer`).
    public var metadata: [String: String] {
        [
            "trainer": PrivateLogisticRegression.trainerName, "l2": "\(l2)",
            "lipschitz": "\(lipschitz)", "loss_lipschitz": "\(lossLipschitz)",
            "input_norm_bound": "\(inputNormBound)", "radius": "\(radius)",
            "smoothness": "\(smoothness)", "dataset_size": "\(datasetSize)",
            "passes": "\(passes)", "classes": "\(classes)",
            "input_preprocessing": PrivateLogisticRegression.preprocessingName,
        ]
    }

    /// Reads the assumptions back from a model trained by `PrivateLogisticRegression.train`.
    /// - Throws: `DPError.metadata` if the model was not trained that way.
    public init(metadata m: [String: String]) throws(DPError) {
        guard m["trainer"] == PrivateLogisticRegression.trainerName else {
            throw .metadata(
                name: "trainer",
                detail: "is '\(m["trainer"] ?? "missing")', not "
                    + "'\(PrivateLogisticRegression.trainerName)'; output perturbation is proven "
                    + "only for the L2-regularized logistic regression that `verisplit dp "
                    + "train-logreg` trains")
        }
        func value(_ key: String) throws(DPError) -> Double {
            guard let t = m[key], let v = Double(t), v.isFinite, v > 0 else {
                throw .metadata(name: key, detail: "missing or not a positive number")
            }
            return v
        }
        guard let n = m["dataset_size"].flatMap({ Int($0) }), n >= 1 else {
            throw .metadata(name: "dataset_size", detail: "missing or not a positive integer")
        }
        guard let k = m["classes"].flatMap({ Int($0) }), k >= 2 else {
            throw .metadata(name: "classes", detail: "missing or not an integer >= 2")
        }
        guard let passes = m["passes"].flatMap({ Int($0) }), passes >= 1 else {
            throw .metadata(name: "passes", detail: "missing or not a positive integer")
        }
        self.init(
            classes: k, inputNormBound: try value("input_norm_bound"), l2: try value("l2"),
            datasetSize: n, passes: passes)
    }

    public init(classes: Int, inputNormBound: Double, l2: Double, datasetSize: Int, passes: Int) {
        self.classes = classes
        self.inputNormBound = inputNormBound
        self.l2 = l2
        self.datasetSize = datasetSize
        self.passes = passes
    }
}

/// L2-regularized multinomial logistic regression trained so that output perturbation is a
/// proven DP release (see `LogisticRegressionAssumptions` for the exact claim).
public enum PrivateLogisticRegression {
    static let trainerName = "logreg-l2-projected-sgd"
    static let preprocessingName = "center-0.5-clip-norm-1"

    /// The inference model: one Dense layer `fc` (features -> classes, with bias) whose weight and
    /// bias are W and b. Feed it `preprocess`ed inputs.
    public static func makeModel(features: Int, classes: Int) -> Sequential {
        Sequential(
            layers: [Dense(name: "fc", inFeatures: features, outFeatures: classes)],
            inputShape: [features])
    }

    /// A model spec for `makeModel` (stored in the model file so the CLI can rebuild it).
    public static func spec(features: Int, classes: Int) throws(DPError) -> ModelSpec {
        do {
            return try ModelSpec(
                name: "logreg-\(features)-\(classes)", inputShape: [features],
                layers: [.dense(name: "fc", inFeatures: features, outFeatures: classes, bias: true)],
                initialization: .zeros)
        } catch {
            throw .invalidParameter(
                name: "features", value: "\(features)", requirement: error.description,
                hint: "Use a data set with at least one feature and two classes.")
        }
    }

    /// Flattens every sample, subtracts the constant 0.5 (pixels are in [0, 1]) and scales it to
    /// L2 norm <= 1. Data-independent, so it spends no privacy. O(N * D).
    public static func preprocess(_ data: Dataset) throws(DPError) -> Dataset {
        let d = data.sampleSize
        let features = Tensor(shape: [data.count, d]) { out in
            data.features.withUnsafeBufferPointer { src in
                for n in 0..<data.count {
                    var sq = 0.0
                    for i in (n * d)..<((n + 1) * d) {
                        let v = src[i] - 0.5
                        out[i] = v
                        sq += Double(v) * Double(v)
                    }
                    let norm = sq.squareRoot()
                    if norm > 1 {
                        let s = Float(1 / norm) * (1 - 2 * Float.ulpOfOne)
                        for i in (n * d)..<((n + 1) * d) { out[i] *= s }
                    }
                }
            }
        }
        do {
            return try Dataset(features: features, labels: data.labels, classCount: data.classCount)
        } catch {
            throw .invalidParameter(
                name: "data", value: "\(data.count) samples", requirement: error.description,
                hint: "Pass a labelled data set.")
        }
    }

    /// Trains on `data` (already `preprocess`ed: every sample's norm <= 1) with projected SGD,
    /// one example per step, `passes` seeded permutations, eta_t = min(1/beta, 1/(gamma t)),
    /// projection onto ||theta|| <= L0 / gamma. O(passes * N * D * K).
    /// - Throws: `DPError.invalidParameter` for gamma <= 0, passes < 1, an empty data set or an
    ///   input whose norm exceeds 1.
    public static func train(
        data: Dataset, l2 gamma: Double, passes: Int, seed: UInt64
    )
        throws(DPError) -> (model: Sequential, assumptions: LogisticRegressionAssumptions)
    {
        try Check.positive(
            gamma, "l2", hint: "Pass the L2 regularization strength gamma > 0, e.g. 0.01.")
        guard passes >= 1 else {
            throw .invalidParameter(
                name: "passes", value: "\(passes)", requirement: "must be an integer >= 1",
                hint: "Pass the number of SGD passes over the data, e.g. 10.")
        }
        guard data.count >= 1 else {
            throw .invalidParameter(
                name: "data", value: "0 samples", requirement: "must not be empty",
                hint: "Pass a non-empty training set.")
        }
        let d = data.sampleSize
        let k = data.classCount
        let assumptions = LogisticRegressionAssumptions(
            classes: k, inputNormBound: 2.0.squareRoot(), l2: gamma, datasetSize: data.count,
            passes: passes)
        // theta = (W row-major K x D, then b), in double precision.
        var theta = [Double](repeating: 0, count: k * d + k)
        var z = [Double](repeating: 0, count: k)
        var generator = SeededGenerator(seed: seed)
        let beta = assumptions.smoothness
        let radius = assumptions.radius
        var t = 0
        var badSample: Int? = nil
        data.features.withUnsafeBufferPointer { x in
            theta.withUnsafeMutableBufferPointer { w in
                for _ in 0..<passes {
                    var order = Array(0..<data.count)
                    generator.shuffle(&order)
                    for n in order {
                        t += 1
                        let eta = min(1 / beta, 1 / (gamma * Double(t)))
                        let row = UnsafeBufferPointer(rebasing: x[(n * d)..<((n + 1) * d)])
                        var norm2 = 0.0
                        for i in 0..<d { norm2 += Double(row[i]) * Double(row[i]) }
                        if norm2 > 1 + 1e-6 {
                            badSample = n
                            return
                        }
                        var mx = -Double.infinity
                        for c in 0..<k {
                            var s = w[k * d + c]
                            let wr = c * d
                            for i in 0..<d { s += w[wr + i] * Double(row[i]) }
                            z[c] = s
                            mx = max(mx, s)
                        }
                        var total = 0.0
                        for c in 0..<k {
                            z[c] = exp(z[c] - mx)
                            total += z[c]
                        }
                        let shrink = 1 - eta * gamma
                        let label = data.labels[n]
                        for c in 0..<k {
                            let g = z[c] / total - (c == label ? 1 : 0)
                            let step = eta * g
                            let wr = c * d
                            for i in 0..<d { w[wr + i] = shrink * w[wr + i] - step * Double(row[i]) }
                            w[k * d + c] = shrink * w[k * d + c] - step
                        }
                        var sq = 0.0
                        for v in w { sq += v * v }
                        if sq > radius * radius {
                            let s = radius / sq.squareRoot()
                            for i in 0..<w.count { w[i] *= s }
                        }
                    }
                }
            }
        }
        if let bad = badSample {
            throw .invalidParameter(
                name: "data", value: "sample \(bad)", requirement: "every input must have L2 norm <= 1",
                hint: "Run PrivateLogisticRegression.preprocess on the data first.")
        }
        var model = makeModel(features: d, classes: k)
        let weight = Tensor(shape: [k, d]) { p in
            for i in 0..<(k * d) { p[i] = Float(theta[i]) }
        }
        let bias = Tensor(shape: [k]) { p in
            for c in 0..<k { p[c] = Float(theta[k * d + c]) }
        }
        model.layers[0].parameters[0].value = weight
        model.layers[0].parameters[1].value = bias
        return (model, assumptions)
    }
}
