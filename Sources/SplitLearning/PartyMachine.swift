import Algebra
import Circuit
import Commitment
import Dispatch
import Foundation
import Groth16
import ZKML

/// What a party's state machine asks its transport to do. A machine does no I/O: it takes a
/// message (or the result of work it asked for) and returns actions, which the transport runs in
/// order (`SessionDriver` over NIO; the tests' harness with no socket). An action that needs a
/// result (`prove`, `verify`, `load`) is the last of its list; the transport answers it with
/// `proved`, `verified` or `loaded` before giving the machine anything else.
public enum Action: Sendable {
    /// Send a message to the peer.
    case send(Message)
    /// Send bytes that are not a message as a frame's payload (a dishonest party's garbage).
    case sendRaw([UInt8])
    /// Prove now and answer with `proved`: the step waits for this proof (inline proofs).
    case prove(ProofJob)
    /// Prove in the background, one job after another, and report each with `proved` when done
    /// (deferred proofs; the machine keeps taking messages meanwhile).
    case proveInBackground(ProofJob)
    /// Verify these proofs and answer with `verified`, one result per check, in order.
    case verify([ProofCheck])
    /// Write the session's files.
    case persist(Persistence)
    /// Read the stored session `session` and answer with `loaded` (a server asked to resume).
    case load(session: Fr)
    /// `steps` steps are done (progress displays).
    case progress(steps: UInt64)
    /// A line for the log (session started, finished).
    case log(String)
    /// The session is over.
    case close(Ending)
}

/// How a session ended, as the machine decided.
public enum Ending: Sendable, Equatable {
    case finished
    /// Left on purpose after `stopAfterSteps`, without a word, as a killed process would.
    case interrupted
    /// This side refused a peer's message (`SplitError.rejected`): the transport tells the peer
    /// why (a `Reject` frame) and closes. The machine has already dropped unverified state.
    case refused(SplitError)
    /// The peer refused, or something else failed (a file, a proof of our own).
    case failed(SplitError)
}

/// What to write to a party's session files (`checkpoint.json`, `record.jsonl`).
public enum Persistence: Sendable, Equatable {
    /// A new session: the record file with its header, and the first checkpoint.
    case start(header: RecordHeader, checkpoint: Checkpoint)
    /// A resumed session: the record cut back to the steps before the resumed one.
    case rewind(header: RecordHeader, steps: [StepRecord])
    /// Steps that became final, appended in order, and the checkpoint after them.
    case settle(records: [StepRecord], checkpoint: Checkpoint)
}

/// One proof to make: the part, the step and the circuit with its witness. Built by a machine,
/// run by the transport off the concurrency pool (a proof keeps every core busy for up to seconds).
public struct ProofJob: Sendable {
    /// The proof system's challenge derivation for a circuit with a commitment to witness wires
    /// (`Groth16.proveCommitted`): given the committed values and the statement, it commits and
    /// returns the challenge the verifier will derive.
    public typealias ChallengeOracle = @Sendable ([Fr], [Fr]) -> Fr

    /// How the prover wants a job's circuit built.
    public struct Synthesis: Sendable {
        /// The batched circuits draw their challenge from it; the one-sample circuits have no
        /// challenge and ignore it (nil: the circuit's stand-in challenge).
        public var oracle: ChallengeOracle?
        /// Record the witness only (`ConstraintSystem.recordsConstraints`): a prover evaluates
        /// its key's R1CS, so constraints and names are wasted work (about a quarter of a
        /// batched proof's synthesis, measured). False: record them, to name a violated
        /// constraint.
        public var witnessOnly: Bool

        public init(oracle: ChallengeOracle? = nil, witnessOnly: Bool = false) {
            self.oracle = oracle
            self.witnessOnly = witnessOnly
        }
    }

    public let step: UInt64
    public let part: CircuitSpec.Part
    /// Builds the circuit and its witness as `Synthesis` asks.
    public let circuit: @Sendable (_ synthesis: Synthesis) throws -> ConstraintSystem<Fr>
    /// Prove whatever witness the circuit has, satisfied or not (the forged-input adversary
    /// proves one the constraints refuse; an honest party's witness must satisfy them).
    public let unchecked: Bool
    /// Under linked keys (`SplitKeys.link`): the step's forward job keeps its commitment opening
    /// here, and the step's update job links to it (the same box in both jobs).
    public let forwardOpening: ForwardOpening?

    public init(
        step: UInt64, part: CircuitSpec.Part, unchecked: Bool = false, forwardOpening: ForwardOpening? = nil,
        circuit: @escaping @Sendable (_ synthesis: Synthesis) throws -> ConstraintSystem<Fr>
    ) {
        self.step = step
        self.part = part
        self.unchecked = unchecked
        self.forwardOpening = forwardOpening
        self.circuit = circuit
    }
}

/// A forward proof's commitment opening (its committed values and blinding: as secret as the
/// witness), kept in memory from the step's forward proof until its update proof links to it,
/// then erased (and on release: copies handed out are the holder's to erase). Never written
/// anywhere. An update proof that starts before its forward proof's commitment step (the pool
/// runs jobs concurrently) waits for it here (`ready`), and fails if the forward proof failed.
public final class ForwardOpening: @unchecked Sendable {
    private let lock = NSLock()
    private var committed: [Fr] = []
    private var opening: CommitmentOpening?
    private var failure: String?
    private var waiters: [CheckedContinuation<Void, any Error>] = []

    public init() {}

