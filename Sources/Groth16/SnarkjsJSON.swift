import Algebra
import Foundation

/// Why a snarkjs JSON document was rejected.
public enum SnarkjsJSONError: Error, Equatable, CustomStringConvertible {
    case notJSON(file: String)
    case missingField(file: String, field: String)
    case wrongType(file: String, field: String, expected: String)
    case badPoint(file: String, field: String, reason: String)
    case badScalar(file: String, index: Int, reason: String)
    case unsupported(file: String, reason: String)
    case tooLarge(file: String, bytes: Int, limit: Int)
    case publicInputCount(file: String, expected: Int, got: Int)
    case insecureKey(file: String, reason: String)

    public var description: String {
        switch self {
        case .notJSON(let f): return "\(f): not valid JSON"
        case .missingField(let f, let k): return "\(f): missing field '\(k)'"
        case .wrongType(let f, let k, let e): return "\(f): field '\(k)' should be \(e)"
        case .badPoint(let f, let k, let r): return "\(f): field '\(k)': \(r)"
        case .badScalar(let f, let i, let r): return "\(f): entry #\(i): \(r)"
        case .unsupported(let f, let r): return "\(f): \(r)"
        case .tooLarge(let f, let n, let l): return "\(f): \(n) bytes exceeds the \(l)-byte limit for this file type"
        case .publicInputCount(let f, let e, let g):
            return "\(f): the key has \(g) public inputs, \(e) were given (IC must have one point more than the inputs)"
        case .insecureKey(let f, let r): return "\(f): refusing a degenerate verifying key: \(r)"
        }
    }
}

/// snarkjs's JSON formats: `verification_key.json`, `proof.json`, `public.json`.
/// Points are decimal strings in projective form (z = "1"); G2 coordinates are [c0, c1].
public enum SnarkjsJSON {
    /// Upper bound on a JSON file read here (a verifying key with 2^20 public inputs fits).
    public static let maxBytes = 256 << 20

    static func object(_ data: Data, file: String) throws(SnarkjsJSONError) -> Any {
        guard data.count <= maxBytes else { throw .tooLarge(file: file, bytes: data.count, limit: maxBytes) }
        do { return try JSONSerialization.jsonObject(with: data) } catch { throw .notJSON(file: file) }
    }

    static func strings(_ value: Any?, file: String, field: String) throws(SnarkjsJSONError) -> [[String]] {
        guard let outer = value as? [Any] else { throw .wrongType(file: file, field: field, expected: "an array") }
        var result: [[String]] = []
        for item in outer {
            if let s = item as? String {
                result.append([s])
            } else if let inner = item as? [Any] {
                let strings = inner.compactMap { $0 as? String }
                guard strings.count == inner.count else {
                    throw .wrongType(file: file, field: field, expected: "decimal strings")
                }
                result.append(strings)
            } else {
                throw .wrongType(file: file, field: field, expected: "decimal strings")
            }
        }
        return result
    }

    static func g1(_ value: Any?, file: String, field: String) throws(SnarkjsJSONError) -> G1Affine {
        let coords = try strings(value, file: file, field: field)
        do { return try G1Affine(snarkjs: coords) } catch {
            throw .badPoint(file: file, field: field, reason: error.description)
        }
    }

    static func g2(_ value: Any?, file: String, field: String) throws(SnarkjsJSONError) -> G2Affine {
        guard let outer = value as? [Any] else { throw .wrongType(file: file, field: field, expected: "an array") }
        var coords: [[String]] = []
        for item in outer {
            guard let pair = item as? [Any], pair.count == 2,
                let c0 = pair[0] as? String, let c1 = pair[1] as? String
            else { throw .wrongType(file: file, field: field, expected: "pairs of decimal strings") }
            coords.append([c0, c1])
        }
        do { return try G2Affine(snarkjs: coords) } catch {
            throw .badPoint(file: file, field: field, reason: error.description)
        }
    }

    static func checkProtocol(_ dict: [String: Any], file: String) throws(SnarkjsJSONError) {
        if let proto = dict["protocol"] as? String, proto != "groth16" {
            throw .unsupported(file: file, reason: "protocol '\(proto)' is not groth16")
        }
        if let curve = dict["curve"] as? String, curve != "bn128" && curve != "bn254" {
            throw .unsupported(file: file, reason: "curve '\(curve)' is not bn128/BN254")
        }
    }

    // MARK: Verifying key

