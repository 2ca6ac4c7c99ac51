import Foundation

/// The result of a `verisplit bench` command that measures a list of named figures: printed as an
/// aligned two-column table under a title, or as one JSON object (keys in order). Values are
/// `Int`, `Double` (non-finite as JSON null) or strings.
public struct BenchTable: Sendable {
    public var title: String
    public var rows: [(String, any Sendable)]

    public init(title: String, rows: [(String, any Sendable)] = []) {
        self.title = title
        self.rows = rows
    }

    public mutating func append(_ key: String, _ value: any Sendable) { rows.append((key, value)) }

    /// One JSON object, numbers with 6 significant digits.
    public var json: String {
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
        return "{" + body.joined(separator: ", ") + "}"
    }

    /// The title, then one indented `key  value` line per row (numbers with 4 significant digits).
    public var text: String {
        let width = rows.map(\.0.count).max() ?? 0
        return
            ([title]
            + rows.map { key, value in
                let rendered = (value as? Double).map { String(format: "%.4g", $0) } ?? "\(value)"
                return "  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rendered
            }).joined(separator: "\n")
    }

    public func rendered(json: Bool) -> String { json ? self.json : text }
}
