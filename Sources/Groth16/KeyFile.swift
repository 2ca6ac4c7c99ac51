import Algebra
import Circuit
import Dispatch

/// Why a key file was rejected.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    case notAKeyFile(file: String)
    case unsupportedVersion(file: String, version: UInt32)
    case checksumMismatch(file: String)
    case truncated(file: String, offset: Int, what: String)
    case invalid(file: String, offset: Int, reason: String)
    case circuitMismatch(file: String)

    public var description: String {
        switch self {
        case .notAKeyFile(let f): return "\(f): not a VeriSplit proving key (bad magic bytes)"
        case .unsupportedVersion(let f, let v):
            return "\(f): key format version \(v) is not supported (expected 1 or 2)"
        case .checksumMismatch(let f):
            return
                "\(f): checksum mismatch: the file is corrupted or was modified; regenerate it with `verisplit setup`"
        case .truncated(let f, let o, let w): return "\(f): truncated at byte \(o) while reading \(w)"
        case .invalid(let f, let o, let r): return "\(f): at byte \(o): \(r)"
        case .circuitMismatch(let f): return "\(f): the key's circuit hash does not match its embedded circuit"
        }
    }
}

/// VeriSplit's proving-key file (`proving.key`), version 1, or 2 for a circuit with a commitment
/// to witness wires (BSB22). All integers little-endian.
///
/// ```
/// magic "VSPK" | u32 version (1 or 2) | 32-byte SHA-256 circuit hash
/// u64 length | circom .r1cs encoding of the circuit (the prover needs its matrices)
/// u32 domain size | u8 H-query form (0 monomial, 1 snarkjs odd-coset Lagrange)
/// G1 alpha, beta, delta | G2 beta, gamma, delta       (EIP-197 uncompressed: 64 / 128 bytes)
/// u32 n, n x G1 IC | u32 n, n x G1 A | u32 n, n x G1 B1 | u32 n, n x G2 B2
/// u32 n, n x G1 H  | u32 n, n x G1 L
/// version 2 only: u32 n, n x G1 commitment basis | u32 n, n x G1 basis * sigma
///                 G1 eta/gamma, eta*sigma/gamma, eta/delta | G2 sigma
///                 (the committed wires and the challenge wire are the embedded circuit's)
/// 32-byte SHA-256 of everything before it
/// ```
/// A key without a commitment is written as version 1, byte for byte as before.
/// Loading checks the checksum first, every count against the bytes present before
/// allocating, every coordinate below q, every point on its curve, and every G2 point in the
/// prime-order subgroup (spread over all cores), that the circuit hash matches the embedded
/// circuit, and that the verifying key is not degenerate (`VerifyingKey.degeneracy`). A key
/// whose points were altered and its checksum recomputed passes these checks; `Groth16.prove`
/// catches it by verifying every proof it makes.
public enum KeyFile {
    static let magic = Array("VSPK".utf8)
    public static let version: UInt32 = 1
    /// The version for keys with a commitment to witness wires.
    public static let committedVersion: UInt32 = 2

    public static func encode(_ key: ProvingKey, r1cs: R1CS<Fr>) -> [UInt8] {
        var w = ByteWriter()
        w.bytes += magic
        w.u32(key.commitment == nil ? version : committedVersion)
        w.bytes += key.circuitHash
        let circuit = Circom.writeR1CS(r1cs)
        w.u64(UInt64(circuit.count))
        w.bytes += circuit
        w.u32(UInt32(key.domainSize))
        w.bytes.append(key.hForm.rawValue)
        for p in [key.alpha, key.beta1, key.delta1] { w.bytes += p.uncompressed() }
        for p in [key.beta2, key.verifyingKey.gamma, key.delta2] { w.bytes += p.uncompressed() }
        for list in [key.verifyingKey.ic, key.a, key.b1] { w.g1List(list) }
        w.u32(UInt32(key.b2.count))
        for p in key.b2 { w.bytes += p.uncompressed() }
        for list in [key.h, key.l] { w.g1List(list) }
        if let commitment = key.commitment, let sigma = key.verifyingKey.commitment?.sigma {
            w.g1List(commitment.basis)
            w.g1List(commitment.basisSigma)
            for p in [commitment.etaGamma, commitment.etaGammaSigma, commitment.etaDelta] {
                w.bytes += p.uncompressed()
            }
            w.bytes += sigma.uncompressed()
        }
        w.bytes += SHA256.hash(w.bytes)
        return w.bytes
    }

