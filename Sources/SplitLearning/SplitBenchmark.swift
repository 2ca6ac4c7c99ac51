import Foundation
import Logging
import NeuralNet
import Report
import ZKML

/// `verisplit bench split`: the cost of each protocol mode on the same training run (same seeds,
/// loopback), and optionally one-sample vs batched proving on the same samples.
public enum SplitBenchmark {
    /// One mode's per-step figures.
    public struct ModeCost: Sendable {
        public let mode: SplitMode
        /// Samples per step (the spec's batch).
        public let batch: Int
        public let wallSeconds, computeSeconds, provingSeconds, verifySeconds, networkSeconds: Double
        /// Verification time per verified message.
        public let verifyPerMessageSeconds: Double
        public let bytesPerStep: Double
        public let testAccuracy: Double
        /// Wall time per step over plain's (NaN until plain ran, so list plain first).
        public let vsPlain: Double

        /// The figures under `MODE_...` keys, as `--json` prints them.
        public var rows: [(String, any Sendable)] {
            let key = mode.rawValue
            return [
                ("\(key)_step_ms", wallSeconds * 1000), ("\(key)_compute_ms", computeSeconds * 1000),
                ("\(key)_proving_ms", provingSeconds * 1000), ("\(key)_verify_ms", verifySeconds * 1000),
                ("\(key)_network_ms", networkSeconds * 1000),
                ("\(key)_verify_per_message_ms", verifyPerMessageSeconds * 1000),
                ("\(key)_bytes_per_step", bytesPerStep), ("\(key)_test_accuracy", testAccuracy),
                ("\(key)_vs_plain", vsPlain),
                ("\(key)_batch", batch), ("\(key)_samples_per_s", samplesPerSecond),
                ("\(key)_prove_ms_per_sample", provingSeconds * 1000 / Double(batch)),
            ]
        }

        /// Whole-session throughput: samples trained per wall second, proofs and all.
        public var samplesPerSecond: Double { Double(batch) / wallSeconds }
    }

    /// A mode's session refused a message or stopped before `steps`.
    public struct StoppedEarly: Error, CustomStringConvertible {
        public let mode: SplitMode
        public let reason: String
        public var description: String { "\(mode.rawValue) run stopped early: \(reason)" }
    }

    /// Runs `steps` steps (of the spec's batch) in each mode on loopback and splits each step's
    /// wall time into compute, proving, verification and the rest (network and waiting).
    public static func modes(
        _ modes: [SplitMode], setup: SessionSetup, train: Dataset, test: Dataset, steps: Int,
        pipelineDepth: Int, logger: Logger
    ) async throws -> [ModeCost] {
        var costs: [ModeCost] = []
        var plainPerStep: Double?
        for mode in modes {
            var c = LocalRunConfiguration()
            c.mode = mode
            c.steps = steps
            c.pipelineDepth = pipelineDepth
            let report = try await LocalRun.run(
                setup: setup, train: train, test: test, configuration: c, logger: logger
            ).report
            if report.rejected || report.stepsCompleted != UInt64(steps) {
                throw StoppedEarly(mode: mode, reason: report.reason ?? "?")
            }
            let n = Double(steps)
            let wall = report.client.wallSeconds / n
            let compute = (report.client.computeSeconds + report.server.computeSeconds) / n
            let proving = (report.client.provingSeconds + report.server.provingSeconds) / n
            let verify = (report.client.verifySeconds + report.server.verifySeconds) / n
            let verifications = report.client.verifications + report.server.verifications
            if mode == .plain { plainPerStep = wall }
            costs.append(
                ModeCost(
                    mode: mode, batch: setup.spec.batch, wallSeconds: wall, computeSeconds: compute,
                    provingSeconds: proving,
                    verifySeconds: verify,
                    networkSeconds: max(0, wall - compute - proving - verify),
                    verifyPerMessageSeconds: verifications > 0
                        ? (report.client.verifySeconds + report.server.verifySeconds) / Double(verifications) : 0,
                    bytesPerStep: Double(report.client.bytesSent + report.server.bytesSent) / n,
                    testAccuracy: report.testAccuracy ?? .nan, vsPlain: plainPerStep.map { wall / $0 } ?? .nan))
        }
        return costs
    }

