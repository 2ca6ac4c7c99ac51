import Algebra
import Commitment
import Foundation
import Groth16
import Logging
import NeuralNet
import NIOCore
import ZKML

/// The client's settings for one session.
public struct ClientOptions: Sendable {
    public var mode: SplitMode = .verified
    /// Steps to train in total (a resumed session continues up to this count).
    public var steps: Int = 10
    /// Pipelined mode: how many steps either side may run ahead of the verified proofs. A
    /// dishonest server can steer the client's weights for up to this many steps before its
    /// first bad proof is detected (the client then rolls back), so the client refuses more than
    /// `maxPipelineDepth`.
    public var pipelineDepth: Int = 4
    public static let maxPipelineDepth = 8
    /// Seeds the initial weights.
    public var seed: UInt64 = 1
    /// Experiments only: draw the sample order from this public seed instead of the session's
    /// coin toss (so two sessions train on the same order); the server must allow it.
    public var fixedScheduleSeed: UInt64?
    /// Where `checkpoint.json` and `record.jsonl` go; nil keeps nothing on disk.
    public var stateDirectory: URL?
    /// Continue the session in `stateDirectory` instead of starting a new one.
    public var resume = false
    public var adversary: Adversary = .none
    /// The step at which a dishonest client acts.
    public var attackStep: UInt64 = 1
    /// Leave without a word after this many steps in this run, as a killed process would.
    public var stopAfterSteps: Int?
    /// Called after each step this side finished, with the number of steps done (progress displays).
    public var onStep: (@Sendable (UInt64) -> Void)?

    public init() {}
}

/// The client side of a split session: owns the data and the bottom layer (the spec's
/// convolution) and trains it with the gradients the server returns, after checking them.
public struct SplitClient: Sendable {
    public let setup: SessionSetup
    public let data: Dataset
    public let options: ClientOptions
    public let logger: Logger
    /// The quantized samples and the dataset commitment, made before connecting (`prepare`).
    var prepared: ClientData?

    public init(setup: SessionSetup, data: Dataset, options: ClientOptions, logger: Logger = .split) {
        self.setup = setup
        self.data = data
        self.options = options
        self.logger = logger
    }

    /// Quantizes the training set and commits it (a leaf hash per sample and the Merkle tree),
    /// reading the secrets from the checkpoint on resume. Call it before connecting: a server
    /// times out a connection that stays silent while the client hashes its data. `run`
    /// prepares by itself if this was not called.
    public func prepare() throws -> SplitClient {
        var copy = self
        copy.prepared = try ClientData(client: self)
        return copy
    }

    /// The client's weights at the start of a new session (seeded, as the spec's sample layers).
    public static func initialLayer(spec: CircuitSpec, seed: UInt64) throws -> QuantizedConv2d {
        try spec.sampleLayers(seed: seed).client
    }

    /// Runs the session over `channel` and closes it. Never throws: every failure ends up in
    /// the outcome's `reason`, with `rejected` set when this side refused a peer's message.
    public func run(over channel: FrameChannel) async -> (outcome: SessionOutcome, layer: QuantizedConv2d?) {
        let (outcome, state) = await runSession(over: channel, peerName: "server", role: "client", logger: logger) { sender in
            try ClientSession(client: self, sender: sender)
        }
        return (outcome, state?.conv)
    }
}

/// One side's end of a connection (receiving is the protocol loop's alone).
struct Peer {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let sender: Sender

    func send(_ body: Envelope.OneOf_Body) async throws(SplitError) { try await sender.send(body) }

    mutating func receive() async throws(SplitError) -> Envelope.OneOf_Body {
        let next: ByteBuffer?
        do { next = try await inbound.next() } catch let error as SplitError {
            throw error
        } catch {
            throw .connection("\(sender.name): \(error)")
        }
        guard let buffer = next else { throw .connection("\(sender.name) closed the connection") }
        sender.traffic.received(buffer.readableBytes + 5)
        return try Wire.parse(Array(buffer.readableBytesView))
    }
}

