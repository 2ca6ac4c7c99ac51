import Algebra
import ArgumentParser
import Ceremony
import Commitment
import Foundation
import Logging
import NIOCore
import NeuralNet
import ProverPool
import Report
import SplitLearning
import ZKML

/// `verisplit split ...`: verifiable split training between a client and a server process.
struct SplitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Verifiable split learning: keys, server, client, a local run, offline transcript checks.",
        subcommands: [
            SplitKeysCommand.self, SplitServerCommand.self, SplitClientCommand.self, SplitRunCommand.self,
            SplitVerifyTranscript.self, SplitLoadTest.self, SplitCeremonyCommand.self,
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

    func load(mode: SplitMode?, log: StepLog = StepLog()) throws -> SessionSetup {
        let data = Data(try readFile(spec, limit: 1 << 20))
        let circuit = try CircuitSpec.load(data, file: spec)
        var keyset: SplitKeys?
        if let ceremony {
            guard keys == nil else { throw InputError("give --keys or --ceremony, not both") }
            let receipts = try receipt.map {
                try ContributionReceipt.read(Data(try readFile($0, limit: 1 << 16)), file: $0)
            }
            keyset = try log.step("verifying the ceremonies in \(ceremony)") {
                try SplitCeremony.keys(
                    root: URL(fileURLWithPath: ceremony), spec: circuit, receipts: receipts,
                    pinnedPtauSHA256: ptauSha256)
            }
        } else if let keys {
            keyset = try log.step("loading keys from \(keys)") {
                try SplitKeys.load(from: URL(fileURLWithPath: keys), spec: circuit)
            }
        } else if mode.map({ [.verified, .pipelined].contains($0) }) ?? true {
            keyset = try log.step(
                "development setup for \(circuit.name) (single party: use a ceremony for real sessions)"
            ) {
                try SplitKeys.developmentSetup(spec: circuit)
            }
        }
        return SessionSetup(spec: circuit, specData: data, keys: keyset)
    }
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

func parseMode(_ text: String) throws -> SplitMode {
    guard let mode = SplitMode(rawValue: text) else {
        throw InputError(
            "--mode must be one of \(SplitMode.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
    }
    return mode
}

func parseAdversary(_ text: String) throws -> Adversary {
    guard let adversary = Adversary(rawValue: text) else {
        throw InputError(
            "--adversary must be one of \(Adversary.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
    }
    return adversary
}

func parseEndpoint(_ text: String, flag: String) throws -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
    else {
        throw InputError("\(flag) must be HOST:PORT (e.g. 127.0.0.1:7000), not '\(text)'")
    }
    return (String(text[..<colon]), port)
}

func splitLogger(_ level: String) throws -> Logger {
    guard let parsed = Logger.Level(rawValue: level) else {
        throw InputError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    var logger = Logger(label: "verisplit.split") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = parsed
    return logger
}

/// Runs an async body, mapping errors to one line and exit code 2 (as `withInputErrors`).
func withAsyncInputErrors<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    }
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
        try withInputErrors {
            let data = Data(try readFile(spec, limit: 1 << 20))
            let circuit = try CircuitSpec.load(data, file: spec)
            let keys: SplitKeys
            if let info {
                keys = try SplitKeys.load(from: URL(fileURLWithPath: info), spec: circuit)
            } else {
                let out = self.out ?? KeyDirectory.default(for: spec)
                keys = try StepLog().step("setup of \(circuit.name)'s three circuits") {
                    try SplitKeys.developmentSetup(spec: circuit)
                }
                try keys.write(to: URL(fileURLWithPath: out))
                print("wrote \(out)/{client,server,client-update}/proving.key and verification_key.json")
            }
            for part in CircuitSpec.Part.allCases {
                let key = keys.key(part)
                print(
                    "\(part.rawValue): \(key.r1cs.constraintCount) constraints, verifying key SHA-256 \(SHA256.hex(key.verifyingKeyHash))"
                )
            }
        }
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
    @Option(
        help:
            "postgres://USER@HOST[:PORT]/DB[?schema=NAME]: prove through this party's prover pool (workers: `verisplit prover`). Default: prove in this process."
    )
    var db: String?
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func run() async throws {
        try await withAsyncInputErrors {
            let logger = try splitLogger(logLevel)
            let (host, port) = try parseEndpoint(listen, flag: "--listen")
            var options = ServerOptions()
            options.modes = Set(try modes.split(separator: ",").map { try parseMode(String($0)) })
            options.stateDirectory = state.map { URL(fileURLWithPath: $0) }
            options.seed = seed
            options.allowFixedSchedule = allowFixedSchedule
            options.adversary = try parseAdversary(adversary)
            options.attackStep = attackStep
            guard maxConnections >= 1, idleTimeout >= 1, maxFrameBytes >= 1024 else {
                throw InputError("--max-connections and --idle-timeout must be >= 1, --max-frame-bytes >= 1024")
            }
            let needsKeys = options.modes.contains(.verified) || options.modes.contains(.pipelined)
            if needsKeys && specOptions.keys == nil {
                throw InputError("modes with proofs need --keys DIR (the same keys the clients use)")
            }
            let setup = try specOptions.load(mode: needsKeys ? .verified : .plain)
            if let db { options.proofService = try await PostgresProofService.connect(url: db, logger: logger) }
            let server = SplitServer(setup: setup, options: options, logger: logger)
            let limits = ConnectionLimits(maxFrameBytes: maxFrameBytes, idleTimeout: .seconds(Int64(idleTimeout)))
            let listener = try await Listener.bind(host: host, port: port, tls: tls.options, limits: limits)
            logger.info(
                "listening on \(host):\(listener.port) (\(tls.options == nil ? "TCP" : "TLS"), spec \(setup.spec.name))"
            )
            let served = SessionCounter()
            try await listener.serve(maxConnections: maxConnections) { channel in
                let result = await server.handle(channel)
                let o = result.outcome
                logger.notice(
                    "session \(o.shortSession): \(o.completedSteps) steps, \(o.rejected ? "REJECTED: " + (o.reason ?? "") : (o.reason ?? "ok"))"
                )
                if let summary { await SummaryFile.shared.append(jsonLine(o), to: summary, logger: logger) }
                if let limit = sessions, await served.increment() >= limit { await listener.close() }
            }
        }
    }
}

actor SessionCounter {
    var count = 0
    func increment() -> Int {
        count += 1
        return count
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
    @Option(help: "Training steps (one sample each).") var steps: Int = 20
    @Option(help: "Pipelined mode: steps either side may run ahead of the proofs.") var pipelineDepth: Int = 4
    @Option(help: "Seed of the initial weights.") var seed: UInt64 = 1
    @Option(
        help:
            "Experiments only: a public seed for the sample order instead of the session's coin toss (the server must allow it)."
    )
    var fixedSchedule: UInt64?
    @Option(help: "Directory for the checkpoint and the session record.") var state: String?
    @Flag(help: "Continue the session checkpointed in --state.") var resume = false
    @Option(
        help:
            "Play a dishonest client: \(Adversary.allCases.filter { $0.side == .client }.map(\.rawValue).joined(separator: ", "))."
    )
    var adversary: String = "none"
    @Option(help: "The step at which the adversary acts.") var attackStep: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false
    @Option(
        help:
            "postgres://USER@HOST[:PORT]/DB[?schema=NAME]: prove through this party's prover pool (workers: `verisplit prover`). Default: prove in this process."
    )
    var db: String?
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func run() async throws {
        let outcome: SessionOutcome = try await withAsyncInputErrors {
            let logger = try splitLogger(logLevel)
            let (host, port) = try parseEndpoint(connect, flag: "--connect")
            var options = ClientOptions()
            options.mode = try parseMode(mode)
            options.steps = steps
            options.pipelineDepth = pipelineDepth
            options.seed = seed
            options.fixedScheduleSeed = fixedSchedule
            options.stateDirectory = state.map { URL(fileURLWithPath: $0) }
            options.resume = resume
            options.adversary = try parseAdversary(adversary)
            options.attackStep = attackStep
            guard steps >= 1, (0...64).contains(pipelineDepth) else {
                throw InputError("--steps must be >= 1 and --pipeline-depth in 0...64")
            }
            if options.mode == .verified || options.mode == .pipelined, specOptions.keys == nil {
                throw InputError("mode \(options.mode.rawValue) needs --keys DIR (the server's keys)")
            }
            let setup = try specOptions.load(mode: options.mode)
            if let db { options.proofService = try await PostgresProofService.connect(url: db, logger: logger) }
            let (train, _) = try MNISTFamily.load(DataSource(argument: dataOptions.data))
            // Commit the training set before connecting: the server times out a silent peer.
            let prepared = try SplitClient(setup: setup, data: train, options: options, logger: logger).prepare()
            let channel = try await Connector.connect(host: host, port: port, tls: tls.options)
            return await prepared.run(over: channel).outcome
        }
        if json {
            print(jsonLine(ClientSummary(outcome)))
        } else {
            print(
                "session \(outcome.shortSession): \(outcome.completedSteps) steps; \(outcome.rejected ? "rejected the server's message: " : "")\(outcome.reason ?? "finished")"
            )
        }
        if outcome.rejected || outcome.peerRejected { throw ExitCode(1) }
        if outcome.reason != nil && !outcome.interrupted { throw ExitCode(2) }
    }
}

struct ClientSummary: Encodable {
    let session: String
    let stepsCompleted: UInt64
    let rejected: Bool
    let peerRejected: Bool
    let reason: String?
    let stats: PartyStats
    init(_ o: SessionOutcome) {
        session = o.session.map { SHA256.hex($0.littleEndianBytes()) } ?? ""
        stepsCompleted = o.completedSteps
        rejected = o.rejected
        peerRejected = o.peerRejected
        reason = o.reason
        stats = o.stats
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
    @Flag(help: "Resume the session in --state.") var resume = false
    @Flag(help: "Report test accuracy of the trained split model (fixed point, bundled test set).") var evaluate = false
    @Flag(help: "Print JSON (one object; an array for a grid).") var json = false
    @Option(
        help:
            "postgres://USER@HOST[:PORT]/DB[?schema=NAME]: both parties prove through this prover pool (workers: `verisplit prover`); one process runs both parties, so they share it. Default: prove in this process."
    )
    var db: String?
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String = "warning"

    func run() async throws {
        try await withAsyncInputErrors {
            let logger = try splitLogger(logLevel)
            let modes = mode == "all" ? SplitMode.allCases : [try parseMode(mode)]
            let adversaries = adversary == "all" ? Adversary.allCases : [try parseAdversary(adversary)]
            guard steps >= 1, steps <= 1_000_000 else { throw InputError("--steps must be in 1...1000000") }
            if adversaries.contains(where: { $0 != .none }) && UInt64(steps) <= attackStep {
                throw InputError("--steps must exceed --attack-step (\(attackStep)) for the adversary to act")
            }
            if db != nil && specOptions.keys == nil {
                throw InputError(
                    "--db needs --keys DIR: the workers prove with the same keys (`verisplit prover --db URL --keys DIR`)"
                )
            }
            let setup = try specOptions.load(
                mode: modes.contains(.verified) || modes.contains(.pipelined) ? .verified : .plain)
            let (train, test) = try MNISTFamily.load(DataSource(argument: dataOptions.data))
            let pool: PostgresProofService? =
                if let db { try await PostgresProofService.connect(url: db, logger: logger) } else { nil }
            var reports: [LocalRunReport] = []
            for m in modes {
                for a in adversaries {
                    var c = LocalRunConfiguration()
                    c.mode = m
                    c.adversary = a
                    c.steps = steps
                    c.attackStep = attackStep
                    c.pipelineDepth = pipelineDepth
                    c.fixedScheduleSeed = fixedSchedule
                    c.stateDirectory = state.map { URL(fileURLWithPath: $0) }
                    c.resume = resume
                    c.clientProofService = pool
                    c.serverProofService = pool
                    let result = try await LocalRun.run(
                        setup: setup, train: train, test: evaluate ? test : nil, configuration: c, logger: logger)
                    reports.append(result.report)
                }
            }
            if json {
                if reports.count == 1 {
                    print(jsonLine(reports[0]))
                } else {
                    print("[" + reports.map { jsonLine($0) }.joined(separator: ",\n") + "]")
                }
            } else if reports.count == 1 {
                let r = reports[0]
                print(
                    "\(r.mode.rawValue) session, adversary \(r.adversary.rawValue): \(r.stepsCompleted) steps completed"
                )
                print(
                    r.rejected
                        ? "REJECTED by the \(r.rejectedBy?.rawValue ?? "honest side"): \(r.reason ?? "")"
                        : "no message rejected\(r.reason.map { " (\($0))" } ?? "")")
                print(
                    String(
                        format:
                            "client: compute %.2f s, proving %.2f s, verification %.3f s; server: compute %.2f s, proving %.2f s, verification %.3f s",
                        r.client.computeSeconds, r.client.provingSeconds, r.client.verifySeconds,
                        r.server.computeSeconds, r.server.provingSeconds, r.server.verifySeconds))
                if let accuracy = r.testAccuracy { print(String(format: "test accuracy %.2f %%", accuracy * 100)) }
            } else {
                var table = TextTable(header: ["mode", "adversary", "steps", "rejected", "expected", "reason"])
                for r in reports {
                    let expected = r.adversary == .none ? "-" : (r.adversary.isCaught(by: r.mode) ? "caught" : "missed")
                    table.append([
                        r.mode.rawValue, r.adversary.rawValue, "\(r.stepsCompleted)", r.rejected ? "yes" : "no",
                        expected,
                        String((r.reason ?? "").prefix(70)),
                    ])
                }
                print(table.render())
            }
            // Exit status: a single run fails on any refusal (1) or error (2); a grid fails (1)
            // when a combination was not handled as expected (an attack missed by a mode that
            // should catch it, or an honest run refused).
            if reports.count == 1, let r = reports.first {
                if r.adversary == .none {
                    if r.rejected { throw ExitCode(1) }
                    if r.reason != nil { throw ExitCode(2) }
                } else if r.rejected != r.adversary.isCaught(by: r.mode) {
                    throw ExitCode(1)
                }
            } else if reports.contains(where: {
                $0.adversary == .none ? $0.reason != nil : $0.rejected != $0.adversary.isCaught(by: $0.mode)
            }) {
                throw ExitCode(1)
            }
        }
    }
}

struct SplitVerifyTranscript: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-transcript",
        abstract: "Re-check a session record offline: every proof, commitment opening and chain link.",
        discussion: """
            A verified or pipelined record is checked against its proofs. A ledger or plain record has no proofs: it is \
            evidence only against the peer's, so give the peer's record (--peer) or the transcript head the peer reported \
            (--expect-head). Exit 0: sound. Exit 1: a check failed (the step and reason are printed). Exit 2: unreadable \
            input, or a record without proofs given without an anchor.
            """)
    @Argument(help: "record.jsonl from a party's --state directory.") var record: String
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "The other party's record.jsonl of the same session: both are verified and must agree.") var peer:
        String?
    @Option(help: "The transcript head (64 hex digits) the other party reported for this session.") var expectHead:
        String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let (header, steps, setup, anchor): (RecordHeader, [StepRecord], SessionSetup, RecordVerifier.Anchor) =
            try withInputErrors {
                let (header, steps) = try SessionRecordFile.read(URL(fileURLWithPath: record))
                if header.mode.usesProofs, specOptions.keys == nil, specOptions.ceremony == nil {
                    throw InputError("a \(header.mode.rawValue) record needs --keys DIR to check its proofs")
                }
                var anchor = RecordVerifier.Anchor.none
                switch (peer, expectHead) {
                case (.some, .some): throw InputError("give --peer or --expect-head, not both")
                case (.some(let path), nil):
                    let other = try SessionRecordFile.read(URL(fileURLWithPath: path))
                    anchor = .peerRecord(header: other.header, steps: other.steps)
                case (nil, .some(let hex)):
                    guard let head = try? Digest(hex: hex) else {
                        throw InputError("--expect-head must be 64 hex digits")
                    }
                    anchor = .transcriptHead(head)
                case (nil, nil):
                    guard header.mode.usesProofs else {
                        throw InputError(
                            "a \(header.mode.rawValue) record has no proofs: it binds its samples and commitments only through the transcript both parties hold; give the peer's record (--peer FILE) or the transcript head it reported (--expect-head HEX)"
                        )
                    }
                }
                return (
                    header, steps, try specOptions.load(mode: header.mode.usesProofs ? header.mode : .plain), anchor
                )
            }
        do {
            let report = try RecordVerifier.verify(
                header: header, steps: steps, spec: setup.spec, specHash: setup.specHash, keys: setup.keys,
                anchor: anchor)
            if json {
                printBenchResult(
                    [
                        ("valid", "true"), ("steps", report.steps), ("proofs", report.proofsChecked),
                        ("openings", report.openingsChecked), ("transcript_head", report.transcriptHead.hex),
                        ("anchor", report.anchor.rawValue),
                    ], json: true, title: "")
            } else {
                print(
                    "valid: \(report.steps) steps, \(report.proofsChecked) proofs and \(report.openingsChecked) commitment openings checked (anchored by \(report.anchor.rawValue.replacingOccurrences(of: "_", with: " "))); transcript head \(report.transcriptHead.hex)"
                )
            }
        } catch {
            if json {
                printBenchResult([("valid", "false"), ("reason", "\(error)")], json: true, title: "")
            } else {
                print("INVALID: \(error)")
            }
            throw ExitCode(1)
        }
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
        let report: LoadTestReport = try await withAsyncInputErrors {
            guard honest >= 0, garbage >= 0, stalling >= 0, honest + garbage + stalling <= 1024, steps >= 1,
                maxConnections >= 1,
                idleTimeout >= 1, timeLimit >= 1
            else {
                throw InputError(
                    "client counts must be >= 0 and at most 1024 in all; steps, connections and timeouts >= 1")
            }
            var c = LoadTestConfiguration()
            c.mode = try parseMode(mode)
            c.honestClients = honest
            c.garbageClients = garbage
            c.stallingClients = stalling
            c.steps = steps
            c.maxConnections = maxConnections
            c.idleTimeout = .seconds(Int64(idleTimeout))
            c.timeLimit = .seconds(timeLimit)
            let setup = try specOptions.load(mode: c.mode)
            let (train, _) = try MNISTFamily.load(.bundled)
            return try await LoadTest.run(
                setup: setup, train: train, configuration: c, logger: try splitLogger("critical"))
        }
        if json {
            print(jsonLine(report))
        } else {
            print(
                "honest sessions completed \(report.honestCompleted)/\(report.honestExpected), weights intact \(report.honestIntact)/\(report.honestExpected)"
            )
            print(
                "garbage connections refused \(report.garbageRefused)/\(garbage), stalled connections closed \(report.stallingClosed)/\(stalling)"
            )
            print(
                String(
                    format: "%.1f s; peak RSS %.0f MB, growth %.0f MB", report.seconds, report.peakRSSMegabytes,
                    report.rssGrowthMegabytes))
            for failure in report.failures.prefix(10) { print("  failure: \(failure)") }
        }
        if report.honestCompleted < report.honestExpected || report.honestIntact < report.honestExpected {
            throw ExitCode(1)
        }
    }
}

