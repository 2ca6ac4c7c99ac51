#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A 2-D point of a plotted series.
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// How an axis maps data to pixels.
public enum AxisScale: Sendable, Equatable {
    case linear
    /// Base-10 logarithmic; values <= 0 are clipped to the axis minimum.
    case log
}

/// One named line of a `LinePlot`.
public struct PlotSeries: Sendable, Equatable {
    public var name: String
    public var points: [PlotPoint]
    /// CSS colour, e.g. "#1f77b4".
    public var color: String
    public var dashed: Bool
    /// Draw a marker at every point (for sparse series).
    public var markers: Bool

    public init(name: String, points: [PlotPoint], color: String, dashed: Bool = false, markers: Bool = false) {
        self.name = name
        self.points = points
        self.color = color
        self.dashed = dashed
        self.markers = markers
    }
}

/// Colours that stay distinguishable for common colour-vision deficiencies (Okabe-Ito).
public enum Palette {
    public static let colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    public static func color(_ i: Int) -> String { colors[((i % colors.count) + colors.count) % colors.count] }
}

/// A line chart rendered as a self-contained inline SVG element (no scripts, no fonts, no
/// network): axes with ticks, gridlines, axis labels, a legend, linear or log axes.
public struct LinePlot: Sendable, Equatable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale
    public var yScale: AxisScale
    /// Axis ranges; nil fits the data.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var series: [PlotSeries]
    public var width: Int
    public var height: Int

    public init(
        title: String, xLabel: String, yLabel: String, xScale: AxisScale = .linear, yScale: AxisScale = .linear,
        xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, series: [PlotSeries],
        width: Int = 520, height: Int = 400
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
        self.width = width
        self.height = height
    }

    /// The chart as an `<svg>` element. O(points).
    public func svg() -> String {
        let frame = PlotFrame(width: width, height: height, title: title)
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        let xAxis = Axis(scale: xScale, range: xRange ?? Axis.fit(xs, scale: xScale), from: frame.left, to: frame.right)
        let yAxis = Axis(scale: yScale, range: yRange ?? Axis.fit(ys, scale: yScale), from: frame.bottom, to: frame.top)
        var out = frame.open(title: title)
        out += frame.axes(x: xAxis, y: yAxis, xLabel: xLabel, yLabel: yLabel)
        out += "<g clip-path=\"url(#\(frame.clipID))\">"
        for s in series {
            let pts = s.points.map { "\(svgNum(xAxis.pixel($0.x))),\(svgNum(yAxis.pixel($0.y)))" }
            guard !pts.isEmpty else { continue }
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out +=
                "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash) points=\"\(pts.joined(separator: " "))\"/>"
            if s.markers {
                for p in s.points {
                    out +=
                        "<circle cx=\"\(svgNum(xAxis.pixel(p.x)))\" cy=\"\(svgNum(yAxis.pixel(p.y)))\" r=\"3\" fill=\"\(s.color)\"/>"
                }
            }
        }
        out += "</g>"
        out += frame.legend(series.map { ($0.name, $0.color, $0.dashed) })
        return out + "</svg>"
    }
}

