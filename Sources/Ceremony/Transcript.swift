import Algebra
import Circuit
import Foundation
import Groth16

/// What a contributor keeps: which contribution it made and the hash that identifies it. The
/// hash chains every earlier state, so a transcript that verifies and contains this hash
/// contains the contributor's secret.
public struct ContributionReceipt: Sendable, Equatable, Codable {
    public var phase: Int
    public var index: Int
    public var name: String
    /// Hex SHA-256 contribution hash (see `CeremonyTranscript`).
    public var hash: String

    public init(phase: Int, index: Int, name: String, hash: String) {
        self.phase = phase
        self.index = index
        self.name = name
        self.hash = hash
    }

    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    public static func read(_ data: Data, file: String = "receipt.json") throws(CeremonyError) -> ContributionReceipt {
        guard data.count <= 1 << 16, let r = try? JSONDecoder().decode(ContributionReceipt.self, from: data),
            r.hash.count == 64, r.hash.allSatisfy(\.isHexDigit)
        else {
            throw .badInput(
                path: file, reason: "not a ceremony receipt (JSON with phase, index, name, 64-digit hex hash)")
        }
        return r
    }
}

/// One verified contribution.
public struct VerifiedContribution: Sendable, Equatable {
    public var phase: Int
    public var index: Int
    public var name: String
    public var hash: String
    public var isBeacon: Bool
}

/// The outcome of a successful `CeremonyTranscript.verify()`.
public struct VerifiedCeremony: Sendable {
    /// Phase-1 contributions first, then phase 2, in order.
    public let contributions: [VerifiedContribution]
    /// Names of the contributions an imported `.ptau` carried. Their powers were checked for
    /// consistency, but their proofs (snarkjs's BLAKE2b transcript) were not re-verified.
    public let importedPhase1Contributions: [String]
    /// SHA-256 (hex) of the starting powers `phase1/0000.ptau`, to pin an imported `.ptau`.
    public let phase1StartSHA256: String
    /// True when phase 1 starts from the generators (no secret in the start), false when it
    /// starts from imported powers whose secrets whoever made them may know.
    public let phase1StartsFromGenerators: Bool
    public let circuit: R1CS<Fr>
    /// The final key; nil until phase 2 has a contribution (before that delta is the
    /// generator and anyone could forge proofs).
    public let provingKey: ProvingKey?
    /// The final state as snarkjs `.zkey` bytes (with its phase-2 records); nil like `provingKey`.
    public let zkey: [UInt8]?
    public var phase2ContributionCount: Int { contributions.filter { $0.phase == 2 }.count }

    /// True when a verified contribution has the receipt's hash (and its phase and index).
    public func contains(_ receipt: ContributionReceipt) -> Bool {
        contributions.contains {
            $0.hash == receipt.hash.lowercased() && $0.phase == receipt.phase && $0.index == receipt.index
        }
    }

    /// The verifying key the transcript yields; nil before the first phase-2 contribution.
    public var verifyingKey: VerifyingKey? { provingKey?.verifyingKey }

    /// True when `key` is exactly the verifying key this transcript yields, so keys exported
    /// earlier (or received from someone else) can be checked against the transcript.
    public func matches(_ key: VerifyingKey) -> Bool { verifyingKey == key }

    /// Hex SHA-256 over the verifying key's points (EIP-197 encodings, in the order alpha,
    /// beta, gamma, delta, IC): a short fingerprint to compare out of band.
    public static func fingerprint(_ key: VerifyingKey) -> String {
        var bytes =
            key.alpha.uncompressed() + key.beta.uncompressed() + key.gamma.uncompressed() + key.delta.uncompressed()
        for p in key.ic { bytes += p.uncompressed() }
        return SHA256.hex(SHA256.hash(bytes))
    }
}

