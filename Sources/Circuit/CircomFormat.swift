import Algebra

/// Why a circom `.r1cs` or `.wtns` file was rejected: what, and where (section, byte offset).
public enum CircomFormatError: Error, Equatable, CustomStringConvertible {
    case truncated(file: String, section: String, offset: Int, needed: Int)
    case badMagic(file: String, found: [UInt8])
    case unsupportedVersion(file: String, version: UInt32)
    case missingSection(file: String, section: String)
    case duplicateSection(file: String, section: String, offset: Int)
    case wrongPrime(file: String, found: String)
    case badFieldSize(file: String, size: UInt32)
    case invalid(file: String, section: String, offset: Int, reason: String)
    case tooLarge(file: String, what: String, value: UInt64, limit: UInt64)

    public var description: String {
        switch self {
        case .truncated(let f, let s, let o, let n):
            return "\(f): truncated in section \(s) at byte \(o) (needed \(n) more bytes); the file is incomplete"
        case .badMagic(let f, let m):
            return
                "\(f): not a circom file (magic bytes \(m.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()))"
        case .unsupportedVersion(let f, let v):
            return "\(f): format version \(v) is not supported (expected r1cs v1 or wtns v2)"
        case .missingSection(let f, let s): return "\(f): required section \(s) is missing"
        case .duplicateSection(let f, let s, let o): return "\(f): section \(s) appears twice (second at byte \(o))"
        case .wrongPrime(let f, let p):
            return
                "\(f): field prime \(p.prefix(80)) is not BN254's scalar field; compile the circuit with --prime bn128"
        case .badFieldSize(let f, let n): return "\(f): field element size \(n) bytes, expected 32"
        case .invalid(let f, let s, let o, let r): return "\(f): section \(s) at byte \(o): \(r)"
        case .tooLarge(let f, let w, let v, let l): return "\(f): \(w) = \(v) exceeds the limit \(l)"
        }
    }
}

/// circom's reader: the shared bounds-checked `ByteReader` plus the file and section names
/// its errors carry.
struct BinaryReader {
    var cursor: ByteReader
    let file: String
    var section: String = "header"

    init(_ bytes: [UInt8], file: String) {
        cursor = ByteReader(bytes)
        self.file = file
    }

    var bytes: [UInt8] { cursor.bytes }
    var offset: Int {
        get { cursor.offset }
        set { cursor.offset = newValue }
    }
    var remaining: Int { cursor.remaining }

    /// Positions the reader at a section's body and bounds reads to it.
    mutating func enter(_ name: String, offset: Int, size: Int) {
        section = name
        cursor.offset = offset
        cursor.limit = offset + size
    }

    func truncated(_ e: ByteReadError) -> CircomFormatError {
        .truncated(file: file, section: section, offset: e.offset, needed: e.needed)
    }

    mutating func take(_ n: Int) throws(CircomFormatError) -> ArraySlice<UInt8> {
        do { return try cursor.take(n) } catch { throw truncated(error) }
    }

    mutating func int<T: FixedWidthInteger & UnsignedInteger>() throws(CircomFormatError) -> T {
        do { return try cursor.littleEndian() } catch { throw truncated(error) }
    }

    mutating func u32() throws(CircomFormatError) -> UInt32 { try int() }
    mutating func u64() throws(CircomFormatError) -> UInt64 { try int() }

    /// An integer that must be below `bound` (a wire index, a label); `reason` words the error.
    mutating func int<T: FixedWidthInteger & UnsignedInteger>(
        below bound: T, _ reason: (T) -> String
    )
        throws(CircomFormatError) -> T
    {
        let at = offset
        let v: T = try int()
        guard v < bound else { throw .invalid(file: file, section: section, offset: at, reason: reason(v)) }
        return v
    }

