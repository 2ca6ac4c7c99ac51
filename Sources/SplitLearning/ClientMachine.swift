import Algebra
import Commitment
import Groth16
import ZKML

/// The client party as a state machine with no I/O: it holds the bottom layer and the committed
/// training set, and at each step sends the cut-layer activations of the schedule's sample,
/// checks the server's gradient (`StepChecks`, then the server's proof) and only then updates
/// its layer and proves that update. The transport runs its actions (`SessionDriver`).
///
/// Modes differ only through `policy` (commitments or not; proofs inline, deferred or none) and
/// a dishonest client only through `tamper`.
public struct ClientStateMachine: PartyMachine {
    public var role: Role { .client }
    let spec: CircuitSpec
    let specHash: [UInt8]
    let keyHashes: [[UInt8]]
    /// The keys link the update to the forward proof (`SplitKeys.link`): the update circuit is
    /// the linked one and its statement has no leaves or labels.
    let linkedUpdate: Bool
    public let policy: any ModePolicy
    let totalSteps: UInt64
    let requestedDepth: Int
    let stopAfter: Int?
    let data: ClientData
    var tamper: (any PartyTamper)?

    /// The layer this side trains, its commitment salt and commitment (absent without commitments).
    public private(set) var layer: QuantizedConv2d
    var salt: Fr?
    var commitment: Fr?
    /// Steps done.
    public private(set) var step: UInt64 = 0
    var session: Fr?
    var transcript = Transcript(session: "")
    var checks: StepChecks?
    var header: RecordHeader?
    var book: SessionBook
    /// The server's weight commitment its next gradient must continue from.
    var serverCommitment: Fr?
    /// Deferred proofs: the server statements awaiting their proofs, and the steps verified so far.
    var pendingServer: [UInt64: [Fr]] = [:]
    var verifiedServerThrough: UInt64 = 0
    var previousUpdateProof: StepProof?
    var inFlight = 0
    var stepsThisRun = 0
    var interrupted = false
    var stats = PartyStats()
    var phase = Phase.idle
    /// What the last `verify` action was for.
    var awaiting: Awaiting?

    enum Phase {
        case idle
        case awaitingWelcome(nonce: [UInt8])
        /// Step in progress.
        case stepping(Draft, StepPhase)
        /// Deferred proofs: too far ahead of the server's verified proofs to start the next step.
        case waitingForWindow
        /// All steps done: waiting for the last proofs before sending Finish.
        case finishing
        case awaitingAck(head: [UInt8])
        case closed
    }

    enum StepPhase { case provingForward, awaitingGradient, provingUpdate }

    enum Awaiting {
        case gradient(Draft, Message.Gradient, StepProof)
        case bundle(step: UInt64, StepProof)
    }

    /// One step in flight: its samples, the message, and after the gradient the updated layer.
    struct Draft {
        let step: UInt64
        /// The batch's inputs (one per sample) and, with commitments, their dataset openings.
        let inputs: [[Int64]]
        let openings: [SampleOpening]
        var message: Message.Activations
        var gradient: [Int64] = []
        var updated: QuantizedConv2d?
        var newSalt: Fr?
        var newCommitment: Fr?
        /// The forward proof's opening, for the update's link (linked keys only; secret).
        let forwardOpening = ForwardOpening()
    }

    /// A client for one connection. Throws when the options are out of range (a pipeline deeper
    /// than `ClientOptions.maxPipelineDepth` lets a dishonest server steer this client's weights
    /// longer before detection) or the mode needs keys the setup lacks.
    public init(setup: SessionSetup, options: ClientOptions, data: ClientData) throws(SplitError) {
        spec = setup.spec
        specHash = setup.specHash
        keyHashes = try setup.keyHashes(for: options.mode)
        linkedUpdate = setup.keys?.link != nil
        policy = options.mode.policy(pipelineDepth: options.pipelineDepth)
        if options.mode == .pipelined {
            guard (1...ClientOptions.maxPipelineDepth).contains(options.pipelineDepth) else {
                throw .pipelineTooDeep(depth: options.pipelineDepth, limit: ClientOptions.maxPipelineDepth)
            }
        }
        totalSteps = UInt64(max(options.steps, 0))
        requestedDepth = options.pipelineDepth
        stopAfter = options.stopAfterSteps
        self.data = data
        tamper = options.adversary.tamper(attackStep: options.attackStep)
        do { layer = try SplitClient.initialLayer(spec: spec, seed: options.seed) } catch {
            throw .invalidArgument("the spec's client layer: \(error)")
        }
        book = SessionBook(window: options.pipelineDepth + 2)
    }

