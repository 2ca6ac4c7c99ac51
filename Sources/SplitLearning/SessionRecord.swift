import Algebra
import Commitment
import Foundation
import ZKML

/// The modes of a split session, from the strongest to none.
public enum SplitMode: String, CaseIterable, Sendable, Codable {
    /// Every message carries its proof and is verified before use.
    case verified
    /// Both sides train up to `pipelineDepth` steps ahead of the proofs, which follow in
    /// `ProofBundle` frames; a failed proof rolls the receiver back to its last verified state.
    case pipelined
    /// Hash-chained commitments only: catches tampering in transit, not a wrong computation.
    case ledger
    /// No integrity at all: the speed reference.
    case plain

    var usesProofs: Bool { self == .verified || self == .pipelined }
    var usesCommitments: Bool { self != .plain }

    var wire: Verisplit_Split_V1_Mode {
        switch self {
        case .verified: return .verified
        case .pipelined: return .pipelined
        case .ledger: return .ledger
        case .plain: return .plain
        }
    }

    init?(wire: Verisplit_Split_V1_Mode) {
        switch wire {
        case .verified: self = .verified
        case .pipelined: self = .pipelined
        case .ledger: self = .ledger
        case .plain: self = .plain
        default: return nil
        }
    }
}

/// What both sides saw of one step: the public values, commitments and proofs (no weight, no
/// weight salt, no input image). `verisplit split verify-transcript` re-checks these offline.
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: UInt64
    public var activations: [Int64]
    public var label: Int
    /// The committed sample this step trained on (the schedule's index) and its leaf hash.
    public var sampleIndex: Int = 0
    public var sampleLeaf: String = ""
    /// Step 0 only: the client's schedule secret, which opens the header's schedule commitment.
    public var scheduleSecret: String = ""
    public var activationSalt: String = ""
    public var activationCommitment: String = ""
    /// Commitment to the client weights the activations come from (cW_t).
    public var clientWeights: String = ""
    public var forwardProof: String = ""
    public var gradient: [Int64] = []
    public var gradientSalt: String = ""
    public var gradientCommitment: String = ""
    public var serverBefore: String = ""
    public var serverAfter: String = ""
    public var serverProof: String = ""
    /// Commitment to the client weights after its update (cW_{t+1}).
    public var clientWeightsAfter: String = ""
    public var updateProof: String = ""

    enum CodingKeys: String, CodingKey {
        case step, activations, label, gradient
        case sampleIndex = "sample_index", sampleLeaf = "sample_leaf", scheduleSecret = "schedule_secret"
        case activationSalt = "activation_salt", activationCommitment = "activation_commitment"
        case clientWeights = "client_weights", forwardProof = "forward_proof"
        case gradientSalt = "gradient_salt", gradientCommitment = "gradient_commitment"
        case serverBefore = "server_before", serverAfter = "server_after", serverProof = "server_proof"
        case clientWeightsAfter = "client_weights_after", updateProof = "update_proof"
    }

    /// The transcript entries this step contributes (both sides derive the same ones).
    func transcriptEntries() -> [(label: String, payload: [UInt8])] {
        let stepBytes = Self.stepBytes(step)
        func hexBytes(_ s: String) -> [UInt8] { Hex.decode(s) ?? [] }
        return [
            ("activations", stepBytes + Self.stepBytes(UInt64(sampleIndex)) + hexBytes(sampleLeaf) + hexBytes(activationCommitment)
                + hexBytes(clientWeights)),
            ("gradient", stepBytes + hexBytes(gradientCommitment) + hexBytes(serverBefore) + hexBytes(serverAfter)),
        ]
    }

    func isComplete(mode: SplitMode) -> Bool {
        guard !gradient.isEmpty else { return false }
        if mode.usesCommitments, clientWeightsAfter.isEmpty { return false }
        if mode.usesProofs { return !forwardProof.isEmpty && !serverProof.isEmpty && !updateProof.isEmpty }
        return true
    }
}

