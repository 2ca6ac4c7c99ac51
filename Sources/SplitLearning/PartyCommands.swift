import Algebra
import Ceremony
import Commitment
import Foundation
import Logging
import NIOCore
import NeuralNet
import Report
import ZKML

// The `verisplit split ...` commands as library calls: each takes a typed request, runs it and
// returns a typed report with its text and its verdict, so the CLI only parses and prints and
// tests call the same code. Every error a command's input can cause is a `SplitError` (the CLI
// maps it to exit status 2); a refusal of a peer or a record is a report whose `verdict` is
// `.invalid` (exit status 1).

/// The outcome class of a command, mapped by the CLI to its exit status: 0, 1 or 2.
public enum CommandVerdict: Int32, Sendable, Equatable {
    /// Ran, and everything checked was sound.
    case ok = 0
    /// Ran, and a proof, record, peer or expectation was refused.
    case invalid = 1
    /// Could not run as asked (bad input, an error that is not a refusal).
    case badInput = 2
}

// MARK: - Textual options

extension SplitMode {
    /// `text` as a mode, or an error naming `flag` and the valid values.
    public static func parse(_ text: String, flag: String = "--mode") throws(SplitError) -> SplitMode {
        guard let mode = SplitMode(rawValue: text) else {
            throw .invalidArgument(
                "\(flag) must be one of \(allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return mode
    }

    /// A comma-separated list of modes ("verified,ledger").
    public static func parseList(_ text: String, flag: String = "--mode") throws(SplitError) -> [SplitMode] {
        var modes: [SplitMode] = []
        for part in text.split(separator: ",") { modes.append(try parse(String(part), flag: flag)) }
        return modes
    }
}

extension Adversary {
    /// `text` as an adversary, or an error listing the valid values.
    public static func parse(_ text: String) throws(SplitError) -> Adversary {
        guard let adversary = Adversary(rawValue: text) else {
            throw .invalidArgument(
                "--adversary must be one of \(allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return adversary
    }
}

/// HOST:PORT of a listening or connecting party.
public struct Endpoint: Sendable, Equatable {
    public let host: String
    public let port: Int

    /// Parses HOST:PORT (the port in 0...65535; the host is everything before the last colon).
    public init(parsing text: String, flag: String) throws(SplitError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw .invalidArgument("\(flag) must be HOST:PORT (e.g. 127.0.0.1:7000), not '\(text)'")
        }
        (host, self.port) = (String(text[..<colon]), port)
    }
}

extension Logger {
    /// The split logger at a level given by name, writing to standard error.
    public static func splitLogger(level: String) throws(SplitError) -> Logger {
        guard let parsed = Logger.Level(rawValue: level) else {
            throw .invalidArgument(
                "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var logger = Logger(label: "verisplit.split") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = parsed
        return logger
    }
}

extension TimeAmount {
    /// `seconds` of an option, clamped to 0...2^32 so that no value read from a command line can
    /// overflow the nanosecond count (the settings' checks then refuse 0).
    static func wholeSeconds(_ seconds: Int) -> TimeAmount { .seconds(Int64(min(max(seconds, 0), 1 << 32))) }
}

// MARK: - Spec and keys

/// Where a party's spec and keys come from: a key directory (`split keys`), verified
/// ceremonies with this party's receipts (`split ceremony`), or, for a local run only, a
/// development setup in memory.
public struct KeySource: Sendable {
    public var spec: String
    public var keys: String?
    public var ceremony: String?
    public var receipts: [String] = []
    public var pinnedPtauSHA256: [String] = []

    public init(
        spec: String, keys: String? = nil, ceremony: String? = nil, receipts: [String] = [],
        pinnedPtauSHA256: [String] = []
    ) {
        (self.spec, self.keys, self.ceremony) = (spec, keys, ceremony)
        (self.receipts, self.pinnedPtauSHA256) = (receipts, pinnedPtauSHA256)
    }

    /// True when keys were named (a directory or a ceremony), not left to a development setup.
    public var named: Bool { keys != nil || ceremony != nil }

    /// Loads the spec and the keys. Without --keys or --ceremony, a session in `mode` (nil:
    /// any) that uses proofs gets a development setup (one party's: it could forge proofs).
    /// Ceremonies are verified in full and refused unless they hold one of the receipts.
    public func load(mode: SplitMode?, log: StepLog = StepLog()) throws -> SessionSetup {
        let data = Data(try Files.read(spec, limit: 1 << 20))
        let circuit = try CircuitSpec.load(data, file: spec)
        var keyset: SplitKeys?
        if let ceremony {
            guard keys == nil else { throw SplitError.invalidArgument("give --keys or --ceremony, not both") }
            let own = try receipts.map {
                try ContributionReceipt.read(Data(try Files.read($0, limit: 1 << 16)), file: $0)
            }
            keyset = try log.step("verifying the ceremonies in \(ceremony)") {
                try SplitCeremony.keys(
                    root: URL(fileURLWithPath: ceremony), spec: circuit, receipts: own,
                    pinnedPtauSHA256: pinnedPtauSHA256)
            }
        } else if let keys {
            keyset = try log.step("loading keys from \(keys)") {
                try SplitKeys.load(from: URL(fileURLWithPath: keys), spec: circuit)
            }
        } else if mode.map({ [.verified, .pipelined].contains($0) }) ?? true {
            keyset = try log.step(
                "development setup for \(circuit.name) (single party: use a ceremony for real sessions)"
            ) { try SplitKeys.developmentSetup(spec: circuit) }
        }
        return SessionSetup(spec: circuit, specData: data, keys: keyset)
    }
}

/// `split keys`: development keys for a spec's three circuits, or the hashes of existing ones.
public enum DevelopmentKeys {
    /// Makes keys for `spec` and writes them to `out`, or with `info` loads that directory;
    /// returns the lines to print (what was written, then each part's size and key hash).
    public static func run(spec: String, out: String, info: String?) throws -> [String] {
        let circuit = try CircuitSpec.load(Data(try Files.read(spec, limit: 1 << 20)), file: spec)
        var lines: [String] = []
        let keys: SplitKeys
        if let info {
            keys = try SplitKeys.load(from: URL(fileURLWithPath: info), spec: circuit)
        } else {
            keys = try StepLog().step("setup of \(circuit.name)'s three circuits") {
                try SplitKeys.developmentSetup(spec: circuit)
            }
            try keys.write(to: URL(fileURLWithPath: out))
            lines.append("wrote \(out)/{client,server,client-update}/proving.key and verification_key.json")
        }
        for part in CircuitSpec.Part.allCases {
            let key = keys.key(part)
            lines.append(
                "\(part.rawValue): \(key.r1cs.constraintCount) constraints, verifying key SHA-256 \(SHA256.hex(key.verifyingKeyHash))"
            )
        }
        return lines
    }
}

extension SplitCeremony {
    /// `split ceremony`: starts the three ceremonies under `out` (phase 2 at once from `ptau`,
    /// a snarkjs file whose powers are checked) and returns the lines to print, with the
    /// `.ptau`'s SHA-256 a party pins with --ptau-sha256.
    public static func start(spec: String, out: String, ptau: String?) throws -> [String] {
        let circuit = try CircuitSpec.load(Data(try Files.read(spec, limit: 1 << 20)), file: spec)
        let powers = try ptau.map { try Files.read($0) }
        try create(spec: circuit, root: URL(fileURLWithPath: out), ptau: powers)
        var lines = ["started ceremonies in \(out)/{client,server,client-update}"]
        if circuit.usesBatchedCircuits {
            lines.append(
                "after both client parts' phase 2, every party contributes to the link: verisplit split ceremony-link --spec \(spec) --ceremony \(out) --name NAME --receipt me-link.json"
            )
        }
        if let powers {
            lines.append(
                "phase 1 imported from \(ptau ?? ""): SHA-256 \(SHA256.hex(SHA256.hash(powers))) (pin it with --ptau-sha256 if you trust it)"
            )
        }
        return lines
    }
}

extension SplitCeremony {
    /// `split ceremony-link`: adds this party's link contribution under `root` and returns the
    /// lines to print (the contribution and, with `receipt`, where its receipt went).
    public static func contributeLink(spec: String, root: String, name: String, receipt: String?) throws -> [String] {
        let circuit = try CircuitSpec.load(Data(try Files.read(spec, limit: 1 << 20)), file: spec)
        let log = StepLog()
        let made = try log.step("verifying the client ceremonies and contributing to the link") {
            try contributeLink(root: URL(fileURLWithPath: root), spec: circuit, name: name)
        }
        var lines = ["link contribution #\(made.index) (\(made.name)): \(made.hash)"]
        if let receipt { lines.append(try made.save(to: receipt)) }
        return lines
    }
}

// MARK: - split server

/// `split server`: a listening server party that serves sessions until killed or until it has
/// served `sessions` of them, logging each outcome and appending it to a summary file.
public struct ServerProcess: Sendable {
    public var endpoint: Endpoint
    public var keys: KeySource
    public var options = ServerOptions()
    public var tls: TLSOptions?
    public var maxConnections = 16
    public var limits = ConnectionLimits()
    /// Stop after this many sessions (nil: serve until killed).
    public var sessions: Int?
    /// Append one JSON line per finished session (`SessionOutcome`) to this file.
    public var summary: String?
    public var logger: Logger = .split

    public init(endpoint: Endpoint, keys: KeySource) { (self.endpoint, self.keys) = (endpoint, keys) }

    /// The settings `split server` takes: the session limits in whole seconds and bytes (checked
    /// by `setup`), the state directory as a path.
    public init(
        endpoint: Endpoint, keys: KeySource, tls: TLSOptions?, modes: [SplitMode], state: String?, seed: UInt64,
        adversary: Adversary, attackStep: UInt64, allowFixedSchedule: Bool, maxConnections: Int,
        idleTimeoutSeconds: Int, maxFrameBytes: Int, sessions: Int?, summary: String?, logger: Logger
    ) {
        self.init(endpoint: endpoint, keys: keys)
        (options.modes, options.stateDirectory, options.seed) = (
            Set(modes), state.map { URL(fileURLWithPath: $0) }, seed
        )
        (options.adversary, options.attackStep, options.allowFixedSchedule) = (
            adversary, attackStep, allowFixedSchedule
        )
        (self.tls, self.maxConnections, self.sessions, self.summary, self.logger) = (
            tls, maxConnections, sessions, summary, logger
        )
        limits = ConnectionLimits(maxFrameBytes: maxFrameBytes, idleTimeout: .wholeSeconds(idleTimeoutSeconds))
    }

    /// Whether any accepted mode proves (it then needs the same keys the clients use).
    public var needsKeys: Bool { options.modes.contains(.verified) || options.modes.contains(.pipelined) }

    /// Checks the settings and loads the spec and keys (before a proof pool is connected).
    public func setup() throws -> SessionSetup {
        guard maxConnections >= 1, limits.idleTimeout >= .seconds(1), limits.maxFrameBytes >= 1024 else {
            throw SplitError.invalidArgument(
                "--max-connections and --idle-timeout must be >= 1, --max-frame-bytes >= 1024")
        }
        if needsKeys && keys.keys == nil {
            throw SplitError.invalidArgument("modes with proofs need --keys DIR (the same keys the clients use)")
        }
        return try keys.load(mode: needsKeys ? .verified : .plain)
    }

    /// Listens and serves sessions, each on its own task, at most `maxConnections` at once.
    public func serve(setup: SessionSetup) async throws {
        let server = SplitServer(setup: setup, options: options, logger: logger)
        let listener = try await Listener.bind(host: endpoint.host, port: endpoint.port, tls: tls, limits: limits)
        logger.info(
            "listening on \(endpoint.host):\(listener.port) (\(tls == nil ? "TCP" : "TLS"), spec \(setup.spec.name))")
        let served = SessionCounter()
        try await listener.serve(maxConnections: maxConnections) { channel in
            let o = await server.handle(channel).outcome
            logger.notice(
                "session \(o.shortSession): \(o.completedSteps) steps, \(o.rejected ? "REJECTED: " + (o.reason ?? "") : (o.reason ?? "ok"))"
            )
            if let summary { await SummaryFile.shared.append(jsonLine(o), to: summary, logger: logger) }
            if let limit = sessions, await served.increment() >= limit { await listener.close() }
        }
    }
}

/// Sessions a server process has finished (they finish concurrently).
actor SessionCounter {
    var count = 0
    func increment() -> Int {
        count += 1
        return count
    }
}

/// Appends session summaries one line at a time (sessions finish concurrently).
actor SummaryFile {
    static let shared = SummaryFile()

    func append(_ line: String, to path: String, logger: Logger) {
        let data = Data((line + "\n").utf8)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
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

// MARK: - split client

/// `split client`: one client session against a server process.
public struct ClientProcess: Sendable {
    public var endpoint: Endpoint
    public var keys: KeySource
    public var options = ClientOptions()
    public var tls: TLSOptions?
    public var logger: Logger = .split

    public init(endpoint: Endpoint, keys: KeySource) { (self.endpoint, self.keys) = (endpoint, keys) }

    /// The settings `split client` takes (the state directory as a path).
    public init(
        endpoint: Endpoint, keys: KeySource, tls: TLSOptions?, mode: SplitMode, steps: Int, pipelineDepth: Int,
        seed: UInt64, fixedSchedule: UInt64?, state: String?, resume: Bool, adversary: Adversary, attackStep: UInt64,
        logger: Logger
    ) {
        self.init(endpoint: endpoint, keys: keys)
        (options.mode, options.steps, options.pipelineDepth, options.seed) = (mode, steps, pipelineDepth, seed)
        (options.fixedScheduleSeed, options.stateDirectory) = (fixedSchedule, state.map { URL(fileURLWithPath: $0) })
        (options.resume, options.adversary, options.attackStep) = (resume, adversary, attackStep)
        (self.tls, self.logger) = (tls, logger)
    }

    /// Checks the settings and loads the spec and keys (before a proof pool is connected).
    public func setup() throws -> SessionSetup {
        guard options.steps >= 1, (0...64).contains(options.pipelineDepth) else {
            throw SplitError.invalidArgument("--steps must be >= 1 and --pipeline-depth in 0...64")
        }
        if options.mode.usesProofs, keys.keys == nil {
            throw SplitError.invalidArgument("mode \(options.mode.rawValue) needs --keys DIR (the server's keys)")
        }
        return try keys.load(mode: options.mode)
    }

    /// Commits to the training set, then connects (the server times out a silent peer) and runs
    /// the session. Errors before the session are thrown; the session's own end is the report.
    public func run(setup: SessionSetup, train: Dataset) async throws -> ClientReport {
        var options = options
        try await options.loadStoredSession()
        let prepared = try SplitClient(setup: setup, data: train, options: options, logger: logger).prepare()
        let channel = try await Connector.connect(host: endpoint.host, port: endpoint.port, tls: tls)
        return ClientReport(await prepared.run(over: channel).outcome)
    }
}

/// What `split client` prints (`--json`: this value) and its verdict.
public struct ClientReport: Encodable, Sendable {
    public let session: String
    public let stepsCompleted: UInt64
    public let rejected: Bool
    public let peerRejected: Bool
    public let reason: String?
    public let stats: PartyStats
    let outcome: SessionOutcome

    enum CodingKeys: String, CodingKey { case session, stepsCompleted, rejected, peerRejected, reason, stats }

    public init(_ o: SessionOutcome) {
        session = o.session.map { SHA256.hex($0.littleEndianBytes()) } ?? ""
        stepsCompleted = o.completedSteps
        rejected = o.rejected
        peerRejected = o.peerRejected
        reason = o.reason
        stats = o.stats
        outcome = o
    }

    public var text: String {
        "session \(outcome.shortSession): \(stepsCompleted) steps; \(rejected ? "rejected the server's message: " : "")\(reason ?? "finished")"
    }

    /// Invalid when either side refused a message; bad input for any other early end (an
    /// interruption on purpose is not a failure).
    public var verdict: CommandVerdict {
        if rejected || peerRejected { return .invalid }
        return reason != nil && !outcome.interrupted ? .badInput : .ok
    }
}

// MARK: - split run

/// `split run`: a client and a server on loopback for one mode and adversary, or the grid of
/// several, with what the honest side was expected to do.
public struct LocalRunGrid: Sendable {
    public var keys: KeySource
    public var modes: [SplitMode] = [.verified]
    public var adversaries: [Adversary] = [.none]
    /// Settings shared by every run of the grid (its mode and adversary are set per run).
    public var configuration = LocalRunConfiguration()
    public var data: DataSource = .bundled
    public var evaluate = false
    public var logger: Logger = .split

    public init(keys: KeySource) { self.keys = keys }

    /// The settings `split run` takes: `mode` and `adversary` are one value or "all" (the
    /// grid); the state directory is a path (`client/` and `server/` under it).
    public init(
        keys: KeySource, mode: String, adversary: String, steps: Int, attackStep: UInt64, pipelineDepth: Int,
        fixedSchedule: UInt64?, state: String?, resume: Bool, data: DataSource, evaluate: Bool, logger: Logger
    ) throws(SplitError) {
        self.init(keys: keys)
        modes = mode == "all" ? SplitMode.allCases : [try SplitMode.parse(mode)]
        adversaries = adversary == "all" ? Adversary.allCases : [try Adversary.parse(adversary)]
        (configuration.steps, configuration.attackStep, configuration.pipelineDepth) = (
            steps, attackStep, pipelineDepth
        )
        (configuration.fixedScheduleSeed, configuration.resume) = (fixedSchedule, resume)
        configuration.stateDirectory = state.map { URL(fileURLWithPath: $0) }
        (self.data, self.evaluate, self.logger) = (data, evaluate, logger)
    }

    /// Both parties prove through `service` (one process runs both, so they share it).
    public mutating func prove(through service: (any ProofService)?) {
        (configuration.clientProofService, configuration.serverProofService) = (service, service)
    }

    /// Both parties keep their records and checkpoints in `ledger`, each under its role.
    public mutating func record(in ledger: (any SessionLedger)?) {
        configuration.sessionLedger = ledger
    }

    /// Checks the settings and loads the spec and keys (before a proof pool is connected).
    public func setup() throws -> SessionSetup {
        let steps = configuration.steps
        guard steps >= 1, steps <= 1_000_000 else { throw SplitError.invalidArgument("--steps must be in 1...1000000") }
        if adversaries.contains(where: { $0 != .none }) && UInt64(steps) <= configuration.attackStep {
            throw SplitError.invalidArgument(
                "--steps must exceed --attack-step (\(configuration.attackStep)) for the adversary to act")
        }
        return try keys.load(mode: modes.contains(where: \.usesProofs) ? .verified : .plain)
    }

    /// Runs every combination in order, with the same settings.
    public func run(setup: SessionSetup) async throws -> LocalRunGridReport {
        let (train, test) = try MNISTFamily.load(data)
        var reports: [LocalRunReport] = []
        for mode in modes {
            for adversary in adversaries {
                var c = configuration
                (c.mode, c.adversary) = (mode, adversary)
                let result = try await LocalRun.run(
                    setup: setup, train: train, test: evaluate ? test : nil, configuration: c, logger: logger)
                reports.append(result.report)
            }
        }
        return LocalRunGridReport(runs: reports)
    }
}

/// The runs of a `split run` grid: one report, or a table of which combinations were caught.
public struct LocalRunGridReport: Sendable {
    public let runs: [LocalRunReport]

    public init(runs: [LocalRunReport]) { self.runs = runs }

    /// One JSON object for one run, an array for a grid.
    public var json: String {
        runs.count == 1 ? jsonLine(runs[0]) : "[" + runs.map { jsonLine($0) }.joined(separator: ",\n") + "]"
    }

    public var text: String {
        guard runs.count != 1 else { return runs[0].text }
        var table = TextTable(header: ["mode", "adversary", "steps", "rejected", "expected", "reason"])
        for r in runs {
            let expected = r.adversary == .none ? "-" : (r.adversary.isCaught(by: r.mode) ? "caught" : "missed")
            table.append([
                r.mode.rawValue, r.adversary.rawValue, "\(r.stepsCompleted)", r.rejected ? "yes" : "no", expected,
                String((r.reason ?? "").prefix(70)),
            ])
        }
        return table.render()
    }

    /// A single run fails on any refusal (invalid) or error (bad input) of an honest session,
    /// and when an attack was not handled as its mode should (caught or missed); a grid is
    /// invalid when any combination was not handled as expected.
    public var verdict: CommandVerdict {
        if runs.count == 1, let r = runs.first {
            if r.adversary == .none {
                if r.rejected { return .invalid }
                return r.reason != nil ? .badInput : .ok
            }
            return r.rejected != r.adversary.isCaught(by: r.mode) ? .invalid : .ok
        }
        let unexpected = runs.contains {
            $0.adversary == .none ? $0.reason != nil : $0.rejected != $0.adversary.isCaught(by: $0.mode)
        }
        return unexpected ? .invalid : .ok
    }
}

extension LocalRunReport {
    /// The readable form of one run: what happened, the costs of each side, the accuracy.
    public var text: String {
        var lines = [
            "\(mode.rawValue) session, adversary \(adversary.rawValue): \(stepsCompleted) steps completed",
            rejected
                ? "REJECTED by the \(rejectedBy?.rawValue ?? "honest side"): \(reason ?? "")"
                : "no message rejected\(reason.map { " (\($0))" } ?? "")",
            String(
                format:
                    "client: compute %.2f s, proving %.2f s, verification %.3f s; server: compute %.2f s, proving %.2f s, verification %.3f s",
                client.computeSeconds, client.provingSeconds, client.verifySeconds, server.computeSeconds,
                server.provingSeconds, server.verifySeconds),
        ]
        if let testAccuracy { lines.append(String(format: "test accuracy %.2f %%", testAccuracy * 100)) }
        return lines.joined(separator: "\n")
    }
}

// MARK: - split verify-transcript

/// `split verify-transcript`: a session record checked offline, anchored by its proofs, the
/// peer's record or the transcript head the peer reported.
public struct RecordCheck: Sendable {
    public var record: String
    public var keys: KeySource
    /// The other party's record of the same session.
    public var peer: String?
    /// The transcript head (64 hex digits) the other party reported.
    public var expectHead: String?

    public init(record: String, keys: KeySource, peer: String? = nil, expectHead: String? = nil) {
        (self.record, self.keys, self.peer, self.expectHead) = (record, keys, peer, expectHead)
    }

    /// What the check runs on: every error here is bad input (an unreadable record, a record
    /// without proofs and no anchor, keys missing for one with proofs).
    public struct Inputs: Sendable {
        public let header: RecordHeader
        public let steps: [StepRecord]
        public let setup: SessionSetup
        public let anchor: RecordVerifier.Anchor

        public init(header: RecordHeader, steps: [StepRecord], setup: SessionSetup, anchor: RecordVerifier.Anchor) {
            (self.header, self.steps, self.setup, self.anchor) = (header, steps, setup, anchor)
        }
    }

    public func inputs() throws -> Inputs {
        let (header, steps) = try SessionRecordFile.read(URL(fileURLWithPath: record))
        if header.mode.usesProofs, !keys.named {
            throw SplitError.invalidArgument("a \(header.mode.rawValue) record needs --keys DIR to check its proofs")
        }
        var anchor = RecordVerifier.Anchor.none
        switch (peer, expectHead) {
        case (.some, .some): throw SplitError.invalidArgument("give --peer or --expect-head, not both")
        case (.some(let path), nil):
            let other = try SessionRecordFile.read(URL(fileURLWithPath: path))
            anchor = .peerRecord(header: other.header, steps: other.steps)
        case (nil, .some(let hex)):
            guard let head = try? Digest(hex: hex) else {
                throw SplitError.invalidArgument("--expect-head must be 64 hex digits")
            }
            anchor = .transcriptHead(head)
        case (nil, nil):
            guard header.mode.usesProofs else {
                throw SplitError.invalidArgument(
                    "a \(header.mode.rawValue) record has no proofs: it binds its samples and commitments only through the transcript both parties hold; give the peer's record (--peer FILE) or the transcript head it reported (--expect-head HEX)"
                )
            }
        }
        return Inputs(
            header: header, steps: steps, setup: try keys.load(mode: header.mode.usesProofs ? header.mode : .plain),
            anchor: anchor)
    }

    /// Verifies the inputs; a failed check is an `.invalid` result naming the step and reason.
    public static func verify(_ inputs: Inputs) -> RecordCheckResult {
        do {
            return .valid(
                try RecordVerifier.verify(
                    header: inputs.header, steps: inputs.steps, spec: inputs.setup.spec,
                    specHash: inputs.setup.specHash, keys: inputs.setup.keys, anchor: inputs.anchor))
        } catch {
            return .invalid("\(error)")
        }
    }
}

/// The answer of `split verify-transcript`.
public enum RecordCheckResult: Sendable, Equatable {
    case valid(RecordVerifier.Report)
    case invalid(String)

    public var verdict: CommandVerdict {
        if case .valid = self { return .ok }
        return .invalid
    }

    public func rendered(json: Bool) -> String {
        switch self {
        case .valid(let report):
            guard json else {
                return
                    "valid: \(report.steps) steps, \(report.proofsChecked) proofs and \(report.openingsChecked) commitment openings checked (anchored by \(report.anchor.rawValue.replacingOccurrences(of: "_", with: " "))); transcript head \(report.transcriptHead.hex)"
            }
            return BenchTable(
                title: "",
                rows: [
                    ("valid", "true"), ("steps", report.steps), ("proofs", report.proofsChecked),
                    ("openings", report.openingsChecked), ("transcript_head", report.transcriptHead.hex),
                    ("anchor", report.anchor.rawValue),
                ]
            ).rendered(json: true)
        case .invalid(let reason):
            return json
                ? BenchTable(title: "", rows: [("valid", "false"), ("reason", reason)]).rendered(json: true)
                : "INVALID: \(reason)"
        }
    }
}

// MARK: - split load-test

extension LoadTestConfiguration {
    /// The settings `split load-test` takes, times in whole seconds; checked (`validate`)
    /// before the mode is parsed.
    public init(
        mode: String, honest: Int, garbage: Int, stalling: Int, steps: Int, maxConnections: Int,
        idleTimeoutSeconds: Int, timeLimitSeconds: Int
    ) throws(SplitError) {
        self.init()
        (honestClients, garbageClients, stallingClients, self.steps) = (honest, garbage, stalling, steps)
        (self.maxConnections, timeLimit) = (maxConnections, .seconds(timeLimitSeconds))
        idleTimeout = .wholeSeconds(idleTimeoutSeconds)
        try validate()
        self.mode = try SplitMode.parse(mode)
    }

    /// Checks the client counts, steps, connections and time limits a load test may use.
    public func validate() throws(SplitError) {
        guard honestClients >= 0, garbageClients >= 0, stallingClients >= 0,
            honestClients + garbageClients + stallingClients <= 1024, steps >= 1, maxConnections >= 1,
            idleTimeout >= .seconds(1), timeLimit >= .seconds(1)
        else {
            throw .invalidArgument(
                "client counts must be >= 0 and at most 1024 in all; steps, connections and timeouts >= 1")
        }
    }
}

extension LoadTestReport {
    /// Ok when every honest session finished with the weights of an undisturbed session.
    public var verdict: CommandVerdict {
        honestCompleted < honestExpected || honestIntact < honestExpected ? .invalid : .ok
    }

    /// The readable summary, against the numbers of misbehaving clients `c` started.
    public func text(_ c: LoadTestConfiguration) -> String {
        var lines = [
            "honest sessions completed \(honestCompleted)/\(honestExpected), weights intact \(honestIntact)/\(honestExpected)",
            "garbage connections refused \(garbageRefused)/\(c.garbageClients), stalled connections closed \(stallingClosed)/\(c.stallingClients)",
            String(
                format: "%.1f s; peak RSS %.0f MB, growth %.0f MB", seconds, peakRSSMegabytes, rssGrowthMegabytes),
        ]
        lines += failures.prefix(10).map { "  failure: \($0)" }
        return lines.joined(separator: "\n")
    }
}
