import Foundation
import Logging
import NeuralNet
import ZKML

/// `verisplit bench split`: the cost of each protocol mode on the same training run (same seeds,
/// loopback), and optionally one-sample vs batched proving on the same samples.
public enum SplitBenchmark {
    /// One mode's per-step figures.
    public struct ModeCost: Sendable {
        public let mode: SplitMode
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
                ("\(key)_samples_per_s", 1 / wallSeconds), ("\(key)_prove_ms_per_sample", provingSeconds * 1000),
            ]
        }
    }

    /// A mode's session refused a message or stopped before `steps`.
    public struct StoppedEarly: Error, CustomStringConvertible {
        public let mode: SplitMode
        public let reason: String
        public var description: String { "\(mode.rawValue) run stopped early: \(reason)" }
    }

    /// Runs `steps` one-sample steps in each mode on loopback and splits each step's wall time
    /// into compute, proving, verification and the rest (network and waiting).
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
                    mode: mode, wallSeconds: wall, computeSeconds: compute, provingSeconds: proving,
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
            try train.features.storage[(i * n)..<((i + 1) * n)].map { try spec.format.quantize($0) }
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
