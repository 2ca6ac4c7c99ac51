/// A JSON value whose objects keep their key order, so reports read top-down in the order a
/// person wants (headline numbers first) and diff cleanly between runs.
///
/// Non-finite numbers have no JSON form; they are written as `null` (and documented as such by
/// every report that may produce them).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// An object from key-value pairs, in the given order.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { JSONMember($0.key, $0.value) })
    }

    /// A number, or `null` when it is nil.
    public static func number(_ value: Double?) -> JSONValue {
        value.map { .number($0) } ?? .null
    }

    /// An array of numbers.
    public static func numbers<S: Sequence>(_ values: S) -> JSONValue where S.Element: BinaryFloatingPoint {
        .array(values.map { .number(Double($0)) })
    }

    /// The member `key` of an object, or nil (for tests and readers).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Compact when `indent` is nil, else pretty-printed with that many spaces per level (arrays of
    /// scalars stay on one line). O(size of the value).
    public func serialized(indent: Int? = 2) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private func write(to out: inout String, indent: Int?, level: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .number(d): out += JSONValue.format(d)
        case let .string(s): out += JSONValue.quote(s)
        case let .array(items):
            if items.isEmpty {
                out += "[]"
                return
            }
            if indent == nil || items.allSatisfy(\.isScalar) {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += indent == nil ? "," : ", " }
                    item.write(to: &out, indent: indent, level: level + 1)
                }
                out += "]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                out += i > 0 ? ",\n" : "\n"
                out += JSONValue.pad(indent, level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            out += "\n" + JSONValue.pad(indent, level) + "]"
        case let .object(members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (i, m) in members.enumerated() {
                if indent != nil {
                    out += i > 0 ? ",\n" : "\n"
                    out += JSONValue.pad(indent, level + 1)
                } else if i > 0 {
                    out += ","
                }
                out += JSONValue.quote(m.key) + (indent == nil ? ":" : ": ")
                m.value.write(to: &out, indent: indent, level: level + 1)
            }
            if indent != nil { out += "\n" + JSONValue.pad(indent, level) }
            out += "}"
        }
    }

    private static func pad(_ indent: Int?, _ level: Int) -> String {
        String(repeating: " ", count: (indent ?? 0) * level)
    }

    /// Shortest round-trip decimal form; integral values without a fraction; non-finite as null.
    static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// A JSON string literal with the mandatory escapes.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// One key-value pair of a `JSONValue.object`.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