    public var summary: PartySummary {
        PartySummary(
            session: session, keptSteps: policy.keptSteps(done: step, verified: verifiedServerThrough), stats: stats,
            transcriptHead: session == nil ? nil : transcript.head, interrupted: interrupted)
    }

    var one: Int64 { Int64(1) << Int64(spec.fractionBits) }

    // MARK: Handshake

    public mutating func start() -> [Action] {
        if let latest = data.stored?.checkpoint.latest {
            do { try restore(latest) } catch { return fail(error) }
        } else if policy.commitments {
            let fresh = Fr.random()
            do {
                commitment = try ParameterCommitment.commit(
                    layer.weights + layer.bias, format: spec.format, salt: fresh)
            } catch {
                return fail(.invalidArgument("committing the client's weights: \(error)"))
            }
            salt = fresh
        }
        let nonce = SecureRandom.bytes(32)
        var hello = Message.Hello(dataset: data.announcement)
        hello.mode = policy.mode
        hello.modeCode = policy.mode.wire.rawValue
        hello.specHash = specHash
        hello.verifyingKeyHashes = keyHashes
        hello.batchSize = UInt32(spec.batch)
        hello.learningRateShift = UInt32(spec.learningRateShift)
        hello.fractionBits = UInt32(spec.fractionBits)
        hello.pipelineDepth = UInt32(clamping: requestedDepth)
        hello.clientNonce = nonce
        hello.clientCommitment = commitment
        hello.steps = totalSteps
        if let stored = data.stored {
            hello.resume = Message.Resume(
                session: stored.checkpoint.session, step: stored.checkpoint.latest?.steps ?? 0)
        }
        phase = .awaitingWelcome(nonce: nonce)
        return [.send(.hello(hello))]
    }

    mutating func handshake(_ welcome: Message.Welcome, nonce: [UInt8]) -> [Action] {
        let session = welcome.session
        let start = welcome.startStep
        var actions: [Action] = []
        var resumeServerCommitment: Fr?
        if let stored = data.stored {
            let checkpoint = stored.checkpoint
            guard checkpoint.session == session else { return refuse(.foreignSession, at: 0) }
            let settledSteps = checkpoint.latest?.steps ?? 0
            guard start <= settledSteps else {
                return refuse(.resumeBeyond(server: start, client: settledSteps), at: 0)
            }
            guard let snapshot = checkpoint.snapshot(at: start) else {
                return refuse(.snapshotMissing(step: start), at: 0)
            }
            guard stored.header.announcement == data.announcement else { return refuse(.datasetChanged, at: 0) }
            do { try restore(snapshot) } catch { return fail(error) }
            // The record cut back to the resumed step, the transcript rebuilt from it, and the
            // server commitment its chain must continue from.
            let kept = stored.steps.filter { $0.step < start }
            transcript = Transcript(session: Hex.field(session))
            for record in kept { transcript.append(record) }
            resumeServerCommitment = kept.last?.serverAfter ?? stored.header.serverStart
            book.settled = checkpoint.snapshots.filter { $0.steps <= start }
            header = stored.header
            actions.append(.persist(.rewind(header: stored.header, steps: kept)))
        } else {
            // A new session: the id must be the one both nonces and the announcement give, and
            // it starts at step 0.
            guard welcome.serverNonce.count == 32 else { return refuse(.nonceLength(of: .server), at: 0) }
            let expected = SessionID.derive(
                clientNonce: nonce, serverNonce: welcome.serverNonce, specHash: specHash, keyHashes: keyHashes,
                mode: policy.mode, dataset: data.announcement)
            guard expected == session else { return refuse(.sessionIDMismatch, at: 0) }
            guard start == 0 else { return refuse(.nonzeroStart(start), at: 0) }
            transcript = Transcript(session: Hex.field(session))
        }
        if policy.commitments {
            guard let offered = welcome.serverCommitment else { return refuse(.missing(.serverCommitment), at: 0) }
            // On resume the server's chain must continue from the last commitment this side kept.
            if data.stored != nil, offered != resumeServerCommitment { return refuse(.chainBroken(.server), at: 0) }
            serverCommitment = offered
        }
        self.session = session
        checks = StepChecks(
            spec: spec, session: session, announcement: data.announcement, commitments: policy.commitments,
            revealedSecret: data.scheduleSecret, linkedUpdate: linkedUpdate)
        step = start
        book.flushed = start
        verifiedServerThrough = start
        book.snapshots[step] = snapshot()
        if data.stored == nil {
            let header = RecordHeader(
                session: session, clientNonce: nonce, serverNonce: welcome.serverNonce, mode: policy.mode,
                role: .client, specHash: specHash, verifyingKeyHashes: keyHashes, clientStart: commitment,
                serverStart: serverCommitment, dataset: data.announcement)
            self.header = header
            book.settled = [snapshot()]
            actions.append(.persist(.start(header: header, checkpoint: checkpoint(session))))
        }
        actions.append(
            .log("client: session \(Hex.field(session).prefix(16)) in \(policy.mode.rawValue) mode from step \(step)"))
        return actions + advance()
    }

