import Algebra
import Circuit
import Dispatch
import Foundation
import Groth16
import Logging
import NIOCore

/// Runs a party's state machine over a NIO connection: it moves frames, runs the machine's
/// actions (proofs off the concurrency pool, verification, files) and turns the ending into a
/// `SessionOutcome`. It knows nothing of the protocol itself.
///
/// Inputs reach the machine one at a time from one mailbox: the peer's frames (read by a task
/// that holds at most one undelivered frame, so the socket's backpressure bounds what a peer can
/// make this side buffer) and the background prover's finished proofs.
enum SessionDriver {
    static func run<Machine: PartyMachine>(
        _ machine: Machine, over channel: FrameChannel, peerName: String, keys: SplitKeys?,
        store: SessionStore, logger: Logger, prover service: any ProofService = InProcessProofService(),
        onProgress: (@Sendable (UInt64) -> Void)? = nil
    ) async -> (SessionOutcome, Machine) {
        let traffic = TrafficCounter()
        let start = now()
        var machine = machine
        var ending: Ending = .failed(.connection("\(peerName): the session did not start"))
        do {
            try await channel.executeThenClose { inbound, outbound in
                let mailbox = EventMailbox()
                let reader = Task { await readFrames(inbound, into: mailbox, traffic: traffic, peerName: peerName) }
                let prover = BackgroundProver(mailbox: mailbox, keys: keys, service: service)
                defer {
                    reader.cancel()
                    Task { await prover.cancel() }
                }
                func write(_ bytes: [UInt8]) async throws(SplitError) {
                    do {
                        try await outbound.write(ByteBuffer(bytes: bytes))
                        traffic.sent(bytes.count + 5)
                    } catch {
                        throw .connection("\(peerName): write failed (\(error))")
                    }
                }
                var queue = machine.start()
                loop: while true {
                    guard !queue.isEmpty else {
                        switch await mailbox.next() {
                        case .message(let message): queue = machine.receive(message)
                        case .undecodable(let rejection): queue = machine.refuse(rejection)
                        case .proved(let job, let proof, let seconds):
                            queue = machine.proved(job, proof, seconds: seconds)
                        case .failed(let error):
                            machine.stopped()
                            ending = .failed(error)
                            break loop
                        }
                        continue
                    }
                    let action = queue.removeFirst()
                    do {
                        switch action {
                        case .send(let message): try await write(Wire.encode(message))
                        case .sendRaw(let bytes): try await write(bytes)
                        case .prove(let job):
                            let started = now()
                            let proof = try await ProofWork.prove(job, keys: keys, service: service)
                            queue = machine.proved(job, proof, seconds: now() - started) + queue
                        case .proveInBackground(let job): await prover.submit(job)
                        case .verify(let checks):
                            let started = now()
                            let results = checks.map { ProofWork.verify($0, keys: keys) }
                            queue = machine.verified(results, seconds: now() - started) + queue
                        case .persist(let persistence): try await store.write(persistence)
                        case .load(let session): queue = machine.loaded(await store.load(session)) + queue
                        case .progress(let steps): onProgress?(steps)
                        case .log(let line): logger.info("\(line)")
                        case .close(let end):
                            ending = end
                            break loop
                        }
                    } catch {
                        machine.stopped()
                        ending = .failed(error as? SplitError ?? .invalidArgument("\(error)"))
                        break loop
                    }
                }
                await mailbox.close()
                // This side refused the peer's message: tell it why (best effort) before closing.
                if case .refused(let error) = ending, case .rejected(let step, let rejection) = error {
                    try? await write(Wire.encode(.reject(Message.RejectNotice(step: step, rejection))))
                }
            }
        } catch {
            machine.stopped()
            if case .finished = ending {} else { ending = .failed(error as? SplitError ?? .connection("\(error)")) }
        }
        var outcome = SessionOutcome()
        switch ending {
        case .finished: break
        case .interrupted: outcome.interrupted = true
        case .refused(let error):
            outcome.reason = error.description
            outcome.error = error
            outcome.rejected = true
            outcome.rejection = error.rejection
        case .failed(let error):
            outcome.reason = error.description
            outcome.error = error
            if case .peerRejected(_, let kind, _) = error {
                outcome.peerRejected = true
                outcome.peerRejection = kind
            }
        }
        let summary = machine.summary
        outcome.session = summary.session
        outcome.completedSteps = summary.keptSteps
        outcome.stats = summary.stats
        outcome.transcriptHead = summary.transcriptHead
        let totals = traffic.totals
        outcome.stats.bytesSent = totals.sent
        outcome.stats.bytesReceived = totals.received
        outcome.stats.wallSeconds = now() - start
        if let reason = outcome.reason {
            logger.warning("\(machine.role.rawValue): session with \(peerName) ended: \(reason)")
        }
        return (outcome, machine)
    }

