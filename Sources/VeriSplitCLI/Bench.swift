import ArgumentParser
import Foundation

/// `verisplit bench ...`: every benchmark prints a readable table, or with `--json` exactly one
/// JSON object (or array, where the command documents a list) on stdout.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (readable table, or one JSON value with --json).",
        subcommands: [
            BenchAlgebra.self, BenchGroth16.self, BenchCommitment.self, BenchZKML.self, BenchGemm.self, BenchTrain.self,
            BenchDPAccountant.self, BenchDP.self, BenchDPSpeed.self, BenchAttacks.self, BenchAudit.self, BenchSplit.self, BenchCeremony.self, BenchProverPool.self,
        ])
}

/// Prints `rows` as an aligned two-column table, or as one JSON object when `json` is set.
/// Values are numbers or strings; key order is kept.
func printBenchResult(_ rows: [(String, Any)], json: Bool, title: String) {
    if json {
        let body = rows.map { key, value -> String in
            let rendered: String
            switch value {
            case let d as Double: rendered = d.isFinite ? String(format: "%.6g", d) : "null"
            case let i as Int: rendered = String(i)
            case let s as String: rendered = "\"\(s)\""
            default: rendered = "\"\(value)\""
            }
            return "\"\(key)\": \(rendered)"
        }
        print("{" + body.joined(separator: ", ") + "}")
        return
    }
    print(title)
    let width = rows.map(\.0.count).max() ?? 0
    for (key, value) in rows {
        let rendered: String
        if let d = value as? Double { rendered = String(format: "%.4g", d) } else { rendered = "\(value)" }
        print("  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rendered)
    }
}
