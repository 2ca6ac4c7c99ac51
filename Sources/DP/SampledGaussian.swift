/// The mechanism both accountants analyse: `steps` rounds of DP-SGD, each of which includes every
/// example independently with probability `samplingRate` (Poisson sampling), sums the clipped
/// gradients, and adds N(0, (noiseMultiplier * C)^2) noise. Privacy is with respect to adding or
/// removing one example (dp_accounting's default `ADD_OR_REMOVE_ONE`).
///
/// Validated on construction so an accountant never runs on parameters that make no sense.
public struct PoissonSampledGaussian: Sendable, Hashable, Codable {
    /// q in (0, 1]: probability that a given example is in a step's batch.
    public let samplingRate: Double
    /// sigma > 0: noise standard deviation divided by the L2 sensitivity (clipping norm).
    public let noiseMultiplier: Double
    /// T >= 1: number of composed steps.
    public let steps: Int

    public init(samplingRate: Double, noiseMultiplier: Double, steps: Int) throws(DPError) {
        try Check.samplingRate(samplingRate)
        try Check.sigma(noiseMultiplier)
        try Check.steps(steps)
        self.samplingRate = samplingRate
        self.noiseMultiplier = noiseMultiplier
        self.steps = steps
    }

    /// The same mechanism with another noise multiplier (used by sigma calibration).
    public func with(noiseMultiplier sigma: Double) throws(DPError) -> PoissonSampledGaussian {
        try PoissonSampledGaussian(samplingRate: samplingRate, noiseMultiplier: sigma, steps: steps)
    }
}

/// Which accountant to use. Both analyse the same mechanism; PLD is tighter (smaller epsilon),
/// RDP is much faster and is what most DP-SGD papers report.
public enum AccountantKind: String, Sendable, CaseIterable, Codable {
    case rdp
    case pld
}

/// An (epsilon, delta) statement for a composed mechanism.
public struct PrivacyGuarantee: Sendable, Hashable, Codable {
    public let accountant: AccountantKind
    public let epsilon: Double
    public let delta: Double
    /// For RDP: the Renyi order at which the conversion was tightest. Nil for PLD.
    public let order: Double?

    public init(accountant: AccountantKind, epsilon: Double, delta: Double, order: Double?) {
        self.accountant = accountant
        self.epsilon = epsilon
        self.delta = delta
        self.order = order
    }
}

/// A privacy accountant for the Poisson-subsampled Gaussian mechanism.
public protocol PrivacyAccountant: Sendable {
    var kind: AccountantKind { get }
    /// The smallest epsilon (per this accountant's analysis) for which the composed mechanism is
    /// (epsilon, delta)-DP.
    func guarantee(
        for mechanism: PoissonSampledGaussian, delta: Double
    ) throws(DPError)
        -> PrivacyGuarantee
}

extension PrivacyAccountant {
    /// Convenience: epsilon only.
    public func epsilon(
        for mechanism: PoissonSampledGaussian, delta: Double
    ) throws(DPError)
        -> Double
    {
        try guarantee(for: mechanism, delta: delta).epsilon
    }
}

extension AccountantKind {
    /// The accountant with the reference's default settings.
    public var accountant: any PrivacyAccountant {
        switch self {
        case .rdp: return RDPAccountant()
        case .pld: return PLDAccountant()
        }
    }
}
