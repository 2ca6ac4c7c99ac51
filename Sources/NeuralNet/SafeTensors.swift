import Foundation

/// Why a safetensors file was rejected: what is wrong and where (byte offset or tensor name).
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case headerTooLarge(length: UInt64, limit: Int)
    case headerNotJSON(String)
    case badEntry(tensor: String, reason: String)
    case unsupportedDType(tensor: String, dtype: String)
    case sizeMismatch(tensor: String, shape: [Int], bytes: Int)
    case outOfBounds(tensor: String, range: [Int], dataLength: Int)
    case overlap(tensor: String, other: String)
    case badMetadata(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            return "safetensors: file truncated: needs \(needed) bytes, has \(available)"
        case let .headerTooLarge(length, limit):
            return "safetensors: header length \(length) at byte 0 exceeds the limit \(limit) or the file size"
        case let .headerNotJSON(reason):
            return "safetensors: header (bytes 8...) is not a JSON object: \(reason)"
        case let .badEntry(tensor, reason):
            return "safetensors: tensor '\(tensor)': \(reason)"
        case let .unsupportedDType(tensor, dtype):
            return "safetensors: tensor '\(tensor)': dtype \(dtype) is not supported (only F32)"
        case let .sizeMismatch(tensor, shape, bytes):
            let needed = elementCount(shape).flatMap { $0.multipliedReportingOverflow(by: 4).overflow ? nil : $0 * 4 }
            return
                "safetensors: tensor '\(tensor)': shape \(shape) needs \(needed.map(String.init) ?? "more than Int.max") bytes of F32, data_offsets span \(bytes)"
        case let .outOfBounds(tensor, range, length):
            return "safetensors: tensor '\(tensor)': data_offsets \(range) outside the data section of \(length) bytes"
        case let .overlap(tensor, other):
            return "safetensors: tensors '\(tensor)' and '\(other)' have overlapping data_offsets"
        case let .badMetadata(reason):
            return "safetensors: __metadata__: \(reason)"
        case let .io(path, reason):
            return "safetensors: \(path): \(reason)"
        }
    }
}