/// What a client commits to before a session: its samples in fixed point (validated against the
/// spec's input range and classes), the dataset commitment with its secret, the schedule secret,
/// and on resume the checkpoint those came from.
struct ClientData: Sendable {
    let samples: [[Int64]]
    let datasetSecret: [UInt8]
    let scheduleSecret: [UInt8]
    let dataset: CommittedDataset?
    let announcement: DatasetAnnouncement
    let checkpoint: Checkpoint?

    init(client: SplitClient) throws {
        let spec = client.setup.spec
        let mode = client.options.mode
        guard client.data.count > 0 else { throw SplitError.invalidArgument("the client has no training samples") }
        let size = spec.inputCount
        guard size == client.data.features.count / client.data.count else {
            throw SplitError.invalidArgument("the data's samples do not have the spec's input shape \(spec.input.channels)x\(spec.input.height)x\(spec.input.width)")
        }
        let layout = spec.inputLayout, format = spec.format, classes = spec.server.outputs
        let pixels = client.data.features.storage
        var samples: [[Int64]] = []
        samples.reserveCapacity(client.data.count)
        for n in 0..<client.data.count {
            let values = try pixels[(n * size)..<((n + 1) * size)].map { try format.quantize($0) }
            if let bad = values.firstIndex(where: { !layout.contains($0) }) {
                throw SplitError.invalidArgument("sample \(n), value \(bad) = \(values[bad]) is outside the spec's input range [0, 2^\(layout.bits)) (input.bits)")
            }
            samples.append(values)
        }
        for (n, label) in client.data.labels.enumerated() where !(0..<classes).contains(label) {
            throw SplitError.invalidArgument("sample \(n) has label \(label), not one of the spec's \(classes) classes")
        }
        var checkpoint: Checkpoint?
        if client.options.resume {
            guard let directory = client.options.stateDirectory, let stored = try SessionFiles(directory: directory).readCheckpoint() else {
                throw SplitError.invalidArgument("--resume needs a checkpoint in --state DIR; none found")
            }
            guard stored.mode == mode, stored.specHash == Hex.encode(client.setup.specHash) else {
                throw SplitError.handshake("the checkpoint is for mode \(stored.mode.rawValue) and spec \(stored.specHash.prefix(12)), not this session's")
            }
            guard let datasetSecret = stored.datasetSecret.flatMap(Hex.decode), datasetSecret.count == 32,
                  let scheduleSecret = stored.scheduleSecret.flatMap(Hex.decode), scheduleSecret.count == 32 else {
                throw SplitError.file(path: SessionFiles(directory: directory).checkpointURL.path,
                                      reason: "the checkpoint lacks the dataset and schedule secrets")
            }
            self.datasetSecret = datasetSecret
            self.scheduleSecret = scheduleSecret
            checkpoint = stored
        } else {
            datasetSecret = SecureRandom.bytes(32)
            scheduleSecret = SecureRandom.bytes(32)
        }
        var root = Fr.zero
        var dataset: CommittedDataset?
        if mode.usesCommitments {
            do {
                let committed = try CommittedDataset(values: samples, labels: client.data.labels, classes: classes,
                                                     layout: layout, depth: spec.datasetDepth, secret: datasetSecret)
                root = committed.root
                dataset = committed
            } catch {
                throw SplitError.invalidArgument(error.description)
            }
        }
        let fixed = client.options.fixedScheduleSeed
        announcement = DatasetAnnouncement(root: root, size: UInt64(samples.count),
                                           scheduleCommitment: fixed == nil ? SampleSchedule.commitment(to: scheduleSecret) : [],
                                           fixedScheduleSeed: fixed)
        self.samples = samples
        self.dataset = dataset
        self.checkpoint = checkpoint
    }
}