    /// A 32-byte little-endian Fr element, rejected unless canonical.
    mutating func fr() throws(CircomFormatError) -> Fr {
        let at = offset
        let raw = try take(32)
        do { return try Fr(littleEndian: raw) } catch {
            throw .invalid(file: file, section: section, offset: at, reason: "\(error)")
        }
    }
}

/// The circom writers' additions to the shared `ByteWriter`.
extension ByteWriter {
    mutating func fr(_ v: Fr) { bytes += v.littleEndianBytes() }
    mutating func section(_ type: UInt32, _ body: [UInt8]) { section(type) { $0.bytes += body } }
}

/// circom's binary formats over BN254's Fr: `.r1cs` (version 1: header, constraints,
/// wire-to-label map) and `.wtns` (version 2: header, witness).
///
/// Limits, checked before anything is allocated: at most 2^28 constraints and wires (the
/// largest FFT domain of Fr), and term counts bounded by the bytes actually present.
public enum Circom {
    public static let maxWires = 1 << 28
    public static let maxConstraints = 1 << 28

    /// Splits a circom container into (type, body offset, body length) after magic and version.
    static func sections(
        _ reader: inout BinaryReader, magic: String, version: UInt32
    )
        throws(CircomFormatError) -> [(type: UInt32, offset: Int, size: Int)]
    {
        let file = reader.file
        let found = Array(try reader.take(4))
        guard found == Array(magic.utf8) else { throw .badMagic(file: file, found: found) }
        let v = try reader.u32()
        guard v == version else { throw .unsupportedVersion(file: file, version: v) }
        let count = try reader.u32()
        guard count <= 64 else { throw .tooLarge(file: file, what: "section count", value: UInt64(count), limit: 64) }
        var result: [(UInt32, Int, Int)] = []
        for _ in 0..<count {
            reader.section = "table"
            let type = try reader.u32()
            let size = try reader.u64()
            guard size <= UInt64(reader.remaining) else {
                throw .truncated(
                    file: file, section: "\(type)", offset: reader.offset,
                    needed: Int(clamping: size) - reader.remaining)
            }
            result.append((type, reader.offset, Int(size)))
            reader.offset += Int(size)
        }
        return result
    }

    static func checkPrime(_ reader: inout BinaryReader) throws(CircomFormatError) {
        let n8 = try reader.u32()
        guard n8 == 32 else { throw .badFieldSize(file: reader.file, size: n8) }
        let prime = BigInt(littleEndian: Array(try reader.take(32)))
        // Some generators (the reference squaring-chain script among them) write the prime
        // reduced mod itself, i.e. zero; the prime only names the curve, so zero reads as BN254.
        guard prime == Fr.modulus || prime.isZero else {
            throw .wrongPrime(file: reader.file, found: prime.description)
        }
    }

    // MARK: .r1cs

