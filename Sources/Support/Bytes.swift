/// A read that would pass the end of the bytes a `ByteReader` may use.
public struct ByteReadError: Error, Equatable, CustomStringConvertible {
    /// Where the read started (an absolute offset into the buffer).
    public let offset: Int
    /// How many bytes were missing.
    public let needed: Int

    public init(offset: Int, needed: Int) {
        self.offset = offset
        self.needed = needed
    }

    public var description: String { "truncated at byte \(offset) (needed \(needed) more bytes)" }
}

/// A bounds-checked cursor over a byte buffer, the one place where the binary formats (circom
/// `.r1cs`/`.wtns`, binfileutils `.zkey`/`.ptau`, `proving.key`) check a read against the bytes
/// present and decode fixed-width integers. Reads never pass `limit` (the end of the current
/// section, or of the buffer); each format maps `ByteReadError` to its own typed error, with the
/// section or field it was reading. O(1) per integer, no allocation.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public var offset: Int
    /// Reads stop here.
    public var limit: Int

    public init(_ bytes: [UInt8], offset: Int = 0, limit: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.limit = min(limit ?? bytes.count, bytes.count)
    }

    /// Bytes left before `limit` (0 when the cursor stands past it). A `limit` set beyond the
    /// buffer counts as its end, so no read can leave the buffer whatever callers set.
    public var remaining: Int { max(0, min(limit, bytes.count) - offset) }

    /// Throws unless `n` more bytes are available (a negative `n`, or any `n` at a negative
    /// offset, is never available).
    public func need(_ n: Int) throws(ByteReadError) {
        guard n >= 0, offset >= 0, n <= remaining else { throw ByteReadError(offset: offset, needed: n - remaining) }
    }

    /// The next `n` bytes; the cursor moves past them.
    public mutating func take(_ n: Int) throws(ByteReadError) -> ArraySlice<UInt8> {
        try need(n)
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    /// The next little-endian unsigned integer of `T`'s width.
    public mutating func littleEndian<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type = T.self
    )
        throws(ByteReadError) -> T
    {
        let size = MemoryLayout<T>.size
        try need(size)
        var v: T = 0
        for i in 0..<size { v |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return v
    }

    /// The next big-endian unsigned integer of `T`'s width.
    public mutating func bigEndian<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type = T.self
    )
        throws(ByteReadError) -> T
    {
        let size = MemoryLayout<T>.size
        try need(size)
        var v: T = 0
        for i in 0..<size { v = v << 8 | T(bytes[offset + i]) }
        offset += size
        return v
    }
}

/// An appending byte buffer with little- and big-endian integer writers: the writing side of
/// `ByteReader`, shared by the circom, `.zkey`, `.ptau` and `proving.key` writers.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    public mutating func reserve(_ n: Int) { bytes.reserveCapacity(bytes.count + n) }

    public mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 { bytes += s }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_ v: T) {
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    public mutating func bigEndian<T: FixedWidthInteger & UnsignedInteger>(_ v: T) {
        for i in (0..<MemoryLayout<T>.size).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    /// Little-endian u32 and u64, the integers of the circom and binfileutils containers.
    public mutating func u32(_ v: UInt32) { littleEndian(v) }
    public mutating func u64(_ v: UInt64) { littleEndian(v) }

    /// A container section, `u32 id | u64 size | body` (circom's `.r1cs`/`.wtns` and iden3's
    /// binfileutils `.zkey`/`.ptau` alike): writes the id and a placeholder, the body in place,
    /// then patches the size, so the body is not copied.
    public mutating func section(_ id: UInt32, _ body: (inout ByteWriter) -> Void) {
        u32(id)
        let sizeAt = bytes.count
        u64(0)
        body(&self)
        let size = UInt64(bytes.count - sizeAt - 8)
        for i in 0..<8 { bytes[sizeAt + i] = UInt8(truncatingIfNeeded: size >> UInt64(8 * i)) }
    }
}