/// The client's state machine for one connection.
struct ClientSession: PartySession {
    let client: SplitClient
    let spec: CircuitSpec
    let mode: SplitMode
    let keys: SplitKeys?
    let files: SessionFiles?
    let prepared: ClientData
    var samples: [[Int64]] { prepared.samples }
    var conv: QuantizedConv2d
    var salt: Fr
    var commitment: Fr
    var step: UInt64 = 0
    var startStep: UInt64 = 0
    var session = Fr(0)
    var sessionBytes = Data()
    var sessionHex: String { Hex.field(session) }
    var transcript = Transcript(session: "")
    var serverCommitment = Fr(0)
    /// The committed training set (modes with commitments), its secrets and the schedule.
    var dataset: CommittedDataset? { prepared.dataset }
    var datasetSecret: [UInt8] { prepared.datasetSecret }
    var scheduleSecret: [UInt8] { prepared.scheduleSecret }
    var announcement: DatasetAnnouncement { prepared.announcement }
    var schedule: SampleSchedule?
    /// On resume: the server's weight commitment after the last step this side kept.
    var resumeServerCommitment: Fr?
    var records: [UInt64: StepRecord] = [:]
    var flushed: UInt64 = 0
    var header: RecordHeader?
    /// Parameters after n completed steps, kept until settled (pipelined rollback, resume).
    var snapshots: [UInt64: ParameterSnapshot] = [:]
    var settled: [ParameterSnapshot] = []
    var pendingServer: [UInt64: [Fr]] = [:]
    var verifiedServerThrough: UInt64 = 0
    var previousUpdateProof: Proof?
    var stats = PartyStats()
    var pipeline: ProofPipeline?
    var interrupted = false
    var keptSteps: UInt64 { mode == .pipelined ? min(step, verifiedServerThrough) : step }

    init(client: SplitClient, sender: Sender) throws {
        self.client = client
        spec = client.setup.spec
        mode = client.options.mode
        keys = try client.setup.requireKeys(for: mode)
        files = client.options.stateDirectory.map { SessionFiles(directory: $0) }
        conv = try SplitClient.initialLayer(spec: spec, seed: client.options.seed)
        salt = mode.usesCommitments ? Fr.random() : Fr(0)
        commitment = Fr(0)
        if mode == .pipelined {
            guard (1...ClientOptions.maxPipelineDepth).contains(client.options.pipelineDepth) else {
                throw SplitError.invalidArgument("pipeline depth \(client.options.pipelineDepth) is outside 1...\(ClientOptions.maxPipelineDepth): a deeper pipeline lets a dishonest server steer this client's weights longer before detection")
            }
        }
        prepared = try client.prepared ?? ClientData(client: client)
    }

    var one: Int64 { Int64(1) << Int64(spec.fractionBits) }

    // MARK: Session

    mutating func run(_ peer: inout Peer) async throws {
        try await handshake(&peer)
        let total = UInt64(max(client.options.steps, 0))
        var stepsThisRun = 0
        while step < total {
            if let stop = client.options.stopAfterSteps, stepsThisRun >= stop {
                interrupted = true
                return
            }
            try await trainStep(&peer)
            stepsThisRun += 1
            client.options.onStep?(step)
        }
        try await finish(&peer)
    }

