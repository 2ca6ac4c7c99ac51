/// Errors of the Attacks module. Each case names the offending parameter or input, the
/// requirement it broke, and what to do, so the CLI can print one actionable line.
public enum AttackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A numeric setting outside its valid range (e.g. `batch` must be >= 2 for QBI's quantile).
    case invalidParameter(name: String, value: String, requirement: String)
    /// Two shapes that must agree do not (`context` says where).
    case shapeMismatch(context: String, expected: [Int], got: [Int])
    /// PAIRS or RtF needs more auxiliary samples than were given.
    case insufficientAuxiliaryData(needed: Int, available: Int)
    /// A model update lacks the gradient of the attacked layer.
    case missingGradient(parameter: String, available: [String])
    /// Writing an output file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "invalid \(name) = \(value): \(requirement)"
        case let .shapeMismatch(context, expected, got):
            return "\(context): expected shape \(expected), got \(got); check that the data and the layer sizes agree"
        case let .insufficientAuxiliaryData(needed, available):
            return "the attack needs at least \(needed) auxiliary samples but \(available) were given; "
                + "pass more auxiliary data or a smaller batch size"
        case let .missingGradient(parameter, available):
            return "the model update has no gradient '\(parameter)' (it has: \(available.joined(separator: ", "))); "
                + "send the full-model update of the malicious model"
        case let .io(path, reason):
            return "\(path): \(reason); check that the output directory exists and is writable"
        }
    }
}

extension AttackError {
    static func require(
        _ condition: Bool, _ name: String, _ value: some CustomStringConvertible,
        _ requirement: String
    ) throws(AttackError) {
        guard condition else { throw .invalidParameter(name: name, value: value.description, requirement: requirement) }
    }
}
