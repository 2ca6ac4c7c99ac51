import Groth16

/// Why a `.ptau` file was rejected: what, and where (section and absolute byte offset).
public enum PtauError: BinFileError, Equatable, CustomStringConvertible {
    case notAPtau(file: String)
    case unsupportedVersion(file: String, version: UInt32)
    case truncated(file: String, section: String, offset: Int, needed: Int)
    case missingSection(file: String, section: String)
    case duplicateSection(file: String, section: String, offset: Int)
    case invalid(file: String, section: String, offset: Int, reason: String)
    case tooLarge(file: String, section: String, offset: Int, what: String, value: UInt64, limit: UInt64)

    public var description: String {
        switch self {
        case .notAPtau(let f): return "\(f): not a snarkjs .ptau file (bad magic bytes)"
        case .unsupportedVersion(let f, let v): return "\(f): .ptau format version \(v) is not supported (expected 1)"
        case .truncated(let f, let s, let o, let n):
            return "\(f): truncated in section \(s) at byte \(o) (needed \(n) more bytes); the file is incomplete"
        case .missingSection(let f, let s): return "\(f): required section \(s) is missing"
        case .duplicateSection(let f, let s, let o): return "\(f): section \(s) appears twice (second at byte \(o))"
        case .invalid(let f, let s, let o, let r): return "\(f): section \(s) at byte \(o): \(r)"
        case .tooLarge(let f, let s, let o, let w, let v, let l):
            return "\(f): section \(s) at byte \(o): \(w) = \(v) exceeds the limit \(l)"
        }
    }
}

/// Why a ceremony operation failed. `unsound` means the transcript was read but a check failed
/// (the CLI's exit code 1); everything else is bad input or misuse (exit code 2).
public enum CeremonyError: Error, Equatable, CustomStringConvertible {
    /// A check failed at one contribution: phase (1 or 2, or 3 for a link ceremony,
    /// `LinkTranscript`), its index (1-based; 0 is the starting state), the contributor's name
    /// when known, and what failed.
    case unsound(phase: Int, index: Int, name: String, reason: String)
    case ptau(PtauError)
    case zkey(ZkeyError)
    /// A file is missing, unreadable or not what the ceremony directory should hold.
    case badInput(path: String, reason: String)
    /// The operation does not fit the ceremony's state (e.g. a phase-1 contribution after
    /// phase 2 started, or exporting keys with no phase-2 contribution).
    case usage(String)

    public var isUnsound: Bool { if case .unsound = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .unsound(let phase, let index, let name, let reason):
            let who = index == 0 ? "the starting state" : "contribution #\(index)" + (name.isEmpty ? "" : " (\(name))")
            return "unsound transcript: \(phase == 3 ? "the link" : "phase \(phase)"), \(who): \(reason)"
        case .ptau(let e): return e.description
        case .zkey(let e): return e.description
        case .badInput(let p, let r): return "\(p): \(r)"
        case .usage(let s): return s
        }
    }
}
