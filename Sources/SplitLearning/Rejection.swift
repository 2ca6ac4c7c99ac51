import Ceremony
import Foundation
import ZKML

/// The two parties of a split session.
public enum Role: String, Sendable, Codable, CaseIterable {
    case client, server

    /// The other party.
    public var peer: Role { self == .client ? .server : .client }
}

/// The commitments, salts and leaves a mode with commitments needs in its messages and records
/// (named as the record file spells them).
public enum StepField: String, Sendable, Codable {
    case session = "session_id"
    case activationSalt = "activation_salt", activationCommitment = "activation_commitment", clientWeights =
        "client_weights"
    case sampleLeaf = "sample_leaf"
    case datasetRoot = "dataset_root"
    case gradientSalt = "gradient_salt", gradientCommitment = "gradient_commitment"
    case serverBefore = "server_before", serverAfter = "server_after"
    case clientWeightsAfter = "client_weights_after"
    /// The client's weights commitment in Hello and Finish, the server's in Welcome.
    case clientCommitment = "client_commitment", serverCommitment = "server_commitment"
}

/// The values a step carries between the parties (what an opening, a size or a range check is about).
public enum StepValue: String, Sendable, Codable {
    case activations, gradient
}

extension CircuitSpec.Part: Codable {}

/// Why a party refused its peer's message, or why the offline verifier refused a record: a closed
/// set, so the CLI, reports and tests can match on the case, with `message` for people. Every case
/// names one check of the protocol (what was expected, what came); the step is carried by
/// `SplitError.rejected` around it.
public enum Rejection: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    // Handshake: the server refusing a Hello.
    case protocolVersion(got: UInt32, expected: UInt32)
    case unknownMode(code: Int)
    case modeNotServed(mode: SplitMode, served: [SplitMode])
    /// The two sides (or a record and the given spec) hash different spec files.
    case specMismatch
    /// The verifying keys differ (compare `verisplit split keys --info`).
    case keyMismatch
    /// A protocol parameter (batch size, learning-rate shift, fraction bits) differs from the spec's.
    case parameterMismatch(name: String, got: Int, expected: Int)
    case pipelineTooDeep(requested: Int, limit: Int)
    case tooManySteps(requested: UInt64, limit: UInt64)
    /// A nonce that is not 32 bytes (whose: the party that sent it).
    case nonceLength(of: Role)
    case datasetSize(size: UInt64, depth: Int)
    /// The client asked for a fixed sample order, which this server does not allow.
    case fixedScheduleRefused
    case scheduleCommitmentLength
    /// The session cannot be resumed (no state kept, unknown session, another mode, a checkpoint
    /// that no longer holds the step, an unreadable file).
    case notResumable(reason: String)
    /// The dataset announced now is not the one the session committed at its start.
    case datasetChanged
    // Handshake: the client refusing a Welcome.
    case sessionIDMismatch
    case foreignSession
    case nonzeroStart(UInt64)
    case resumeBeyond(server: UInt64, client: UInt64)
    case snapshotMissing(step: UInt64)
    /// The first message of a connection was not the one the handshake needs.
    case expectedMessage(expected: String, got: String)

    // Every message.
    case malformedFrame(FrameFault)
    /// A field that does not decode: not a canonical field element, not a 256-byte proof with
    /// points on their curves and in their subgroups, a value out of the integer range.
    case malformedField(field: String, reason: String)
    case unexpectedMessage(String)
    case wrongStep(expected: UInt64, got: UInt64)
    case wrongSession
    case beyondAgreedSteps(step: UInt64, agreed: UInt64)

    // A step's values.
    case wrongSize(StepValue, expected: Int, got: Int)
    /// Value `index` is outside the format's range (activations follow a ReLU: [0, 2^(B-1)); a
    /// gradient is any B-bit value).
    case outOfRange(StepValue, index: Int, bits: Int)
    case labelOutOfRange(label: Int, classes: Int)
    case wrongSampleCount(expected: Int, got: Int)
    case wrongSampleIndex(expected: Int, got: Int)
    /// Sample `sample` of a batch (its schedule index `index`): its leaf does not open under the
    /// announced dataset root with the siblings the message carries (or a path of the wrong depth).
    case notInDataset(sample: Int, index: Int)
    case scheduleSecretDoesNotOpen
    case noSchedule
    case doesNotOpen(StepValue)
    /// The message links to another transcript head (a replayed or reordered message).
    case transcriptLink(StepValue)
    /// A party's weight commitment does not continue its chain.
    case chainBroken(Role)
    /// A commitment, salt or leaf that the mode needs is absent.
    case missing(StepField)
    case proofMissing(CircuitSpec.Part)
    case proofInvalid(CircuitSpec.Part)

    // Pipelined mode and the end of a session.
    case unexpectedProof(step: UInt64)
    case pipelineOverrun
    case noRecord(step: UInt64)
    case finishStep(client: UInt64, server: UInt64)
    case unproven(steps: [UInt64])
    case transcriptHead

    // Offline records.
    case outOfOrder(line: Int, step: UInt64)
    case malformedHeader(String)
    /// An offline check against the peer's record: the two records of one session disagree.
    case peerRecordDiffers(String)

    /// The case's name without its values (for tables and for tests that check every case is reachable).
    public var kind: String {
        switch self {
        case .protocolVersion: return "protocolVersion"
        case .unknownMode: return "unknownMode"
        case .modeNotServed: return "modeNotServed"
        case .specMismatch: return "specMismatch"
        case .keyMismatch: return "keyMismatch"
        case .parameterMismatch: return "parameterMismatch"
        case .pipelineTooDeep: return "pipelineTooDeep"
        case .tooManySteps: return "tooManySteps"
        case .nonceLength: return "nonceLength"
        case .datasetSize: return "datasetSize"
        case .fixedScheduleRefused: return "fixedScheduleRefused"
        case .scheduleCommitmentLength: return "scheduleCommitmentLength"
        case .notResumable: return "notResumable"
        case .datasetChanged: return "datasetChanged"
        case .sessionIDMismatch: return "sessionIDMismatch"
        case .foreignSession: return "foreignSession"
        case .nonzeroStart: return "nonzeroStart"
        case .resumeBeyond: return "resumeBeyond"
        case .snapshotMissing: return "snapshotMissing"
        case .expectedMessage: return "expectedMessage"
        case .malformedFrame: return "malformedFrame"
        case .malformedField: return "malformedField"
        case .unexpectedMessage: return "unexpectedMessage"
        case .wrongStep: return "wrongStep"
        case .wrongSession: return "wrongSession"
        case .beyondAgreedSteps: return "beyondAgreedSteps"
        case .wrongSize: return "wrongSize"
        case .outOfRange: return "outOfRange"
        case .labelOutOfRange: return "labelOutOfRange"
        case .wrongSampleCount: return "wrongSampleCount"
        case .wrongSampleIndex: return "wrongSampleIndex"
        case .notInDataset: return "notInDataset"
        case .scheduleSecretDoesNotOpen: return "scheduleSecretDoesNotOpen"
        case .noSchedule: return "noSchedule"
        case .doesNotOpen: return "doesNotOpen"
        case .transcriptLink: return "transcriptLink"
        case .chainBroken: return "chainBroken"
        case .missing: return "missing"
        case .proofMissing: return "proofMissing"
        case .proofInvalid: return "proofInvalid"
        case .unexpectedProof: return "unexpectedProof"
        case .pipelineOverrun: return "pipelineOverrun"
        case .noRecord: return "noRecord"
        case .finishStep: return "finishStep"
        case .unproven: return "unproven"
        case .transcriptHead: return "transcriptHead"
        case .outOfOrder: return "outOfOrder"
        case .malformedHeader: return "malformedHeader"
        case .peerRecordDiffers: return "peerRecordDiffers"
        }
    }

    /// Every case's `kind`.
    public static let allKinds: [String] = [
        "protocolVersion", "unknownMode", "modeNotServed", "specMismatch", "keyMismatch", "parameterMismatch",
        "pipelineTooDeep", "tooManySteps", "nonceLength", "datasetSize", "fixedScheduleRefused",
        "scheduleCommitmentLength", "notResumable", "datasetChanged", "sessionIDMismatch", "foreignSession",
        "nonzeroStart", "resumeBeyond", "snapshotMissing", "expectedMessage", "malformedFrame", "malformedField",
        "unexpectedMessage", "wrongStep", "wrongSession", "beyondAgreedSteps", "wrongSize", "outOfRange",
        "labelOutOfRange", "wrongSampleCount", "wrongSampleIndex", "notInDataset", "scheduleSecretDoesNotOpen",
        "noSchedule",
        "doesNotOpen", "transcriptLink", "chainBroken", "missing", "proofMissing", "proofInvalid", "unexpectedProof",
        "pipelineOverrun", "noRecord", "finishStep", "unproven", "transcriptHead", "outOfOrder", "malformedHeader",
        "peerRecordDiffers",
    ]

    /// Refusals of a Hello or a Welcome (printed as a failed handshake).
    public var isHandshake: Bool {
        switch self {
        case .protocolVersion, .unknownMode, .modeNotServed, .parameterMismatch, .pipelineTooDeep, .tooManySteps,
            .nonceLength,
            .datasetSize, .fixedScheduleRefused, .scheduleCommitmentLength, .notResumable, .datasetChanged,
            .sessionIDMismatch,
            .foreignSession, .nonzeroStart, .resumeBeyond, .snapshotMissing, .expectedMessage, .keyMismatch,
            .specMismatch:
            return true
        default:
            return false
        }
    }

    public var description: String { message }

    /// One sentence for people: what was checked and what failed.
    public var message: String {
        switch self {
        case .protocolVersion(let got, let expected): return "protocol version \(got); this side speaks \(expected)"
        case .unknownMode(let code): return "unknown mode \(code)"
        case .modeNotServed(let mode, let served):
            return
                "this server does not run \(mode.rawValue) sessions (it runs: \(served.map(\.rawValue).sorted().joined(separator: ", ")))"
        case .specMismatch: return "the peer's spec is another than this side's (their SHA-256 differ)"
        case .keyMismatch: return "the verifying keys differ from this side's (compare `verisplit split keys --info`)"
        case .parameterMismatch(let name, let got, let expected): return "\(name) \(got), the spec's is \(expected)"
        case .pipelineTooDeep(let requested, let limit):
            return "pipeline depth \(requested) exceeds this server's \(limit)"
        case .tooManySteps(let requested, let limit): return "\(requested) steps exceed this server's \(limit)"
        case .nonceLength(let role): return "the \(role.rawValue) nonce must be 32 bytes"
        case .datasetSize(let size, let depth):
            return "dataset size \(size) is outside 1...2^\(depth) (the spec's dataset_depth)"
        case .fixedScheduleRefused:
            return
                "this server does not accept a fixed sample order (experiments only); the order must come from the session's coin toss"
        case .scheduleCommitmentLength: return "the schedule commitment must be 32 bytes"
        case .notResumable(let reason): return "cannot resume this session: \(reason)"
        case .datasetChanged: return "the training data no longer matches the dataset committed at the session's start"
        case .sessionIDMismatch:
            return "the server's session id is not the one derived from both nonces and the agreed parameters"
        case .foreignSession: return "the server answered for another session"
        case .nonzeroStart(let step): return "a new session must start at step 0, the server said \(step)"
        case .resumeBeyond(let server, let client):
            return "the server resumes at step \(server), beyond this client's \(client) settled steps"
        case .snapshotMissing(let step):
            return "the server resumes at step \(step), which this checkpoint no longer holds"
        case .expectedMessage(let expected, let got): return "expected \(expected), got \(got)"
        case .malformedFrame(let fault): return "malformed frame: \(fault)"
        case .malformedField(let field, let reason): return "\(field): \(reason)"
        case .unexpectedMessage(let name): return "unexpected \(name) message"
        case .wrongStep(let expected, let got): return "a message for step \(got), expected step \(expected)"
        case .wrongSession: return "a message for another session"
        case .beyondAgreedSteps(let step, let agreed): return "step \(step) is beyond the \(agreed) agreed"
        case .wrongSize(let value, let expected, let got):
            return "\(got) \(value.rawValue) values, the cut has \(expected)"
        case .outOfRange(.activations, let index, let bits):
            return "the activation at index \(index) is outside [0, 2^\(bits - 1)) (the cut follows a ReLU)"
        case .outOfRange(.gradient, let index, let bits):
            return "the gradient value at index \(index) is outside the signed \(bits)-bit range"
        case .labelOutOfRange(let label, let classes): return "label \(label) is not one of the \(classes) classes"
        case .wrongSampleCount(let expected, let got):
            return "\(got) samples in the step, the spec's batch is \(expected)"
        case .wrongSampleIndex(let expected, let got):
            return "the step trained on sample \(got), the schedule says \(expected)"
        case .notInDataset(let sample, let index):
            return
                "sample \(sample) of the batch (index \(index)) does not open under the committed dataset root: its leaf or Merkle path is not the client's committed set"
        case .scheduleSecretDoesNotOpen: return "the schedule secret does not open the client's schedule commitment"
        case .noSchedule: return "no sample schedule yet: the client never revealed its schedule secret"
        case .doesNotOpen(.activations): return "the activations do not open their commitment"
        case .doesNotOpen(.gradient): return "the gradient does not open its commitment"
        case .transcriptLink(let value):
            return "the \(value.rawValue) link to another transcript head (replayed or reordered message)"
        case .chainBroken(let role): return "the \(role.rawValue)'s weight commitment does not continue its chain"
        case .missing(let field): return "\(field.rawValue) is missing"
        case .proofMissing(let part): return "the \(Self.proofName(part)) proof is missing"
        case .proofInvalid(.client):
            return "the client's forward proof does not verify: the activations do not come from its committed weights"
        case .proofInvalid(.server):
            return
                "the server's proof does not verify for this step's activations, labels, gradient and weight commitments"
        case .proofInvalid(.clientUpdate):
            return "the client's update proof does not verify: its new weights do not follow from the gradient"
        case .unexpectedProof(let step): return "unexpected proof bundle for step \(step)"
        case .pipelineOverrun: return "activations beyond the pipeline depth"
        case .noRecord(let step): return "no record of step \(step) to check the client's update against"
        case .finishStep(let client, let server):
            return "the client finishes at step \(client), the server is at \(server)"
        case .unproven(let steps): return "the client finished before proving steps \(steps)"
        case .transcriptHead: return "the peer's transcript head differs from this side's"
        case .outOfOrder(let line, let step): return "step records out of order: line \(line) holds step \(step)"
        case .malformedHeader(let what): return "the header's \(what) is missing or malformed"
        case .peerRecordDiffers(let what): return "the two parties' records of this session differ in their \(what)"
        }
    }

    static func proofName(_ part: CircuitSpec.Part) -> String {
        switch part {
        case .client: return "forward"
        case .server: return "server step"
        case .clientUpdate: return "client update"
        }
    }
}

