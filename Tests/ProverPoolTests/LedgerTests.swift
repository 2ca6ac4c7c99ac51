import Algebra
import Commitment
import Foundation
import Logging
import ProverPool
import SplitLearning
import XCTest

/// The step ledger in PostgreSQL (`--db`): sessions recorded, checked straight from the tables,
/// resumed from them; history refused to change by the database; a damaged row named by run and
/// step while the other sessions keep verifying.
final class StepLedgerTests: XCTestCase {
    /// A session on the ledger (proofs in process) with both parties' rows in one schema.
    static func run(
        _ mode: SplitMode, steps: Int, ledger: PostgresSessionLedger, stopAfter: Int? = nil, resume: Bool = false,
        schedule: UInt64? = 7, pool: (any ProofService)? = nil
    ) async throws -> LocalRun.Result {
        var c = Fixture.configuration(mode, steps: steps)
        c.fixedScheduleSeed = schedule
        c.sessionLedger = ledger
        c.stopClientAfter = stopAfter
        c.resume = resume
        c.clientProofService = pool
        c.serverProofService = pool
        return try await LocalRun.run(
            setup: Fixture.setup, train: Fixture.data, test: nil, configuration: c, logger: Logger(label: "test"))
    }

    static func check(
        _ pool: PoolHarness, _ session: Fr?, role: Role? = nil, expectHead: String? = nil
    ) async throws -> LedgerCheck.Report {
        let id = SHA256.hex(try XCTUnwrap(session).littleEndianBytes())
        return try await LedgerCheck(
            url: pool.url, session: String(id.prefix(16)), keys: Fixture.keySource, role: role, expectHead: expectHead
        ).run(logger: Logger(label: "test"))
    }

    /// Verified and ledger sessions write one run and one row per step for each party, and the
    /// database check passes with each party anchoring the other.
    func testSessionsAreRecordedAndVerifyFromTheDatabase() async throws {
        let pool = try await PoolHarness()
        let ledger = PostgresSessionLedger(database: pool.database)
        for mode in [SplitMode.verified, .ledger] {
            let run = try await Self.run(mode, steps: 3, ledger: ledger, schedule: nil)
            XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
            XCTAssertEqual(run.report.stepsCompleted, 3)
            let session = SHA256.hex(try XCTUnwrap(run.report.session).littleEndianBytes())
            for role in Role.allCases {
                let rows = try await pool.scalar(
                    "SELECT count(*)::bigint FROM \(pool.schema).ledger_steps WHERE role = '\(role.rawValue)' AND encode(session, 'hex') = '\(session)'"
                )
                XCTAssertEqual(rows, 3, "\(mode) \(role) rows")
            }
            let report = try await Self.check(pool, run.report.session)
            XCTAssertEqual(report.verdict, .ok, report.rendered(json: false))
            XCTAssertEqual(report.parties.map(\.role), [.client, .server])
            guard case .valid(let result) = report.parties[0].result else { return XCTFail("\(mode)") }
            XCTAssertEqual(result.transcriptHead, run.report.transcriptHead)
            XCTAssertEqual(result.anchor, .peerRecord)
            // One party's rows alone: a verified record stands on its proofs, a ledger record
            // needs the head the peer reported.
            if mode == .verified {
                let alone = try await Self.check(pool, run.report.session, role: .client)
                XCTAssertEqual(alone.verdict, .ok, alone.rendered(json: false))
            }
        }
        await pool.close()
    }

    /// UPDATE, DELETE and TRUNCATE of ledger rows are refused by the database, and so is an
    /// insert that does not link to the row before it or skips a run.
    func testTheDatabaseRefusesToRewriteHistory() async throws {
        let pool = try await PoolHarness()
        let ledger = PostgresSessionLedger(database: pool.database)
        let run = try await Self.run(.ledger, steps: 2, ledger: ledger)
        XCTAssertEqual(run.report.stepsCompleted, 2)
        let s = pool.schema
        let refusals = [
            "UPDATE \(s).ledger_steps SET record = record || ' ' WHERE step = 1",
            "DELETE FROM \(s).ledger_steps WHERE step = 1",
            "TRUNCATE \(s).ledger_steps",
            "UPDATE \(s).ledger_runs SET start_step = 1",
            "DELETE FROM \(s).ledger_runs",
            "TRUNCATE \(s).ledger_runs CASCADE",
        ]
        for statement in refusals {
            do {
                try await pool.database.execute(sql: statement)
                XCTFail("the database accepted: \(statement)")
            } catch {
                XCTAssertTrue("\(error)".contains("append-only"), "\(statement): \(error)")
            }
        }
        // A forged next step whose previous head is not the last row's head.
        let insert = """
            INSERT INTO \(s).ledger_steps (session, role, run, step, previous_head, head, record)
            SELECT session, role, run, 2, decode(repeat('00', 32), 'hex'), head, record FROM \(s).ledger_steps
            WHERE step = 1 AND role = 'client'
            """
        do {
            try await pool.database.execute(sql: insert)
            XCTFail("the database accepted a step that does not link")
        } catch {
            XCTAssertTrue("\(error)".contains("does not link"), "\(error)")
        }
        let skipRun = """
            INSERT INTO \(s).ledger_runs (session, role, run, start_step, start_head, header)
            SELECT session, role, 2, 0, start_head, header FROM \(s).ledger_runs WHERE role = 'client'
            """
        do {
            try await pool.database.execute(sql: skipRun)
            XCTFail("the database accepted run 2 after run 0")
        } catch {
            XCTAssertTrue("\(error)".contains("follows run 0"), "\(error)")
        }
        let rows = try await pool.scalar("SELECT count(*)::bigint FROM \(s).ledger_steps")
        XCTAssertEqual(rows, 4, "nothing changed")
        let report = try await Self.check(pool, run.report.session)
        XCTAssertEqual(report.verdict, .ok, report.rendered(json: false))
        await pool.close()
    }