    public static func decode(
        _ bytes: [UInt8], file: String = "proving.key"
    ) throws(KeyFileError) -> (ProvingKey, R1CS<Fr>) {
        guard bytes.count >= 8 + 32 + 32, Array(bytes[0..<4]) == magic else { throw .notAKeyFile(file: file) }
        let body = bytes[0..<(bytes.count - 32)]
        guard SHA256.hash(Array(body)) == Array(bytes[(bytes.count - 32)...]) else {
            throw .checksumMismatch(file: file)
        }
        var r = KeyReader(bytes: bytes, end: bytes.count - 32, file: file, offset: 4)
        let v = try r.u32("version")
        guard v == version || v == committedVersion else { throw .unsupportedVersion(file: file, version: v) }
        let hash = try r.take(32, "circuit hash")
        let circuitLength = try r.u64("circuit length")
        guard circuitLength <= UInt64(r.remaining) else {
            throw .truncated(file: file, offset: r.offset, what: "circuit")
        }
        let circuitBytes = Array(try r.take(Int(circuitLength), "circuit"))
        let r1cs: R1CS<Fr>
        do { r1cs = try Circom.readR1CS(circuitBytes, file: file + " (embedded circuit)") } catch {
            throw .invalid(file: file, offset: r.offset, reason: error.description)
        }
        guard SHA256.hash(circuitBytes) == Array(hash) else { throw .circuitMismatch(file: file) }
        let domainSize = Int(try r.u32("domain size"))
        let formByte = try r.take(1, "H form")[r.offset - 1]
        guard let form = ProvingKey.HQueryForm(rawValue: formByte) else {
            throw .invalid(file: file, offset: r.offset - 1, reason: "unknown H-query form \(formByte)")
        }
        let alpha = try r.g1("alpha"), beta1 = try r.g1("beta"), delta1 = try r.g1("delta")
        let beta2 = try r.g2("beta"), gamma2 = try r.g2("gamma"), delta2 = try r.g2("delta")
        let ic = try r.g1List("IC"), a = try r.g1List("A"), b1 = try r.g1List("B1")
        let b2 = try r.g2List("B2")
        let h = try r.g1List("H"), l = try r.g1List("L")
        var commitmentKey: CommitmentKey?
        var commitmentVerifyingKey: CommitmentVerifyingKey?
        if v == committedVersion {
            guard let info = r1cs.commitment else {
                throw .invalid(
                    file: file, offset: r.offset, reason: "a version 2 key for a circuit without a commitment")
            }
            let basis = try r.g1List("commitment basis"), basisSigma = try r.g1List("commitment basis * sigma")
            let etaGamma = try r.g1("eta/gamma"), etaGammaSigma = try r.g1("eta*sigma/gamma"),
                etaDelta = try r.g1("eta/delta")
            let sigma = try r.g2("sigma")
            guard basis.count == info.wires.count, basisSigma.count == info.wires.count else {
                throw .invalid(
                    file: file, offset: r.offset, reason: "commitment basis sizes do not fit the embedded circuit")
            }
            guard !sigma.isInfinity, !etaGamma.isInfinity, !etaGammaSigma.isInfinity, !etaDelta.isInfinity else {
                throw .invalid(file: file, offset: r.offset, reason: "a commitment key point is the point at infinity")
            }
            commitmentKey = CommitmentKey(
                wires: info.wires, challenge: info.challenge, basis: basis, basisSigma: basisSigma,
                etaGamma: etaGamma, etaGammaSigma: etaGammaSigma, etaDelta: etaDelta)
            commitmentVerifyingKey = CommitmentVerifyingKey(committedWires: info.wires.count, sigma: sigma)
        } else if r1cs.commitment != nil {
            throw .invalid(
                file: file, offset: r.offset,
                reason: "the embedded circuit has a commitment but the key (version 1) has none")
        }
        guard r.offset == r.end else {
            throw .invalid(file: file, offset: r.offset, reason: "unexpected trailing bytes")
        }

        let wires = r1cs.numWires
        guard ic.count == r1cs.numPublic + 1, a.count == wires, b1.count == wires, b2.count == wires,
            l.count == wires - r1cs.numPublic - 1,
            domainSize.nonzeroBitCount == 1, domainSize >= r1cs.constraintCount + r1cs.numPublic + 1,
            h.count == form.reduction.hQueryCount(domainSize: domainSize)
        else {
            throw .invalid(file: file, offset: r.offset, reason: "query sizes do not fit the embedded circuit")
        }
        var vk = VerifyingKey(alpha: alpha, beta: beta2, gamma: gamma2, delta: delta2, ic: ic)
        vk.commitment = commitmentVerifyingKey
        if let why = vk.degeneracy {
            throw .invalid(file: file, offset: r.offset, reason: "degenerate verifying key: \(why)")
        }
        guard !beta1.isInfinity, !delta1.isInfinity else {
            throw .invalid(file: file, offset: r.offset, reason: "beta or delta in G1 is the point at infinity")
        }
        var key = ProvingKey(
            verifyingKey: vk, alpha: alpha, beta1: beta1, beta2: beta2, delta1: delta1,
            delta2: delta2, a: a, b1: b1, b2: b2, h: h, l: l, domainSize: domainSize,
            hForm: form, circuitHash: Array(hash))
        key.commitment = commitmentKey
        return (key, r1cs)
    }
}

