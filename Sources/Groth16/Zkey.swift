import Algebra
import Circuit
import Dispatch

/// Why a snarkjs `.zkey` was rejected or could not be written: what, and where (section and
/// byte offset from the start of the file).
public enum ZkeyError: Error, Equatable, CustomStringConvertible {
    case notAZkey(file: String)
    case unsupportedVersion(file: String, version: UInt32)
    case unsupportedProtocol(file: String, id: UInt32)
    case truncated(file: String, section: String, offset: Int, needed: Int)
    case missingSection(file: String, section: String)
    case duplicateSection(file: String, section: String, offset: Int)
    case invalid(file: String, section: String, offset: Int, reason: String)
    case tooLarge(file: String, section: String, offset: Int, what: String, value: UInt64, limit: UInt64)
    /// The key lets anyone forge proofs (no phase-2 contribution: delta is the generator).
    case insecureKey(file: String, reason: String)
    /// `Zkey.write` cannot express this key in the `.zkey` format.
    case cannotExport(reason: String)

    public var description: String {
        switch self {
        case .notAZkey(let f): return "\(f): not a snarkjs .zkey file (bad magic bytes)"
        case .unsupportedVersion(let f, let v): return "\(f): .zkey format version \(v) is not supported (expected 1)"
        case .unsupportedProtocol(let f, let id):
            let name = id == 2 ? " (PLONK)" : id == 10 ? " (FFLONK)" : ""
            return "\(f): protocol id \(id)\(name) is not Groth16 (id 1); only Groth16 zkeys can be used here"
        case .truncated(let f, let s, let o, let n):
            return "\(f): truncated in section \(s) at byte \(o) (needed \(n) more bytes); the file is incomplete"
        case .missingSection(let f, let s): return "\(f): required section \(s) is missing"
        case .duplicateSection(let f, let s, let o): return "\(f): section \(s) appears twice (second at byte \(o))"
        case .invalid(let f, let s, let o, let r): return "\(f): section \(s) at byte \(o): \(r)"
        case .tooLarge(let f, let s, let o, let w, let v, let l):
            return "\(f): section \(s) at byte \(o): \(w) = \(v) exceeds the limit \(l)"
        case .insecureKey(let f, let r):
            return "\(f): refusing an insecure key: \(r). Run a phase-2 contribution (`snarkjs zkey contribute`) "
                + "or pass allowInsecureTestKey: true for throwaway tests only"
        case .cannotExport(let r): return "cannot export as .zkey: \(r)"
        }
    }
}

/// snarkjs's Groth16 proving key (`.zkey`, format version 1) over BN254: import and export.
///
/// Layout, as written by snarkjs (`zkey_new.js`, `zkey_utils.js`) on binfileutils' container:
/// `"zkey"`, u32 version = 1, u32 section count, then sections `u32 id | u64 size | body`
/// (any order, each id at most once). Integers are little-endian. Field elements are in
/// Montgomery form with R = 2^256, 32 bytes little-endian; a G1 point is x || y, a G2 point
/// x.c0 || x.c1 || y.c0 || y.c1, affine, and the point at infinity is all zero bytes.
///
/// | id | section | body |
/// |----|---------|------|
/// | 1 | header | u32 protocol (1 = Groth16) |
/// | 2 | Groth16 header | u32 n8q, q, u32 n8r, r (plain LE), u32 nVars, u32 nPublic, u32 domainSize, G1 alpha, G1 beta, G2 beta, G2 gamma, G1 delta, G2 delta |
/// | 3 | IC | nPublic + 1 G1 points |
/// | 4 | coefficients | u32 count, then per entry u32 matrix (0 = A, 1 = B), u32 row, u32 wire, 32-byte value |
/// | 5, 6, 7 | A, B1, B2 | nVars points each (G1, G1, G2) |
/// | 8 | C | the L query: nVars - nPublic - 1 G1 points (private wires only) |
/// | 9 | H | domainSize G1 points: L_{2i+1}(tau)/delta over the 2n-point domain |
/// | 10 | contributions | 64-byte circuit hash, u32 count, contribution records |
/// | 0x10000 | commitment key (VeriSplit) | u32 challenge wire, u32 n, n x u32 committed wires, n G1 basis, n G1 basis * sigma, G1 eta/gamma, G1 sigma eta/gamma, G1 eta/delta, G2 sigma |
/// | 0x10001 | commitment updates (VeriSplit) | u32 count, per phase-2 contribution two proofs of knowledge (sigma, eta), each G1, G1, G2 |
///
/// The last two sections are written only for a circuit with a commitment to witness wires
/// (BSB22, `CommitmentKey`); ids above 10 are outside snarkjs's range and its reader skips
/// them, so a key without a commitment is written byte for byte as snarkjs writes it. (snarkjs
/// cannot prove a circuit with a commitment: it does not know the protocol.)
///
/// The coefficient section holds the A and B matrices only, plus one row per public wire k
/// (`A[m + k][k] = 1`, m = constraint count). Each value v is stored as the integer
/// v * R^2 mod r, so snarkjs's prover can multiply it, read as a Montgomery number (v * R),
/// by a plain witness value (w / R in Montgomery reading) and get v * w in Montgomery form.
/// snarkjs's prover needs no C matrix: it takes C = A * B row by row, which a satisfying
/// witness makes equal to <C_j, w>. So the circuit rebuilt from a zkey has A and B and empty
/// C rows; `Groth16.prove` handles that (it verifies such a proof before returning it).
///
/// Reading validates everything: section sizes against the file before allocating, counts
/// against each other, coordinates below q, points on their curve, G2 points in the
/// prime-order subgroup (points decoded on all cores), coefficients below r and in range,
/// and that delta and beta are the same in G1 and G2. A key with no phase-2 contribution
/// (delta equal to the generator, as `snarkjs groth16 setup` leaves it, or gamma = delta)
/// lets anyone forge proofs and is refused unless `allowInsecureTestKey` is set.
public enum Zkey {
    public static let magic = Array("zkey".utf8)
    public static let version: UInt32 = 1
    public static let groth16ProtocolID: UInt32 = 1
    /// Upper bound on the domain: snarkjs uses a different H layout at 2^28 (Fr's full
    /// two-adicity), which is not supported here.
    public static let maxDomainSize = 1 << 27