    public static func readR1CS(_ bytes: [UInt8], file: String = "r1cs") throws(CircomFormatError) -> R1CS<Fr> {
        var reader = BinaryReader(bytes, file: file)
        let table = try sections(&reader, magic: "r1cs", version: 1)
        func find(_ type: UInt32, _ name: String) throws(CircomFormatError) -> (offset: Int, size: Int) {
            let matches = table.filter { $0.type == type }
            guard let first = matches.first else { throw .missingSection(file: file, section: name) }
            if matches.count > 1 { throw .duplicateSection(file: file, section: name, offset: matches[1].offset) }
            return (first.offset, first.size)
        }
        // Header
        let header = try find(1, "header(1)")
        reader.enter("header(1)", offset: header.offset, size: header.size)
        try checkPrime(&reader)
        let nWires = try reader.u32()
        let nPubOut = try reader.u32()
        let nPubIn = try reader.u32()
        let nPrvIn = try reader.u32()
        let nLabels = try reader.u64()
        let nConstraints = try reader.u32()
        guard nWires >= 1, Int(nWires) <= maxWires else {
            throw .tooLarge(file: file, what: "wire count", value: UInt64(nWires), limit: UInt64(maxWires))
        }
        guard Int(nConstraints) <= maxConstraints else {
            throw .tooLarge(
                file: file, what: "constraint count", value: UInt64(nConstraints), limit: UInt64(maxConstraints))
        }
        guard UInt64(nPubOut) + UInt64(nPubIn) + UInt64(nPrvIn) < UInt64(nWires) else {
            throw .invalid(
                file: file, section: "header(1)", offset: header.offset,
                reason: "\(nPubOut) outputs + \(nPubIn) public + \(nPrvIn) private inputs do not fit in \(nWires) wires"
            )
        }
        guard nLabels <= UInt64(maxWires) * 16 else {
            throw .tooLarge(file: file, what: "label count", value: nLabels, limit: UInt64(maxWires) * 16)
        }
        // The wire2label section holds 8 bytes per wire; without it, nothing else in the file
        // bounds the wire count, so it may not exceed the file's size (R1CS keeps a label per wire).
        guard table.contains(where: { $0.type == 3 }) || Int(nWires) <= bytes.count else {
            throw .tooLarge(
                file: file, what: "wire count without a wire2label(3) section", value: UInt64(nWires),
                limit: UInt64(bytes.count))
        }
        // Constraints: each term takes 36 bytes, each linear combination at least 4.
        let body = try find(2, "constraints(2)")
        guard UInt64(nConstraints) * 12 <= UInt64(body.size) else {
            throw .invalid(
                file: file, section: "constraints(2)", offset: body.offset,
                reason: "\(nConstraints) constraints cannot fit in \(body.size) bytes")
        }
        reader.enter("constraints(2)", offset: body.offset, size: body.size)
        let end = body.offset + body.size
        var matrices = [SparseMatrix<Fr>(), SparseMatrix<Fr>(), SparseMatrix<Fr>()]
        let estimate = body.size / (36 * 3)
        for m in 0..<3 { matrices[m].reserve(rows: Int(nConstraints), nonZeros: estimate) }
        var row: [(Int, Fr)] = []
        for _ in 0..<nConstraints {
            for m in 0..<3 {
                let at = reader.offset
                let nTerms = try reader.u32()
                guard UInt64(nTerms) * 36 <= UInt64(reader.remaining) else {
                    throw .invalid(
                        file: file, section: "constraints(2)", offset: at,
                        reason: "\(nTerms) terms run past the end of the section")
                }
                row.removeAll(keepingCapacity: true)
                for _ in 0..<nTerms {
                    let wire = try reader.int(below: nWires) { "wire \($0) out of range (\(nWires) wires)" }
                    row.append((Int(wire), try reader.fr()))
                }
                matrices[m].appendRow(row)
            }
        }
        guard reader.offset == end else {
            throw .invalid(
                file: file, section: "constraints(2)", offset: reader.offset,
                reason: "\(end - reader.offset) unexpected bytes after the last constraint")
        }
        // Wire-to-label map (optional in practice, but circom always writes it).
        var labels: [UInt64]? = nil
        if table.contains(where: { $0.type == 3 }) {
            let map = try find(3, "wire2label(3)")
            guard map.size == Int(nWires) * 8 else {
                throw .invalid(
                    file: file, section: "wire2label(3)", offset: map.offset,
                    reason: "size \(map.size) is not 8 bytes per wire (\(nWires) wires)")
            }
            reader.enter("wire2label(3)", offset: map.offset, size: map.size)
            var l: [UInt64] = []
            l.reserveCapacity(Int(nWires))
            for wire in 0..<nWires {
                l.append(
                    try reader.int(below: nLabels) {
                        "wire \(wire) has label \($0), not below the header's label count \(nLabels)"
                    })
            }
            labels = l
        }
        var r1cs = R1CS(
            numWires: Int(nWires), numPublicOutputs: Int(nPubOut), numPublicInputs: Int(nPubIn),
            numPrivateInputs: Int(nPrvIn), a: matrices[0], b: matrices[1], c: matrices[2],
            wireLabels: labels)
        // VeriSplit's commitment section (custom type 0x10000; circom and snarkjs skip unknown
        // sections): the challenge wire, then the committed wires in increasing order.
        if table.contains(where: { $0.type == commitmentSection }) {
            let section = try find(commitmentSection, "commitment(0x10000)")
            reader.enter("commitment(0x10000)", offset: section.offset, size: section.size)
            let numPublic = nPubOut + nPubIn
            let challenge = try reader.int(below: numPublic + 1) { "challenge wire \($0) is not a public wire" }
            guard challenge == numPublic else {
                throw .invalid(
                    file: file, section: "commitment(0x10000)", offset: section.offset,
                    reason: "the challenge must be the last public wire (\(numPublic)), not \(challenge)")
            }
            let count = try reader.u32()
            guard UInt64(count) * 4 == UInt64(reader.remaining) else {
                throw .invalid(
                    file: file, section: "commitment(0x10000)", offset: section.offset,
                    reason: "\(count) committed wires do not fill the section")
            }
            var wires: [Int] = []
            wires.reserveCapacity(Int(count))
            for _ in 0..<count {
                let wire = Int(try reader.int(below: nWires) { "committed wire \($0) out of range" })
                guard wire > Int(numPublic), wires.last.map({ wire > $0 }) ?? true else {
                    throw .invalid(
                        file: file, section: "commitment(0x10000)", offset: reader.offset,
                        reason: "committed wires must be private and strictly increasing")
                }
                wires.append(wire)
            }
            r1cs.commitment = R1CS<Fr>.Commitment(challenge: Int(challenge), wires: wires)
        }
        return r1cs
    }