    public func set(committed: [Fr], opening: CommitmentOpening) {
        lock.lock()
        self.committed = committed
        self.opening = opening
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume() }
    }

    /// The forward proof failed: its update cannot be linked.
    public func fail(_ why: String) {
        lock.lock()
        if opening == nil { failure = why }
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting {
            waiter.resume(throwing: SplitError.invalidArgument("the forward proof failed: \(why)"))
        }
    }

    /// Returns once the forward proof's opening is set; throws if the forward proof failed.
    public func ready() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.lock()
            if opening != nil {
                lock.unlock()
                continuation.resume()
            } else if let failure {
                lock.unlock()
                continuation.resume(throwing: SplitError.invalidArgument("the forward proof failed: \(failure)"))
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    /// The opening, if the forward proof was made.
    public func value() -> (committed: [Fr], opening: CommitmentOpening)? {
        lock.lock()
        defer { lock.unlock() }
        return opening.map { (committed, $0) }
    }

    /// Erases the opening (after the update linked to it).
    public func erase() {
        lock.lock()
        defer { lock.unlock() }
        SecureRandom.erase(&committed)
        committed = []
        opening?.blinding = .zero
        opening = nil
        failure = "its opening was already used and erased"
    }

    deinit {
        SecureRandom.erase(&committed)
        opening?.blinding = .zero
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

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, proofs, verifications
        case computeSeconds = "compute_s", provingSeconds = "proving_s", verifySeconds = "verify_s", wallSeconds =
            "wall_s"
        case bytesSent = "bytes_sent", bytesReceived = "bytes_received"
    }
}

/// What a machine reports about its session at any time.
public struct PartySummary: Sendable {
    public var session: Fr?
    /// Steps this side completed and keeps (after any rollback).
    public var keptSteps: UInt64
    public var stats: PartyStats
    public var transcriptHead: Digest?
    public var interrupted: Bool
}

/// A party of the split protocol as a value-type state machine with no I/O.
public protocol PartyMachine: Sendable {
    var role: Role { get }
    /// The first actions of a connection (the client's Hello; nothing for the server).
    mutating func start() -> [Action]
    /// A message from the peer.
    mutating func receive(_ message: Message) -> [Action]
    /// A proof the machine asked for (inline or in the background) is ready.
    mutating func proved(_ job: ProofJob, _ proof: StepProof, seconds: Double) -> [Action]
    /// The results of the last `verify` action, in its order.
    mutating func verified(_ results: [Bool], seconds: Double) -> [Action]
    /// The stored session the last `load` asked for (nil: none), or why it cannot be used.
    mutating func loaded(_ stored: Result<StoredSession?, Rejection>) -> [Action]
    /// The transport received a frame that does not decode (bad envelope, non-canonical field,
    /// proof point off its curve): the machine refuses it like any other bad message.
    mutating func refuse(_ rejection: Rejection) -> [Action]
    /// The session stopped for a reason outside the protocol (the connection closed, a file or a
    /// proof of our own failed): keep only what was verified.
    mutating func stopped()
    var summary: PartySummary { get }
}

extension PartyMachine {
    /// Refuses the peer's message at `step`: the machine keeps only what was verified (`stopped`)
    /// and closes; the transport tells the peer why.
    mutating func refuse(_ rejection: Rejection, at step: UInt64) -> [Action] {
        stopped()
        return [.close(.refused(.rejected(step: step, rejection)))]
    }

    /// Ends the session for a reason that is not the peer's message (its Reject, a file, a proof
    /// of our own), keeping only what was verified.
    mutating func fail(_ error: SplitError) -> [Action] {
        stopped()
        return [.close(.failed(error))]
    }

    public mutating func loaded(_ stored: Result<StoredSession?, Rejection>) -> [Action] {
        refuse(.unexpectedMessage("stored session"))
    }
}

/// A party's step records and parameter snapshots until they settle: complete records go to the
/// record file in step order, the parameters after each such step become settled (the checkpoint
/// keeps the last `window` of them, so the two sides can meet at the lower one on resume), and
/// snapshots older than the last settled step are dropped. The same for both parties.
struct SessionBook: Sendable {
    /// Records of steps not yet final, by step.
    var records: [UInt64: StepRecord] = [:]
    /// Steps written to the record file.
    var flushed: UInt64 = 0
    /// Parameters after n steps, kept until settled (pipelined rollback, resume).
    var snapshots: [UInt64: ParameterSnapshot] = [:]
    var settled: [ParameterSnapshot] = []
    let window: Int

    init(window: Int) { self.window = window }

    /// Moves the records that became complete out of the book, in step order; nil when none did.
    mutating func settle(_ policy: any ModePolicy) -> [StepRecord]? {
        var out: [StepRecord] = []
        while let record = records[flushed], policy.isComplete(record) {
            out.append(record)
            records[flushed] = nil
            flushed += 1
            if let snapshot = snapshots[flushed] { settled.append(snapshot) }
        }
        let oldest = flushed
        snapshots = snapshots.filter { $0.key + 1 >= oldest }
        if settled.count > window { settled.removeFirst(settled.count - window) }
        return out.isEmpty ? nil : out
    }
}

/// Monotonic seconds.
@inline(__always) func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Measures `body` and adds its duration to `total`.
@inline(__always) func timed<T, E: Error>(_ total: inout Double, _ body: () throws(E) -> T) throws(E) -> T {
    let start = now()
    defer { total += now() - start }
    return try body()
}
