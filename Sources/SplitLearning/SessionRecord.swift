import Algebra
import Commitment
import Foundation
import Groth16
import ZKML

/// What both sides saw of one step: the public values, commitments and proofs (no weight, no
/// weight salt, no input image). `verisplit split verify-transcript` re-checks these offline.
/// Values are typed (`nil` is absent); the JSON form writes field elements and proofs as
/// lower-case hex (an absent one as ""), the format of `record.jsonl`.
public struct StepRecord: Sendable, Equatable {
    public var step: UInt64
    /// The step's activations: the samples' rows one after another.
    public var activations: [Int64]
    /// The committed samples this step trained on (their schedule indices, labels and leaf hashes).
    public var samples: [Message.Sample]
    /// Step 0 only: the client's schedule secret, which opens the header's schedule commitment.
    public var scheduleSecret: [UInt8]?
    public var activationSalt: Fr?
    public var activationCommitment: Fr?
    /// Commitment to the client weights the activations come from (cW_t).
    public var clientWeights: Fr?
    public var forwardProof: StepProof?
    /// The gradient at the cut (empty until the server's answer).
    public var gradient: [Int64] = []
    public var gradientSalt: Fr?
    public var gradientCommitment: Fr?
    public var serverBefore: Fr?
    public var serverAfter: Fr?
    public var serverProof: StepProof?
    /// Commitment to the client weights after its update (cW_{t+1}).
    public var clientWeightsAfter: Fr?
    public var updateProof: StepProof?

    public init(step: UInt64, activations: [Int64], samples: [Message.Sample]) {
        self.step = step
        self.activations = activations
        self.samples = samples
    }

    /// The activations half of a record, as the message carries it.
    init(_ m: Message.Activations) {
        self.init(step: m.step, activations: m.values, samples: m.samples)
        scheduleSecret = m.scheduleSecret
        activationSalt = m.salt
        activationCommitment = m.commitment
        clientWeights = m.weightsCommitment
    }

    /// The transcript entries this step contributes (both sides derive the same ones).
    func transcriptEntries() -> [(label: String, payload: [UInt8])] {
        var activations = Self.stepBytes(step)
        for sample in samples {
            activations += Self.stepBytes(UInt64(clamping: sample.index)) + Self.bytes(sample.leaf)
        }
        activations += Self.bytes(activationCommitment) + Self.bytes(clientWeights)
        return [
            ("activations", activations),
            (
                "gradient",
                Self.stepBytes(step) + Self.bytes(gradientCommitment) + Self.bytes(serverBefore)
                    + Self.bytes(serverAfter)
            ),
        ]
    }

    static func bytes(_ value: Fr?) -> [UInt8] { value?.littleEndianBytes() ?? [] }

    static func stepBytes(_ step: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: step >> UInt64(56 - 8 * $0)) }
    }
}