    /// Reads frames until the connection ends or a frame is refused; each is decoded and
    /// validated before it reaches the machine.
    static func readFrames(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, into mailbox: EventMailbox, traffic: TrafficCounter,
        peerName: String
    ) async {
        var iterator = inbound.makeAsyncIterator()
        while !Task.isCancelled {
            let next: ByteBuffer?
            do { next = try await iterator.next() } catch let error as SplitError {
                if case .malformedFrame(let fault) = error {
                    await mailbox.putFrame(.undecodable(.malformedFrame(fault)))
                } else {
                    await mailbox.putFrame(.failed(error))
                }
                return
            } catch {
                await mailbox.putFrame(.failed(.connection("\(peerName): \(error)")))
                return
            }
            guard let buffer = next else {
                await mailbox.putFrame(.failed(.connection("\(peerName) closed the connection")))
                return
            }
            traffic.received(buffer.readableBytes + 5)
            do {
                await mailbox.putFrame(.message(try Wire.decode(Array(buffer.readableBytesView))))
            } catch {
                await mailbox.putFrame(.undecodable(error))
                return
            }
        }
    }
}

/// The machine's inputs, in arrival order.
actor EventMailbox {
    enum Event: Sendable {
        case message(Message)
        case undecodable(Rejection)
        case proved(ProofJob, StepProof, Double)
        case failed(SplitError)

        var fromPeer: Bool {
            switch self {
            case .proved: return false
            default: return true
            }
        }
    }

    private var events: [Event] = []
    private var framesWaiting = 0
    private var consumer: CheckedContinuation<Event, Never>?
    private var reader: CheckedContinuation<Void, Never>?
    private var closed = false

    /// An event from the peer: waits while one is still undelivered.
    func putFrame(_ event: Event) async {
        while framesWaiting >= 1 && !closed { await withCheckedContinuation { reader = $0 } }
        guard !closed else { return }
        put(event)
    }

    /// An event from this side (a proof), delivered in order with the frames.
    func put(_ event: Event) {
        guard !closed else { return }
        if let consumer {
            self.consumer = nil
            consumer.resume(returning: event)
        } else {
            events.append(event)
            if event.fromPeer { framesWaiting += 1 }
        }
    }

    func next() async -> Event {
        guard !events.isEmpty else { return await withCheckedContinuation { consumer = $0 } }
        let event = events.removeFirst()
        if event.fromPeer {
            framesWaiting -= 1
            reader?.resume()
            reader = nil
        }
        return event
    }

    /// No more events: a reader waiting for room returns.
    func close() {
        closed = true
        reader?.resume()
        reader = nil
    }
}

/// Deferred proofs, off the protocol loop; each finished proof goes to the mailbox in the order
/// the jobs were submitted (the machine settles steps in order). A service that proves in this
/// process runs them one after another; one that runs them elsewhere (the prover pool) gets all
/// of them at once, so up to the pipeline depth's proofs are in flight on the workers. A
/// failure stops the prover and ends the session.
actor BackgroundProver {
    let mailbox: EventMailbox
    let keys: SplitKeys?
    let service: any ProofService
    private var tail: Task<Void, Never>?
    private var stopped = false
    /// Jobs handed to a concurrent service, cancelled when the session ends (the pool then
    /// withdraws them and their witnesses).
    private var inFlight: [Task<(StepProof, Double), any Error>] = []

    init(mailbox: EventMailbox, keys: SplitKeys?, service: any ProofService = InProcessProofService()) {
        self.mailbox = mailbox
        self.keys = keys
        self.service = service
    }

    func submit(_ job: ProofJob) {
        let previous = tail
        let keys = keys, service = service
        if service.runsConcurrently {
            let work = Task { () async throws -> (StepProof, Double) in
                let started = now()
                return (try await ProofWork.prove(job, keys: keys, service: service), now() - started)
            }
            inFlight.append(work)
            tail = Task {
                let result = await work.result
                await previous?.value
                await self.deliver(job, result)
            }
        } else {
            tail = Task {
                await previous?.value
                guard !self.stopped else { return }
                let started = now()
                do {
                    let proof = try await ProofWork.prove(job, keys: keys, service: service)
                    await self.deliver(job, .success((proof, now() - started)))
                } catch {
                    await self.deliver(job, .failure(error))
                }
            }
        }
    }

    private func deliver(_ job: ProofJob, _ result: Result<(StepProof, Double), any Error>) async {
        if !inFlight.isEmpty { inFlight.removeFirst() }
        guard !stopped else { return }
        switch result {
        case .success(let (proof, seconds)):
            await mailbox.put(.proved(job, proof, seconds))
        case .failure(let error):
            stopped = true
            await mailbox.put(.failed(.connection("proving step \(job.step) failed: \(error)")))
        }
    }

    /// Proofs already running in this process finish on their queue; jobs on a pool are
    /// withdrawn; nothing more is delivered.
    func cancel() {
        stopped = true
        for work in inFlight { work.cancel() }
        inFlight = []
    }
}

