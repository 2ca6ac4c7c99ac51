import Foundation

/// Why a split-learning session stopped or refused something. Every case names where the
/// problem is (peer, step, file) and what was wrong, so the log line alone explains it.
public enum SplitError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The peer sent a message this side refuses: the honest side's model is untouched by it.
    case rejected(step: UInt64, reason: String)
    /// The peer refused one of our messages (its `Reject` frame).
    case peerRejected(step: UInt64, reason: String)
    /// Handshake parameters differ between the two sides.
    case handshake(String)
    /// A frame that is not a well-formed protocol message.
    case malformedFrame(String)
    /// The connection closed, timed out or failed.
    case connection(String)
    /// A key directory, spec, checkpoint or record could not be used.
    case file(path: String, reason: String)
    /// An argument out of range (CLI or API).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .rejected(let step, let reason): return "step \(step): message rejected: \(reason)"
        case .peerRejected(let step, let reason): return "step \(step): the peer rejected our message: \(reason)"
        case .handshake(let reason): return "handshake failed: \(reason)"
        case .malformedFrame(let reason): return "malformed frame: \(reason)"
        case .connection(let reason): return "connection: \(reason)"
        case .file(let path, let reason): return "\(path): \(reason)"
        case .invalidArgument(let reason): return reason
        }
    }
}
