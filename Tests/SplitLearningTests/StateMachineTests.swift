import Algebra
import Foundation
import Groth16
import NeuralNet
import SplitLearning
import SwiftProtobuf
import XCTest
import ZKML

/// The protocol's messages (SwiftProtobuf, imported for the byte-level mutations, has its own `Message`).
typealias Message = SplitLearning.Message

/// Two parties' state machines wired to each other with no socket: every message goes through
/// the wire encoding and back, proofs are real (Groth16 under the fixture's keys) or a
/// placeholder the `verdict` accepts or refuses, and the session files live in memory.
struct Harness {
    var client: ClientStateMachine
    var server: ServerStateMachine
    var realProofs = false
    /// Which placeholder proofs verify (all by default).
    var verdict: (ProofCheck) -> Bool = { _ in true }
    /// A man in the middle: edits each message on its way (by its sender), or drops it (nil).
    var wire: (Role, Message) -> Message? = { $1 }
    /// Edits the bytes of each message on its way (after `wire`).
    var bytes: (Role, [UInt8]) -> [UInt8] = { $1 }
    /// Whether a party's background proofs are ever delivered (false: a prover that never finishes).
    var deliverBackground: Set<Role> = [.client, .server]
    var stored: [Role: StoredSession] = [:]
    var endings: [Role: Ending] = [:]
    var sent: [Role: [Message]] = [.client: [], .server: []]
    var progress: [UInt64] = []
    private var inbox: [Role: [Event]] = [.client: [], .server: []]
    private var background: [Role: [ProofJob]] = [.client: [], .server: []]

    enum Event {
        case start
        case message(Message)
        case undecodable(Rejection)
        case proved(ProofJob, StepProof)
        case verified([Bool])
        case loaded(Result<StoredSession?, Rejection>)
    }

    init(client: ClientStateMachine, server: ServerStateMachine) {
        self.client = client
        self.server = server
    }

    /// A verified-, pipelined-, ledger- or plain-mode pair on the small data set.
    static func make(
        _ mode: SplitMode, steps: Int = 3, depth: Int = 2, schedule: UInt64? = 7, stopAfter: Int? = nil,
        clientAdversary: Adversary = .none, serverAdversary: Adversary = .none, serverOptions: ServerOptions? = nil,
        resuming: StoredSession? = nil, setup: SessionSetup = Fixture.setup
    ) throws -> Harness {
        var options = ClientOptions()
        options.mode = mode
        options.steps = steps
        options.pipelineDepth = depth
        options.fixedScheduleSeed = schedule
        options.stopAfterSteps = stopAfter
        options.adversary = clientAdversary
        let data = try ClientData(setup: setup, data: SmallData.train, options: options, resuming: resuming)
        var server = serverOptions ?? ServerOptions()
        if serverOptions == nil { server.allowFixedSchedule = true }
        server.adversary = serverAdversary
        return Harness(
            client: try ClientStateMachine(setup: setup, options: options, data: data),
            server: try ServerStateMachine(setup: setup, options: server))
    }

    static let placeholder = StepProof.plain(
        Proof(a: G1Affine.generator, b: G2Affine.generator, c: G1Affine.generator))

    func prove(_ job: ProofJob) -> StepProof {
        guard realProofs else { return Self.placeholder }
        let key = Fixture.keys.key(job.part)
        do {
            return .plain(
                try Groth16.proveUnchecked(
                    key: key.provingKey, r1cs: key.r1cs, witness: try job.circuit(ProofJob.Synthesis()).witness())
            )
        } catch {
            XCTFail("proving \(job.part): \(error)")
            return Self.placeholder
        }
    }

    func verify(_ check: ProofCheck) -> Bool {
        guard realProofs else { return verdict(check) }
        return check.proof.verifies(
            key: Fixture.keys.key(check.part).verifyingKey, statement: check.statement,
            link: Fixture.keys.linkVerifyingKey(for: check.part), linkedTo: check.linkedTo)
    }

    /// Runs both parties until neither has anything left to do; a party still open then sees
    /// its peer hang up (unless `hangUp` is false: the test goes on with it).
    mutating func run(hangUp: Bool = true) {
        if endings.isEmpty {
            perform(.server, deliver(.server, .start))
            perform(.client, deliver(.client, .start))
        }
        while let (role, event) = nextEvent() { perform(role, deliver(role, event)) }
        guard hangUp else { return }
        for role in [Role.client, .server] where endings[role] == nil {
            switch role {
            case .client: client.stopped()
            case .server: server.stopped()
            }
            endings[role] = .failed(.connection("the peer hung up"))
        }
    }

