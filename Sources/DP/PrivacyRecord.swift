import NeuralNet

/// What a private (or noised) model claims, stored as string metadata in its safetensors file so
/// that anyone loading the model (e.g. the Audit module) can tell a proven guarantee from a
/// heuristic one.
///
/// Keys written (all lower case): `method`, `sigma`, `epsilon`, `delta`, `proven` ("true" /
/// "false"), `note`, and where they apply `accountant`, `q`, `steps`, `clip`, `sampling`,
/// `sensitivity`, `noise_source` and `sampling_source` ("system" or "seeded"), what the guarantee
/// protects (`privacy_unit`, `neighbouring`) and the quantities it treats as public (`n`, and
/// `public`, e.g. "n,q"), plus method-specific extras.
/// `sigma` means the noise multiplier for `dpsgd` (noise std = sigma * clip on the summed
/// gradient) and the standard deviation of the noise added to every weight for the other methods.
public struct PrivacyRecord: Sendable, Hashable {
    /// What one neighbouring step changes: the unit of privacy.
    public enum PrivacyUnit: String, Sendable, Hashable, Codable, CaseIterable {
        /// One training example (one row of the data set).
        case example
    }

    /// Which data sets count as neighbours in the (epsilon, delta) statement.
    public enum NeighbouringRelation: String, Sendable, Hashable, Codable, CaseIterable {
        /// Add or remove one example (what the Poisson-sampled Gaussian accountants analyse).
        case addRemove = "add-remove"
        /// Replace one example by another, the data set size fixed (output perturbation's
        /// sensitivity 2L/(gamma n) is for this relation).
        case replaceOne = "replace-one"
    }

