import Algebra
import Commitment
import Groth16
import ZKML

/// The server party as a state machine with no I/O: it runs the top layer (the spec's Dense
/// head with its loss) for one connected client. It checks each Hello against its spec, keys
/// and limits, each step's activations (`StepChecks`, the transcript link, the client's weight
/// chain, then the client's forward and previous-update proofs) and only then trains, answering
/// with the gradient, the commitments to its weights before and after, and the proof of its step.
///
/// Modes differ only through `policy` and a dishonest server only through `tamper`.
public struct ServerStateMachine: PartyMachine {
    public var role: Role { .server }
    let spec: CircuitSpec
    let specHash: [UInt8]
    let keys: [[UInt8]]?
    let options: ServerOptions
    var tamper: (any PartyTamper)?

    public private(set) var policy: any ModePolicy = PlainMode()
    var keyHashes: [[UInt8]] = []
    /// The keys link the client's update to its forward proof (`SplitKeys.link`).
    let linkedUpdate: Bool
    var totalSteps: UInt64 = 0
    var announcement = DatasetAnnouncement(root: .zero, size: 0, scheduleCommitment: [], fixedScheduleSeed: nil)
    /// The head this side trains, its commitment salt and commitment (absent without commitments).
    public private(set) var layer: QuantizedDense
    var salt: Fr?
    var commitment: Fr?
    public private(set) var step: UInt64 = 0
    var session: Fr?
    var transcript = Transcript(session: "")
    var checks: StepChecks?
    var book = SessionBook(window: 2)
    /// The client weights commitment the next activations must carry (the chain's next link).
    var clientCommitment: Fr?
    /// Deferred proofs: the client statements awaiting their proofs.
    var pendingForward: [UInt64: [Fr]] = [:]
    var pendingUpdate: [UInt64: [Fr]] = [:]
    /// Activations that arrived beyond the pipeline window, processed once proofs catch up.
    var stash: Message.Activations?
    /// Update proofs that arrived before the message announcing the new weights' commitment.
    var earlyUpdates: [UInt64: Message.ProofBundle] = [:]
    /// The step this connection started (or resumed) at.
    var connectionStart: UInt64 = 0
    var inFlight = 0
    var stats = PartyStats()
    var phase = Phase.awaitingHello
    var awaiting: (checks: [Pending], then: Next)?

    enum Phase {
        case awaitingHello
        case loading(Message.Hello)
        case running
        case proving(Draft)
        case finishing(Message.Finish)
        case closed
    }

    /// A proof whose verification a continuation waits for.
    enum Pending {
        /// The client's update of step `step` to the weights under `after`.
        case update(step: UInt64, after: Fr, proof: StepProof?)
        case forward(StepProof)
        case bundle(Message.ProofBundle, StepProof)
    }

    enum Next {
        case runStep(StepRecord)
        case drain
        case finish(Message.Finish)
    }

    /// A step answered but not yet sent (its inline proof in the making).
    struct Draft {
        var record: StepRecord
        var message: Message.Gradient
        let updated: QuantizedDense
        let newSalt: Fr?
        let newCommitment: Fr?
    }

    public init(setup: SessionSetup, options: ServerOptions) throws(SplitError) {
        spec = setup.spec
        specHash = setup.specHash
        keys = setup.keys?.hashes
        linkedUpdate = setup.keys?.link != nil
        self.options = options
        tamper = options.adversary.tamper(attackStep: options.attackStep)
        do { layer = try SplitServer.initialLayer(spec: spec, seed: options.seed) } catch {
            throw .invalidArgument("the spec's server layer: \(error)")
        }
    }

    public var summary: PartySummary {
        PartySummary(
            session: session, keptSteps: policy.keptSteps(done: step, verified: verifiedClientThrough), stats: stats,
            transcriptHead: session == nil ? nil : transcript.head, interrupted: false)
    }

    /// Steps whose inputs are proven: every forward proof before it verified and every client
    /// update before the last (deferred proofs lag; the other modes keep all they did).
    var verifiedClientThrough: UInt64 {
        guard policy.defersProofs else { return step }
        // Flushed steps had all their proofs verified, so the scan starts there: it covers at
        // most the pipeline window, not the whole session.
        var n = max(connectionStart, book.flushed)
        while n < step, pendingForward[n] == nil, n == connectionStart || pendingUpdate[n - 1] == nil { n += 1 }
        return n
    }

