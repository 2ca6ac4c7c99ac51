import ArgumentParser
import Foundation
import NeuralNet
import Report
import SplitLearning
import ZKML

/// `verisplit bench split`: the cost of each protocol mode on the same training run.
struct BenchSplit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Time per training step by mode (compute, proving, verification, network), bytes per step, accuracy.",
        discussion: "Runs plain, ledger, verified and pipelined sessions with the same seeds on loopback and reports each mode's wall time per step against plain's, in the same run.")
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "Training steps per mode (one sample each).") var steps: Int = 50
    @Option(help: "Modes, comma-separated (\"none\": only the --batch comparison).") var modes: String = "plain,ledger,verified,pipelined"
    @Option(help: "Pipelined mode's depth.") var pipelineDepth: Int = 4
    @Option(help: "Also prove one step of the batched circuits at this batch (a power of two in 1...64) beside today's one-sample circuits, on the same samples (proving and verification only, no session).")
    var batch: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await withAsyncInputErrors {
            let selected = modes == "none" ? [] : try modes.split(separator: ",").map { try parseMode(String($0)) }
            guard steps >= 1 else { throw InputError("--steps must be >= 1") }
            let setupStart = Date()
            let setup = try specOptions.load(mode: selected.contains(.verified) || selected.contains(.pipelined) ? .verified : .plain)
            let setupSeconds = Date().timeIntervalSince(setupStart)
            let (train, test) = try MNISTFamily.load(.bundled)
            let logger = try splitLogger("error")
            var rows: [(String, any Sendable)] = [("spec", setup.spec.name), ("steps", steps), ("key_setup_s", setupSeconds)]
            var table = TextTable(header: ["mode", "ms/step", "compute", "proving", "verify", "network", "verify/msg ms", "bytes/step", "accuracy", "x plain"])
            var plainPerStep: Double?
            for mode in selected {
                var c = LocalRunConfiguration()
                c.mode = mode
                c.steps = steps
                c.pipelineDepth = pipelineDepth
                let report = try await LocalRun.run(setup: setup, train: train, test: test, configuration: c, logger: logger).report
                if report.rejected || report.stepsCompleted != UInt64(steps) {
                    throw InputError("\(mode.rawValue) run stopped early: \(report.reason ?? "?")")
                }
                let n = Double(steps)
                let wall = report.client.wallSeconds / n
                let compute = (report.client.computeSeconds + report.server.computeSeconds) / n
                let proving = (report.client.provingSeconds + report.server.provingSeconds) / n
                let verify = (report.client.verifySeconds + report.server.verifySeconds) / n
                let network = max(0, wall - compute - proving - verify)
                let verifications = report.client.verifications + report.server.verifications
                let perMessage = verifications > 0 ? (report.client.verifySeconds + report.server.verifySeconds) / Double(verifications) : 0
                let bytes = Double(report.client.bytesSent + report.server.bytesSent) / n
                if mode == .plain { plainPerStep = wall }
                let ratio = plainPerStep.map { wall / $0 } ?? .nan
                let accuracy = report.testAccuracy ?? .nan
                table.append([mode.rawValue, formatDecimal(wall * 1000, digits: 1), formatDecimal(compute * 1000, digits: 1),
                              formatDecimal(proving * 1000, digits: 1), formatDecimal(verify * 1000, digits: 2),
                              formatDecimal(network * 1000, digits: 1), formatDecimal(perMessage * 1000, digits: 2),
                              formatDecimal(bytes, digits: 0), formatDecimal(accuracy * 100, digits: 1) + " %",
                              ratio.isFinite ? formatDecimal(ratio, digits: 1) : "-"])
                let key = mode.rawValue
                rows += [("\(key)_step_ms", wall * 1000), ("\(key)_compute_ms", compute * 1000), ("\(key)_proving_ms", proving * 1000),
                         ("\(key)_verify_ms", verify * 1000), ("\(key)_network_ms", network * 1000),
                         ("\(key)_verify_per_message_ms", perMessage * 1000), ("\(key)_bytes_per_step", bytes),
                         ("\(key)_test_accuracy", accuracy), ("\(key)_vs_plain", ratio),
                         ("\(key)_samples_per_s", 1 / wall), ("\(key)_prove_ms_per_sample", proving * 1000)]
            }
            var provingTable: TextTable?
            if let batch {
                let spec = try setup.spec.withBatch(batch)
                let n = spec.inputCount
                let inputs = try (0..<batch).map { i in try train.features.storage[(i * n)..<((i + 1) * n)].map { try spec.format.quantize($0) } }
                let labels = Array(train.labels[0..<batch])
                let single = try BatchedProving.measureSingle(spec: spec, inputs: inputs, labels: labels)
                let batched = try BatchedProving.measureBatched(spec: spec, inputs: inputs, labels: labels)
                var t = TextTable(header: ["circuits", "batch", "constraints/sample", "prove ms/sample", "samples/s", "verify ms/sample",
                                           "setup s", "x batch 1"])
                for (name, run) in [("one-sample (today)", single), ("batched, committed", batched)] {
                    let key = run.batched ? "batched" : "single"
                    t.append([name, "\(run.batch)", "\(run.constraintsPerSample)", formatDecimal(run.proveMillisecondsPerSample, digits: 1),
                              formatDecimal(run.samplesPerSecond, digits: 2), formatDecimal(run.verifyMillisecondsPerSample, digits: 2),
                              formatDecimal(run.parts.reduce(0) { $0 + $1.setupSeconds }, digits: 1),
                              formatDecimal(run.samplesPerSecond / single.samplesPerSecond, digits: 1)])
                    rows += [("\(key)_batch", run.batch), ("\(key)_constraints_per_sample", run.constraintsPerSample),
                             ("\(key)_prove_ms_per_sample", run.proveMillisecondsPerSample), ("\(key)_samples_per_s", run.samplesPerSecond),
                             ("\(key)_verify_ms_per_sample", run.verifyMillisecondsPerSample)]
                    for part in run.parts {
                        let p = "\(key)_" + part.part.rawValue.replacingOccurrences(of: "-", with: "_")
                        rows += [("\(p)_constraints", part.constraints), ("\(p)_prove_ms", part.proveSeconds * 1000),
                                 ("\(p)_verify_ms", part.verifySeconds * 1000), ("\(p)_setup_s", part.setupSeconds)]
                    }
                }
                rows.append(("batched_throughput_vs_single", batched.samplesPerSecond / single.samplesPerSecond))
                provingTable = t
            }
            if json {
                printBenchResult(rows, json: true, title: "")
            } else {
                print("split training, \(setup.spec.name) spec, \(steps) steps per mode (one sample each), loopback; key setup \(formatDecimal(setupSeconds, digits: 2)) s")
                print(table.render())
                if let provingTable {
                    print("\nproving one step, one-sample vs batched circuits, same samples (proving and verification only, no session)")
                    print(provingTable.render())
                }
            }
        }
    }
}
