import Algebra
import Foundation
import Groth16
import SwiftProtobuf
import ZKML

/// The protocol's messages as the state machines see them: field elements as `Fr`, proofs as
/// `StepProof`, absent values as `nil`. Bytes exist only at the boundary: `Message(wire:)` decodes a
/// received envelope (every field element canonical, every proof's points on their curves and in
/// their subgroups, or a `Rejection` naming the field) and `wire` encodes one to send.
///
/// Per-sample values (index, label, leaf) are arrays and activations and gradients are the
/// samples' rows one after another, so a step that carries a mini-batch of B samples changes the
/// counts, not the shape. A step of `spec.batch` samples carries that many (the receiver's
/// `StepChecks` refuses any other count).
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case welcome(Welcome)
    case activations(Activations)
    case gradient(Gradient)
    case proof(ProofBundle)
    case reject(RejectNotice)
    case finish(Finish)

    public var name: String {
        switch self {
        case .hello: return "Hello"
        case .welcome: return "Welcome"
        case .activations: return "Activations"
        case .gradient: return "Gradient"
        case .proof: return "ProofBundle"
        case .reject: return "Reject"
        case .finish: return "Finish"
        }
    }

    /// Client -> server, the first message of a connection.
    public struct Hello: Sendable, Equatable {
        public var protocolVersion: UInt32 = Wire.protocolVersion
        /// The mode asked for; nil when the code is not one this side knows (`modeCode` keeps it).
        public var mode: SplitMode?
        public var modeCode = 0
        public var specHash: [UInt8] = []
        public var verifyingKeyHashes: [[UInt8]] = []
        public var batchSize: UInt32 = 0
        public var learningRateShift: UInt32 = 0
        public var fractionBits: UInt32 = 0
        public var pipelineDepth: UInt32 = 0
        public var clientNonce: [UInt8] = []
        /// The session to continue and the steps the client has settled; nil for a new session.
        public var resume: Resume?
        public var clientCommitment: Fr?
        public var steps: UInt64 = 0
        public var dataset: DatasetAnnouncement

        public init(dataset: DatasetAnnouncement) { self.dataset = dataset }
    }

    /// A client continuing a session: its id and the steps the client has settled.
    public struct Resume: Sendable, Equatable {
        public var session: Fr
        public var step: UInt64

        public init(session: Fr, step: UInt64) {
            self.session = session
            self.step = step
        }
    }

    /// Server -> client, the answer to Hello.
    public struct Welcome: Sendable, Equatable {
        public var serverNonce: [UInt8] = []
        public var session: Fr
        /// 0 for a new session; on resume the lower of the two sides' settled steps.
        public var startStep: UInt64 = 0
        public var serverCommitment: Fr?

        public init(session: Fr) { self.session = session }
    }

    /// One committed training sample a step uses: its index in the committed set (the
    /// schedule's), its label, its leaf hash (absent in plain mode, where nothing is committed)
    /// and, in a batched step with commitments, the leaf's Merkle siblings: the batched forward
    /// proof binds the values to the public leaf, and every verifier opens the leaf at the public
    /// index under the announced root natively (`StepChecks.activations`).
    public struct Sample: Sendable, Equatable {
        public var index: Int
        public var label: Int
        public var leaf: Fr?
        public var siblings: [Fr]

        public init(index: Int, label: Int, leaf: Fr?, siblings: [Fr] = []) {
            self.index = index
            self.label = label
            self.leaf = leaf
            self.siblings = siblings
        }
    }

    /// Client -> server: one step's cut-layer activations.
    public struct Activations: Sendable, Equatable {
        public var step: UInt64
        public var session: Fr?
        public var values: [Int64]
        public var samples: [Sample]
        /// Opening of `commitment` = Poseidon(values, labels; salt).
        public var salt: Fr?
        public var commitment: Fr?
        /// The client weights the activations come from.
        public var weightsCommitment: Fr?
        public var forwardProof: StepProof?
        /// Verified mode: the client's update proof of step - 1.
        public var previousUpdateProof: StepProof?
        /// The transcript head before this message.
        public var previousLink: [UInt8]?
        /// Step 0 only: opens Hello's schedule commitment and seeds the schedule.
        public var scheduleSecret: [UInt8]?

        public init(step: UInt64, session: Fr?, values: [Int64], samples: [Sample]) {
            self.step = step
            self.session = session
            self.values = values
            self.samples = samples
        }
    }

    /// Server -> client: the gradient at the cut for one step.
    public struct Gradient: Sendable, Equatable {
        public var step: UInt64
        public var session: Fr?
        public var values: [Int64]
        public var salt: Fr?
        public var commitment: Fr?
        public var weightsBefore: Fr?
        public var weightsAfter: Fr?
        public var proof: StepProof?
        public var previousLink: [UInt8]?

        public init(step: UInt64, session: Fr?, values: [Int64]) {
            self.step = step
            self.session = session
            self.values = values
        }
    }

    /// Pipelined mode: a proof that follows the message it proves.
    public struct ProofBundle: Sendable, Equatable {
        public var step: UInt64
        /// nil for a part code this side does not know.
        public var part: CircuitSpec.Part?
        public var proof: StepProof?
        public var session: Fr?

        public init(step: UInt64, part: CircuitSpec.Part?, proof: StepProof?, session: Fr?) {
            self.step = step
            self.part = part
            self.proof = proof
            self.session = session
        }
    }

    /// Either side: the session ends because a message was refused.
    public struct RejectNotice: Sendable, Equatable {
        public var step: UInt64
        /// The refusal's case (`Rejection.kind`); nil when the peer sent none or one this side
        /// does not know.
        public var kind: String?
        public var reason: String

        public init(step: UInt64, kind: String?, reason: String) {
            self.step = step
            self.kind = kind.flatMap { Rejection.allKinds.contains($0) ? $0 : nil }
            self.reason = reason
        }

        /// The notice for a refusal of this side.
        public init(step: UInt64, _ rejection: Rejection) {
            self.init(step: step, kind: rejection.kind, reason: rejection.message)
        }
    }

    /// Client -> server after the last step; server -> client as the acknowledgement.
    public struct Finish: Sendable, Equatable {
        public var steps: UInt64
        public var transcriptHead: [UInt8]
        /// Verified mode: the client update of the last step.
        public var lastUpdateProof: StepProof?
        public var clientCommitment: Fr?

        public init(steps: UInt64, transcriptHead: [UInt8]) {
            self.steps = steps
            self.transcriptHead = transcriptHead
        }
    }
}