    /// Bytes a `verification_key.json` for `publicInputs` inputs can need: 64 KiB for the fixed
    /// points and fields (snarkjs's `vk_alphabeta_12` included) plus 1 KiB per IC point (three
    /// 77-digit decimals with quotes and indentation take under 300). Callers that know the
    /// input count check the file's size against it before reading or parsing anything.
    public static func maxVerifyingKeyBytes(publicInputs: Int) -> Int {
        (64 << 10) + (max(0, publicInputs) + 1) * (1 << 10)
    }

    /// Parses and validates a snarkjs verifying key. With `expectedPublicInputs`, the document's
    /// size is checked against `maxVerifyingKeyBytes` first and the IC count before any point
    /// is decoded, so a key with a million IC points costs nothing to refuse. Every point is
    /// checked (canonical, on the curve, in the subgroup) and degenerate keys are refused
    /// (`VerifyingKey.degeneracy`: gamma = +-delta, alpha/beta/gamma/delta or an IC point at
    /// infinity), because they verify forged proofs.
    public static func verifyingKey(
        _ data: Data, file: String = "verification_key.json",
        expectedPublicInputs: Int? = nil
    ) throws(SnarkjsJSONError) -> VerifyingKey {
        if let n = expectedPublicInputs, data.count > maxVerifyingKeyBytes(publicInputs: n) {
            throw .tooLarge(file: file, bytes: data.count, limit: maxVerifyingKeyBytes(publicInputs: n))
        }
        guard let dict = try object(data, file: file) as? [String: Any] else {
            throw .wrongType(file: file, field: "(top level)", expected: "an object")
        }
        try checkProtocol(dict, file: file)
        guard let icList = dict["IC"] as? [Any] else { throw .missingField(file: file, field: "IC") }
        if let n = expectedPublicInputs, icList.count != n + 1 {
            throw .publicInputCount(file: file, expected: n, got: icList.count - 1)
        }
        guard !icList.isEmpty else { throw .wrongType(file: file, field: "IC", expected: "a non-empty array") }
        if let n = dict["nPublic"] as? Int, n != icList.count - 1 {
            throw .unsupported(file: file, reason: "nPublic = \(n) but IC has \(icList.count) points")
        }
        var ic: [G1Affine] = []
        ic.reserveCapacity(icList.count)
        for (i, item) in icList.enumerated() { ic.append(try g1(item, file: file, field: "IC[\(i)]")) }
        func need(_ key: String) throws(SnarkjsJSONError) -> Any {
            guard let v = dict[key] else { throw .missingField(file: file, field: key) }
            return v
        }
        var vk = VerifyingKey(
            alpha: try g1(need("vk_alpha_1"), file: file, field: "vk_alpha_1"),
            beta: try g2(need("vk_beta_2"), file: file, field: "vk_beta_2"),
            gamma: try g2(need("vk_gamma_2"), file: file, field: "vk_gamma_2"),
            delta: try g2(need("vk_delta_2"), file: file, field: "vk_delta_2"),
            ic: ic)
        if let extensionValue = dict[commitmentField] {
            vk.commitment = try commitmentKey(extensionValue, file: file)
        }
        if let why = vk.degeneracy { throw .insecureKey(file: file, reason: why) }
        return vk
    }

    /// VeriSplit's extension field of `verification_key.json` for a circuit with a commitment to
    /// witness wires (BSB22): `{"committed_wires": n, "sigma_2": G2 point}`, what the verifier
    /// needs for the commitment's knowledge check. snarkjs ignores it (and cannot verify such
    /// proofs); a key without a commitment has no such field, so its file is snarkjs's byte for byte.
    public static let commitmentField = "vs_commitment"

    static func commitmentKey(_ value: Any, file: String) throws(SnarkjsJSONError) -> CommitmentVerifyingKey {
        let field = commitmentField
        guard let object = value as? [String: Any] else {
            throw .wrongType(file: file, field: field, expected: "an object with committed_wires and sigma_2")
        }
        guard let count = object["committed_wires"] else {
            throw .missingField(file: file, field: field + ".committed_wires")
        }
        guard let wires = count as? Int, (0...(1 << 28)).contains(wires) else {
            throw .wrongType(file: file, field: field + ".committed_wires", expected: "an integer from 0 to 2^28")
        }
        guard let sigma = object["sigma_2"] else { throw .missingField(file: file, field: field + ".sigma_2") }
        return CommitmentVerifyingKey(
            committedWires: wires, sigma: try g2(sigma, file: file, field: field + ".sigma_2"))
    }

