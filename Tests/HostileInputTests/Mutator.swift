import Foundation
import XCTest

/// A seeded mutator for bad-input tests: the byte-level and JSON-level mutations of
/// `scripts/hostile-campaign.py`, deterministic in the seed so a failure replays exactly.
struct Mutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9e37_79b9_7f4a_7c15 }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state = state &+ 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func range(_ lo: Int, _ hi: Int) -> Int { lo + below(hi - lo + 1) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    /// One of: bit flip, byte set, several byte sets, truncation, insertion, deletion,
    /// duplication, a huge u32/u64 written over an aligned field, a zeroed range, appended junk,
    /// or a range copied over another (valid pieces in the wrong place).
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var d = input
        let n = d.count
        guard n > 0 else { return (0..<range(1, 64)).map { _ in byte() } }
        switch below(12) {
        case 0: d[below(n)] ^= 1 << UInt8(below(8))
        case 1: d[below(n)] = byte()
        case 2: for _ in 0..<range(2, 8) { d[below(n)] = byte() }
        case 3: d.removeLast(n - below(n))
        case 4: d.insert(contentsOf: (0..<range(1, 64)).map { _ in byte() }, at: below(n + 1))
        case 5:
            let i = below(n)
            d.removeSubrange(i..<min(n, i + range(1, 64)))
        case 6:
            let i = below(n)
            d.insert(contentsOf: d[i..<min(n, i + range(1, 256))], at: i)
        case 7 where n >= 4:
            let i = below(n / 4) * 4
            let v = pick([
                UInt32.max, 0x7fff_ffff, 0x8000_0000, 0x1000_0000, 0x0100_0000, 0, UInt32(truncatingIfNeeded: n * 8),
            ])
            let big = next() & 1 == 0
            for k in 0..<4 { d[i + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * (big ? 3 - k : k))) }
        case 8 where n >= 8:
            let i = min(below(n / 4) * 4, n - 8)
            let v = pick([UInt64.max, UInt64(Int64.max), 1 << 40, 1 << 33, 1 << 31])
            for k in 0..<8 { d[i + k] = UInt8(truncatingIfNeeded: v >> UInt64(8 * k)) }
        case 9:
            let i = below(n)
            for k in i..<min(n, i + range(1, 512)) { d[k] = 0 }
        case 10 where n >= 128:
            let k = pick([32, 64, 128])
            let a = below(n - k), b = below(n - k)
            d.replaceSubrange(b..<(b + k), with: Array(d[a..<(a + k)]))
        default:
            d += (0..<range(1, 512)).map { _ in byte() }
        }
        return d
    }

    /// Text-level JSON mutations aimed at the readers' checks (a quarter of the time a byte
    /// mutation instead): a string or number token replaced by another type, a value at or
    /// above a field modulus, a leading zero, a sign, deep nesting, a duplicated or deleted
    /// array element.
    mutating func mutateJSON(_ input: [UInt8]) -> [UInt8] {
        if below(4) == 0 { return mutate(input) }
        let text = String(decoding: input, as: UTF8.self)
        let tokens = Self.tokens(text)
        guard !tokens.isEmpty else { return mutate(input) }
        let (lo, hi) = pick(tokens)
        let token = String(text[lo..<hi])
        let digits = token.filter(\.isNumber)
        let fq = "21888242871839275222246405745257275088696311157297823662689037894645226208583"
        let fr = "21888242871839275222246405745257275088548364400416034343698204186575808495617"
        let replacement: String
        switch below(8) {
        case 0: replacement = pick(["0", "-1", "1e308", "null", "true", "[]", "{}", "\"\"", "[[1]]", "{\"a\":1}"])
        case 1:
            replacement =
                "\""
                + pick([fq, fr, "0" + digits, "-" + digits, digits + "0", "1" + String(repeating: "0", count: 100)])
                + "\""
        case 2: replacement = token.hasPrefix("\"") ? String(token.dropFirst().dropLast()) : "\"" + token + "\""
        case 3:
            // An off-curve or shifted coordinate: the last digit changed.
            guard let last = digits.last, let v = last.wholeNumberValue else { return mutate(input) }
            replacement = token.replacingOccurrences(
                of: String(digits), with: String(digits.dropLast()) + String((v + 1) % 10))
        case 4:
            let depth = pick([100, 10_000, 100_000])
            replacement = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        case 5: replacement = token + "," + token
        case 6: replacement = ""
        default: replacement = pick(["2147483648", "4294967297", "9223372036854775808", "-9223372036854775809", "0.5"])
        }
        var out = text
        out.replaceSubrange(lo..<hi, with: replacement)
        return Array(out.utf8)
    }

    /// Ranges of string literals and bare number/literal tokens in a JSON text.
    static func tokens(_ text: String) -> [(String.Index, String.Index)] {
        var out: [(String.Index, String.Index)] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "\"" {
                var j = text.index(after: i)
                while j < text.endIndex && text[j] != "\"" { j = text.index(after: j) }
                let end = j < text.endIndex ? text.index(after: j) : j
                out.append((i, end))
                i = end
            } else if c.isNumber || c == "-" || c.isLetter {
                var j = i
                while j < text.endIndex && (text[j].isNumber || text[j].isLetter || "-+.".contains(text[j])) {
                    j = text.index(after: j)
                }
                out.append((i, j))
                i = j
            } else {
                i = text.index(after: i)
            }
        }
        return out
    }
}

/// Runs `body` on `count` mutants of `seed`, failing the test if any one takes longer than
/// `limit` seconds (a hang or a blow-up in the making). Returns how many `body` accepted, so
/// tests can see the mutations reached past the first checks. A trap ends the test process,
/// which the suite reports as a failure.
func fuzz(
    _ name: String, seed: [UInt8], count: Int, json: Bool = false, limit: Double = 1, rngSeed: UInt64 = 24,
    file: StaticString = #filePath, line: UInt = #line, _ body: ([UInt8]) throws -> Bool
) -> Int {
    var m = Mutator(seed: rngSeed)
    var accepted = 0
    for i in 0..<count {
        let input = json ? m.mutateJSON(seed) : m.mutate(seed)
        let start = Date()
        if (try? body(input)) == true { accepted += 1 }
        let seconds = Date().timeIntervalSince(start)
        if seconds > limit {
            XCTFail("\(name): mutant #\(i) took \(seconds) s (limit \(limit) s)", file: file, line: line)
        }
    }
    return accepted
}
