import ArgumentParser
import Foundation
import Logging
import NeuralNet
import ProverPool
import SplitLearning

/// `verisplit split ...`: verifiable split training between a client and a server process.
struct SplitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Verifiable split learning: keys, server, client, a local run, offline transcript checks.",
        subcommands: [
            SplitKeysCommand.self, SplitServerCommand.self, SplitClientCommand.self, SplitRunCommand.self,
            SplitVerifyTranscript.self, SplitLoadTest.self, SplitCeremonyCommand.self, SplitCeremonyLinkCommand.self,
        ])
}

/// Options every split command shares: the spec and the keys.
struct SpecOptions: ParsableArguments {
    @Option(help: "Circuit spec JSON (circuits/*.json): the split network both parties agreed on.")
    var spec: String = "circuits/split.json"
    @Option(
        help:
            "Key directory with client/, server/ and client-update/ keys (from `split keys`). Default for local runs: a development setup in memory."
    )
    var keys: String?
    @Option(
        help:
            "Ceremony root with client/, server/ and client-update/ ceremonies (`split ceremony`): verified in full, and refused unless it holds one of --receipt."
    )
    var ceremony: String?
    @Option(help: "This party's ceremony receipt (repeat for each part and phase).") var receipt: [String] = []
    @Option(
        help:
            "SHA-256 (hex) of a public .ptau this party trusts as phase 1 in place of its own phase-1 contribution (repeatable)."
    )
    var ptauSha256: [String] = []

    var source: KeySource {
        KeySource(spec: spec, keys: keys, ceremony: ceremony, receipts: receipt, pinnedPtauSHA256: ptauSha256)
    }

    func load(mode: SplitMode?) throws -> SessionSetup { try source.load(mode: mode) }
}

/// TLS flags of both roles.
struct TLSFlags: ParsableArguments {
    @Option(help: "PEM certificate chain this side presents (server: required for TLS; client: for mutual TLS).")
    var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(
        help:
            "PEM CA bundle: the client trusts servers it signed; with --require-client-cert the server admits clients it signed."
    )
    var tlsCa: String?
    @Flag(help: "Server: mutual TLS, only clients with a certificate from --tls-ca may train.") var requireClientCert =
        false
    @Option(help: "Client: the name the server certificate must carry (default: the host connected to).")
    var serverName: String?

    var options: TLSOptions? {
        guard tlsCert != nil || tlsCa != nil else { return nil }
        return TLSOptions(
            certificateChain: tlsCert, privateKey: tlsKey, trustRoots: tlsCa,
            requirePeerCertificate: requireClientCert, serverHostname: serverName)
    }
}

/// `--db` and the pool's metrics endpoint, for `split server`, `split client` and `split run`.
struct PoolOptions: ParsableArguments {
    @Option(
        help:
            "postgres://USER@HOST[:PORT]/DB[?schema=NAME]: prove through this party's prover pool (workers: `verisplit prover`; `split run` runs both parties, which share it) and keep the step ledger and checkpoints there instead of --state (`split verify-transcript --db URL --session ID` checks a session from it). Default: prove in this process."
    )
    var db: String?
    @Option(help: "With --db: serve the party's pool metrics (Prometheus) on this port at /metrics.") var metricsPort:
        Int?
    @Option(help: "Address the metrics endpoint binds to.") var metricsHost = "127.0.0.1"

    func validate() throws {
        if metricsPort != nil, db == nil {
            throw ValidationError("--metrics-port needs --db: it serves the pool's series")
        }
    }

    /// Refuses `--state` beside `--db`: the database holds the session state then.
    func validate(state: String?) throws {
        if db != nil, state != nil {
            throw ValidationError(
                "--db keeps the step ledger and checkpoints in the database: leave out --state (resume with --db and --resume)"
            )
        }
    }

    /// The pool service, or nil without `--db`.
    func connect(logger: Logger) async throws -> PostgresProofService? {
        guard let db else { return nil }
        guard let metricsPort else { return try await PostgresProofService.connect(url: db, logger: logger) }
        return try await PostgresProofService.connect(
            url: db, logger: logger, metricsAddress: .init(host: metricsHost, port: metricsPort))
    }
}

/// Exits with `verdict`'s status (0, 1 or 2) unless it is ok.
func exitUnlessOK(_ verdict: CommandVerdict) throws {
    if verdict != .ok { throw ExitCode(verdict.rawValue) }
}