    public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
        /// DP-SGD training (Abadi et al. 2016).
        case dpsgd
        /// The DP-Weights post-training calibration (heuristic, not proven).
        case dpWeights = "dpweights"
        /// Output perturbation of L2-regularized logistic regression (Chaudhuri et al. 2011,
        /// Wu et al. 2017), proven under the recorded assumptions.
        case outputPerturbation = "output-perturbation"
        /// Extra weight noise on a DP-SGD model: post-processing, the DP-SGD epsilon stands.
        case postDPSGD = "post-dpsgd"
    }

    public var method: Method
    public var sigma: Double
    public var epsilon: Double
    public var delta: Double
    public var proven: Bool
    public var accountant: String?
    public var samplingRate: Double?
    public var steps: Int?
    public var clippingNorm: Double?
    public var sampling: String?
    public var sensitivity: Double?
    public var noiseSource: String?
    /// "system" or "seeded": where DP-SGD's batch sampling came from.
    public var samplingSource: String?
    public var privacyUnit: PrivacyUnit?
    public var neighbouring: NeighbouringRelation?
    /// n, the training set size, published with the record.
    public var datasetSize: Int?
    /// Published quantities the guarantee treats as public (e.g. ["n", "q"]): the standard
    /// assumption, stated so nobody reads the record as protecting them.
    public var publicQuantities: [String]
    public var note: String
    /// Method-specific keys (e.g. `dpsgd_sigma`, `lipschitz`, `l2`), written as given.
    public var extra: [String: String]

    public init(
        method: Method, sigma: Double, epsilon: Double, delta: Double, proven: Bool,
        accountant: String? = nil, samplingRate: Double? = nil, steps: Int? = nil,
        clippingNorm: Double? = nil, sampling: String? = nil, sensitivity: Double? = nil,
        noiseSource: String? = nil, samplingSource: String? = nil, privacyUnit: PrivacyUnit? = nil,
        neighbouring: NeighbouringRelation? = nil, datasetSize: Int? = nil,
        publicQuantities: [String] = [], note: String, extra: [String: String] = [:]
    ) {
        self.method = method
        self.sigma = sigma
        self.epsilon = epsilon
        self.delta = delta
        self.proven = proven
        self.accountant = accountant
        self.samplingRate = samplingRate
        self.steps = steps
        self.clippingNorm = clippingNorm
        self.sampling = sampling
        self.sensitivity = sensitivity
        self.noiseSource = noiseSource
        self.samplingSource = samplingSource
        self.privacyUnit = privacyUnit
        self.neighbouring = neighbouring
        self.datasetSize = datasetSize
        self.publicQuantities = publicQuantities
        self.note = note
        self.extra = extra
    }

    /// Every key a record may own; `merged(into:)` removes them all before writing, so a record
    /// never inherits stale fields from the model it replaces.
    public static let ownedKeys: Set<String> = [
        "method", "sigma", "epsilon", "delta", "proven", "accountant", "q", "steps", "clip",
        "sampling", "sensitivity", "noise_source", "note", "sampling_source", "privacy_unit",
        "neighbouring", "n", "public", "post_noise_source", "dpsgd_sigma", "post_noise_sigma",
        "lipschitz", "loss_lipschitz", "l2", "input_norm_bound", "radius", "smoothness",
    ]

    /// The record as metadata entries (numbers in Swift's shortest round-trip form).
    public var metadata: [String: String] {
        var m = extra
        m["method"] = method.rawValue
        m["sigma"] = "\(sigma)"
        m["epsilon"] = "\(epsilon)"
        m["delta"] = "\(delta)"
        m["proven"] = proven ? "true" : "false"
        m["note"] = note
        if let accountant { m["accountant"] = accountant }
        if let samplingRate { m["q"] = "\(samplingRate)" }
        if let steps { m["steps"] = "\(steps)" }
        if let clippingNorm { m["clip"] = "\(clippingNorm)" }
        if let sampling { m["sampling"] = sampling }
        if let sensitivity { m["sensitivity"] = "\(sensitivity)" }
        if let noiseSource { m["noise_source"] = noiseSource }
        if let samplingSource { m["sampling_source"] = samplingSource }
        if let privacyUnit { m["privacy_unit"] = privacyUnit.rawValue }
        if let neighbouring { m["neighbouring"] = neighbouring.rawValue }
        if let datasetSize { m["n"] = "\(datasetSize)" }
        if !publicQuantities.isEmpty { m["public"] = publicQuantities.joined(separator: ",") }
        return m
    }

    /// `metadata` with every record key replaced by this record's.
    public func merged(into metadata: [String: String]) -> [String: String] {
        metadata.filter { !PrivacyRecord.ownedKeys.contains($0.key) }
            .merging(self.metadata) { _, new in new }
    }

    /// Reads a record back, refusing records that claim nothing meaningful.
    /// - Throws: `DPError.metadata` naming the first missing or malformed key, or an epsilon
    ///   not > 0, a delta outside (0, 1) or a sigma not > 0.
    public init(metadata m: [String: String]) throws(DPError) {
        guard let raw = m["method"] else {
            throw .metadata(
                name: "method",
                detail: "missing: the model carries no privacy record (not written by "
                    + "`verisplit dp train` or `verisplit dp noise`)")
        }
        guard let method = Method(rawValue: raw) else {
            throw .metadata(
                name: "method",
                detail: "unknown value '\(raw)'; expected one of "
                    + Method.allCases.map(\.rawValue).joined(separator: ", "))
        }
        func number(_ key: String) throws(DPError) -> Double {
            guard let text = m[key], let v = Double(text), v.isFinite else {
                throw .metadata(name: key, detail: "missing or not a finite number")
            }
            return v
        }
        func optionalNumber(_ key: String) throws(DPError) -> Double? {
            guard m[key] != nil else { return nil }
            return try number(key)
        }
        guard let proven = m["proven"], proven == "true" || proven == "false" else {
            throw .metadata(name: "proven", detail: "missing or not 'true'/'false'")
        }
        var steps: Int? = nil
        if let text = m["steps"] {
            guard let s = Int(text), s >= 0 else {
                throw .metadata(name: "steps", detail: "not a non-negative integer: '\(text)'")
            }
            steps = s
        }
        var datasetSize: Int? = nil
        if let text = m["n"] {
            guard let n = Int(text), n >= 1 else {
                throw .metadata(name: "n", detail: "not a positive integer: '\(text)'")
            }
            datasetSize = n
        }
        var unit: PrivacyUnit? = nil
        if let text = m["privacy_unit"] {
            guard let u = PrivacyUnit(rawValue: text) else {
                throw .metadata(
                    name: "privacy_unit",
                    detail: "unknown value '\(text)'; expected "
                        + PrivacyUnit.allCases.map(\.rawValue).joined(separator: ", "))
            }
            unit = u
        }
        var relation: NeighbouringRelation? = nil
        if let text = m["neighbouring"] {
            guard let r = NeighbouringRelation(rawValue: text) else {
                throw .metadata(
                    name: "neighbouring",
                    detail: "unknown value '\(text)'; expected "
                        + NeighbouringRelation.allCases.map(\.rawValue).joined(separator: ", "))
            }
            relation = r
        }
        for key in ["noise_source", "sampling_source"] {
            if let text = m[key], text != "system", text != "seeded" {
                throw .metadata(name: key, detail: "must be 'system' or 'seeded', got '\(text)'")
            }
        }
        // A record makes a claim only with a meaningful budget: epsilon > 0, delta in (0, 1),
        // sigma > 0 (all finite, `number` checks that). A file claiming epsilon 0 or -1, or
        // delta 1e308, is refused here rather than copied into the models derived from it.
        let epsilon = try number("epsilon"), delta = try number("delta"), sigma = try number("sigma")
        guard epsilon > 0 else {
            throw .metadata(name: "epsilon", detail: "\(epsilon) is not a privacy budget (must be > 0)")
        }
        guard delta > 0, delta < 1 else { throw .metadata(name: "delta", detail: "\(delta) is outside (0, 1)") }
        guard sigma > 0 else { throw .metadata(name: "sigma", detail: "\(sigma) is not a noise level (must be > 0)") }
        let standard: Set<String> = [
            "method", "sigma", "epsilon", "delta", "proven", "accountant", "q", "steps", "clip",
            "sampling", "sensitivity", "noise_source", "note", "sampling_source", "privacy_unit",
            "neighbouring", "n", "public",
        ]
        self.init(
            method: method, sigma: sigma, epsilon: epsilon,
            delta: delta, proven: proven == "true", accountant: m["accountant"],
            samplingRate: try optionalNumber("q"), steps: steps,
            clippingNorm: try optionalNumber("clip"), sampling: m["sampling"],
            sensitivity: try optionalNumber("sensitivity"), noiseSource: m["noise_source"],
            samplingSource: m["sampling_source"], privacyUnit: unit, neighbouring: relation,
            datasetSize: datasetSize,
            publicQuantities: (m["public"] ?? "").split(separator: ",").map(String.init),
            note: m["note"] ?? "",
            extra: m.filter { PrivacyRecord.ownedKeys.contains($0.key) && !standard.contains($0.key) })
    }
}