// MARK: Wire encoding

typealias Envelope = Verisplit_Split_V1_Envelope

/// Conversions between wire bytes and validated values. Every decoder names the message and
/// field it read, so a rejection says exactly what was wrong.
public enum Wire {
    public static let protocolVersion: UInt32 = 1

    static func bytes(_ value: Fr?) -> Data { value.map { Data($0.littleEndianBytes()) } ?? Data() }

    static func bytes(_ proof: StepProof?) -> Data { proof.map { Data($0.bytes) } ?? Data() }

    /// A field element: exactly 32 bytes and below r (a non-canonical encoding would let one
    /// commitment travel under two spellings); empty bytes are an absent value.
    static func field(_ data: Data, _ what: String) throws(Rejection) -> Fr? {
        if data.isEmpty { return nil }
        do { return try Fr(littleEndian: Array(data)) } catch {
            throw .malformedField(field: what, reason: "not a canonical field element (\(error))")
        }
    }

    /// A proof: 256 bytes (one-sample circuits), 384 (batched, with a commitment) or 448 (the
    /// linked update: with its link), every point on its curve and in its subgroup; empty bytes
    /// are an absent proof. The length is checked before any point is read.
    static func proof(_ data: Data, _ what: String) throws(Rejection) -> StepProof? {
        if data.isEmpty { return nil }
        guard [StepProof.plainByteCount, CommittedProof.byteCount, StepProof.linkedByteCount].contains(data.count)
        else {
            throw .malformedField(field: what, reason: "a proof is 256, 384 or 448 bytes, got \(data.count)")
        }
        do { return try StepProof(bytes: Array(data)) } catch {
            throw .malformedField(field: what, reason: "invalid proof point (\(error))")
        }
    }

