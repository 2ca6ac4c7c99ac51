#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line terminal progress bar on standard error: drawn only when standard error is a
/// terminal, silent otherwise (pipes, CI logs, tests), so machine-readable standard output stays
/// clean. Redraws only when the bar or the detail text changes.
public struct ProgressBar: Sendable {
    public let label: String
    public let total: Int
    public let enabled: Bool
    public let width: Int
    private var lastDrawn: (filled: Int, done: Int) = (-1, -1)

    /// - Parameters:
    ///   - total: number of steps (at least 1 is assumed).
    ///   - enabled: defaults to "standard error is a terminal".
    public init(label: String, total: Int, enabled: Bool? = nil, width: Int = 30) {
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled ?? (isatty(STDERR_FILENO) == 1)
        self.width = width
    }

    /// Shows `done` of `total` steps with an optional detail (e.g. "shadow 3/16, acc 84%").
    public mutating func update(_ done: Int, detail: String = "") {
        guard enabled else { return }
        let clamped = min(max(done, 0), total)
        let filled = width * clamped / total
        guard filled != lastDrawn.filled || clamped != lastDrawn.done else { return }
        lastDrawn = (filled, clamped)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        ProgressBar.emit("\r\(label) [\(bar)] \(clamped)/\(total) \(detail)\u{1B}[K")
    }

    /// Completes the bar and moves to the next line.
    public mutating func finish(detail: String = "") {
        guard enabled else { return }
        lastDrawn = (-1, -1)
        update(total, detail: detail)
        ProgressBar.emit("\n")
    }

    private static func emit(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { p in
            var offset = 0
            while offset < p.count {
                let n = write(STDERR_FILENO, p.baseAddress.map { $0 + offset }, p.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
