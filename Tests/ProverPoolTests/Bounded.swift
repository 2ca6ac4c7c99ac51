import Dispatch
import Foundation

/// A test wait that ran out of time: says what was awaited and for how long.
struct WaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

/// Resumes a continuation once: the first of the awaited work and the timer wins.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<T, Error>, Never>?

    init(_ continuation: CheckedContinuation<Result<T, Error>, Never>) { self.continuation = continuation }

    func resume(_ result: Result<T, Error>) {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(returning: result)
    }
}

/// Runs `work` and waits for it at most `seconds`: a test that would hang fails instead, with
/// `what` in the error. The timer runs on a Dispatch queue, outside the concurrency pool, so it
/// fires even when the awaited work never yields; on a timeout the work is cancelled (and left
/// to end on its own).
func bounded<T: Sendable>(
    _ what: String, seconds: Double, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    let task = Task { try await work() }
    let result: Result<T, Error> = await withCheckedContinuation { continuation in
        let once = ResumeOnce(continuation)
        Task { once.resume(await task.result) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            once.resume(.failure(WaitTimedOut(description: "\(what): not done within \(Int(seconds)) s")))
        }
    }
    if case .failure(let error) = result, error is WaitTimedOut { task.cancel() }
    return try result.get()
}

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`.
func waitUntil(
    _ what: String, seconds: Double, _ condition: @escaping @Sendable () async -> Bool
) async throws {
    try await bounded(what, seconds: seconds) {
        while !(await condition()) { try await Task.sleep(for: .milliseconds(20)) }
    }
}
