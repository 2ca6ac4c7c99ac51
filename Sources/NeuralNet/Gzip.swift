import CZlib
import Foundation

/// Why gzip data could not be inflated.
public enum GzipError: Error, Equatable, CustomStringConvertible {
    case corrupt(offset: Int, reason: String)
    case truncated
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .corrupt(offset, reason): return "gzip: corrupt stream near compressed byte \(offset): \(reason)"
        case .truncated: return "gzip: stream ends before its end marker (file truncated?)"
        case let .tooLarge(limit): return "gzip: decompressed size exceeds the limit of \(limit) bytes"
        }
    }
}

/// gzip decompression through zlib (the maintained reference implementation).
public enum Gzip {
    /// True if `data` starts with the gzip magic bytes 1f 8b.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Inflates a gzip stream (concatenated members are accepted), refusing to produce more than
    /// `limit` bytes so a malicious file cannot exhaust memory. O(output size).
    public static func decompress(_ data: Data, limit: Int = 1 << 30) throws(GzipError) -> Data {
        let stream = try GzipStream(data)
        let output = try stream.read(upTo: limit)
        guard try stream.atEnd else { throw .tooLarge(limit: limit) }
        return Data(output)
    }
}

/// A gzip stream inflated on demand, so a reader can stop as soon as it has what a header
/// declared (`IDX.parse` reads the header, then exactly the declared data, and refuses a file
/// with more): a small file that inflates to gigabytes costs only what the reader asks for.
/// Concatenated members (as `cat a.gz b.gz` makes) read as one stream. Memory: the compressed
/// input, a 64 KiB window, and what the caller reads.
public final class GzipStream {
    private var stream = z_stream()
    private let input: UnsafeMutableBufferPointer<UInt8>
    private var finished = false
    /// Bytes inflated but not yet returned (at most one 64 KiB chunk).
    private var pending: ArraySlice<UInt8> = []

    public init(_ data: Data) throws(GzipError) {
        input = .allocate(capacity: max(1, data.count))
        _ = input.initialize(from: data)
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            throw .corrupt(offset: 0, reason: "zlib initialization failed")
        }
        stream.next_in = input.baseAddress
        stream.avail_in = uInt(data.count)
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// True once the stream's last member has ended and every byte has been read.
    public var atEnd: Bool {
        get throws(GzipError) {
            // A member boundary can yield an empty chunk: inflate until data or the real end.
            while pending.isEmpty && !finished { try fill() }
            return pending.isEmpty && finished
        }
    }

    /// The next bytes, up to `count` (fewer only at the end of the stream). The result grows
    /// with the data actually inflated, never to `count` ahead of it.
    public func read(upTo count: Int) throws(GzipError) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            if pending.isEmpty {
                if finished { break }
                try fill()
                continue
            }
            let take = min(count - out.count, pending.count)
            out.append(contentsOf: pending.prefix(take))
            pending = pending.dropFirst(take)
        }
        return out
    }

    /// Exactly `count` bytes, or nil if the stream ends first.
    public func read(exactly count: Int) throws(GzipError) -> [UInt8]? {
        let bytes = try read(upTo: count)
        return bytes.count == count ? bytes : nil
    }

    /// Inflates the next chunk into `pending` (possibly empty when a member boundary is
    /// crossed); sets `finished` at the end of the last member.
    private func fill() throws(GzipError) {
        let total = input.count
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            status = inflate(&stream, Z_NO_FLUSH)
            return out.count - Int(stream.avail_out)
        }
        if status != Z_OK && status != Z_STREAM_END && !(status == Z_BUF_ERROR && produced > 0) {
            if status == Z_BUF_ERROR { throw .truncated }
            let msg = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw .corrupt(offset: total - Int(stream.avail_in), reason: msg)
        }
        pending = chunk[0..<produced]
        if status == Z_STREAM_END {
            // Another gzip member may follow.
            if stream.avail_in > 0, stream.next_in[0] == 0x1f {
                guard inflateReset(&stream) == Z_OK else {
                    throw .corrupt(offset: total - Int(stream.avail_in), reason: "reset failed")
                }
            } else {
                finished = true
            }
            return
        }
        if produced == 0 && stream.avail_in == 0 { throw .truncated }
    }
}