/// A multi-party Groth16 setup ceremony kept in a directory, and everything anyone needs to
/// check it.
///
/// Layout: `circuit.r1cs`; `phase1/0000.ptau` (the starting powers: the generators, or an
/// imported snarkjs `.ptau`), then `phase1/0001.ptau`... one full state per contribution;
/// `phase2/0000.zkey` (the key derived from the last phase-1 state, delta = 1), then one
/// `.zkey` per delta contribution. Each state file carries the records of all contributions so
/// far, in snarkjs's layouts, so snarkjs can read every file.
///
/// Every contribution multiplies in fresh secrets from the OpenSSL CSPRNG (tau, alpha, beta in
/// phase 1; delta in phase 2, and sigma and eta too for a circuit with a commitment to witness
/// wires), proves knowledge of them (`KnowledgeProof`), and erases them.
/// Its hash is SHA-256 over the previous hash and the SHA-256 of its output file; the chain
/// starts from the starting state (and, for phase 2, the last phase-1 hash and the circuit).
/// Proofs are bound to the hash before them.
///
/// `verify()` checks, for every contribution: the proofs of knowledge and that its first
/// points are the previous ones times the proven secrets; that its whole state is consistent
/// (phase 1: successive powers of one tau; phase 2: H and L divided by the delta factor, the
/// rest unchanged); that records only grow; beacons by recomputing their secrets. It checks
/// the starting phase-2 key against the phase-1 powers. Sound if at least one contributor
/// was honest and erased its secrets: then no one knows tau or delta. Randomized checks err
/// with probability at most 2^-127 each.
public struct CeremonyTranscript: Sendable {
    public let directory: String
    public let circuit: R1CS<Fr>
    let circuitBytes: [UInt8]
    /// Number of phase-1 state files (the starting state included).
    public private(set) var phase1States: Int
    /// Number of phase-2 state files (0: phase 2 has not started).
    public private(set) var phase2States: Int
    /// A state file found past the first missing one (phase, the missing index, the file
    /// found): the transcript has a hole, which `verify` reports as unsound.
    let gap: (phase: Int, missing: Int, found: String)?

    /// Progress reports: a step description, and for loops the position in it.
    public typealias Progress = (_ step: String, _ done: Int, _ total: Int) -> Void

    static let start1 = Array("VeriSplit ceremony v1: phase 1 start".utf8)
    static let start2 = Array("VeriSplit ceremony v1: phase 2 start".utf8)
    static let link = Array("VeriSplit ceremony v1: contribution".utf8)

    // MARK: Creating and loading

    /// Starts a ceremony for the circuit (circom `.r1cs` bytes) in `directory`, which must not
    /// hold one already. With `ptau`, the snarkjs powers are imported (checked for
    /// consistency) and phase 2 starts at once; otherwise phase 1 starts from the generators
    /// at the smallest power that fits the circuit (or `power`, if larger).
    public static func create(
        directory: String, circuit circuitBytes: [UInt8], power: Int? = nil, ptau: [UInt8]? = nil,
        ptauName: String = "imported.ptau", progress: Progress = { _, _, _ in }
    )
        throws(CeremonyError) -> CeremonyTranscript
    {
        let r1cs = try readCircuit(circuitBytes, path: directory + "/circuit.r1cs")
        if FileManager.default.fileExists(atPath: directory + "/circuit.r1cs") {
            throw .usage("\(directory) already holds a ceremony; choose another directory")
        }
        let domain: EvaluationDomain
        do { domain = try Groth16.domain(for: r1cs) } catch { throw .usage(error.description) }
        let phase1Start: [UInt8]
        if let ptau {
            progress("checking the imported powers of tau", 0, 1)
            let file: PtauFile
            do { file = try Ptau.read(ptau, file: ptauName) } catch { throw .ptau(error) }
            if let why = file.powers.structureError() {
                throw .unsound(phase: 1, index: 0, name: ptauName, reason: why)
            }
            _ = try Phase2Setup.domainFor(r1cs, powers: file.powers)
            phase1Start = ptau
        } else {
            let p = max(PowersOfTau.power(forDomainSize: domain.size), power ?? 0)
            guard p <= PowersOfTau.maxPower else { throw .usage("power \(p) exceeds \(PowersOfTau.maxPower)") }
            phase1Start = Ptau.write(PtauFile(powers: .initial(power: p), ceremonyPower: p, contributions: []))
        }
        try write(directory + "/circuit.r1cs", circuitBytes)
        try write(stateName(directory, phase: 1, index: 0), phase1Start)
        var transcript = CeremonyTranscript(
            directory: directory, circuit: r1cs, circuitBytes: circuitBytes,
            phase1States: 1, phase2States: 0, gap: nil)
        if ptau != nil { try transcript.startPhase2(progress: progress) }
        return transcript
    }