    /// One step of today's one-sample circuits and of the batched circuits at `batch`, proved
    /// and verified on the same first `batch` training samples (no session).
    public static func batchComparison(
        spec base: CircuitSpec, train: Dataset, batch: Int
    ) throws
        -> (single: BatchedProving.Run, batched: BatchedProving.Run)
    {
        let spec = try base.withBatch(batch)
        let n = spec.inputCount
        let inputs = try (0..<batch).map { i in
            try train.features.storage[(i * n)..<((i + 1) * n)].map { try spec.quantizeInput($0) }
        }
        let labels = Array(train.labels[0..<batch])
        return (
            try BatchedProving.measureSingle(spec: spec, inputs: inputs, labels: labels),
            try BatchedProving.measureBatched(spec: spec, inputs: inputs, labels: labels)
        )
    }
}

extension BatchedProving.Run {
    /// The figures under `single_...` or `batched_...` keys, per part too, as `--json` prints them.
    public var rows: [(String, any Sendable)] {
        let key = batched ? "batched" : "single"
        var rows: [(String, any Sendable)] = [
            ("\(key)_batch", batch), ("\(key)_constraints_per_sample", constraintsPerSample),
            ("\(key)_prove_ms_per_sample", proveMillisecondsPerSample), ("\(key)_samples_per_s", samplesPerSecond),
            ("\(key)_verify_ms_per_sample", verifyMillisecondsPerSample),
        ]
        for part in parts {
            let p = "\(key)_" + part.part.rawValue.replacingOccurrences(of: "-", with: "_")
            rows += [
                ("\(p)_constraints", part.constraints), ("\(p)_prove_ms", part.proveSeconds * 1000),
                ("\(p)_verify_ms", part.verifySeconds * 1000), ("\(p)_setup_s", part.setupSeconds),
            ]
        }
        return rows
    }
}

extension SplitBenchmark {
    /// `bench split`'s answer: each mode's per-step costs against plain's, and with a batch the
    /// one-sample vs batched proving comparison; a table or one JSON object.
    public struct Report: Sendable {
        public let spec: String
        public let steps: Int
        public let keySetupSeconds: Double
        public let modes: [ModeCost]
        /// A spec with a batch: the verified session of the same architecture at batch 1 (the
        /// one-sample circuits), run in the same benchmark for the throughput ratio.
        public let batchOne: ModeCost?
        public let proving: (single: BatchedProving.Run, batched: BatchedProving.Run)?