    // MARK: Steps

    /// The next step, the end of the session, or a wait for the server's proofs.
    mutating func advance() -> [Action] {
        guard step < totalSteps else {
            phase = .finishing
            return tryFinish()
        }
        if let stop = stopAfter, stepsThisRun >= stop {
            interrupted = true
            phase = .closed
            return [.close(.interrupted)]
        }
        if case .deferred(let depth) = policy.proofs, step - verifiedServerThrough > UInt64(depth) {
            phase = .waitingForWindow
            return []
        }
        return beginStep()
    }

    /// The forward pass on the schedule's samples (the spec's batch), their commitment and
    /// (inline proofs) its proof.
    mutating func beginStep() -> [Action] {
        let t = step
        guard var checks, let session else { return fail(.invalidArgument("no session (handshake incomplete)")) }
        let indices: [Int]
        do { indices = try checks.indices(step: t) } catch {
            return fail(.invalidArgument("no sample schedule (\(error))"))
        }
        self.checks = checks
        let inputs = indices.map { data.samples[$0] }, labels = indices.map { data.labels[$0] }
        var openings: [SampleOpening] = []
        if let dataset = data.dataset {
            do { openings = try indices.map { i throws(DatasetCommitmentError) in try dataset.opening(i) } } catch {
                return fail(.invalidArgument("\(error)"))
            }
        }
        var activations: [Int64] = []
        do {
            try timed(&stats.computeSeconds) { () throws(FixedPointError) in
                for x in inputs { activations += try layer.forward(x) }
            }
        } catch {
            return fail(.invalidArgument("the client's forward pass: \(error)"))
        }
        var plan = ClientPlan(
            step: t, layer: layer, input: inputs[0], samples: inputs, activations: activations, one: one)
        tamper?.plan(&plan)
        // A dishonest client's own samples (off-dataset): the forward pass and the leaves follow
        // them, the Merkle paths stay the scheduled indices'; only the dataset opening can tell.
        let offDataset = plan.samples != inputs
        if offDataset {
            do {
                plan.activations = try plan.samples.flatMap { x throws(FixedPointError) in try layer.forward(x) }
                openings = try openings.enumerated().map { s, o throws(CommitmentError) in
                    SampleOpening(
                        index: o.index, values: plan.samples[s], label: o.label, salt: o.salt, siblings: o.siblings,
                        leaf: try SampleLeaf.hash(
                            values: plan.samples[s], label: o.label, salt: o.salt, layout: spec.inputLayout))
                }
            } catch {
                return fail(.invalidArgument("the off-dataset samples: \(error)"))
            }
        }
        let samples = indices.enumerated().map { s, index in
            Message.Sample(
                index: index, label: labels[s], leaf: policy.commitments && !openings.isEmpty ? openings[s].leaf : nil,
                siblings: policy.commitments && spec.usesBatchedCircuits && !openings.isEmpty
                    ? openings[s].siblings : [])
        }
        var message = Message.Activations(step: t, session: session, values: plan.activations, samples: samples)
        if t == 0, data.announcement.fixedScheduleSeed == nil { message.scheduleSecret = data.scheduleSecret }
        if policy.commitments {
            let messageSalt = Fr.random()
            let format = spec.format
            do {
                message.commitment = try timed(&stats.computeSeconds) {
                    try MessageCommitment.activations(
                        plan.activations, labels: labels, salt: messageSalt, format: format)
                }
            } catch { return fail(.invalidArgument("committing the activations: \(error)")) }
            message.salt = messageSalt
            message.weightsCommitment = commitment
            message.previousLink = transcript.head.bytes
        }
        let draft = Draft(step: t, inputs: plan.samples, openings: openings, message: message)
        switch policy.proofs {
        case .none:
            return sendActivations(draft)
        case .inline:
            phase = .stepping(draft, .provingForward)
            return [.prove(forwardJob(draft, forgedInput: plan.forgedInput, offDataset: offDataset))]
        case .deferred:
            inFlight += 1
            return sendActivations(draft) + [
                .proveInBackground(forwardJob(draft, forgedInput: plan.forgedInput, offDataset: offDataset))
            ]
        }
    }

