import Algebra
import Commitment
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SplitLearning

/// A party's step ledger and checkpoint in its PostgreSQL database (`--db`), in place of the
/// state directory's `record.jsonl` and `checkpoint.json`.
///
/// `ledger_runs` holds a session's header once per run (run 0 at its start, one more per
/// resume) with the transcript head the run continues; `ledger_steps` one row per settled step
/// with its record and the transcript heads before and after it. Both are append-only: the
/// database refuses UPDATE, DELETE and TRUNCATE by trigger and refuses a step row that does not
/// link to the row before it, so a bug or a writer with plain INSERT rights cannot rewrite
/// history. The table owner can still drop a trigger, which is why every reader re-derives the
/// chain from the records (`LedgerChain.resolve`): the ledger is tamper-evident against its
/// owner, not tamper-proof. `session_checkpoints` keeps each party's latest checkpoint (weights,
/// salts, dataset secrets: as secret as the witnesses in `proof_jobs`, so each party has its own
/// database), replaced in the same transaction as the steps it settles.
///
/// Writes are retried for up to `outage` when the database is unreachable, and each is
/// idempotent: a step row or run already there with the same contents is taken as written (a
/// retry after a lost reply), a different one is a `LedgerFault.conflict`.
public actor PostgresSessionLedger: SessionLedger {
    public let database: PoolDatabase
    public let outage: Duration

    /// What a writer keeps of each session it writes: the run it appends to and the chain so far.
    struct Position {
        var run: Int
        var transcript: Transcript
    }

    private var positions: [PositionKey: Position] = [:]

    struct PositionKey: Hashable {
        let session: [UInt8]
        let role: Role
    }

    /// The largest header, record or checkpoint read back (a damaged row must not exhaust memory).
    static let maxRowBytes = 16 << 20

    public init(database: PoolDatabase, outage: Duration = .seconds(60)) {
        self.database = database
        self.outage = outage
    }

    // MARK: Writing

    public func write(_ persistence: Persistence, role: Role) async throws {
        switch persistence {
        case .start(let header, let checkpoint):
            let transcript = LedgerChain.transcript(header: header, steps: [])
            try await retrying("starting the ledger of a session") {
                try await self.insertRun(header: header, role: role, run: 0, start: 0, head: transcript.head)
                try await self.saveCheckpoint(checkpoint, role: role)
            }
            positions[PositionKey(session: header.session.littleEndianBytes(), role: role)] = Position(
                run: 0, transcript: transcript)
        case .rewind(let header, let steps):
            let key = PositionKey(session: header.session.littleEndianBytes(), role: role)
            let stored = try await read(session: key.session, role: role)
            guard let stored else { throw LedgerFault.noSession(LedgerCoding.sessionHex(header.session)) }
            guard stored.header == header else { throw LedgerFault.headerChanged }
            let transcript = LedgerChain.transcript(header: header, steps: steps)
            let run = stored.runs.count
            try await retrying("appending a run to the ledger") {
                try await self.insertRun(
                    header: header, role: role, run: run, start: UInt64(steps.count), head: transcript.head)
            }
            positions[key] = Position(run: run, transcript: transcript)
        case .settle(let records, let checkpoint):
            let key = PositionKey(session: checkpoint.session.littleEndianBytes(), role: role)
            var position: Position
            if let known = positions[key] {
                position = known
            } else {
                guard let stored = try await read(session: key.session, role: role) else {
                    throw LedgerFault.noSession(LedgerCoding.sessionHex(checkpoint.session))
                }
                let resolved = try LedgerChain.resolve(header: stored.header, runs: stored.runs, rows: stored.rows)
                position = Position(
                    run: stored.runs.count - 1,
                    transcript: LedgerChain.transcript(header: stored.header, steps: resolved.steps))
            }
            let rows = LedgerChain.rows(appending: records, run: position.run, transcript: &position.transcript)
            try await retrying("appending steps to the ledger") {
                let database = self.database
                try await database.transaction { connection in
                    for row in rows {
                        try await Self.insertStep(row, session: key.session, role: role, connection, database)
                    }
                    try await Self.upsertCheckpoint(checkpoint, role: role, connection, database)
                }
            }
            positions[key] = position
        }
    }

    private func insertRun(header: RecordHeader, role: Role, run: Int, start: UInt64, head: Digest) async throws {
        let table = database.schema.ledgerRuns
        let headerText = String(decoding: try LedgerCoding.encode(header), as: UTF8.self)
        let session = ByteBuffer(bytes: header.session.littleEndianBytes())
        let inserted = try await database.rows(
            """
            INSERT INTO \(unescaped: table) (session, role, run, start_step, start_head, header)
            VALUES (\(session), \(role.rawValue), \(Int32(run)), \(Int64(clamping: start)), \(ByteBuffer(bytes: head.bytes)), \(headerText))
            ON CONFLICT DO NOTHING RETURNING run
            """, as: Int32.self)
        if inserted.isEmpty {
            // A retry whose first insert committed: the row must be the one this call writes.
            let existing = try await database.rows(
                """
                SELECT start_step, start_head, header FROM \(unescaped: table)
                WHERE session = \(session) AND role = \(role.rawValue) AND run = \(Int32(run))
                """, as: (Int64, Data, String).self)
            guard let row = existing.first, row.0 == Int64(clamping: start), [UInt8](row.1) == head.bytes,
                row.2 == headerText
            else { throw LedgerFault.conflict(run: run, step: start) }
        }
    }

    private func saveCheckpoint(_ checkpoint: Checkpoint, role: Role) async throws {
        let database = self.database
        try await database.transaction { connection in
            try await Self.upsertCheckpoint(checkpoint, role: role, connection, database)
        }
    }

    static func insertStep(
        _ row: LedgerRow, session: [UInt8], role: Role, _ connection: PostgresConnection, _ database: PoolDatabase
    ) async throws {
        let table = database.schema.ledgerSteps
        let record = String(decoding: try LedgerCoding.encode(row.record), as: UTF8.self)
        let sessionBytes = ByteBuffer(bytes: session)
        let step = Int64(clamping: row.step)
        var inserted = 0
        for try await _ in try await connection.query(
            """
            INSERT INTO \(unescaped: table) (session, role, run, step, previous_head, head, record)
            VALUES (\(sessionBytes), \(role.rawValue), \(Int32(row.run)), \(step), \(ByteBuffer(bytes: row.previousHead.bytes)), \(ByteBuffer(bytes: row.head.bytes)), \(record))
            ON CONFLICT DO NOTHING RETURNING step
            """, logger: database.logger
        ).decode(Int64.self) {
            inserted += 1
        }
        guard inserted == 0 else { return }
        var same = false
        for try await (head, text) in try await connection.query(
            """
            SELECT head, record FROM \(unescaped: table)
            WHERE session = \(sessionBytes) AND role = \(role.rawValue) AND run = \(Int32(row.run)) AND step = \(step)
            """, logger: database.logger
        ).decode((Data, String).self) {
            same = [UInt8](head) == row.head.bytes && text == record
        }
        guard same else { throw LedgerFault.conflict(run: row.run, step: row.step) }
    }

    static func upsertCheckpoint(
        _ checkpoint: Checkpoint, role: Role, _ connection: PostgresConnection, _ database: PoolDatabase
    ) async throws {
        let table = database.schema.checkpoints
        let text = String(decoding: try LedgerCoding.encode(checkpoint), as: UTF8.self)
        let steps = Int64(clamping: checkpoint.latest?.steps ?? 0)
        try await connection.query(
            """
            INSERT INTO \(unescaped: table) (session, role, steps, checkpoint)
            VALUES (\(ByteBuffer(bytes: checkpoint.session.littleEndianBytes())), \(role.rawValue), \(steps), \(text))
            ON CONFLICT (session, role) DO UPDATE
                SET steps = EXCLUDED.steps, checkpoint = EXCLUDED.checkpoint, updated_at = clock_timestamp()
            """, logger: database.logger)
    }

    // MARK: Reading

    public func load(session: Fr, role: Role) async throws -> StoredSession? {
        try await retrying("reading the ledger") {
            try await Self.load(session: session.littleEndianBytes(), role: role, database: self.database)
        }
    }

    public func latest(role: Role) async throws -> StoredSession? {
        let table = database.schema.checkpoints
        let sessions = try await retrying("reading the ledger") {
            try await self.database.rows(
                """
                SELECT session FROM \(unescaped: table) WHERE role = \(role.rawValue)
                ORDER BY updated_at DESC LIMIT 1
                """, as: Data.self)
        }
        guard let session = sessions.first else { return nil }
        return try await retrying("reading the ledger") {
            try await Self.load(session: [UInt8](session), role: role, database: self.database)
        }
    }

    static func load(session: [UInt8], role: Role, database: PoolDatabase) async throws -> StoredSession? {
        let table = database.schema.checkpoints
        let rows = try await database.rows(
            """
            SELECT CASE WHEN octet_length(checkpoint) <= \(Int64(maxRowBytes)) THEN checkpoint END
            FROM \(unescaped: table) WHERE session = \(ByteBuffer(bytes: session)) AND role = \(role.rawValue)
            """, as: String?.self)
        guard let row = rows.first else { return nil }
        guard let text = row else {
            throw LedgerFault.undecodable(what: "the \(role.rawValue) checkpoint", reason: "over \(maxRowBytes) bytes")
        }
        let checkpoint = try LedgerCoding.decode(
            Checkpoint.self, Data(text.utf8), what: "the \(role.rawValue) checkpoint")
        guard checkpoint.session.littleEndianBytes() == session, checkpoint.role == role else {
            throw LedgerFault.undecodable(
                what: "the \(role.rawValue) checkpoint", reason: "it names another session or role")
        }
        guard let stored = try await read(session: session, role: role, database: database) else {
            throw LedgerFault.noSession("\(SHA256.hex(session)) (a checkpoint without ledger runs)")
        }
        let resolved = try LedgerChain.resolve(header: stored.header, runs: stored.runs, rows: stored.rows)
        return StoredSession(checkpoint: checkpoint, header: stored.header, steps: resolved.steps)
    }

    /// The rows of one session and role as stored (nil: no run).
    public struct StoredRows: Sendable {
        public let header: RecordHeader
        public let runs: [LedgerRun]
        public let rows: [LedgerRow]
    }

    func read(session: [UInt8], role: Role) async throws -> StoredRows? {
        try await retrying("reading the ledger") {
            try await Self.read(session: session, role: role, database: self.database)
        }
    }

    /// Every run and step row of `session`'s `role`, each decoded and validated (canonical field
    /// elements, proofs on their curves, 32-byte heads); the header is run 0's, and every later
    /// run must carry the same.
    static func read(session: [UInt8], role: Role, database: PoolDatabase) async throws -> StoredRows? {
        let sessionBytes = ByteBuffer(bytes: session)
        let limit = Int64(maxRowBytes)
        let runRows = try await database.rows(
            """
            SELECT run, start_step, start_head, CASE WHEN octet_length(header) <= \(limit) THEN header END
            FROM \(unescaped: database.schema.ledgerRuns)
            WHERE session = \(sessionBytes) AND role = \(role.rawValue) ORDER BY run
            """, as: (Int32, Int64, Data, String?).self)
        guard !runRows.isEmpty else { return nil }
        var header: RecordHeader?
        var runs: [LedgerRun] = []
        for (run, start, head, text) in runRows {
            let what = "run \(run)'s header"
            guard let text else { throw LedgerFault.undecodable(what: what, reason: "over \(maxRowBytes) bytes") }
            let decoded = try LedgerCoding.decode(RecordHeader.self, Data(text.utf8), what: what)
            if let header, header != decoded { throw LedgerFault.headerChanged }
            header = decoded
            runs.append(
                LedgerRun(
                    run: Int(run), startStep: UInt64(max(start, 0)),
                    startHead: try digest(head, what: "run \(run)'s start head")))
        }
        guard let header else { return nil }
        guard header.session.littleEndianBytes() == session, header.role == role else {
            throw LedgerFault.undecodable(what: "run 0's header", reason: "it names another session or role")
        }
        let stepRows = try await database.rows(
            """
            SELECT run, step, previous_head, head, CASE WHEN octet_length(record) <= \(limit) THEN record END
            FROM \(unescaped: database.schema.ledgerSteps)
            WHERE session = \(sessionBytes) AND role = \(role.rawValue) ORDER BY run, step
            """, as: (Int32, Int64, Data, Data, String?).self)
        var rows: [LedgerRow] = []
        rows.reserveCapacity(stepRows.count)
        for (run, step, previous, head, text) in stepRows {
            let what = "run \(run), step \(step)"
            guard let text else { throw LedgerFault.undecodable(what: what, reason: "over \(maxRowBytes) bytes") }
            rows.append(
                LedgerRow(
                    run: Int(run), step: UInt64(max(step, 0)),
                    previousHead: try digest(previous, what: "\(what)'s previous head"),
                    head: try digest(head, what: "\(what)'s head"),
                    record: try LedgerCoding.decode(StepRecord.self, Data(text.utf8), what: what)))
        }
        return StoredRows(header: header, runs: runs, rows: rows)
    }

    static func digest(_ data: Data, what: String) throws(LedgerFault) -> Digest {
        do { return try Digest(bytes: [UInt8](data)) } catch { throw .undecodable(what: what, reason: "not 32 bytes") }
    }

    // MARK: Sessions

    /// The sessions whose id (lower-case hex, as the CLI prints it) starts with `prefix`, with
    /// the roles each holds.
    public static func sessions(
        matching prefix: String, database: PoolDatabase
    ) async throws -> [(session: [UInt8], roles: [Role])] {
        let valid = prefix.utf8.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
        guard valid, (8...64).contains(prefix.utf8.count) else {
            throw SplitError.invalidArgument("--session must be 8 to 64 lower-case hex digits of a session id")
        }
        let rows = try await database.rows(
            """
            SELECT session, string_agg(role, ',' ORDER BY role) FROM \(unescaped: database.schema.ledgerRuns)
            WHERE run = 0 AND starts_with(encode(session, 'hex'), \(prefix)) GROUP BY session
            """, as: (Data, String).self)
        return rows.map { row in
            ([UInt8](row.0), row.1.split(separator: ",").compactMap { Role(rawValue: String($0)) })
        }
    }

    /// `PoolDatabase.retrying` for up to `outage`.
    func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        try await database.retrying(what, outage: outage, body)
    }
}

extension PoolDatabase {
    /// Runs `body`, retrying for up to `outage` (every half second) when the database cannot be
    /// reached or restarts, so a session outlives a restart; every operation retried this way
    /// must be idempotent. A `LedgerFault` (damaged or conflicting rows) and cancellation are
    /// not retried: waiting does not mend them. Runs in the caller's isolation.
    func retrying<T: Sendable>(
        _ what: String, outage: Duration, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + outage
        while true {
            do { return try await body() } catch let fault as LedgerFault { throw fault } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { throw error }
                logger.warning("\(what): \(error); retrying")
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Runs `body` in one transaction on a pooled connection, database errors as `PoolError`
    /// (a `LedgerFault` thrown by `body` passes through and rolls the transaction back).
    func transaction(_ body: @Sendable (PostgresConnection) async throws -> Void) async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let fault = error.closureError as? LedgerFault { throw fault }
            throw PoolError.database(String(reflecting: error.closureError ?? error.commitError ?? error))
        } catch {
            throw PoolError.database(String(reflecting: error))
        }
    }
}
