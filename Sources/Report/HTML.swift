/// One block of an HTML report.
public enum HTMLBlock: Sendable, Equatable {
    /// A paragraph of plain text (escaped).
    case paragraph(String)
    /// A highlighted note (warnings, caveats), plain text.
    case note(String)
    /// A table; cells are plain text.
    case table(header: [String], rows: [[String]])
    /// Two-column key/value table.
    case keyValues([(String, String)])
    /// Inline SVG elements shown side by side (wrapping on narrow windows); trusted markup from
    /// `LinePlot`/`HistogramPlot`.
    case figures([String])
    /// Preformatted text (escaped), e.g. a command line or JSON excerpt.
    case preformatted(String)
    /// A list of links (text, relative or absolute address), e.g. to the other files of a report folder.
    case links([(String, String)])
    /// Images (address, caption) side by side, e.g. PNG files next to the report.
    case images([(String, String)])

    public static func == (lhs: HTMLBlock, rhs: HTMLBlock) -> Bool {
        switch (lhs, rhs) {
        case let (.paragraph(a), .paragraph(b)), let (.note(a), .note(b)), let (.preformatted(a), .preformatted(b)):
            return a == b
        case let (.table(h1, r1), .table(h2, r2)): return h1 == h2 && r1 == r2
        case let (.keyValues(a), .keyValues(b)), let (.links(a), .links(b)), let (.images(a), .images(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.figures(a), .figures(b)): return a == b
        default: return false
        }
    }
}

/// A titled section of an HTML report.
public struct HTMLSection: Sendable, Equatable {
    public var heading: String
    public var blocks: [HTMLBlock]
    public init(heading: String, blocks: [HTMLBlock]) {
        self.heading = heading
        self.blocks = blocks
    }
}

/// A single-file HTML report: inline CSS and inline SVG only, no scripts, fonts or any other
/// network resource, so it opens offline and can be archived or mailed as one file.
public struct HTMLReport: Sendable, Equatable {
    public var title: String
    public var subtitle: String
    public var sections: [HTMLSection]

    public init(title: String, subtitle: String = "", sections: [HTMLSection] = []) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    /// The complete document. O(size of the content).
    public func render() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escapeXML(title))</title>
            <style>
            body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1120px; color: #222; padding: 0 16px; }
            h1 { font-size: 24px; margin-bottom: 4px; }
            h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
            .subtitle { color: #666; margin-top: 0; }
            table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
            th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; }
            th { background: #f4f4f4; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            .note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; margin: 8px 0; }
            .figures { display: flex; flex-wrap: wrap; gap: 12px; }
            .figures svg, .figures img { border: 1px solid #eee; }
            figure { margin: 0; } figcaption { font-size: 13px; color: #555; }
            img { image-rendering: pixelated; }
            pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
            </style>
            </head>
            <body>
            <h1>\(escapeXML(title))</h1>

            """
        if !subtitle.isEmpty { out += "<p class=\"subtitle\">\(escapeXML(subtitle))</p>\n" }
        for section in sections {
            out += "<section>\n<h2>\(escapeXML(section.heading))</h2>\n"
            for block in section.blocks { out += HTMLReport.render(block) + "\n" }
            out += "</section>\n"
        }
        return out + "</body>\n</html>\n"
    }

    static func render(_ block: HTMLBlock) -> String {
        switch block {
        case let .paragraph(text): return "<p>\(escapeXML(text))</p>"
        case let .note(text): return "<div class=\"note\">\(escapeXML(text))</div>"
        case let .preformatted(text): return "<pre>\(escapeXML(text))</pre>"
        case let .figures(svgs): return "<div class=\"figures\">\n" + svgs.joined(separator: "\n") + "\n</div>"
        case let .links(links):
            return "<ul>\n"
                + links.map { "<li><a href=\"\(escapeXML($0.1))\">\(escapeXML($0.0))</a></li>" }.joined(separator: "\n")
                + "\n</ul>"
        case let .images(images):
            return "<div class=\"figures\">\n"
                + images.map {
                    "<figure><img src=\"\(escapeXML($0.0))\" alt=\"\(escapeXML($0.1))\"><figcaption>\(escapeXML($0.1))</figcaption></figure>"
                }.joined(separator: "\n") + "\n</div>"
        case let .keyValues(pairs):
            let rows = pairs.map { "<tr><th>\(escapeXML($0.0))</th>\(cell($0.1))</tr>" }
            return "<table>\n" + rows.joined(separator: "\n") + "\n</table>"
        case let .table(header, rows):
            var out = "<table>\n<tr>" + header.map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr>\n"
            for row in rows { out += "<tr>" + row.map(cell).joined() + "</tr>\n" }
            return out + "</table>"
        }
    }

    private static func cell(_ text: String) -> String {
        TextTable.looksNumeric(text) ? "<td class=\"num\">\(escapeXML(text))</td>" : "<td>\(escapeXML(text))</td>"
    }
}
