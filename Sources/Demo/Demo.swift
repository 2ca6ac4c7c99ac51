import Foundation
import NeuralNet
import ZKML

/// Everything one demo run measured, and where it wrote it.
public struct DemoSummary: Sendable {
    public var quick: Bool
    public var output: URL
    public var sizes: DemoSizes
    public var seed: UInt64
    public var split: SplitSummary
    public var attack: AttackSummary
    public var privacy: PrivacySummary
    /// Seconds per stage, in order, and in all.
    public var stageSeconds: [(String, Double)]
    public var seconds: Double
    /// Every file written, relative to `output`.
    public var files: [String]
}

/// `verisplit demo`: the toolkit end to end on the bundled Fashion-MNIST subset, no network.
///
/// 1. Verified split training: Groth16 keys for the embedded `circuits/split-c4.json` (the
///    batched circuits, 16 samples per step), then a client
///    and a server over loopback TCP (the server a separate `verisplit split server` process via
///    `SplitLearning.ProcessRun` when the CLI runs it; both in this process for tests), every
///    message proved and verified; test accuracy, proving and verification times. The same
///    session in plain mode gives the same accuracy (same fixed-point arithmetic) and, with more
///    steps, what the architecture reaches.
/// 2. Dishonest servers, one step each, against verified sessions (rejected, with the reason),
///    and the first of them against the ledger baseline (which cannot see it).
/// 3. QBI by a malicious server on the trained client's cut-layer activations, without and with
///    AGGP (`AttackStage`), with PNG grids.
/// 4. DP-Weights and DP-SGD at one epsilon on the bundled `cnn-small`, audited for membership
///    next to the plain model (`PrivacyStage`).
/// 5. `index.html` linking every report and image, and `summary.json`.
///
/// Measured on the project machine (2 cores, shared): see README.md ("Demo").
public enum Demo {
    public static let stageCount = 5

    public static func run(
        options: DemoOptions, versions: [(String, String)] = [("report_format", "verisplit-audit-1")],
        progress: any DemoProgress = SilentProgress()
    ) async throws(DemoError) -> DemoSummary {
        let start = Date()
        try options.sizes.validate()
        let output = options.output.standardizedFileURL
        do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw .writeFailed(path: output.path, reason: error.localizedDescription)
        }
        let stages = StageTracker(progress: progress, count: stageCount)
        let (train, test): (Dataset, Dataset)
        do { (train, test) = try MNISTFamily.load(.bundled) } catch { throw .stage("data", reason: "\(error)") }

        let split: SplitSummary, client: QuantizedConv2d
        do {
            (split, client) = try await SplitStage.run(
                sizes: options.sizes, seed: options.seed, train: train, test: test, stages: stages,
                serverExecutable: options.serverExecutable)
        } catch { throw stages.failure(error) }
        try write(
            Data((jsonLine(split.verified, snakeCase: false, fallback: "null") + "\n").utf8),
            to: output.appendingPathComponent("split-training.json"))
        try write(
            Data(
                ("[" + split.malicious.map { jsonLine($0, snakeCase: false, fallback: "null") }.joined(separator: ",\n")
                    + "]\n").utf8),
            to: output.appendingPathComponent("split-malicious.json"))

        let attack: AttackSummary
        do {
            attack = try AttackStage.run(
                sizes: options.sizes, seed: options.seed, client: client, train: train, test: test,
                output: output, stages: stages)
        } catch { throw stages.failure(error) }

        let privacy: PrivacySummary
        do {
            privacy = try PrivacyStage.run(
                sizes: options.sizes, seed: options.seed, train: train, test: test, output: output,
                versions: versions, stages: stages)
        } catch { throw stages.failure(error) }

        stages.begin("overview", units: 1)
        var summary = DemoSummary(
            quick: options.quick, output: output, sizes: options.sizes, seed: options.seed, split: split,
            attack: attack, privacy: privacy, stageSeconds: [], seconds: 0, files: [])
        summary.files =
            [
                "index.html", "summary.json", "split-training.json", "split-malicious.json", attack.gridNone,
                attack.gridAGGP,
            ]
            + privacy.models.flatMap { [$0.report, $0.report.replacingOccurrences(of: ".html", with: ".json")] }
        summary.stageSeconds = stages.durations
        summary.seconds = Date().timeIntervalSince(start)
        try write(Data(Overview.html(summary).utf8), to: output.appendingPathComponent("index.html"))
        try write(
            Data((Overview.json(summary).serialized() + "\n").utf8), to: output.appendingPathComponent("summary.json"))
        stages.end("wrote \(output.path)/index.html")
        summary.stageSeconds = stages.durations
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    static func write(_ data: Data, to url: URL) throws(DemoError) {
        do { try data.write(to: url, options: .atomic) } catch {
            throw .writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// A number without trailing zeros (3 for 3.0).
    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)" }
}

/// Numbers the stages for the progress display and times them.
final class StageTracker {
    let progress: any DemoProgress
    let count: Int
    private var index = 0
    private var title = ""
    private var started = Date()
    private(set) var durations: [(String, Double)] = []

    init(progress: any DemoProgress, count: Int) {
        self.progress = progress
        self.count = count
    }

    func begin(_ title: String, units: Int) {
        index += 1
        self.title = title
        started = Date()
        progress.begin(stage: index, of: max(count, index), title: title, units: units)
    }

    func end(_ line: String) {
        durations.append((title, Date().timeIntervalSince(started)))
        progress.end(line)
    }

    /// The error of the current stage as a `DemoError`, reported to the progress display.
    func failure(_ error: any Error) -> DemoError {
        let e = error as? DemoError ?? .stage(title, reason: "\(error)")
        progress.end("FAILED: \(e)")
        return e
    }
}
