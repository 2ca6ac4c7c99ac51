import ArgumentParser
import Foundation
import NeuralNet
import Report
import SplitLearning

/// `verisplit bench split`: the cost of each protocol mode on the same training run.
struct BenchSplit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Time per training step by mode (compute, proving, verification, network), bytes per step, accuracy.",
        discussion:
            "Runs plain, ledger, verified and pipelined sessions with the same seeds on loopback and reports each mode's wall time per step against plain's, in the same run."
    )
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "Training steps per mode (one sample each).") var steps: Int = 50
    @Option(help: "Modes, comma-separated (\"none\": only the --batch comparison).") var modes: String =
        "plain,ledger,verified,pipelined"
    @Option(help: "Pipelined mode's depth.") var pipelineDepth: Int = 4
    @Option(
        help:
            "Also prove one step of the batched circuits at this batch (a power of two in 1...64) beside today's one-sample circuits, on the same samples (proving and verification only, no session)."
    )
    var batch: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try await withAsyncInputErrors {
            let selected = modes == "none" ? [] : try modes.split(separator: ",").map { try parseMode(String($0)) }
            guard steps >= 1 else { throw InputError("--steps must be >= 1") }
            let setupStart = Date()
            let setup = try specOptions.load(
                mode: selected.contains(.verified) || selected.contains(.pipelined) ? .verified : .plain)
            let setupSeconds = Date().timeIntervalSince(setupStart)
            let (train, test) = try MNISTFamily.load(.bundled)
            let logger = try splitLogger("error")
            var rows: [(String, any Sendable)] = [
                ("spec", setup.spec.name), ("steps", steps), ("key_setup_s", setupSeconds),
            ]
            var table = TextTable(header: [
                "mode", "ms/step", "compute", "proving", "verify", "network", "verify/msg ms", "bytes/step", "accuracy",
                "x plain",
            ])
            for m in try await SplitBenchmark.modes(
                selected, setup: setup, train: train, test: test, steps: steps,
                pipelineDepth: pipelineDepth, logger: logger)
            {
                func ms(_ s: Double, _ digits: Int = 1) -> String { formatDecimal(s * 1000, digits: digits) }
                table.append([
                    m.mode.rawValue, ms(m.wallSeconds), ms(m.computeSeconds), ms(m.provingSeconds),
                    ms(m.verifySeconds, 2),
                    ms(m.networkSeconds), ms(m.verifyPerMessageSeconds, 2), formatDecimal(m.bytesPerStep, digits: 0),
                    formatDecimal(m.testAccuracy * 100, digits: 1) + " %",
                    m.vsPlain.isFinite ? formatDecimal(m.vsPlain, digits: 1) : "-",
                ])
                rows += m.rows
            }
            var provingTable: TextTable?
            if let batch {
                let (single, batched) = try SplitBenchmark.batchComparison(spec: setup.spec, train: train, batch: batch)
                var t = TextTable(header: [
                    "circuits", "batch", "constraints/sample", "prove ms/sample", "samples/s", "verify ms/sample",
                    "setup s", "x batch 1",
                ])
                for (name, run) in [("one-sample (today)", single), ("batched, committed", batched)] {
                    t.append([
                        name, "\(run.batch)", "\(run.constraintsPerSample)",
                        formatDecimal(run.proveMillisecondsPerSample, digits: 1),
                        formatDecimal(run.samplesPerSecond, digits: 2),
                        formatDecimal(run.verifyMillisecondsPerSample, digits: 2),
                        formatDecimal(run.parts.reduce(0) { $0 + $1.setupSeconds }, digits: 1),
                        formatDecimal(run.samplesPerSecond / single.samplesPerSecond, digits: 1),
                    ])
                    rows += run.rows
                }
                rows.append(("batched_throughput_vs_single", batched.samplesPerSecond / single.samplesPerSecond))
                provingTable = t
            }
            if json {
                printBenchResult(rows, json: true, title: "")
            } else {
                print(
                    "split training, \(setup.spec.name) spec, \(steps) steps per mode (one sample each), loopback; key setup \(formatDecimal(setupSeconds, digits: 2)) s"
                )
                print(table.render())
                if let provingTable {
                    print(
                        "\nproving one step, one-sample vs batched circuits, same samples (proving and verification only, no session)"
                    )
                    print(provingTable.render())
                }
            }
        }
    }
}