extension ByteWriter {
    /// A `proving.key` point list: u32 count, then the points uncompressed.
    mutating func g1List(_ points: [G1Affine]) {
        u32(UInt32(points.count))
        reserve(points.count * 64)
        for p in points { bytes += p.uncompressed() }
    }
}

/// Bounds-checked reader for key files (the shared `ByteReader` ending before the checksum,
/// with each field's name in its errors); point lists are validated in parallel.
struct KeyReader {
    var cursor: ByteReader
    let file: String

    init(bytes: [UInt8], end: Int, file: String, offset: Int) {
        cursor = ByteReader(bytes, offset: offset, limit: end)
        self.file = file
    }

    var bytes: [UInt8] { cursor.bytes }
    var offset: Int { cursor.offset }
    var end: Int { cursor.limit }
    var remaining: Int { cursor.remaining }

    mutating func take(_ n: Int, _ what: String) throws(KeyFileError) -> ArraySlice<UInt8> {
        do { return try cursor.take(n) } catch { throw .truncated(file: file, offset: error.offset, what: what) }
    }

    mutating func u32(_ what: String) throws(KeyFileError) -> UInt32 {
        do { return try cursor.littleEndian() } catch { throw .truncated(file: file, offset: error.offset, what: what) }
    }

    mutating func u64(_ what: String) throws(KeyFileError) -> UInt64 {
        do { return try cursor.littleEndian() } catch { throw .truncated(file: file, offset: error.offset, what: what) }
    }

    mutating func g1(_ what: String) throws(KeyFileError) -> G1Affine {
        let at = offset
        let s = try take(64, what)
        do { return try G1Affine(uncompressed: s) } catch {
            throw .invalid(file: file, offset: at, reason: "\(what): \(error)")
        }
    }

    mutating func g2(_ what: String) throws(KeyFileError) -> G2Affine {
        let at = offset
        let s = try take(128, what)
        do { return try G2Affine(uncompressed: s) } catch {
            throw .invalid(file: file, offset: at, reason: "\(what): \(error)")
        }
    }

    mutating func g1List(_ what: String) throws(KeyFileError) -> [G1Affine] {
        let (start, count) = try listBytes(what, size: 64)
        return try result(
            decodeG1PointsInParallel(bytes, start: start, count: count, layout: .bigEndianC1First) {
                (s: ArraySlice<UInt8>) throws(PointDecodingError) in try G1Affine(uncompressed: s)
            }, what, start: start, size: 64)
    }