/// The header line of a session record file (`record.jsonl`: this header, then one
/// `StepRecord` per line in step order).
public struct RecordHeader: Codable, Sendable, Equatable {
    public var version = 2
    public var session: String
    public var mode: SplitMode
    public var role: String
    public var specHash: String
    public var verifyingKeyHashes: [String]
    /// Commitments at the session's start: the client's and the server's weights.
    public var clientStart: String
    public var serverStart: String
    /// The client's dataset announcement: Merkle root (empty in plain mode), sample count, and
    /// the schedule commitment, or the fixed schedule seed of an experiment.
    public var datasetRoot: String
    public var datasetSize: UInt64
    public var scheduleCommitment: String
    public var fixedScheduleSeed: UInt64?

    enum CodingKeys: String, CodingKey {
        case version, session, mode, role
        case specHash = "spec_hash", verifyingKeyHashes = "verifying_key_hashes"
        case clientStart = "client_start", serverStart = "server_start"
        case datasetRoot = "dataset_root", datasetSize = "dataset_size", scheduleCommitment = "schedule_commitment"
        case fixedScheduleSeed = "fixed_schedule_seed"
    }

    /// The announcement as the session id bound it; nil when a field does not parse.
    var announcement: DatasetAnnouncement? {
        guard let commitment = Hex.decode(scheduleCommitment) else { return nil }
        let root: Fr
        if datasetRoot.isEmpty { root = .zero } else {
            guard let parsed = Hex.field(datasetRoot) else { return nil }
            root = parsed
        }
        return DatasetAnnouncement(root: root, size: datasetSize, scheduleCommitment: commitment, fixedScheduleSeed: fixedScheduleSeed)
    }
}

/// A layer's parameters after `steps` completed steps, with the salt and commitment that bind
/// them (both empty in plain mode). Part of a party's private checkpoint: never sent.
public struct ParameterSnapshot: Codable, Sendable, Equatable {
    public var steps: UInt64
    public var weights: [Int64]
    public var bias: [Int64]
    public var salt: String
    public var commitment: String

    /// Throws unless the snapshot has the layer's shape (`weights` and `bias` counts) and, in a
    /// mode with commitments, a salt and a commitment that parse: a checkpoint is a file, and a
    /// short or overlong one must be an error, not a trap in the layer's initializer.
    func validate(weights expectedWeights: Int, bias expectedBias: Int, commitments: Bool, file: String) throws(SplitError) {
        guard weights.count == expectedWeights, bias.count == expectedBias else {
            throw .file(path: file, reason: "the snapshot after step \(steps) has \(weights.count) weights and \(bias.count) biases; the spec's layer has \(expectedWeights) and \(expectedBias)")
        }
        if commitments, Hex.field(salt) == nil || Hex.field(commitment) == nil {
            throw .file(path: file, reason: "the snapshot after step \(steps) lacks a valid salt or commitment")
        }
    }
}

/// A party's private state for resuming: its last settled parameter snapshots (a window, so
/// the two sides can meet at the lower of their steps) and the session's identity. Written
/// atomically with owner-only permissions: it holds the weights and their commitment salts,
/// which the party needs to keep proving against its published commitments.
public struct Checkpoint: Codable, Sendable, Equatable {
    public var version = 2
    public var role: String
    public var session: String
    public var mode: SplitMode
    public var specHash: String
    public var snapshots: [ParameterSnapshot]
    /// Client only: the secrets behind its dataset commitment (leaf salts) and its schedule
    /// commitment, needed to rebuild both on resume. Secret: the file is owner-only.
    public var datasetSecret: String?
    public var scheduleSecret: String?

    enum CodingKeys: String, CodingKey {
        case version, role, session, mode, snapshots
        case specHash = "spec_hash", datasetSecret = "dataset_secret", scheduleSecret = "schedule_secret"
    }

    func snapshot(at steps: UInt64) -> ParameterSnapshot? { snapshots.first { $0.steps == steps } }
    var latest: ParameterSnapshot? { snapshots.last }
}

/// Which of a step's two transcript entries to append.
enum RecordEntries { case activations, gradient, both }

