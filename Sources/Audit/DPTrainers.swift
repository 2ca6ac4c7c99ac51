import DP
import Foundation
import NeuralNet

/// DP-SGD training (Abadi et al. 2016) through the DP module: Poisson sampling, per-sample
/// clipping to `clippingNorm`, Gaussian noise with the multiplier the RDP accountant calibrates
/// for (`targetEpsilon`, `delta`) on each training set's size. By default batch sampling and
/// noise are seeded from the model seed, so audits are reproducible; such models are experiments,
/// not releases, and their claim says `seeded`. With `seededRandomness` false both come from the
/// system CSPRNG and the claim is `proven` (the run is then not reproducible).
public struct DPSGDModelTrainer: ModelTrainer {
    public var targetEpsilon: Double
    public var delta: Double
    public var epochs: Int
    public var batchSize: Int
    public var clippingNorm: Double
    public var learningRate: Float
    /// Seed batch sampling and noise from the model seed (reproducible, not a release).
    public var seededRandomness: Bool

    public init(
        targetEpsilon: Double, delta: Double = 1e-5, epochs: Int = 10, batchSize: Int = 64, clippingNorm: Double = 1,
        learningRate: Float = 2e-3, seededRandomness: Bool = true
    ) throws(AuditError) {
        guard targetEpsilon > 0, targetEpsilon.isFinite else {
            throw .invalidParameter(
                name: "epsilon", value: "\(targetEpsilon)", requirement: "must be a finite number > 0")
        }
        guard delta > 0, delta < 1 else {
            throw .invalidParameter(name: "delta", value: "\(delta)", requirement: "must lie in (0, 1)")
        }
        guard epochs >= 1, batchSize >= 1, clippingNorm > 0, learningRate > 0 else {
            throw .invalidParameter(
                name: "dpsgd hyperparameters",
                value: "epochs \(epochs), batch \(batchSize), clip \(clippingNorm), lr \(learningRate)",
                requirement: "all must be positive")
        }
        self.targetEpsilon = targetEpsilon
        self.delta = delta
        self.epochs = epochs
        self.batchSize = batchSize
        self.clippingNorm = clippingNorm
        self.learningRate = learningRate
        self.seededRandomness = seededRandomness
    }

    public var name: String { "dpsgd-eps\(shortEpsilon(targetEpsilon))" }

    public var identity: String {
        "dpsgd;eps=\(targetEpsilon);delta=\(delta);epochs=\(epochs);batch=\(batchSize);clip=\(clippingNorm);lr=\(learningRate);opt=adam;sampling=poisson;accountant=rdp;randomness=\(seededRandomness ? "seeded" : "system")"
    }

    public var parameters: [(String, String)] {
        [
            ("training", "DP-SGD (Poisson sampling, RDP accountant, Adam)"), ("target_epsilon", "\(targetEpsilon)"),
            ("delta", "\(delta)"),
            ("epochs", "\(epochs)"), ("expected_batch_size", "\(batchSize)"), ("clipping_norm", "\(clippingNorm)"),
            ("learning_rate", "\(learningRate)"),
            (
                "randomness",
                seededRandomness
                    ? "batch sampling and noise seeded from the model seed (reproducible experiment)"
                    : "batch sampling and noise from the system CSPRNG"
            ),
        ]
    }

    public var claim: PrivacyClaim? {
        seededRandomness
            ? PrivacyClaim(
                epsilon: targetEpsilon, delta: delta, status: .seeded,
                note: "DP-SGD with Poisson sampling; RDP accountant bound (Abadi et al. 2016; Mironov et al. 2019) "
                    + "for the algorithm, but this run's batch sampling and noise were seeded: a reproducible "
                    + "experiment, not a release; one example, add-remove neighbours, n and q public")
            : PrivacyClaim(
                epsilon: targetEpsilon, delta: delta, status: .proven,
                note: "DP-SGD with Poisson sampling, batch sampling and noise from the system CSPRNG; RDP "
                    + "accountant bound (Abadi et al. 2016; Mironov et al. 2019); one example, add-remove "
                    + "neighbours, n and q public")
    }