    /// One phase-2 contribution record (section 10), as snarkjs writes it.
    public struct Contribution: Sendable, Equatable {
        /// delta (G1) after this contribution; the last one equals the key's delta.
        public var deltaAfter: G1Affine
        /// 0 for a contribution, 1 for a random beacon.
        public var type: UInt32
        /// The contributor's name, when given.
        public var name: String?
        /// The proof of knowledge of the contribution's secret x: a point s, x * s in G1 and
        /// x * sp in G2, where sp is derived from a hash of the transcript and s, x * s.
        public var g1S: G1Affine
        public var g1SX: G1Affine
        public var g2SPX: G2Affine
        /// The 64-byte transcript hash the proof is bound to.
        public var transcript: [UInt8]
        /// For a beacon (type 1): log2 of the hash iterations and the beacon value.
        public var iterationsExponent: UInt8?
        public var beaconHash: [UInt8]?

        public init(
            deltaAfter: G1Affine, type: UInt32, name: String?, g1S: G1Affine, g1SX: G1Affine,
            g2SPX: G2Affine, transcript: [UInt8], iterationsExponent: UInt8? = nil, beaconHash: [UInt8]? = nil
        ) {
            self.deltaAfter = deltaAfter
            self.type = type
            self.name = name
            self.g1S = g1S
            self.g1SX = g1SX
            self.g2SPX = g2SPX
            self.transcript = transcript
            self.iterationsExponent = iterationsExponent
            self.beaconHash = beaconHash
        }
    }

    /// A phase-2 contribution's proofs for the commitment key's secrets (section 0x10001):
    /// sigma (the knowledge check's secret) and eta (the blinding base), in the layout of a
    /// snarkjs record's proof: a point s, x * s in G1 and x * sp in G2 (see the ceremony's
    /// `KnowledgeProof`).
    public struct CommitmentUpdate: Sendable, Equatable {
        public var sigmaG1S: G1Affine
        public var sigmaG1SX: G1Affine
        public var sigmaG2SPX: G2Affine
        public var etaG1S: G1Affine
        public var etaG1SX: G1Affine
        public var etaG2SPX: G2Affine

        public init(
            sigmaG1S: G1Affine, sigmaG1SX: G1Affine, sigmaG2SPX: G2Affine, etaG1S: G1Affine, etaG1SX: G1Affine,
            etaG2SPX: G2Affine
        ) {
            self.sigmaG1S = sigmaG1S
            self.sigmaG1SX = sigmaG1SX
            self.sigmaG2SPX = sigmaG2SPX
            self.etaG1S = etaG1S
            self.etaG1SX = etaG1SX
            self.etaG2SPX = etaG2SPX
        }

        /// Bytes on file: 2 x (64 + 64 + 128).
        static let byteCount = 512
    }

    /// The phase-2 record of a zkey: snarkjs's 64-byte circuit hash (BLAKE2b-512 of the
    /// initial key) and the contributions, with the section's raw bytes so an export of an
    /// imported key carries them unchanged.
    public struct Phase2: Sendable, Equatable {
        public let circuitHash: [UInt8]
        public let contributions: [Contribution]
        /// Section 10's body as read (or as it will be written).
        public let encoded: [UInt8]

        /// A record of `contributions` in snarkjs's layout (names cut to 64 bytes as snarkjs
        /// does; transcripts must be 64 bytes and beacon hashes at most 255).
        public init(circuitHash: [UInt8], contributions: [Contribution]) throws(ZkeyError) {
            guard circuitHash.count == 64 else { throw .cannotExport(reason: "the circuit hash must be 64 bytes") }
            var w = ByteWriter()
            w.bytes = circuitHash
            w.u32(UInt32(contributions.count))
            var kept: [Contribution] = []
            for var c in contributions {
                guard c.transcript.count == 64 else {
                    throw .cannotExport(reason: "a contribution transcript must be 64 bytes")
                }
                w.g1(c.deltaAfter)
                w.g1(c.g1S)
                w.g1(c.g1SX)
                w.g2(c.g2SPX)
                w.bytes += c.transcript
                w.u32(c.type)
                if c.type == 1 {
                    guard c.iterationsExponent != nil, let beacon = c.beaconHash, beacon.count <= 255 else {
                        throw .cannotExport(
                            reason:
                                "a beacon contribution needs its iteration exponent and a beacon of at most 255 bytes")
                    }
                }
                c.name = c.name.map(ContributionParameters.clip)
                w.bytes += ContributionParameters(
                    name: c.name, iterationsExponent: c.iterationsExponent,
                    beaconHash: c.beaconHash
                ).encoded(beacon: c.type == 1)
                kept.append(c)
            }
            self.init(circuitHash: circuitHash, contributions: kept, encoded: w.bytes)
        }