extension StepRecord: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case step, activations, label, gradient, samples
        case sampleIndex = "sample_index", sampleLeaf = "sample_leaf", scheduleSecret = "schedule_secret"
        case activationSalt = "activation_salt", activationCommitment = "activation_commitment"
        case clientWeights = "client_weights", forwardProof = "forward_proof"
        case gradientSalt = "gradient_salt", gradientCommitment = "gradient_commitment"
        case serverBefore = "server_before", serverAfter = "server_after", serverProof = "server_proof"
        case clientWeightsAfter = "client_weights_after", updateProof = "update_proof"
    }

    public init(from decoder: Decoder) throws {
        // A step of one sample spells it in the single-sample keys; a batch lists its samples
        // under `samples` and has none of those keys. Exactly one of the two forms.
        let c = try decoder.strictContainer(
            keyedBy: CodingKeys.self, optional: [.samples, .label, .sampleIndex, .sampleLeaf])
        step = try c.decode(UInt64.self, forKey: .step)
        activations = try c.decode([Int64].self, forKey: .activations)
        if c.contains(.samples) {
            guard !c.contains(.label), !c.contains(.sampleIndex), !c.contains(.sampleLeaf) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .samples, in: c,
                    debugDescription: "a batch's samples and the single-sample keys are both set")
            }
            samples = try c.decode([RecordSample].self, forKey: .samples).map(\.sample)
            guard samples.count >= 2 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .samples, in: c, debugDescription: "a batch lists two or more samples")
            }
        } else {
            for key in [CodingKeys.label, .sampleIndex, .sampleLeaf] where !c.contains(key) {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: c.codingPath, debugDescription: "the key '\(key.stringValue)' is missing"))
            }
            samples = [
                Message.Sample(
                    index: try c.decode(Int.self, forKey: .sampleIndex), label: try c.decode(Int.self, forKey: .label),
                    leaf: try c.field(.sampleLeaf))
            ]
        }
        scheduleSecret = try c.hexBytes(.scheduleSecret)
        activationSalt = try c.field(.activationSalt)
        activationCommitment = try c.field(.activationCommitment)
        clientWeights = try c.field(.clientWeights)
        forwardProof = try c.proof(.forwardProof)
        gradient = try c.decodeIfPresent([Int64].self, forKey: .gradient) ?? []
        gradientSalt = try c.field(.gradientSalt)
        gradientCommitment = try c.field(.gradientCommitment)
        serverBefore = try c.field(.serverBefore)
        serverAfter = try c.field(.serverAfter)
        serverProof = try c.proof(.serverProof)
        clientWeightsAfter = try c.field(.clientWeightsAfter)
        updateProof = try c.proof(.updateProof)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(activations, forKey: .activations)
        if samples.count == 1, let sample = samples.first {
            try c.encode(sample.label, forKey: .label)
            try c.encode(sample.index, forKey: .sampleIndex)
            try c.encode(Hex.field(sample.leaf), forKey: .sampleLeaf)
        } else {
            try c.encode(samples.map(RecordSample.init), forKey: .samples)
        }
        try c.encode(Hex.encode(scheduleSecret ?? []), forKey: .scheduleSecret)
        try c.encode(Hex.field(activationSalt), forKey: .activationSalt)
        try c.encode(Hex.field(activationCommitment), forKey: .activationCommitment)
        try c.encode(Hex.field(clientWeights), forKey: .clientWeights)
        try c.encode(Hex.proof(forwardProof), forKey: .forwardProof)
        try c.encode(gradient, forKey: .gradient)
        try c.encode(Hex.field(gradientSalt), forKey: .gradientSalt)
        try c.encode(Hex.field(gradientCommitment), forKey: .gradientCommitment)
        try c.encode(Hex.field(serverBefore), forKey: .serverBefore)
        try c.encode(Hex.field(serverAfter), forKey: .serverAfter)
        try c.encode(Hex.proof(serverProof), forKey: .serverProof)
        try c.encode(Hex.field(clientWeightsAfter), forKey: .clientWeightsAfter)
        try c.encode(Hex.proof(updateProof), forKey: .updateProof)
    }
}

/// One sample of a batched step in a record line: `{"index", "label", "leaf"}` and, in a mode
/// with commitments, `"siblings"` (the leaf's Merkle path, hex field elements, leaf level first),
/// strict like the line itself: an empty path is spelled by leaving the key out, never as `[]`.
struct RecordSample: Codable {
    let sample: Message.Sample

    init(_ sample: Message.Sample) { self.sample = sample }

    enum CodingKeys: String, CodingKey, CaseIterable { case index, label, leaf, siblings }

    init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self, optional: [.siblings])
        var siblings: [Fr] = []
        if c.contains(.siblings) {
            let texts = try c.decode([String].self, forKey: .siblings)
            guard (1...CircuitSpec.maxDatasetDepth).contains(texts.count) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .siblings, in: c,
                    debugDescription: "\(texts.count) siblings; a path has 1 to \(CircuitSpec.maxDatasetDepth)")
            }
            for text in texts {
                guard let bytes = Hex.decode(text), let value = try? Fr(littleEndian: bytes) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .siblings, in: c, debugDescription: "a sibling is not a canonical hex field element")
                }
                siblings.append(value)
            }
        }
        sample = Message.Sample(
            index: try c.decode(Int.self, forKey: .index), label: try c.decode(Int.self, forKey: .label),
            leaf: try c.field(.leaf), siblings: siblings)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sample.index, forKey: .index)
        try c.encode(sample.label, forKey: .label)
        try c.encode(Hex.field(sample.leaf), forKey: .leaf)
        if !sample.siblings.isEmpty { try c.encode(sample.siblings.map { Hex.field($0) }, forKey: .siblings) }
    }
}

