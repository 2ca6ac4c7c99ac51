/// A plain-text table for terminals and logs: a header row, a rule, and rows whose cells are
/// padded to the widest entry of their column. Cells that parse as numbers are right-aligned,
/// text is left-aligned.
public struct TextTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    /// Precondition-free: rows shorter than the header are padded with empty cells.
    public init(header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines joined by newlines (no trailing newline). O(cells).
    public func render() -> String {
        let columns = max(header.count, rows.map(\.count).max() ?? 0)
        func cell(_ row: [String], _ c: Int) -> String { c < row.count ? row[c] : "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in [header] + rows {
            for c in 0..<columns { widths[c] = max(widths[c], cell(row, c).count) }
        }
        func line(_ row: [String], numericRight: Bool) -> String {
            (0..<columns).map { c -> String in
                let text = cell(row, c)
                let fill = String(repeating: " ", count: widths[c] - text.count)
                return numericRight && TextTable.looksNumeric(text) ? fill + text : text + fill
            }.joined(separator: "  ")
        }
        var lines = [line(header, numericRight: false)]
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += rows.map { line($0, numericRight: true) }
        return lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }

    static func looksNumeric(_ s: String) -> Bool {
        let core = s.hasSuffix("%") ? String(s.dropLast()) : s
        return !core.isEmpty && (Double(core) != nil || core == "inf" || core == "-inf")
    }
}

/// Fixed-precision decimal formatting without Foundation (`format(0.12345, digits: 3)` is
/// "0.123"); non-finite values print as "inf", "-inf", "nan".
public func formatDecimal(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<max(digits, 0) { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return "\(value)" }
    let whole = Int64(scaled)
    let unit = Int64(scale)
    let intPart = whole / unit
    let frac = whole % unit
    var s = (value < 0 && whole != 0 ? "-" : "") + String(intPart)
    if digits > 0 {
        let f = String(frac)
        s += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return s
}