    static func optionalBytes(_ data: Data) -> [UInt8]? { data.isEmpty ? nil : Array(data) }

    /// One sample of an Activations message (`what` names where it was read).
    static func sample(
        index: UInt64, label: UInt32, leaf: Data, siblings: [Data] = [], _ what: String
    )
        throws(Rejection) -> Message.Sample
    {
        guard let checked = Int(exactly: index) else {
            throw .malformedField(field: "\(what).sample_index", reason: "\(index) is no sample index")
        }
        guard siblings.count <= CircuitSpec.maxDatasetDepth else {
            throw .malformedField(
                field: "\(what).siblings",
                reason: "\(siblings.count) siblings; no dataset tree is deeper than \(CircuitSpec.maxDatasetDepth)")
        }
        var path: [Fr] = []
        for (level, sibling) in siblings.enumerated() {
            guard let value = try field(sibling, "\(what).siblings[\(level)]") else {
                throw .malformedField(field: "\(what).siblings[\(level)]", reason: "empty")
            }
            path.append(value)
        }
        return Message.Sample(
            index: checked, label: Int(label), leaf: try field(leaf, "\(what).sample_leaf"), siblings: path)
    }

    static func serialize(_ body: Envelope.OneOf_Body) -> [UInt8] {
        var envelope = Envelope()
        envelope.body = body
        // Serializing a message built in memory cannot fail (no required fields, no Any).
        return (try? envelope.serializedBytes()) ?? []
    }

    /// The envelope in a frame's payload.
    static func parse(_ bytes: [UInt8]) throws(Rejection) -> Envelope.OneOf_Body {
        let envelope: Envelope
        do { envelope = try Envelope(serializedBytes: bytes) } catch {
            throw .malformedFrame(.notAnEnvelope("\(error)"))
        }
        guard let body = envelope.body else { throw .malformedFrame(.emptyEnvelope) }
        return body
    }

    /// A frame's payload decoded and validated.
    public static func decode(_ bytes: [UInt8]) throws(Rejection) -> Message {
        try Message(wire: parse(bytes))
    }

    /// A message as the payload of one frame.
    public static func encode(_ message: Message) -> [UInt8] { serialize(message.wire) }
}

extension SplitMode {
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

extension CircuitSpec.Part {
    var wire: Verisplit_Split_V1_Part {
        switch self {
        case .client: return .clientForward
        case .server: return .serverStep
        case .clientUpdate: return .clientUpdate
        }
    }

