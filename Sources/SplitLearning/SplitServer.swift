import Algebra
import Commitment
import Foundation
import Groth16
import Logging
import NIOCore
import ZKML

/// The server's settings.
public struct ServerOptions: Sendable {
    /// Modes this server accepts.
    public var modes: Set<SplitMode> = Set(SplitMode.allCases)
    /// Seeds the initial weights of every new session's head.
    public var seed: UInt64 = 2
    /// Root of the per-session state (`sessions/<id>/checkpoint.json`, `record.jsonl`).
    public var stateDirectory: URL?
    public var maxPipelineDepth = 16
    public var maxSteps: UInt64 = 10_000_000
    public var adversary: Adversary = .none
    /// The step at which a dishonest server acts.
    public var attackStep: UInt64 = 1
    /// Experiments only: accept clients that ask for a fixed sample order (`fixed_schedule`)
    /// instead of the session's coin toss. Off for a real deployment.
    public var allowFixedSchedule = false

    public init() {}
}

/// The server side of split sessions: runs the top layer (the spec's Dense head with its
/// loss) for each connected client, checking every message before training on it.
public struct SplitServer: Sendable {
    public let setup: SessionSetup
    public let options: ServerOptions
    public let logger: Logger

    public init(setup: SessionSetup, options: ServerOptions, logger: Logger = .split) {
        self.setup = setup
        self.options = options
        self.logger = logger
    }

    public static func initialLayer(spec: CircuitSpec, seed: UInt64) throws -> QuantizedDense {
        try spec.sampleLayers(seed: seed).server
    }

    /// Serves one connection to its end; never throws (see `SessionOutcome.reason`).
    public func handle(_ channel: FrameChannel) async -> (outcome: SessionOutcome, layer: QuantizedDense?) {
        let remote = channel.channel.remoteAddress?.description ?? "client"
        let (outcome, state) = await runSession(over: channel, peerName: remote, role: "server", logger: logger) { _ in
            try ServerSession(server: self)
        }
        return (outcome, state?.dense)
    }
}

/// The server's state machine for one connection.
struct ServerSession: PartySession {
    let server: SplitServer
    let spec: CircuitSpec
    var mode: SplitMode = .plain
    var keys: SplitKeys?
    var files: SessionFiles?
    var pipelineDepth = 0
    var totalSteps: UInt64 = 0
    var dense: QuantizedDense
    var salt = Fr(0)
    var commitment = Fr(0)
    var step: UInt64 = 0
    var session = Fr(0)
    var sessionBytes = Data()
    var sessionHex: String { Hex.field(session) }
    var transcript = Transcript(session: "")
    /// The client weights commitment the next activations must carry (the chain's next link).
    var clientCommitment = Fr(0)
    /// The client's dataset announcement and the sample order (known once the client reveals
    /// its schedule secret at step 0, or at once for a fixed schedule).
    var announcement = DatasetAnnouncement(root: .zero, size: 0, scheduleCommitment: [], fixedScheduleSeed: nil)
    var schedule: SampleSchedule?
    var records: [UInt64: StepRecord] = [:]
    var flushed: UInt64 = 0
    var snapshots: [UInt64: ParameterSnapshot] = [:]
    var settled: [ParameterSnapshot] = []
    var pendingForward: [UInt64: [Fr]] = [:]
    var pendingUpdate: [UInt64: [Fr]] = [:]
    var stash: ActivationsMessage?
    /// Update proofs that arrived before the new weights' commitment (pipelined).
    var earlyUpdates: [UInt64: ProofMessage] = [:]
    var lastProof: Proof?
    /// The previous step's proving job (the replay adversary re-sends its proof in pipelined mode).
    var lastJob: (@Sendable () throws -> Proof)?
    var stats = PartyStats()
    var pipeline: ProofPipeline?
    let interrupted = false

    init(server: SplitServer) throws {
        self.server = server
        spec = server.setup.spec
        dense = try SplitServer.initialLayer(spec: spec, seed: server.options.seed)
    }

    var one: Int64 { Int64(1) << Int64(spec.fractionBits) }