    public func train(spec: ModelSpec, data: Dataset, seed: UInt64) throws(AuditError) -> Sequential {
        var model = spec.makeModel(seed: seed)
        do {
            let plan = try DPSGDPlan.calibrate(
                targetEpsilon: targetEpsilon, delta: delta, datasetSize: data.count,
                batchSize: min(batchSize, data.count), epochs: epochs)
            let options =
                seededRandomness
                ? DPSGDOptions(
                    clippingNorm: clippingNorm, sampling: .poisson, samplingSource: .seeded(seed ^ 0xD95),
                    noise: .seeded(seed ^ 0x9015E))
                : DPSGDOptions(clippingNorm: clippingNorm, sampling: .poisson)
            _ = try DPSGDTrainer.fit(
                model: &model, optimizer: Adam(learningRate: learningRate), loss: spec.loss, train: data,
                test: nil, plan: plan, options: options)
        } catch {
            throw .training(model: name, reason: error.description)
        }
        return model
    }
}

/// DP-Weights: plain training, then i.i.d. Gaussian noise on every weight with the released
/// DP-Weights calibration (`WeightNoising.dpWeights`; delta = 1/n^2). The DP module records this
/// claim as a heuristic (`proven: false`); auditing it is exactly what canary mode is for.
public struct DPWeightsModelTrainer: ModelTrainer {
    public var epsilon: Double
    public var base: PlainTrainer
    /// The clipping norm C the calibration formula takes (plain training does not clip; 1 is the
    /// value the DP-Weights code uses by default).
    public var clippingNorm: Double

    public init(epsilon: Double, base: PlainTrainer, clippingNorm: Double = 1) throws(AuditError) {
        guard epsilon > 0, epsilon.isFinite else {
            throw .invalidParameter(name: "epsilon", value: "\(epsilon)", requirement: "must be a finite number > 0")
        }
        self.epsilon = epsilon
        self.base = base
        self.clippingNorm = clippingNorm
    }

    public var name: String { "dpweights-eps\(shortEpsilon(epsilon))" }

    public var identity: String { "dpweights;eps=\(epsilon);clip=\(clippingNorm);" + base.identity }

    public var parameters: [(String, String)] {
        [
            ("training", "plain, then DP-Weights noise on the weights (heuristic calibration)"),
            ("epsilon", "\(epsilon)"),
            ("clipping_norm", "\(clippingNorm)"),
        ] + base.parameters.filter { $0.0 != "training" }
    }

    public var claim: PrivacyClaim? {
        PrivacyClaim(
            epsilon: epsilon, delta: .nan, status: .heuristic,
            note: "DP-Weights released calibration, delta = 1/n^2; heuristic, not a proven guarantee")
    }

    /// The claim with delta = 1/n^2 for a training set of n examples.
    public func claim(datasetSize n: Int) -> PrivacyClaim {
        var c = claim ?? PrivacyClaim(epsilon: epsilon, delta: 0, status: .heuristic, note: "")
        c.delta = 1 / (Double(n) * Double(n))
        return c
    }

    public func train(spec: ModelSpec, data: Dataset, seed: UInt64) throws(AuditError) -> Sequential {
        var model = try base.train(spec: spec, data: data, seed: seed)
        let file = SafeTensorsFile(tensors: model.namedParameters.map { ($0.name, $0.value) })
        var noise = GaussianSampler(.seeded(seed ^ 0xD9E1))
        let h = TrainingHyperparameters(
            epochs: base.epochs, learningRate: Double(base.learningRate), batchSize: base.batchSize,
            datasetSize: data.count, clippingNorm: clippingNorm)
        do {
            let noised = try WeightNoising.dpWeights(file, epsilon: epsilon, hyperparameters: h, noise: &noise)
            try model.loadParameters(noised.file.byName)
        } catch {
            throw .training(model: name, reason: "\(error)")
        }
        return model
    }
}

/// "1", "3", "0.5" for model labels.
func shortEpsilon(_ e: Double) -> String { e == e.rounded() && abs(e) < 1e9 ? String(Int(e)) : "\(e)" }
