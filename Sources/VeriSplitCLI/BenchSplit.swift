import ArgumentParser
import Logging
import SplitLearning

/// `verisplit bench split`: the cost of each protocol mode on the same training run.
struct BenchSplit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Time per training step by mode (compute, proving, verification, network), bytes per step, accuracy.",
        discussion:
            "Runs plain, ledger, verified and pipelined sessions with the same seeds on loopback and reports each mode's wall time per step against plain's and its samples per second, in the same run. A spec with a batch of 2 or more (the batched circuits) also runs a verified session of the same architecture at batch 1 and reports the throughput ratio."
    )
    @OptionGroup var specOptions: SpecOptions
    @Option(help: "Training steps per mode (the spec's batch each).") var steps: Int = 50
    @Option(help: "Modes, comma-separated (\"none\": only the --batch comparison).") var modes: String =
        "plain,ledger,verified,pipelined"
    @Option(help: "Pipelined mode's depth.") var pipelineDepth: Int = 4
    @Option(
        help:
            "Also prove one step of the batched circuits at this batch (a power of two in 1...64) beside the one-sample circuits, on the same samples (proving and verification only, no session)."
    )
    var batch: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let report = try await SplitBenchmark.run(
            keys: specOptions.source, modes: modes == "none" ? [] : try SplitMode.parseList(modes), steps: steps,
            pipelineDepth: pipelineDepth, batch: batch, logger: try Logger.splitLogger(level: "error"))
        print(report.rendered(json: json))
    }
}