    /// Steps whose inputs are proven: every forward proof before it verified and every client
    /// update before the last (pipelined mode lags; the other modes keep all they did).
    var verifiedClientThrough: UInt64 {
        guard mode == .pipelined else { return step }
        // Flushed steps had all their proofs verified, so the scan starts there: it covers at
        // most the pipeline window, not the whole session.
        var n = max(connectionStart, flushed)
        while n < step, pendingForward[n] == nil, n == connectionStart || pendingUpdate[n - 1] == nil { n += 1 }
        return n
    }
    /// The step this connection started (or resumed) at.
    var connectionStart: UInt64 = 0
    var keptSteps: UInt64 { mode == .pipelined ? verifiedClientThrough : step }

    mutating func run(_ peer: inout Peer) async throws {
        guard case .hello(let hello) = try await peer.receive() else {
            throw SplitError.handshake("the first message must be Hello")
        }
        try await handshake(hello, &peer)
        while true {
            if let stashed = stash, mode == .pipelined, stashed.step - verifiedClientThrough <= UInt64(pipelineDepth) {
                stash = nil
                try await process(stashed, &peer)
                continue
            }
            let body = try await peer.receive()
            switch body {
            case .activations(let message):
                if mode == .pipelined, message.step >= verifiedClientThrough, message.step - verifiedClientThrough > UInt64(pipelineDepth) {
                    guard stash == nil else { throw SplitError.rejected(step: message.step, reason: "activations beyond the pipeline depth") }
                    stash = message
                } else {
                    try await process(message, &peer)
                }
            case .proof(let bundle) where mode == .pipelined:
                try await verifyBundle(bundle, &peer)
            case .finish(let message):
                try await finish(message, &peer)
                return
            case .reject(let r):
                throw SplitError.peerRejected(step: r.step, reason: r.reason)
            default:
                throw SplitError.rejected(step: step, reason: "unexpected \(body.name) message")
            }
        }
    }

    // MARK: Handshake