    /// Opens the ceremony in `directory` (reads the circuit, counts the state files; the states
    /// are read and checked by `verify`). The state files of each phase must be numbered
    /// 0, 1, 2... without a hole: a state file past a missing one is recorded and makes
    /// `verify` (and so `contribute`) fail, rather than silently ending the transcript at the
    /// hole and ignoring the contributions after it.
    public static func load(_ directory: String) throws(CeremonyError) -> CeremonyTranscript {
        let circuitPath = directory + "/circuit.r1cs"
        guard FileManager.default.fileExists(atPath: circuitPath) else {
            throw .badInput(path: directory, reason: "not a ceremony directory (no circuit.r1cs)")
        }
        let bytes = try read(circuitPath)
        let r1cs = try readCircuit(bytes, path: circuitPath)
        func count(_ phase: Int) -> Int {
            var i = 0
            while FileManager.default.fileExists(atPath: stateName(directory, phase: phase, index: i)) { i += 1 }
            return i
        }
        let p1 = count(1), p2 = count(2)
        guard p1 >= 1 else { throw .badInput(path: directory, reason: "phase1/0000.ptau is missing") }
        let gap =
            stateFileBeyond(directory, phase: 1, count: p1).map { (phase: 1, missing: p1, found: $0) }
            ?? stateFileBeyond(directory, phase: 2, count: p2).map { (phase: 2, missing: p2, found: $0) }
        return CeremonyTranscript(
            directory: directory, circuit: r1cs, circuitBytes: bytes, phase1States: p1, phase2States: p2,
            gap: gap)
    }

    /// The lowest-numbered state file of `phase` with an index >= `count` (the first missing
    /// one), if the phase's folder holds any: "0003.zkey" beyond a missing "0002.zkey".
    static func stateFileBeyond(_ directory: String, phase: Int, count: Int) -> String? {
        let folder = "\(directory)/phase\(phase)"
        let suffix = phase == 1 ? ".ptau" : ".zkey"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        let beyond = names.compactMap { name -> (Int, String)? in
            guard name.hasSuffix(suffix) else { return nil }
            let digits = name.dropLast(suffix.count)
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                let index = Int(digits), index >= count
            else { return nil }
            return (index, "phase\(phase)/" + name)
        }
        return beyond.min { $0.0 < $1.0 }?.1
    }

    // MARK: Contributing

    /// Adds one contribution to the open phase (phase 1 until phase 2 starts) or to `phase`;
    /// asking for phase 2 while phase 1 is open closes phase 1 and derives the phase-2 key
    /// first. The secrets come from the CSPRNG and are erased before returning.
    /// Cost at power p: phase 1, 2^(p+2) G1 + 2^p G2 multiplications; phase 2, one G1
    /// multiplication per H and L point.
    ///
    /// The transcript is verified first (`verify`), so nobody builds on a transcript that
    /// `verify` rejects: an unsound or holed transcript throws before any secret is drawn.
    /// `verifyFirst: false` skips that, only for a caller that has just verified this same
    /// transcript itself (the ceremony benchmark times the two separately).
    public mutating func contribute(
        name: String, phase: Int? = nil, verifyFirst: Bool = true,
        progress: Progress = { _, _, _ in }
    ) throws(CeremonyError) -> ContributionReceipt {
        if verifyFirst { _ = try verify(progress: progress) }
        return try contribute(name: name, phase: phase, beacon: nil, progress: progress)
    }

    /// Adds the final public-randomness contribution to the open phase, after verifying the
    /// transcript (as `contribute` does): the secrets are derived from `beacon` hashed
    /// 2^`iterationsExponent` times with SHA-256 (snarkjs's iteration; the derivation after it
    /// is ours), so anyone can recompute them. Use a value nobody could know before the last
    /// contribution (e.g. a future block hash).
    public mutating func applyBeacon(
        _ beacon: [UInt8], iterationsExponent: Int, name: String = "beacon",
        progress: Progress = { _, _, _ in }
    ) throws(CeremonyError) -> ContributionReceipt {
        guard (0...Beacon.maxExponent).contains(iterationsExponent) else {
            throw .usage("the beacon iteration exponent must be in 0...\(Beacon.maxExponent) (2^N SHA-256 iterations)")
        }
        guard (1...255).contains(beacon.count) else { throw .usage("the beacon must be 1 to 255 bytes") }
        _ = try verify(progress: progress)
        return try contribute(name: name, phase: nil, beacon: (beacon, iterationsExponent), progress: progress)
    }