    /// The forward proof's job. A forged input, or (one-sample circuits, which open the leaf
    /// inside) an off-dataset sample, has no witness: the dishonest client proves it unchecked.
    func forwardJob(_ draft: Draft, forgedInput: [Fr]?, offDataset: Bool = false) -> ProofJob {
        let spec = spec, conv = layer, session = session, salt = salt, openings = draft.openings
        let root = data.announcement.root, t = draft.step
        let unchecked = forgedInput != nil || (offDataset && !spec.usesBatchedCircuits)
        return ProofJob(step: t, part: .client, unchecked: unchecked, forwardOpening: draft.forwardOpening) {
            synthesis in
            guard let opening = openings.first else { throw SplitError.invalidArgument("no committed dataset") }
            guard let session, let salt else {
                throw SplitError.invalidArgument("step \(t): no session or weights salt to prove under")
            }
            if spec.usesBatchedCircuits {
                return try spec.batchedForwardCircuit(
                    conv, samples: openings, session: session, step: t, salt: salt, oracle: synthesis.oracle,
                    witnessOnly: synthesis.witnessOnly)
            }
            return try spec.clientForwardCircuit(
                conv, sample: opening, root: root, session: session, step: t, salt: salt,
                sampleValues: forgedInput, witnessOnly: synthesis.witnessOnly)
        }
    }

    mutating func sendActivations(_ draft: Draft) -> [Action] {
        phase = .stepping(draft, .awaitingGradient)
        var outgoing = Message.activations(draft.message)
        if var tamper {
            let result = tamper.outgoing(outgoing)
            self.tamper = tamper
            switch result {
            case .message(let message): outgoing = message
            case .raw(let bytes): return [.sendRaw(bytes)]
            }
        }
        guard case .activations(let sent) = outgoing else { return [.send(outgoing)] }
        var record = StepRecord(sent)
        record.forwardProof = sent.forwardProof
        transcript.append(record, .activations)
        book.records[draft.step] = record
        return [.send(outgoing)]
    }