        init(circuitHash: [UInt8], contributions: [Contribution], encoded: [UInt8]) {
            self.circuitHash = circuitHash
            self.contributions = contributions
            self.encoded = encoded
        }

        /// A record with no contributions and a zero circuit hash, for keys not made by a
        /// snarkjs ceremony (there is no transcript to carry).
        public static var empty: Phase2 {
            Phase2(
                circuitHash: [UInt8](repeating: 0, count: 64), contributions: [],
                encoded: [UInt8](repeating: 0, count: 64) + [0, 0, 0, 0])
        }
    }

    /// Everything a zkey holds: the proving key (H in `.oddCosetLagrange` form), the circuit
    /// rebuilt from the coefficient section (A and B; C rows empty, see the type's doc), and
    /// the phase-2 record.
    public struct Contents: Sendable {
        public var key: ProvingKey
        public var r1cs: R1CS<Fr>
        public var phase2: Phase2
        /// The commitment key's update proofs, one per phase-2 contribution (empty without a
        /// commitment).
        public var commitmentUpdates: [CommitmentUpdate] = []
    }

    // MARK: Reading

    /// Reads a Groth16 `.zkey`: the proving key and the circuit (A and B matrices) the prover
    /// needs. See `parse` for the checks.
    public static func read(
        _ bytes: [UInt8], file: String = "circuit.zkey",
        allowInsecureTestKey: Bool = false
    ) throws(ZkeyError) -> (ProvingKey, R1CS<Fr>) {
        let contents = try parse(bytes, file: file, allowInsecureTestKey: allowInsecureTestKey)
        return (contents.key, contents.r1cs)
    }