/// The header line of a session record file (`record.jsonl`: this header, then one
/// `StepRecord` per line in step order).
///
/// Version 3 carries both handshake nonces, so an offline verifier re-derives the session id
/// from them and the header's own parameters (`SessionID.derive`): a header whose dataset
/// root, size, schedule commitment, mode, spec or key hashes were changed no longer matches
/// its session id, and the transcript chain starts from that id.
public struct RecordHeader: Sendable, Equatable {
    public static let currentVersion = 3
    public var version = RecordHeader.currentVersion
    public var session: Fr
    /// The handshake's nonces (32 bytes each): public, and with the parameters below they
    /// determine `session`.
    public var clientNonce: [UInt8]
    public var serverNonce: [UInt8]
    public var mode: SplitMode
    public var role: Role
    public var specHash: [UInt8]
    public var verifyingKeyHashes: [[UInt8]]
    /// Commitments at the session's start: the client's and the server's weights (absent in plain mode).
    public var clientStart: Fr?
    public var serverStart: Fr?
    /// The client's dataset announcement: Merkle root (absent in plain mode), sample count, and
    /// the schedule commitment, or the fixed schedule seed of an experiment.
    public var datasetRoot: Fr?
    public var datasetSize: UInt64
    public var scheduleCommitment: [UInt8]
    public var fixedScheduleSeed: UInt64?

    public init(
        session: Fr, clientNonce: [UInt8], serverNonce: [UInt8], mode: SplitMode, role: Role, specHash: [UInt8],
        verifyingKeyHashes: [[UInt8]], clientStart: Fr?, serverStart: Fr?, dataset: DatasetAnnouncement
    ) {
        self.session = session
        self.clientNonce = clientNonce
        self.serverNonce = serverNonce
        self.mode = mode
        self.role = role
        self.specHash = specHash
        self.verifyingKeyHashes = verifyingKeyHashes
        self.clientStart = clientStart
        self.serverStart = serverStart
        datasetRoot = mode.usesCommitments ? dataset.root : nil
        datasetSize = dataset.size
        scheduleCommitment = dataset.scheduleCommitment
        fixedScheduleSeed = dataset.fixedScheduleSeed
    }

    /// The session id the nonces and this header's parameters derive: equal to `session` in an
    /// untouched header.
    public var derivedSession: Fr {
        SessionID.derive(
            clientNonce: clientNonce, serverNonce: serverNonce, specHash: specHash, keyHashes: verifyingKeyHashes,
            mode: mode, dataset: announcement)
    }

    /// The announcement as the session id bound it. Without commitments the client commits to no
    /// dataset and announces the zero root (`ClientData`), which is what an absent root stands for;
    /// the modes with commitments require the root (`RecordVerifier` refuses a header without it).
    public var announcement: DatasetAnnouncement {
        DatasetAnnouncement(
            root: datasetRoot ?? .zero, size: datasetSize, scheduleCommitment: scheduleCommitment,
            fixedScheduleSeed: fixedScheduleSeed)
    }
}