    init?(wire: Verisplit_Split_V1_Part) {
        switch wire {
        case .clientForward: self = .client
        case .serverStep: self = .server
        case .clientUpdate: self = .clientUpdate
        default: return nil
        }
    }
}

extension Message {
    /// Decodes and validates a received envelope.
    init(wire body: Envelope.OneOf_Body) throws(Rejection) {
        switch body {
        case .hello(let m):
            // Always 32 bytes (zero in plain mode, where nothing is committed): an absent root is refused,
            // never read as zero.
            guard let root = try Wire.field(m.datasetRoot, "Hello.dataset_root") else { throw .missing(.datasetRoot) }
            let announcement = DatasetAnnouncement(
                root: root, size: m.datasetSize, scheduleCommitment: m.fixedSchedule ? [] : Array(m.scheduleCommitment),
                fixedScheduleSeed: m.fixedSchedule ? m.fixedScheduleSeed : nil)
            var hello = Hello(dataset: announcement)
            hello.protocolVersion = m.protocolVersion
            hello.mode = SplitMode(wire: m.mode)
            hello.modeCode = m.mode.rawValue
            hello.specHash = Array(m.specHash)
            hello.verifyingKeyHashes = m.verifyingKeyHashes.map { Array($0) }
            hello.batchSize = m.batchSize
            hello.learningRateShift = m.learningRateShift
            hello.fractionBits = m.fractionBits
            hello.pipelineDepth = m.pipelineDepth
            hello.clientNonce = Array(m.clientNonce)
            if let session = try Wire.field(m.resumeSession, "Hello.resume_session") {
                hello.resume = Resume(session: session, step: m.resumeStep)
            }
            hello.clientCommitment = try Wire.field(m.clientCommitment, "Hello.client_commitment")
            hello.steps = m.steps
            self = .hello(hello)
        case .welcome(let m):
            guard let session = try Wire.field(m.sessionID, "Welcome.session_id") else { throw .missing(.session) }
            var welcome = Welcome(session: session)
            welcome.serverNonce = Array(m.serverNonce)
            welcome.startStep = m.startStep
            welcome.serverCommitment = try Wire.field(m.serverCommitment, "Welcome.server_commitment")
            self = .welcome(welcome)
        case .activations(let m):
            var samples: [Sample] = []
            if m.samples.isEmpty {
                samples = [try Wire.sample(index: m.sampleIndex, label: m.label, leaf: m.sampleLeaf, "Activations")]
            } else {
                guard m.sampleIndex == 0, m.label == 0, m.sampleLeaf.isEmpty else {
                    throw .malformedField(
                        field: "Activations.samples",
                        reason: "a batch's samples and the single-sample fields are both set")
                }
                for (s, sample) in m.samples.enumerated() {
                    samples.append(
                        try Wire.sample(
                            index: sample.index, label: sample.label, leaf: sample.leaf, siblings: sample.siblings,
                            "Activations.samples[\(s)]"))
                }
            }
            var a = Activations(
                step: m.step, session: try Wire.field(m.sessionID, "Activations.session_id"), values: m.values,
                samples: samples)
            a.salt = try Wire.field(m.salt, "Activations.salt")
            a.commitment = try Wire.field(m.commitment, "Activations.commitment")
            a.weightsCommitment = try Wire.field(m.weightsCommitment, "Activations.weights_commitment")
            a.forwardProof = try Wire.proof(m.forwardProof, "Activations.forward_proof")
            a.previousUpdateProof = try Wire.proof(m.previousUpdateProof, "Activations.previous_update_proof")
            a.previousLink = Wire.optionalBytes(m.previousLink)
            a.scheduleSecret = Wire.optionalBytes(m.scheduleSecret)
            self = .activations(a)
        case .gradient(let m):
            var g = Gradient(
                step: m.step, session: try Wire.field(m.sessionID, "Gradient.session_id"), values: m.values)
            g.salt = try Wire.field(m.salt, "Gradient.salt")
            g.commitment = try Wire.field(m.commitment, "Gradient.commitment")
            g.weightsBefore = try Wire.field(m.weightsBefore, "Gradient.weights_before")
            g.weightsAfter = try Wire.field(m.weightsAfter, "Gradient.weights_after")
            g.proof = try Wire.proof(m.proof, "Gradient.proof")
            g.previousLink = Wire.optionalBytes(m.previousLink)
            self = .gradient(g)
        case .proof(let m):
            self = .proof(
                ProofBundle(
                    step: m.step, part: CircuitSpec.Part(wire: m.part),
                    proof: try Wire.proof(m.proof, "ProofBundle.proof"),
                    session: try Wire.field(m.sessionID, "ProofBundle.session_id")))
        case .reject(let m):
            self = .reject(RejectNotice(step: m.step, kind: m.kind.isEmpty ? nil : m.kind, reason: m.reason))
        case .finish(let m):
            var finish = Finish(steps: m.steps, transcriptHead: Array(m.transcriptHead))
            finish.lastUpdateProof = try Wire.proof(m.lastUpdateProof, "Finish.last_update_proof")
            finish.clientCommitment = try Wire.field(m.clientCommitment, "Finish.client_commitment")
            self = .finish(finish)
        }
    }