/// The contents of a safetensors file: named F32 tensors (in file order) and string metadata.
public struct SafeTensorsFile: Sendable, Equatable {
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Tensors by name.
    public var byName: [String: Tensor] {
        Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (lhs: SafeTensorsFile, rhs: SafeTensorsFile) -> Bool {
        lhs.metadata == rhs.metadata && lhs.tensors.count == rhs.tensors.count
            && zip(lhs.tensors, rhs.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
    }
}

/// Reader and writer for the safetensors format (8-byte little-endian header length N, N bytes of
/// JSON header, then raw little-endian tensor data), the format PyTorch and Hugging Face load.
///
/// Reading validates everything before trusting it: the header length is bounded (by `maxHeader`
/// and the file size) before any allocation, the header must be a JSON object, every entry needs
/// dtype F32, a shape whose byte size equals its `data_offsets` span, and offsets inside the data
/// section that overlap no other tensor. O(file size).
public enum SafeTensors {
    /// Largest accepted header (the reference implementation uses 100 MB as well).
    public static let maxHeader = 100_000_000

    /// Serializes tensors (names must be unique) and metadata. Header entries are sorted by name
    /// (metadata first, as the reference implementation writes them), data follows in the given
    /// order, and the header is space-padded to a multiple of 8 bytes. O(total size).
    public static func encode(_ file: SafeTensorsFile) -> Data {
        var offset = 0
        var entries = [(name: String, json: String)]()
        for (name, t) in file.tensors {
            let bytes = t.count * 4
            entries.append(
                (
                    name,
                    "\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
                ))
            offset += bytes
        }
        var header = entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map(\.json)
        if !file.metadata.isEmpty {
            let meta = file.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            header.insert("\"__metadata__\":{\(meta.joined(separator: ","))}", at: 0)
        }
        var headerBytes = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (_, t) in file.tensors {
            t.withUnsafeBufferPointer { p in
                for v in p { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    /// Parses and validates a safetensors image.
    public static func decode(_ data: Data) throws(SafeTensorsError) -> SafeTensorsFile {
        guard data.count >= 8 else { throw .truncated(needed: 8, available: data.count) }
        let bytes = [UInt8](data)
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeader) else { throw .headerTooLarge(length: n, limit: maxHeader) }
        let headerLength = Int(n)
        guard 8 + headerLength <= bytes.count else {
            throw .truncated(needed: 8 + headerLength, available: bytes.count)
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)]))
        } catch {
            throw .headerNotJSON(error.localizedDescription)
        }
        guard let obj = root as? [String: Any] else { throw .headerNotJSON("top level is not an object") }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var metadata = [String: String]()
        var entries = [(name: String, shape: [Int], begin: Int, end: Int)]()
        for (name, value) in obj {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw .badMetadata("must be an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw .badMetadata("value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let e = value as? [String: Any] else {
                throw .badEntry(tensor: name, reason: "entry is not an object")
            }
            guard let dtype = e["dtype"] as? String else { throw .badEntry(tensor: name, reason: "missing dtype") }
            guard dtype == "F32" else { throw .unsupportedDType(tensor: name, dtype: dtype) }
            guard let rawShape = e["shape"] as? [Any], let shape = nonNegativeInts(rawShape) else {
                throw .badEntry(tensor: name, reason: "shape must be an array of non-negative integers")
            }
            guard let rawOffsets = e["data_offsets"] as? [Any], rawOffsets.count == 2,
                let offsets = nonNegativeInts(rawOffsets)
            else {
                throw .badEntry(tensor: name, reason: "data_offsets must be two non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataLength else {
                throw .outOfBounds(tensor: name, range: offsets, dataLength: dataLength)
            }
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataLength else {
                    throw .sizeMismatch(tensor: name, shape: shape, bytes: end - begin)
                }
                elements = p
            }
            guard elements * 4 == end - begin else {
                throw .sizeMismatch(tensor: name, shape: shape, bytes: end - begin)
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for i in entries.indices.dropFirst() where entries[i].begin < entries[i - 1].end {
            throw .overlap(tensor: entries[i].name, other: entries[i - 1].name)
        }
        var tensors = [(name: String, tensor: Tensor)]()
        tensors.reserveCapacity(entries.count)
        for e in entries {
            let count = (e.end - e.begin) / 4
            let t = Tensor(shape: e.shape) { out in
                for i in 0..<count {
                    let o = dataStart + e.begin + 4 * i
                    let bits =
                        UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3])
                        << 24
                    out[i] = Float(bitPattern: bits)
                }
            }
            tensors.append((e.name, t))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Reads and validates a file.
    public static func read(_ url: URL) throws(SafeTensorsError) -> SafeTensorsFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .io(path: url.path, reason: error.localizedDescription) }
        return try decode(data)
    }

    /// Writes a file atomically.
    public static func write(_ file: SafeTensorsFile, to url: URL) throws(SafeTensorsError) {
        do { try encode(file).write(to: url, options: .atomic) } catch {
            throw .io(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func nonNegativeInts(_ values: [Any]) -> [Int]? {
        var out = [Int]()
        for v in values {
            guard let i = jsonInteger(v), i >= 0 else { return nil }
            out.append(i)
        }
        return out
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

extension Sequential {
    /// Saves every parameter as `layer.param` F32 tensors with `metadata` (e.g. DP method, sigma).
    public func saveSafetensors(to url: URL, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try SafeTensors.write(
            SafeTensorsFile(tensors: namedParameters.map { ($0.name, $0.value) }, metadata: metadata), to: url)
    }

    /// Loads parameters from a safetensors file; returns its metadata. Every model parameter must be
    /// present with the right shape.
    @discardableResult
    public mutating func loadSafetensors(from url: URL) throws -> [String: String] {
        let file = try SafeTensors.read(url)
        try loadParameters(file.byName)
        return file.metadata
    }
}