extension RecordHeader: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, session, mode, role
        case clientNonce = "client_nonce", serverNonce = "server_nonce"
        case specHash = "spec_hash", verifyingKeyHashes = "verifying_key_hashes"
        case clientStart = "client_start", serverStart = "server_start"
        case datasetRoot = "dataset_root", datasetSize = "dataset_size", scheduleCommitment = "schedule_commitment"
        case fixedScheduleSeed = "fixed_schedule_seed"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self, optional: [.fixedScheduleSeed])
        version = try c.decode(Int.self, forKey: .version)
        guard version == Self.currentVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: c,
                debugDescription:
                    "record version \(version); this verifier reads version \(Self.currentVersion) (older records lack the nonces that bind the session id: record the session again)"
            )
        }
        guard let session = try c.field(.session) else {
            throw DecodingError.dataCorruptedError(
                forKey: .session, in: c, debugDescription: "the session id is missing")
        }
        self.session = session
        clientNonce = try c.hexBytes(.clientNonce) ?? []
        serverNonce = try c.hexBytes(.serverNonce) ?? []
        for (key, nonce) in [(CodingKeys.clientNonce, clientNonce), (.serverNonce, serverNonce)] where nonce.count != 32
        {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "a nonce is 32 bytes, not \(nonce.count)")
        }
        mode = try c.decode(SplitMode.self, forKey: .mode)
        role = try c.decode(Role.self, forKey: .role)
        specHash = try c.hexBytes(.specHash) ?? []
        verifyingKeyHashes = try c.decode([String].self, forKey: .verifyingKeyHashes).map { text in
            guard let bytes = Hex.decode(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .verifyingKeyHashes, in: c, debugDescription: "not lower-case hex")
            }
            return bytes
        }
        clientStart = try c.field(.clientStart)
        serverStart = try c.field(.serverStart)
        datasetRoot = try c.field(.datasetRoot)
        datasetSize = try c.decode(UInt64.self, forKey: .datasetSize)
        scheduleCommitment = try c.hexBytes(.scheduleCommitment) ?? []
        fixedScheduleSeed = try c.decodeIfPresent(UInt64.self, forKey: .fixedScheduleSeed)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(Hex.field(session), forKey: .session)
        try c.encode(Hex.encode(clientNonce), forKey: .clientNonce)
        try c.encode(Hex.encode(serverNonce), forKey: .serverNonce)
        try c.encode(mode, forKey: .mode)
        try c.encode(role, forKey: .role)
        try c.encode(Hex.encode(specHash), forKey: .specHash)
        try c.encode(verifyingKeyHashes.map(Hex.encode), forKey: .verifyingKeyHashes)
        try c.encode(Hex.field(clientStart), forKey: .clientStart)
        try c.encode(Hex.field(serverStart), forKey: .serverStart)
        try c.encode(Hex.field(datasetRoot), forKey: .datasetRoot)
        try c.encode(datasetSize, forKey: .datasetSize)
        try c.encode(Hex.encode(scheduleCommitment), forKey: .scheduleCommitment)
        try c.encodeIfPresent(fixedScheduleSeed, forKey: .fixedScheduleSeed)
    }
}

/// A layer's parameters after `steps` completed steps, with the salt and commitment that bind
/// them (absent in plain mode). Part of a party's private checkpoint: never sent.
public struct ParameterSnapshot: Sendable, Equatable {
    public var steps: UInt64
    public var weights: [Int64]
    public var bias: [Int64]
    public var salt: Fr?
    public var commitment: Fr?

    public init(steps: UInt64, weights: [Int64], bias: [Int64], salt: Fr?, commitment: Fr?) {
        self.steps = steps
        self.weights = weights
        self.bias = bias
        self.salt = salt
        self.commitment = commitment
    }

    /// Throws unless the snapshot has the layer's shape (`weights` and `bias` counts) and, in a
    /// mode with commitments, a salt and a commitment: a checkpoint is a file, and a short or
    /// overlong one must be an error, not a trap in the layer's initializer.
    func validate(
        weights expectedWeights: Int, bias expectedBias: Int, commitments: Bool, file: String
    ) throws(SplitError) {
        guard weights.count == expectedWeights, bias.count == expectedBias else {
            throw .snapshotShape(
                path: file, step: steps, weights: weights.count, bias: bias.count, expectedWeights: expectedWeights,
                expectedBias: expectedBias)
        }
        if commitments, salt == nil || commitment == nil {
            throw .file(path: file, reason: "the snapshot after step \(steps) lacks a valid salt or commitment")
        }
    }
}

extension ParameterSnapshot: Codable {
    enum CodingKeys: String, CodingKey { case steps, weights, bias, salt, commitment }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(UInt64.self, forKey: .steps)
        weights = try c.decode([Int64].self, forKey: .weights)
        bias = try c.decode([Int64].self, forKey: .bias)
        salt = try c.field(.salt)
        commitment = try c.field(.commitment)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(weights, forKey: .weights)
        try c.encode(bias, forKey: .bias)
        try c.encode(Hex.field(salt), forKey: .salt)
        try c.encode(Hex.field(commitment), forKey: .commitment)
    }
}

/// A party's private state for resuming: its last settled parameter snapshots (a window, so
/// the two sides can meet at the lower of their steps) and the session's identity. Written
/// atomically with owner-only permissions: it holds the weights and their commitment salts,
/// which the party needs to keep proving against its published commitments.
public struct Checkpoint: Sendable, Equatable {
    public var version = 2
    public var role: Role
    public var session: Fr
    public var mode: SplitMode
    public var specHash: [UInt8]
    public var snapshots: [ParameterSnapshot]
    /// Client only: the secrets behind its dataset commitment (leaf salts) and its schedule
    /// commitment, needed to rebuild both on resume. Secret: the file is owner-only.
    public var datasetSecret: [UInt8]?
    public var scheduleSecret: [UInt8]?

