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
        var input = [UInt8](data)
        var output = [UInt8]()
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(offset: 0, reason: "zlib initialization failed")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let total = input.count
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { (inBuf) throws(GzipError) in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(total)
            while true {
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
                guard output.count + produced <= limit else { throw .tooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    // Another gzip member may follow (as `cat a.gz b.gz` makes).
                    guard stream.avail_in > 0, stream.next_in[0] == 0x1f else { break }
                    guard inflateReset(&stream) == Z_OK else { throw .corrupt(offset: total - Int(stream.avail_in), reason: "reset failed") }
                    continue
                }
                if produced == 0 && stream.avail_in == 0 { throw .truncated }
            }
        }
        return Data(output)
    }
}
