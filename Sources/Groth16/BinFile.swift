import Algebra

/// Errors of a binfileutils container reader. `ZkeyError` and `PtauError` (Ceremony) conform
/// through their enum cases of these names, so one reader serves both formats.
public protocol BinFileError: Error {
    static func truncated(file: String, section: String, offset: Int, needed: Int) -> Self
    static func invalid(file: String, section: String, offset: Int, reason: String) -> Self
    static func tooLarge(file: String, section: String, offset: Int, what: String, value: UInt64, limit: UInt64) -> Self
    static func missingSection(file: String, section: String) -> Self
    static func duplicateSection(file: String, section: String, offset: Int) -> Self
}

extension ZkeyError: BinFileError {}

/// Bounds-checked reader over iden3's binfileutils container (`.zkey`, `.ptau`): magic, u32
/// version, u32 section count, then sections `u32 id | u64 size | body`, little-endian. Every
/// read stays inside the current section, every size is checked against the bytes present
/// before anything is allocated, and errors carry the section name and absolute byte offset.
public struct BinFileReader<E: BinFileError> {
    public var cursor: ByteReader
    public let file: String
    public var section = "container"
    let sectionName: (UInt32) -> String

    public init(bytes: [UInt8], file: String, sectionName: @escaping (UInt32) -> String) {
        self.cursor = ByteReader(bytes)
        self.file = file
        self.sectionName = sectionName
    }

    public var bytes: [UInt8] { cursor.bytes }
    public var offset: Int {
        get { cursor.offset }
        set { cursor.offset = newValue }
    }
    public var limit: Int { cursor.limit }
    public var remaining: Int { cursor.remaining }

    public mutating func enter(_ id: UInt32, _ s: (offset: Int, size: Int)) {
        section = sectionName(id)
        cursor.offset = s.offset
        cursor.limit = s.offset + s.size
    }

    public func fail(_ reason: String, at: Int? = nil) -> E {
        .invalid(file: file, section: section, offset: at ?? offset, reason: reason)
    }

    func truncated(_ e: ByteReadError) -> E {
        .truncated(file: file, section: section, offset: e.offset, needed: e.needed)
    }

    public mutating func take(_ n: Int) throws(E) -> ArraySlice<UInt8> {
        do { return try cursor.take(n) } catch { throw truncated(error) }
    }

    public mutating func u32() throws(E) -> UInt32 {
        do { return try cursor.littleEndian() } catch { throw truncated(error) }
    }

    public mutating func u64() throws(E) -> UInt64 {
        do { return try cursor.littleEndian() } catch { throw truncated(error) }
    }

    public mutating func expectEnd() throws(E) {
        guard offset == limit else { throw fail("\(limit - offset) unexpected bytes at the end of the section") }
    }

    /// The section table: (id, body offset, body size), each size checked against the file.
    public mutating func sectionTable() throws(E) -> [(id: UInt32, offset: Int, size: Int)] {
        section = "table"
        let countAt = offset
        let count = try u32()
        guard count <= 64 else {
            throw .tooLarge(
                file: file, section: section, offset: countAt, what: "section count", value: UInt64(count), limit: 64)
        }
        var table: [(UInt32, Int, Int)] = []
        for _ in 0..<count {
            let id = try u32()
            let sizeAt = offset
            let size = try u64()
            guard size <= UInt64(remaining) else {
                throw .truncated(
                    file: file, section: sectionName(id), offset: sizeAt, needed: Int(clamping: size) - remaining)
            }
            table.append((id, offset, Int(size)))
            offset += Int(size)
        }
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) bytes after the last section") }
        return table
    }

    /// The one section with `id` in `table`: missing or repeated sections are errors.
    public func find(
        _ id: UInt32, in table: [(id: UInt32, offset: Int, size: Int)]
    ) throws(E) -> (offset: Int, size: Int) {
        let matches = table.filter { $0.id == id }
        guard let first = matches.first else { throw .missingSection(file: file, section: sectionName(id)) }
        if matches.count > 1 {
            throw .duplicateSection(file: file, section: sectionName(id), offset: matches[1].offset)
        }
        return (first.offset, first.size)
    }

    /// One point in snarkjs's layout (`Zkey.decodeG1`), validated.
    public mutating func g1(_ what: String) throws(E) -> G1Affine {
        let at = offset
        let s = try take(64)
        do { return try Zkey.decodeG1(s) } catch { throw fail("\(what): \(error)", at: at) }
    }

    public mutating func g2(_ what: String) throws(E) -> G2Affine {
        let at = offset
        let s = try take(128)
        do { return try Zkey.decodeG2(s) } catch { throw fail("\(what): \(error)", at: at) }
    }

    /// A section of exactly `count` G1 points, decoded and validated on all cores (the
    /// allocation-free path of `decodeG1PointsInParallel`, `Zkey.decodeG1` for the rest).
    public mutating func g1Section(_ id: UInt32, count: Int, in s: (offset: Int, size: Int)) throws(E) -> [G1Affine] {
        try points(id, count: count, size: 64, in: s) { bytes, start in
            decodeG1PointsInParallel(
                bytes, start: start, count: count, layout: .littleEndianMontgomery, decode: Zkey.decodeG1)
        }
    }

    /// A section of exactly `count` G2 points: curve checks on all cores, then the batched G2
    /// membership test of `decodeG2PointsInParallel`.
    public mutating func g2Section(_ id: UInt32, count: Int, in s: (offset: Int, size: Int)) throws(E) -> [G2Affine] {
        try points(id, count: count, size: 128, in: s) { bytes, start in
            decodeG2PointsInParallel(
                bytes, start: start, count: count, layout: .littleEndianMontgomery, decode: Zkey.decodeG2)
        }
    }

    /// A section of exactly `count` points (its size checked first), decoded by `decodeAll`.
    mutating func points<P>(
        _ id: UInt32, count: Int, size: Int, in s: (offset: Int, size: Int),
        decodeAll: ([UInt8], Int) -> Result<[P], IndexedPointError>
    ) throws(E) -> [P] {
        enter(id, s)
        guard s.size == count * size else {
            throw fail("size \(s.size) bytes, expected \(count) points of \(size) bytes = \(count * size)")
        }
        switch decodeAll(bytes, offset) {
        case .success(let points):
            offset = limit
            return points
        case .failure(let bad):
            throw fail("point #\(bad.index): \(bad.error)", at: s.offset + bad.index * size)
        }
    }

    /// A section of exactly `count` points (its size checked first), decoded and validated
    /// on all cores.
    public mutating func points<P: Sendable>(
        _ id: UInt32, count: Int, size: Int, in s: (offset: Int, size: Int),
        decode: @escaping @Sendable (ArraySlice<UInt8>) throws(PointDecodingError) -> P
    )
        throws(E) -> [P]
    {
        enter(id, s)
        guard s.size == count * size else {
            throw fail("size \(s.size) bytes, expected \(count) points of \(size) bytes = \(count * size)")
        }
        switch decodePointsInParallel(bytes, start: offset, count: count, size: size, decode: decode) {
        case .success(let points):
            offset = limit
            return points
        case .failure(let bad):
            throw fail("point #\(bad.index): \(bad.error)", at: s.offset + bad.index * size)
        }
    }
}