struct SplitKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Development keys for a spec's three circuits (one party's setup: it could forge proofs).",
        discussion:
            "Writes OUT/client, OUT/server and OUT/client-update, each with proving.key and verification_key.json. For sessions between distrusting parties use `verisplit ceremony` instead. With --info, prints the verifying-key hashes of an existing directory (what the handshake compares)."
    )
    @Option(help: "Circuit spec JSON.") var spec: String = "circuits/split.json"
    @Option(help: "Output directory (default: keys/NAME, NAME the spec file's name without .json, e.g. keys/split).")
    var out: String?
    @Option(help: "Print the hashes of this key directory instead of making keys.") var info: String?

    func run() throws {
        let lines = try DevelopmentKeys.run(spec: spec, out: out ?? KeyDirectory.default(for: spec), info: info)
        print(lines.joined(separator: "\n"))
    }
}

struct SplitServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the server party: the top layers, checking every client message before training on it.")
    @Option(help: "HOST:PORT to listen on.") var listen: String = "127.0.0.1:7000"
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var tls: TLSFlags
    @Option(help: "Modes to accept (comma-separated).") var modes: String = "verified,pipelined,ledger,plain"
    @Option(help: "Directory for per-session checkpoints and records (needed to resume).") var state: String?
    @Option(help: "Seed of every new session's initial head weights.") var seed: UInt64 = 2
    @Option(help: "Sessions served at once; more connections wait.") var maxConnections: Int = 16
    @Option(help: "Seconds a silent peer may hold a connection.") var idleTimeout: Int = 120
    @Option(help: "Largest frame accepted, in bytes.") var maxFrameBytes: Int = Frame.defaultMaxBytes
    @Option(help: "Exit after this many sessions (default: serve until killed).") var sessions: Int?
    @Option(help: "Append one JSON line per finished session (its outcome and timings) to this file.") var summary:
        String?
    @Option(
        help:
            "Play a dishonest server: \(Adversary.allCases.filter { $0.side == .server }.map(\.rawValue).joined(separator: ", "))."
    )
    var adversary: String = "none"
    @Option(help: "The step at which the adversary acts.") var attackStep: UInt64 = 1
    @Flag(help: "Experiments only: accept clients that ask for a fixed sample order (--fixed-schedule).")
    var allowFixedSchedule = false
    @OptionGroup var pool: PoolOptions
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func validate() throws { try pool.validate(state: state) }

    func run() async throws {
        let logger = try Logger.splitLogger(level: logLevel)
        var server = ServerProcess(
            endpoint: try Endpoint(parsing: listen, flag: "--listen"), keys: specOptions.source, tls: tls.options,
            modes: try SplitMode.parseList(modes), state: state, seed: seed, adversary: try Adversary.parse(adversary),
            attackStep: attackStep, allowFixedSchedule: allowFixedSchedule, maxConnections: maxConnections,
            idleTimeoutSeconds: idleTimeout, maxFrameBytes: maxFrameBytes, sessions: sessions, summary: summary,
            logger: logger)
        let setup = try server.setup()
        if let service = try await pool.connect(logger: logger) {
            server.options.proofService = service
            server.options.sessionLedger = PostgresSessionLedger(database: service.database)
        }
        try await server.serve(setup: setup)
    }
}

struct SplitClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run the client party: the data and the bottom layers, checking every gradient before using it.")
    @Option(help: "HOST:PORT of the server.") var connect: String = "127.0.0.1:7000"
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var tls: TLSFlags
    @Option(help: "verified, pipelined, ledger or plain.") var mode: String = "verified"
    @Option(help: "Training steps (the spec's batch of samples each).") var steps: Int = 20
    @Option(help: "Pipelined mode: steps either side may run ahead of the proofs.") var pipelineDepth: Int = 4
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 1
    @Option(
        help:
            "Experiments only: a public seed for the sample order instead of the session's coin toss (the server must allow it)."
    )
    var fixedSchedule: UInt64?
    @Option(help: "Directory for the checkpoint and the session record.") var state: String?
    @Flag(help: "Continue the session checkpointed in --state (with --db: the latest client session in the database).")
    var resume = false
    @Option(
        help:
            "Play a dishonest client: \(Adversary.allCases.filter { $0.side == .client }.map(\.rawValue).joined(separator: ", "))."
    )
    var adversary: String = "none"
    @Option(help: "The step at which the adversary acts.") var attackStep: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var pool: PoolOptions
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func validate() throws { try pool.validate(state: state) }

    func run() async throws {
        let logger = try Logger.splitLogger(level: logLevel)
        var client = ClientProcess(
            endpoint: try Endpoint(parsing: connect, flag: "--connect"), keys: specOptions.source, tls: tls.options,
            mode: try SplitMode.parse(mode), steps: steps, pipelineDepth: pipelineDepth, seed: seed,
            fixedSchedule: fixedSchedule, state: state, resume: resume, adversary: try Adversary.parse(adversary),
            attackStep: attackStep, logger: logger)
        let setup = try client.setup()
        if let service = try await pool.connect(logger: logger) {
            client.options.proofService = service
            client.options.sessionLedger = PostgresSessionLedger(database: service.database)
        }
        let report = try await client.run(
            setup: setup, train: try MNISTFamily.load(DataSource(argument: dataOptions.data)).train)
        print(json ? jsonLine(report) : report.text)
        try exitUnlessOK(report.verdict)
    }
}

