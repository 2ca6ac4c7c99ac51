import Defenses
import Foundation

/// Text, Markdown and HTML (inline SVG) renderings of the attack benchmark.
enum AttackReport {
    static let colors = ["qbi": "#1f77b4", "pairs": "#d62728", "rtf": "#2ca02c", "random": "#7f7f7f"]
    static let markers = ["none": "circle", "aggp": "square", "dp": "diamond", "prune": "triangle"]

    static func find(
        _ cells: [GridCell], _ data: String, _ attack: String, _ defense: String, _ n: Int, _ b: Int
    ) -> GridCell? {
        cells.first {
            $0.data == data && $0.attack == attack && $0.defense == defense && $0.neurons == n && $0.batch == b
        }
    }

    static func fmt(_ c: GridCell?) -> String {
        guard let c else { return "-" }
        return String(format: "%.3f±%.3f", c.recall, (c.recallCi[1] - c.recallCi[0]) / 2)
    }

    /// Exact recall (mean ± 95% half-width) per data set and defense; rows attack x N, columns B.
    static func table(cells: [GridCell], neurons: [Int], batches: [Int]) -> String {
        var out = ""
        for data in ordered(cells.map(\.data)) {
            for defense in DefenseKind.allCases.map(\.rawValue) {
                out += "\n\(data), defense \(defense): exact recall, mean ± 95% half-width over seeds\n"
                out +=
                    "  attack   N     "
                    + batches.map { "B=\($0)".padding(toLength: 14, withPad: " ", startingAt: 0) }.joined() + "\n"
                for attack in AttackKind.allCases.map(\.rawValue) {
                    for n in neurons {
                        out +=
                            "  " + attack.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                            + String(n).padding(toLength: 6, withPad: " ", startingAt: 0)
                        for b in batches {
                            out += fmt(find(cells, data, attack, defense, n, b)).padding(
                                toLength: 14, withPad: " ", startingAt: 0)
                        }
                        out += "\n"
                    }
                }
            }
        }
        return out
    }

    static func costTable(_ costs: [DefenseCost], settingsDescription: String) -> String {
        var out =
            "\nDefense accuracy cost (bundled MLP 784-128-10, test accuracy; cost = none - defense, paired by seed; "
            + settingsDescription + ")\n"
        for c in costs {
            out += "  " + c.defense.padding(toLength: 6, withPad: " ", startingAt: 0)
            out += String(
                format: " accuracy %.4f [%.4f, %.4f]  cost %+.4f [%+.4f, %+.4f]", c.accuracy,
                c.accuracyCi[0], c.accuracyCi[1], c.cost, c.costCi[0], c.costCi[1])
            if let e = c.epsilonPerRound {
                out += String(
                    format: "  (epsilon %.2f at delta 1e-5 PER ROUND, unamplified: one fixed batch, replace-one)", e)
            }
            out += "\n"
        }
        return out
    }

