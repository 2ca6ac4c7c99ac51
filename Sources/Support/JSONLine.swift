import Foundation

/// One JSON value on one line with sorted keys: what every `--json` output and JSON-lines file
/// writes. `snakeCase` converts Swift's camelCase keys (the CLI's convention); infinities and NaN
/// are written as the strings "inf", "-inf", "nan" rather than failing. An unencodable value
/// yields `fallback`.
public func jsonLine<T: Encodable>(_ value: T, snakeCase: Bool = true, fallback: String = "{}") -> String {
    let encoder = JSONEncoder()
    if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? fallback
}