    mutating func contribute(
        name: String, phase: Int?, beacon: ([UInt8], Int)?, progress: Progress
    ) throws(CeremonyError)
        -> ContributionReceipt
    {
        let target = phase ?? (phase2States > 0 ? 2 : 1)
        guard target == 1 || target == 2 else { throw .usage("phase must be 1 or 2") }
        if target == 1 && phase2States > 0 { throw .usage("phase 1 is closed: phase 2 has started") }
        if target == 2 && phase2States == 0 { try startPhase2(progress: progress) }
        let chain = try hashes()
        if target == 1 {
            let index = phase1States
            let previous = try readPtau(index - 1)
            let challenge = chain.phase1[index - 1]
            var next = previous
            var secrets =
                beacon.map { Beacon.secrets($0.0, exponent: $0.1, count: 6) }
                ?? (0..<6).map { _ in Self.nonzeroRandom() }
            defer { SecureRandom.erase(&secrets) }
            next.powers.multiply(tau: secrets[0], alpha: secrets[1], beta: secrets[2]) { step in
                progress("phase 1: " + step, 0, 0)
            }
            let first = next.powers.firstPoints
            next.contributions.append(
                Phase1Contribution(
                    tauG1: first.tauG1, tauG2: first.tauG2, alphaG1: first.alphaG1, betaG1: first.betaG1,
                    betaG2: first.betaG2,
                    tauProof: .prove(x: secrets[0], s: secrets[3], transcript: challenge, secret: .tau),
                    alphaProof: .prove(x: secrets[1], s: secrets[4], transcript: challenge, secret: .alpha),
                    betaProof: .prove(x: secrets[2], s: secrets[5], transcript: challenge, secret: .beta),
                    partialHash: [UInt8](repeating: 0, count: 216), challenge: Self.wide(challenge),
                    type: beacon == nil ? 0 : 1, name: Self.clipped(name),
                    iterationsExponent: beacon.map { UInt8($0.1) },
                    beaconHash: beacon?.0))
            let bytes = Ptau.write(next)
            try Self.write(Self.stateName(directory, phase: 1, index: index), bytes)
            phase1States += 1
            return ContributionReceipt(
                phase: 1, index: index, name: Self.clipped(name),
                hash: SHA256.hex(Self.linkHash(challenge, bytes)))
        }
        let index = phase2States
        let (previous, record, updates) = try readZkey(index - 1)
        let challenge = chain.phase2[index - 1]
        var key = previous
        // delta, its proof's randomness, then (with a commitment key) sigma, eta and theirs.
        let count = previous.commitment == nil ? 2 : 6
        var secrets =
            beacon.map { Beacon.secrets($0.0, exponent: $0.1, count: count) }
            ?? (0..<count).map { _ in Self.nonzeroRandom() }
        defer { SecureRandom.erase(&secrets) }
        progress("phase 2: dividing H and L by the new delta factor", 0, 0)
        var update: Zkey.CommitmentUpdate?
        if let commitment = previous.commitment {
            guard let anchor = Phase2Setup.sigmaAnchor(commitment) else {
                throw .usage("the committed wires appear in no constraint: the commitment key has no basis to update")
            }
            Phase2Setup.contribute(&key, x: secrets[0], commitment: (sigma: secrets[2], eta: secrets[4]))
            let sigmaProof = KnowledgeProof.prove(
                x: secrets[2], s: secrets[3], transcript: challenge, secret: .sigma, base: commitment.basis[anchor])
            let etaProof = KnowledgeProof.prove(x: secrets[4], s: secrets[5], transcript: challenge, secret: .eta)
            update = Zkey.CommitmentUpdate(
                sigmaG1S: sigmaProof.g1S, sigmaG1SX: sigmaProof.g1SX, sigmaG2SPX: sigmaProof.g2SPX,
                etaG1S: etaProof.g1S, etaG1SX: etaProof.g1SX, etaG2SPX: etaProof.g2SPX)
        } else {
            Phase2Setup.contribute(&key, x: secrets[0])
        }
        let proof = KnowledgeProof.prove(x: secrets[0], s: secrets[1], transcript: challenge, secret: .delta)
        let contribution = Zkey.Contribution(
            deltaAfter: key.delta1, type: beacon == nil ? 0 : 1, name: Self.clipped(name), g1S: proof.g1S,
            g1SX: proof.g1SX,
            g2SPX: proof.g2SPX, transcript: Self.wide(challenge), iterationsExponent: beacon.map { UInt8($0.1) },
            beaconHash: beacon?.0)
        let bytes = try encodeZkey(
            key, contributions: record.contributions + [contribution], updates: updates + (update.map { [$0] } ?? []),
            chain: chain)
        try Self.write(Self.stateName(directory, phase: 2, index: index), bytes)
        phase2States += 1
        return ContributionReceipt(
            phase: 2, index: index, name: Self.clipped(name), hash: SHA256.hex(Self.linkHash(challenge, bytes)))
    }