/// Overlaid histograms of several groups on shared bins (e.g. attack scores of members and
/// non-members), as an inline SVG element. Bars are translucent so overlaps stay visible; each
/// group is normalized to a density (fraction of the group per bin) so groups of different sizes
/// compare.
public struct HistogramPlot: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var values: [Double]
        public var color: String
        public init(name: String, values: [Double], color: String) {
            self.name = name
            self.values = values
            self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var groups: [Group]
    public var bins: Int
    public var width: Int
    public var height: Int

    public init(title: String, xLabel: String, groups: [Group], bins: Int = 40, width: Int = 520, height: Int = 400) {
        self.title = title
        self.xLabel = xLabel
        self.groups = groups
        self.bins = max(bins, 1)
        self.width = width
        self.height = height
    }

    /// Fraction of each group's finite values in each of `bins` equal bins over `range`.
    public static func densities(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        let finite = values.filter(\.isFinite)
        let span = range.upperBound - range.lowerBound
        for v in finite {
            let b = span > 0 ? Int(((v - range.lowerBound) / span * Double(bins)).rounded(.down)) : 0
            counts[min(max(b, 0), bins - 1)] += 1
        }
        return counts.map { $0 / Double(max(finite.count, 1)) }
    }

    /// The chart as an `<svg>` element. O(values + bins).
    public func svg() -> String {
        let frame = PlotFrame(width: width, height: height, title: title)
        let all = groups.flatMap(\.values).filter(\.isFinite).sorted()
        // Bins span the 0.5%..99.5% quantiles so a few extreme scores do not squeeze the rest
        // into one bin; values beyond fall into the edge bins.
        let range =
            all.isEmpty
            ? 0...1
            : Axis.fit([all[all.count / 200], all[(all.count - 1) - all.count / 200]], scale: .linear, pad: false)
        let dens = groups.map { HistogramPlot.densities($0.values, bins: bins, range: range) }
        let top = max(dens.flatMap { $0 }.max() ?? 1, 1e-9) * 1.05
        let xAxis = Axis(scale: .linear, range: range, from: frame.left, to: frame.right)
        let yAxis = Axis(scale: .linear, range: 0...top, from: frame.bottom, to: frame.top)
        var out = frame.open(title: title)
        out += frame.axes(x: xAxis, y: yAxis, xLabel: xLabel, yLabel: "fraction of group")
        let binWidth = (range.upperBound - range.lowerBound) / Double(bins)
        for (g, group) in groups.enumerated() {
            for (b, d) in dens[g].enumerated() where d > 0 {
                let x0 = xAxis.pixel(range.lowerBound + Double(b) * binWidth)
                let x1 = xAxis.pixel(range.lowerBound + Double(b + 1) * binWidth)
                let y = yAxis.pixel(d)
                out +=
                    "<rect x=\"\(svgNum(x0))\" y=\"\(svgNum(y))\" width=\"\(svgNum(max(x1 - x0, 0.5)))\" "
                    + "height=\"\(svgNum(frame.bottom - y))\" fill=\"\(group.color)\" fill-opacity=\"0.45\" "
                    + "stroke=\"\(group.color)\" stroke-width=\"0.5\"/>"
            }
        }
        out += frame.legend(groups.map { ($0.name + " (n=\($0.values.count))", $0.color, false) })
        return out + "</svg>"
    }
}

// MARK: - Layout and axes

/// Margins and the drawing area of one chart.
struct PlotFrame {
    let width: Int
    let height: Int
    let left = 64.0, rightMargin = 16.0, topMargin = 34.0, bottomMargin = 48.0
    var right: Double { Double(width) - rightMargin }
    var top: Double { topMargin }
    var bottom: Double { Double(height) - bottomMargin }
    /// The clip-path id; distinct titles give distinct ids within one document.
    let clipID: String

    init(width: Int, height: Int, title: String) {
        self.width = width
        self.height = height
        clipID =
            "clip-"
            + String(
                title.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.map(
                    Character.init))
    }

    func open(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"\(escapeXML(title))\">"
            + "<defs><clipPath id=\"\(clipID)\"><rect x=\"\(svgNum(left))\" y=\"\(svgNum(top))\" "
            + "width=\"\(svgNum(right - left))\" height=\"\(svgNum(bottom - top))\"/></clipPath></defs>"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
            + "<text x=\"\(width / 2)\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(escapeXML(title))</text>"
    }

    func axes(x: Axis, y: Axis, xLabel: String, yLabel: String) -> String {
        var out = ""
        for t in x.ticks() {
            let px = svgNum(x.pixel(t))
            out += "<line x1=\"\(px)\" y1=\"\(svgNum(top))\" x2=\"\(px)\" y2=\"\(svgNum(bottom))\" stroke=\"#e5e5e5\"/>"
            out += "<text x=\"\(px)\" y=\"\(svgNum(bottom + 15))\" text-anchor=\"middle\">\(x.label(t))</text>"
        }
        for t in y.ticks() {
            let py = svgNum(y.pixel(t))
            out += "<line x1=\"\(svgNum(left))\" y1=\"\(py)\" x2=\"\(svgNum(right))\" y2=\"\(py)\" stroke=\"#e5e5e5\"/>"
            out +=
                "<text x=\"\(svgNum(left - 6))\" y=\"\(py)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(y.label(t))</text>"
        }
        out +=
            "<rect x=\"\(svgNum(left))\" y=\"\(svgNum(top))\" width=\"\(svgNum(right - left))\" height=\"\(svgNum(bottom - top))\" "
            + "fill=\"none\" stroke=\"#333\"/>"
        out +=
            "<text x=\"\(svgNum((left + right) / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escapeXML(xLabel))</text>"
        let cy = svgNum((top + bottom) / 2)
        out +=
            "<text x=\"14\" y=\"\(cy)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 \(cy))\">\(escapeXML(yLabel))</text>"
        return out
    }

