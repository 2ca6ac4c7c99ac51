import Algebra
import Circuit
import Foundation
import Groth16
import ZKML

/// The Groth16 keys of one part of a split step, with the circuit it was made for.
public struct PartKey: Sendable {
    public let part: CircuitSpec.Part
    public let provingKey: ProvingKey
    public let r1cs: R1CS<Fr>
    public let verifyingKey: PreparedVerifyingKey
    /// SHA-256 over everything a verifier uses (`hash(_:)`): what the handshake compares, so both
    /// sides prove and verify under the same keys, and what a session record pins its keys by.
    public let verifyingKeyHash: [UInt8]

    public init(part: CircuitSpec.Part, provingKey: ProvingKey, r1cs: R1CS<Fr>) {
        self.part = part
        self.provingKey = provingKey
        self.r1cs = r1cs
        verifyingKey = PreparedVerifyingKey(provingKey.verifyingKey)
        verifyingKeyHash = Self.hash(provingKey.verifyingKey)
    }

    /// SHA-256 over the verifying key's points (alpha, beta, gamma, delta, IC), uncompressed,
    /// then, for a circuit with a commitment to witness wires, a tag, the committed-wire count
    /// (u64, little-endian) and [sigma]_2. The commitment part matters for soundness: whoever
    /// knows sigma can pass the knowledge check with any D, and so move a public input's term
    /// into D and prove a statement other than the witness's (the attack tests play it); a pin
    /// that left sigma out would accept such a key. Plain keys hash as before, and the two forms
    /// cannot collide: a committed key's preimage is 147 bytes longer than a plain one with as
    /// many IC points, and no multiple of an IC point's 64 bytes.
    public static func hash(_ vk: VerifyingKey) -> [UInt8] {
        var bytes = Array("VeriSplit/VerifyingKey/v1".utf8)
        bytes += vk.alpha.uncompressed() + vk.beta.uncompressed() + vk.gamma.uncompressed() + vk.delta.uncompressed()
        for point in vk.ic { bytes += point.uncompressed() }
        if let commitment = vk.commitment {
            bytes += Array("/commitment".utf8)
            for k in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: UInt64(commitment.committedWires) >> UInt64(8 * k)))
            }
            bytes += commitment.sigma.uncompressed()
        }
        return SHA256.hash(bytes)
    }
}

/// The keys of all three parts of a spec: the client's forward proof, the server's step and the
/// client's update. Stored as `DIR/<part>/proving.key` (our key file, with the circuit) and
/// `DIR/<part>/verification_key.json` (snarkjs JSON), the layout `verisplit setup` and
/// `verisplit ceremony export-keys` write for one circuit.
public struct SplitKeys: Sendable {
    public let forward: PartKey
    public let server: PartKey
    public let update: PartKey
    /// The link between the client's forward and update proofs (`CommitmentLink`), present when
    /// the update key is for the linked update circuit (`batchedUpdateCircuit(..., linked:
    /// true)`), which does not open the batch again: its samples are the forward proof's.
    /// Stored as `DIR/link.key`.
    public let link: CommitmentLinkKey?

    public init(forward: PartKey, server: PartKey, update: PartKey, link: CommitmentLinkKey? = nil) {
        self.forward = forward
        self.server = server
        self.update = update
        self.link = link
    }

    /// The verifying-key hashes the parties agree on, then, for linked keys, the link's
    /// (`linkHash`): a session under other link secrets is another session.
    public var hashes: [[UInt8]] {
        [forward.verifyingKeyHash, server.verifyingKeyHash, update.verifyingKeyHash]
            + (link.map { [Self.linkHash($0)] } ?? [])
    }

    /// SHA-256 over the link's verifying key and pairs: what a verifier of the link uses.
    public static func linkHash(_ link: CommitmentLinkKey) -> [UInt8] {
        var bytes = Array("VeriSplit/LinkVerifyingKey/v1".utf8)
        bytes += link.verifyingKey.leftScale.uncompressed() + link.verifyingKey.rightScale.uncompressed()
        for pair in link.pairs {
            bytes += withUnsafeBytes(of: UInt64(pair.left).littleEndian, Array.init)
            bytes += withUnsafeBytes(of: UInt64(pair.right).littleEndian, Array.init)
            bytes += pair.coefficient.littleEndianBytes()
        }
        return SHA256.hash(bytes)
    }

