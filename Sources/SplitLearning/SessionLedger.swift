import Algebra
import Commitment
import Foundation

/// A party's durable, append-only step ledger outside its state directory (the PostgreSQL one
/// of `ProverPool` behind `--db`). It receives what the session files receive (`Persistence`)
/// and hands back a stored session to resume.
///
/// Contract: `write` is atomic per call (a settle's records and its checkpoint together, or
/// neither) and idempotent (a call retried after a lost reply leaves one copy); nothing a
/// ledger already holds is changed or removed: a resume that redoes steps appends a new run that
/// supersedes them, and the old rows stay as evidence. `load` validates what it reads with
/// `LedgerChain` before handing it to a party.
public protocol SessionLedger: Sendable {
    /// Records `persistence` of `role`'s side of its session.
    func write(_ persistence: Persistence, role: Role) async throws
    /// `role`'s stored session `session` (nil: none).
    func load(session: Fr, role: Role) async throws -> StoredSession?
    /// `role`'s most recently written session (a client resuming without a state directory).
    func latest(role: Role) async throws -> StoredSession?
}

/// One run of a session in a ledger: run 0 starts the session at step 0; each resume appends
/// the next run, starting at the step the parties met at, with the transcript head it continues.
public struct LedgerRun: Sendable, Equatable {
    public var run: Int
    public var startStep: UInt64
    public var startHead: Digest

    public init(run: Int, startStep: UInt64, startHead: Digest) {
        (self.run, self.startStep, self.startHead) = (run, startStep, startHead)
    }
}

/// One settled step in a ledger: its record and the transcript heads before and after it.
public struct LedgerRow: Sendable, Equatable {
    public var run: Int
    public var step: UInt64
    public var previousHead: Digest
    public var head: Digest
    public var record: StepRecord

    public init(run: Int, step: UInt64, previousHead: Digest, head: Digest, record: StepRecord) {
        (self.run, self.step, self.previousHead, self.head, self.record) = (run, step, previousHead, head, record)
    }
}

/// Why a ledger's rows do not form one session's chain: each names the run and step, so an
/// operator finds the row.
public enum LedgerFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// The runs are not 0, 1, 2, ... (one is missing).
    case runsNotConsecutive(expected: Int, found: Int)
    /// Run `run` starts at `start`, past the `available` steps its predecessors hold.
    case runStartsBeyond(run: Int, start: UInt64, available: UInt64)
    /// Run `run`'s start head is not the head of the chain at its start step.
    case runDoesNotLink(run: Int, start: UInt64)
    /// Run `run` holds step `found` where step `expected` comes next (a row is missing).
    case gap(run: Int, expected: UInt64, found: UInt64)
    /// The row's record names another step than the row.
    case stepMismatch(run: Int, step: UInt64, recordStep: UInt64)
    /// The row's previous head is not the head after the step before it.
    case rowDoesNotLink(run: Int, step: UInt64)
    /// The row's head is not the transcript head its record gives (the record was altered).
    case rowAltered(run: Int, step: UInt64)
    /// A row or header that does not decode (the reason names the field).
    case undecodable(what: String, reason: String)
    /// A resume brought a header other than the session's.
    case headerChanged
    /// A retried write found a different row where it would write (run, step).
    case conflict(run: Int, step: UInt64)
    /// No session of this role matches.
    case noSession(String)
    /// Several sessions start with this prefix.
    case ambiguousSession(prefix: String, matches: Int)

    public var description: String {
        switch self {
        case .runsNotConsecutive(let expected, let found): return "run \(expected) is missing (found run \(found))"
        case .runStartsBeyond(let run, let start, let available):
            return "run \(run) starts at step \(start), but the runs before it hold only \(available) steps"
        case .runDoesNotLink(let run, let start):
            return "run \(run) does not link: its start head is not the transcript head after step \(start)"
        case .gap(let run, let expected, let found):
            return "run \(run) holds step \(found) where step \(expected) comes next (a row is missing)"
        case .stepMismatch(let run, let step, let recordStep):
            return "run \(run), step \(step): the row's record is of step \(recordStep)"
        case .rowDoesNotLink(let run, let step):
            return "run \(run), step \(step) does not link: its previous head is not the head after the step before"
        case .rowAltered(let run, let step):
            return "run \(run), step \(step) was altered: its head does not follow from its record"
        case .undecodable(let what, let reason): return "\(what) does not decode: \(reason)"
        case .headerChanged: return "a resume brought another header than the session's"
        case .conflict(let run, let step):
            return "run \(run), step \(step) already holds a different row (two writers on one session?)"
        case .noSession(let what): return "no session \(what) in the ledger"
        case .ambiguousSession(let prefix, let matches):
            return "\(matches) sessions start with \(prefix); give more digits"
        }
    }
}