    public mutating func start() -> [Action] { [] }

    // MARK: Handshake

    mutating func handshake(_ hello: Message.Hello) -> [Action] {
        guard hello.protocolVersion == Wire.protocolVersion else {
            return refuse(.protocolVersion(got: hello.protocolVersion, expected: Wire.protocolVersion), at: 0)
        }
        guard let mode = hello.mode else { return refuse(.unknownMode(code: hello.modeCode), at: 0) }
        let served = options.modes.filter { !$0.usesProofs || keys != nil }
        guard served.contains(mode) else { return refuse(.modeNotServed(mode: mode, served: Array(served)), at: 0) }
        guard hello.specHash == specHash else { return refuse(.specMismatch, at: 0) }
        if mode.usesProofs {
            guard hello.verifyingKeyHashes == keys else { return refuse(.keyMismatch, at: 0) }
            keyHashes = keys ?? []
        }
        for (name, got, expected) in [
            ("batch size", Int(hello.batchSize), spec.batch),
            ("learning rate shift", Int(hello.learningRateShift), spec.learningRateShift),
            ("fraction bits", Int(hello.fractionBits), spec.fractionBits),
        ] where got != expected {
            return refuse(.parameterMismatch(name: name, got: got, expected: expected), at: 0)
        }
        guard Int(hello.pipelineDepth) <= options.maxPipelineDepth else {
            return refuse(.pipelineTooDeep(requested: Int(hello.pipelineDepth), limit: options.maxPipelineDepth), at: 0)
        }
        guard hello.steps <= options.maxSteps else {
            return refuse(.tooManySteps(requested: hello.steps, limit: options.maxSteps), at: 0)
        }
        guard hello.clientNonce.count == 32 else { return refuse(.nonceLength(of: .client), at: 0) }
        let dataset = hello.dataset
        guard dataset.size >= 1, dataset.size <= UInt64(1) << UInt64(spec.datasetDepth) else {
            return refuse(.datasetSize(size: dataset.size, depth: spec.datasetDepth), at: 0)
        }
        if dataset.fixedScheduleSeed != nil {
            guard options.allowFixedSchedule else { return refuse(.fixedScheduleRefused, at: 0) }
        } else {
            guard dataset.scheduleCommitment.count == 32 else { return refuse(.scheduleCommitmentLength, at: 0) }
        }
        policy = mode.policy(pipelineDepth: Int(hello.pipelineDepth))
        book = SessionBook(window: policy.depth + 2)
        totalSteps = hello.steps
        announcement = dataset
        if let resume = hello.resume {
            phase = .loading(hello)
            return [.load(session: resume.session)]
        }
        // A new session.
        let nonce = SecureRandom.bytes(32)
        let session = SessionID.derive(
            clientNonce: hello.clientNonce, serverNonce: nonce, specHash: specHash, keyHashes: keyHashes,
            mode: mode, dataset: dataset)
        self.session = session
        transcript = Transcript(session: Hex.field(session))
        if policy.commitments {
            guard let announced = hello.clientCommitment else { return refuse(.missing(.clientCommitment), at: 0) }
            let fresh = Fr.random()
            do {
                commitment = try ParameterCommitment.commit(
                    layer.weights + layer.bias, format: spec.format, salt: fresh)
            } catch {
                return fail(.invalidArgument("committing the server's weights: \(error)"))
            }
            salt = fresh
            clientCommitment = announced
        }
        checks = StepChecks(
            spec: spec, session: session, announcement: dataset, commitments: policy.commitments,
            linkedUpdate: linkedUpdate)
        let header = RecordHeader(
            session: session, clientNonce: hello.clientNonce, serverNonce: nonce, mode: mode, role: .server,
            specHash: specHash, verifyingKeyHashes: keyHashes, clientStart: clientCommitment,
            serverStart: commitment, dataset: dataset)
        book.settled = [snapshot()]
        return [.persist(.start(header: header, checkpoint: checkpoint(session)))] + welcome(nonce: nonce)
    }