    private mutating func nextEvent() -> (Role, Event)? {
        for role in [Role.server, .client] where endings[role] == nil && !(inbox[role] ?? []).isEmpty {
            return (role, inbox[role]!.removeFirst())
        }
        for role in [Role.server, .client]
        where endings[role] == nil && deliverBackground.contains(role) && !(background[role] ?? []).isEmpty {
            let job = background[role]!.removeFirst()
            return (role, .proved(job, prove(job)))
        }
        return nil
    }

    mutating func deliver(_ role: Role, _ event: Event) -> [Action] {
        switch role {
        case .client: return Self.handle(&client, event)
        case .server: return Self.handle(&server, event)
        }
    }

    static func handle<Machine: PartyMachine>(_ machine: inout Machine, _ event: Event) -> [Action] {
        switch event {
        case .start: return machine.start()
        case .message(let message): return machine.receive(message)
        case .undecodable(let rejection): return machine.refuse(rejection)
        case .proved(let job, let proof): return machine.proved(job, proof, seconds: 0)
        case .verified(let results): return machine.verified(results, seconds: 0)
        case .loaded(let stored): return machine.loaded(stored)
        }
    }

    mutating func transmit(_ payload: [UInt8], from role: Role) {
        let arrived = bytes(role, payload)
        do { inbox[role.peer, default: []].append(.message(try Wire.decode(arrived))) } catch {
            inbox[role.peer, default: []].append(.undecodable(error))
        }
    }

    mutating func perform(_ role: Role, _ actions: [Action]) {
        var queue = actions
        while !queue.isEmpty, endings[role] == nil {
            switch queue.removeFirst() {
            case .send(let message):
                sent[role, default: []].append(message)
                if let edited = wire(role, message) { transmit(Wire.encode(edited), from: role) }
            case .sendRaw(let raw):
                transmit(raw, from: role)
            case .prove(let job):
                queue = deliver(role, .proved(job, prove(job))) + queue
            case .proveInBackground(let job):
                background[role, default: []].append(job)
            case .verify(let checks):
                queue = deliver(role, .verified(checks.map { verify($0) })) + queue
            case .persist(let persistence):
                stored[role] = StoredSession.applying(persistence, to: stored[role])
            case .load(let session):
                let found = stored[.server].flatMap { $0.checkpoint.session == session ? $0 : nil }
                queue = deliver(role, .loaded(.success(found))) + queue
            case .progress(let steps):
                if role == .client { progress.append(steps) }
            case .log:
                break
            case .close(let ending):
                endings[role] = ending
                inbox[role] = []
                // The transport tells the peer why it refused.
                if case .refused(.rejected(let step, let rejection)) = ending {
                    transmit(Wire.encode(.reject(Message.RejectNotice(step: step, rejection))), from: role)
                }
            }
        }
    }

    /// The rejection a party ended with, if it refused something.
    func rejection(of role: Role) -> Rejection? {
        if case .refused(let error) = endings[role] { return error.rejection }
        return nil
    }
}

final class StateMachineTests: XCTestCase {
    /// Every mode trains the same weights as plain (placeholder proofs that verify), writes
    /// every step to its record once complete, and ends with both sides finished.
    func testEveryModeTrainsTheSameWeightsWithoutSockets() throws {
        var plain = try Harness.make(.plain)
        plain.run()
        XCTAssertEqual(plain.endings[.client], .finished)
        XCTAssertEqual(plain.endings[.server], .finished)
        XCTAssertEqual(plain.progress, [1, 2, 3])
        for mode in [SplitMode.ledger, .verified, .pipelined] {
            var h = try Harness.make(mode)
            h.run()
            XCTAssertEqual(h.endings[.client], .finished, "\(mode)")
            XCTAssertEqual(h.endings[.server], .finished, "\(mode)")
            XCTAssertEqual(h.client.layer, plain.client.layer, "\(mode)")
            XCTAssertEqual(h.server.layer, plain.server.layer, "\(mode)")
            XCTAssertEqual(h.client.summary.keptSteps, 3)
            XCTAssertEqual(h.server.summary.keptSteps, 3)
            XCTAssertEqual(h.client.summary.transcriptHead, h.server.summary.transcriptHead)
            for role in [Role.client, .server] {
                let records = try XCTUnwrap(h.stored[role]).steps
                XCTAssertEqual(records.map(\.step), [0, 1, 2], "\(mode) \(role)")
                XCTAssertEqual(records.allSatisfy { $0.updateProof != nil && $0.serverProof != nil }, mode.usesProofs)
                XCTAssertTrue(records.allSatisfy { $0.clientWeightsAfter != nil })
            }
        }
    }