    mutating func handshake(_ peer: inout Peer) async throws {
        let resumeFrom = prepared.checkpoint
        if let latest = resumeFrom?.latest { try restore(latest) }
        else { commitment = mode.usesCommitments ? try ParameterCommitment.commit(conv.weights + conv.bias, format: spec.format, salt: salt) : Fr(0) }
        let clientNonce = Data(SecureRandom.bytes(32))
        var hello = HelloMessage()
        hello.protocolVersion = Wire.protocolVersion
        hello.mode = mode.wire
        hello.specHash = Data(client.setup.specHash)
        hello.verifyingKeyHashes = (keys?.hashes ?? []).map { Data($0) }
        hello.batchSize = UInt32(spec.batch)
        hello.learningRateShift = UInt32(spec.learningRateShift)
        hello.fractionBits = UInt32(spec.fractionBits)
        hello.pipelineDepth = UInt32(client.options.pipelineDepth)
        hello.clientNonce = clientNonce
        hello.clientCommitment = Wire.bytes(commitment)
        hello.steps = UInt64(max(client.options.steps, 0))
        hello.datasetRoot = Wire.bytes(announcement.root)
        hello.datasetSize = announcement.size
        hello.scheduleCommitment = Data(announcement.scheduleCommitment)
        if let seed = announcement.fixedScheduleSeed {
            hello.fixedSchedule = true
            hello.fixedScheduleSeed = seed
        }
        var resumeHeader: RecordHeader?
        if let resumeFrom, let sessionBytes = Hex.decode(resumeFrom.session) {
            hello.resumeSession = Data(sessionBytes)
            hello.resumeStep = resumeFrom.latest?.steps ?? 0
            if let files { resumeHeader = try SessionRecordFile.read(files.recordURL).header }
        }
        try await peer.send(.hello(hello))
        let welcome: WelcomeMessage
        switch try await peer.receive() {
        case .welcome(let w): welcome = w
        case .reject(let r): throw SplitError.peerRejected(step: 0, reason: r.reason)
        case let other: throw SplitError.handshake("expected Welcome, got \(other.name)")
        }
        session = try Wire.field(welcome.sessionID, "Welcome.session_id", step: 0)
        sessionBytes = welcome.sessionID
        transcript = Transcript(session: sessionHex)
        startStep = welcome.startStep
        if let resumeFrom {
            guard resumeFrom.session == sessionHex else { throw SplitError.handshake("the server answered for another session") }
            let resumeStep = resumeFrom.latest?.steps ?? 0
            guard startStep <= resumeStep else {
                throw SplitError.handshake("the server resumes at step \(startStep), beyond this client's \(resumeStep) settled steps")
            }
            guard let snapshot = resumeFrom.snapshot(at: startStep) else {
                throw SplitError.handshake("the server resumes at step \(startStep), which this checkpoint no longer holds")
            }
            guard let resumeHeader, resumeHeader.announcement == announcement else {
                throw SplitError.handshake("the training data no longer matches the dataset committed at the session's start")
            }
            try restore(snapshot)
            try rewindRecord(to: startStep)
        } else {
            // A new session: the id must be the one both nonces and the announcement give, and
            // it starts at step 0.
            guard welcome.serverNonce.count == 32 else { throw SplitError.handshake("the server nonce must be 32 bytes") }
            let expected = SessionID.derive(clientNonce: clientNonce, serverNonce: welcome.serverNonce, specHash: client.setup.specHash,
                                            keyHashes: keys?.hashes ?? [], mode: mode, dataset: announcement)
            guard expected == session else {
                throw SplitError.handshake("the server's session id is not the one derived from both nonces and the agreed parameters")
            }
            guard startStep == 0 else { throw SplitError.handshake("a new session must start at step 0, the server said \(startStep)") }
        }
        schedule = announcement.schedule(session: session, revealedSecret: scheduleSecret)
        step = startStep
        flushed = startStep
        verifiedServerThrough = startStep
        if mode.usesCommitments {
            let offered = try Wire.field(welcome.serverCommitment, "Welcome.server_commitment", step: step)
            if resumeFrom != nil {
                // The server's chain must continue from the last commitment this side kept.
                guard let expected = resumeServerCommitment, expected == offered else {
                    throw SplitError.handshake("the server resumes with weights whose commitment does not continue its chain at step \(startStep)")
                }
            }
            serverCommitment = offered
        }
        snapshots[step] = snapshot()
        if resumeFrom == nil {
            header = RecordHeader(session: sessionHex, mode: mode, role: "client", specHash: Hex.encode(client.setup.specHash),
                                  verifyingKeyHashes: (keys?.hashes ?? []).map(Hex.encode),
                                  clientStart: Hex.field(commitment), serverStart: Hex.field(serverCommitment),
                                  datasetRoot: mode.usesCommitments ? Hex.field(announcement.root) : "", datasetSize: announcement.size,
                                  scheduleCommitment: Hex.encode(announcement.scheduleCommitment),
                                  fixedScheduleSeed: announcement.fixedScheduleSeed)
            if let files, let header { try files.writeRecord(header: header, steps: []) }
            settled = [snapshot()]
            try writeCheckpoint()
        }
        if mode == .pipelined { pipeline = ProofPipeline(sender: peer.sender, session: sessionBytes) }
        client.logger.info("client: session \(sessionHex.prefix(16)) in \(mode.rawValue) mode from step \(step)")
    }