        public func rendered(json: Bool) -> String {
            var rows: [(String, any Sendable)] = [("spec", spec), ("steps", steps), ("key_setup_s", keySetupSeconds)]
            for m in modes { rows += m.rows }
            if let batchOne, let verified = modes.first(where: { $0.mode == .verified }) {
                rows += [
                    ("verified_batch1_samples_per_s", batchOne.samplesPerSecond),
                    ("verified_batch1_prove_ms_per_sample", batchOne.provingSeconds * 1000),
                    ("verified_throughput_vs_batch1", verified.samplesPerSecond / batchOne.samplesPerSecond),
                ]
            }
            if case let (single, batched)? = proving {
                rows += single.rows + batched.rows
                rows.append(("batched_throughput_vs_single", batched.samplesPerSecond / single.samplesPerSecond))
            }
            if json { return BenchTable(title: "", rows: rows).rendered(json: true) }
            var table = TextTable(header: [
                "mode", "batch", "ms/step", "samples/s", "compute", "proving", "verify", "network", "verify/msg ms",
                "bytes/step", "accuracy", "x plain",
            ])
            func ms(_ s: Double, _ digits: Int = 1) -> String { formatDecimal(s * 1000, digits: digits) }
            for m in modes + (batchOne.map { [$0] } ?? []) {
                table.append([
                    m.mode.rawValue, "\(m.batch)", ms(m.wallSeconds), formatDecimal(m.samplesPerSecond, digits: 2),
                    ms(m.computeSeconds), ms(m.provingSeconds),
                    ms(m.verifySeconds, 2), ms(m.networkSeconds), ms(m.verifyPerMessageSeconds, 2),
                    formatDecimal(m.bytesPerStep, digits: 0), formatDecimal(m.testAccuracy * 100, digits: 1) + " %",
                    m.vsPlain.isFinite ? formatDecimal(m.vsPlain, digits: 1) : "-",
                ])
            }
            var text = [
                "split training, \(spec) spec, \(steps) steps per mode, loopback; key setup \(formatDecimal(keySetupSeconds, digits: 2)) s",
                table.render(),
            ]
            if let batchOne, let verified = modes.first(where: { $0.mode == .verified }) {
                text.append(
                    "verified throughput at batch \(verified.batch) vs batch 1 (the last row: the same architecture, one-sample circuits): \(formatDecimal(verified.samplesPerSecond / batchOne.samplesPerSecond, digits: 1))x"
                )
            }
            if case let (single, batched)? = proving {
                var t = TextTable(header: [
                    "circuits", "batch", "constraints/sample", "prove ms/sample", "samples/s", "verify ms/sample",
                    "setup s", "x batch 1",
                ])
                for (name, run) in [("one-sample (today)", single), ("batched, linked", batched)] {
                    t.append([
                        name, "\(run.batch)", "\(run.constraintsPerSample)",
                        formatDecimal(run.proveMillisecondsPerSample, digits: 1),
                        formatDecimal(run.samplesPerSecond, digits: 2),
                        formatDecimal(run.verifyMillisecondsPerSample, digits: 2),
                        formatDecimal(run.parts.reduce(0) { $0 + $1.setupSeconds }, digits: 1),
                        formatDecimal(run.samplesPerSecond / single.samplesPerSecond, digits: 1),
                    ])
                }
                text.append(
                    "\nproving one step, one-sample vs batched circuits, same samples (proving and verification only, no session)"
                )
                text.append(t.render())
            }
            return text.joined(separator: "\n")
        }
    }

    /// Loads the spec and keys from `keys` (the time is reported: a development setup is part of
    /// a local run's cost), then runs `modes` (`modes` for the meaning of each figure) on the
    /// bundled data and, given `batch`, the proving comparison (`batchComparison`).
    public static func run(
        keys: KeySource, modes selected: [SplitMode], steps: Int, pipelineDepth: Int, batch: Int?, logger: Logger
    ) async throws -> Report {
        guard steps >= 1 else { throw SplitError.invalidArgument("--steps must be >= 1") }
        let setupStart = Date()
        let setup = try keys.load(mode: selected.contains(where: \.usesProofs) ? .verified : .plain)
        let keySetupSeconds = Date().timeIntervalSince(setupStart)
        let (train, test) = try MNISTFamily.load(.bundled)
        let costs = try await modes(
            selected, setup: setup, train: train, test: test, steps: steps, pipelineDepth: pipelineDepth,
            logger: logger)
        var batchOne: ModeCost?
        if setup.spec.usesBatchedCircuits, selected.contains(.verified) {
            let single = try setup.spec.withBatch(1)
            let singleSetup = SessionSetup(
                spec: single, specData: try JSONEncoder().encode(single),
                keys: try SplitKeys.developmentSetup(spec: single))
            batchOne = try await modes(
                [.verified], setup: singleSetup, train: train, test: test, steps: steps, pipelineDepth: pipelineDepth,
                logger: logger
            ).first
        }
        let proving = try batch.map { try batchComparison(spec: setup.spec, train: train, batch: $0) }
        return Report(
            spec: setup.spec.name, steps: steps, keySetupSeconds: keySetupSeconds, modes: costs, batchOne: batchOne,
            proving: proving)
    }
}