    /// Continues a session from the lower of the two sides' settled steps.
    public mutating func loaded(_ result: Result<StoredSession?, Rejection>) -> [Action] {
        guard case .loading(let hello) = phase, let resume = hello.resume else {
            return refuse(.unexpectedMessage("stored session"), at: 0)
        }
        let name = Hex.field(resume.session).prefix(16)
        let stored: StoredSession
        switch result {
        case .failure(let rejection): return refuse(rejection, at: 0)
        case .success(nil): return refuse(.notResumable(reason: "unknown session \(name); start a new one"), at: 0)
        case .success(let found?): stored = found
        }
        let checkpoint = stored.checkpoint
        guard checkpoint.session == resume.session else {
            return refuse(.notResumable(reason: "unknown session \(name); start a new one"), at: 0)
        }
        guard checkpoint.mode == policy.mode else {
            return refuse(.notResumable(reason: "session \(name) ran in \(checkpoint.mode.rawValue) mode"), at: 0)
        }
        let start = min(checkpoint.latest?.steps ?? 0, resume.step)
        guard let snapshot = checkpoint.snapshot(at: start) else {
            return refuse(
                .notResumable(
                    reason:
                        "cannot resume at step \(start): this server's checkpoint starts at \(checkpoint.snapshots.first?.steps ?? 0)"
                ), at: 0)
        }
        do {
            try snapshot.validate(
                weights: layer.weights.count, bias: layer.bias.count, commitments: policy.commitments,
                file: "checkpoint")
            layer = try QuantizedDense(
                inputs: layer.inputs, outputs: layer.outputs, weights: snapshot.weights, bias: snapshot.bias,
                relu: false, format: layer.format)
        } catch let error as SplitError {
            return refuse(.notResumable(reason: error.detail), at: 0)
        } catch {
            return refuse(.notResumable(reason: "\(error)"), at: 0)
        }
        guard stored.header.announcement == announcement else { return refuse(.datasetChanged, at: 0) }
        session = resume.session
        salt = snapshot.salt
        commitment = snapshot.commitment
        step = start
        book.settled = checkpoint.snapshots.filter { $0.steps <= start }
        let kept = stored.steps.filter { $0.step < start }
        transcript = Transcript(session: Hex.field(resume.session))
        for record in kept { transcript.append(record) }
        checks = StepChecks(
            spec: spec, session: resume.session, announcement: announcement, commitments: policy.commitments,
            revealedSecret: kept.first?.scheduleSecret, linkedUpdate: linkedUpdate)
        clientCommitment = kept.last?.clientWeightsAfter ?? stored.header.clientStart
        return [.persist(.rewind(header: stored.header, steps: kept))] + welcome(nonce: [])
    }

    mutating func welcome(nonce: [UInt8]) -> [Action] {
        guard let session else { return fail(.invalidArgument("no session")) }
        var welcome = Message.Welcome(session: session)
        welcome.serverNonce = nonce
        welcome.startStep = step
        welcome.serverCommitment = commitment
        book.snapshots[step] = snapshot()
        book.flushed = step
        connectionStart = step
        phase = .running
        return [
            .send(.welcome(welcome)),
            .log("server: session \(Hex.field(session).prefix(16)) (\(policy.mode.rawValue)) from step \(step)"),
        ]
    }

    // MARK: Steps

    /// Activations beyond the window wait (one at most) until the client's proofs catch up.
    mutating func accept(_ m: Message.Activations) -> [Action] {
        let verified = verifiedClientThrough
        if policy.defersProofs, m.step >= verified, m.step - verified > UInt64(policy.depth) {
            guard stash == nil else { return refuse(.pipelineOverrun, at: m.step) }
            stash = m
            return []
        }
        return process(m)
    }