    mutating func restore(_ snapshot: ParameterSnapshot) throws {
        try snapshot.validate(weights: conv.weights.count, bias: conv.bias.count, commitments: mode.usesCommitments,
                              file: files?.checkpointURL.path ?? "checkpoint")
        conv = try QuantizedConv2d(inChannels: conv.inChannels, outChannels: conv.outChannels, height: conv.height, width: conv.width,
                                   kernelSize: conv.kernelSize, stride: conv.stride, weights: snapshot.weights, bias: snapshot.bias,
                                   relu: true, format: conv.format)
        salt = Hex.field(snapshot.salt) ?? Fr(0)
        commitment = Hex.field(snapshot.commitment) ?? Fr(0)
    }

    func snapshot() -> ParameterSnapshot {
        ParameterSnapshot(steps: step, weights: conv.weights, bias: conv.bias,
                          salt: mode.usesCommitments ? Hex.field(salt) : "", commitment: mode.usesCommitments ? Hex.field(commitment) : "")
    }

    /// Cuts the record file back to the steps before `steps`, rebuilds the transcript from it and
    /// notes the server commitment the chain must continue from.
    mutating func rewindRecord(to steps: UInt64) throws {
        guard let files else { return }
        let (fileHeader, kept) = try files.rewindRecord(to: steps)
        header = fileHeader
        for record in kept { transcript.append(record) }
        resumeServerCommitment = Hex.field(kept.last?.serverAfter ?? fileHeader.serverStart)
        settled = (try files.readCheckpoint())?.snapshots.filter { $0.steps <= steps } ?? []
    }

    /// The sample of step t: its index in the committed set by the public schedule.
    mutating func sampleIndex(_ t: UInt64) throws -> Int {
        guard var schedule else { throw SplitError.invalidArgument("no sample schedule (handshake incomplete)") }
        let index = schedule.index(step: t)
        self.schedule = schedule
        return index
    }

    // MARK: One step

