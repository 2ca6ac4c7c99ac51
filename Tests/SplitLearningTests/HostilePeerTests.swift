import Algebra
import Foundation
import NIOCore
import NeuralNet
import SplitLearning
import SwiftProtobuf
import XCTest
import ZKML

typealias Envelope = Verisplit_Split_V1_Envelope

/// A scripted peer on a real socket: it reads the honest party's frames and answers with
/// whatever the test dictates, as a dishonest server or client would.
enum ScriptedPeer {
    static func write(_ body: Envelope.OneOf_Body, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws
    {
        var envelope = Envelope()
        envelope.body = body
        let bytes: [UInt8] = try envelope.serializedBytes()
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    static func read(
        _ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> Envelope.OneOf_Body? {
        guard let buffer = try await iterator.next() else { return nil }
        return try Envelope(serializedBytes: Array(buffer.readableBytesView)).body
    }

    /// The session id an honest server derives for `hello` with `serverNonce`.
    static func sessionID(_ hello: Verisplit_Split_V1_Hello, serverNonce: Data, mode: SplitMode) throws -> Fr {
        let announcement = DatasetAnnouncement(
            root: try Fr(littleEndian: Array(hello.datasetRoot)), size: hello.datasetSize,
            scheduleCommitment: hello.fixedSchedule ? [] : Array(hello.scheduleCommitment),
            fixedScheduleSeed: hello.fixedSchedule ? hello.fixedScheduleSeed : nil)
        return SessionID.derive(
            clientNonce: Array(hello.clientNonce), serverNonce: Array(serverNonce), specHash: Array(hello.specHash),
            keyHashes: hello.verifyingKeyHashes.map { Array($0) }, mode: mode, dataset: announcement)
    }

    /// Serves one connection with `script` (which gets the channel's two halves).
    static func serve(
        _ script:
            @escaping @Sendable (
                inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                NIOAsyncChannelOutboundWriter<ByteBuffer>
            ) async throws -> Void
    )
        async throws -> (Listener, Task<Void, Error>)
    {
        let listener = try await Listener.bind(host: "127.0.0.1", port: 0, tls: nil)
        let task = Task {
            try await listener.serve(maxConnections: 1) { channel in
                try? await channel.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    try await script(&iterator, outbound)
                }
            }
        }
        return (listener, task)
    }
}

/// Small data for sessions against scripted peers (the dataset commitment is per session).
enum SmallData {
    static let train: Dataset = Fixture.data.train.subset(Array(0..<16))
}

final class HostilePeerTests: XCTestCase {
    func runClient(
        _ mode: SplitMode, port: Int, state: URL? = nil, resume: Bool = false, stopAfter: Int? = nil,
        steps: Int = 2
    ) async throws -> SessionOutcome {
        var options = ClientOptions()
        options.mode = mode
        options.steps = steps
        options.stateDirectory = state
        options.resume = resume
        options.stopAfterSteps = stopAfter
        options.fixedScheduleSeed = 5
        let client = SplitClient(setup: Fixture.setup, data: SmallData.train, options: options)
        return await client.run(over: try await Connector.connect(host: "127.0.0.1", port: port, tls: nil)).outcome
    }

    /// Finding 6: the client recomputes the session id from both nonces and refuses another one,
    /// and a new session must start at step 0.
    func testClientRefusesAForeignSessionIdAndANonzeroStart() async throws {
        for variant in ["foreign id", "start 3"] {
            let (listener, task) = try await ScriptedPeer.serve { inbound, outbound in
                guard case .hello(let hello)? = try await ScriptedPeer.read(&inbound) else { return }
                let nonce = Data(repeating: 9, count: 32)
                var welcome = Verisplit_Split_V1_Welcome()
                welcome.serverNonce = nonce
                let honest = try ScriptedPeer.sessionID(hello, serverNonce: nonce, mode: .plain)
                welcome.sessionID = Data((variant == "foreign id" ? honest + .one : honest).littleEndianBytes())
                welcome.startStep = variant == "start 3" ? 3 : 0
                welcome.serverCommitment = Data(Fr.zero.littleEndianBytes())
                try await ScriptedPeer.write(.welcome(welcome), to: outbound)
                while try await ScriptedPeer.read(&inbound) != nil {}
            }
            let outcome = try await runClient(.plain, port: listener.port)
            XCTAssertEqual(outcome.completedSteps, 0, variant)
            XCTAssertEqual(
                outcome.rejection, variant == "foreign id" ? .sessionIDMismatch : .nonzeroStart(3),
                "\(variant): \(outcome.reason ?? "-")")
            task.cancel()
            await listener.close()
        }
    }

    /// Finding 5: on resume the server's commitment must continue the chain the client kept, and
    /// the server may not resume beyond the client's settled steps.
    func testResumeRefusesABrokenServerChainOrAStepBeyondTheClients() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        // A real ledger session, interrupted after 2 steps.
        var c = LocalRunConfiguration()
        c.mode = .ledger
        c.steps = 4
        c.fixedScheduleSeed = 5
        c.stateDirectory = state
        c.stopClientAfter = 2
        _ = try await LocalRun.run(setup: Fixture.setup, train: SmallData.train, test: nil, configuration: c)
        let checkpoint = try JSONDecoder().decode(
            Checkpoint.self, from: Data(contentsOf: state.appendingPathComponent("client/checkpoint.json")))
        let settled = try XCTUnwrap(checkpoint.snapshots.last?.steps)
        XCTAssertEqual(settled, 2)
        let session = checkpoint.session.littleEndianBytes()
        for variant in ["broken chain", "beyond"] {
            let (listener, task) = try await ScriptedPeer.serve { inbound, outbound in
                guard case .hello? = try await ScriptedPeer.read(&inbound) else { return }
                var welcome = Verisplit_Split_V1_Welcome()
                welcome.sessionID = Data(session)
                welcome.startStep = variant == "beyond" ? settled + 1 : settled
                welcome.serverCommitment = Data(Fr(UInt64(424_242)).littleEndianBytes())
                try await ScriptedPeer.write(.welcome(welcome), to: outbound)
                while try await ScriptedPeer.read(&inbound) != nil {}
            }
            var options = ClientOptions()
            options.mode = .ledger
            options.steps = 4
            options.stateDirectory = state.appendingPathComponent("client")
            options.resume = true
            options.fixedScheduleSeed = 5
            let client = SplitClient(setup: Fixture.setup, data: SmallData.train, options: options)
            let outcome = await client.run(
                over: try await Connector.connect(host: "127.0.0.1", port: listener.port, tls: nil)
            ).outcome
            XCTAssertEqual(
                outcome.rejection,
                variant == "beyond" ? .resumeBeyond(server: settled + 1, client: settled) : .chainBroken(.server),
                "\(variant): \(outcome.reason ?? "-")")
            task.cancel()
            await listener.close()
        }
    }

    /// A checkpoint whose weights are one short or far too long (issue 24) is an error on
    /// resume, on either side, never a trap in the layer's initializer.
    func testResumeFromACheckpointOfTheWrongShapeIsAnError() async throws {
        for (side, change) in [("client", -1), ("client", 5000), ("server", -1)] {
            let state = Fixture.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: state) }
            var c = LocalRunConfiguration()
            c.mode = .ledger
            c.steps = 3
            c.fixedScheduleSeed = 5
            c.stateDirectory = state
            c.stopClientAfter = 1
            _ = try await LocalRun.run(setup: Fixture.setup, train: SmallData.train, test: nil, configuration: c)
            let directory =
                side == "client"
                ? state.appendingPathComponent("client")
                : try XCTUnwrap(
                    FileManager.default.enumerator(
                        at: state.appendingPathComponent("server"), includingPropertiesForKeys: nil)?
                        .compactMap { $0 as? URL }.first { $0.lastPathComponent == "checkpoint.json" }?
                        .deletingLastPathComponent())
            let url = directory.appendingPathComponent("checkpoint.json")
            var checkpoint = try JSONDecoder().decode(Checkpoint.self, from: Data(contentsOf: url))
            for i in checkpoint.snapshots.indices {
                if change < 0 {
                    checkpoint.snapshots[i].weights.removeLast()
                } else {
                    checkpoint.snapshots[i].weights += [Int64](repeating: 1, count: change)
                }
            }
            try JSONEncoder().encode(checkpoint).write(to: url)
            c.resume = true
            c.stopClientAfter = nil
            let resumed = try await LocalRun.run(
                setup: Fixture.setup, train: SmallData.train, test: nil, configuration: c)
            XCTAssertNotNil(resumed.report.reason, "\(side) \(change)")
            XCTAssertLessThan(resumed.report.stepsCompleted, 3)
            // The typed error names the snapshot, its shape and the spec's (the server tells the
            // client the same without its file name).
            let shapes = checkpoint.snapshots.map {
                SplitError.snapshotShape(
                    path: side == "client" ? url.path : "checkpoint", step: $0.steps, weights: $0.weights.count,
                    bias: $0.bias.count, expectedWeights: $0.weights.count - change, expectedBias: $0.bias.count)
            }
            if side == "server" {
                let refusals = shapes.map { Rejection.notResumable(reason: $0.detail) }
                XCTAssertTrue(
                    refusals.contains { $0 == resumed.report.rejection }, "\(resumed.report.rejection as Any)")
            } else {
                XCTAssertTrue(shapes.contains { $0 == resumed.report.error }, "\(resumed.report.error as Any)")
            }
        }
    }

    /// Finding 7: no gradient a server sends traps the client. A scripted server completes the
    /// handshake honestly, then answers the first activations with a mutated gradient message.
    func testClientSurvivesMutatedGradients() async throws {
        var generator = SeededGenerator(seed: 11)
        for mode in [SplitMode.plain, .ledger] {
            for round in 0..<40 {
                let seed = generator.next()
                let (listener, task) = try await ScriptedPeer.serve { inbound, outbound in
                    guard case .hello(let hello)? = try await ScriptedPeer.read(&inbound) else { return }
                    let nonce = Data(repeating: 3, count: 32)
                    let session = try ScriptedPeer.sessionID(hello, serverNonce: nonce, mode: mode)
                    var welcome = Verisplit_Split_V1_Welcome()
                    welcome.serverNonce = nonce
                    welcome.sessionID = Data(session.littleEndianBytes())
                    welcome.serverCommitment = Data(Fr(UInt64(5)).littleEndianBytes())
                    try await ScriptedPeer.write(.welcome(welcome), to: outbound)
                    guard case .activations(let a)? = try await ScriptedPeer.read(&inbound) else { return }
                    var rng = SeededGenerator(seed: seed)
                    try await ScriptedPeer.write(
                        .gradient(Mutations.gradient(for: a, session: welcome.sessionID, &rng)), to: outbound)
                    // One answer (a rejection, or the next message if the mutation happened to be
                    // valid), then hang up.
                    _ = try await ScriptedPeer.read(&inbound)
                }
                let outcome = try await runClient(mode, port: listener.port, steps: 1)
                XCTAssertNotNil(outcome.reason, "\(mode) round \(round): the session cannot complete against this peer")
                task.cancel()
                await listener.close()
            }
        }
    }

    /// The server's message handling under mutated activations: every one is refused (or, if it
    /// happens to be valid, trained on) without trapping, and the server keeps serving.
    func testServerSurvivesMutatedActivations() async throws {
        var generator = SeededGenerator(seed: 12)
        for mode in [SplitMode.plain, .ledger] {
            var options = ServerOptions()
            options.allowFixedSchedule = true
            let server = SplitServer(setup: Fixture.setup, options: options)
            let listener = try await Listener.bind(host: "127.0.0.1", port: 0, tls: nil)
            let serving = Task { try await listener.serve(maxConnections: 4) { _ = await server.handle($0) } }
            for _ in 0..<60 {
                let channel = try await Connector.connect(host: "127.0.0.1", port: listener.port, tls: nil)
                var rng = SeededGenerator(seed: generator.next())
                try? await channel.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    var hello = Verisplit_Split_V1_Hello()
                    hello.protocolVersion = 1
                    hello.mode = mode == .plain ? .plain : .ledger
                    hello.specHash = Data(Fixture.setup.specHash)
                    hello.batchSize = 1
                    hello.learningRateShift = 5
                    hello.fractionBits = 8
                    hello.clientNonce = Data(repeating: 1, count: 32)
                    hello.clientCommitment = Data(Fr(UInt64(8)).littleEndianBytes())
                    hello.steps = 3
                    hello.datasetRoot = Data(Fr(UInt64(99)).littleEndianBytes())
                    hello.datasetSize = 16
                    hello.fixedSchedule = true
                    hello.fixedScheduleSeed = 2
                    try await ScriptedPeer.write(.hello(hello), to: outbound)
                    guard case .welcome(let welcome)? = try await ScriptedPeer.read(&iterator) else { return }
                    try await ScriptedPeer.write(
                        .activations(Mutations.activations(session: welcome.sessionID, &rng)), to: outbound)
                    _ = try await ScriptedPeer.read(&iterator)
                }
            }
            // Still serving: an honest plain session completes.
            var c = ClientOptions()
            c.mode = .plain
            c.steps = 2
            c.fixedScheduleSeed = 4
            let honest = await SplitClient(setup: Fixture.setup, data: SmallData.train, options: c)
                .run(over: try await Connector.connect(host: "127.0.0.1", port: listener.port, tls: nil))
            XCTAssertNil(honest.outcome.reason, honest.outcome.reason ?? "")
            serving.cancel()
            await listener.close()
        }
    }
}