    /// Section type of the commitment metadata (outside circom's range, which ends at 5).
    static let commitmentSection: UInt32 = 0x10000

    public static func writeR1CS(_ r1cs: R1CS<Fr>) -> [UInt8] {
        var header = ByteWriter()
        header.u32(32)
        header.bytes += Fr.modulus.littleEndianBytes(count: 32)
        header.u32(UInt32(r1cs.numWires))
        header.u32(UInt32(r1cs.numPublicOutputs))
        header.u32(UInt32(r1cs.numPublicInputs))
        header.u32(UInt32(r1cs.numPrivateInputs))
        header.u64(UInt64(r1cs.wireLabels.max().map { $0 + 1 } ?? UInt64(r1cs.numWires)))
        header.u32(UInt32(r1cs.constraintCount))
        var body = ByteWriter()
        body.bytes.reserveCapacity(
            (r1cs.a.nonZeroCount + r1cs.b.nonZeroCount + r1cs.c.nonZeroCount) * 36
                + r1cs.constraintCount * 12)
        for i in 0..<r1cs.constraintCount {
            for m in [r1cs.a, r1cs.b, r1cs.c] {
                let range = m.rowStart[i]..<m.rowStart[i + 1]
                body.u32(UInt32(range.count))
                for k in range {
                    body.u32(UInt32(m.columns[k]))
                    body.fr(m.values[k])
                }
            }
        }
        var labels = ByteWriter()
        for l in r1cs.wireLabels { labels.u64(l) }
        var out = ByteWriter()
        out.bytes = Array("r1cs".utf8)
        out.u32(1)
        out.u32(r1cs.commitment == nil ? 3 : 4)
        out.section(1, header.bytes)
        out.section(2, body.bytes)
        out.section(3, labels.bytes)
        if let commitment = r1cs.commitment {
            var section = ByteWriter()
            section.u32(UInt32(commitment.challenge))
            section.u32(UInt32(commitment.wires.count))
            for wire in commitment.wires { section.u32(UInt32(wire)) }
            out.section(commitmentSection, section.bytes)
        }
        return out.bytes
    }

    // MARK: .wtns