/// Training hyperparameters a model file records (written by `verisplit train` and
/// `verisplit dp train`), which DP-Weights needs: `trained_epochs`, `learning_rate`,
/// `batch_size`, `dataset_size`, `clip`.
public struct TrainingHyperparameters: Sendable, Hashable {
    public var epochs: Int?
    public var learningRate: Double?
    public var batchSize: Int?
    public var datasetSize: Int?
    public var clippingNorm: Double?

    public init(
        epochs: Int? = nil, learningRate: Double? = nil, batchSize: Int? = nil,
        datasetSize: Int? = nil, clippingNorm: Double? = nil
    ) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.datasetSize = datasetSize
        self.clippingNorm = clippingNorm
    }

    /// Reads whichever keys are present and well formed.
    public init(metadata m: [String: String]) {
        epochs = m["trained_epochs"].flatMap { Int($0) }
        learningRate = m["learning_rate"].flatMap { Double($0) }
        batchSize = m["batch_size"].flatMap { Int($0) }
        datasetSize = m["dataset_size"].flatMap { Int($0) }
        clippingNorm = m["clip"].flatMap { Double($0) }
    }

    public var metadata: [String: String] {
        var m = [String: String]()
        if let epochs { m["trained_epochs"] = "\(epochs)" }
        if let learningRate { m["learning_rate"] = "\(learningRate)" }
        if let batchSize { m["batch_size"] = "\(batchSize)" }
        if let datasetSize { m["dataset_size"] = "\(datasetSize)" }
        if let clippingNorm { m["clip"] = "\(clippingNorm)" }
        return m
    }

    /// Fills the fields `self` lacks from `other` (command-line values override file values).
    public func filling(from other: TrainingHyperparameters) -> TrainingHyperparameters {
        TrainingHyperparameters(
            epochs: epochs ?? other.epochs, learningRate: learningRate ?? other.learningRate,
            batchSize: batchSize ?? other.batchSize, datasetSize: datasetSize ?? other.datasetSize,
            clippingNorm: clippingNorm ?? other.clippingNorm)
    }
}