    public init(
        role: Role, session: Fr, mode: SplitMode, specHash: [UInt8], snapshots: [ParameterSnapshot],
        datasetSecret: [UInt8]? = nil, scheduleSecret: [UInt8]? = nil
    ) {
        self.role = role
        self.session = session
        self.mode = mode
        self.specHash = specHash
        self.snapshots = snapshots
        self.datasetSecret = datasetSecret
        self.scheduleSecret = scheduleSecret
    }

    func snapshot(at steps: UInt64) -> ParameterSnapshot? { snapshots.first { $0.steps == steps } }
    public var latest: ParameterSnapshot? { snapshots.last }
}

extension Checkpoint: Codable {
    enum CodingKeys: String, CodingKey {
        case version, role, session, mode, snapshots
        case specHash = "spec_hash", datasetSecret = "dataset_secret", scheduleSecret = "schedule_secret"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        role = try c.decode(Role.self, forKey: .role)
        guard let session = try c.field(.session) else {
            throw DecodingError.dataCorruptedError(
                forKey: .session, in: c, debugDescription: "the session id is missing")
        }
        self.session = session
        mode = try c.decode(SplitMode.self, forKey: .mode)
        specHash = try c.hexBytes(.specHash) ?? []
        snapshots = try c.decode([ParameterSnapshot].self, forKey: .snapshots)
        datasetSecret = try c.hexBytes(.datasetSecret)
        scheduleSecret = try c.hexBytes(.scheduleSecret)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(role, forKey: .role)
        try c.encode(Hex.field(session), forKey: .session)
        try c.encode(mode, forKey: .mode)
        try c.encode(Hex.encode(specHash), forKey: .specHash)
        try c.encode(snapshots, forKey: .snapshots)
        try c.encodeIfPresent(datasetSecret.map(Hex.encode), forKey: .datasetSecret)
        try c.encodeIfPresent(scheduleSecret.map(Hex.encode), forKey: .scheduleSecret)
    }
}

extension Transcript {
    /// Which of a step's two transcript entries to append.
    enum Entries { case activations, gradient, both }

    /// Appends a step record's entries: the activations entry when its message is sent or
    /// received, the gradient entry with the answer, both when rebuilding from a record file.
    mutating func append(_ record: StepRecord, _ which: Entries = .both) {
        let entries = record.transcriptEntries()
        let chosen =
            which == .activations ? Array(entries.prefix(1)) : which == .gradient ? Array(entries.dropFirst()) : entries
        for entry in chosen { append(label: entry.label, payload: entry.payload) }
    }
}

/// A party's stored session, read back to resume it: the checkpoint, and the record file's
/// header and steps.
public struct StoredSession: Sendable, Equatable {
    public var checkpoint: Checkpoint
    public var header: RecordHeader
    public var steps: [StepRecord]

    public init(checkpoint: Checkpoint, header: RecordHeader, steps: [StepRecord]) {
        self.checkpoint = checkpoint
        self.header = header
        self.steps = steps
    }

    /// The session as it stands after `persistence` (what `SessionFiles` writes, in memory):
    /// nil until a session starts.
    public static func applying(_ persistence: Persistence, to stored: StoredSession?) -> StoredSession? {
        switch persistence {
        case .start(let header, let checkpoint): return StoredSession(checkpoint: checkpoint, header: header, steps: [])
        case .rewind(let header, let steps):
            guard var stored else { return nil }
            stored.header = header
            stored.steps = steps
            return stored
        case .settle(let records, let checkpoint):
            guard var stored else { return nil }
            stored.steps += records
            stored.checkpoint = checkpoint
            return stored
        }
    }
}

/// Files of one party's session: `checkpoint.json` and `record.jsonl` in a directory.
struct SessionFiles: Sendable {
    let directory: URL
    var checkpointURL: URL { directory.appendingPathComponent("checkpoint.json") }
    var recordURL: URL { directory.appendingPathComponent("record.jsonl") }

    static let maxFileBytes = 1 << 30

