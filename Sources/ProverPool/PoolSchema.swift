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
