import Algebra
import Commitment
import Foundation
import Logging
import ZKML

/// What both parties agree on before the first step: the spec (and the SHA-256 of its file),
/// and the keys of its three circuits (required for the modes with proofs).
public struct SessionSetup: Sendable {
    public let spec: CircuitSpec
    /// The spec file's bytes (what both sides hash; a server process started by `ProcessRun`
    /// reads the same bytes).
    public let specData: Data
    public let specHash: [UInt8]
    public let keys: SplitKeys?

    public init(spec: CircuitSpec, specData: Data, keys: SplitKeys?) {
        self.spec = spec
        self.specData = specData
        specHash = SHA256.hash(Array(specData))
        self.keys = keys
    }

    /// The verifying-key hashes a session in `mode` agrees on (none without proofs), or an
    /// error when the mode needs keys this setup lacks.
    func keyHashes(for mode: SplitMode) throws(SplitError) -> [[UInt8]] {
        guard mode.usesProofs else { return [] }
        guard let keys else { throw .invalidArgument("mode \(mode.rawValue) needs the circuits' keys (--keys DIR)") }
        return keys.hashes
    }
}

/// How a session ended, from one side's point of view.
public struct SessionOutcome: Sendable, Codable {
    /// The session id (nil if the handshake did not get that far).
    public var session: Fr?
    /// Steps this side completed and kept (after any rollback).
    public var completedSteps: UInt64 = 0
    /// This side refused a message of the peer (`rejection` says why).
    public var rejected = false
    public var rejection: Rejection?
    /// The peer refused one of this side's messages; `peerRejection` is the case it named
    /// (`Rejection.kind`), when it sent a known one.
    public var peerRejected = false
    public var peerRejection: String?
    public var reason: String?
    /// The typed error `reason` describes, in the process that ran the session (tests and
    /// reports match on it); the JSON form carries only `reason`.
    public var error: SplitError?
    public var stats = PartyStats()
    public var transcriptHead: Digest?
    /// Stopped on purpose before the end (`stopAfterSteps`), as a killed process would.
    public var interrupted = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case session, rejected, rejection, reason, stats, interrupted
        case completedSteps = "steps_completed", peerRejected = "peer_rejected", peerRejection = "peer_rejection"
        case transcriptHead = "transcript_head"
    }

    /// The session id's first 16 hex digits, for log lines ("none" before a handshake).
    public var shortSession: String { session.map { String(Hex.field($0).prefix(16)) } ?? "none" }

    /// The JSON form (a party process's summary line) spells the session and the head in hex, ""
    /// when absent; reading it validates both.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        session = try c.field(.session)
        completedSteps = try c.decode(UInt64.self, forKey: .completedSteps)
        rejected = try c.decode(Bool.self, forKey: .rejected)
        rejection = try c.decodeIfPresent(Rejection.self, forKey: .rejection)
        peerRejected = try c.decode(Bool.self, forKey: .peerRejected)
        peerRejection = try c.decodeIfPresent(String.self, forKey: .peerRejection)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        stats = try c.decode(PartyStats.self, forKey: .stats)
        transcriptHead = try c.digest(.transcriptHead)
        interrupted = try c.decode(Bool.self, forKey: .interrupted)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Hex.field(session), forKey: .session)
        try c.encode(completedSteps, forKey: .completedSteps)
        try c.encode(rejected, forKey: .rejected)
        try c.encodeIfPresent(rejection, forKey: .rejection)
        try c.encode(peerRejected, forKey: .peerRejected)
        try c.encodeIfPresent(peerRejection, forKey: .peerRejection)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encode(stats, forKey: .stats)
        try c.encode(transcriptHead?.hex ?? "", forKey: .transcriptHead)
        try c.encode(interrupted, forKey: .interrupted)
    }
}

/// What the client commits to in Hello about its data: the Merkle root of its training set, the
/// number of samples, and how the sample order is drawn (a commitment to its schedule secret,
/// or, in experiments the server allows, a fixed seed).
public struct DatasetAnnouncement: Sendable, Equatable {
    public var root: Fr
    public var size: UInt64
    public var scheduleCommitment: [UInt8]
    public var fixedScheduleSeed: UInt64?

    public init(root: Fr, size: UInt64, scheduleCommitment: [UInt8], fixedScheduleSeed: UInt64?) {
        self.root = root
        self.size = size
        self.scheduleCommitment = scheduleCommitment
        self.fixedScheduleSeed = fixedScheduleSeed
    }

    var bytes: [UInt8] {
        var out = root.littleEndianBytes()
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: size >> UInt64(8 * k))) }
        out += scheduleCommitment
        if let seed = fixedScheduleSeed {
            out.append(1)
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: seed >> UInt64(8 * k))) }
        } else {
            out.append(0)
        }
        return out
    }

    /// The public sample order of a session (see `SampleSchedule`): from the fixed seed, or
    /// from the session and the revealed secret when it opens the schedule commitment; nil
    /// otherwise (and for an empty set).
    public func schedule(session: Fr, revealedSecret: [UInt8]?) -> SampleSchedule? {
        // The size was bounded by the spec's dataset depth before any schedule is drawn.
        guard size >= 1, let count = Int(exactly: size) else { return nil }
        if let seed = fixedScheduleSeed {
            return SampleSchedule(
                seed: SHA256.hash(
                    Array("VeriSplit/fixed-schedule/v1".utf8)
                        + (0..<8).map { UInt8(truncatingIfNeeded: seed >> UInt64(8 * $0)) }),
                count: count)
        }
        guard let revealedSecret, SampleSchedule.commitment(to: revealedSecret) == scheduleCommitment else {
            return nil
        }
        return SampleSchedule(session: session, clientSecret: revealedSecret, count: count)
    }
}

/// Session ids: SHA-256 of both nonces and everything agreed (spec, keys, mode, the dataset
/// announcement), reduced to 31 bytes (always below r), so neither side alone chooses it and it
/// binds the spec, the keys and the committed training set. The client recomputes it from the
/// server's nonce and refuses a Welcome that names another.
public enum SessionID {
    public static func derive(
        clientNonce: [UInt8], serverNonce: [UInt8], specHash: [UInt8], keyHashes: [[UInt8]], mode: SplitMode,
        dataset: DatasetAnnouncement
    ) -> Fr {
        var bytes = Array("VeriSplit/Session/v2".utf8) + clientNonce + serverNonce + specHash
        for hash in keyHashes { bytes += hash }
        bytes += Array(mode.rawValue.utf8)
        bytes += dataset.bytes
        let digest = SHA256.hash(bytes)
        // 31 bytes and a zero top byte: below r.
        return Fr(reducing: BigInt(littleEndian: Array(digest.prefix(31))))
    }
}

extension Logger {
    public static let split = Logger(label: "verisplit.split")
}