    /// Checks a step's activations: step, session and the agreed count, `StepChecks`, the
    /// transcript link and the client's weight chain, then the proofs (inline: the forward proof
    /// and the update proof of the previous step, verified before the step runs).
    mutating func process(_ m: Message.Activations) -> [Action] {
        let t = step
        guard let session, var checks else { return fail(.invalidArgument("no session")) }
        let record = StepRecord(m)
        var pending: [Pending] = []
        var proofChecks: [ProofCheck] = []
        do throws(Rejection) {
            try StepChecks.envelope(step: m.step, session: m.session, expected: t, in: session)
            guard t < totalSteps else { throw Rejection.beyondAgreedSteps(step: t, agreed: totalSteps) }
            let forward = try timed(&stats.verifySeconds) { () throws(Rejection) -> [Fr]? in
                try checks.activations(record, clientChain: nil)
            }
            self.checks = checks
            if policy.commitments, let weights = record.clientWeights {
                try StepChecks.link(m.previousLink, head: transcript.head, .activations)
                if t > 0, book.records[t - 1] != nil {
                    let update = try updateStatement(step: t - 1, after: weights)
                    switch policy.proofs {
                    case .inline:
                        guard let proof = m.previousUpdateProof else { throw Rejection.proofMissing(.clientUpdate) }
                        pending.append(.update(step: t - 1, after: weights, proof: proof))
                        proofChecks.append(
                            ProofCheck(
                                part: .clientUpdate, proof: proof, statement: update,
                                linkedTo: forwardCommitment(step: t - 1)))
                    case .deferred, .none:
                        pending.append(.update(step: t - 1, after: weights, proof: nil))
                        if policy.defersProofs { pendingUpdate[t - 1] = update }
                    }
                } else if t == connectionStart, weights != clientCommitment {
                    throw Rejection.chainBroken(.client)
                }
                switch policy.proofs {
                case .inline:
                    guard let forward, let proof = m.forwardProof else { throw Rejection.proofMissing(.client) }
                    pending.append(.forward(proof))
                    proofChecks.append(ProofCheck(part: .client, proof: proof, statement: forward))
                case .deferred:
                    pendingForward[t] = forward
                case .none:
                    break
                }
            }
        } catch {
            return refuse(error, at: t)
        }
        if proofChecks.isEmpty {
            // No inline proofs: accept the update now; an update proof that overtook its
            // message is verified before the step runs.
            var actions: [Action] = []
            for case .update(let s, let after, _) in pending {
                actions += acceptUpdate(step: s, after: after, proof: nil)
                if let early = earlyUpdates.removeValue(forKey: s) {
                    return actions + verifyBundle(early, then: .runStep(record))
                }
            }
            return actions + runStep(record)
        }
        awaiting = (pending, .runStep(record))
        return [.verify(proofChecks)]
    }

    /// The statement of the client's update of step `s` (to the weights under `after`).
    func updateStatement(step s: UInt64, after: Fr) throws(Rejection) -> [Fr] {
        guard var previous = book.records[s], let checks else { throw .noRecord(step: s) }
        previous.clientWeightsAfter = after
        return try checks.update(previous)
    }

    mutating func acceptUpdate(step s: UInt64, after: Fr, proof: StepProof?) -> [Action] {
        book.records[s]?.clientWeightsAfter = after
        if let proof { book.records[s]?.updateProof = proof }
        return settle()
    }