    mutating func g2List(_ what: String) throws(KeyFileError) -> [G2Affine] {
        let (start, count) = try listBytes(what, size: 128)
        return try result(
            decodeG2PointsInParallel(bytes, start: start, count: count, layout: .bigEndianC1First) {
                (s: ArraySlice<UInt8>) throws(PointDecodingError) in try G2Affine(uncompressed: s)
            }, what, start: start, size: 128)
    }

    /// Reads a list's count and skips its bytes, checking the count against the bytes present
    /// before anything is allocated.
    mutating func listBytes(_ what: String, size: Int) throws(KeyFileError) -> (start: Int, count: Int) {
        let count = Int(try u32(what + " count"))
        guard count * size <= remaining else { throw .truncated(file: file, offset: offset, what: what) }
        let start = offset
        _ = try take(count * size, what)
        return (start, count)
    }

    func result<P>(
        _ decoded: Result<[P], IndexedPointError>, _ what: String, start: Int, size: Int
    ) throws(KeyFileError) -> [P] {
        switch decoded {
        case .success(let points): return points
        case .failure(let bad):
            throw .invalid(file: file, offset: start + bad.index * size, reason: "\(what)[\(bad.index)]: \(bad.error)")
        }
    }
}

/// The first point that failed to decode, with its index in the list.
public struct IndexedPointError: Error {
    public let index: Int
    public let error: PointDecodingError
}

/// Decodes `count` points of `size` bytes each, starting at `start`, on all cores, and reports
/// the lowest-indexed failure. Shared by the key-file, `.zkey` and `.ptau` readers.
public func decodePointsInParallel<P: Sendable>(
    _ bytes: [UInt8], start: Int, count: Int, size: Int,
    decode: @Sendable (ArraySlice<UInt8>) throws(PointDecodingError) -> P
) -> Result<[P], IndexedPointError> {
    let results = ParallelResults<P>(count: count)
    let chunk = 1024
    DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { c in
        for i in (c * chunk)..<min(count, (c + 1) * chunk) {
            let lo = start + i * size
            do throws(PointDecodingError) {
                results.set(i, try decode(bytes[lo..<(lo + size)]))
            } catch { results.fail(i, error) }
        }
    }
    if let (index, error) = results.firstFailure { return .failure(IndexedPointError(index: index, error: error)) }
    return .success(results.values())
}

/// Decodes `count` G1 points of 64 bytes from `start` on all cores, reporting the lowest-indexed
/// failure. Each point takes the allocation-free common path (`RawPointDecoding.g1`); anything
/// that path declines (a non-canonical coordinate, an off-curve point, an encoding of infinity)
/// goes through `decode`, the format's full decoder, which accepts it or names the error.
public func decodeG1PointsInParallel(
    _ bytes: [UInt8], start: Int, count: Int, layout: RawPointDecoding.Layout,
    decode: @Sendable (ArraySlice<UInt8>) throws(PointDecodingError) -> G1Affine
) -> Result<[G1Affine], IndexedPointError> {
    let (points, failure, _) = decodeInParallel(
        bytes, start: start, count: count, size: 64, placeholder: .infinity,
        fast: { RawPointDecoding.g1($0, layout: layout) }, decode: decode)
    if let failure { return .failure(failure) }
    return .success(points)
}

/// Decodes `count` G2 points of 128 bytes from `start` on all cores, reporting the
/// lowest-indexed failure. The common path (`RawPointDecoding.g2OnCurve`) checks canonical
/// coordinates and the curve; membership in G2 is then tested for the whole list at once by
/// random linear combinations (`G2SubgroupBatch`: a list with a point outside G2 passes with
/// probability below 2^-128), and only when that fails point by point, to name the first bad
/// one. Encodings the common path declines go through `decode` (full checks, per point).
public func decodeG2PointsInParallel(
    _ bytes: [UInt8], start: Int, count: Int, layout: RawPointDecoding.Layout,
    decode: @Sendable (ArraySlice<UInt8>) throws(PointDecodingError) -> G2Affine
) -> Result<[G2Affine], IndexedPointError> {
    let (points, failure, _) = decodeInParallel(
        bytes, start: start, count: count, size: 128, placeholder: .infinity,
        fast: { RawPointDecoding.g2OnCurve($0, layout: layout) }, decode: decode)
    // Points before the first decoding failure must still be in G2 for that failure to be the
    // lowest-indexed one; after a failure only that prefix is tested (point by point).
    let outside: Int? = points.withUnsafeBufferPointer { all in
        if let failure {
            return G2SubgroupBatch.firstOutside(UnsafeBufferPointer(rebasing: all[0..<failure.index]), from: 0)
        }
        return G2SubgroupBatch.allInG2(all) ? nil : G2SubgroupBatch.firstOutside(all, from: 0)
    }
    if let outside { return .failure(IndexedPointError(index: outside, error: .notInSubgroup(G2Parameters.name))) }
    if let failure { return .failure(failure) }
    return .success(points)
}