    /// Closes phase 1: derives the circuit's key (delta = 1) from the last phase-1 state and
    /// writes `phase2/0000.zkey`. See `Phase2Setup.initialKey` for the cost (point FFTs).
    public mutating func startPhase2(progress: Progress = { _, _, _ in }) throws(CeremonyError) {
        guard phase2States == 0 else { throw .usage("phase 2 has already started") }
        let last = try readPtau(phase1States - 1)
        let key = try Phase2Setup.initialKey(r1cs: circuit, powers: last.powers) { step in
            progress("phase 2 setup: " + step, 0, 0)
        }
        let chain = try hashes()
        let bytes = try encodeZkey(key, contributions: [], updates: [], chain: (chain.phase1, []))
        try Self.write(Self.stateName(directory, phase: 2, index: 0), bytes)
        phase2States = 1
    }

    // MARK: Verifying

    /// Verifies the whole transcript (see the type's documentation) and returns the
    /// contributions with their hashes and the final key. Throws `.unsound` naming the first
    /// contribution that fails, or a bad-input error for missing or unreadable files.
    /// Cost per contribution, power p: reading and validating its state (2^p G2 subgroup
    /// checks), about four MSMs over 2^(p+2) G1 points and two over 2^p G2 points (phase 1) or
    /// two G1 MSMs over H and L (phase 2), and a few pairings.
    public func verify(progress: Progress = { _, _, _ in }) throws(CeremonyError) -> VerifiedCeremony {
        if let gap {
            throw .unsound(
                phase: gap.phase, index: gap.missing, name: "",
                reason: "its state file is missing but \(gap.found) exists: contributions must be contiguous")
        }
        let chain = try hashes()
        let total = phase1States + phase2States
        var list: [VerifiedContribution] = []

        progress("phase 1 starting state", 0, total)
        var previous = try readPtau(0, unsoundIndex: 0)
        let imported = previous.contributions.map { $0.name ?? "" }
        let startHash = SHA256.hex(SHA256.hash(try Self.read(Self.stateName(directory, phase: 1, index: 0))))
        let start = previous.powers.firstPoints
        let fromGenerators =
            start.tauG1 == G1Affine.generator && start.alphaG1 == G1Affine.generator
            && start.betaG1 == G1Affine.generator
        if let why = previous.powers.structureError() { throw .unsound(phase: 1, index: 0, name: "", reason: why) }
        for i in 1..<max(1, phase1States) {
            progress("phase 1 contribution #\(i)", i, total)
            let current = try readPtau(i, unsoundIndex: i)
            guard let record = current.contributions.last else {
                throw .unsound(phase: 1, index: i, name: "", reason: "the state carries no contribution record")
            }
            let name = record.name ?? ""
            func fail(_ reason: String) -> CeremonyError { .unsound(phase: 1, index: i, name: name, reason: reason) }
            guard current.powers.power == previous.powers.power else { throw fail("the power changed") }
            guard current.contributions.count == previous.contributions.count + 1,
                Array(current.contributions.dropLast()) == previous.contributions
            else { throw fail("the earlier contribution records were altered, or more than one record was added") }
            let challenge = chain.phase1[i - 1]
            guard record.challenge == Self.wide(challenge) else {
                throw fail("the record is not bound to the previous transcript hash")
            }
            let first = current.powers.firstPoints
            guard record.tauG1 == first.tauG1, record.tauG2 == first.tauG2, record.alphaG1 == first.alphaG1,
                record.betaG1 == first.betaG1, record.betaG2 == first.betaG2
            else { throw fail("the record's points are not the state's first points") }
            let before = previous.powers.firstPoints
            guard record.tauProof.verify(transcript: challenge, secret: .tau, before: before.tauG1, after: first.tauG1)
            else {
                throw fail(
                    "the proof of knowledge for tau does not verify (or tau G1 is not the previous one times it)")
            }
            guard
                record.alphaProof.verify(
                    transcript: challenge, secret: .alpha, before: before.alphaG1, after: first.alphaG1)
            else {
                throw fail(
                    "the proof of knowledge for alpha does not verify (or alpha G1 is not the previous one times it)")
            }
            guard
                record.betaProof.verify(
                    transcript: challenge, secret: .beta, before: before.betaG1, after: first.betaG1)
            else {
                throw fail(
                    "the proof of knowledge for beta does not verify (or beta G1 is not the previous one times it)")
            }
            if let why = Beacon.recordError(
                type: record.type, beacon: record.beaconHash, exponent: record.iterationsExponent,
                steps: [
                    (before.tauG1, first.tauG1), (before.alphaG1, first.alphaG1),
                    (before.betaG1, first.betaG1),
                ])
            {
                throw fail(why)
            }
            if let why = current.powers.structureError() { throw fail(why) }
            list.append(
                VerifiedContribution(
                    phase: 1, index: i, name: name, hash: SHA256.hex(chain.phase1[i]),
                    isBeacon: record.type == 1))
            previous = current
        }
        guard phase2States > 0 else {
            return VerifiedCeremony(
                contributions: list, importedPhase1Contributions: imported, phase1StartSHA256: startHash,
                phase1StartsFromGenerators: fromGenerators, circuit: circuit,
                provingKey: nil, zkey: nil)
        }

        progress("phase 2 starting key", phase1States, total)
        var (key, record, updates) = try readZkey(0, unsoundIndex: 0)
        var lastBytes = try Self.read(Self.stateName(directory, phase: 2, index: 0))
        guard record.contributions.isEmpty else {
            throw .unsound(
                phase: 2, index: 0, name: "", reason: "the starting key already carries contribution records")
        }
        if let why = try Phase2Setup.initialKeyError(key, r1cs: circuit, powers: previous.powers) {
            throw .unsound(phase: 2, index: 0, name: "", reason: why)
        }
        for i in 1..<max(1, phase2States) {
            progress("phase 2 contribution #\(i)", phase1States + i, total)
            let (current, currentRecord, currentUpdates) = try readZkey(i, unsoundIndex: i)
            guard let c = currentRecord.contributions.last else {
                throw .unsound(phase: 2, index: i, name: "", reason: "the key carries no contribution record")
            }
            let name = c.name ?? ""
            func fail(_ reason: String) -> CeremonyError { .unsound(phase: 2, index: i, name: name, reason: reason) }
            guard currentRecord.circuitHash == Self.wide(chain.phase2[0]),
                currentRecord.contributions.count == record.contributions.count + 1,
                Array(currentRecord.contributions.dropLast()) == record.contributions,
                Array(currentUpdates.dropLast()) == updates
            else { throw fail("the earlier contribution records were altered, or more than one record was added") }
            let challenge = chain.phase2[i - 1]
            guard c.transcript == Self.wide(challenge) else {
                throw fail("the record is not bound to the previous transcript hash")
            }
            guard c.deltaAfter == current.delta1 else { throw fail("the record's delta is not the key's delta") }
            let proof = KnowledgeProof(g1S: c.g1S, g1SX: c.g1SX, g2SPX: c.g2SPX)
            guard proof.verify(transcript: challenge, secret: .delta, before: key.delta1, after: current.delta1) else {
                throw fail(
                    "the proof of knowledge for delta does not verify (or delta is not the previous one times it)")
            }
            var beaconSteps = [(secret: 0, before: key.delta1, after: current.delta1)]
            if let before = key.commitment, let after = current.commitment {
                guard let u = currentUpdates.last, let anchor = Phase2Setup.sigmaAnchor(before),
                    anchor < after.basisSigma.count
                else { throw fail("the key carries no commitment update record") }
                let sigmaProof = KnowledgeProof(g1S: u.sigmaG1S, g1SX: u.sigmaG1SX, g2SPX: u.sigmaG2SPX)
                guard
                    sigmaProof.verify(
                        transcript: challenge, secret: .sigma, before: before.basisSigma[anchor],
                        after: after.basisSigma[anchor])
                else {
                    throw fail(
                        "the proof of knowledge for sigma does not verify (or sigma is not the previous one times it)")
                }
                let etaProof = KnowledgeProof(g1S: u.etaG1S, g1SX: u.etaG1SX, g2SPX: u.etaG2SPX)
                guard
                    etaProof.verify(transcript: challenge, secret: .eta, before: before.etaGamma, after: after.etaGamma)
                else {
                    throw fail(
                        "the proof of knowledge for eta does not verify (or eta is not the previous one times it)")
                }
                beaconSteps += [
                    (2, before.basisSigma[anchor], after.basisSigma[anchor]), (4, before.etaGamma, after.etaGamma),
                ]
            }
            if let why = Beacon.recordError(
                type: c.type, beacon: c.beaconHash, exponent: c.iterationsExponent, steps: beaconSteps)
            {
                throw fail(why)
            }
            if let why = Phase2Setup.updateError(previous: key, current: current) { throw fail(why) }
            list.append(
                VerifiedContribution(
                    phase: 2, index: i, name: name, hash: SHA256.hex(chain.phase2[i]),
                    isBeacon: c.type == 1))
            key = current
            record = currentRecord
            updates = currentUpdates
            lastBytes = try Self.read(Self.stateName(directory, phase: 2, index: i))
        }
        let contributed = phase2States > 1
        return VerifiedCeremony(
            contributions: list, importedPhase1Contributions: imported, phase1StartSHA256: startHash,
            phase1StartsFromGenerators: fromGenerators, circuit: circuit,
            provingKey: contributed ? key : nil, zkey: contributed ? lastBytes : nil)
    }