    /// With real proofs, both modes with proofs finish and each side's record re-verifies offline.
    func testRealProofsAndTheRecordsReverify() throws {
        for mode in [SplitMode.verified, .pipelined] {
            var h = try Harness.make(mode, steps: 2, schedule: nil)
            h.realProofs = true
            h.run()
            XCTAssertEqual(h.endings[.client], .finished, "\(mode)")
            XCTAssertEqual(h.endings[.server], .finished, "\(mode)")
            for role in [Role.client, .server] {
                let stored = try XCTUnwrap(h.stored[role])
                XCTAssertEqual(stored.header.role, role)
                let report = try RecordVerifier.verify(
                    header: stored.header, steps: stored.steps, spec: Fixture.spec,
                    specHash: Fixture.setup.specHash, keys: Fixture.keys)
                XCTAssertEqual(report.proofsChecked, 6)
                XCTAssertEqual(report.transcriptHead, h.client.summary.transcriptHead)
            }
        }
    }

    /// Pipelined rollback: a server proof that fails at step 1 ends the session with the client
    /// at the state of step 1 (the last verified), whatever it trained beyond; and a client
    /// proof that fails rolls the server back the same way.
    func testPipelinedRollbackKeepsOnlyVerifiedSteps() throws {
        var honest = try Harness.make(.plain, steps: 1)
        honest.run()
        for (role, part) in [(Role.client, CircuitSpec.Part.server), (.server, .client)] {
            var h = try Harness.make(.pipelined, steps: 4, depth: 3)
            // The peer's proof for step 1 fails; its later steps went ahead on the pipeline.
            h.verdict = { !($0.part == part && Self.step(of: $0) == Fr(1)) }
            h.run()
            XCTAssertEqual(h.rejection(of: role), .proofInvalid(part), "\(role)")
            XCTAssertEqual(role == .client ? h.client.summary.keptSteps : h.server.summary.keptSteps, 1, "\(role)")
            if role == .client {
                XCTAssertEqual(h.client.layer, honest.client.layer)
            } else {
                XCTAssertEqual(h.server.layer, honest.server.layer)
            }
        }
    }

    /// The step a statement is for (`ZKML.StepStatement`'s order): forward [leaf, cW, A, session,
    /// step, ...], server step [G, before, after, session, step, ...], update [leaf, A, before,
    /// after, session, step, ...].
    static func step(of check: ProofCheck) -> Fr {
        let cut = Fixture.spec.cutWidth
        return check.statement[check.part == .clientUpdate ? cut + 4 : cut + 3]
    }

    /// A client interrupted after 2 steps resumes (both sides from their stored sessions) to
    /// the weights of an uninterrupted run; the resumed records re-verify from the first step.
    func testResumeAfterAnInterruptionReachesTheSameWeights() throws {
        for mode in [SplitMode.ledger, .verified] {
            var whole = try Harness.make(mode, steps: 4)
            whole.run()
            var first = try Harness.make(mode, steps: 4, stopAfter: 2)
            first.run()
            XCTAssertEqual(first.endings[.client], .interrupted)
            XCTAssertEqual(first.client.summary.keptSteps, 2)
            var resumed = try Harness.make(mode, steps: 4, resuming: first.stored[.client])
            resumed.stored = first.stored
            resumed.run()
            XCTAssertEqual(resumed.endings[.client], .finished, "\(mode)")
            XCTAssertEqual(resumed.endings[.server], .finished, "\(mode)")
            XCTAssertEqual(resumed.client.layer, whole.client.layer, "\(mode)")
            XCTAssertEqual(resumed.server.layer, whole.server.layer, "\(mode)")
            let record = try XCTUnwrap(resumed.stored[.client])
            XCTAssertEqual(record.steps.map(\.step), [0, 1, 2, 3])
            if mode == .ledger {
                // A ledger record is evidence against the peer's: checked against the server's record.
                let server = try XCTUnwrap(resumed.stored[.server])
                let report = try RecordVerifier.verify(
                    header: record.header, steps: record.steps, spec: Fixture.spec,
                    specHash: Fixture.setup.specHash, keys: nil,
                    anchor: .peerRecord(header: server.header, steps: server.steps))
                XCTAssertEqual(report.anchor, .peerRecord)
                XCTAssertEqual(report.transcriptHead, resumed.client.summary.transcriptHead)
            }
        }
    }

