import Foundation
import Report

/// Where the demo reports what it is doing: stages, units of work within a stage, and one line
/// per finished stage. Called from the demo's task and from the split client's step callback.
public protocol DemoProgress: Sendable {
    /// Stage `index` (1-based) of `count` begins, with `units` units of work to count.
    func begin(stage index: Int, of count: Int, title: String, units: Int)
    /// `done` of the current stage's units are finished.
    func update(_ done: Int, detail: String)
    /// The current stage ended; `line` says what it measured.
    func end(_ line: String)
}

/// Reports nothing (tests, `--json` pipelines that want a quiet standard error).
public struct SilentProgress: DemoProgress {
    public init() {}
    public func begin(stage index: Int, of count: Int, title: String, units: Int) {}
    public func update(_ done: Int, detail: String) {}
    public func end(_ line: String) {}
}

/// Standard error: a `ProgressBar` per stage on a terminal, replaced by the stage's result line
/// when it ends; one line per stage start and end otherwise (logs and pipes). Standard output
/// stays free for the summary.
public final class StandardErrorProgress: DemoProgress, @unchecked Sendable {
    private let lock = NSLock()
    private let terminal: Bool
    private var bar: ProgressBar?
    private var title = ""

    /// `terminal` defaults to "standard error is a terminal".
    public init(terminal: Bool? = nil) {
        self.terminal = terminal ?? ProgressBar(label: "", total: 1).enabled
    }

    public func begin(stage index: Int, of count: Int, title: String, units: Int) {
        lock.withLock {
            self.title = "[\(index)/\(count)] \(title)"
            if terminal {
                bar = ProgressBar(label: self.title, total: units, enabled: true)
            } else {
                Self.write("\(self.title) ...\n")
            }
        }
    }

    public func update(_ done: Int, detail: String) {
        lock.withLock { bar?.update(done, detail: detail) }
    }

    public func end(_ line: String) {
        lock.withLock {
            if bar != nil {
                bar = nil
                Self.write("\r\u{1B}[K")
            }
            Self.write("\(title): \(line)\n")
        }
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