    mutating func handshake(_ hello: HelloMessage, _ peer: inout Peer) async throws {
        func refuse(_ reason: String) throws -> Never { throw SplitError.handshake(reason) }
        guard hello.protocolVersion == Wire.protocolVersion else {
            try refuse("protocol version \(hello.protocolVersion); this server speaks \(Wire.protocolVersion)")
        }
        guard let requested = SplitMode(wire: hello.mode) else { try refuse("unknown mode \(hello.mode)") }
        guard server.options.modes.contains(requested) else {
            try refuse("this server does not run \(requested.rawValue) sessions (it runs: \(server.options.modes.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        mode = requested
        guard Array(hello.specHash) == server.setup.specHash else {
            try refuse("the client's spec (SHA-256 \(Hex.encode(Array(hello.specHash)).prefix(16))) is not the server's (\(Hex.encode(server.setup.specHash).prefix(16)))")
        }
        keys = try server.setup.requireKeys(for: mode)
        if let keys {
            guard hello.verifyingKeyHashes.map({ Array($0) }) == keys.hashes else {
                try refuse("the client's verifying keys differ from the server's (compare `verisplit split keys --info`)")
            }
        }
        guard hello.batchSize == UInt32(spec.batch) else { try refuse("batch size \(hello.batchSize), the spec's is \(spec.batch)") }
        guard hello.learningRateShift == UInt32(spec.learningRateShift) else {
            try refuse("learning rate 2^-\(hello.learningRateShift), the spec's is 2^-\(spec.learningRateShift)")
        }
        guard hello.fractionBits == UInt32(spec.fractionBits) else { try refuse("S = \(hello.fractionBits), the spec's is \(spec.fractionBits)") }
        guard Int(hello.pipelineDepth) <= server.options.maxPipelineDepth else {
            try refuse("pipeline depth \(hello.pipelineDepth) exceeds this server's \(server.options.maxPipelineDepth)")
        }
        guard hello.steps <= server.options.maxSteps else { try refuse("\(hello.steps) steps exceed this server's \(server.options.maxSteps)") }
        guard hello.clientNonce.count == 32 else { try refuse("the client nonce must be 32 bytes") }
        pipelineDepth = mode == .pipelined ? Int(hello.pipelineDepth) : 0
        totalSteps = hello.steps
        let root: Fr
        do { root = try Wire.field(hello.datasetRoot, "Hello.dataset_root", step: 0) } catch { try refuse(error.description) }
        guard hello.datasetSize >= 1, hello.datasetSize <= UInt64(1) << UInt64(spec.datasetDepth) else {
            try refuse("dataset size \(hello.datasetSize) is outside 1...2^\(spec.datasetDepth) (the spec's dataset_depth)")
        }
        if hello.fixedSchedule {
            guard server.options.allowFixedSchedule else {
                try refuse("this server does not accept a fixed sample order (experiments only); the order must come from the session's coin toss")
            }
        } else {
            guard hello.scheduleCommitment.count == 32 else { try refuse("the schedule commitment must be 32 bytes") }
        }
        announcement = DatasetAnnouncement(root: root, size: hello.datasetSize,
                                           scheduleCommitment: hello.fixedSchedule ? [] : Array(hello.scheduleCommitment),
                                           fixedScheduleSeed: hello.fixedSchedule ? hello.fixedScheduleSeed : nil)

        var welcome = WelcomeMessage()
        if hello.resumeSession.isEmpty {
            let nonce = Data(SecureRandom.bytes(32))
            welcome.serverNonce = nonce
            session = SessionID.derive(clientNonce: hello.clientNonce, serverNonce: nonce, specHash: server.setup.specHash,
                                       keyHashes: keys?.hashes ?? [], mode: mode, dataset: announcement)
            sessionBytes = Wire.bytes(session)
            transcript = Transcript(session: sessionHex)
            files = server.options.stateDirectory.map { SessionFiles(directory: $0.appendingPathComponent("sessions").appendingPathComponent(String(sessionHex.prefix(32)))) }
            salt = mode.usesCommitments ? Fr.random() : Fr(0)
            commitment = mode.usesCommitments ? try ParameterCommitment.commit(dense.weights + dense.bias, format: spec.format, salt: salt) : Fr(0)
            clientCommitment = mode.usesCommitments ? try Wire.field(hello.clientCommitment, "Hello.client_commitment", step: 0) : Fr(0)
            if let files {
                try files.writeRecord(header: RecordHeader(session: sessionHex, mode: mode, role: "server", specHash: Hex.encode(server.setup.specHash),
                                                           verifyingKeyHashes: (keys?.hashes ?? []).map(Hex.encode),
                                                           clientStart: Hex.field(clientCommitment), serverStart: Hex.field(commitment),
                                                           datasetRoot: mode.usesCommitments ? Hex.field(announcement.root) : "",
                                                           datasetSize: announcement.size,
                                                           scheduleCommitment: Hex.encode(announcement.scheduleCommitment),
                                                           fixedScheduleSeed: announcement.fixedScheduleSeed), steps: [])
            }
            settled = [snapshot()]
            try writeCheckpoint()
            schedule = announcement.schedule(session: session, revealedSecret: nil)
        } else {
            do { try resume(hello) } catch let error as SplitError {
                // Tell the client why (without this server's file paths); the log has the details.
                server.logger.error("server: cannot resume: \(error)")
                if case .file(_, let reason) = error { throw SplitError.handshake("cannot resume this session: \(reason)") }
                throw error
            }
        }
        welcome.sessionID = sessionBytes
        welcome.startStep = step
        welcome.serverCommitment = Wire.bytes(commitment)
        snapshots[step] = snapshot()
        flushed = step
        connectionStart = step
        try await peer.send(.welcome(welcome))
        if mode == .pipelined { pipeline = ProofPipeline(sender: peer.sender, session: sessionBytes) }
        server.logger.info("server: session \(sessionHex.prefix(16)) (\(mode.rawValue)) from step \(step)")
    }

    /// Continues a session from the lower of the two sides' settled steps.
    mutating func resume(_ hello: HelloMessage) throws {
        session = try Wire.field(hello.resumeSession, "Hello.resume_session", step: 0)
        sessionBytes = hello.resumeSession
        guard let root = server.options.stateDirectory else { throw SplitError.handshake("this server keeps no state; cannot resume") }
        let files = SessionFiles(directory: root.appendingPathComponent("sessions").appendingPathComponent(String(sessionHex.prefix(32))))
        self.files = files
        guard let checkpoint = try files.readCheckpoint(), checkpoint.session == sessionHex else {
            throw SplitError.handshake("unknown session \(sessionHex.prefix(16)); start a new one")
        }
        guard checkpoint.mode == mode else { throw SplitError.handshake("session \(sessionHex.prefix(16)) ran in \(checkpoint.mode.rawValue) mode") }
        let serverStep = checkpoint.latest?.steps ?? 0
        let start = min(serverStep, hello.resumeStep)
        guard let snapshot = checkpoint.snapshot(at: start) else {
            throw SplitError.handshake("cannot resume at step \(start): this server's checkpoint starts at \(checkpoint.snapshots.first?.steps ?? 0)")
        }
        try snapshot.validate(weights: dense.weights.count, bias: dense.bias.count, commitments: mode.usesCommitments,
                              file: files.checkpointURL.path)
        dense = try QuantizedDense(inputs: dense.inputs, outputs: dense.outputs, weights: snapshot.weights, bias: snapshot.bias,
                                   relu: false, format: dense.format)
        salt = Hex.field(snapshot.salt) ?? Fr(0)
        commitment = Hex.field(snapshot.commitment) ?? Fr(0)
        step = start
        settled = checkpoint.snapshots.filter { $0.steps <= start }
        let (header, kept) = try files.rewindRecord(to: start)
        guard header.announcement == announcement else {
            throw SplitError.handshake("the client announces another dataset than the one session \(sessionHex.prefix(16)) committed")
        }
        let revealed = kept.first.flatMap { Hex.decode($0.scheduleSecret) }
        schedule = announcement.schedule(session: session, revealedSecret: revealed)
        transcript = Transcript(session: sessionHex)
        for record in kept { transcript.append(record) }
        clientCommitment = Hex.field(kept.last?.clientWeightsAfter ?? header.clientStart) ?? Fr(0)
        if let last = kept.last, mode.usesProofs { lastProof = try? Proof(ethereumBytes: Hex.decode(last.serverProof) ?? []) }
    }

    func snapshot() -> ParameterSnapshot {
        ParameterSnapshot(steps: step, weights: dense.weights, bias: dense.bias,
                          salt: mode.usesCommitments ? Hex.field(salt) : "", commitment: mode.usesCommitments ? Hex.field(commitment) : "")
    }

    // MARK: One step

    mutating func process(_ m: ActivationsMessage, _ peer: inout Peer) async throws {
        let t = step
        let f = spec.format
        guard m.step == t else { throw SplitError.rejected(step: t, reason: "activations for step \(m.step), expected step \(t)") }
        guard t < totalSteps else { throw SplitError.rejected(step: t, reason: "step \(t) is beyond the \(totalSteps) agreed") }
        guard m.sessionID == sessionBytes else { throw SplitError.rejected(step: t, reason: "activations for another session") }
        guard m.values.count == spec.cutWidth else {
            throw SplitError.rejected(step: t, reason: "\(m.values.count) activations, the cut has \(spec.cutWidth)")
        }
        if let bad = m.values.firstIndex(where: { $0 < 0 || $0 > f.maxMagnitude }) {
            throw SplitError.rejected(step: t, reason: "activation \(bad) is outside [0, 2^\(f.valueBits - 1)) (the cut follows a ReLU)")
        }
        guard Int(m.label) < spec.server.outputs else {
            throw SplitError.rejected(step: t, reason: "label \(m.label) is not one of the \(spec.server.outputs) classes")
        }
        var record = StepRecord(step: t, activations: m.values, label: Int(m.label))
        if t == 0, announcement.fixedScheduleSeed == nil {
            // The coin toss completes: the secret must open the commitment the session id binds.
            guard let opened = announcement.schedule(session: session, revealedSecret: Array(m.scheduleSecret)) else {
                throw SplitError.rejected(step: t, reason: "the schedule secret does not open the client's schedule commitment")
            }
            schedule = opened
            record.scheduleSecret = Hex.encode(Array(m.scheduleSecret))
        }
        guard var order = schedule else {
            throw SplitError.rejected(step: t, reason: "no sample schedule yet: the client never revealed its schedule secret")
        }
        let expectedIndex = order.index(step: t)
        schedule = order
        guard m.sampleIndex == UInt64(expectedIndex) else {
            throw SplitError.rejected(step: t, reason: "the activations are for sample \(m.sampleIndex), the schedule's step \(t) is sample \(expectedIndex)")
        }
        record.sampleIndex = expectedIndex
        let activations = m.values, label = Int(m.label)
        if mode.usesCommitments {
            let messageSalt = try Wire.field(m.salt, "Activations.salt", step: t)
            let messageCommitment = try Wire.field(m.commitment, "Activations.commitment", step: t)
            let opens = try timed(&stats.verifySeconds) { try Commitments.activations(activations, label: label, salt: messageSalt) == messageCommitment }
            guard opens else { throw SplitError.rejected(step: t, reason: "the activations do not open their commitment") }
            guard m.previousLink == Data(transcript.head.bytes) else {
                throw SplitError.rejected(step: t, reason: "the activations link to another transcript head (replayed or reordered message)")
            }
            let weights = try Wire.field(m.weightsCommitment, "Activations.weights_commitment", step: t)
            if t > 0, records[t - 1] != nil {
                try await verifyUpdate(step: t - 1, after: weights, proofBytes: m.previousUpdateProof, &peer)
            } else if t == connectionStart, weights != clientCommitment {
                throw SplitError.rejected(step: t, reason: "the client's weights commitment is not the one it announced")
            }
            let leaf = try Wire.field(m.sampleLeaf, "Activations.sample_leaf", step: t)
            clientCommitment = weights
            record.activationSalt = Hex.field(messageSalt)
            record.activationCommitment = Hex.field(messageCommitment)
            record.clientWeights = Hex.field(weights)
            record.sampleLeaf = Hex.field(leaf)
            let statement = StepStatement.forward(session: session, step: t, index: expectedIndex, label: label, root: announcement.root,
                                                  sample: leaf, weights: weights, activations: activations)
            if mode == .verified, let keys {
                let proof = try Wire.proof(m.forwardProof, "Activations.forward_proof", step: t)
                let valid = timed(&stats.verifySeconds) { ProofWork.verify(keys.forward, proof: proof, publicInputs: statement) }
                stats.verifications += 1
                guard valid else {
                    throw SplitError.rejected(step: t, reason: "the client's forward proof does not verify: the activations do not come from its committed weights")
                }
                record.forwardProof = Hex.encode(proof.ethereumBytes)
            } else if mode == .pipelined {
                pendingForward[t] = statement
            }
        }
        transcript.append(record, .activations)

        // The step itself, honest or (for the CLI's simulation) not.
        let adversary = server.options.adversary
        let attacking = t == server.options.attackStep
        let provedLabel = attacking && adversary == .fsha ? (label + 1) % spec.server.outputs : label
        let stepper = ServerStep(layer: dense, learningRateShift: spec.learningRateShift, loss: spec.loss)
        let result = try timed(&stats.computeSeconds) { try stepper.run(activations: activations, label: provedLabel) }
        var gradient = attacking && adversary == .scaleGradient ? Tamper.scaled(result.inputGradient) : result.inputGradient
        if attacking && adversary == .extremeGradient { gradient = Tamper.extreme(gradient) }
        var message = GradientMessage()
        message.step = t
        message.sessionID = sessionBytes
        message.values = gradient
        record.gradient = gradient
        let newSalt = mode.usesCommitments ? Fr.random() : Fr(0)
        if mode.usesCommitments {
            let newCommitment = try timed(&stats.computeSeconds) {
                try ParameterCommitment.commit(result.updated.weights + result.updated.bias, format: spec.format, salt: newSalt)
            }
            let gradientSalt = Fr.random()
            let gradientCommitment = try timed(&stats.computeSeconds) { try Commitments.gradient(gradient, salt: gradientSalt) }
            let sentSalt = attacking && adversary == .badCommitment ? Fr.random() : gradientSalt
            message.salt = Wire.bytes(sentSalt)
            message.commitment = Wire.bytes(gradientCommitment)
            message.weightsBefore = Wire.bytes(commitment)
            message.weightsAfter = Wire.bytes(newCommitment)
            message.previousLink = Data(transcript.head.bytes)
            record.gradientSalt = Hex.field(gradientSalt)
            record.gradientCommitment = Hex.field(gradientCommitment)
            record.serverBefore = Hex.field(commitment)
            record.serverAfter = Hex.field(newCommitment)
            let provedSession = attacking && adversary == .wrongSession ? session + Fr(1) : session
            let job: @Sendable () throws -> Proof = { [spec, dense, salt, keys] in
                guard let keys else { throw SplitError.invalidArgument("no keys") }
                return try ProofWork.prove(keys.server) {
                    try spec.serverStepCircuit(dense, activations: activations, label: provedLabel, session: provedSession, step: t,
                                               saltBefore: salt, saltAfter: newSalt).circuit
                }
            }
            let replayed = attacking && adversary == .replay ? lastProof : nil
            let replayedJob = attacking && adversary == .replay ? lastJob : nil
            lastJob = job
            if mode == .verified {
                let start = now()
                var proof = try await ProofWork.offload(job)
                stats.provingSeconds += now() - start
                stats.proofs += 1
                lastProof = proof
                if let replayed { proof = replayed }
                message.proof = Wire.bytes(proof)
                record.serverProof = Hex.encode(proof.ethereumBytes)
            } else if mode == .pipelined {
                await pipeline?.submit(step: t, part: .serverStep, replayedJob ?? job)
            }
            commitment = newCommitment
        }
        try await peer.send(.gradient(message))
        transcript.append(record, .gradient)
        dense = result.updated
        salt = newSalt
        step = t + 1
        stats.steps += 1
        records[t] = record
        snapshots[step] = snapshot()
        try await collectPipelineProofs()
        try settle()
    }

    /// The client's update of step `s`, from the weights committed at `s` to `after`.
    mutating func verifyUpdate(step s: UInt64, after: Fr, proofBytes: Data, _ peer: inout Peer) async throws {
        guard var previous = records[s] else {
            if !mode.usesProofs { return }
            throw SplitError.rejected(step: s + 1, reason: "no record of step \(s) to check the client's update against")
        }
        guard let before = Hex.field(previous.clientWeights), let leaf = Hex.field(previous.sampleLeaf) else {
            throw SplitError.rejected(step: s + 1, reason: "the record of step \(s) lacks the client's weights or sample commitment")
        }
        previous.clientWeightsAfter = Hex.field(after)
        let statement = StepStatement.update(session: session, step: s, label: previous.label, sample: leaf,
                                             activations: previous.activations, gradient: previous.gradient, before: before, after: after)
        if mode == .verified, let keys {
            let proof = try Wire.proof(proofBytes, "client update proof of step \(s)", step: s + 1)
            let valid = timed(&stats.verifySeconds) { ProofWork.verify(keys.update, proof: proof, publicInputs: statement) }
            stats.verifications += 1
            guard valid else {
                throw SplitError.rejected(step: s + 1, reason: "the client's update proof for step \(s) does not verify: its new weights do not follow from the gradient")
            }
            previous.updateProof = Hex.encode(proof.ethereumBytes)
        } else if mode == .pipelined {
            pendingUpdate[s] = statement
        }
        records[s] = previous
        if let early = earlyUpdates.removeValue(forKey: s) {
            try await verifyBundle(early, &peer)
            return
        }
        try settle()
    }

    mutating func verifyBundle(_ bundle: ProofMessage, _ peer: inout Peer) async throws {
        let s = bundle.step
        let statement: [Fr]?
        let key: PartKey?
        switch bundle.part {
        case .clientForward: statement = pendingForward[s]; key = keys?.forward
        case .clientUpdate: statement = pendingUpdate[s]; key = keys?.update
        default: statement = nil; key = nil
        }
        if statement == nil, bundle.part == .clientUpdate, records[s] != nil, earlyUpdates.count <= pipelineDepth {
            // The update proof can overtake the message that announces the new weights.
            earlyUpdates[s] = bundle
            return
        }
        guard let statement, let key, bundle.sessionID == sessionBytes else {
            try await refuseProof(step: s, reason: "unexpected proof bundle (step \(s), \(bundle.part))")
        }
        let proof: Proof
        do { proof = try Wire.proof(bundle.proof, "ProofBundle.proof", step: s) } catch {
            try await refuseProof(step: s, reason: error.description)
        }
        let valid = timed(&stats.verifySeconds) { ProofWork.verify(key, proof: proof, publicInputs: statement) }
        stats.verifications += 1
        guard valid else {
            try await refuseProof(step: s, reason: "the client's \(bundle.part == .clientForward ? "forward" : "update") proof for step \(s) does not verify (pipelined: rolled back)")
        }
        let hex = Hex.encode(proof.ethereumBytes)
        if bundle.part == .clientForward {
            pendingForward[s] = nil
            records[s]?.forwardProof = hex
        } else {
            pendingUpdate[s] = nil
            records[s]?.updateProof = hex
        }
        try settle()
    }

    /// A session that ends early keeps only what was verified: in pipelined mode, the head as
    /// it was after the last step whose client proofs checked out.
    mutating func keepOnlyVerified() {
        let target = verifiedClientThrough
        guard mode == .pipelined, step > target, let snapshot = snapshots[target],
              let restored = try? QuantizedDense(inputs: dense.inputs, outputs: dense.outputs, weights: snapshot.weights,
                                                 bias: snapshot.bias, relu: false, format: dense.format) else { return }
        dense = restored
        step = snapshot.steps
        pendingForward = pendingForward.filter { $0.key < target }
        pendingUpdate = pendingUpdate.filter { $0.key < target }
    }

    /// A proof that does not verify ends the session: stop proving, keep only verified state (the
    /// session runner does that and tells the peer).
    mutating func refuseProof(step s: UInt64, reason: String) async throws -> Never {
        await pipeline?.cancel()
        throw SplitError.rejected(step: s, reason: reason)
    }

    mutating func collectPipelineProofs() async throws {
        guard let pipeline else { return }
        for item in await pipeline.take() {
            stats.proofs += 1
            records[item.step]?.serverProof = Hex.encode(item.proof.ethereumBytes)
        }
    }

    mutating func settle() throws {
        if try settleRecords(&records, flushed: &flushed, snapshots: &snapshots, settled: &settled, mode: mode,
                             window: pipelineDepth + 2, files: files) {
            try writeCheckpoint()
        }
    }

    func writeCheckpoint() throws {
        guard let files else { return }
        try files.writeCheckpoint(Checkpoint(role: "server", session: sessionHex, mode: mode,
                                             specHash: Hex.encode(server.setup.specHash), snapshots: settled))
    }

    mutating func finish(_ message: FinishMessage, _ peer: inout Peer) async throws {
        guard message.steps == step else {
            throw SplitError.rejected(step: step, reason: "the client finishes at step \(message.steps), the server is at \(step)")
        }
        if mode.usesCommitments, step > 0 {
            let after = try Wire.field(message.clientCommitment, "Finish.client_commitment", step: step)
            try await verifyUpdate(step: step - 1, after: after, proofBytes: message.lastUpdateProof, &peer)
        }
        if let pipeline {
            for item in try await pipeline.drain() {
                stats.proofs += 1
                records[item.step]?.serverProof = Hex.encode(item.proof.ethereumBytes)
            }
            stats.provingSeconds += await pipeline.provingSeconds
        }
        if mode == .pipelined, !pendingForward.isEmpty || !pendingUpdate.isEmpty {
            throw SplitError.rejected(step: step, reason: "the client finished before proving steps \(Set(pendingForward.keys).union(pendingUpdate.keys).sorted())")
        }
        try settle()
        guard message.transcriptHead == Data(transcript.head.bytes) else {
            throw SplitError.rejected(step: step, reason: "the client's transcript head differs from the server's")
        }
        var ack = FinishMessage()
        ack.steps = step
        ack.transcriptHead = Data(transcript.head.bytes)
        try await peer.send(.finish(ack))
        server.logger.info("server: session \(sessionHex.prefix(16)) finished after \(step) steps")
    }
}