    /// Parses and validates a Groth16 `.zkey` (see the type's documentation for the layout
    /// and the checks). Cost: one pass over the bytes, a curve check per point and a subgroup
    /// check per G2 point, spread over all cores, and two pairings.
    public static func parse(
        _ bytes: [UInt8], file: String = "circuit.zkey",
        allowInsecureTestKey: Bool = false
    ) throws(ZkeyError) -> Contents {
        var reader = ZkeyReader(bytes: bytes, file: file)
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else { throw .notAZkey(file: file) }
        reader.offset = 4
        let v = try reader.u32()
        guard v == version else { throw .unsupportedVersion(file: file, version: v) }
        let table = try reader.sectionTable()
        let locator = reader  // a copy: `find` must not overlap the mutating reads below
        func find(_ id: UInt32) throws(ZkeyError) -> (offset: Int, size: Int) { try locator.find(id, in: table) }

        // 1: header
        let s1 = try find(1)
        reader.enter(1, s1)
        let protocolID = try reader.u32()
        try reader.expectEnd()
        guard protocolID == groth16ProtocolID else { throw .unsupportedProtocol(file: file, id: protocolID) }

        // 2: Groth16 header
        let s2 = try find(2)
        reader.enter(2, s2)
        try reader.prime(expected: Fq.modulus, name: "q (base field)")
        try reader.prime(expected: Fr.modulus, name: "r (scalar field)")
        let nVarsAt = reader.offset
        let nVars = Int(try reader.u32())
        let nPublic = Int(try reader.u32())
        let domainAt = reader.offset
        let domainSize = Int(try reader.u32())
        guard nVars >= 1, nVars <= Circom.maxWires else {
            throw .tooLarge(
                file: file, section: sectionName(2), offset: nVarsAt, what: "nVars",
                value: UInt64(nVars), limit: UInt64(Circom.maxWires))
        }
        guard nPublic < nVars else {
            throw .invalid(
                file: file, section: sectionName(2), offset: nVarsAt,
                reason: "nPublic = \(nPublic) does not leave room for the constant wire among \(nVars) wires")
        }
        guard domainSize >= 2, domainSize.nonzeroBitCount == 1 else {
            throw .invalid(
                file: file, section: sectionName(2), offset: domainAt,
                reason: "domain size \(domainSize) is not a power of two >= 2")
        }
        guard domainSize <= maxDomainSize else {
            throw .tooLarge(
                file: file, section: sectionName(2), offset: domainAt, what: "domain size",
                value: UInt64(domainSize), limit: UInt64(maxDomainSize))
        }
        let alpha1 = try reader.g1("alpha1"), beta1 = try reader.g1("beta1")
        let beta2 = try reader.g2("beta2"), gamma2 = try reader.g2("gamma2")
        let delta1 = try reader.g1("delta1"), delta2 = try reader.g2("delta2")
        try reader.expectEnd()
        for (p, name) in [(alpha1, "alpha1"), (beta1, "beta1"), (delta1, "delta1")] where p.isInfinity {
            throw .invalid(
                file: file, section: sectionName(2), offset: s2.offset, reason: "\(name) is the point at infinity")
        }
        for (p, name) in [(beta2, "beta2"), (gamma2, "gamma2"), (delta2, "delta2")] where p.isInfinity {
            throw .invalid(
                file: file, section: sectionName(2), offset: s2.offset, reason: "\(name) is the point at infinity")
        }
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        guard Pairing.pairingCheck([(delta1, g2), (-g1, delta2)]) else {
            throw .invalid(
                file: file, section: sectionName(2), offset: s2.offset,
                reason: "delta1 and delta2 are not the same scalar (e(delta1, g2) != e(g1, delta2))")
        }
        guard Pairing.pairingCheck([(beta1, g2), (-g1, beta2)]) else {
            throw .invalid(
                file: file, section: sectionName(2), offset: s2.offset,
                reason: "beta1 and beta2 are not the same scalar (e(beta1, g2) != e(g1, beta2))")
        }
        if !allowInsecureTestKey {
            if delta2 == g2 || delta1 == g1 {
                throw .insecureKey(
                    file: file,
                    reason: "delta is the generator, so the key has no phase-2 contribution "
                        + "and gamma = delta: anyone can forge proofs")
            }
            if gamma2 == delta2 {
                throw .insecureKey(file: file, reason: "gamma = delta: anyone can forge proofs")
            }
        }

        // 3, 5, 6, 7, 8, 9: the point sections, sized exactly.
        let nPrivate = nVars - nPublic - 1
        let ic = try reader.g1Section(3, count: nPublic + 1, in: try find(3))
        let aQuery = try reader.g1Section(5, count: nVars, in: try find(5))
        let b1Query = try reader.g1Section(6, count: nVars, in: try find(6))
        let b2Query = try reader.g2Section(7, count: nVars, in: try find(7))
        let lQuery = try reader.g1Section(8, count: nPrivate, in: try find(8))
        let hQuery = try reader.g1Section(9, count: domainSize, in: try find(9))

        // 4: coefficients -> the circuit's A and B.
        var r1cs = try reader.coefficients(in: try find(4), nVars: nVars, nPublic: nPublic, domainSize: domainSize)

        // 10: contributions (snarkjs always writes it; a key without it reads as none).
        var phase2 = Phase2.empty
        if table.contains(where: { $0.id == 10 }) {
            phase2 = try reader.contributions(in: try find(10))
            if let last = phase2.contributions.last, last.deltaAfter != delta1 {
                throw .invalid(
                    file: file, section: sectionName(10), offset: try find(10).offset,
                    reason: "the last contribution's delta does not match delta1 in the header")
            }
        }

        // 0x10000, 0x10001: a commitment to witness wires (VeriSplit's; optional).
        var commitment: (key: CommitmentKey, verifying: CommitmentVerifyingKey)?
        var updates: [CommitmentUpdate] = []
        if table.contains(where: { $0.id == commitmentKeySection }) {
            let read = try reader.commitmentKey(in: try find(commitmentKeySection), nVars: nVars, nPublic: nPublic)
            commitment = read
            r1cs.commitment = R1CS<Fr>.Commitment(challenge: read.key.challenge, wires: read.key.wires)
            let s = try find(commitmentUpdatesSection)
            updates = try reader.commitmentUpdates(in: s)
            guard updates.count == phase2.contributions.count else {
                throw .invalid(
                    file: file, section: sectionName(commitmentUpdatesSection), offset: s.offset,
                    reason:
                        "\(updates.count) commitment updates for \(phase2.contributions.count) phase-2 contributions")
            }
            if !allowInsecureTestKey && read.verifying.sigma == g2 {
                throw .insecureKey(
                    file: file,
                    reason: "sigma is the generator, so the commitment's knowledge check is void: "
                        + "anyone can commit to points outside the committed wires' span")
            }
        } else if table.contains(where: { $0.id == commitmentUpdatesSection }) {
            throw .invalid(
                file: file, section: sectionName(commitmentUpdatesSection),
                offset: try find(commitmentUpdatesSection).offset,
                reason: "commitment updates without a commitment key section")
        }

        var vk = VerifyingKey(alpha: alpha1, beta: beta2, gamma: gamma2, delta: delta2, ic: ic)
        vk.commitment = commitment?.verifying
        var key = ProvingKey(
            verifyingKey: vk, alpha: alpha1, beta1: beta1, beta2: beta2, delta1: delta1,
            delta2: delta2, a: aQuery, b1: b1Query, b2: b2Query, h: hQuery, l: lQuery,
            domainSize: domainSize, hForm: .oddCosetLagrange,
            circuitHash: Groth16.circuitHash(r1cs))
        key.commitment = commitment?.key
        return Contents(key: key, r1cs: r1cs, phase2: phase2, commitmentUpdates: updates)
    }

    /// Section ids of VeriSplit's commitment key and its ceremony updates.
    public static let commitmentKeySection: UInt32 = 0x10000
    public static let commitmentUpdatesSection: UInt32 = 0x10001

    static func sectionName(_ id: UInt32) -> String {
        let names: [UInt32: String] = [
            1: "header", 2: "groth16 header", 3: "IC", 4: "coefficients", 5: "A",
            6: "B1", 7: "B2", 8: "C", 9: "H", 10: "contributions", commitmentKeySection: "commitment key",
            commitmentUpdatesSection: "commitment updates",
        ]
        return "\(names[id] ?? "unknown")(\(id))"
    }

    // MARK: Writing

