import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read or written: the path and the reason, one line.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Whole-file reads with the size checked before anything is allocated, and atomic writes.
public enum Files {
    /// The whole file, read straight into the array (proving keys are tens of megabytes: no
    /// intermediate `Data` copy). The size is checked against `limit` before anything is
    /// allocated (`why` says where the limit comes from).
    public static func read(_ path: String, limit: Int = 8 << 30, why: String? = nil) throws(FileError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path: path, reason: "no such file") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileError(path: path, reason: "cannot read (\(String(cString: strerror(errno))))")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw FileError(
                path: path, reason: "\(size) bytes exceeds the \(limit)-byte limit" + (why.map { " (\($0))" } ?? ""))
        }
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size, let base = buffer.baseAddress {
                let n = systemRead(fd, base + done, size - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n == 0 ? "the file shrank while being read" : String(cString: strerror(errno))
                    break
                }
                done += n
            }
            count = done
        }
        if let failure { throw FileError(path: path, reason: "cannot read (\(failure))") }
        return bytes
    }

    /// Writes `bytes` atomically, creating the parent directories.
    public static func write(_ path: String, _ bytes: some DataProtocol) throws(FileError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw FileError(path: path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}

/// POSIX read(2), named apart from `Files.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