struct SplitCeremonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Start the three ceremonies (client, server, client-update) for a spec's circuits.",
        discussion: """
            Writes OUT/client, OUT/server and OUT/client-update, each a `verisplit ceremony` directory. Then every \
            party contributes to each part (`verisplit ceremony contribute OUT/server --name NAME --receipt me-server.json`, \
            phase 1 then phase 2), and both run sessions with `--ceremony OUT --receipt ...`: a party refuses keys whose \
            transcript lacks its own contribution in either phase. With --ptau, phase 1 is the imported file and a party that \
            did not contribute to phase 1 must pin it with --ptau-sha256 (printed here).
            """)
    @Option(help: "Circuit spec JSON.") var spec: String = "circuits/split.json"
    @Option(help: "Output root.") var out: String
    @Option(help: "Start phase 2 at once from this snarkjs .ptau (its powers are checked).") var ptau: String?

    func run() throws {
        try withInputErrors {
            let circuit = try CircuitSpec.load(Data(try readFile(spec, limit: 1 << 20)), file: spec)
            let powers = try ptau.map { try readFile($0) }
            try SplitCeremony.create(spec: circuit, root: URL(fileURLWithPath: out), ptau: powers)
            print("started ceremonies in \(out)/{client,server,client-update}")
            if let powers {
                print(
                    "phase 1 imported from \(ptau ?? ""): SHA-256 \(SHA256.hex(SHA256.hash(powers))) (pin it with --ptau-sha256 if you trust it)"
                )
            }
        }
    }
}

/// Appends session summaries one line at a time (sessions finish concurrently).
actor SummaryFile {
    static let shared = SummaryFile()

    func append(_ line: String, to path: String, logger: Logger) {
        let data = Data((line + "\n").utf8)
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            logger.error("cannot write the session summary to \(path)")
            return
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: data)
    }
}