    /// The link's verifying key for checking `part`'s proofs: the update's, when linked.
    public func linkVerifyingKey(for part: CircuitSpec.Part) -> CommitmentLinkVerifyingKey? {
        part == .clientUpdate ? link?.verifyingKey : nil
    }

    public func key(_ part: CircuitSpec.Part) -> PartKey {
        switch part {
        case .client: return forward
        case .server: return server
        case .clientUpdate: return update
        }
    }

    /// The R1CS of each part for `spec`, from a statement built on sample layers: the circuits'
    /// structure depends only on the spec's shapes (and batch), never on the values. A batch of
    /// two or more gives the batched circuits, with their commitment to witness wires.
    public static func circuits(for spec: CircuitSpec, linked: Bool = false) throws -> [CircuitSpec.Part: R1CS<Fr>] {
        try batchedSystems(for: spec, linked: linked)?.mapValues { $0.r1cs() } ?? oneSampleCircuits(for: spec)
    }

    /// The batched parts' constraint systems built on sample layers and zero inputs (nil for a
    /// batch of 1): their R1CS, and the wire names the link's pairs are found by.
    static func batchedSystems(
        for spec: CircuitSpec, linked: Bool
    ) throws -> [CircuitSpec.Part: ConstraintSystem<Fr>]? {
        guard spec.usesBatchedCircuits else { return nil }
        let layers = try spec.sampleLayers(seed: 1)
        let x = [Int64](repeating: 0, count: spec.input.channels * spec.input.height * spec.input.width)
        let dataset = try spec.dataset(
            inputs: [[Int64]](repeating: x, count: spec.batch), labels: [Int](repeating: 0, count: spec.batch))
        var result: [CircuitSpec.Part: ConstraintSystem<Fr>] = [:]
        for part in CircuitSpec.Part.allCases {
            result[part] = try spec.buildBatched(
                part, dataset: dataset, indices: Array(0..<spec.batch), layers: layers, session: Fr(1), step: 0,
                linked: linked)
        }
        return result
    }

    /// The link's pairs for `spec`'s forward and linked update circuits.
    public static func linkPairs(for spec: CircuitSpec) throws -> [CommitmentLinkKey.Pair] {
        guard let systems = try batchedSystems(for: spec, linked: true) else {
            throw SplitError.invalidArgument("a link needs the batched circuits (a batch of 2 or more)")
        }
        return try linkPairs(for: spec, systems: systems)
    }

    static func linkPairs(
        for spec: CircuitSpec, systems: [CircuitSpec.Part: ConstraintSystem<Fr>]
    ) throws -> [CommitmentLinkKey.Pair] {
        guard let forward = systems[.client], let update = systems[.clientUpdate] else {
            throw SplitError.invalidArgument("a link needs the forward and the update circuit")
        }
        let links = try spec.updateLinkPairs(forward: forward, update: update)
        return try CommitmentLink.pairs(left: forward.r1cs(), right: update.r1cs(), links: links)
    }

    static func oneSampleCircuits(for spec: CircuitSpec) throws -> [CircuitSpec.Part: R1CS<Fr>] {
        let layers = try spec.sampleLayers(seed: 1)
        let x = [Int64](repeating: 0, count: spec.input.channels * spec.input.height * spec.input.width)
        var result: [CircuitSpec.Part: R1CS<Fr>] = [:]
        for part in CircuitSpec.Part.allCases {
            result[part] = try spec.build(part, input: x, label: 0, layers: layers, session: Fr(1), step: 0).r1cs()
        }
        return result
    }