    /// The table owner can switch the triggers off (it owns them), so the readers re-derive the
    /// chain. Three owners' forgeries against one session: a changed record, a changed record
    /// with every head recomputed to match (a capable forger who knows the transcript hash), and
    /// a removed middle row. Each is named by run and step or refused by the proofs; a second
    /// session in the same tables keeps verifying, and a damaged session cannot be resumed.
    func testOwnersForgeriesAreCaughtAndOtherSessionsStillVerify() async throws {
        let pool = try await PoolHarness()
        let ledger = PostgresSessionLedger(database: pool.database)
        let victim = try await Self.run(.verified, steps: 3, ledger: ledger, schedule: nil)
        let bystander = try await Self.run(.verified, steps: 2, ledger: ledger, schedule: nil)
        XCTAssertEqual(victim.report.stepsCompleted, 3)
        let s = pool.schema
        let session = SHA256.hex(try XCTUnwrap(victim.report.session).littleEndianBytes())
        let victimRows = "encode(session, 'hex') = '\(session)' AND role = 'client'"
        try await pool.database.execute(sql: "ALTER TABLE \(s).ledger_steps DISABLE TRIGGER USER")
        var records: [StepRecord] = []
        for step in 0..<3 {
            let text = try await pool.text(
                "SELECT record FROM \(s).ledger_steps WHERE \(victimRows) AND step = \(step)")
            records.append(try JSONDecoder().decode(StepRecord.self, from: Data(text.utf8)))
        }
        // The forger moves step 1's activation commitment (what the transcript binds).
        var record = records[1]
        record.activationCommitment = try XCTUnwrap(record.activationCommitment) + Fr.one
        records[1] = record
        let forged = String(decoding: try LedgerCoding.encode(record), as: UTF8.self)

        // 1. The record changed, its head left: the row no longer follows from its record.
        try await pool.database.execute(
            sql: "UPDATE \(s).ledger_steps SET record = '\(forged)' WHERE \(victimRows) AND step = 1")
        var report = try await Self.check(pool, victim.report.session, role: .client)
        XCTAssertEqual(report.verdict, .invalid)
        XCTAssertTrue(report.rendered(json: false).contains("run 0, step 1 was altered"), report.rendered(json: false))
        do {
            _ = try await ledger.load(session: try XCTUnwrap(victim.report.session), role: .client)
            XCTFail("a damaged ledger was handed to a party")
        } catch let fault as LedgerFault {
            XCTAssertEqual(fault, .rowAltered(run: 0, step: 1))
        }

        // 2. The forger recomputes step 1's head and every head after it: the chain links, and
        // step 1's activations no longer open the changed commitment.
        let headerText = try await pool.text(
            "SELECT header FROM \(s).ledger_runs WHERE \(victimRows) AND run = 0")
        let header = try JSONDecoder().decode(RecordHeader.self, from: Data(headerText.utf8))
        var transcript = LedgerChain.transcript(header: header, steps: [])
        let rows = LedgerChain.rows(appending: records, run: 0, transcript: &transcript)
        for row in rows {
            try await pool.database.execute(
                sql: """
                    UPDATE \(s).ledger_steps SET previous_head = decode('\(row.previousHead.hex)', 'hex'),
                        head = decode('\(row.head.hex)', 'hex')
                    WHERE \(victimRows) AND step = \(row.step)
                    """)
        }
        report = try await Self.check(pool, victim.report.session, role: .client)
        XCTAssertEqual(report.verdict, .invalid)
        XCTAssertTrue(report.rendered(json: false).contains("step 1"), report.rendered(json: false))
        XCTAssertFalse(report.rendered(json: false).contains("altered"), "the heads were recomputed")
        // With both parties' rows, the server's untouched record disagrees at step 1 as well.
        report = try await Self.check(pool, victim.report.session)
        XCTAssertEqual(report.verdict, .invalid)

        // 3. A middle row removed: a gap in run 0.
        try await pool.database.execute(sql: "DELETE FROM \(s).ledger_steps WHERE \(victimRows) AND step = 1")
        report = try await Self.check(pool, victim.report.session, role: .client)
        XCTAssertTrue(
            report.rendered(json: false).contains("run 0 holds step 2 where step 1 comes next"),
            report.rendered(json: false))
        try await pool.database.execute(sql: "ALTER TABLE \(s).ledger_steps ENABLE TRIGGER USER")

        // The other session in the same tables still verifies.
        let other = try await Self.check(pool, bystander.report.session)
        XCTAssertEqual(other.verdict, .ok, other.rendered(json: false))
        await pool.close()
    }

