import Foundation

/// Why an IDX file was rejected.
public enum IDXError: Error, Equatable, CustomStringConvertible {
    case tooShort(needed: Int, available: Int)
    case badMagic(bytes: [UInt8])
    case unsupportedType(code: UInt8)
    case badDimensions(dims: [Int], reason: String)
    case sizeMismatch(dims: [Int], expectedBytes: Int, availableBytes: Int)
    /// A gzipped file inflates past its declared size; decompression stopped right there.
    case trailingData(dims: [Int], expectedBytes: Int)
    case gzip(GzipError)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .tooShort(needed, available):
            return "IDX: header needs \(needed) bytes, file has \(available)"
        case let .badMagic(bytes):
            return
                "IDX: bytes 0-3 are \(bytes.map { String(format: "%02x", $0) }.joined(separator: " ")), expected 00 00 <type> <ndims>"
        case let .unsupportedType(code):
            return String(format: "IDX: byte 2 (element type) is 0x%02x; known: 08 09 0b 0c 0d 0e", code)
        case let .badDimensions(dims, reason):
            return "IDX: dimensions \(dims): \(reason)"
        case let .sizeMismatch(dims, expected, available):
            return "IDX: dimensions \(dims) need \(expected) data bytes after the header, file has \(available)"
        case let .trailingData(dims, expected):
            return "IDX: dimensions \(dims) need \(expected) data bytes after the header, the file holds more "
                + "(decompression stopped there)"
        case let .gzip(e):
            return "IDX: \(e)"
        case let .io(path, reason):
            return "IDX: \(path): \(reason)"
        }
    }
}

/// A parsed IDX array (the MNIST family's format): dimensions and elements as Float.
public struct IDXArray: Sendable, Equatable {
    public var dimensions: [Int]
    public var values: [Float]
    /// The element type code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64).
    public var typeCode: UInt8
}

/// IDX reader: magic `00 00 type ndims`, `ndims` big-endian UInt32 sizes, then big-endian data.
/// gzip-compressed files are detected by their magic and inflated with zlib first.
public enum IDX {
    /// Upper bound on the element count accepted (1 G elements); checked before allocating.
    public static let maxElements = 1 << 30

    /// Parses IDX bytes (plain or gzip). Validates magic, type, dimensions and exact data size
    /// before allocating the element array. A gzipped file is inflated as a stream: the header
    /// first, then at most the data size it declares, so a small file that inflates past its
    /// declared size is refused after inflating only that much (memory: the declared data
    /// plus its Float array, never the whole inflated stream). O(size).
    public static func parse(_ raw: Data) throws(IDXError) -> IDXArray {
        guard Gzip.isGzip(raw) else { return try parse(bytes: [UInt8](raw)) }
        func inflate<T>(_ body: () throws(GzipError) -> T) throws(IDXError) -> T {
            do { return try body() } catch { throw .gzip(error) }
        }
        let stream = try inflate { () throws(GzipError) in try GzipStream(raw) }
        var bytes = try inflate { () throws(GzipError) in try stream.read(upTo: 4) }
        let header = try headerLayout(bytes)
        bytes += try inflate { () throws(GzipError) in try stream.read(upTo: header.size - 4) }
        guard bytes.count == header.size else { throw .tooShort(needed: header.size, available: bytes.count) }
        let (dims, expected) = try dataSize(bytes, layout: header)
        bytes += try inflate { () throws(GzipError) in try stream.read(upTo: expected) }
        guard try inflate({ () throws(GzipError) in try stream.atEnd }) else {
            throw .trailingData(dims: dims, expectedBytes: expected)
        }
        return try parse(bytes: bytes)
    }