    /// A single-party development setup (`Groth16.setup`, toxic waste from the CSPRNG, erased).
    /// Whoever runs it could forge proofs: for real sessions use keys from a ceremony both
    /// parties contributed to.
    /// A batched spec gets the linked update and a link key from the CSPRNG too.
    public static func developmentSetup(spec: CircuitSpec) throws -> SplitKeys {
        let systems = try batchedSystems(for: spec, linked: true)
        let circuits = try systems?.mapValues { $0.r1cs() } ?? oneSampleCircuits(for: spec)
        func make(_ part: CircuitSpec.Part) throws -> PartKey {
            guard let r1cs = circuits[part] else { throw SplitError.invalidArgument("no circuit for \(part.rawValue)") }
            return PartKey(part: part, provingKey: try Groth16.setup(r1cs), r1cs: r1cs)
        }
        let forward = try make(.client), server = try make(.server), update = try make(.clientUpdate)
        guard let systems else { return SplitKeys(forward: forward, server: server, update: update) }
        guard let left = forward.provingKey.commitment, let right = update.provingKey.commitment else {
            throw SplitError.invalidArgument("the batched client parts must commit to witness wires")
        }
        let link = try CommitmentLink.developmentSetup(
            left: left, right: right, pairs: try linkPairs(for: spec, systems: systems))
        return SplitKeys(forward: forward, server: server, update: update, link: link)
    }

    public func write(to directory: URL) throws {
        for part in CircuitSpec.Part.allCases {
            let key = key(part)
            let folder = directory.appendingPathComponent(part.rawValue, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(KeyFile.encode(key.provingKey, r1cs: key.r1cs)).write(
                to: folder.appendingPathComponent("proving.key"))
            try SnarkjsJSON.encode(key.provingKey.verifyingKey).write(
                to: folder.appendingPathComponent("verification_key.json"))
        }
        if let link { try Data(LinkKeyFile.encode(link)).write(to: directory.appendingPathComponent("link.key")) }
    }

    /// Loads the three parts' keys and checks each was made for `spec`'s circuit (its circuit
    /// hash), so a key for another architecture is refused with the part named.
    /// With `DIR/link.key` present the update key must be the linked update's, and the link key
    /// must fit the two client keys' commitments (`CommitmentLink.isWellFormed`) and the spec's pairs.
    public static func load(from directory: URL, spec: CircuitSpec) throws -> SplitKeys {
        let linkPath = directory.appendingPathComponent("link.key")
        let linked = FileManager.default.fileExists(atPath: linkPath.path)
        let systems = linked ? try batchedSystems(for: spec, linked: true) : nil
        let expected = try systems?.mapValues { $0.r1cs() } ?? circuits(for: spec)
        func load(_ part: CircuitSpec.Part) throws -> PartKey {
            let path = directory.appendingPathComponent(part.rawValue).appendingPathComponent("proving.key")
            let bytes: [UInt8]
            do { bytes = Array(try Data(contentsOf: path)) } catch {
                throw SplitError.file(
                    path: path.path,
                    reason:
                        "cannot read the \(part.rawValue) proving key (\(error.localizedDescription)); run `verisplit split keys` or `verisplit ceremony export-keys`"
                )
            }
            let (key, r1cs) = try KeyFile.decode(bytes, file: path.path)
            guard let circuit = expected[part], Groth16.circuitHash(circuit) == key.circuitHash else {
                throw SplitError.file(
                    path: path.path,
                    reason: "the key was made for another circuit than the spec's \(part.rawValue) part")
            }
            return PartKey(part: part, provingKey: key, r1cs: r1cs)
        }
        let forward = try load(.client), server = try load(.server), update = try load(.clientUpdate)
        guard linked, let systems else { return SplitKeys(forward: forward, server: server, update: update) }
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: linkPath)) } catch {
            throw SplitError.file(
                path: linkPath.path, reason: "cannot read the link key (\(error.localizedDescription))")
        }
        let link = try LinkKeyFile.decode(bytes, file: linkPath.path)
        guard let left = forward.provingKey.commitment, let right = update.provingKey.commitment,
            link.pairs == (try linkPairs(for: spec, systems: systems)),
            try CommitmentLink.isWellFormed(link, left: left, right: right)
        else {
            throw SplitError.file(
                path: linkPath.path, reason: "the link key was not made for these client keys and the spec's pairs")
        }
        return SplitKeys(forward: forward, server: server, update: update, link: link)
    }
}