/// Why a split-learning session stopped or refused something. Every case names where the
/// problem is (peer, step, file) and what was wrong, so the log line alone explains it.
public enum SplitError: Error, Equatable, CustomStringConvertible, Sendable {
    /// This side refused the peer's message (or the offline verifier a record) at `step`: the
    /// honest side's model is untouched by it.
    case rejected(step: UInt64, Rejection)
    /// The peer refused one of our messages (its `Reject` frame): `kind` is the peer's
    /// `Rejection.kind` when it sent a known one.
    case peerRejected(step: UInt64, kind: String?, reason: String)
    /// A frame that is not a well-formed protocol frame (length, version).
    case malformedFrame(FrameFault)
    /// The connection closed, timed out or failed.
    case connection(String)
    /// A key directory, spec, checkpoint or record could not be used.
    case file(path: String, reason: String)
    /// An argument out of range (CLI or API).
    case invalidArgument(String)
    /// The client was asked for a pipeline of `depth` steps outside 1...`limit`
    /// (`ClientOptions.maxPipelineDepth`): a deeper one lets a dishonest server steer the
    /// client's weights longer before its first bad proof is caught.
    case pipelineTooDeep(depth: Int, limit: Int)
    /// A checkpoint's snapshot after step `step` has `weights` weights and `bias` biases where
    /// the spec's layer has `expectedWeights` and `expectedBias`: a damaged checkpoint, or one
    /// of another spec. Resuming from it would trap in the layer's initializer.
    case snapshotShape(path: String, step: UInt64, weights: Int, bias: Int, expectedWeights: Int, expectedBias: Int)
    /// A record of `mode` (no proofs) given to the offline verifier without the peer's record
    /// or transcript head: on its own it binds its samples and commitments to nothing.
    case unanchoredRecord(mode: SplitMode)
    /// The ceremony in `path` lacks this party's contribution in `phase` (3: the link between
    /// the client's proofs, `LinkTranscript.phase`); for phase 1,
    /// `importedPtauSHA256` names the imported `.ptau` the party did not pin (nil: phase 1
    /// starts from the generators). Its keys would let whoever knows that phase's secrets forge.
    case ceremonyLacksContribution(path: String, phase: Int, importedPtauSHA256: String?)