    /// Magic, element type and header size from the first 4 bytes.
    static func headerLayout(_ b: [UInt8]) throws(IDXError) -> (type: UInt8, elementSize: Int, ndims: Int, size: Int) {
        guard b.count >= 4 else { throw .tooShort(needed: 4, available: b.count) }
        guard b[0] == 0, b[1] == 0, b[3] >= 1 else { throw .badMagic(bytes: Array(b[0..<4])) }
        let type = b[2]
        let size: Int
        switch type {
        case 0x08, 0x09: size = 1
        case 0x0B: size = 2
        case 0x0C, 0x0D: size = 4
        case 0x0E: size = 8
        default: throw .unsupportedType(code: type)
        }
        let ndims = Int(b[3])
        return (type, size, ndims, 4 + 4 * ndims)
    }

    /// Dimensions and the data size they declare (bounded by `maxElements`), from a complete header.
    static func dataSize(
        _ b: [UInt8], layout: (type: UInt8, elementSize: Int, ndims: Int, size: Int)
    )
        throws(IDXError) -> (dims: [Int], bytes: Int)
    {
        let ndims = layout.ndims
        var dims = [Int]()
        // nil once a partial product overflows: a later zero must not bring the count back.
        var product: Int? = 1
        for d in 0..<ndims {
            let o = 4 + 4 * d
            let v = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
            dims.append(v)
            product = product.flatMap { p in
                let (next, overflow) = p.multipliedReportingOverflow(by: v)
                return overflow ? nil : next
            }
        }
        guard let elements = product, elements <= maxElements else {
            throw .badDimensions(dims: dims, reason: "more than \(maxElements) elements, or a product that overflows")
        }
        return (dims, elements * layout.elementSize)
    }

    /// Parses a complete (plain) IDX file held in `b`.
    static func parse(bytes b: [UInt8]) throws(IDXError) -> IDXArray {
        let total = b.count
        let layout = try headerLayout(b)
        let (type, size, headerSize) = (layout.type, layout.elementSize, layout.size)
        guard total >= headerSize else { throw .tooShort(needed: headerSize, available: total) }
        let (dims, expected) = try dataSize(b, layout: layout)
        let elements = expected / size
        let available = total - headerSize
        guard expected == available else {
            throw .sizeMismatch(dims: dims, expectedBytes: expected, availableBytes: available)
        }
        var values = [Float](repeating: 0, count: elements)
        values.withUnsafeMutableBufferPointer { out in
            b.withUnsafeBufferPointer { src in
                let p = src.baseAddress! + headerSize
                switch type {
                case 0x08: for i in 0..<elements { out[i] = Float(p[i]) }
                case 0x09: for i in 0..<elements { out[i] = Float(Int8(bitPattern: p[i])) }
                case 0x0B:
                    for i in 0..<elements {
                        out[i] = Float(Int16(bitPattern: UInt16(p[2 * i]) << 8 | UInt16(p[2 * i + 1])))
                    }
                case 0x0C, 0x0D:
                    for i in 0..<elements {
                        let u =
                            UInt32(p[4 * i]) << 24 | UInt32(p[4 * i + 1]) << 16 | UInt32(p[4 * i + 2]) << 8
                            | UInt32(p[4 * i + 3])
                        out[i] = type == 0x0C ? Float(Int32(bitPattern: u)) : Float(bitPattern: u)
                    }
                default:
                    for i in 0..<elements {
                        var u: UInt64 = 0
                        for j in 0..<8 { u = u << 8 | UInt64(p[8 * i + j]) }
                        out[i] = Float(Double(bitPattern: u))
                    }
                }
            }
        }
        return IDXArray(dimensions: dims, values: values, typeCode: type)
    }

    /// Reads and parses a file.
    public static func read(_ url: URL) throws(IDXError) -> IDXArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .io(path: url.path, reason: error.localizedDescription) }
        return try parse(data)
    }

    /// Writes an unsigned-byte IDX file body (used by tests and subset tooling). Precondition:
    /// values in 0...255 and `dims` product equals `values.count`.
    public static func encodeUBytes(_ values: [UInt8], dimensions dims: [Int]) -> Data {
        precondition(dims.reduce(1, *) == values.count)
        var out = Data([0, 0, 0x08, UInt8(dims.count)])
        for d in dims {
            out.append(contentsOf: [
                UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff),
            ])
        }
        out.append(contentsOf: values)
        return out
    }
}