extension Transcript {
    /// Appends a step record's entries: the activations entry when its message is sent or
    /// received, the gradient entry with the answer, both when rebuilding from a record file.
    mutating func append(_ record: StepRecord, _ which: RecordEntries = .both) {
        let entries = record.transcriptEntries()
        let chosen = which == .activations ? Array(entries.prefix(1)) : which == .gradient ? Array(entries.dropFirst()) : entries
        for entry in chosen { append(label: entry.label, payload: entry.payload) }
    }
}

/// Files of one party's session: `checkpoint.json` and `record.jsonl` in a directory.
struct SessionFiles: Sendable {
    let directory: URL
    var checkpointURL: URL { directory.appendingPathComponent("checkpoint.json") }
    var recordURL: URL { directory.appendingPathComponent("record.jsonl") }

    static let maxFileBytes = 1 << 30

    func writeCheckpoint(_ checkpoint: Checkpoint) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Self.atomicWrite(try encoder.encode(checkpoint), to: checkpointURL)
    }

    func readCheckpoint() throws -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else { return nil }
        let data = try Self.read(checkpointURL)
        do { return try JSONDecoder().decode(Checkpoint.self, from: data) } catch {
            throw SplitError.file(path: checkpointURL.path, reason: "not a checkpoint (\(error)); move it away to start a new session")
        }
    }

    func writeRecord(header: RecordHeader, steps: [StepRecord]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var data = try Self.line(header)
        for step in steps { data += try Self.line(step) }
        try Self.atomicWrite(data, to: recordURL)
    }

    /// Cuts the record file back to the steps before `steps` (a resumed session replays from
    /// there) and returns its header and the steps kept.
    func rewindRecord(to steps: UInt64) throws -> (header: RecordHeader, kept: [StepRecord]) {
        let (header, all) = try SessionRecordFile.read(recordURL)
        let kept = all.filter { $0.step < steps }
        try writeRecord(header: header, steps: kept)
        return (header, kept)
    }

    func appendRecord(_ step: StepRecord) throws {
        let handle = try FileHandle(forWritingTo: recordURL)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: try Self.line(step))
    }

    static func line<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value) + Data([0x0a])
    }

    static func read(_ url: URL) throws -> Data {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let size = attributes?[.size] as? Int, size > maxFileBytes {
            throw SplitError.file(path: url.path, reason: "\(size) bytes, more than the \(maxFileBytes)-byte limit")
        }
        do { return try Data(contentsOf: url) } catch {
            throw SplitError.file(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    /// Writes to a temporary file (mode 0600) and renames it over `url`, so a process killed
    /// mid-write leaves the previous version intact.
    static func atomicWrite(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw SplitError.file(path: temporary.path, reason: "cannot write")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw SplitError.file(path: url.path, reason: "cannot replace (errno \(errno))")
        }
    }
}

/// Reads a record file: its header and step records, each line validated.
public enum SessionRecordFile {
    public static func read(_ url: URL) throws -> (header: RecordHeader, steps: [StepRecord]) {
        let data = try SessionFiles.read(url)
        let lines = data.split(separator: 0x0a, omittingEmptySubsequences: true)
        guard let first = lines.first else { throw SplitError.file(path: url.path, reason: "empty record") }
        let decoder = JSONDecoder()
        let header: RecordHeader
        do { header = try decoder.decode(RecordHeader.self, from: Data(first)) } catch {
            throw SplitError.file(path: url.path, reason: "line 1: not a record header (\(error))")
        }
        var steps: [StepRecord] = []
        for (index, line) in lines.dropFirst().enumerated() {
            do { steps.append(try decoder.decode(StepRecord.self, from: Data(line))) } catch {
                throw SplitError.file(path: url.path, reason: "line \(index + 2): not a step record (\(error))")
            }
        }
        return (header, steps)
    }
}

/// Lower-case hex without separators.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }

    static func decode(_ text: String) -> [UInt8]? { decodeHex(text) }

    static func field(_ value: Fr) -> String { encode(value.littleEndianBytes()) }

    static func field(_ text: String) -> Fr? {
        guard let bytes = decode(text) else { return nil }
        return try? Fr(littleEndian: bytes)
    }
}
