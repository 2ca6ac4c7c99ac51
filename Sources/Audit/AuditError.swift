/// Errors of the audit module. Each says what is wrong, where, and what to do, so the CLI can
/// print one line and exit with status 2.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A numeric or categorical parameter is outside its valid range.
    case invalidParameter(name: String, value: String, requirement: String)
    /// A file or directory the audit needs does not exist or cannot be read.
    case unreadable(path: String, what: String, reason: String)
    /// Data and model do not fit together (feature count, classes, sample counts).
    case mismatch(what: String, detail: String, hint: String)
    /// Not enough examples for the requested audit.
    case tooFewExamples(what: String, have: Int, need: Int)
    /// Writing results or the shadow-model cache failed.
    case writeFailed(path: String, reason: String)
    /// Private training could not be set up (e.g. the DP module rejected a parameter).
    case training(model: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "invalid \(name) = \(value): \(requirement)"
        case let .unreadable(path, what, reason):
            return "cannot read \(what) at \(path): \(reason)"
        case let .mismatch(what, detail, hint):
            return "\(what): \(detail); \(hint)"
        case let .tooFewExamples(what, have, need):
            return "\(what): have \(have) examples, need at least \(need)"
        case let .writeFailed(path, reason):
            return "cannot write \(path): \(reason)"
        case let .training(model, reason):
            return "cannot train \(model): \(reason)"
        }
    }
}
