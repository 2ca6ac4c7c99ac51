import Algebra
import Commitment
import Foundation
import Groth16
import Logging
import NIOCore
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

    func requireKeys(for mode: SplitMode) throws(SplitError) -> SplitKeys? {
        guard mode.usesProofs else { return nil }
        guard let keys else { throw .invalidArgument("mode \(mode.rawValue) needs the circuits' keys (--keys DIR)") }
        return keys
    }
}

/// Time and traffic of one side of a session.
public struct PartyStats: Sendable, Codable, Equatable {
    public var steps = 0
    public var computeSeconds = 0.0
    public var provingSeconds = 0.0
    public var verifySeconds = 0.0
    public var wallSeconds = 0.0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var proofs = 0
    public var verifications = 0

    enum CodingKeys: String, CodingKey {
        case steps, proofs, verifications
        case computeSeconds = "compute_s", provingSeconds = "proving_s", verifySeconds = "verify_s", wallSeconds = "wall_s"
        case bytesSent = "bytes_sent", bytesReceived = "bytes_received"
    }
}

/// How a session ended, from one side's point of view.
public struct SessionOutcome: Sendable, Codable {
    public var session = ""
    /// Steps this side completed and kept (after any rollback).
    public var completedSteps: UInt64 = 0
    /// This side refused a message of the peer.
    public var rejected = false
    /// The peer refused one of this side's messages.
    public var peerRejected = false
    public var reason: String?
    public var stats = PartyStats()
    public var transcriptHead = ""
    /// Stopped on purpose before the end (`stopAfterSteps`), as a killed process would.
    public var interrupted = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case session, rejected, reason, stats, interrupted
        case completedSteps = "steps_completed", peerRejected = "peer_rejected", transcriptHead = "transcript_head"
    }
}

/// Monotonic seconds.
@inline(__always) func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Measures `body` and adds its duration to `total`.
@inline(__always) func timed<T>(_ total: inout Double, _ body: () throws -> T) rethrows -> T {
    let start = now()
    defer { total += now() - start }
    return try body()
}

/// The outgoing half of a connection; `Sendable` so the background prover can send proofs.
struct Sender: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let traffic: TrafficCounter
    let name: String

    func send(_ body: Envelope.OneOf_Body) async throws(SplitError) {
        try await sendRaw(Wire.serialize(body))
    }

    func sendRaw(_ bytes: [UInt8]) async throws(SplitError) {
        do {
            try await outbound.write(ByteBuffer(bytes: bytes))
            traffic.sent(bytes.count + 5)
        } catch {
            throw .connection("\(name): write failed (\(error))")
        }
    }
}

/// Pipelined mode's background prover: proofs are made one after another off the protocol
/// loop and sent as `ProofBundle` frames as soon as each is ready.
actor ProofPipeline {
    struct Done: Sendable {
        let step: UInt64
        let part: Verisplit_Split_V1_Part
        let proof: Proof
    }

    let sender: Sender
    let session: Data
    private var tail: Task<Void, Never>?
    private var done: [Done] = []
    private var failure: String?
    private(set) var provingSeconds = 0.0

    init(sender: Sender, session: Data) {
        self.sender = sender
        self.session = session
    }

    func submit(step: UInt64, part: Verisplit_Split_V1_Part, _ work: @escaping @Sendable () throws -> Proof) {
        let previous = tail
        tail = Task {
            await previous?.value
            await self.run(step: step, part: part, work)
        }
    }

    private func run(step: UInt64, part: Verisplit_Split_V1_Part, _ work: @escaping @Sendable () throws -> Proof) async {
        guard failure == nil else { return }
        let start = now()
        do {
            let proof = try await ProofWork.offload(work)
            provingSeconds += now() - start
            var bundle = ProofMessage()
            bundle.step = step
            bundle.part = part
            bundle.proof = Wire.bytes(proof)
            bundle.sessionID = session
            try await sender.send(.proof(bundle))
            done.append(Done(step: step, part: part, proof: proof))
        } catch {
            failure = "proving step \(step) failed: \(error)"
        }
    }

    /// Proofs finished since the last call.
    func take() -> [Done] {
        defer { done.removeAll() }
        return done
    }

    /// Waits for every submitted proof; throws if one failed.
    func drain() async throws(SplitError) -> [Done] {
        await tail?.value
        if let failure { throw .connection(failure) }
        return take()
    }

    func cancel() { tail?.cancel() }
}

/// The hiding commitments to a message's values (activations with the label, gradients): the
/// Poseidon commitment sponge over the values as field elements and a fresh salt. Native only
/// (the values are public in the proofs), so no packing.
enum Commitments {
    static func activations(_ values: [Int64], label: Int, salt: Fr) throws -> Fr {
        try PoseidonCommitter().commit(PoseidonOpening(values: (values + [Int64(label)]).map { Fr($0) }, salt: salt)).value
    }

    static func gradient(_ values: [Int64], salt: Fr) throws -> Fr {
        try PoseidonCommitter().commit(PoseidonOpening(values: values.map { Fr($0) }, salt: salt)).value
    }
}