    /// Verifies the transcript and reports whether it contains the receipt's contribution:
    /// a party refuses keys from a transcript that lacks its own contribution.
    public func contains(receipt: ContributionReceipt) throws(CeremonyError) -> Bool {
        try verify().contains(receipt)
    }

    // MARK: Files and hashes

    static func stateName(_ directory: String, phase: Int, index: Int) -> String {
        let number = String(index)
        let padded = String(repeating: "0", count: max(0, 4 - number.count)) + number
        return "\(directory)/phase\(phase)/\(padded).\(phase == 1 ? "ptau" : "zkey")"
    }

    /// The hash chain: entry 0 of each phase is its starting state, entry i the contribution i.
    func hashes() throws(CeremonyError) -> (phase1: [[UInt8]], phase2: [[UInt8]]) {
        var h1: [[UInt8]] = []
        for i in 0..<phase1States {
            let fileHash = SHA256.hash(try Self.read(Self.stateName(directory, phase: 1, index: i)))
            h1.append(i == 0 ? SHA256.hash(Self.start1 + fileHash) : SHA256.hash(Self.link + h1[i - 1] + fileHash))
        }
        var h2: [[UInt8]] = []
        for i in 0..<phase2States {
            let bytes = try Self.read(Self.stateName(directory, phase: 2, index: i))
            h2.append(
                i == 0
                    ? Self.phase2Start(h1.last ?? [], circuit: circuitBytes, bytes: bytes)
                    : Self.linkHash(h2[i - 1], bytes))
        }
        return (h1, h2)
    }