    /// The step itself, honest or (for the CLI's simulation) not: forward, loss, backward and
    /// SGD on the head, the gradient's commitment and (inline) the proof of the whole step.
    mutating func runStep(_ record: StepRecord) -> [Action] {
        let t = step, spec = spec
        guard let session, !record.samples.isEmpty else { return fail(.invalidArgument("no session")) }
        var record = record
        if policy.commitments { clientCommitment = record.clientWeights }
        transcript.append(record, .activations)
        var plan = ServerPlan(
            step: t, labels: record.samples.map(\.label), classes: spec.server.outputs, session: session)
        tamper?.plan(&plan)
        let rows = (0..<spec.batch).map { s in
            Array(record.activations[(s * spec.cutWidth)..<((s + 1) * spec.cutWidth)])
        }
        let inputGradient: [Int64]
        let updated: QuantizedDense
        do {
            (inputGradient, updated) = try timed(&stats.computeSeconds) {
                () throws(FixedPointError) -> ([Int64], QuantizedDense) in
                guard spec.usesBatchedCircuits else {
                    let result = try ServerStep(
                        layer: layer, learningRateShift: spec.learningRateShift, loss: spec.loss
                    )
                    .run(activations: record.activations, label: plan.labels[0])
                    return (result.inputGradient, result.updated)
                }
                let result = try BatchedStep.server(
                    layer, activations: rows, labels: plan.labels, learningRateShift: spec.learningRateShift(atStep: t),
                    loss: spec.loss)
                return (result.inputGradients.flatMap { $0 }, result.updated)
            }
        } catch {
            return fail(.invalidArgument("the server's step: \(error)"))
        }
        var gradient = inputGradient
        tamper?.gradient(&gradient, step: t)
        var message = Message.Gradient(step: t, session: session, values: gradient)
        var newSalt: Fr?, newCommitment: Fr?
        if policy.commitments {
            let fresh = Fr.random(), gradientSalt = Fr.random()
            do {
                newCommitment = try timed(&stats.computeSeconds) {
                    try ParameterCommitment.commit(updated.weights + updated.bias, format: spec.format, salt: fresh)
                }
                message.commitment = try timed(&stats.computeSeconds) {
                    try MessageCommitment.gradient(gradient, salt: gradientSalt, format: spec.format)
                }
            } catch {
                return fail(.invalidArgument("committing the server's step: \(error)"))
            }
            newSalt = fresh
            message.salt = gradientSalt
            message.weightsBefore = commitment
            message.weightsAfter = newCommitment
            message.previousLink = transcript.head.bytes
        }
        record.gradient = gradient
        let draft = Draft(
            record: record, message: message, updated: updated, newSalt: newSalt, newCommitment: newCommitment)
        let head = layer, activations = record.activations, before = salt, after = newSalt
        let labels = plan.labels, provedSession = plan.session
        let job = ProofJob(step: t, part: .server) { synthesis in
            guard let before, let after else {
                throw SplitError.invalidArgument("step \(t): no weights salts to prove the server step under")
            }
            if spec.usesBatchedCircuits {
                return try spec.batchedServerCircuit(
                    head, activations: rows, labels: labels, session: provedSession, step: t, saltBefore: before,
                    saltAfter: after, oracle: synthesis.oracle, witnessOnly: synthesis.witnessOnly
                ).circuit
            }
            return try spec.serverStepCircuit(
                head, activations: activations, label: labels[0], session: provedSession, step: t,
                saltBefore: before, saltAfter: after, witnessOnly: synthesis.witnessOnly
            ).circuit
        }
        switch policy.proofs {
        case .none:
            return sendGradient(draft)
        case .inline:
            phase = .proving(draft)
            return [.prove(job)]
        case .deferred:
            inFlight += 1
            return [.proveInBackground(job)] + sendGradient(draft)
        }
    }

    mutating func sendGradient(_ draft: Draft) -> [Action] {
        var record = draft.record
        let outgoing = tampered(.gradient(draft.message))
        if case .message(.gradient(let sent)) = outgoing {
            record.gradient = sent.values
            record.gradientSalt = sent.salt
            record.gradientCommitment = sent.commitment
            record.serverBefore = sent.weightsBefore
            record.serverAfter = sent.weightsAfter
            record.serverProof = sent.proof
        }
        transcript.append(record, .gradient)
        layer = draft.updated
        salt = draft.newSalt
        commitment = draft.newCommitment
        let t = step
        step = t + 1
        stats.steps += 1
        book.records[t] = record
        book.snapshots[step] = snapshot()
        phase = .running
        return [outgoing.action] + settle() + drainStash()
    }

    /// Deferred proofs: a client proof for a pending statement (an update proof that arrives
    /// before the weights it proves is kept until they are announced).
    mutating func receiveBundle(_ bundle: Message.ProofBundle) -> [Action] {
        let s = bundle.step
        let known: [Fr]?
        switch bundle.part {
        case .client: known = pendingForward[s]
        case .clientUpdate: known = pendingUpdate[s]
        default: known = nil
        }
        if known == nil, bundle.part == .clientUpdate, book.records[s] != nil, earlyUpdates.count <= policy.depth {
            earlyUpdates[s] = bundle
            return []
        }
        return verifyBundle(bundle, then: .drain)
    }

    mutating func verifyBundle(_ bundle: Message.ProofBundle, then next: Next) -> [Action] {
        let s = bundle.step
        let statement: [Fr]?
        switch bundle.part {
        case .client: statement = pendingForward[s]
        case .clientUpdate: statement = pendingUpdate[s]
        default: statement = nil
        }
        guard let statement, let part = bundle.part, bundle.session == session else {
            return refuse(.unexpectedProof(step: s), at: s)
        }
        guard let proof = bundle.proof else { return refuse(.proofMissing(part), at: s) }
        var linkedTo: G1Affine?
        if part == .clientUpdate, linkedUpdate {
            // The link holds with the step's verified forward proof: an update proved before it
            // (a pool's workers finish in any order) waits for it, within the pipeline's window.
            guard let forward = forwardCommitment(step: s) else {
                guard earlyUpdates.count <= policy.depth else { return refuse(.pipelineOverrun, at: s) }
                earlyUpdates[s] = bundle
                return proceed(next)
            }
            linkedTo = forward
        }
        awaiting = ([.bundle(bundle, proof)], next)
        return [.verify([ProofCheck(part: part, proof: proof, statement: statement, linkedTo: linkedTo)])]
    }