    func legend(_ entries: [(name: String, color: String, dashed: Bool)]) -> String {
        var out = ""
        let longest = entries.map(\.name.count).max() ?? 0
        let boxWidth = Double(min(longest, 40)) * 6.2 + 34
        let x = right - boxWidth - 8
        var y = top + 10
        guard !entries.isEmpty else { return "" }
        out +=
            "<rect x=\"\(svgNum(x - 4))\" y=\"\(svgNum(y - 8))\" width=\"\(svgNum(boxWidth))\" "
            + "height=\"\(svgNum(Double(entries.count) * 16 + 4))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>"
        for e in entries {
            let dash = e.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out +=
                "<line x1=\"\(svgNum(x))\" y1=\"\(svgNum(y))\" x2=\"\(svgNum(x + 22))\" y2=\"\(svgNum(y))\" stroke=\"\(e.color)\" stroke-width=\"3\"\(dash)/>"
            out +=
                "<text x=\"\(svgNum(x + 28))\" y=\"\(svgNum(y))\" dominant-baseline=\"middle\">\(escapeXML(e.name))</text>"
            y += 16
        }
        return out
    }
}

/// Maps data values to pixels on one axis and picks readable ticks.
struct Axis {
    let scale: AxisScale
    let range: ClosedRange<Double>
    /// Pixel of `range.lowerBound` and of `range.upperBound` (the y axis runs bottom to top, so
    /// its first pixel is the larger one).
    let from: Double, to: Double

    private func t(_ v: Double) -> Double {
        switch scale {
        case .linear: return v
        case .log: return log10(max(v, range.lowerBound))
        }
    }

    func pixel(_ v: Double) -> Double {
        let a = t(range.lowerBound), b = t(range.upperBound)
        let f = b > a ? (t(v) - a) / (b - a) : 0.5
        return from + f * (to - from)
    }

    /// Powers of ten on log axes; 1, 2 or 5 times a power of ten on linear ones (4 to 10 ticks).
    func ticks() -> [Double] {
        switch scale {
        case .log:
            let lo = Int(log10(range.lowerBound).rounded(.up)), hi = Int(log10(range.upperBound).rounded(.down))
            guard lo <= hi else { return [range.lowerBound, range.upperBound] }
            return (lo...hi).map { pow(10, Double($0)) }
        case .linear:
            let span = range.upperBound - range.lowerBound
            guard span > 0, span.isFinite else { return [range.lowerBound] }
            let raw = span / 6
            let mag = pow(10, (log10(raw)).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * mag }.first { span / $0 <= 8 } ?? 10 * mag
            var out = [Double]()
            var v = (range.lowerBound / step).rounded(.up) * step
            while v <= range.upperBound + step * 1e-9 {
                out.append(abs(v) < step * 1e-9 ? 0 : v)
                v += step
            }
            return out
        }
    }

    func label(_ v: Double) -> String {
        switch scale {
        case .log:
            let e = Int(log10(v).rounded())
            return e >= -2 && e <= 3 ? shortNumber(v) : "1e\(e)"
        case .linear:
            return shortNumber(v)
        }
    }

    /// A data range that holds every finite value (positive ones only for log axes), padded by 5%
    /// on linear axes so lines do not sit on the frame.
    static func fit(_ values: [Double], scale: AxisScale, pad: Bool = true) -> ClosedRange<Double> {
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard let lo = usable.min(), let hi = usable.max() else { return scale == .log ? 1e-3...1 : 0...1 }
        switch scale {
        case .log:
            let a = pow(10, log10(lo).rounded(.down)), b = pow(10, log10(hi).rounded(.up))
            return a < b ? a...b : a...(a * 10)
        case .linear:
            if hi == lo { return (lo - 0.5)...(hi + 0.5) }
            let p = pad ? 0.05 * (hi - lo) : 0
            return (lo - p)...(hi + p)
        }
    }
}

/// A number with at most 4 significant digits and no trailing zeros ("0.25", "1000", "1e-05").
func shortNumber(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 {
        let e = Int(log10(a).rounded(.down))
        let m = v / pow(10, Double(e))
        return trimZeros(formatDecimal(m, digits: 2)) + "e\(e)"
    }
    let digits = max(0, 3 - Int(log10(a).rounded(.down)))
    return trimZeros(formatDecimal(v, digits: min(digits, 6)))
}

private func trimZeros(_ s: String) -> String {
    guard s.contains(".") else { return s }
    var t = s
    while t.hasSuffix("0") { t.removeLast() }
    if t.hasSuffix(".") { t.removeLast() }
    return t
}

/// Coordinates with two decimals (keeps SVGs small).
func svgNum(_ v: Double) -> String { formatDecimal(v.isFinite ? v : 0, digits: 2) }

/// Escapes text for XML/HTML content and attribute values.
public func escapeXML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