    static func linkHash(_ previous: [UInt8], _ bytes: [UInt8]) -> [UInt8] {
        SHA256.hash(link + previous + SHA256.hash(bytes))
    }

    static func phase2Start(_ lastPhase1: [UInt8], circuit: [UInt8], bytes: [UInt8]) -> [UInt8] {
        SHA256.hash(start2 + lastPhase1 + SHA256.hash(circuit) + SHA256.hash(bytes))
    }

    /// snarkjs's hash fields are 64 bytes: our 32-byte hash, then zeros.
    static func wide(_ hash: [UInt8]) -> [UInt8] { hash + [UInt8](repeating: 0, count: 64 - hash.count) }

    static func clipped(_ name: String) -> String { ContributionParameters.clip(name) }

    static func nonzeroRandom() -> Fr {
        while true {
            let x = Fr.random()
            if !x.isZero { return x }
        }
    }

    /// The phase-2 state as `.zkey` bytes. The record's 64-byte circuit hash is the phase-2
    /// starting hash when known (zeros for the starting key itself, whose hash it would be).
    func encodeZkey(
        _ key: ProvingKey, contributions: [Zkey.Contribution], updates: [Zkey.CommitmentUpdate],
        chain: (phase1: [[UInt8]], phase2: [[UInt8]])
    )
        throws(CeremonyError) -> [UInt8]
    {
        let start = chain.phase2.first.map(Self.wide) ?? [UInt8](repeating: 0, count: 64)
        do {
            return try Zkey.write(
                key, r1cs: circuit, phase2: try Zkey.Phase2(circuitHash: start, contributions: contributions),
                commitmentUpdates: updates)
        } catch { throw .zkey(error) }
    }

    func readPtau(_ index: Int, unsoundIndex: Int? = nil) throws(CeremonyError) -> PtauFile {
        let path = Self.stateName(directory, phase: 1, index: index)
        let bytes = try Self.read(path)
        do { return try Ptau.read(bytes, file: path) } catch {
            if let i = unsoundIndex {
                throw .unsound(phase: 1, index: i, name: "", reason: "its state file is malformed: \(error)")
            }
            throw .ptau(error)
        }
    }