    public static func readWitness(_ bytes: [UInt8], file: String = "wtns") throws(CircomFormatError) -> [Fr] {
        var reader = BinaryReader(bytes, file: file)
        let table = try sections(&reader, magic: "wtns", version: 2)
        guard let header = table.first(where: { $0.type == 1 }) else {
            throw .missingSection(file: file, section: "header(1)")
        }
        guard let data = table.first(where: { $0.type == 2 }) else {
            throw .missingSection(file: file, section: "witness(2)")
        }
        reader.enter("header(1)", offset: header.offset, size: header.size)
        try checkPrime(&reader)
        let n = try reader.u32()
        guard Int(n) <= maxWires else {
            throw .tooLarge(file: file, what: "witness length", value: UInt64(n), limit: UInt64(maxWires))
        }
        guard data.size == Int(n) * 32 else {
            throw .invalid(
                file: file, section: "witness(2)", offset: data.offset,
                reason: "size \(data.size) is not 32 bytes for each of \(n) values")
        }
        reader.enter("witness(2)", offset: data.offset, size: data.size)
        var values: [Fr] = []
        values.reserveCapacity(Int(n))
        for _ in 0..<n { values.append(try reader.fr()) }
        guard values.first == .one else {
            throw .invalid(file: file, section: "witness(2)", offset: data.offset, reason: "wire 0 must be 1")
        }
        return values
    }

    public static func writeWitness(_ witness: [Fr]) -> [UInt8] {
        var header = ByteWriter()
        header.u32(32)
        header.bytes += Fr.modulus.littleEndianBytes(count: 32)
        header.u32(UInt32(witness.count))
        var body = ByteWriter()
        body.bytes.reserveCapacity(witness.count * 32)
        for v in witness { body.fr(v) }
        var out = ByteWriter()
        out.bytes = Array("wtns".utf8)
        out.u32(2)
        out.u32(2)
        out.section(1, header.bytes)
        out.section(2, body.bytes)
        return out.bytes
    }
}

extension Circom {
    /// circom's `.sym` text: one line `labelIndex,wireIndex,componentIndex,name` per wire from
    /// wire 1 on (wire 0 is the constant), so tools can name wires in their reports.
    public static func writeSymbols(_ names: [String]) -> String {
        var out = ""
        for (wire, name) in names.enumerated() where wire > 0 { out += "\(wire),\(wire),0,\(name)\n" }
        return out
    }

    /// Wire names from a `.sym` file (lines `label,wire,component,name`; a wire of -1 marks a
    /// signal circom optimised away and is skipped). Every line must have four fields with
    /// integer indices, and wires must be below `wireCount`.
    public static func readSymbols(
        _ text: String, wireCount: Int, file: String = "sym"
    ) throws(CircomFormatError) -> [Int: String] {
        var names: [Int: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, Int(fields[0]) != nil, let wire = Int(fields[1]), Int(fields[2]) != nil else {
                throw .invalid(
                    file: file, section: "symbols", offset: number + 1,
                    reason: "line \(number + 1) is not 'label,wire,component,name'")
            }
            if wire == -1 { continue }
            guard wire >= 0, wire < wireCount else {
                throw .invalid(
                    file: file, section: "symbols", offset: number + 1,
                    reason: "line \(number + 1) names wire \(wire), but the circuit has \(wireCount) wires")
            }
            names[wire] = String(fields[3])
        }
        return names
    }
}

extension R1CS {
    /// `verisplit r1cs info`: counts of constraints, wires, public and private inputs, terms.
    public func summary(title: String) -> BenchTable {
        BenchTable(
            title: title,
            rows: [
                ("constraints", constraintCount), ("wires", numWires), ("public_outputs", numPublicOutputs),
                ("public_inputs", numPublicInputs), ("private_inputs", numPrivateInputs),
                ("nonzero_terms", a.nonZeroCount + b.nonZeroCount + c.nonZeroCount),
            ])
    }
}
