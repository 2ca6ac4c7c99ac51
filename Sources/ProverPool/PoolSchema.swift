import Logging
import PostgresNIO

/// The pool's tables in one schema, created and upgraded by numbered migrations recorded in
/// `<schema>.migrations` (each applied once, in a transaction, under an advisory lock so that
/// workers starting together do not race).
///
/// `proof_jobs` holds one row per proving task. States: `queued` -> `running` (a worker holds
/// the lease until `lease_expires`) -> `done` (proof stored, witness erased) and then deleted by
/// the party once it verified the proof; or `failed` (a permanent error: unknown key, malformed
/// witness, unsatisfied constraints) / `parked` (its attempts ran out), kept for the operator
/// with their error and without their witness. A trigger notifies `<schema>_jobs` when a job
/// becomes `queued` (workers wake) and `<schema>_done` when it reaches an end (parties wake).
struct PoolSchema: Sendable {
    let name: String

    var jobsChannel: String { name + "_jobs" }
    var doneChannel: String { name + "_done" }
    var jobs: String { "\(name).proof_jobs" }
    var ledgerRuns: String { "\(name).ledger_runs" }
    var ledgerSteps: String { "\(name).ledger_steps" }
    var checkpoints: String { "\(name).session_checkpoints" }

    /// Migration n is `migrations[n - 1]`: a list of statements (PostgreSQL's extended protocol
    /// takes one statement per query).
    var migrations: [[String]] {
        let s = name
        return [
            [
                """
                CREATE TABLE \(s).proof_jobs (
                    id bigserial PRIMARY KEY,
                    part text NOT NULL,
                    step bigint NOT NULL,
                    key_hash bytea NOT NULL,
                    witness bytea,
                    public_count integer NOT NULL,
                    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'parked')),
                    attempts integer NOT NULL DEFAULT 0,
                    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
                    rejections integer NOT NULL DEFAULT 0,
                    leases_expired integer NOT NULL DEFAULT 0,
                    lease_owner text,
                    lease_expires timestamptz,
                    proved_by text,
                    excluded_worker text,
                    available_at timestamptz NOT NULL DEFAULT now(),
                    error text,
                    proof bytea,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    finished_at timestamptz
                )
                """,
                "CREATE INDEX proof_jobs_queued ON \(s).proof_jobs (id) WHERE state = 'queued'",
                "CREATE INDEX proof_jobs_leases ON \(s).proof_jobs (lease_expires) WHERE state = 'running'",
                """
                CREATE FUNCTION \(s).proof_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.state = 'queued' THEN
                        PERFORM pg_notify(TG_TABLE_SCHEMA || '_jobs', NEW.id::text);
                    ELSIF NEW.state IN ('done', 'failed', 'parked') THEN
                        PERFORM pg_notify(TG_TABLE_SCHEMA || '_done', NEW.id::text);
                    END IF;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER proof_jobs_notify AFTER INSERT OR UPDATE OF state ON \(s).proof_jobs
                FOR EACH ROW EXECUTE FUNCTION \(s).proof_jobs_notify()
                """,
            ],
            // 2: the party's key for each proving request, so that retrying an insert whose reply
            // was lost (a restart, a failover) finds the row it made instead of adding a second.
            [
                "ALTER TABLE \(s).proof_jobs ADD COLUMN request uuid",
                "CREATE UNIQUE INDEX proof_jobs_request ON \(s).proof_jobs (request)",
            ],
            // 3: the step ledger (`PostgresSessionLedger`): runs and settled steps, append-only
            // by trigger (UPDATE, DELETE and TRUNCATE refused), each step linked to the row
            // before it by the transcript heads; and each party's latest checkpoint (state, not
            // evidence: replaced at each settle, and secret: weights and salts).
            [
                """
                CREATE TABLE \(s).ledger_runs (
                    session bytea NOT NULL CHECK (octet_length(session) = 32),
                    role text NOT NULL CHECK (role IN ('client', 'server')),
                    run integer NOT NULL CHECK (run >= 0),
                    start_step bigint NOT NULL CHECK (start_step >= 0),
                    start_head bytea NOT NULL CHECK (octet_length(start_head) = 32),
                    header text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (session, role, run),
                    CHECK (run > 0 OR start_step = 0)
                )
                """,
                """
                CREATE TABLE \(s).ledger_steps (
                    session bytea NOT NULL,
                    role text NOT NULL,
                    run integer NOT NULL,
                    step bigint NOT NULL CHECK (step >= 0),
                    previous_head bytea NOT NULL CHECK (octet_length(previous_head) = 32),
                    head bytea NOT NULL CHECK (octet_length(head) = 32),
                    record text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (session, role, run, step),
                    FOREIGN KEY (session, role, run) REFERENCES \(s).ledger_runs (session, role, run)
                )
                """,
                """
                CREATE TABLE \(s).session_checkpoints (
                    session bytea NOT NULL CHECK (octet_length(session) = 32),
                    role text NOT NULL CHECK (role IN ('client', 'server')),
                    steps bigint NOT NULL,
                    checkpoint text NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    PRIMARY KEY (session, role)
                )
                """,
                """
                CREATE FUNCTION \(s).ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the ledger is append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
                        USING ERRCODE = 'integrity_constraint_violation';
                END $$
                """,
                """
                CREATE TRIGGER ledger_runs_append_only BEFORE UPDATE OR DELETE ON \(s).ledger_runs
                FOR EACH ROW EXECUTE FUNCTION \(s).ledger_refuse_change()
                """,
                """
                CREATE TRIGGER ledger_runs_no_truncate BEFORE TRUNCATE ON \(s).ledger_runs
                FOR EACH STATEMENT EXECUTE FUNCTION \(s).ledger_refuse_change()
                """,
                """
                CREATE TRIGGER ledger_steps_append_only BEFORE UPDATE OR DELETE ON \(s).ledger_steps
                FOR EACH ROW EXECUTE FUNCTION \(s).ledger_refuse_change()
                """,
                """
                CREATE TRIGGER ledger_steps_no_truncate BEFORE TRUNCATE ON \(s).ledger_steps
                FOR EACH STATEMENT EXECUTE FUNCTION \(s).ledger_refuse_change()
                """,
                // A run is the next of its session (or one already there: a retried insert that
                // ON CONFLICT then ignores); a step row links to the row before it in its run, or
                // to its run's start head.
                """
                CREATE FUNCTION \(s).ledger_runs_next() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE latest integer;
                BEGIN
                    SELECT max(run) INTO latest FROM \(s).ledger_runs WHERE session = NEW.session AND role = NEW.role;
                    IF NEW.run > coalesce(latest, -1) + 1 THEN
                        RAISE EXCEPTION 'ledger run % of this session follows run %', NEW.run, coalesce(latest, -1)
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER ledger_runs_next BEFORE INSERT ON \(s).ledger_runs
                FOR EACH ROW EXECUTE FUNCTION \(s).ledger_runs_next()
                """,
                """
                CREATE FUNCTION \(s).ledger_steps_link() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE first_step bigint; expected bytea;
                BEGIN
                    SELECT start_step, start_head INTO first_step, expected FROM \(s).ledger_runs
                    WHERE session = NEW.session AND role = NEW.role AND run = NEW.run;
                    IF NEW.step <> first_step THEN
                        SELECT head INTO expected FROM \(s).ledger_steps
                        WHERE session = NEW.session AND role = NEW.role AND run = NEW.run AND step = NEW.step - 1;
                    END IF;
                    IF expected IS NULL OR NEW.step < first_step OR NEW.previous_head <> expected THEN
                        RAISE EXCEPTION 'ledger step % of run % does not link to the row before it', NEW.step, NEW.run
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER ledger_steps_link BEFORE INSERT ON \(s).ledger_steps
                FOR EACH ROW EXECUTE FUNCTION \(s).ledger_steps_link()
                """,
            ],
        ]
    }

    func migrate(_ client: PostgresClient, logger: Logger) async throws(PoolError) {
        let s = name
        let migrations = migrations
        do {
            try await client.withTransaction(logger: logger) { connection in
                // One migrator at a time per schema (the lock ends with the transaction).
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(s)))", logger: logger)
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: s)", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS \(unescaped: s).migrations (
                        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                var applied = 0
                for try await version in try await connection.query(
                    "SELECT coalesce(max(version), 0)::integer FROM \(unescaped: s).migrations",
                    logger: logger
                ).decode(Int32.self) {
                    applied = Int(version)
                }
                guard applied <= migrations.count else {
                    throw PoolError.database(
                        "schema \(s) is at version \(applied), newer than this build knows (\(migrations.count)); upgrade verisplit"
                    )
                }
                for (index, statements) in migrations.enumerated() where index + 1 > applied {
                    for statement in statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO \(unescaped: s).migrations (version) VALUES (\(Int32(index + 1)))", logger: logger)
                }
            }
        } catch let error as PoolError {
            throw error
        } catch {
            throw .database("migrating schema \(s): \(String(reflecting: error))")
        }
    }
}