    mutating func trainStep(_ peer: inout Peer) async throws {
        let t = step
        let adversary = client.options.adversary
        let attacking = t == client.options.attackStep
        if mode == .pipelined {
            while t - verifiedServerThrough > UInt64(client.options.pipelineDepth) {
                try await handle(try await peer.receive(), waitingFor: t, &peer)
            }
        }
        let index = try sampleIndex(t)
        let x = samples[index], label = client.data.labels[index]
        var opening: SampleOpening?
        if let dataset {
            do { opening = try dataset.opening(index) } catch { throw SplitError.invalidArgument("\(error)") }
        }
        let activations = try timed(&stats.computeSeconds) { try conv.forward(x) }
        var sent = attacking && adversary == .forgedActivations ? Tamper.forged(activations, one: one) : activations
        var forgedInput: [Fr]?
        if attacking && adversary == .forgedInput {
            // Solve for field values that the committed convolution maps to the forged activations.
            let target = Tamper.forged(activations, one: one)
            forgedInput = InputForgery.solve(conv, input: x, target: target)
            if forgedInput != nil { sent = target }
        }
        if attacking && adversary == .garbageFrame { try await sendGarbage(&peer, step: t) }
        var message = ActivationsMessage()
        message.step = t
        message.sessionID = sessionBytes
        message.values = sent
        message.label = UInt32(label)
        message.sampleIndex = UInt64(index)
        var record = StepRecord(step: t, activations: sent, label: label)
        record.sampleIndex = index
        if t == 0, announcement.fixedScheduleSeed == nil {
            message.scheduleSecret = Data(scheduleSecret)
            record.scheduleSecret = Hex.encode(scheduleSecret)
        }
        if mode.usesCommitments, let opening, let dataset {
            let messageSalt = Fr.random()
            let messageCommitment = try timed(&stats.computeSeconds) { try Commitments.activations(sent, label: label, salt: messageSalt) }
            message.salt = Wire.bytes(messageSalt)
            message.commitment = Wire.bytes(messageCommitment)
            message.weightsCommitment = Wire.bytes(commitment)
            message.previousLink = Data(transcript.head.bytes)
            message.sampleLeaf = Wire.bytes(opening.leaf)
            record.activationSalt = Hex.field(messageSalt)
            record.activationCommitment = Hex.field(messageCommitment)
            record.clientWeights = Hex.field(commitment)
            record.sampleLeaf = Hex.field(opening.leaf)
            _ = dataset
        }
        let root = announcement.root
        let forwardJob: @Sendable () throws -> Proof = { [spec, conv, session, salt, keys, opening, forgedInput] in
            guard let keys, let opening else { throw SplitError.invalidArgument("no keys or no committed dataset") }
            if let forgedInput {
                // The adversary proves whatever witness it has, satisfied or not.
                let cs = try spec.clientForwardCircuit(conv, sample: opening, root: root, session: session, step: t, salt: salt,
                                                       sampleValues: forgedInput)
                return try Groth16.proveUnchecked(key: keys.forward.provingKey, r1cs: keys.forward.r1cs, witness: cs.witness())
            }
            return try ProofWork.prove(keys.forward) {
                try spec.clientForwardCircuit(conv, sample: opening, root: root, session: session, step: t, salt: salt)
            }
        }
        if mode == .verified {
            let start = now()
            let proof = try await ProofWork.offload(forwardJob)
            stats.provingSeconds += now() - start
            stats.proofs += 1
            message.forwardProof = Wire.bytes(proof)
            record.forwardProof = Hex.encode(proof.ethereumBytes)
            if let previous = previousUpdateProof { message.previousUpdateProof = Wire.bytes(previous) }
        }
        try await peer.send(.activations(message))
        if mode == .pipelined { await pipeline?.submit(step: t, part: .clientForward, forwardJob) }
        transcript.append(record, .activations)
        records[t] = record

        var gradientMessage: GradientMessage?
        while gradientMessage == nil {
            let body = try await peer.receive()
            if case .gradient(let g) = body { gradientMessage = g } else { try await handle(body, waitingFor: t, &peer) }
        }
        guard let g = gradientMessage else { return }
        let gradient = try checkGradient(g, step: t, activations: sent, label: label, record: &record)

        // Only a checked gradient reaches the model.
        let updated = try timed(&stats.computeSeconds) {
            try ConvClientUpdate(layer: conv, learningRateShift: spec.learningRateShift).run(input: x, outputGradient: gradient).updated
        }
        let newSalt = mode.usesCommitments ? Fr.random() : Fr(0)
        let newCommitment = mode.usesCommitments
            ? try timed(&stats.computeSeconds) { try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: newSalt) }
            : Fr(0)
        let updateJob: @Sendable () throws -> Proof = { [spec, conv, session, salt, keys, opening] in
            guard let keys, let opening else { throw SplitError.invalidArgument("no keys or no committed dataset") }
            return try ProofWork.prove(keys.update) {
                try spec.clientUpdateCircuit(conv, sample: opening, gradient: gradient, session: session, step: t,
                                             saltBefore: salt, saltAfter: newSalt).circuit
            }
        }
        if mode == .verified {
            let start = now()
            let proof = try await ProofWork.offload(updateJob)
            stats.provingSeconds += now() - start
            stats.proofs += 1
            previousUpdateProof = proof
            record.updateProof = Hex.encode(proof.ethereumBytes)
        } else if mode == .pipelined {
            await pipeline?.submit(step: t, part: .clientUpdate, updateJob)
        }
        record.clientWeightsAfter = mode.usesCommitments ? Hex.field(newCommitment) : ""
        conv = updated
        salt = newSalt
        commitment = newCommitment
        step = t + 1
        stats.steps += 1
        records[t] = record
        snapshots[step] = snapshot()
        try await collectPipelineProofs()
        try settle()
    }

    /// The garbage-frame adversary: random bytes where the activations should be, then whatever
    /// the server answers (a rejection, or the connection closing).
    mutating func sendGarbage(_ peer: inout Peer, step t: UInt64) async throws -> Never {
        try await peer.sender.sendRaw(SecureRandom.bytes(64))
        while true { try await handle(try await peer.receive(), waitingFor: t, &peer) }
    }

    /// Checks a gradient message before anything uses it: step, session, sizes, the commitment
    /// opening, the transcript link, the server's weight-commitment chain and (verified mode) the
    /// proof. Any failure throws `.rejected`.
    mutating func checkGradient(_ g: GradientMessage, step t: UInt64, activations: [Int64], label: Int,
                                record: inout StepRecord) throws -> [Int64] {
        guard g.step == t else { throw SplitError.rejected(step: t, reason: "gradient for step \(g.step), expected step \(t)") }
        guard g.sessionID == sessionBytes else { throw SplitError.rejected(step: t, reason: "gradient for another session") }
        guard g.values.count == conv.outputCount else {
            throw SplitError.rejected(step: t, reason: "gradient has \(g.values.count) values, the cut has \(conv.outputCount)")
        }
        let f = spec.format
        // No abs(): |Int64.min| traps, and a peer may send it.
        if let bad = g.values.firstIndex(where: { $0 > f.maxMagnitude || $0 < -f.maxMagnitude }) {
            throw SplitError.rejected(step: t, reason: "gradient value \(bad) is outside the \(f.valueBits)-bit range")
        }
        record.gradient = g.values
        guard mode.usesCommitments else {
            transcript.append(record, .gradient)
            return g.values
        }
        let gradientSalt = try Wire.field(g.salt, "Gradient.salt", step: t)
        let gradientCommitment = try Wire.field(g.commitment, "Gradient.commitment", step: t)
        let opens = try timed(&stats.verifySeconds) { try Commitments.gradient(g.values, salt: gradientSalt) == gradientCommitment }
        guard opens else { throw SplitError.rejected(step: t, reason: "the gradient does not open its commitment") }
        guard g.previousLink == Data(transcript.head.bytes) else {
            throw SplitError.rejected(step: t, reason: "the gradient links to another transcript head (replayed or reordered message)")
        }
        let before = try Wire.field(g.weightsBefore, "Gradient.weights_before", step: t)
        let after = try Wire.field(g.weightsAfter, "Gradient.weights_after", step: t)
        guard before == serverCommitment else {
            throw SplitError.rejected(step: t, reason: "the server's weights commitment does not continue its chain")
        }
        record.gradientSalt = Hex.field(gradientSalt)
        record.gradientCommitment = Hex.field(gradientCommitment)
        record.serverBefore = Hex.field(before)
        record.serverAfter = Hex.field(after)
        let statement = StepStatement.server(session: session, step: t, activations: activations, label: label, classes: spec.server.outputs,
                                         format: f, gradient: g.values, before: before, after: after)
        if mode == .verified, let keys {
            let proof = try Wire.proof(g.proof, "Gradient.proof", step: t)
            let valid = timed(&stats.verifySeconds) { ProofWork.verify(keys.server, proof: proof, publicInputs: statement) }
            stats.verifications += 1
            guard valid else {
                throw SplitError.rejected(step: t, reason: "the server's proof does not verify for this step's activations, labels, gradient and weight commitments")
            }
            record.serverProof = Hex.encode(proof.ethereumBytes)
        } else if mode == .pipelined {
            pendingServer[t] = statement
        }
        serverCommitment = after
        transcript.append(record, .gradient)
        return g.values
    }

    /// Frames other than the awaited one: proofs (pipelined), a rejection, or a protocol error.
    mutating func handle(_ body: Envelope.OneOf_Body, waitingFor t: UInt64, _ peer: inout Peer) async throws {
        switch body {
        case .proof(let bundle) where mode == .pipelined:
            try await verifyBundle(bundle, &peer)
        case .reject(let r):
            throw SplitError.peerRejected(step: r.step, reason: r.reason)
        default:
            throw SplitError.rejected(step: t, reason: "unexpected \(body.name) message")
        }
    }

    mutating func verifyBundle(_ bundle: ProofMessage, _ peer: inout Peer) async throws {
        let s = bundle.step
        guard let keys, bundle.part == .serverStep, bundle.sessionID == sessionBytes, s == verifiedServerThrough,
              let statement = pendingServer[s] else {
            try await refuseProof(step: s, reason: "unexpected proof bundle (step \(s), \(bundle.part))")
        }
        let proof: Proof
        do { proof = try Wire.proof(bundle.proof, "ProofBundle.proof", step: s) } catch {
            try await refuseProof(step: s, reason: error.description)
        }
        let valid = timed(&stats.verifySeconds) { ProofWork.verify(keys.server, proof: proof, publicInputs: statement) }
        stats.verifications += 1
        guard valid else {
            try await refuseProof(step: s, reason: "the server's proof for step \(s) does not verify (pipelined: rolled back to step \(verifiedServerThrough))")
        }
        pendingServer[s] = nil
        records[s]?.serverProof = Hex.encode(proof.ethereumBytes)
        verifiedServerThrough = s + 1
        try settle()
    }

    /// A session that ends early keeps only what was verified: in pipelined mode, the state of
    /// the last step whose gradient proof checked out.
    mutating func keepOnlyVerified() {
        guard mode == .pipelined, step > verifiedServerThrough, let verified = snapshots[verifiedServerThrough] else { return }
        try? restore(verified)
        step = verified.steps
    }

    /// A proof that does not verify ends the session: stop proving, keep only verified state (the
    /// session runner does that and tells the peer).
    mutating func refuseProof(step s: UInt64, reason: String) async throws -> Never {
        await pipeline?.cancel()
        throw SplitError.rejected(step: s, reason: reason)
    }

    mutating func collectPipelineProofs() async throws {
        guard let pipeline else { return }
        record(await pipeline.take())
    }

    mutating func record(_ done: [ProofPipeline.Done]) {
        for item in done {
            stats.proofs += 1
            let hex = Hex.encode(item.proof.ethereumBytes)
            if item.part == .clientForward { records[item.step]?.forwardProof = hex } else { records[item.step]?.updateProof = hex }
        }
    }

    /// Writes complete steps to the record and advances the checkpoint to the newest settled state.
    mutating func settle() throws {
        if try settleRecords(&records, flushed: &flushed, snapshots: &snapshots, settled: &settled, mode: mode,
                             window: client.options.pipelineDepth + 2, files: files) {
            try writeCheckpoint()
        }
    }

    func writeCheckpoint() throws {
        guard let files else { return }
        try files.writeCheckpoint(Checkpoint(role: "client", session: sessionHex, mode: mode,
                                             specHash: Hex.encode(client.setup.specHash), snapshots: settled,
                                             datasetSecret: Hex.encode(datasetSecret), scheduleSecret: Hex.encode(scheduleSecret)))
    }

    mutating func finish(_ peer: inout Peer) async throws {
        if mode == .pipelined {
            while verifiedServerThrough < step { try await handle(try await peer.receive(), waitingFor: step, &peer) }
            if let pipeline {
                record(try await pipeline.drain())
                stats.provingSeconds += await pipeline.provingSeconds
            }
        }
        try settle()
        var message = FinishMessage()
        message.steps = step
        message.transcriptHead = Data(transcript.head.bytes)
        message.clientCommitment = Wire.bytes(commitment)
        if mode == .verified, let proof = previousUpdateProof { message.lastUpdateProof = Wire.bytes(proof) }
        try await peer.send(.finish(message))
        while true {
            let body = try await peer.receive()
            if case .finish(let ack) = body {
                guard ack.transcriptHead == message.transcriptHead else {
                    throw SplitError.rejected(step: step, reason: "the server's transcript head differs from ours")
                }
                client.logger.info("client: finished \(step) steps, transcript head \(transcript.head.hex.prefix(16))")
                return
            }
            try await handle(body, waitingFor: step, &peer)
        }
    }
}
