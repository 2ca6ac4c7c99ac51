/// Errors of the DP module. Every case says which parameter was wrong, what range it must lie in,
/// and what to do about it, so the CLI can print one actionable line.
public enum DPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter was outside its valid range (or not a finite number).
    case invalidParameter(name: String, value: String, requirement: String, hint: String)
    /// Sigma calibration could not reach the target: even the largest noise searched gives a
    /// larger epsilon, or the smallest gives a smaller one.
    case targetUnreachable(name: String, target: Double, detail: String)
    /// The computation would need more memory than the accountant allows (a PLD grid or FFT
    /// beyond its size cap); `name` is the parameter to change.
    case computationTooLarge(name: String, detail: String)
    /// The model is not in the state an operation needs (e.g. DP-SGD clipping before a backward
    /// pass with per-sample gradients); `name` is the parameter tensor concerned.
    case modelState(name: String, detail: String)
    /// A model file's metadata lacks a key an operation needs, or holds a malformed value;
    /// `name` is the metadata key.
    case metadata(name: String, detail: String)
    /// A loss, a gradient or a parameter became NaN or infinite during DP training: the run
    /// diverged, and nothing it produced may be released. `name` is the quantity concerned.
    case nonFinite(name: String, detail: String)
    /// Writing a model file failed; `name` is the path.
    case writeFailed(name: String, detail: String)
    /// A model, model spec or data set could not be read; `name` is the path or option.
    case unreadable(name: String, detail: String)

    /// The parameter the error is about (for the CLI's one-line message and for tests).
    public var parameter: String {
        switch self {
        case .invalidParameter(let name, _, _, _): return name
        case .targetUnreachable(let name, _, _): return name
        case .computationTooLarge(let name, _): return name
        case .modelState(let name, _): return name
        case .metadata(let name, _): return name
        case .nonFinite(let name, _): return name
        case .writeFailed(let name, _): return name
        case .unreadable(let name, _): return name
        }
    }

    public var description: String {
        switch self {
        case .invalidParameter(let name, let value, let requirement, let hint):
            return "invalid \(name) = \(value): \(requirement). \(hint)"
        case .targetUnreachable(let name, let target, let detail):
            return "cannot reach \(name) = \(target): \(detail)"
        case .computationTooLarge(let name, let detail):
            return "\(name) makes the computation too large: \(detail)"
        case .modelState(let name, let detail):
            return "model parameter \(name): \(detail)"
        case .metadata(let name, let detail):
            return "model metadata key '\(name)': \(detail)"
        case .nonFinite(let name, let detail):
            return "DP training stopped: \(name) is NaN or infinite (\(detail)); no model was "
                + "written. Lower the learning rate or check the input data."
        case .writeFailed(let name, let detail):
            return "cannot write \(name): \(detail)"
        case .unreadable(let name, let detail):
            return "cannot read \(name): \(detail)"
        }
    }
}

/// Range checks shared by the accountants and the calibration functions. Each one rejects NaN
/// and infinities as well, because an accountant fed a NaN would silently report a NaN epsilon.
enum Check {
    static func positive(_ value: Double, _ name: String, hint: String) throws(DPError) {
        guard value.isFinite, value > 0 else {
            throw .invalidParameter(
                name: name, value: "\(value)", requirement: "must be a finite number > 0",
                hint: hint)
        }
    }

    static func delta(_ value: Double, _ name: String = "delta") throws(DPError) {
        guard value.isFinite, value > 0, value < 1 else {
            throw .invalidParameter(
                name: name, value: "\(value)", requirement: "must lie in the open interval (0, 1)",
                hint: "Use a small delta such as 1e-5, well below 1/(dataset size).")
        }
    }

    static func samplingRate(_ value: Double, _ name: String = "q") throws(DPError) {
        guard value.isFinite, value > 0, value <= 1 else {
            throw .invalidParameter(
                name: name, value: "\(value)", requirement: "must lie in (0, 1]",
                hint: "The sampling rate is batch size / dataset size, e.g. 256/60000.")
        }
    }

    static func sigma(_ value: Double, _ name: String = "sigma") throws(DPError) {
        try positive(
            value, name,
            hint: "The noise multiplier (noise std / clipping norm) must be positive, e.g. 1.1.")
    }

    static func epsilon(_ value: Double, _ name: String = "epsilon") throws(DPError) {
        try positive(value, name, hint: "Pass a positive privacy budget such as 1.0 or 8.0.")
    }

    static func steps(_ value: Int, _ name: String = "steps") throws(DPError) {
        guard value >= 1 else {
            throw .invalidParameter(
                name: name, value: "\(value)", requirement: "must be an integer >= 1",
                hint: "Steps is the number of noisy gradient steps, epochs * (1/q).")
        }
    }
}