    /// Writes `key` as a snarkjs Groth16 `.zkey` (version 1, sections 1-10 in order), with
    /// the coefficient section built from `r1cs` (A and B plus the public rows) and `phase2`
    /// as section 10 (by default an empty record: no contributions, zero circuit hash).
    ///
    /// Only keys whose H query is in snarkjs's form (`.oddCosetLagrange`: imported zkeys, keys
    /// from `Groth16.setupSnarkjsStyle`) can be written; a `.monomial` key cannot be converted
    /// without tau, which setup erased.
    public static func write(
        _ key: ProvingKey, r1cs: R1CS<Fr>, phase2: Phase2 = .empty, commitmentUpdates: [CommitmentUpdate] = []
    ) throws(ZkeyError) -> [UInt8] {
        guard key.hForm == .oddCosetLagrange else {
            throw .cannotExport(
                reason: "the key's H query is in monomial form (VeriSplit's `Groth16.setup`); "
                    + "snarkjs needs the odd-coset Lagrange form, which cannot be derived without "
                    + "the erased toxic waste. Export a key made by `Groth16.setupSnarkjsStyle` or imported from a .zkey"
            )
        }
        guard key.circuitHash == Groth16.circuitHash(r1cs) else {
            throw .cannotExport(reason: "the key was made for a different circuit (circuit hash differs)")
        }
        let m = r1cs.constraintCount, nPublic = r1cs.numPublic, nVars = r1cs.numWires
        guard key.wireCount == nVars, key.b1.count == nVars, key.b2.count == nVars,
            key.publicInputCount == nPublic, key.l.count == nVars - nPublic - 1,
            key.h.count == key.domainSize, key.domainSize >= m + nPublic + 1,
            key.domainSize <= maxDomainSize
        else { throw .cannotExport(reason: "the key's query sizes do not fit the circuit") }
        if let last = phase2.contributions.last, last.deltaAfter != key.delta1 {
            throw .cannotExport(reason: "the phase-2 record's last delta does not match the key's delta")
        }
        let commitment = try exportableCommitment(key, r1cs: r1cs)
        guard commitment != nil || commitmentUpdates.isEmpty else {
            throw .cannotExport(reason: "commitment updates for a key without a commitment")
        }
        guard commitment == nil || commitmentUpdates.count == phase2.contributions.count else {
            throw .cannotExport(
                reason: "\(commitmentUpdates.count) commitment updates for \(phase2.contributions.count) contributions")
        }

        var out = ByteWriter()
        out.bytes = magic
        out.u32(version)
        out.u32(commitment == nil ? 10 : 12)
        out.section(1) { $0.u32(groth16ProtocolID) }
        out.section(2) { w in
            w.u32(32)
            w.bytes += Fq.modulus.littleEndianBytes(count: 32)
            w.u32(32)
            w.bytes += Fr.modulus.littleEndianBytes(count: 32)
            w.u32(UInt32(nVars))
            w.u32(UInt32(nPublic))
            w.u32(UInt32(key.domainSize))
            w.g1(key.alpha)
            w.g1(key.beta1)
            w.g2(key.beta2)
            w.g2(key.verifyingKey.gamma)
            w.g1(key.delta1)
            w.g2(key.delta2)
        }
        out.section(3) { w in for p in key.verifyingKey.ic { w.g1(p) } }
        out.section(4) { w in
            let publicRows = nPublic + 1
            w.u32(UInt32(r1cs.a.nonZeroCount + r1cs.b.nonZeroCount + publicRows))
            w.bytes.reserveCapacity(w.bytes.count + (r1cs.a.nonZeroCount + r1cs.b.nonZeroCount + publicRows) * 44)
            for j in 0..<m {
                for (matrix, mat) in [(UInt32(0), r1cs.a), (UInt32(1), r1cs.b)] {
                    for k in mat.rowStart[j]..<mat.rowStart[j + 1] {
                        w.coefficient(matrix: matrix, row: j, wire: Int(mat.columns[k]), value: mat.values[k])
                    }
                }
            }
            for s in 0...nPublic { w.coefficient(matrix: 0, row: m + s, wire: s, value: .one) }
        }
        out.section(5) { w in for p in key.a { w.g1(p) } }
        out.section(6) { w in for p in key.b1 { w.g1(p) } }
        out.section(7) { w in for p in key.b2 { w.g2(p) } }
        out.section(8) { w in for p in key.l { w.g1(p) } }
        out.section(9) { w in for p in key.h { w.g1(p) } }
        out.section(10) { w in w.bytes += phase2.encoded }
        if let (commitmentKey, sigma) = commitment {
            out.section(commitmentKeySection) { w in
                w.u32(UInt32(commitmentKey.challenge))
                w.u32(UInt32(commitmentKey.wires.count))
                for wire in commitmentKey.wires { w.u32(UInt32(wire)) }
                for p in commitmentKey.basis { w.g1(p) }
                for p in commitmentKey.basisSigma { w.g1(p) }
                w.g1(commitmentKey.etaGamma)
                w.g1(commitmentKey.etaGammaSigma)
                w.g1(commitmentKey.etaDelta)
                w.g2(sigma)
            }
            out.section(commitmentUpdatesSection) { w in
                w.u32(UInt32(commitmentUpdates.count))
                for u in commitmentUpdates {
                    w.g1(u.sigmaG1S)
                    w.g1(u.sigmaG1SX)
                    w.g2(u.sigmaG2SPX)
                    w.g1(u.etaG1S)
                    w.g1(u.etaG1SX)
                    w.g2(u.etaG2SPX)
                }
            }
        }
        return out.bytes
    }