    /// Checks a gradient before anything uses it: step and session, then `StepChecks` (sizes,
    /// range, opening, the server's chain), the transcript link and (inline proofs) the proof.
    mutating func checkGradient(_ g: Message.Gradient, _ draft: Draft) -> [Action] {
        let t = draft.step
        guard let session, let checks, var record = book.records[t] else {
            return fail(.invalidArgument("no step in flight"))
        }
        do throws(Rejection) {
            try StepChecks.envelope(step: g.step, session: g.session, expected: t, in: session)
            record.gradient = g.values
            record.gradientSalt = g.salt
            record.gradientCommitment = g.commitment
            record.serverBefore = g.weightsBefore
            record.serverAfter = g.weightsAfter
            let statement = try timed(&stats.verifySeconds) { () throws(Rejection) -> [Fr]? in
                try checks.gradient(record, serverChain: serverCommitment)
            }
            if policy.commitments { try StepChecks.link(g.previousLink, head: transcript.head, .gradient) }
            switch policy.proofs {
            case .none:
                break
            case .inline:
                guard let statement, let proof = g.proof else { throw Rejection.proofMissing(.server) }
                awaiting = .gradient(draft, g, proof)
                return [.verify([ProofCheck(part: .server, proof: proof, statement: statement)])]
            case .deferred:
                pendingServer[t] = statement
            }
        } catch {
            return refuse(error, at: t)
        }
        return applyGradient(g, draft, proof: nil)
    }