    /// The commitment of step `s`'s verified forward proof (what a linked update links to).
    func forwardCommitment(step s: UInt64) -> G1Affine? { book.records[s]?.forwardProof?.commitment }

    /// Processes activations that waited for the window, once the client's proofs caught up.
    mutating func drainStash() -> [Action] {
        guard case .running = phase, let stashed = stash else { return [] }
        let verified = verifiedClientThrough
        guard stashed.step < verified || stashed.step - verified <= UInt64(policy.depth) else { return [] }
        stash = nil
        return process(stashed)
    }

    // MARK: Finish

    mutating func finish(_ f: Message.Finish) -> [Action] {
        guard f.steps == step else { return refuse(.finishStep(client: f.steps, server: step), at: step) }
        if policy.commitments, step > 0 {
            guard let after = f.clientCommitment else { return refuse(.missing(.clientCommitment), at: step) }
            let s = step - 1
            guard book.records[s] != nil else {
                // Settled in an earlier connection: without proofs nothing is left to check.
                return policy.usesProofs ? refuse(.noRecord(step: s), at: step) : completeFinish(f)
            }
            let update: [Fr]
            do { update = try updateStatement(step: s, after: after) } catch { return refuse(error, at: step) }
            switch policy.proofs {
            case .inline:
                guard let proof = f.lastUpdateProof else { return refuse(.proofMissing(.clientUpdate), at: step) }
                awaiting = ([.update(step: s, after: after, proof: proof)], .finish(f))
                return [
                    .verify([
                        ProofCheck(
                            part: .clientUpdate, proof: proof, statement: update, linkedTo: forwardCommitment(step: s))
                    ])
                ]
            case .deferred:
                pendingUpdate[s] = update
                let actions = acceptUpdate(step: s, after: after, proof: nil)
                if let early = earlyUpdates.removeValue(forKey: s) {
                    return actions + verifyBundle(early, then: .finish(f))
                }
                return actions + completeFinish(f)
            case .none:
                return acceptUpdate(step: s, after: after, proof: nil) + completeFinish(f)
            }
        }
        return completeFinish(f)
    }

    /// Waits for this side's own proofs, then checks that every client proof came and that both
    /// transcripts agree, and acknowledges.
    mutating func completeFinish(_ f: Message.Finish) -> [Action] {
        phase = .finishing(f)
        guard inFlight == 0 else { return [] }
        if policy.defersProofs, !pendingForward.isEmpty || !pendingUpdate.isEmpty {
            return refuse(.unproven(steps: Set(pendingForward.keys).union(pendingUpdate.keys).sorted()), at: step)
        }
        let actions = settle()
        guard f.transcriptHead == transcript.head.bytes else { return actions + refuse(.transcriptHead, at: step) }
        phase = .closed
        return actions + [
            .send(.finish(Message.Finish(steps: step, transcriptHead: transcript.head.bytes))),
            .log("server: session \(session.map { Hex.field($0).prefix(16) } ?? "-") finished after \(step) steps"),
            .close(.finished),
        ]
    }

    // MARK: Events

    public mutating func receive(_ message: Message) -> [Action] {
        switch (phase, message) {
        case (.closed, _):
            return []
        case (.awaitingHello, .hello(let hello)):
            return handshake(hello)
        case (.awaitingHello, _):
            return refuse(.expectedMessage(expected: "Hello", got: message.name), at: 0)
        case (_, .reject(let r)):
            return fail(.peerRejected(step: r.step, kind: r.kind, reason: r.reason))
        case (.running, .activations(let m)):
            return accept(m)
        case (.running, .proof(let bundle)) where policy.defersProofs:
            return receiveBundle(bundle)
        case (.running, .finish(let f)):
            return finish(f)
        default:
            return refuse(.unexpectedMessage(message.name), at: step)
        }
    }