    /// The server's directory for one session under its state root.
    static func server(root: URL, session: Fr) -> SessionFiles {
        SessionFiles(
            directory: root.appendingPathComponent("sessions").appendingPathComponent(
                String(Hex.field(session).prefix(32))))
    }

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
            throw SplitError.file(
                path: checkpointURL.path, reason: "not a checkpoint (\(error)); move it away to start a new session")
        }
    }

    /// The checkpoint and record, or nil when no checkpoint exists.
    func readSession() throws -> StoredSession? {
        guard let checkpoint = try readCheckpoint() else { return nil }
        let (header, steps) = try SessionRecordFile.read(recordURL)
        return StoredSession(checkpoint: checkpoint, header: header, steps: steps)
    }

    func writeRecord(header: RecordHeader, steps: [StepRecord]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var data = try Self.line(header)
        for step in steps { data += try Self.line(step) }
        try Self.atomicWrite(data, to: recordURL)
    }

    func appendRecords(_ steps: [StepRecord]) throws {
        guard !steps.isEmpty else { return }
        let handle = try FileHandle(forWritingTo: recordURL)
        defer { try? handle.close() }
        try handle.seekToEnd()
        for step in steps { try handle.write(contentsOf: try Self.line(step)) }
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
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
        else {
            throw SplitError.file(path: temporary.path, reason: "cannot write")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw SplitError.file(path: url.path, reason: "cannot replace (errno \(errno))")
        }
    }
}

/// Reads a record file: its header and step records, each line validated (every field element
/// canonical, every proof's points on their curves and in their subgroups).
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

/// Lower-case hex without separators: the JSON spelling of field elements, proofs and digests.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }

    /// Lower-case digits only: a record spells each value one way, so a line that reads as the
    /// same values is the line the party wrote.
    static func decode(_ text: String) -> [UInt8]? {
        guard !text.utf8.contains(where: { (65...70).contains($0) }) else { return nil }
        return decodeHex(text)
    }

    static func field(_ value: Fr) -> String { encode(value.littleEndianBytes()) }

    static func field(_ value: Fr?) -> String { value.map { field($0) } ?? "" }

    static func proof(_ value: StepProof?) -> String { value.map { encode($0.bytes) } ?? "" }
}

/// Any JSON object key, to see the keys a typed container would silently skip.
private struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// A keyed container for a record line that must have exactly the format's keys: an
    /// unknown key is an error, not ignored, and every key not in `optional` must be present
    /// (an empty string still spells an absent value). A record is evidence, so a line that
    /// differs from what a party wrote must not parse to the same value.
    func strictContainer<Key: CodingKey & CaseIterable & Hashable>(
        keyedBy type: Key.Type, optional: Set<Key> = []
    ) throws
        -> KeyedDecodingContainer<Key>
    {
        let any = try container(keyedBy: AnyCodingKey.self)
        let known = Set(Key.allCases.map(\.stringValue))
        if let unknown = any.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "unknown key '\(unknown.stringValue)'"))
        }
        let c = try container(keyedBy: type)
        if let absent = Key.allCases.first(where: { !optional.contains($0) && !c.contains($0) }) {
            throw DecodingError.keyNotFound(
                absent, .init(codingPath: codingPath, debugDescription: "the key '\(absent.stringValue)' is missing"))
        }
        return c
    }
}

extension KeyedDecodingContainer {
    /// A hex field element; "" or a missing key is absent, anything else must be canonical.
    func field(_ key: Key) throws -> Fr? {
        guard let bytes = try hexBytes(key) else { return nil }
        do { return try Fr(littleEndian: bytes) } catch {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "not a canonical field element (\(error))")
        }
    }

    /// A hex SHA-256 digest (a transcript head); "" or a missing key is absent.
    func digest(_ key: Key) throws -> Digest? {
        guard let bytes = try hexBytes(key) else { return nil }
        do { return try Digest(bytes: bytes) } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a 32-byte digest")
        }
    }

    /// A hex proof (256 bytes in the Ethereum layout, 384 with a commitment, 448 with a link);
    /// "" or a missing key is absent.
    func proof(_ key: Key) throws -> StepProof? {
        guard let bytes = try hexBytes(key) else { return nil }
        do { return try StepProof(bytes: bytes) } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a proof (\(error))")
        }
    }

    /// Hex bytes; "" or a missing key is absent.
    func hexBytes(_ key: Key) throws -> [UInt8]? {
        guard let text = try decodeIfPresent(String.self, forKey: key), !text.isEmpty else { return nil }
        guard let bytes = Hex.decode(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not lower-case hex")
        }
        return bytes
    }
}