/// Proving and verifying for the transports. Proving runs off the Swift concurrency pool: a
/// Groth16 proof keeps every core busy for up to seconds, which must not starve the tasks that
/// move frames. Verification (about 2 ms) runs where it is called.
enum ProofWork {
    static let queue = DispatchQueue(label: "verisplit.split.prover", qos: .userInitiated)

    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Builds the job's witness (`witnessOnly`: the prover evaluates the key's R1CS) and proves it
    /// under the part's key: plain Groth16 for the one-sample circuits, with the commitment step
    /// (the circuit built around the challenge oracle) for the batched ones. The prover checks the
    /// witness against the key's R1CS; a failure is our own bug (a dishonest job proves
    /// regardless), named by `namingViolation`.
    static func prove(_ job: ProofJob, keys: SplitKeys?) throws -> StepProof {
        guard let keys else {
            throw SplitError.invalidArgument("proving \(job.part.rawValue) needs the circuits' keys")
        }
        let key = keys.key(job.part)
        if let commitmentKey = key.provingKey.commitment {
            guard !job.unchecked else {
                throw SplitError.invalidArgument("an unchecked witness is proved only with the one-sample circuits")
            }
            let captured = CommitmentOpeningBox()
            let oracle: ProofJob.ChallengeOracle = { committed, statement in
                let opening = Groth16.commit(commitmentKey, committed: committed)
                captured.set(opening, committed: committed)
                return Groth16.commitmentChallenge(commitment: opening.commitment, statement: statement)
            }
            let cs = try job.circuit(ProofJob.Synthesis(oracle: oracle, witnessOnly: true))
            guard var (committed, opening) = captured.takeWithCommittedValues(),
                cs.commitmentInfo == key.r1cs.commitment
            else {
                throw SplitError.invalidArgument("the \(job.part.rawValue) circuit built is not the key's")
            }
            defer { SecureRandom.erase(&committed) }
            let proof = try namingViolation(job) {
                try Groth16.proveCommitted(key: key.provingKey, r1cs: key.r1cs, witness: cs.witness(), opening: opening)
            }
            if let link = try link(job, keys: keys, committed: committed, opening: opening) {
                return .linked(proof, link: link)
            }
            return .committed(proof)
        }
        let witness = try job.circuit(ProofJob.Synthesis(witnessOnly: true)).witness()
        if job.unchecked {
            return .plain(try Groth16.proveUnchecked(key: key.provingKey, r1cs: key.r1cs, witness: witness))
        }
        return .plain(
            try namingViolation(job) { try Groth16.prove(key: key.provingKey, r1cs: key.r1cs, witness: witness) })
    }

    /// After the commitment step of a batched job under linked keys (`SplitKeys.link`): the
    /// forward job keeps its opening for the step's update; the update job links its commitment
    /// to it and returns the link proof. Nil otherwise.
    static func link(
        _ job: ProofJob, keys: SplitKeys, committed: [Fr], opening: CommitmentOpening
    ) throws -> G1Affine? {
        guard let link = keys.link else { return nil }
        switch job.part {
        case .client:
            job.forwardOpening?.set(committed: committed, opening: opening)
            return nil
        case .clientUpdate:
            guard var forward = job.forwardOpening?.value() else {
                throw SplitError.invalidArgument(
                    "step \(job.step): the forward proof's opening, which the update links to, is not in this process")
            }
            defer { SecureRandom.erase(&forward.committed) }
            let proof = try CommitmentLink.prove(
                key: link, left: forward.committed, leftBlinding: forward.opening.blinding, right: committed,
                rightBlinding: opening.blinding)
            job.forwardOpening?.erase()
            return proof
        case .server:
            return nil
        }
    }

    /// Runs `body` (a proof); when the witness fails a row of the key's R1CS, builds the circuit
    /// again with its constraints and names to report the first violated constraint by name.
    static func namingViolation<T>(_ job: ProofJob, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch Groth16Error.witnessDoesNotSatisfy(let row) {
            throw namingViolation(job, row: row)
        }
    }

    /// The error for a witness that fails `row` of the key's R1CS, named by the circuit's first
    /// violated constraint when built with its names.
    static func namingViolation(_ job: ProofJob, row: Int) -> SplitError {
        let violation = (try? job.circuit(ProofJob.Synthesis()))?.firstViolation()
        return SplitError.invalidArgument(
            "\(job.part.rawValue) witness violates constraint \(violation.map { "\($0)" } ?? "#\(row)")")
    }

    /// `job`'s proof from `service` (the in-process prover or the pool).
    static func prove(_ job: ProofJob, keys: SplitKeys?, service: any ProofService) async throws -> StepProof {
        guard let keys else {
            throw SplitError.invalidArgument("proving \(job.part.rawValue) needs the circuits' keys")
        }
        // A forged-input adversary's unsatisfied witness is proved here, never queued: the
        // pool's party-side check would refuse its proof, which is the adversary's own problem.
        if job.unchecked { return try await offload { try prove(job, keys: keys) } }
        // A linked update waits for its forward proof's commitment step (a concurrent service may
        // start it first); a failed forward proof fails its update instead of leaving it waiting.
        if keys.link != nil, job.part == .clientUpdate, let forward = job.forwardOpening { try await forward.ready() }
        do { return try await service.prove(job, keys: keys) } catch {
            if job.part == .client { job.forwardOpening?.fail("\(error)") }
            throw error
        }
    }

    static func verify(_ check: ProofCheck, keys: SplitKeys?) -> Bool {
        guard let keys else { return false }
        return check.proof.verifies(
            key: keys.key(check.part).verifyingKey, statement: check.statement,
            link: keys.linkVerifyingKey(for: check.part), linkedTo: check.linkedTo)
    }
}