    /// Every case of `Rejection` is reachable: each scenario plays one dishonest or broken peer
    /// (or record) against an honest machine, which must refuse with exactly that case.
    func testEveryRejectionIsReachable() throws {
        var reached = Set<String>()
        func expect(_ expected: Rejection, _ got: Rejection?, _ note: String = "", line: UInt = #line) {
            XCTAssertEqual(got, expected, note, line: line)
            if got == expected { reached.insert(expected.kind) }
        }
        // The server refusing a Hello.
        func hello(
            _ mode: SplitMode, options: ServerOptions? = nil, fixed: Bool = true, _ edit: (inout Message.Hello) -> Void
        ) throws -> Rejection? {
            var h = try Harness.make(mode, schedule: fixed ? 7 : nil, serverOptions: options)
            guard case .send(.hello(var message))? = h.client.start().first else {
                XCTFail("no Hello")
                return nil
            }
            edit(&message)
            return Self.refusal(h.server.receive(.hello(message)))
        }
        expect(.protocolVersion(got: 2, expected: 1), try hello(.plain) { $0.protocolVersion = 2 })
        expect(
            .unknownMode(code: 9),
            try hello(.plain) {
                $0.mode = nil
                $0.modeCode = 9
            })
        var plainOnly = ServerOptions()
        plainOnly.modes = [.plain]
        plainOnly.allowFixedSchedule = true
        expect(.modeNotServed(mode: .ledger, served: [.plain]), try hello(.ledger, options: plainOnly) { _ in })
        expect(.specMismatch, try hello(.plain) { $0.specHash[0] ^= 1 })
        expect(.keyMismatch, try hello(.verified) { $0.verifyingKeyHashes[1][0] ^= 1 })
        expect(.parameterMismatch(name: "batch size", got: 2, expected: 1), try hello(.plain) { $0.batchSize = 2 })
        expect(.pipelineTooDeep(requested: 17, limit: 16), try hello(.pipelined) { $0.pipelineDepth = 17 })
        expect(.tooManySteps(requested: 10_000_001, limit: 10_000_000), try hello(.plain) { $0.steps = 10_000_001 })
        expect(.nonceLength(of: .client), try hello(.plain) { $0.clientNonce = [1] })
        expect(.datasetSize(size: 0, depth: 12), try hello(.plain) { $0.dataset.size = 0 })
        expect(.fixedScheduleRefused, try hello(.plain, options: ServerOptions()) { _ in })
        expect(.scheduleCommitmentLength, try hello(.plain, fixed: false) { $0.dataset.scheduleCommitment = [1] })
        expect(.missing(.clientCommitment), try hello(.ledger) { $0.clientCommitment = nil })
        expect(
            .notResumable(
                reason: "unknown session \(Hex32.encode(Fr(5).littleEndianBytes()).prefix(16)); start a new one"),
            try {
                var h = try Harness.make(.plain)
                h.wire = { role, m in
                    guard role == .client, case .hello(var hello) = m else { return m }
                    hello.resume = Message.Resume(session: Fr(5), step: 1)
                    return .hello(hello)
                }
                h.run()
                return h.rejection(of: .server)
            }())
        expect(
            .expectedMessage(expected: "Hello", got: "Finish"),
            try {
                var h = try Harness.make(.plain)
                return Self.refusal(h.server.receive(.finish(Message.Finish(steps: 0, transcriptHead: []))))
            }())

        // The client refusing a Welcome.
        func welcome(
            _ mode: SplitMode, resuming: StoredSession? = nil, _ edit: (inout Message.Welcome) -> Void
        ) throws -> Rejection? {
            var h = try Harness.make(mode, resuming: resuming)
            guard case .send(.hello(let message))? = h.client.start().first else {
                XCTFail("no Hello")
                return nil
            }
            var fresh = try Harness.make(mode)
            guard
                let reply = fresh.server.receive(.hello(Self.fresh(message))).compactMap({ action -> Message.Welcome? in
                    if case .send(.welcome(let w)) = action { return w }
                    return nil
                }).first
            else {
                XCTFail("no Welcome")
                return nil
            }
            var edited = reply
            edited.session = resuming?.checkpoint.session ?? edited.session
            edit(&edited)
            return Self.refusal(h.client.receive(.welcome(edited)))
        }
        expect(.sessionIDMismatch, try welcome(.plain) { $0.session = $0.session + Fr(1) })
        expect(.nonzeroStart(3), try welcome(.plain) { $0.startStep = 3 })
        expect(.nonceLength(of: .server), try welcome(.plain) { $0.serverNonce = [1] })
        expect(
            .expectedMessage(expected: "Welcome", got: "Gradient"),
            try {
                var h = try Harness.make(.plain)
                _ = h.client.start()
                return Self.refusal(h.client.receive(.gradient(Message.Gradient(step: 0, session: nil, values: []))))
            }())
        // Resume: a session interrupted after 2 steps (ledger).
        var interrupted = try Harness.make(.ledger, steps: 4, stopAfter: 2)
        interrupted.run()
        let stored = try XCTUnwrap(interrupted.stored[.client])
        expect(.foreignSession, try welcome(.ledger, resuming: stored) { $0.session = $0.session + Fr(1) })
        expect(.resumeBeyond(server: 3, client: 2), try welcome(.ledger, resuming: stored) { $0.startStep = 3 })
        var shortCheckpoint = stored
        shortCheckpoint.checkpoint.snapshots.removeAll { $0.steps == 1 }
        expect(.snapshotMissing(step: 1), try welcome(.ledger, resuming: shortCheckpoint) { $0.startStep = 1 })
        expect(
            .chainBroken(.server),
            try welcome(.ledger, resuming: stored) {
                $0.startStep = 2
                $0.serverCommitment = Fr(424_242)
            })
        expect(.missing(.serverCommitment), try welcome(.ledger) { $0.serverCommitment = nil })
        var otherData = stored
        otherData.header.datasetSize += 1
        expect(.datasetChanged, try welcome(.ledger, resuming: otherData) { $0.startStep = 2 })
        // The server refusing a resume for another dataset than the session committed.
        expect(
            .datasetChanged,
            try {
                var h = try Harness.make(.ledger, steps: 4, resuming: stored)
                var serverSide = try XCTUnwrap(interrupted.stored[.server])
                serverSide.header.datasetSize += 1
                h.stored = [.server: serverSide]
                h.run()
                return h.rejection(of: .server)
            }())
        // A resumed verified session whose client finishes at once: the update of the last
        // settled step cannot be checked any more.
        expect(
            .noRecord(step: 1),
            try {
                // The server finished, but its acknowledgement never reached the client, which
                // resumes at the end and finishes again.
                var first = try Harness.make(.verified, steps: 2)
                first.wire = { role, m in
                    if role == .server, case .finish = m { return nil }
                    return m
                }
                first.run()
                XCTAssertEqual(first.endings[.server], .finished)
                var h = try Harness.make(.verified, steps: 2, resuming: first.stored[.client])
                h.stored = first.stored
                h.run()
                return h.rejection(of: .server)
            }())

        // The server refusing a step's activations (step 1, after an honest step 0).
        func activations(
            _ mode: SplitMode, at step: UInt64 = 1, fixed: Bool = true, verdict: ((ProofCheck) -> Bool)? = nil,
            _ edit: @escaping (inout Message.Activations) -> Void
        ) throws -> Rejection? {
            var h = try Harness.make(mode, schedule: fixed ? 7 : nil)
            if let verdict { h.verdict = verdict }
            h.wire = { role, m in
                guard role == .client, case .activations(var a) = m, a.step == step else { return m }
                edit(&a)
                return .activations(a)
            }
            h.run()
            return h.rejection(of: .server)
        }
        expect(.wrongStep(expected: 1, got: 5), try activations(.plain) { $0.step = 5 })
        expect(.wrongSession, try activations(.plain) { $0.session = Fr(3) })
        expect(.wrongSize(.activations, expected: 16, got: 15), try activations(.plain) { $0.values.removeLast() })
        expect(.outOfRange(.activations, index: 0, bits: 24), try activations(.plain) { $0.values[0] = -1 })
        expect(.labelOutOfRange(label: 10, classes: 10), try activations(.plain) { $0.samples[0].label = 10 })
        var scheduled = 0
        let wrongIndex = try activations(.plain) {
            scheduled = $0.samples[0].index
            $0.samples[0].index = ($0.samples[0].index + 1) % 16
        }
        expect(.wrongSampleIndex(expected: scheduled, got: (scheduled + 1) % 16), wrongIndex)
        expect(.scheduleSecretDoesNotOpen, try activations(.plain, at: 0, fixed: false) { $0.scheduleSecret?[0] ^= 1 })
        // A batch's sample whose Merkle path does not reach the announced root (the batched
        // forward proof binds values to leaves; the opening is the verifier's, natively).
        var offPath = 0
        let notInDataset = try {
            var h = try Harness.make(.ledger, setup: BatchedFixture.setup)
            h.wire = { role, m in
                guard role == .client, case .activations(var a) = m, a.step == 1 else { return m }
                offPath = a.samples[1].index
                a.samples[1].siblings[0] += .one
                return .activations(a)
            }
            h.run()
            return h.rejection(of: .server)
        }()
        expect(.notInDataset(sample: 1, index: offPath), notInDataset)
        expect(.doesNotOpen(.activations), try activations(.ledger) { $0.values[0] += 1 })
        // The message commitment packs ten 24-bit values per field element, so a value moved by
        // 2^24 packs (and commits) exactly like the honest one: the range check refuses it first.
        expect(.outOfRange(.activations, index: 0, bits: 24), try activations(.ledger) { $0.values[0] += 1 << 24 })
        expect(
            .transcriptLink(.activations),
            try activations(.ledger) { $0.previousLink = [UInt8](repeating: 0, count: 32) })
        expect(.chainBroken(.client), try activations(.ledger, at: 0) { $0.weightsCommitment = Fr(1) })
        expect(.missing(.activationSalt), try activations(.ledger) { $0.salt = nil })
        expect(.missing(.sampleLeaf), try activations(.ledger) { $0.samples[0].leaf = nil })
        expect(.proofMissing(.client), try activations(.verified) { $0.forwardProof = nil })
        expect(.proofMissing(.clientUpdate), try activations(.verified) { $0.previousUpdateProof = nil })
        expect(.proofInvalid(.client), try activations(.verified, verdict: { $0.part != .client }) { _ in })
        expect(.proofInvalid(.clientUpdate), try activations(.verified, verdict: { $0.part != .clientUpdate }) { _ in })
        expect(
            .unexpectedMessage("Welcome"),
            try {
                var h = try Harness.make(.plain)
                h.wire = { role, m in
                    guard role == .client, case .activations(let a) = m, a.step == 1 else { return m }
                    return .welcome(Message.Welcome(session: Fr(1)))
                }
                h.run()
                return h.rejection(of: .server)
            }())
        expect(
            .beyondAgreedSteps(step: 1, agreed: 1),
            try {
                var h = try Harness.make(.plain, steps: 1)
                var last: Message.Activations?
                h.wire = { role, m in
                    guard role == .client else { return m }
                    if case .activations(let a) = m { last = a }
                    if case .finish = m, var again = last {
                        again.step = 1
                        return .activations(again)
                    }
                    return m
                }
                h.run()
                return h.rejection(of: .server)
            }())
        expect(
            .finishStep(client: 7, server: 3),
            try {
                var h = try Harness.make(.plain)
                h.wire = { role, m in
                    guard role == .client, case .finish(var f) = m else { return m }
                    f.steps = 7
                    return .finish(f)
                }
                h.run()
                return h.rejection(of: .server)
            }())
        for role in [Role.server, .client] {
            // The client's Finish (server refuses) or the server's acknowledgement (client refuses).
            expect(
                .transcriptHead,
                try {
                    var h = try Harness.make(.plain)
                    h.wire = { sender, m in
                        guard sender == role.peer, case .finish(var f) = m else { return m }
                        f.transcriptHead[0] ^= 1
                        return .finish(f)
                    }
                    h.run()
                    return h.rejection(of: role)
                }(), "\(role)")
        }
        // Bytes that do not decode: a garbage frame (the client adversary), a field element
        // that is not canonical.
        guard
            case .malformedFrame? = try {
                var h = try Harness.make(.plain, clientAdversary: .garbageFrame)
                h.run()
                return h.rejection(of: .server)
            }()
        else { return XCTFail("garbage frame") }
        reached.insert("malformedFrame")
        let malformed: Rejection? = try {
            var h = try Harness.make(.ledger)
            h.bytes = { role, payload in
                guard role == .client, var envelope = try? Verisplit_Split_V1_Envelope(serializedBytes: payload),
                    case .activations(var a)? = envelope.body
                else { return payload }
                a.salt = Data(repeating: 0xff, count: 32)
                envelope.body = .activations(a)
                return (try? envelope.serializedBytes()) ?? payload
            }
            h.run()
            return h.rejection(of: .server)
        }()
        guard case .malformedField(let field, _)? = malformed, field == "Activations.salt" else {
            return XCTFail("\(malformed as Any)")
        }
        reached.insert("malformedField")

        // The client refusing a gradient (step 1).
        func gradient(
            _ mode: SplitMode, verdict: ((ProofCheck) -> Bool)? = nil,
            _ edit: @escaping (inout Message.Gradient) -> Void
        ) throws -> Rejection? {
            var h = try Harness.make(mode)
            if let verdict { h.verdict = verdict }
            h.wire = { role, m in
                guard role == .server, case .gradient(var g) = m, g.step == 1 else { return m }
                edit(&g)
                return .gradient(g)
            }
            h.run()
            return h.rejection(of: .client)
        }
        expect(.wrongStep(expected: 1, got: 9), try gradient(.plain) { $0.step = 9 })
        expect(.wrongSession, try gradient(.plain) { $0.session = nil })
        expect(.wrongSize(.gradient, expected: 16, got: 17), try gradient(.plain) { $0.values.append(0) })
        expect(.outOfRange(.gradient, index: 0, bits: 24), try gradient(.plain) { $0.values[0] = .min })
        expect(.doesNotOpen(.gradient), try gradient(.ledger) { $0.values[0] += 1 })
        expect(.outOfRange(.gradient, index: 0, bits: 24), try gradient(.ledger) { $0.values[0] -= 1 << 24 })
        expect(.transcriptLink(.gradient), try gradient(.ledger) { $0.previousLink = nil })
        expect(.chainBroken(.server), try gradient(.ledger) { $0.weightsBefore = Fr(1) })
        expect(.missing(.gradientSalt), try gradient(.ledger) { $0.salt = nil })
        expect(.proofMissing(.server), try gradient(.verified) { $0.proof = nil })
        expect(.proofInvalid(.server), try gradient(.verified, verdict: { $0.part != .server }) { _ in })

        // Deferred proofs.
        expect(
            .unexpectedProof(step: 5),
            try {
                var h = try Harness.make(.pipelined)
                h.wire = { role, m in
                    guard role == .server, case .proof(var bundle) = m else { return m }
                    bundle.step = 5
                    return .proof(bundle)
                }
                h.run()
                return h.rejection(of: .client)
            }())
        expect(
            .pipelineOverrun,
            try {
                var h = try Harness.make(.pipelined, depth: 2)
                guard case .send(.hello(let message))? = h.client.start().first else { return nil }
                _ = h.server.receive(.hello(message))
                let ahead = Message.Activations(step: 3, session: nil, values: [], samples: [])
                XCTAssertTrue(
                    h.server.receive(.activations(ahead)).isEmpty, "the first is kept until the window catches up")
                return Self.refusal(h.server.receive(.activations(ahead)))
            }())
        expect(
            .unproven(steps: [0, 1, 2]),
            try {
                // The client's prover never finishes: the server holds back at the window, and a
                // Finish then leaves steps unproven.
                var h = try Harness.make(.pipelined, steps: 5, depth: 2)
                h.deliverBackground = [.server]
                h.run(hangUp: false)
                XCTAssertEqual(h.server.step, 3)
                let head = try XCTUnwrap(h.server.summary.transcriptHead).bytes
                XCTAssertNil(h.endings[.server])
                var finish = Message.Finish(steps: 3, transcriptHead: head)
                finish.clientCommitment = Fr(1)
                return Self.refusal(h.server.receive(.finish(finish)))
            }())

        // StepChecks and records: a step before the schedule secret was revealed, a step with
        // more samples than the spec's batch (the wire carries one; a record could hold more).
        let record = try XCTUnwrap(interrupted.stored[.client]?.steps.last)
        let coinToss = DatasetAnnouncement(
            root: .zero, size: 16, scheduleCommitment: [UInt8](repeating: 1, count: 32), fixedScheduleSeed: nil)
        func check(_ announcement: DatasetAnnouncement, _ record: StepRecord) -> Rejection? {
            var checks = StepChecks(spec: Fixture.spec, session: Fr(9), announcement: announcement, commitments: false)
            do { _ = try checks.activations(record, clientChain: nil) } catch { return error }
            return nil
        }
        expect(.noSchedule, check(coinToss, record))
        var twoSamples = record
        twoSamples.samples.append(record.samples[0])
        expect(
            .wrongSampleCount(expected: 1, got: 2),
            check(try XCTUnwrap(interrupted.stored[.client]).header.announcement, twoSamples))
        let steps = try XCTUnwrap(interrupted.stored[.client]).steps
        let header = try XCTUnwrap(interrupted.stored[.client]).header
        // The update's statement refuses a gradient outside the B-bit range on its own (the
        // batched update circuit's packed Freivalds check is exact only inside it).
        var extreme = record
        extreme.gradient[0] = 1 << 24
        func checkUpdate(_ record: StepRecord) -> Rejection? {
            let checks = StepChecks(
                spec: Fixture.spec, session: Fr(9), announcement: header.announcement, commitments: true)
            do { _ = try checks.update(record) } catch { return error }
            return nil
        }
        XCTAssertNil(checkUpdate(record))
        expect(.outOfRange(.gradient, index: 0, bits: 24), checkUpdate(extreme))
        for bad in [-(Int64(1) << 24), Int64.min, Int64(1) << 23] {
            extreme.gradient[0] = bad
            XCTAssertEqual(checkUpdate(extreme), .outOfRange(.gradient, index: 0, bits: 24), "\(bad)")
        }
        let peer = try XCTUnwrap(interrupted.stored[.server])
        func verify(_ header: RecordHeader, _ steps: [StepRecord], peerHeader: RecordHeader? = nil) -> Rejection? {
            do {
                _ = try RecordVerifier.verify(
                    header: header, steps: steps, spec: Fixture.spec, specHash: Fixture.setup.specHash, keys: nil,
                    anchor: .peerRecord(header: peerHeader ?? peer.header, steps: peer.steps))
            } catch {
                return error.rejection
            }
            return nil
        }
        XCTAssertNil(verify(header, steps))
        var otherLeaf = steps
        otherLeaf[0].samples[0].leaf = Fr(12345)
        expect(.peerRecordDiffers("transcript from step 0 on"), verify(header, otherLeaf))
        expect(.outOfOrder(line: 2, step: 1), verify(header, Array(steps.reversed())))
        var rootless = header
        rootless.datasetRoot = nil
        var rootlessPeer = peer.header
        rootlessPeer.datasetRoot = nil
        expect(.malformedHeader("dataset root"), verify(rootless, steps, peerHeader: rootlessPeer))

        let missing = Set(Rejection.allKinds).subtracting(reached)
        XCTAssertTrue(missing.isEmpty, "rejections no scenario reached: \(missing.sorted())")
    }

