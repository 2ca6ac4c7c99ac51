import Foundation
import Logging
import NeuralNet
import SplitLearning
import ZKML

/// Stage 1 and 2: verified split training on loopback, the same session without proofs for
/// reference, and dishonest servers against verified (and one against ledger) sessions.
public struct SplitSummary: Sendable {
    public var spec: String
    public var constraints: [String: Int]
    public var keySetupSeconds: Double
    /// The verified session (steps, times, bytes, test accuracy of the fixed-point model).
    public var verified: LocalRunReport
    /// Plain mode for the same number of steps: the same fixed-point arithmetic without proofs,
    /// so its accuracy must equal the verified session's.
    public var plainSameSteps: LocalRunReport
    /// Plain mode for `DemoSizes.plainSteps`: what this architecture reaches with more steps.
    public var plainLong: LocalRunReport
    /// One session per dishonest server; the last entry runs the first adversary in ledger mode.
    public var malicious: [LocalRunReport]
    public var accuracyAtInitialization: Double

    /// Wall seconds per verified step, as the client saw them.
    public var secondsPerVerifiedStep: Double { verified.client.wallSeconds / Double(max(verified.stepsCompleted, 1)) }
    /// Every verified session with a dishonest server was rejected.
    public var allVerifiedAttacksRejected: Bool {
        malicious.filter { $0.mode == .verified }.allSatisfy { $0.rejected && $0.reason != nil }
    }
}

enum SplitStage {
    static let logger = Logger(label: "verisplit.demo") { _ in SwiftLogNoOpLogHandler() }

    /// The step at which `adversary` acts: replay needs a previous step to replay.
    static func attackStep(_ adversary: Adversary) -> UInt64 { adversary == .replay ? 1 : 0 }

    static func run(
        sizes: DemoSizes, seed: UInt64, train: Dataset, test: Dataset, stages: StageTracker,
        serverExecutable: URL?
    ) async throws -> (summary: SplitSummary, client: QuantizedConv2d) {
        let progress = stages.progress
        let spec = try CircuitSpec.load(EmbeddedSpec.data, file: EmbeddedSpec.name)

        let where_ = serverExecutable == nil ? "loopback TCP" : "loopback TCP to a server process"
        stages.begin(
            "verified split training (\(spec.name) spec, \(sizes.verifiedSteps) steps over \(where_))",
            units: 1 + sizes.verifiedSteps)
        progress.update(0, detail: "Groth16 setup of the three circuits")
        let setupStart = Date()
        let keys = try SplitKeys.developmentSetup(spec: spec)
        let keySetupSeconds = Date().timeIntervalSince(setupStart)
        progress.update(1, detail: String(format: "keys ready in %.1f s; training", keySetupSeconds))
        let setup = SessionSetup(spec: spec, specData: EmbeddedSpec.data, keys: keys)
        var constraints = [String: Int]()
        for part in CircuitSpec.Part.allCases { constraints[part.rawValue] = keys.key(part).r1cs.constraintCount }

        var c = LocalRunConfiguration()
        c.mode = .verified
        c.steps = sizes.verifiedSteps
        c.clientSeed = seed
        c.serverSeed = seed &+ 1
        // A public, seeded sample order (a real session draws it by coin toss), so the plain run
        // below trains on the same samples and must end with the same weights.
        c.fixedScheduleSeed = seed
        let total = sizes.verifiedSteps
        c.onStep = { done in progress.update(1 + Int(done), detail: "step \(done)/\(total)") }
        let verified =
            if let serverExecutable {
                try await ProcessRun.run(
                    setup: setup, serverExecutable: serverExecutable, train: train, test: test, configuration: c,
                    logger: logger)
            } else {
                try await LocalRun.run(setup: setup, train: train, test: test, configuration: c, logger: logger)
            }
        guard !verified.report.rejected, verified.report.stepsCompleted == UInt64(total),
            let client = verified.clientLayer
        else {
            throw DemoError.stage(
                "verified training",
                reason: verified.report.reason ?? "the session ended after \(verified.report.stepsCompleted) steps")
        }
        var plain = c
        plain.mode = .plain
        plain.onStep = nil
        let same = try await LocalRun.run(setup: setup, train: train, test: test, configuration: plain, logger: logger)
            .report
        plain.steps = sizes.plainSteps
        let long = try await LocalRun.run(setup: setup, train: train, test: test, configuration: plain, logger: logger)
            .report
        let initial = try SplitLearning.Evaluation.accuracy(
            conv: SplitClient.initialLayer(spec: spec, seed: c.clientSeed),
            head: SplitServer.initialLayer(spec: spec, seed: c.serverSeed), spec: spec, data: test)
        let r = verified.report
        stages.end(
            String(
                format:
                    "test accuracy %.1f %% after %ld steps (%.1f %% at initialization); %.2f s/step, proving %.1f s, verifying %.3f s for %ld proofs",
                (r.testAccuracy ?? 0) * 100, total, initial * 100, r.client.wallSeconds / Double(total),
                r.client.provingSeconds + r.server.provingSeconds, r.client.verifySeconds + r.server.verifySeconds,
                r.client.verifications + r.server.verifications))

        let runs: [(Adversary, SplitMode)] =
            sizes.adversaries.map { ($0, .verified) } + (sizes.adversaries.first.map { [($0, .ledger)] } ?? [])
        stages.begin(
            "dishonest server steps (\(runs.map { "\($0.0.rawValue) vs \($0.1.rawValue)" }.joined(separator: ", ")))",
            units: runs.count)
        var malicious = [LocalRunReport]()
        for (i, (adversary, mode)) in runs.enumerated() {
            progress.update(i, detail: "\(adversary.rawValue) against \(mode.rawValue)")
            var m = c
            m.onStep = nil
            m.mode = mode
            m.adversary = adversary
            m.attackStep = attackStep(adversary)
            m.steps = Int(m.attackStep) + 1
            malicious.append(
                try await LocalRun.run(setup: setup, train: train, test: nil, configuration: m, logger: logger).report)
        }
        let caught = malicious.filter { $0.mode == .verified && $0.rejected }.count
        let verifiedRuns = malicious.filter { $0.mode == .verified }.count
        let first = malicious.first { $0.mode == .verified }
        stages.end(
            "\(caught)/\(verifiedRuns) rejected by the verified protocol"
                + (first.map { "; \($0.adversary.rawValue): \($0.reason ?? "no reason")" } ?? ""))
        let summary = SplitSummary(
            spec: spec.name, constraints: constraints, keySetupSeconds: keySetupSeconds, verified: r,
            plainSameSteps: same, plainLong: long, malicious: malicious, accuracyAtInitialization: initial)
        return (summary, client)
    }
}