/// Where a party's session state goes.
enum SessionStore: Sendable {
    /// Nothing on disk.
    case none
    /// One session in one directory (the client).
    case directory(URL)
    /// `root/sessions/<id prefix>/` per session (the server).
    case perSession(root: URL)
    /// A durable ledger (`--db`), this party's rows under `role`.
    case ledger(any SessionLedger, role: Role)

    func files(_ session: Fr) -> SessionFiles? {
        switch self {
        case .none, .ledger: return nil
        case .directory(let url): return SessionFiles(directory: url)
        case .perSession(let root): return SessionFiles.server(root: root, session: session)
        }
    }

    func write(_ persistence: Persistence) async throws {
        if case .ledger(let ledger, let role) = self {
            do { try await ledger.write(persistence, role: role) } catch let error as SplitError { throw error } catch {
                throw SplitError.file(path: "the session ledger", reason: "\(error)")
            }
            return
        }
        switch persistence {
        case .start(let header, let checkpoint):
            guard let files = files(header.session) else { return }
            try files.writeRecord(header: header, steps: [])
            try files.writeCheckpoint(checkpoint)
        case .rewind(let header, let steps):
            try files(header.session)?.writeRecord(header: header, steps: steps)
        case .settle(let records, let checkpoint):
            guard let files = files(checkpoint.session) else { return }
            try files.appendRecords(records)
            try files.writeCheckpoint(checkpoint)
        }
    }

    /// The stored session for a server asked to resume it.
    func load(_ session: Fr) async -> Result<StoredSession?, Rejection> {
        if case .ledger(let ledger, let role) = self {
            // A damaged ledger is named to the peer; a database error stays in this process.
            do { return .success(try await ledger.load(session: session, role: role)) } catch let fault as LedgerFault {
                return .failure(.notResumable(reason: "the server's ledger: \(fault)"))
            } catch {
                return .failure(.notResumable(reason: "the server's ledger cannot be read now; try again later"))
            }
        }
        guard case .perSession = self, let files = files(session) else {
            return .failure(.notResumable(reason: "this server keeps no state"))
        }
        do { return .success(try files.readSession()) } catch let error as SplitError {
            if case .file(_, let reason) = error { return .failure(.notResumable(reason: reason)) }
            return .failure(.notResumable(reason: error.description))
        } catch {
            return .failure(.notResumable(reason: "\(error)"))
        }
    }
}