    /// The refusal among a machine's actions.
    static func refusal(_ actions: [Action]) -> Rejection? {
        for case .close(.refused(let error)) in actions { return error.rejection }
        return nil
    }

    /// A Hello as a new session's (no resume).
    static func fresh(_ hello: Message.Hello) -> Message.Hello {
        var copy = hello
        copy.resume = nil
        return copy
    }
}

extension Fr {
    /// Above 2^64: a hash or a commitment rather than a step or an index.
    var isLarge: Bool { littleEndianBytes()[8...].contains { $0 != 0 } }
}

/// The verifying-key hash the handshake compares and records pin, against an independent
/// computation (Python's hashlib over the documented layout, run once): a plain key (the snarkjs
/// fixture `square64`) hashes as it always has, and a commitment appends its tag, its
/// committed-wire count and sigma.
final class VerifyingKeyHashTests: XCTestCase {
    static let square64 = #"""
        {"IC":[["5428952678850737876801398950695535482150726512287655921958178808237809285575","7898089097978425660308868247607967318256598961702541051707441740680697423301","1"],["10383268650386612618689695295384190842235360226469321331815348673775106674221","4087124271744108433073725037276805784772087288642539731632382511484482408686","1"],["4129846810886102508641172130951641711044287500227766723205239917712634941784","18564109979986103955325062462511377861627264175779640584903379343670253457943","1"],["19609097652045877835676807952766428007316629434190911502684332119131139858533","15189674044781162635088940030136327182003365705051720034901085364140618380473","1"]],"curve":"bn128","nPublic":3,"protocol":"groth16","vk_alpha_1":["19527346062548096989595948704398979837845770434559581279916574345258068821573","2422523666146770504411511136928620513579361129244252802379647550370406744904","1"],"vk_beta_2":[["11769173902437719253348647539302552578366075220966961273725535023514950106370","775476256377506702717478410063094436228353011166361531129226797954218214657"],["3203069507975779288164777626814876380490843158102784192906316407222698321780","7814713309273341019291271891072686300869253137043707132635454369678170541763"],["1","0"]],"vk_delta_2":[["12091179762699058366053060085377346898469896440393502766767739029511360922153","13402444994973595577344374181385506628362387324564036733725008902355193015981"],["12581921409049807574506132934262922091341271639675476704293002743391315095819","15401985420202676438626736355377562269003584454206497234619141048910523809755"],["1","0"]],"vk_gamma_2":[["12279259592981620398690352254793391543417487754295881895402384026011524034455","15811142199112711433604925726972420444392398409628099487124062752745874002113"],["13930497895657225526552658591525183895790848395054992448008805918741855641123","6369432058293854379442456151373876406803693898622723163999058055820211057135"],["1","0"]]}
        """#

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testTheHashMatchesAnIndependentComputation() throws {
        var vk = try SnarkjsJSON.verifyingKey(Data(Self.square64.utf8))
        XCTAssertEqual(hex(PartKey.hash(vk)), "288bd849ebd7cf43516499e6c430e7eb122cab957d52dbd4821e5a208b2a1eb4")
        vk.commitment = CommitmentVerifyingKey(committedWires: 5, sigma: vk.delta)
        XCTAssertEqual(hex(PartKey.hash(vk)), "ffcd94c8a80be4fe1bd3bc008f651a607c940d76e792c7c61c0f143a17304eda")
        vk.commitment?.committedWires = 6
        XCTAssertNotEqual(hex(PartKey.hash(vk)), "ffcd94c8a80be4fe1bd3bc008f651a607c940d76e792c7c61c0f143a17304eda")
    }
}