    public var description: String {
        switch self {
        case .rejected(let step, let rejection):
            return rejection.isHandshake
                ? "handshake failed: \(rejection.message)" : "step \(step): message rejected: \(rejection.message)"
        case .peerRejected(let step, _, let reason): return "step \(step): the peer rejected our message: \(reason)"
        case .malformedFrame(let fault): return "malformed frame: \(fault)"
        case .connection(let reason): return "connection: \(reason)"
        case .file(let path, let reason): return "\(path): \(reason)"
        case .invalidArgument(let reason): return reason
        case .pipelineTooDeep(let depth, let limit):
            return
                "pipeline depth \(depth) is outside 1...\(limit): a deeper pipeline lets a dishonest server steer this client's weights longer before detection; ask for a depth in 1...\(limit)"
        case .snapshotShape(let path, _, _, _, _, _): return "\(path): \(detail)"
        case .unanchoredRecord(let mode):
            return
                "a \(mode.rawValue) record has no proofs: its samples and commitments are bound only by the transcript both parties hold. Check it against the peer's record (--peer FILE) or the transcript head the peer reported (--expect-head HEX)"
        case .ceremonyLacksContribution(let path, _, _): return "\(path): \(detail)"
        }
    }

    /// The description without the file it names (what a server tells a peer about its own files).
    public var detail: String {
        switch self {
        case .file(_, let reason): return reason
        case .snapshotShape(_, let step, let weights, let bias, let expectedWeights, let expectedBias):
            return
                "the snapshot after step \(step) has \(weights) weights and \(bias) biases; the spec's layer has \(expectedWeights) and \(expectedBias) (a damaged checkpoint or another spec's: start a new session)"
        case .ceremonyLacksContribution(_, let phase, let ptau):
            if phase == LinkTranscript.phase {
                return
                    "the link between the client's two proofs lacks this party's contribution (none of its receipts is in it): whoever knows both link secrets could link an update to images the forward proof never opened, refusing the keys; contribute to it (`verisplit split ceremony-link`) and give the receipt with --receipt"
            }
            guard phase == 1 else {
                return
                    "the ceremony's phase 2 lacks this party's contribution (none of its receipts is in it): whoever knows delta could forge, refusing its keys; contribute to it (`verisplit ceremony contribute`) and give the receipt with --receipt"
            }
            let start =
                ptau.map {
                    "phase 1 starts from an imported .ptau with SHA-256 \($0), which was not pinned (--ptau-sha256)"
                } ?? "phase 1 starts from the generators"
            return
                "the ceremony's phase 1 lacks this party's contribution and \(start): whoever knows tau, alpha and beta could forge, refusing its keys; contribute to phase 1 and give the receipt with --receipt\(ptau == nil ? "" : ", or pin a .ptau you trust with --ptau-sha256")"
        default: return description
        }
    }

    /// The refusal this error stands for, if this side refused something.
    public var rejection: Rejection? {
        switch self {
        case .rejected(_, let rejection): return rejection
        case .malformedFrame(let fault): return .malformedFrame(fault)
        default: return nil
        }
    }
}