    static func ordered(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    static func markdown(
        cells: [GridCell], costs: [DefenseCost], neurons: [Int], batches: [Int], seeds: Int,
        gridSeconds: Double, trainSeconds: Double, settings: AttackBenchSettings
    ) -> String {
        var md = "| data | defense | attack | N |" + batches.map { " B=\($0) |" }.joined() + "\n"
        md += "|---|---|---|---|" + batches.map { _ in "---|" }.joined() + "\n"
        for data in ordered(cells.map(\.data)) {
            for defense in DefenseKind.allCases.map(\.rawValue) {
                for attack in AttackKind.allCases.map(\.rawValue) {
                    for n in neurons {
                        md +=
                            "| \(data) | \(defense) | \(attack) | \(n) |"
                            + batches.map { " \(fmt(find(cells, data, attack, defense, n, $0))) |" }.joined() + "\n"
                    }
                }
            }
        }
        var cost =
            "| defense | test accuracy [95% CI] | cost (none - defense) [95% CI] | epsilon per round, unamplified (delta 1e-5) |\n|---|---|---|---|\n"
        for c in costs {
            cost += String(
                format: "| %@ | %.4f [%.4f, %.4f] | %+.4f [%+.4f, %+.4f] | %@ |\n", c.defense, c.accuracy,
                c.accuracyCi[0], c.accuracyCi[1], c.cost, c.costCi[0], c.costCi[1],
                c.epsilonPerRound.map { String(format: "%.2f", $0) } ?? "-")
        }
        return """
            <!-- written by `verisplit bench attacks --markdown` -->
            Grid: \(cells.count) cells, \(seeds) seeds each: \(String(format: "%.1f", gridSeconds)) s; \
            accuracy-cost training: \(String(format: "%.1f", trainSeconds)) s. Settings: \(settings.description).
            \(settings.dpGuarantee.map { "The dp defense (C = 1, sigma = 1): epsilon \(String(format: "%.2f", $0.epsilon)) at delta 1e-5, \($0.label)." } ?? "")

            Exact recall (fraction of the batch reconstructed to relative L2 error <= 1e-3 from the \
            gradient the server received), mean ± half-width of the 95% t-interval over seeds:

            \(md)
            Accuracy cost of each defense:

            \(cost)
            """
    }

    // MARK: - HTML with inline SVG

    static func html(
        cells: [GridCell], costs: [DefenseCost], neurons: [Int], batches: [Int], seeds: Int,
        gridSeconds: Double, settings: AttackBenchSettings
    ) -> String {
        var body = """
            <h1>Attack vs defense benchmark</h1>
            <p>\(cells.count) cells, \(seeds) seeds each, grid time \(String(format: "%.1f", gridSeconds)) s.
            Recall = fraction of the client's batch reconstructed exactly (relative L2 error &le; 1e-3) from the gradient
            the server received; error bars are 95% Student-t intervals over seeds. Dashed: closed-form theory
            (QBI: 1 - (1 - (1/B)(1-1/B)^(B-1))^N; RtF: binning). Settings: \(settings.description).
            \(settings.dpGuarantee.map { "The dp defense guarantees epsilon \(String(format: "%.2f", $0.epsilon)) at delta 1e-5 <b>per round, unamplified</b> (\($0.label))." } ?? "")</p>
            """
        for data in ordered(cells.map(\.data)) {
            body += "<h2>Recall vs N per B, no defense: \(data)</h2><div class=row>"
            for b in batches {
                var series = [Series]()
                for attack in AttackKind.allCases.map(\.rawValue) {
                    let pts = neurons.compactMap { n -> Point? in
                        guard let c = find(cells, data, attack, "none", n, b) else { return nil }
                        return Point(x: Double(n), y: c.recall, lo: c.recallCi[0], hi: c.recallCi[1])
                    }
                    series.append(Series(name: attack, color: colors[attack] ?? "#000", points: pts, dashed: false))
                }
                for attack in ["qbi", "rtf"] {
                    let pts = neurons.compactMap { n -> Point? in
                        find(cells, data, attack, "none", n, b).map {
                            Point(x: Double(n), y: $0.recallTheory, lo: nil, hi: nil)
                        }
                    }
                    series.append(
                        Series(name: "\(attack) theory", color: colors[attack] ?? "#000", points: pts, dashed: true))
                }
                body += lineChart(
                    title: "B = \(b)", xLabel: "neurons N", yLabel: "recall", series: series,
                    xTicks: neurons.map(Double.init))
            }
            body += "</div>"
        }
        body += "<h2>Recall and PSNR vs accuracy cost per defense (images, mean over the grid)</h2><div class=row>"
        body += scatter(cells: cells, costs: costs, label: "mean exact recall (images)", range: 0...1) { $0.recall }
        body += scatter(cells: cells, costs: costs, label: "mean PSNR of best match, dB (images)", range: 0...100) {
            $0.psnr
        }
        body += "</div>"
        body +=
            "<h2>Accuracy cost</h2><table><tr><th>defense</th><th>test accuracy [95% CI]</th><th>cost [95% CI]</th><th>epsilon per round, unamplified</th></tr>"
        for c in costs {
            body += String(
                format: "<tr><td>%@</td><td>%.4f [%.4f, %.4f]</td><td>%+.4f [%+.4f, %+.4f]</td><td>%@</td></tr>",
                c.defense, c.accuracy, c.accuracyCi[0], c.accuracyCi[1], c.cost, c.costCi[0], c.costCi[1],
                c.epsilonPerRound.map { String(format: "%.2f", $0) } ?? "")
        }
        body +=
            "</table><h2>Full grid</h2><table><tr><th>data</th><th>attack</th><th>defense</th><th>N</th><th>B</th>"
            + "<th>recall [95% CI]</th><th>isolated</th><th>theory</th><th>A</th><th>P</th><th>PSNR dB</th><th>SSIM</th></tr>"
        for c in cells {
            body += String(
                format: "<tr><td>%@</td><td>%@</td><td>%@</td><td>%d</td><td>%d</td><td>%.3f [%.3f, %.3f]</td>"
                    + "<td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.1f</td><td>%.3f</td></tr>",
                c.data, c.attack, c.defense, c.neurons, c.batch, c.recall, c.recallCi[0], c.recallCi[1],
                c.recallStructural, c.recallTheory, c.active, c.precision, c.psnr, c.ssim)
        }
        body += "</table>"
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>VeriSplit attack benchmark</title>
            <style>body{font-family:sans-serif;margin:20px;max-width:1400px}.row{display:flex;flex-wrap:wrap;gap:8px}
            table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
            svg{background:#fff;border:1px solid #ddd}</style></head><body>
            \(body)
            </body></html>
            """
    }

    struct Point {
        var x: Double
        var y: Double
        var lo: Double?
        var hi: Double?
    }
    struct Series {
        var name: String
        var color: String
        var points: [Point]
        var dashed: Bool
    }

    static func lineChart(title: String, xLabel: String, yLabel: String, series: [Series], xTicks: [Double]) -> String {
        let (w, h, left, right, top, bottom) = (330.0, 260.0, 45.0, 10.0, 25.0, 70.0)
        let pw = w - left - right, ph = h - top - bottom
        let (xmin, xmax) = (log(xTicks.min() ?? 1), log(xTicks.max() ?? 10))
        func px(_ x: Double) -> Double { left + (xmax > xmin ? (log(x) - xmin) / (xmax - xmin) : 0.5) * pw }
        func py(_ y: Double) -> Double { top + (1 - min(1, max(0, y))) * ph }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\">"
        s += "<text x=\"\(w / 2)\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(title)</text>"
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            s += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\"\(py(t))\" y2=\"\(py(t))\" stroke=\"#eee\"/>"
            s +=
                "<text x=\"\(left - 4)\" y=\"\(py(t) + 4)\" text-anchor=\"end\" font-size=\"10\">\(String(format: "%.2f", t))</text>"
        }
        for t in xTicks {
            s += "<text x=\"\(px(t))\" y=\"\(top + ph + 14)\" text-anchor=\"middle\" font-size=\"10\">\(Int(t))</text>"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#999\"/>"
        s +=
            "<text x=\"\(left + pw / 2)\" y=\"\(top + ph + 28)\" text-anchor=\"middle\" font-size=\"11\">\(xLabel) (log)</text>"
        s +=
            "<text x=\"12\" y=\"\(top + ph / 2)\" font-size=\"11\" transform=\"rotate(-90 12 \(top + ph / 2))\" text-anchor=\"middle\">\(yLabel)</text>"
        for (i, se) in series.enumerated() {
            let path = se.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            s +=
                "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"\(se.dashed ? 1 : 1.8)\""
                + (se.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>"
            for p in se.points {
                if let lo = p.lo, let hi = p.hi {
                    s +=
                        "<line x1=\"\(px(p.x))\" x2=\"\(px(p.x))\" y1=\"\(py(lo))\" y2=\"\(py(hi))\" stroke=\"\(se.color)\"/>"
                }
                if !se.dashed { s += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"2.5\" fill=\"\(se.color)\"/>" }
            }
            let lx = left + Double(i % 3) * 95, ly = top + ph + 42 + Double(i / 3) * 13
            s +=
                "<line x1=\"\(lx)\" x2=\"\(lx + 14)\" y1=\"\(ly - 3)\" y2=\"\(ly - 3)\" stroke=\"\(se.color)\" stroke-width=\"2\""
                + (se.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>"
            s += "<text x=\"\(lx + 18)\" y=\"\(ly)\" font-size=\"10\">\(se.name)</text>"
        }
        return s + "</svg>"
    }

    /// One point per (defense, attack): x = the defense's accuracy cost, y = `metric` of the attack
    /// on images averaged over the grid.
    static func scatter(
        cells: [GridCell], costs: [DefenseCost], label: String, range: ClosedRange<Double>,
        metric: (GridCell) -> Double
    ) -> String {
        let (w, h, left, right, top, bottom) = (560.0, 360.0, 55.0, 150.0, 20.0, 45.0)
        let pw = w - left - right, ph = h - top - bottom
        let xs = costs.map { $0.cost * 100 }
        let (xmin, xmax) = (min(0, (xs.min() ?? 0)) - 0.5, max(1, (xs.max() ?? 1)) + 0.5)
        func px(_ x: Double) -> Double { left + (x - xmin) / (xmax - xmin) * pw }
        let span = range.upperBound - range.lowerBound
        func py(_ y: Double) -> Double { top + (1 - min(1, max(0, (y - range.lowerBound) / span))) * ph }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\">"
        for t in stride(from: range.lowerBound, through: range.upperBound, by: span / 4) {
            s += "<line x1=\"\(left)\" x2=\"\(left + pw)\" y1=\"\(py(t))\" y2=\"\(py(t))\" stroke=\"#eee\"/>"
            s +=
                "<text x=\"\(left - 4)\" y=\"\(py(t) + 4)\" text-anchor=\"end\" font-size=\"10\">\(String(format: span > 10 ? "%.0f" : "%.2f", t))</text>"
        }
        let step = max(0.5, ((xmax - xmin) / 6).rounded(.up))
        for t in stride(from: (xmin / step).rounded(.up) * step, through: xmax, by: step) {
            s +=
                "<text x=\"\(px(t))\" y=\"\(top + ph + 14)\" text-anchor=\"middle\" font-size=\"10\">\(String(format: "%.1f", t))</text>"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#999\"/>"
        s +=
            "<text x=\"\(left + pw / 2)\" y=\"\(h - 8)\" text-anchor=\"middle\" font-size=\"11\">accuracy cost (percentage points)</text>"
        s +=
            "<text x=\"14\" y=\"\(top + ph / 2)\" font-size=\"11\" transform=\"rotate(-90 14 \(top + ph / 2))\" text-anchor=\"middle\">\(label)</text>"
        let images = cells.filter { $0.data == (cells.first?.data ?? "") }
        for c in costs {
            for attack in AttackKind.allCases.map(\.rawValue) {
                let r = images.filter { $0.attack == attack && $0.defense == c.defense }.map(metric)
                guard !r.isEmpty else { continue }
                let (x, y) = (px(c.cost * 100), py(r.reduce(0, +) / Double(r.count)))
                s += marker(markers[c.defense] ?? "circle", x: x, y: y, color: colors[attack] ?? "#000")
            }
        }
        var ly = top + 10
        for attack in AttackKind.allCases.map(\.rawValue) {
            s += marker("circle", x: left + pw + 20, y: ly - 3, color: colors[attack] ?? "#000")
            s += "<text x=\"\(left + pw + 30)\" y=\"\(ly)\" font-size=\"11\">\(attack)</text>"
            ly += 15
        }
        for c in costs {
            s += marker(markers[c.defense] ?? "circle", x: left + pw + 20, y: ly - 3, color: "#444")
            s += "<text x=\"\(left + pw + 30)\" y=\"\(ly)\" font-size=\"11\">\(c.defense)</text>"
            ly += 15
        }
        return s + "</svg>"
    }

    static func marker(_ shape: String, x: Double, y: Double, color: String) -> String {
        switch shape {
        case "square": return "<rect x=\"\(x - 4)\" y=\"\(y - 4)\" width=\"8\" height=\"8\" fill=\"\(color)\"/>"
        case "diamond":
            return "<polygon points=\"\(x),\(y - 5) \(x + 5),\(y) \(x),\(y + 5) \(x - 5),\(y)\" fill=\"\(color)\"/>"
        case "triangle":
            return "<polygon points=\"\(x),\(y - 5) \(x + 5),\(y + 4) \(x - 5),\(y + 4)\" fill=\"\(color)\"/>"
        default: return "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"4\" fill=\"\(color)\"/>"
        }
    }
}