    /// The key's commitment key and [sigma]_2 when it has one, checked against the circuit's
    /// commitment (same wires and challenge; the key and the circuit agree on having one).
    static func exportableCommitment(
        _ key: ProvingKey, r1cs: R1CS<Fr>
    ) throws(ZkeyError) -> (CommitmentKey, G2Affine)? {
        switch (key.commitment, key.verifyingKey.commitment, r1cs.commitment) {
        case (nil, nil, nil): return nil
        case (let commitmentKey?, let verifying?, let info?):
            guard commitmentKey.wires == info.wires, commitmentKey.challenge == info.challenge,
                commitmentKey.basis.count == info.wires.count, commitmentKey.basisSigma.count == info.wires.count,
                verifying.committedWires == info.wires.count
            else { throw .cannotExport(reason: "the key's commitment does not fit the circuit's committed wires") }
            return (commitmentKey, verifying.sigma)
        default:
            throw .cannotExport(reason: "the key and the circuit disagree on having a commitment to witness wires")
        }
    }

    // MARK: Encodings

    /// 32 little-endian bytes as four limbs.
    static func limbs(_ s: ArraySlice<UInt8>) -> Limbs4 {
        var l: [UInt64] = [0, 0, 0, 0]
        for (i, b) in s.enumerated() { l[i >> 3] |= UInt64(b) << UInt64((i & 7) * 8) }
        return Limbs4(l[0], l[1], l[2], l[3])
    }

    static func bytes(_ l: Limbs4) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for (i, limb) in [l.l0, l.l1, l.l2, l.l3].enumerated() {
            for j in 0..<8 { out[i * 8 + j] = UInt8(truncatingIfNeeded: limb >> UInt64(8 * j)) }
        }
        return out
    }

    /// a < b as 256-bit integers.
    static func less(_ a: Limbs4, _ b: Limbs4) -> Bool {
        for (x, y) in zip([a.l3, a.l2, a.l1, a.l0], [b.l3, b.l2, b.l1, b.l0]) where x != y { return x < y }
        return false
    }

    /// An Fq coordinate in Montgomery form; the stored integer must be below q.
    static func fq(_ s: ArraySlice<UInt8>, group: String) throws(PointDecodingError) -> Fq {
        let l = limbs(s)
        guard less(l, FqParameters.modulus) else {
            throw .coordinate(group: group, .notCanonical(BigInt(limbs: l.array).description))
        }
        return Fq(montgomery: l)
    }

    @Sendable public static func decodeG1(_ s: ArraySlice<UInt8>) throws(PointDecodingError) -> G1Affine {
        guard s.count == 64 else { throw .wrongLength(group: "G1", expected: 64, got: s.count) }
        if s.allSatisfy({ $0 == 0 }) { return .infinity }
        let b = s.startIndex
        return try .validated(x: try fq(s[b..<(b + 32)], group: "G1"), y: try fq(s[(b + 32)..<(b + 64)], group: "G1"))
    }

    @Sendable public static func decodeG2(_ s: ArraySlice<UInt8>) throws(PointDecodingError) -> G2Affine {
        guard s.count == 128 else { throw .wrongLength(group: "G2", expected: 128, got: s.count) }
        if s.allSatisfy({ $0 == 0 }) { return .infinity }
        let b = s.startIndex
        var c: [Fq] = []
        for i in 0..<4 { c.append(try fq(s[(b + 32 * i)..<(b + 32 * i + 32)], group: "G2")) }
        return try .validated(x: Fq2(c[0], c[1]), y: Fq2(c[2], c[3]))
    }

    /// snarkjs's point layout (Montgomery form, little-endian; infinity as zeros), shared with `.ptau`.
    public static func encode(_ p: G1Affine) -> [UInt8] {
        if p.isInfinity { return [UInt8](repeating: 0, count: 64) }
        return bytes(p.x.montgomery) + bytes(p.y.montgomery)
    }

    public static func encode(_ p: G2Affine) -> [UInt8] {
        if p.isInfinity { return [UInt8](repeating: 0, count: 128) }
        return bytes(p.x.c0.montgomery) + bytes(p.x.c1.montgomery) + bytes(p.y.c0.montgomery) + bytes(p.y.c1.montgomery)
    }

    /// A coefficient as stored in section 4: the integer v * R^2 mod r, which is the
    /// Montgomery form of v * R.
    static func encodeCoefficient(_ v: Fr) -> [UInt8] {
        bytes(Fr.montMul(v.montgomery, FrParameters.montgomeryRSquared))
    }

    /// Inverse of `encodeCoefficient`; nil when the stored integer is not below r.
    static func decodeCoefficient(_ s: ArraySlice<UInt8>) -> Fr? {
        let stored = limbs(s)
        guard less(stored, FrParameters.modulus) else { return nil }
        // stored = v R^2, so stored * R^-1 (one Montgomery reduction) = v R, v's Montgomery form.
        return Fr(montgomery: Fr.montMul(stored, Limbs4(1, 0, 0, 0)))
    }
}

/// The zkey writer's additions to the shared `ByteWriter` (its `section` patches the size).
extension ByteWriter {
    mutating func g1(_ p: G1Affine) { bytes += Zkey.encode(p) }
    mutating func g2(_ p: G2Affine) { bytes += Zkey.encode(p) }
    mutating func coefficient(matrix: UInt32, row: Int, wire: Int, value: Fr) {
        u32(matrix)
        u32(UInt32(row))
        u32(UInt32(wire))
        bytes += Zkey.encodeCoefficient(value)
    }
}

