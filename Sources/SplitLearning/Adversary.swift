import Algebra

/// A dishonest party the CLI and tests can play, each against one guarantee of the protocol.
/// `verified` and `pipelined` sessions catch all of them; `ledger` catches only what its
/// commitments and frame checks see (`bad-commitment`, `garbage-frame`, `extreme-gradient`);
/// `plain` only frames that do not parse and values out of range.
public enum Adversary: String, CaseIterable, Sendable, Codable {
    case none
    /// Server: returns the gradient of its own objective (here: the loss on another label, as a
    /// feature-space hijacking server trains the client toward its own target).
    case fsha
    /// Server: scales and shifts the true gradient.
    case scaleGradient = "scale-gradient"
    /// Client: sends activations that do not come from its committed weights.
    case forgedActivations = "forged-activations"
    /// Client: solves for a field-valued "input" that its committed convolution maps to the
    /// activations it wants, and proves the forward pass on it (defeated by the range checks
    /// and the dataset commitment).
    case forgedInput = "forged-input"
    /// Server: sends the proof of the previous step again.
    case replay
    /// Server: sends a valid proof made for another session.
    case wrongSession = "wrong-session"
    /// Server: its gradient does not open the commitment it sends.
    case badCommitment = "bad-commitment"
    /// Client: sends a frame of random bytes instead of its activations.
    case garbageFrame = "garbage-frame"
    /// Server: sends Int64.min and Int64.max as gradient values (a peer's input must never trap
    /// the honest side: every mode refuses it by its range check).
    case extremeGradient = "extreme-gradient"

    public enum Side: String, Sendable { case client, server }

    public var side: Side? {
        switch self {
        case .none: return nil
        case .forgedActivations, .forgedInput, .garbageFrame: return .client
        case .fsha, .scaleGradient, .replay, .wrongSession, .badCommitment, .extremeGradient: return .server
        }
    }

    /// The adversaries a mode is expected to catch (the ledger baseline misses the rest).
    public func isCaught(by mode: SplitMode) -> Bool {
        switch (self, mode) {
        case (.none, _): return false
        case (.extremeGradient, _): return true
        case (_, .verified), (_, .pipelined): return true
        case (.badCommitment, .ledger), (.garbageFrame, .ledger), (.garbageFrame, .plain): return true
        default: return false
        }
    }
}

/// The gradient a dishonest server substitutes at its attack step.
enum Tamper {
    static func scaled(_ gradient: [Int64]) -> [Int64] {
        gradient.enumerated().map { j, g in 2 * g + (j == 0 ? 1 : 0) }
    }

    static func extreme(_ gradient: [Int64]) -> [Int64] {
        gradient.enumerated().map { j, g in j == 0 ? .min : j == 1 ? .max : g }
    }

    static func forged(_ activations: [Int64], one: Int64) -> [Int64] {
        var a = activations
        if !a.isEmpty { a[0] += one }
        return a
    }
}