/// The shared loop of the G1 and G2 list decoders: chunks of points on all cores, the fast
/// path first and `decode` for what it declines; returns the points (placeholders after a
/// failure), the lowest-indexed failure, and how many points took the full decoder.
func decodeInParallel<P: Sendable>(
    _ bytes: [UInt8], start: Int, count: Int, size: Int, placeholder: P,
    fast: @Sendable (UnsafeRawPointer) -> P?,
    decode: @Sendable (ArraySlice<UInt8>) throws(PointDecodingError) -> P
) -> (points: [P], failure: IndexedPointError?, slowCount: Int) {
    var points = [P](repeating: placeholder, count: count)
    let chunk = 1024
    let chunks = (count + chunk - 1) / chunk
    var failures = [IndexedPointError?](repeating: nil, count: chunks)
    var slow = [Int](repeating: 0, count: chunks)
    points.withUnsafeMutableBufferPointer { out in
        failures.withUnsafeMutableBufferPointer { failed in
            slow.withUnsafeMutableBufferPointer { slowOut in
                bytes.withUnsafeBytes { raw in
                    let shared = UnsafeSendable((out, failed, slowOut, raw))
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let (target, failedOut, slowCounts, input) = shared.value
                        for i in (c * chunk)..<min(count, (c + 1) * chunk) {
                            let lo = start + i * size
                            if let p = fast(input.baseAddress! + lo) {
                                target[i] = p
                                continue
                            }
                            slowCounts[c] += 1
                            do throws(PointDecodingError) {
                                target[i] = try decode(bytes[lo..<(lo + size)])
                            } catch {
                                failedOut[c] = IndexedPointError(index: i, error: error)
                                return
                            }
                        }
                    }
                }
            }
        }
    }
    return (points, failures.lazy.compactMap { $0 }.first, slow.reduce(0, +))
}

/// Slots written by parallel workers, one index each; failures are recorded with their index.
/// The slots live in a raw buffer (not a Swift array property) so concurrent writes to
/// distinct indices need no exclusivity checks.
final class ParallelResults<P>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<P?>
    private let count: Int
    private var failures: [(Int, PointDecodingError)] = []
    private let lock = DispatchSemaphore(value: 1)

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(1, count))
        slots.initialize(repeating: nil, count: max(1, count))
    }

    deinit {
        slots.deinitialize(count: max(1, count))
        slots.deallocate()
    }

    func set(_ i: Int, _ value: P) { slots[i] = value }

    func fail(_ i: Int, _ error: PointDecodingError) {
        lock.wait()
        failures.append((i, error))
        lock.signal()
    }

    var firstFailure: (Int, PointDecodingError)? { failures.min { $0.0 < $1.0 } }

    func values() -> [P] { (0..<count).compactMap { slots[$0] } }
}

/// A proving key file of either kind, told apart by its magic bytes: VeriSplit's `proving.key`
/// (`KeyFile`) or a snarkjs `.zkey` (`Zkey`). A `.zkey` with no phase-2 contribution is refused
/// unless `allowInsecure` (anyone can forge proofs for it; tests only).
public enum ProvingKeyFile {
    public static func load(
        _ bytes: [UInt8], file: String, allowInsecure: Bool = false
    ) throws -> (ProvingKey, R1CS<Fr>) {
        if bytes.starts(with: Array("zkey".utf8)) {
            return try Zkey.read(bytes, file: file, allowInsecureTestKey: allowInsecure)
        }
        return try KeyFile.decode(bytes, file: file)
    }
}