struct SplitRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "A client and a server on loopback (real sockets) in one command, honest or with one dishonest side.",
        discussion:
            "With --json prints {mode, adversary, steps_completed, rejected, reason, ...}. --mode all and/or --adversary all run the grid and print which combinations the honest side caught (the ledger baseline misses the computational attacks)."
    )
    @OptionGroup var specOptions: SpecOptions
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "verified, pipelined, ledger, plain, or all.") var mode: String = "verified"
    @Option(help: "none, \(Adversary.allCases.filter { $0 != .none }.map(\.rawValue).joined(separator: ", ")), or all.")
    var adversary: String = "none"
    @Option(help: "Training steps.") var steps: Int = 10
    @Option(help: "The step at which the adversary acts.") var attackStep: UInt64 = 1
    @Option(help: "Pipelined mode's depth.") var pipelineDepth: Int = 4
    @Option(
        help:
            "A public seed for the sample order, so runs and modes train on the same samples (default: each session's coin toss)."
    )
    var fixedSchedule: UInt64?
    @Option(help: "Directory for both parties' checkpoints and records (client/, server/).") var state: String?
    @Flag(help: "Resume the session in --state (with --db: the latest client session in the database).")
    var resume = false
    @Flag(help: "Report test accuracy of the trained split model (fixed point, bundled test set).") var evaluate = false
    @Flag(help: "Print JSON (one object; an array for a grid).") var json = false
    @OptionGroup var pool: PoolOptions
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "warning"

    func validate() throws { try pool.validate(state: state) }

    func run() async throws {
        var grid = try LocalRunGrid(
            keys: specOptions.source, mode: mode, adversary: adversary, steps: steps, attackStep: attackStep,
            pipelineDepth: pipelineDepth, fixedSchedule: fixedSchedule, state: state, resume: resume,
            data: DataSource(argument: dataOptions.data), evaluate: evaluate,
            logger: try Logger.splitLogger(level: logLevel))
        if pool.db != nil && specOptions.keys == nil {
            throw InputError(
                "--db needs --keys DIR: the workers prove with the same keys (`verisplit prover --db URL --keys DIR`)")
        }
        let setup = try grid.setup()
        if let service = try await pool.connect(logger: grid.logger) {
            grid.prove(through: service)
            grid.record(in: PostgresSessionLedger(database: service.database))
        }
        let report = try await grid.run(setup: setup)
        print(json ? report.json : report.text)
        try exitUnlessOK(report.verdict)
    }
}

struct SplitVerifyTranscript: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-transcript",
        abstract: "Re-check a session record offline: every proof, commitment opening and chain link.",
        discussion: """
            A verified or pipelined record is checked against its proofs. A ledger or plain record has no proofs: it is \
            evidence only against the peer's, so give the peer's record (--peer) or the transcript head the peer reported \
            (--expect-head). With --db URL --session ID the session is read from a party's database ledger instead of a \
            file: every run and row must link, and when the database holds both parties' rows each anchors the other. \
            Exit 0: sound. Exit 1: a check failed (the step and reason are printed). Exit 2: unreadable input, or a record \
            without proofs given without an anchor.
            """)
    @Argument(help: "record.jsonl from a party's --state directory (or give --db and --session).") var record: String?
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "The other party's record.jsonl of the same session: both are verified and must agree.") var peer:
        String?
    @Option(help: "The transcript head (64 hex digits) the other party reported for this session.") var expectHead:
        String?
    @Option(help: "postgres://... : read the session from this database's ledger.") var db: String?
    @Option(help: "With --db: the session id, or at least its first 8 hex digits.") var session: String?
    @Option(help: "With --db: check only this party's rows (client or server; default: every party's there).")
    var role: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        switch (record, db) {
        case (.some, .some): throw ValidationError("give a record file or --db, not both")
        case (nil, nil): throw ValidationError("give a record file, or --db URL --session ID")
        case (nil, .some):
            guard session != nil else { throw ValidationError("--db needs --session ID") }
            guard peer == nil else {
                throw ValidationError("--peer is for record files; with --db the peer's rows come from the database")
            }
        case (.some, nil):
            guard session == nil, role == nil else { throw ValidationError("--session and --role go with --db") }
        }
        if let role, Role(rawValue: role) == nil { throw ValidationError("--role must be client or server") }
    }

    func run() async throws {
        if let db, let session {
            let check = LedgerCheck(
                url: db, session: session, keys: specOptions.source, role: role.flatMap(Role.init(rawValue:)),
                expectHead: expectHead)
            let report = try await check.run(logger: try Logger.splitLogger(level: "error"))
            print(report.rendered(json: json))
            try exitUnlessOK(report.verdict)
            return
        }
        let check = RecordCheck(record: record ?? "", keys: specOptions.source, peer: peer, expectHead: expectHead)
        let result = RecordCheck.verify(try check.inputs())
        print(result.rendered(json: json))
        try exitUnlessOK(result.verdict)
    }
}