    /// A client stopped mid-session resumes from the ledger (`--db --resume`): the session ends
    /// with the weights of an uninterrupted one, the ledger holds a second run for the redone
    /// steps, and the database check passes from the first step.
    func testKilledClientResumesFromTheLedger() async throws {
        for mode in [SplitMode.verified, .ledger] {
            let pool = try await PoolHarness()
            let ledger = PostgresSessionLedger(database: pool.database)
            let uninterrupted = try await Fixture.run(mode, steps: 4)
            let first = try await Self.run(mode, steps: 4, ledger: ledger, stopAfter: 2)
            XCTAssertLessThan(first.report.stepsCompleted, 4)
            let resumed = try await Self.run(mode, steps: 4, ledger: ledger, resume: true)
            XCTAssertFalse(resumed.report.rejected, resumed.report.reason ?? "")
            XCTAssertEqual(resumed.report.stepsCompleted, 4)
            XCTAssertEqual(resumed.report.session, first.report.session)
            XCTAssertEqual(resumed.clientLayer, uninterrupted.clientLayer, "\(mode)")
            XCTAssertEqual(resumed.serverLayer, uninterrupted.serverLayer, "\(mode)")
            let runs = try await pool.scalar(
                "SELECT count(*)::bigint FROM \(pool.schema).ledger_runs WHERE role = 'client'")
            XCTAssertEqual(runs, 2, "the resume appended a run")
            let report = try await Self.check(pool, resumed.report.session)
            XCTAssertEqual(report.verdict, .ok, report.rendered(json: false))
            guard case .valid(let result) = report.parties[0].result else { return XCTFail("\(mode)") }
            XCTAssertEqual(result.steps, 4)
            XCTAssertEqual(result.transcriptHead, resumed.report.transcriptHead)
            await pool.close()
        }
    }

    /// Bad input to the database check: an id that is not hex, one that matches nothing, and a
    /// ledger-mode party checked alone without the head its peer reported.
    func testBadSessionIdsAndUnanchoredRecordsAreClearErrors() async throws {
        let pool = try await PoolHarness()
        let ledger = PostgresSessionLedger(database: pool.database)
        let run = try await Self.run(.ledger, steps: 2, ledger: ledger)
        for (id, expected) in [("XYZ", "8 to 64 lower-case hex"), ("00000000", "no session 00000000")] {
            do {
                _ = try await LedgerCheck(url: pool.url, session: id, keys: Fixture.keySource).run(
                    logger: Logger(label: "test"))
                XCTFail("accepted \(id)")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(id): \(error)")
            }
        }
        // The database holds only the client's rows (the owner removed the server's).
        let s = pool.schema
        try await pool.database.execute(sql: "ALTER TABLE \(s).ledger_steps DISABLE TRIGGER USER")
        try await pool.database.execute(sql: "ALTER TABLE \(s).ledger_runs DISABLE TRIGGER USER")
        // First the server's first row goes: its chain no longer resolves, and the client's
        // ledger-mode record, which it anchors, is reported as anchored by a damaged peer.
        try await pool.database.execute(sql: "DELETE FROM \(s).ledger_steps WHERE role = 'server' AND step = 0")
        let damaged = try await Self.check(pool, run.report.session)
        XCTAssertEqual(damaged.verdict, .invalid)
        XCTAssertTrue(
            damaged.rendered(json: false).contains("the server rows that anchor this record do not resolve"),
            damaged.rendered(json: false))
        try await pool.database.execute(sql: "DELETE FROM \(s).ledger_steps WHERE role = 'server'")
        try await pool.database.execute(sql: "DELETE FROM \(s).ledger_runs WHERE role = 'server'")
        do {
            _ = try await Self.check(pool, run.report.session)
            XCTFail("a ledger record alone was checked without an anchor")
        } catch let error as SplitError {
            XCTAssertEqual(error, .unanchoredRecord(mode: .ledger))
        }
        do {
            _ = try await Self.check(pool, run.report.session, role: .server)
            XCTFail("checked a party the database has no rows of")
        } catch let fault as LedgerFault {
            XCTAssertTrue(fault.description.contains("server"), "\(fault)")
        }
        let anchored = try await Self.check(
            pool, run.report.session, role: .client, expectHead: try XCTUnwrap(run.report.transcriptHead).hex)
        XCTAssertEqual(anchored.verdict, .ok, anchored.rendered(json: false))
        await pool.close()
    }
}