/// The zkey reader: the shared container reader plus the zkey-specific sections.
typealias ZkeyReader = BinFileReader<ZkeyError>

extension BinFileReader where E == ZkeyError {
    init(bytes: [UInt8], file: String) { self.init(bytes: bytes, file: file, sectionName: Zkey.sectionName) }

    /// u32 n8 = 32 and the prime, which must be BN254's.
    mutating func prime(expected: BigInt, name: String) throws(ZkeyError) {
        let at = offset
        let n8 = try u32()
        guard n8 == 32 else { throw fail("\(name): element size \(n8) bytes, expected 32 (BN254)", at: at) }
        let p = BigInt(littleEndian: Array(try take(32)))
        guard p == expected else { throw fail("\(name) = \(p) is not BN254's (compile for bn128)", at: at + 4) }
    }

    /// Section 4: the A and B entries, with the public rows checked and stripped, as an R1CS
    /// whose C rows are empty (the zkey does not store C).
    mutating func coefficients(
        in s: (offset: Int, size: Int), nVars: Int, nPublic: Int,
        domainSize: Int
    ) throws(ZkeyError) -> R1CS<Fr> {
        enter(4, s)
        let count = Int(try u32())
        guard s.size == 4 + count * 44 else {
            throw fail(
                "size \(s.size) bytes, expected 4 + \(count) entries of 44 bytes = \(4 + count * 44)", at: s.offset)
        }
        var matrix = [UInt8](repeating: 0, count: count)
        var rows = [Int32](repeating: 0, count: count)
        var wires = [Int32](repeating: 0, count: count)
        var values = [Fr](repeating: .zero, count: count)
        var maxRow = -1
        for i in 0..<count {
            let at = offset
            let mtx = try u32(), row = try u32(), wire = try u32()
            let raw = try take(32)
            guard mtx <= 1 else { throw fail("entry #\(i): matrix \(mtx) is not 0 (A) or 1 (B)", at: at) }
            guard row < UInt32(domainSize) else {
                throw fail("entry #\(i): row \(row) is outside the \(domainSize)-row domain", at: at + 4)
            }
            guard wire < UInt32(nVars) else {
                throw fail("entry #\(i): wire \(wire) out of range (\(nVars) wires)", at: at + 8)
            }
            guard let value = Zkey.decodeCoefficient(raw) else {
                throw fail("entry #\(i): coefficient is not below r", at: at + 12)
            }
            matrix[i] = UInt8(mtx)
            rows[i] = Int32(row)
            wires[i] = Int32(wire)
            values[i] = value
            maxRow = max(maxRow, Int(row))
        }
        // The last nPublic + 1 rows are the public rows: A[m + k][k] = 1 and nothing else.
        let m = maxRow - nPublic
        guard m >= 0 else { throw fail("no public-input rows (expected rows m..m+\(nPublic))", at: s.offset) }
        var publicSeen = [Bool](repeating: false, count: nPublic + 1)
        var perRow = [[Int]](repeating: [], count: 2)
        var rowCounts = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: 2)
        for i in 0..<count {
            let row = Int(rows[i])
            if row >= m {
                let k = row - m
                guard matrix[i] == 0, Int(wires[i]) == k, values[i] == .one, !publicSeen[k] else {
                    throw fail(
                        "entry #\(i): row \(row) is a public-input row and must hold only A[\(row)][\(k)] = 1",
                        at: s.offset + 4 + i * 44)
                }
                publicSeen[k] = true
            } else {
                rowCounts[Int(matrix[i])][row + 1] += 1
            }
        }
        guard publicSeen.allSatisfy({ $0 }) else { throw fail("a public-input row is missing", at: s.offset) }
        let rowsUsed = m + nPublic + 1
        var minimal = 1
        while minimal < rowsUsed { minimal <<= 1 }
        guard minimal == domainSize else {
            throw fail(
                "domain size \(domainSize) is not the smallest power of two >= \(rowsUsed) rows "
                    + "(\(m) constraints + \(nPublic + 1) public rows)", at: s.offset)
        }
        // Counting sort by row, stable, per matrix.
        for mtx in 0..<2 {
            for r in 0..<m { rowCounts[mtx][r + 1] += rowCounts[mtx][r] }
            var next = rowCounts[mtx]
            var order = [Int](repeating: 0, count: next[m])
            for i in 0..<count where Int(matrix[i]) == mtx && Int(rows[i]) < m {
                order[next[Int(rows[i])]] = i
                next[Int(rows[i])] += 1
            }
            perRow[mtx] = order
        }
        var built = [SparseMatrix<Fr>(), SparseMatrix<Fr>()]
        for mtx in 0..<2 {
            built[mtx].reserve(rows: m, nonZeros: perRow[mtx].count)
            for r in 0..<m {
                built[mtx].appendRow(
                    perRow[mtx][rowCounts[mtx][r]..<rowCounts[mtx][r + 1]].map { (Int(wires[$0]), values[$0]) })
            }
        }
        var c = SparseMatrix<Fr>()
        for _ in 0..<m { c.appendRow([(Int, Fr)]()) }
        offset = limit
        return R1CS(
            numWires: nVars, numPublicOutputs: nPublic, numPublicInputs: 0, numPrivateInputs: 0,
            a: built[0], b: built[1], c: c)
    }

    /// Section 10: snarkjs's circuit hash and the contribution records, each checked.
    mutating func contributions(in s: (offset: Int, size: Int)) throws(ZkeyError) -> Zkey.Phase2 {
        enter(10, s)
        let hash = Array(try take(64))
        let countAt = offset
        let count = Int(try u32())
        // A record has at least 3 G1 + 1 G2 points, a 64-byte transcript and two u32s.
        let minimumRecord = 3 * 64 + 128 + 64 + 8
        guard count * minimumRecord <= remaining else {
            throw fail("\(count) contributions cannot fit in the \(remaining) bytes left", at: countAt)
        }
        var list: [Zkey.Contribution] = []
        for i in 0..<count {
            let deltaAfter = try g1("contribution #\(i) deltaAfter")
            let g1S = try g1("contribution #\(i) g1_s")
            let g1SX = try g1("contribution #\(i) g1_sx")
            let g2SPX = try g2("contribution #\(i) g2_spx")
            let transcript = Array(try take(64))
            let type = try u32()
            let params = try contributionParameters("contribution #\(i)")
            list.append(
                Zkey.Contribution(
                    deltaAfter: deltaAfter, type: type, name: params.name, g1S: g1S, g1SX: g1SX,
                    g2SPX: g2SPX, transcript: transcript, iterationsExponent: params.iterationsExponent,
                    beaconHash: params.beaconHash))
        }
        try expectEnd()
        return Zkey.Phase2(
            circuitHash: hash, contributions: list, encoded: Array(bytes[s.offset..<(s.offset + s.size)]))
    }

    /// Section 0x10000: the commitment key, its size checked before allocating, the wires
    /// private and strictly increasing, the challenge the last public wire, every point
    /// validated and the blinding bases and sigma not the point at infinity.
    mutating func commitmentKey(
        in s: (offset: Int, size: Int), nVars: Int, nPublic: Int
    ) throws(ZkeyError) -> (key: CommitmentKey, verifying: CommitmentVerifyingKey) {
        enter(Zkey.commitmentKeySection, s)
        let challengeAt = offset
        let challenge = Int(try u32())
        guard challenge == nPublic else {
            throw fail("the challenge must be the last public wire (\(nPublic)), not \(challenge)", at: challengeAt)
        }
        let countAt = offset
        let count = Int(try u32())
        guard count >= 1, count <= nVars - nPublic - 1, s.size == 8 + count * (4 + 128) + 3 * 64 + 128 else {
            throw fail(
                "\(count) committed wires do not fit the section (\(s.size) bytes) or the \(nVars - nPublic - 1) private wires",
                at: countAt)
        }
        var wires: [Int] = []
        wires.reserveCapacity(count)
        for _ in 0..<count {
            let at = offset
            let wire = Int(try u32())
            guard wire > nPublic, wire < nVars, wires.last.map({ wire > $0 }) ?? true else {
                throw fail("committed wire \(wire): committed wires must be private and strictly increasing", at: at)
            }
            wires.append(wire)
        }
        var basis: [G1Affine] = []
        var basisSigma: [G1Affine] = []
        basis.reserveCapacity(count)
        basisSigma.reserveCapacity(count)
        for i in 0..<count { basis.append(try g1("commitment basis #\(i)")) }
        for i in 0..<count { basisSigma.append(try g1("commitment basis * sigma #\(i)")) }
        let pointsAt = offset
        let etaGamma = try g1("eta/gamma"), etaGammaSigma = try g1("sigma eta/gamma"), etaDelta = try g1("eta/delta")
        let sigma = try g2("sigma")
        guard !etaGamma.isInfinity, !etaGammaSigma.isInfinity, !etaDelta.isInfinity, !sigma.isInfinity else {
            throw fail("a blinding base or sigma is the point at infinity", at: pointsAt)
        }
        try expectEnd()
        return (
            CommitmentKey(
                wires: wires, challenge: challenge, basis: basis, basisSigma: basisSigma, etaGamma: etaGamma,
                etaGammaSigma: etaGammaSigma, etaDelta: etaDelta),
            CommitmentVerifyingKey(committedWires: count, sigma: sigma)
        )
    }

    /// Section 0x10001: the ceremony's update proofs, sized before allocating.
    mutating func commitmentUpdates(in s: (offset: Int, size: Int)) throws(ZkeyError) -> [Zkey.CommitmentUpdate] {
        enter(Zkey.commitmentUpdatesSection, s)
        let countAt = offset
        let count = Int(try u32())
        guard s.size == 4 + count * Zkey.CommitmentUpdate.byteCount else {
            throw fail("\(count) commitment updates do not fill the section (\(s.size) bytes)", at: countAt)
        }
        var list: [Zkey.CommitmentUpdate] = []
        list.reserveCapacity(count)
        for i in 0..<count {
            list.append(
                Zkey.CommitmentUpdate(
                    sigmaG1S: try g1("update #\(i) sigma g1_s"), sigmaG1SX: try g1("update #\(i) sigma g1_sx"),
                    sigmaG2SPX: try g2("update #\(i) sigma g2_spx"), etaG1S: try g1("update #\(i) eta g1_s"),
                    etaG1SX: try g1("update #\(i) eta g1_sx"), etaG2SPX: try g2("update #\(i) eta g2_spx")))
        }
        try expectEnd()
        return list
    }
}