struct SplitLoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-test",
        abstract: "Many concurrent clients on loopback: honest ones, garbage senders and stalled connections.",
        discussion: "Exit 0 when every honest session finished with the weights of an undisturbed session; 1 otherwise."
    )
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "Mode of the honest sessions.") var mode: String = "ledger"
    @Option(help: "Honest clients.") var honest: Int = 16
    @Option(help: "Clients sending garbage (random envelopes, oversized lengths, truncated frames).") var garbage: Int =
        16
    @Option(help: "Clients that connect and stay silent.") var stalling: Int = 8
    @Option(help: "Steps per honest session.") var steps: Int = 10
    @Option(help: "Sessions the server serves at once.") var maxConnections: Int = 8
    @Option(help: "Server idle timeout in seconds.") var idleTimeout: Int = 2
    @Option(help: "Time limit of the whole test in seconds.") var timeLimit: Int = 600
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let c = try LoadTestConfiguration(
            mode: mode, honest: honest, garbage: garbage, stalling: stalling, steps: steps,
            maxConnections: maxConnections, idleTimeoutSeconds: idleTimeout, timeLimitSeconds: timeLimit)
        let report = try await LoadTest.run(
            setup: try specOptions.load(mode: c.mode), train: try MNISTFamily.load(.bundled).train, configuration: c,
            logger: try Logger.splitLogger(level: "critical"))
        print(json ? jsonLine(report) : report.text(c))
        try exitUnlessOK(report.verdict)
    }
}

struct SplitCeremonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Start the three ceremonies (client, server, client-update) for a spec's circuits.",
        discussion: """
            Writes OUT/client, OUT/server and OUT/client-update, each a `verisplit ceremony` directory. Then every \
            party contributes to each part (`verisplit ceremony contribute OUT/server --name NAME --receipt me-server.json`, \
            phase 1 then phase 2). For a batched spec, once both client parts' phase 2 is done, every party also \
            contributes to the link between the client's two proofs (`verisplit split ceremony-link`). Both run sessions with \
            `--ceremony OUT --receipt ...`: a party refuses keys whose transcript lacks its own contribution in either phase \
            (or in the link). With --ptau, phase 1 is the imported file and a party that did not contribute to phase 1 must \
            pin it with --ptau-sha256 (printed here).
            """)
    @Option(help: "Circuit spec JSON.") var spec: String = "circuits/split.json"
    @Option(help: "Output root.") var out: String
    @Option(help: "Start phase 2 at once from this snarkjs .ptau (its powers are checked).") var ptau: String?

    func run() throws {
        print(try SplitCeremony.start(spec: spec, out: out, ptau: ptau).joined(separator: "\n"))
    }
}

struct SplitCeremonyLinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony-link",
        abstract: "Contribute to the link between the client's forward and update proofs (a batched spec's ceremony).",
        discussion: """
            Run after both client parts' phase 2 (OUT/client and OUT/client-update): the link is made of their final \
            commitment keys, so a later phase-2 contribution to either makes it stale. The first contribution starts \
            OUT/client-link. Verifies both client ceremonies and the link so far, adds fresh secrets from the CSPRNG \
            (erased afterwards) and writes the receipt, which the party gives to sessions with --receipt.
            """)
    @Option(help: "Circuit spec JSON.") var spec: String = "circuits/split.json"
    @Option(help: "Ceremony root (`split ceremony`).") var ceremony: String
    @Option(help: "Contributor name recorded in the transcript (at most 64 bytes).") var name: String
    @Option(help: "Write the receipt (JSON with the contribution hash) to this file.") var receipt: String?

    func run() throws {
        print(
            try SplitCeremony.contributeLink(spec: spec, root: ceremony, name: name, receipt: receipt).joined(
                separator: "\n"))
    }
}