    /// Only a checked gradient reaches the model: the update, its commitment and (inline) its proof.
    mutating func applyGradient(_ g: Message.Gradient, _ draft: Draft, proof: StepProof?) -> [Action] {
        let t = draft.step
        guard var record = book.records[t] else { return fail(.invalidArgument("no step in flight")) }
        record.gradient = g.values
        if policy.commitments {
            record.gradientSalt = g.salt
            record.gradientCommitment = g.commitment
            record.serverBefore = g.weightsBefore
            record.serverAfter = g.weightsAfter
            serverCommitment = g.weightsAfter
        }
        record.serverProof = proof
        transcript.append(record, .gradient)
        var draft = draft
        draft.gradient = g.values
        let spec = spec, layer = layer, sent = record.activations
        do {
            draft.updated = try timed(&stats.computeSeconds) { () throws(FixedPointError) -> QuantizedConv2d in
                guard spec.usesBatchedCircuits else {
                    return try ConvClientUpdate(layer: layer, learningRateShift: spec.learningRateShift).run(
                        input: draft.inputs[0], outputGradient: g.values
                    ).updated
                }
                return try BatchedStep.clientUpdate(
                    layer, inputs: draft.inputs, masked: Self.masked(spec, activations: sent, gradient: g.values),
                    learningRateShift: spec.learningRateShift(atStep: t))
            }
            if policy.commitments, let updated = draft.updated {
                let fresh = Fr.random()
                draft.newCommitment = try timed(&stats.computeSeconds) {
                    try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: fresh)
                }
                draft.newSalt = fresh
            }
        } catch {
            return fail(.invalidArgument("the client's update: \(error)"))
        }
        record.clientWeightsAfter = draft.newCommitment
        book.records[t] = record
        switch policy.proofs {
        case .none:
            return completeStep(draft)
        case .inline:
            phase = .stepping(draft, .provingUpdate)
            return [.prove(updateJob(draft))]
        case .deferred:
            inFlight += 1
            return [.proveInBackground(updateJob(draft))] + completeStep(draft)
        }
    }

    func updateJob(_ draft: Draft) -> ProofJob {
        let spec = spec, conv = layer, session = session, salt = salt, newSalt = draft.newSalt
        let openings = draft.openings, gradient = draft.gradient, t = draft.step
        let sent = book.records[t]?.activations ?? draft.message.values
        let linked = linkedUpdate
        return ProofJob(step: t, part: .clientUpdate, forwardOpening: draft.forwardOpening) { synthesis in
            guard let opening = openings.first else { throw SplitError.invalidArgument("no committed dataset") }
            guard let session, let salt, let newSalt else {
                throw SplitError.invalidArgument("step \(t): no session or weights salts to prove the update under")
            }
            if spec.usesBatchedCircuits {
                return try spec.batchedUpdateCircuit(
                    conv, samples: openings, masked: Self.masked(spec, activations: sent, gradient: gradient),
                    session: session, step: t, saltBefore: salt, saltAfter: newSalt, linked: linked,
                    oracle: synthesis.oracle, witnessOnly: synthesis.witnessOnly
                ).circuit
            }
            return try spec.clientUpdateCircuit(
                conv, sample: opening, gradient: gradient, session: session, step: t,
                saltBefore: salt, saltAfter: newSalt, witnessOnly: synthesis.witnessOnly
            ).circuit
        }
    }

    /// The batched update's input: each sample's gradient masked by the ReLU of the activations
    /// this side sent, [A > 0] dA (what the server's statement derives from the same values).
    static func masked(_ spec: CircuitSpec, activations: [Int64], gradient: [Int64]) -> [[Int64]] {
        let width = spec.cutWidth
        let rows = { (values: [Int64]) in
            (0..<(values.count / max(width, 1))).map { s in Array(values[(s * width)..<((s + 1) * width)]) }
        }
        return BatchedStep.maskedGradients(activations: rows(activations), gradients: rows(gradient))
    }

    mutating func completeStep(_ draft: Draft) -> [Action] {
        guard let updated = draft.updated else { return fail(.invalidArgument("no update")) }
        layer = updated
        salt = draft.newSalt
        commitment = draft.newCommitment
        step = draft.step + 1
        stats.steps += 1
        stepsThisRun += 1
        book.snapshots[step] = snapshot()
        return settle() + [.progress(steps: step)] + advance()
    }

    // MARK: Events

    public mutating func receive(_ message: Message) -> [Action] {
        switch (phase, message) {
        case (.closed, _):
            return []
        case (_, .reject(let r)):
            return fail(.peerRejected(step: r.step, kind: r.kind, reason: r.reason))
        case (.awaitingWelcome(let nonce), .welcome(let welcome)):
            return handshake(welcome, nonce: nonce)
        case (.awaitingWelcome, _):
            return refuse(.expectedMessage(expected: "Welcome", got: message.name), at: 0)
        case (_, .proof(let bundle)) where policy.defersProofs:
            return verifyBundle(bundle)
        case (.stepping(let draft, .awaitingGradient), .gradient(let g)):
            return checkGradient(g, draft)
        case (.awaitingAck(let head), .finish(let ack)):
            guard ack.transcriptHead == head else { return refuse(.transcriptHead, at: step) }
            phase = .closed
            return [
                .log("client: finished \(step) steps, transcript head \(transcript.head.hex.prefix(16))"),
                .close(.finished),
            ]
        default:
            return refuse(.unexpectedMessage(message.name), at: step)
        }
    }

    public mutating func proved(_ job: ProofJob, _ proof: StepProof, seconds: Double) -> [Action] {
        stats.provingSeconds += seconds
        stats.proofs += 1
        switch phase {
        case .stepping(var draft, .provingForward) where job.part == .client && job.step == draft.step:
            draft.message.forwardProof = proof
            draft.message.previousUpdateProof = previousUpdateProof
            return sendActivations(draft)
        case .stepping(let draft, .provingUpdate) where job.part == .clientUpdate && job.step == draft.step:
            book.records[draft.step]?.updateProof = proof
            previousUpdateProof = proof
            return completeStep(draft)
        case .closed:
            return []
        default:
            // A deferred proof: record it, send it to the server.
            inFlight -= 1
            if job.part == .client {
                book.records[job.step]?.forwardProof = proof
            } else {
                book.records[job.step]?.updateProof = proof
            }
            var actions = send(
                .proof(Message.ProofBundle(step: job.step, part: job.part, proof: proof, session: session)))
            actions += settle()
            if case .finishing = phase { actions += tryFinish() }
            return actions
        }
    }

    public mutating func verified(_ results: [Bool], seconds: Double) -> [Action] {
        stats.verifySeconds += seconds
        stats.verifications += results.count
        guard let awaiting else { return [] }
        self.awaiting = nil
        let valid = results.allSatisfy { $0 } && !results.isEmpty
        switch awaiting {
        case .gradient(let draft, let g, let proof):
            guard valid else { return refuse(.proofInvalid(.server), at: draft.step) }
            return applyGradient(g, draft, proof: proof)
        case .bundle(let s, let proof):
            guard valid else { return refuse(.proofInvalid(.server), at: s) }
            pendingServer[s] = nil
            book.records[s]?.serverProof = proof
            verifiedServerThrough = s + 1
            var actions = settle()
            switch phase {
            case .waitingForWindow: actions += advance()
            case .finishing: actions += tryFinish()
            default: break
            }
            return actions
        }
    }

    public mutating func refuse(_ rejection: Rejection) -> [Action] {
        refuse(rejection, at: step)
    }

    public mutating func stopped() {
        keepOnlyVerified()
        phase = .closed
    }

    /// Deferred proofs: the server's proof of the oldest unverified step.
    mutating func verifyBundle(_ bundle: Message.ProofBundle) -> [Action] {
        let s = bundle.step
        guard bundle.part == .server, bundle.session == session, s == verifiedServerThrough,
            let statement = pendingServer[s]
        else {
            return refuse(.unexpectedProof(step: s), at: s)
        }
        guard let proof = bundle.proof else { return refuse(.proofMissing(.server), at: s) }
        awaiting = .bundle(step: s, proof)
        return [.verify([ProofCheck(part: .server, proof: proof, statement: statement)])]
    }

    /// Finish once every step is verified and every proof of ours sent.
    mutating func tryFinish() -> [Action] {
        guard verifiedServerThrough >= step || !policy.defersProofs, inFlight == 0 else { return [] }
        var actions = settle()
        var finish = Message.Finish(steps: step, transcriptHead: transcript.head.bytes)
        finish.clientCommitment = commitment
        if policy.proofs == .inline { finish.lastUpdateProof = previousUpdateProof }
        phase = .awaitingAck(head: finish.transcriptHead)
        actions += send(.finish(finish))
        return actions
    }

    // MARK: State

    mutating func send(_ message: Message) -> [Action] {
        guard var tamper else { return [.send(message)] }
        let result = tamper.outgoing(message)
        self.tamper = tamper
        switch result {
        case .message(let message): return [.send(message)]
        case .raw(let bytes): return [.sendRaw(bytes)]
        }
    }

    /// Writes complete steps to the record and advances the checkpoint to the newest settled state.
    mutating func settle() -> [Action] {
        guard let session, let records = book.settle(policy) else { return [] }
        return [.persist(.settle(records: records, checkpoint: checkpoint(session)))]
    }

    func checkpoint(_ session: Fr) -> Checkpoint {
        Checkpoint(
            role: .client, session: session, mode: policy.mode, specHash: specHash, snapshots: book.settled,
            datasetSecret: data.datasetSecret, scheduleSecret: data.scheduleSecret)
    }

    func snapshot() -> ParameterSnapshot {
        ParameterSnapshot(steps: step, weights: layer.weights, bias: layer.bias, salt: salt, commitment: commitment)
    }

    mutating func restore(_ snapshot: ParameterSnapshot) throws(SplitError) {
        try snapshot.validate(
            weights: layer.weights.count, bias: layer.bias.count, commitments: policy.commitments,
            file: data.checkpointPath ?? "checkpoint")
        do {
            layer = try QuantizedConv2d(
                inChannels: layer.inChannels, outChannels: layer.outChannels, height: layer.height, width: layer.width,
                kernelSize: layer.kernelSize, stride: layer.stride, weights: snapshot.weights, bias: snapshot.bias,
                relu: true, format: layer.format)
        } catch {
            throw .file(
                path: data.checkpointPath ?? "checkpoint", reason: "the snapshot after step \(snapshot.steps): \(error)"
            )
        }
        salt = snapshot.salt
        commitment = snapshot.commitment
    }

    /// A session that ends early keeps only what was verified: with deferred proofs, the state of
    /// the last step whose gradient proof checked out.
    mutating func keepOnlyVerified() {
        guard policy.defersProofs, step > verifiedServerThrough, let verified = book.snapshots[verifiedServerThrough]
        else { return }
        try? restore(verified)
        step = verified.steps
    }
}