    /// snarkjs's `verification_key.json`; a key with a commitment to witness wires adds
    /// `commitmentField`.
    public static func encode(_ vk: VerifyingKey) -> Data {
        var dict: [String: Any] = [
            "protocol": "groth16", "curve": "bn128", "nPublic": vk.publicInputCount,
            "vk_alpha_1": vk.alpha.snarkjsStrings().flatMap { $0 },
            "vk_beta_2": vk.beta.snarkjsStrings(),
            "vk_gamma_2": vk.gamma.snarkjsStrings(),
            "vk_delta_2": vk.delta.snarkjsStrings(),
            "IC": vk.ic.map { $0.snarkjsStrings().flatMap { $0 } },
        ]
        if let commitment = vk.commitment {
            dict[commitmentField] = [
                "committed_wires": commitment.committedWires, "sigma_2": commitment.sigma.snarkjsStrings(),
            ]
        }
        return serialize(dict)
    }

    // MARK: Proof and public inputs

    public static func proof(_ data: Data, file: String = "proof.json") throws(SnarkjsJSONError) -> Proof {
        guard let dict = try object(data, file: file) as? [String: Any] else {
            throw .wrongType(file: file, field: "(top level)", expected: "an object")
        }
        try checkProtocol(dict, file: file)
        guard let a = dict["pi_a"] else { throw .missingField(file: file, field: "pi_a") }
        guard let b = dict["pi_b"] else { throw .missingField(file: file, field: "pi_b") }
        guard let c = dict["pi_c"] else { throw .missingField(file: file, field: "pi_c") }
        return Proof(
            a: try g1(a, file: file, field: "pi_a"), b: try g2(b, file: file, field: "pi_b"),
            c: try g1(c, file: file, field: "pi_c"))
    }

    public static func encode(_ proof: Proof) -> Data {
        serialize([
            "pi_a": proof.a.snarkjsStrings().flatMap { $0 },
            "pi_b": proof.b.snarkjsStrings(),
            "pi_c": proof.c.snarkjsStrings().flatMap { $0 },
            "protocol": "groth16", "curve": "bn128",
        ])
    }

    /// `public.json`: an array of decimal strings, each < r.
    public static func publicInputs(_ data: Data, file: String = "public.json") throws(SnarkjsJSONError) -> [Fr] {
        guard let list = try object(data, file: file) as? [Any] else {
            throw .wrongType(file: file, field: "(top level)", expected: "an array of decimal strings")
        }
        var out: [Fr] = []
        for (i, item) in list.enumerated() {
            guard let text = item as? String else { throw .badScalar(file: file, index: i, reason: "not a string") }
            do { out.append(try Fr(decimal: text)) } catch {
                throw .badScalar(file: file, index: i, reason: error.description)
            }
        }
        return out
    }

    public static func encode(publicInputs: [Fr]) -> Data {
        serialize(publicInputs.map(\.description))
    }

    static func serialize(_ value: Any) -> Data {
        // Only strings, numbers, arrays and dictionaries built above: serialization cannot fail.
        (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }
}

extension Proof {
    /// The 256-byte Ethereum layout: A (64) || B (128, imaginary parts first) || C (64).
    public var ethereumBytes: [UInt8] { a.uncompressed() + b.uncompressed() + c.uncompressed() }

    public init(ethereumBytes bytes: [UInt8]) throws(PointDecodingError) {
        guard bytes.count == 256 else { throw .wrongLength(group: "proof", expected: 256, got: bytes.count) }
        self.init(
            a: try G1Affine(uncompressed: bytes[0..<64]), b: try G2Affine(uncompressed: bytes[64..<192]),
            c: try G1Affine(uncompressed: bytes[192..<256]))
    }
}

extension SnarkjsJSON {
    /// Verifies snarkjs files: `public.json` first (at most `maxBytes`), whose count bounds the
    /// verifying key's size and IC count, which are checked before the key is parsed or any of its
    /// points decoded; then the proof (at most 1 MiB). True iff the pairing check passes.
    public static func verifyFiles(verifyingKey vk: String, proof: String, publicInputs path: String) throws -> Bool {
        let inputs = try publicInputs(Data(try Files.read(path, limit: maxBytes)), file: path)
        let why = "a verifying key for \(inputs.count) public inputs is smaller"
        let key = try verifyingKey(
            Data(try Files.read(vk, limit: maxVerifyingKeyBytes(publicInputs: inputs.count), why: why)),
            file: vk, expectedPublicInputs: inputs.count)
        let p = try self.proof(Data(try Files.read(proof, limit: 1 << 20)), file: proof)
        return try Groth16.verify(key: key, proof: p, publicInputs: inputs)
    }
}