    public mutating func proved(_ job: ProofJob, _ proof: StepProof, seconds: Double) -> [Action] {
        stats.provingSeconds += seconds
        stats.proofs += 1
        switch phase {
        case .proving(var draft) where job.step == draft.record.step:
            draft.message.proof = proof
            return sendGradient(draft)
        case .closed:
            return []
        default:
            inFlight -= 1
            book.records[job.step]?.serverProof = proof
            var actions = [
                tampered(.proof(Message.ProofBundle(step: job.step, part: .server, proof: proof, session: session)))
                    .action
            ]
            actions += settle()
            if case .finishing(let f) = phase { actions += completeFinish(f) }
            return actions
        }
    }

    public mutating func verified(_ results: [Bool], seconds: Double) -> [Action] {
        stats.verifySeconds += seconds
        stats.verifications += results.count
        guard let (pending, next) = awaiting else { return [] }
        awaiting = nil
        var actions: [Action] = []
        var forwardProof: StepProof?
        for (index, check) in pending.enumerated() {
            let valid = index < results.count && results[index]
            switch check {
            case .update(let s, let after, let proof):
                guard valid else { return actions + refuse(.proofInvalid(.clientUpdate), at: s + 1) }
                actions += acceptUpdate(step: s, after: after, proof: proof)
            case .forward(let proof):
                guard valid else { return actions + refuse(.proofInvalid(.client), at: step) }
                forwardProof = proof
            case .bundle(let bundle, let proof):
                guard valid, let part = bundle.part else {
                    return actions + refuse(.proofInvalid(bundle.part ?? .client), at: bundle.step)
                }
                if part == .client {
                    pendingForward[bundle.step] = nil
                    book.records[bundle.step]?.forwardProof = proof
                    // A linked update that waited for this forward proof goes next.
                    if linkedUpdate, pendingUpdate[bundle.step] != nil,
                        let early = earlyUpdates.removeValue(forKey: bundle.step)
                    {
                        return actions + settle() + verifyBundle(early, then: next)
                    }
                } else {
                    pendingUpdate[bundle.step] = nil
                    book.records[bundle.step]?.updateProof = proof
                }
                actions += settle()
            }
        }
        return actions + proceed(next, forwardProof: forwardProof)
    }

    /// What follows a verification (or a wait): the step, the stash, or the finish.
    mutating func proceed(_ next: Next, forwardProof: StepProof? = nil) -> [Action] {
        switch next {
        case .runStep(var record):
            record.forwardProof = forwardProof
            return runStep(record)
        case .drain:
            return drainStash()
        case .finish(let f):
            return completeFinish(f)
        }
    }

    public mutating func refuse(_ rejection: Rejection) -> [Action] {
        refuse(rejection, at: step)
    }

    public mutating func stopped() {
        keepOnlyVerified()
        phase = .closed
    }

    // MARK: State

    mutating func tampered(_ message: Message) -> Outgoing {
        guard var tamper else { return .message(message) }
        let result = tamper.outgoing(message)
        self.tamper = tamper
        return result
    }

    mutating func settle() -> [Action] {
        guard let session, let records = book.settle(policy) else { return [] }
        return [.persist(.settle(records: records, checkpoint: checkpoint(session)))]
    }

    func checkpoint(_ session: Fr) -> Checkpoint {
        Checkpoint(role: .server, session: session, mode: policy.mode, specHash: specHash, snapshots: book.settled)
    }

    func snapshot() -> ParameterSnapshot {
        ParameterSnapshot(steps: step, weights: layer.weights, bias: layer.bias, salt: salt, commitment: commitment)
    }

    /// A session that ends early keeps only what was verified: with deferred proofs, the head as
    /// it was after the last step whose client proofs checked out.
    mutating func keepOnlyVerified() {
        let target = verifiedClientThrough
        guard policy.defersProofs, step > target, let snapshot = book.snapshots[target],
            let restored = try? QuantizedDense(
                inputs: layer.inputs, outputs: layer.outputs, weights: snapshot.weights,
                bias: snapshot.bias, relu: false, format: layer.format)
        else { return }
        layer = restored
        step = snapshot.steps
        pendingForward = pendingForward.filter { $0.key < target }
        pendingUpdate = pendingUpdate.filter { $0.key < target }
    }
}