/// The ledger's rows resolved into the session they record, every link checked.
public enum LedgerChain {
    /// The effective steps (each step from the latest run that holds it) and the head after
    /// the last, from `header`'s session and the rows of its runs in any order.
    ///
    /// Checks, each a `LedgerFault` naming run and step: runs numbered 0, 1, ... with run 0 at
    /// step 0; each run starting at most at the steps before it and at the head there; its rows
    /// consecutive from its start, each row's record of its step, its previous head the head
    /// before it and its head the transcript head after appending its record. A removed,
    /// inserted or reordered row, or a change to anything the transcript binds (steps, samples,
    /// commitments), fails one of these (SHA-256 collision resistance). Values the transcript
    /// binds only through a commitment (activations, gradients, salts) and the proofs are
    /// `RecordVerifier`'s to check, and truncation at the end is caught only against a head
    /// kept elsewhere: a verifier anchors the last head.
    /// Cost: two SHA-256 per row, plus a transcript rebuild per run.
    public static func resolve(
        header: RecordHeader, runs: [LedgerRun], rows: [LedgerRow]
    ) throws(LedgerFault) -> (steps: [StepRecord], head: Digest) {
        let sessionName = Hex.field(header.session)
        var steps: [StepRecord] = []
        var heads: [Digest] = []
        let genesis = Transcript(session: sessionName).head
        let byRun = Dictionary(grouping: rows, by: \.run)
        for (position, run) in runs.sorted(by: { $0.run < $1.run }).enumerated() {
            guard run.run == position else { throw .runsNotConsecutive(expected: position, found: run.run) }
            guard run.startStep <= UInt64(steps.count), position > 0 || run.startStep == 0 else {
                throw .runStartsBeyond(run: run.run, start: run.startStep, available: UInt64(steps.count))
            }
            let start = Int(run.startStep)
            steps.removeSubrange(start...)
            heads.removeSubrange(start...)
            guard run.startHead == (heads.last ?? genesis) else {
                throw .runDoesNotLink(run: run.run, start: run.startStep)
            }
            var transcript = Transcript(session: sessionName)
            for record in steps { transcript.append(record) }
            for row in (byRun[run.run] ?? []).sorted(by: { $0.step < $1.step }) {
                let expected = UInt64(steps.count)
                guard row.step == expected else { throw .gap(run: run.run, expected: expected, found: row.step) }
                guard row.record.step == row.step else {
                    throw .stepMismatch(run: run.run, step: row.step, recordStep: row.record.step)
                }
                guard row.previousHead == transcript.head else { throw .rowDoesNotLink(run: run.run, step: row.step) }
                transcript.append(row.record)
                guard row.head == transcript.head else { throw .rowAltered(run: run.run, step: row.step) }
                steps.append(row.record)
                heads.append(row.head)
            }
        }
        if let orphan = rows.first(where: { $0.run >= runs.count }) {
            throw .runsNotConsecutive(expected: runs.count, found: orphan.run)
        }
        return (steps, heads.last ?? genesis)
    }

    /// The rows a settle appends to run `run`: each record with the transcript heads before and
    /// after it (`transcript` is the party's chain so far and moves past the records).
    public static func rows(appending records: [StepRecord], run: Int, transcript: inout Transcript) -> [LedgerRow] {
        var rows: [LedgerRow] = []
        for record in records {
            let previous = transcript.head
            transcript.append(record)
            rows.append(
                LedgerRow(run: run, step: record.step, previousHead: previous, head: transcript.head, record: record))
        }
        return rows
    }

    /// The transcript of `header`'s session after `steps` (a run's start).
    public static func transcript(header: RecordHeader, steps: [StepRecord]) -> Transcript {
        var transcript = Transcript(session: Hex.field(header.session))
        for record in steps { transcript.append(record) }
        return transcript
    }
}

/// The JSON spellings a ledger stores: a header, a step record and a checkpoint as
/// `record.jsonl` and `checkpoint.json` write them (sorted keys), read back with the same strict
/// decoders (canonical field elements, proofs on their curves, no unknown keys).
public enum LedgerCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws(LedgerFault) -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw .undecodable(what: what, reason: "\(error)")
        }
    }

    /// Lower-case hex of a session id (what the CLI prints and takes).
    public static func sessionHex(_ session: Fr) -> String { Hex.field(session) }
}