    /// The envelope body this message is sent as. A step of one sample travels in the wire's
    /// single-sample fields, a batch in its `samples` list.
    var wire: Envelope.OneOf_Body {
        switch self {
        case .hello(let h):
            var m = Verisplit_Split_V1_Hello()
            m.protocolVersion = h.protocolVersion
            m.mode = h.mode?.wire ?? Verisplit_Split_V1_Mode(rawValue: h.modeCode) ?? .unspecified
            m.specHash = Data(h.specHash)
            m.verifyingKeyHashes = h.verifyingKeyHashes.map { Data($0) }
            m.batchSize = h.batchSize
            m.learningRateShift = h.learningRateShift
            m.fractionBits = h.fractionBits
            m.pipelineDepth = h.pipelineDepth
            m.clientNonce = Data(h.clientNonce)
            if let resume = h.resume {
                m.resumeSession = Wire.bytes(resume.session)
                m.resumeStep = resume.step
            }
            m.clientCommitment = Wire.bytes(h.clientCommitment)
            m.steps = h.steps
            m.datasetRoot = Wire.bytes(h.dataset.root)
            m.datasetSize = h.dataset.size
            m.scheduleCommitment = Data(h.dataset.scheduleCommitment)
            if let seed = h.dataset.fixedScheduleSeed {
                m.fixedSchedule = true
                m.fixedScheduleSeed = seed
            }
            return .hello(m)
        case .welcome(let w):
            var m = Verisplit_Split_V1_Welcome()
            m.serverNonce = Data(w.serverNonce)
            m.sessionID = Wire.bytes(w.session)
            m.startStep = w.startStep
            m.serverCommitment = Wire.bytes(w.serverCommitment)
            return .welcome(m)
        case .activations(let a):
            var m = Verisplit_Split_V1_Activations()
            m.step = a.step
            m.sessionID = Wire.bytes(a.session)
            m.values = a.values
            if a.samples.count == 1, let sample = a.samples.first {
                m.label = UInt32(clamping: sample.label)
                m.sampleIndex = UInt64(clamping: sample.index)
                m.sampleLeaf = Wire.bytes(sample.leaf)
            } else {
                m.samples = a.samples.map { sample in
                    var entry = Verisplit_Split_V1_Sample()
                    entry.index = UInt64(clamping: sample.index)
                    entry.label = UInt32(clamping: sample.label)
                    entry.leaf = Wire.bytes(sample.leaf)
                    entry.siblings = sample.siblings.map { Wire.bytes($0) }
                    return entry
                }
            }
            m.salt = Wire.bytes(a.salt)
            m.commitment = Wire.bytes(a.commitment)
            m.weightsCommitment = Wire.bytes(a.weightsCommitment)
            m.forwardProof = Wire.bytes(a.forwardProof)
            m.previousUpdateProof = Wire.bytes(a.previousUpdateProof)
            m.previousLink = Data(a.previousLink ?? [])
            m.scheduleSecret = Data(a.scheduleSecret ?? [])
            return .activations(m)
        case .gradient(let g):
            var m = Verisplit_Split_V1_Gradient()
            m.step = g.step
            m.sessionID = Wire.bytes(g.session)
            m.values = g.values
            m.salt = Wire.bytes(g.salt)
            m.commitment = Wire.bytes(g.commitment)
            m.weightsBefore = Wire.bytes(g.weightsBefore)
            m.weightsAfter = Wire.bytes(g.weightsAfter)
            m.proof = Wire.bytes(g.proof)
            m.previousLink = Data(g.previousLink ?? [])
            return .gradient(m)
        case .proof(let p):
            var m = Verisplit_Split_V1_ProofBundle()
            m.step = p.step
            m.part = p.part?.wire ?? .unspecified
            m.proof = Wire.bytes(p.proof)
            m.sessionID = Wire.bytes(p.session)
            return .proof(m)
        case .reject(let r):
            var m = Verisplit_Split_V1_Reject()
            m.step = r.step
            m.reason = r.reason
            m.kind = r.kind ?? ""
            return .reject(m)
        case .finish(let f):
            var m = Verisplit_Split_V1_Finish()
            m.steps = f.steps
            m.transcriptHead = Data(f.transcriptHead)
            m.lastUpdateProof = Wire.bytes(f.lastUpdateProof)
            m.clientCommitment = Wire.bytes(f.clientCommitment)
            return .finish(m)
        }
    }
}
