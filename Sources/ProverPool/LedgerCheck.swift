import Algebra
import Commitment
import Foundation
import Logging
import SplitLearning

/// `split verify-transcript --db URL --session ID`: a session checked straight from the
/// ledger tables. Each party's rows (client, server, or both when one database holds both) are
/// resolved into their chain (`LedgerChain.resolve`: every run and row linked, every head
/// recomputed from its record), then checked like a record file (`RecordVerifier`: proofs,
/// openings, commitment chains). A party is anchored by the head its peer reported
/// (`--expect-head`) when given, else by the peer's rows when the database holds them (as
/// `--peer` does), else by its proofs alone.
public struct LedgerCheck: Sendable {
    public var url: String
    /// The session id, or a prefix of at least 8 of its lower-case hex digits.
    public var session: String
    public var keys: KeySource
    /// Only this party's rows (nil: every party's rows the database holds).
    public var role: Role?
    public var expectHead: String?

    public init(url: String, session: String, keys: KeySource, role: Role? = nil, expectHead: String? = nil) {
        (self.url, self.session, self.keys, self.role, self.expectHead) = (url, session, keys, role, expectHead)
    }

    /// One party's verdict.
    public struct PartyResult: Sendable {
        public let role: Role
        public let rows: Int
        public let runs: Int
        public let result: RecordCheckResult
    }

    public struct Report: Sendable {
        public let session: String
        public let parties: [PartyResult]

        public var verdict: CommandVerdict {
            parties.allSatisfy { $0.result.verdict == .ok } ? .ok : .invalid
        }

        public func rendered(json: Bool) -> String {
            if json {
                let parties = parties.map { party in
                    "{\"role\":\"\(party.role.rawValue)\",\"runs\":\(party.runs),\"rows\":\(party.rows),\"check\":\(party.result.rendered(json: true))}"
                }
                return
                    "{\"session\":\"\(session)\",\"valid\":\(verdict == .ok),\"parties\":[\(parties.joined(separator: ","))]}"
            }
            return parties.map { party in
                "\(party.role.rawValue) ledger (\(party.runs) run\(party.runs == 1 ? "" : "s"), \(party.rows) rows): \(party.result.rendered(json: false))"
            }.joined(separator: "\n")
        }
    }

    /// Opens the database, finds the session and checks each party's rows. Bad input (a URL, an
    /// id that matches no session or several, keys missing for a record with proofs) throws; a
    /// failed check is an invalid party result naming the run, step and reason.
    public func run(logger: Logger) async throws -> Report {
        let database = try await PoolDatabase.open(try PoolLocation(url: url), logger: logger)
        defer { database.close() }
        let matches = try await PostgresSessionLedger.sessions(matching: session, database: database)
        guard let match = matches.first else { throw LedgerFault.noSession(session) }
        guard matches.count == 1 else { throw LedgerFault.ambiguousSession(prefix: session, matches: matches.count) }
        let roles = role.map { [$0] } ?? match.roles
        guard !roles.isEmpty, roles.allSatisfy(match.roles.contains) else {
            throw LedgerFault.noSession("\(session) for the \(role?.rawValue ?? "") party")
        }
        var chains: [Role: Result<(PostgresSessionLedger.StoredRows, [StepRecord]), LedgerFault>] = [:]
        for party in match.roles {
            guard
                let stored = try await PostgresSessionLedger.read(
                    session: match.session, role: party, database: database)
            else { continue }
            do throws(LedgerFault) {
                let resolved = try LedgerChain.resolve(header: stored.header, runs: stored.runs, rows: stored.rows)
                chains[party] = .success((stored, resolved.steps))
            } catch {
                chains[party] = .failure(error)
            }
        }
        let sessionHex = SHA256.hex(match.session)
        var parties: [PartyResult] = []
        for party in roles {
            guard let chain = chains[party] else { continue }
            switch chain {
            case .failure(let fault):
                parties.append(PartyResult(role: party, rows: 0, runs: 0, result: .invalid("the ledger: \(fault)")))
            case .success(let (stored, steps)):
                if expectHead == nil, !stored.header.mode.usesProofs, case .failure(let fault) = chains[party.peer] {
                    // Its anchor is damaged: that is the finding, not a missing argument.
                    let reason = "the \(party.peer.rawValue) rows that anchor this record do not resolve (\(fault))"
                    parties.append(
                        PartyResult(
                            role: party, rows: stored.rows.count, runs: stored.runs.count, result: .invalid(reason)))
                    continue
                }
                let anchor = try anchor(for: party, header: stored.header, chains: chains)
                if stored.header.mode.usesProofs, !keys.named {
                    throw SplitError.invalidArgument(
                        "a \(stored.header.mode.rawValue) session needs --keys DIR to check its proofs")
                }
                let setup = try keys.load(mode: stored.header.mode.usesProofs ? stored.header.mode : .plain)
                let result = RecordCheck.verify(
                    RecordCheck.Inputs(header: stored.header, steps: steps, setup: setup, anchor: anchor))
                parties.append(
                    PartyResult(role: party, rows: stored.rows.count, runs: stored.runs.count, result: result))
            }
        }
        return Report(session: sessionHex, parties: parties)
    }

    /// The head the peer reported (`--expect-head`) when given, else the other party's resolved
    /// chain when the database holds it, else the proofs alone (a record without proofs then has
    /// nothing to stand on: bad input).
    func anchor(
        for party: Role, header: RecordHeader,
        chains: [Role: Result<(PostgresSessionLedger.StoredRows, [StepRecord]), LedgerFault>]
    ) throws -> RecordVerifier.Anchor {
        if let expectHead {
            guard let head = try? Digest(hex: expectHead) else {
                throw SplitError.invalidArgument("--expect-head must be 64 hex digits")
            }
            return .transcriptHead(head)
        }
        if case .success(let (peer, steps)) = chains[party.peer] {
            return .peerRecord(header: peer.header, steps: steps)
        }
        guard header.mode.usesProofs else { throw SplitError.unanchoredRecord(mode: header.mode) }
        return .none
    }
}