extension StepRecord {
    static func stepBytes(_ step: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: step >> UInt64(56 - 8 * $0)) } }
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

    /// The public sample order of a session (see `SampleSchedule`).
    public func schedule(session: Fr, revealedSecret: [UInt8]?) -> SampleSchedule? {
        let count = Int(size)
        guard count >= 1 else { return nil }
        if let seed = fixedScheduleSeed {
            return SampleSchedule(seed: SHA256.hash(Array("VeriSplit/fixed-schedule/v1".utf8) + (0..<8).map { UInt8(truncatingIfNeeded: seed >> UInt64(8 * $0)) }),
                                  count: count)
        }
        guard let revealedSecret, SampleSchedule.commitment(to: revealedSecret) == scheduleCommitment else { return nil }
        return SampleSchedule(session: session, clientSecret: revealedSecret, count: count)
    }
}

/// Session ids: SHA-256 of both nonces and everything agreed (spec, keys, mode, the dataset
/// announcement), reduced to 31 bytes (always below r), so neither side alone chooses it and it
/// binds the spec, the keys and the committed training set. The client recomputes it from the
/// server's nonce and refuses a Welcome that names another.
public enum SessionID {
    public static func derive(clientNonce: Data, serverNonce: Data, specHash: [UInt8], keyHashes: [[UInt8]], mode: SplitMode,
                       dataset: DatasetAnnouncement) -> Fr {
        var bytes = Array("VeriSplit/Session/v2".utf8) + Array(clientNonce) + Array(serverNonce) + specHash
        for hash in keyHashes { bytes += hash }
        bytes += Array(mode.rawValue.utf8)
        bytes += dataset.bytes
        let digest = SHA256.hash(bytes)
        // 31 bytes and a zero top byte: below r, so the conversion cannot fail.
        return (try? Fr(littleEndian: Array(digest.prefix(31)) + [0])) ?? Fr(0)
    }
}

extension Logger {
    public static let split = Logger(label: "verisplit.split")
}

/// What the shared session runner needs of either party's state machine.
protocol PartySession {
    var sessionHex: String { get }
    var keptSteps: UInt64 { get }
    var stats: PartyStats { get }
    var transcript: Transcript { get }
    var step: UInt64 { get }
    var interrupted: Bool { get }
    mutating func run(_ peer: inout Peer) async throws
    /// Drops whatever was not verified yet (pipelined mode) when a session ends early.
    mutating func keepOnlyVerified()
}

/// Runs one party's session over `channel` and closes it. Never throws: a failure becomes the
/// outcome's `reason`; when this side refuses a peer's message it tells the peer why (a `Reject`
/// frame, best effort) before closing, and keeps only verified state.
func runSession<State: PartySession>(over channel: FrameChannel, peerName: String, role: String, logger: Logger,
                                     _ make: (Sender) throws -> State) async -> (outcome: SessionOutcome, state: State?) {
    let traffic = TrafficCounter()
    let start = now()
    var session: State?
    var outcome = SessionOutcome()
    do {
        try await channel.executeThenClose { inbound, outbound in
            let sender = Sender(outbound: outbound, traffic: traffic, name: peerName)
            var peer = Peer(inbound: inbound.makeAsyncIterator(), sender: sender)
            var state = try make(sender)
            defer { session = state }
            do { try await state.run(&peer) } catch {
                state.keepOnlyVerified()
                if let reason = (error as? SplitError)?.refusalReason {
                    var reject = RejectMessage()
                    reject.step = state.step
                    reject.reason = reason
                    try? await peer.send(.reject(reject))
                }
                throw error
            }
        }
    } catch let error as SplitError {
        outcome.reason = error.description
        outcome.rejected = error.refusalReason != nil
        if case .peerRejected = error { outcome.peerRejected = true }
    } catch {
        outcome.reason = "\(error)"
    }
    if let session {
        outcome.session = session.sessionHex
        outcome.completedSteps = session.keptSteps
        outcome.stats = session.stats
        outcome.transcriptHead = session.transcript.head.hex
        outcome.interrupted = session.interrupted
    }
    let totals = traffic.totals
    outcome.stats.bytesSent = totals.sent
    outcome.stats.bytesReceived = totals.received
    outcome.stats.wallSeconds = now() - start
    if let reason = outcome.reason { logger.warning("\(role): session with \(peerName) ended: \(reason)") }
    return (outcome, session)
}

extension SplitError {
    /// The reason to send the peer when this side refuses its message; nil for other failures.
    var refusalReason: String? {
        switch self {
        case .rejected(_, let reason), .malformedFrame(let reason), .handshake(let reason): return reason
        default: return nil
        }
    }
}

/// Both parties' bookkeeping after a step or a proof: complete step records go to the record
/// file in step order, the parameters after each such step become settled (the checkpoint keeps
/// the last `window` of them, so the two sides can meet at the lower one on resume), and
/// snapshots older than the last settled step are dropped. Returns whether anything settled.
func settleRecords(_ records: inout [UInt64: StepRecord], flushed: inout UInt64, snapshots: inout [UInt64: ParameterSnapshot],
                   settled: inout [ParameterSnapshot], mode: SplitMode, window: Int, files: SessionFiles?) throws -> Bool {
    var advanced = false
    while let record = records[flushed], record.isComplete(mode: mode) {
        if let files { try files.appendRecord(record) }
        records[flushed] = nil
        flushed += 1
        if let snapshot = snapshots[flushed] { settled.append(snapshot) }
        advanced = true
    }
    let oldest = flushed
    snapshots = snapshots.filter { $0.key + 1 >= oldest }
    if settled.count > window { settled.removeFirst(settled.count - window) }
    return advanced
}