/// snarkjs's contribution parameters, in `.ptau` and `.zkey` records alike: u32 length, then
/// entries sorted by type: 1 name (u8 length, UTF-8, at most 64 bytes), 2 log2 of a beacon's
/// hash iterations (u8), 3 the beacon (u8 length, bytes).
public struct ContributionParameters: Sendable, Equatable {
    public var name: String?
    public var iterationsExponent: UInt8?
    public var beaconHash: [UInt8]?

    public init(name: String?, iterationsExponent: UInt8? = nil, beaconHash: [UInt8]? = nil) {
        self.name = name
        self.iterationsExponent = iterationsExponent
        self.beaconHash = beaconHash
    }

    /// `name` cut to at most 64 bytes on a character boundary (snarkjs keeps 64).
    public static func clip(_ name: String) -> String {
        var bytes = Array(name.utf8.prefix(64))
        while !String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The u32 length and the entries; the beacon entries only when `beacon` is set and both
    /// are present (beacon at most 255 bytes, checked by the caller).
    public func encoded(beacon: Bool) -> [UInt8] {
        var params: [UInt8] = []
        if let name {
            let bytes = Array(Self.clip(name).utf8)
            params += [1, UInt8(bytes.count)] + bytes
        }
        if beacon, let e = iterationsExponent, let hash = beaconHash {
            params += [2, e, 3, UInt8(truncatingIfNeeded: hash.count)] + hash
        }
        var out = ByteWriter()
        out.u32(UInt32(params.count))
        return out.bytes + params
    }
}

extension BinFileReader {
    /// Reads contribution parameters; the length is checked against the section before use.
    public mutating func contributionParameters(_ label: String) throws(E) -> ContributionParameters {
        let lengthAt = offset
        let length = Int(try u32())
        guard length <= remaining else {
            throw .truncated(file: file, section: section, offset: lengthAt, needed: length - remaining)
        }
        let end = offset + length
        var out = ContributionParameters(name: nil)
        var lastType: UInt8 = 0
        while offset < end {
            let at = offset
            let t = try take(1)[at]
            guard t > lastType else { throw fail("\(label): parameters are not sorted by type", at: at) }
            lastType = t
            guard offset < end else { throw fail("\(label): parameter \(t) overruns its length", at: at) }
            switch t {
            case 1, 3:
                let n = Int(try take(1)[at + 1])
                guard n <= end - offset else { throw fail("\(label): parameter \(t) overruns its length", at: at) }
                let value = Array(try take(n))
                if t == 1 { out.name = String(decoding: value, as: UTF8.self) } else { out.beaconHash = value }
            case 2:
                out.iterationsExponent = try take(1)[at + 1]
            default:
                throw fail("\(label): unknown parameter type \(t)", at: at)
            }
        }
        return out
    }
}
