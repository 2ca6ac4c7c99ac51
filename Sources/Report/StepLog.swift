import Foundation

/// One line per long step on standard error when it is a terminal ("label... 1.23 s"); silent
/// otherwise, so pipes and logs get only the results.
public struct StepLog: Sendable {
    public let enabled = isatty(STDERR_FILENO) != 0

    public init() {}

    public func step<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        if enabled { FileHandle.standardError.write(Data("\(label)...".utf8)) }
        let result = try body()
        if enabled {
            FileHandle.standardError.write(Data(String(format: " %.2f s\n", Date().timeIntervalSince(start)).utf8))
        }
        return result
    }
}

/// Progress of long multi-part work (ceremony contributions and verifications) on standard error
/// when it is a terminal: a bar for counted steps (`total > 0`), one timed line per step otherwise.
public final class TerminalProgress: @unchecked Sendable {
    private var bar: ProgressBar?
    private var step: (String, Date)?
    private let enabled = isatty(STDERR_FILENO) != 0

    public init() {}

    public func report(_ label: String, _ done: Int, _ total: Int) {
        guard enabled else { return }
        if total > 0 {
            if bar == nil || bar?.total != total {
                endStep()
                bar = ProgressBar(label: "verifying", total: total)
            }
            bar?.update(done, detail: label)
        } else {
            endStep()
            FileHandle.standardError.write(Data("\(label)...".utf8))
            step = (label, Date())
        }
    }

    private func endStep() {
        if let (_, start) = step {
            FileHandle.standardError.write(Data(String(format: " %.2f s\n", Date().timeIntervalSince(start)).utf8))
            step = nil
        }
    }

    /// Ends the current line or bar.
    public func finish() {
        endStep()
        bar?.finish()
        bar = nil
    }
}