    /// Reads a phase-2 state: the key (its circuit hash set to the ceremony's circuit) and the
    /// records. The bytes must be exactly what `Zkey.write` gives for that key, the ceremony's
    /// circuit and the records, so the file's coefficient section is the circuit's.
    func readZkey(
        _ index: Int, unsoundIndex: Int? = nil
    ) throws(CeremonyError) -> (ProvingKey, Zkey.Phase2, [Zkey.CommitmentUpdate]) {
        let path = Self.stateName(directory, phase: 2, index: index)
        let bytes = try Self.read(path)
        func malformed(_ reason: String) -> CeremonyError {
            if let i = unsoundIndex {
                return .unsound(phase: 2, index: i, name: "", reason: "its key file is malformed: \(reason)")
            }
            return .badInput(path: path, reason: reason)
        }
        let contents: Zkey.Contents
        do { contents = try Zkey.parse(bytes, file: path, allowInsecureTestKey: true) } catch {
            throw malformed(error.description)
        }
        var key = contents.key
        key.circuitHash = Groth16.circuitHash(circuit)
        let canonical: [UInt8]
        do {
            canonical = try Zkey.write(
                key, r1cs: circuit, phase2: contents.phase2, commitmentUpdates: contents.commitmentUpdates)
        } catch { throw malformed(error.description) }
        guard canonical == bytes else {
            throw malformed("the file is not the canonical encoding of a key for the ceremony's circuit")
        }
        return (key, contents.phase2, contents.commitmentUpdates)
    }

    static func readCircuit(_ bytes: [UInt8], path: String) throws(CeremonyError) -> R1CS<Fr> {
        do { return try Circom.readR1CS(bytes, file: path) } catch { throw .badInput(path: path, reason: "\(error)") }
    }

    static func read(_ path: String) throws(CeremonyError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput(path: path, reason: "missing or unreadable")
        }
        return Array(data)
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws(CeremonyError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url, options: .atomic)
        } catch { throw .badInput(path: path, reason: "cannot write (\(error.localizedDescription))") }
    }
}

/// Deterministic secrets from a public beacon, so anyone can recompute a beacon contribution.
enum Beacon {
    /// 2^32 SHA-256 iterations already take minutes; snarkjs allows up to 2^63.
    static let maxExponent = 32

    /// `count` nonzero scalars: the beacon hashed 2^exponent times with SHA-256 (snarkjs's
    /// delay), then SHA-256(tag, digest, i, 0 | 1) as 512 bits reduced mod r for each i.
    static func secrets(_ beacon: [UInt8], exponent: Int, count: Int) -> [Fr] {
        var digest = beacon
        for _ in 0..<(UInt64(1) << UInt64(exponent)) { digest = SHA256.hash(digest) }
        let tag = Array("VeriSplit ceremony beacon".utf8)
        var out: [Fr] = []
        var i: UInt32 = 0
        while out.count < count {
            let prefix = tag + digest + withUnsafeBytes(of: i.littleEndian, Array.init)
            let x = Fr(reducing: BigInt(bigEndian: SHA256.hash(prefix + [0]) + SHA256.hash(prefix + [1])))
            if !x.isZero { out.append(x) }
            i += 1
        }
        return out
    }

    /// Why a record of `type` is not a plain contribution (0) nor a beacon (1) whose secrets,
    /// recomputed from its beacon, take each step's first point to its second; nil if it is.
    static func recordError(type: UInt32, beacon: [UInt8]?, exponent: UInt8?, steps: [(G1Affine, G1Affine)]) -> String?
    {
        recordError(
            type: type, beacon: beacon, exponent: exponent,
            steps: steps.enumerated().map { (secret: $0.offset, before: $0.element.0, after: $0.element.1) })
    }

    /// The same, each step naming the index of the beacon secret that takes it.
    static func recordError(
        type: UInt32, beacon: [UInt8]?, exponent: UInt8?, steps: [(secret: Int, before: G1Affine, after: G1Affine)]
    ) -> String? {
        if type == 0 { return nil }
        guard type == 1 else { return "unknown contribution type \(type)" }
        guard let beacon, let exponent, Int(exponent) <= maxExponent else {
            return "a beacon record without its beacon or with an iteration exponent above \(maxExponent)"
        }
        var s = secrets(beacon, exponent: Int(exponent), count: (steps.map(\.secret).max() ?? 0) + 1)
        defer { SecureRandom.erase(&s) }
        for step in steps where step.before.multiplied(by: s[step.secret]).affine != step.after {
            return "the beacon's secrets do not give this state"
        }
        return nil
    }
}