/// Mutated protocol messages: extreme and random integers, wrong lengths, bytes that are not
/// field elements, wrong steps and sessions.
enum Mutations {
    static func integer(_ rng: inout SeededGenerator) -> Int64 {
        switch rng.nextInt(below: 6) {
        case 0: return .min
        case 1: return .max
        case 2: return -(1 << 23)
        case 3: return 1 << 23
        case 4: return Int64(bitPattern: rng.next())
        default: return Int64(rng.nextInt(below: 2000)) - 1000
        }
    }

    static func bytes(_ rng: inout SeededGenerator) -> Data {
        switch rng.nextInt(below: 4) {
        case 0: return Data()
        case 1: return Data(repeating: 0xff, count: 32)
        case 2: return Data((0..<Int(rng.nextInt(below: 80))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        default: return Data(Fr(rng.next()).littleEndianBytes())
        }
    }

    static func values(_ count: Int, _ rng: inout SeededGenerator) -> [Int64] {
        let n = rng.nextInt(below: 4) == 0 ? Int(rng.nextInt(below: 40)) : count
        return (0..<n).map { _ in rng.nextInt(below: 3) == 0 ? integer(&rng) : Int64(rng.nextInt(below: 300)) }
    }

    static func gradient(
        for a: Verisplit_Split_V1_Activations, session: Data, _ rng: inout SeededGenerator
    ) -> Verisplit_Split_V1_Gradient {
        var g = Verisplit_Split_V1_Gradient()
        g.step = rng.nextInt(below: 5) == 0 ? rng.next() : a.step
        g.sessionID = rng.nextInt(below: 5) == 0 ? bytes(&rng) : session
        g.values = values(a.values.count, &rng)
        g.salt = bytes(&rng)
        g.commitment = bytes(&rng)
        g.weightsBefore = bytes(&rng)
        g.weightsAfter = bytes(&rng)
        g.proof = bytes(&rng)
        g.previousLink = bytes(&rng)
        return g
    }

    static func activations(session: Data, _ rng: inout SeededGenerator) -> Verisplit_Split_V1_Activations {
        var a = Verisplit_Split_V1_Activations()
        a.step = rng.nextInt(below: 4) == 0 ? rng.next() : 0
        a.sessionID = rng.nextInt(below: 5) == 0 ? bytes(&rng) : session
        a.values = values(16, &rng)
        a.label = rng.nextInt(below: 3) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.nextInt(below: 10))
        a.sampleIndex = rng.nextInt(below: 3) == 0 ? rng.next() : UInt64(rng.nextInt(below: 16))
        a.salt = bytes(&rng)
        a.commitment = bytes(&rng)
        a.weightsCommitment = bytes(&rng)
        a.forwardProof = bytes(&rng)
        a.previousUpdateProof = bytes(&rng)
        a.previousLink = bytes(&rng)
        a.sampleLeaf = bytes(&rng)
        a.scheduleSecret = bytes(&rng)
        return a
    }
}

/// Hex for the tests (the record's ids are lower-case hex).
enum Hex32 {
    static func encode(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func decode(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
