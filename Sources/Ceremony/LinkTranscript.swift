import Algebra
import Foundation
import Groth16

/// A multi-party link ceremony (`LinkCeremony`) kept in a directory: `0001.link`, `0002.link`...
/// one state per contribution, each the key after it and the records of every contribution so
/// far (`LinkStateFile`). The starting key is not stored: it is the zero key of the context,
/// which anyone recomputes from the two commitment keys.
///
/// `verify` checks the last state: its context is the one given, every record's proofs bind to
/// the scales before it and the scales it reaches are the key's, and the key's points fit the
/// commitment keys (`CommitmentLink.isWellFormed`). Earlier states are history; rolling the
/// directory back to one of them drops the later contributions, which their contributors'
/// receipts then miss. Sound if one contributor was honest and erased its shares.
public struct LinkTranscript: Sendable {
    /// The receipt phase of a link contribution (after phases 1 and 2 of the Groth16 ceremonies).
    public static let phase = 3

    public let directory: String
    /// Number of state files (contributions); 0 before the first.
    public private(set) var states: Int
    /// A state file past the first missing one: a hole, which `verify` reports as unsound.
    let gap: (missing: Int, found: String)?

    /// Opens the link ceremony in `directory` (which need not exist yet: no contribution).
    public static func load(_ directory: String) -> LinkTranscript {
        var count = 0
        while FileManager.default.fileExists(atPath: stateName(directory, index: count + 1)) { count += 1 }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let beyond = names.compactMap { name -> Int? in
            guard name.hasSuffix(".link") else { return nil }
            let digits = name.dropLast(5)
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let index = Int(digits), index > count
            else { return nil }
            return index
        }.min()
        return LinkTranscript(
            directory: directory, states: count,
            gap: beyond.map { (missing: count + 1, found: String(format: "%04d.link", $0)) })
    }

    static func stateName(_ directory: String, index: Int) -> String {
        directory + "/" + String(format: "%04d.link", index)
    }

    /// Verifies the ceremony so far, then adds a contribution with fresh secrets from the
    /// CSPRNG (erased before returning) and writes the next state. Cost: two MSM-sized
    /// scalings of the column points, plus `verify`'s.
    public mutating func contribute(
        name: String, context: LinkCeremony.Context
    ) throws(CeremonyError) -> ContributionReceipt {
        var key: CommitmentLinkKey
        var records: [LinkStateFile.Record]
        if states == 0 {
            if let gap { throw Self.hole(gap) }
            do { key = try LinkCeremony.start(context) } catch { throw .usage("the link cannot start: \(error)") }
            records = []
        } else {
            let verified = try verify(context: context)
            (key, records) = (verified.key, verified.records)
        }
        let transcript = LinkCeremony.transcript(context, scales: key.verifyingKey)
        let contribution: LinkContribution
        do { contribution = try LinkCeremony.contribute(&key, context: context) } catch {
            throw .usage("cannot contribute to the link: \(error)")
        }
        let record = LinkStateFile.Record(name: ContributionParameters.clip(name), contribution: contribution)
        records.append(record)
        let index = states + 1
        let state = LinkStateFile(contextDigest: context.digest, key: key, records: records)
        try Self.create(Self.stateName(directory, index: index), LinkStateFile.encode(state))
        states = index
        return ContributionReceipt(
            phase: Self.phase, index: index, name: record.name,
            hash: SHA256.hex(Self.recordHash(record, transcript: transcript)))
    }

    /// Verifies the last state against `context` (see the type's documentation) and returns
    /// the final key and the contributions with their hashes. Throws `.unsound` (phase 3)
    /// naming the first contribution that fails, `.usage` when there is no contribution yet.
    /// Cost: per contribution two hashes to G2 and six two-pair pairing checks; once, decoding
    /// and validating the key's points and `isWellFormed` (three MSMs and a three-pair check).
    public func verify(context: LinkCeremony.Context) throws(CeremonyError) -> VerifiedLinkCeremony {
        if let gap { throw Self.hole(gap) }
        guard states > 0 else {
            throw .usage("\(directory): the link has no contribution yet: its key would link anything")
        }
        let path = Self.stateName(directory, index: states)
        let state = try LinkStateFile.decode(try CeremonyTranscript.read(path), file: path)
        func fail(_ index: Int, _ name: String, _ reason: String) -> CeremonyError {
            .unsound(phase: Self.phase, index: index, name: name, reason: reason)
        }
        guard state.contextDigest == context.digest else {
            throw fail(
                states, "",
                "the link was made for other client keys or pairs (a client ceremony moved on after the link started, or another spec): move this directory away and contribute to the link again"
            )
        }
        guard state.records.count == states else {
            throw fail(states, "", "the state holds \(state.records.count) contributions, its name says \(states)")
        }
        guard state.key.pairs == context.pairs, state.key.leftCount == context.left.basis.count,
            state.key.rightCount == context.right.basis.count
        else { throw fail(states, "", "the key was made for other pairs or commitment sizes than the context's") }
        var scales = CommitmentLinkVerifyingKey.zero
        var verified: [VerifiedContribution] = []
        for (i, record) in state.records.enumerated() {
            let after = LinkCeremony.scales(after: record.contribution, before: scales)
            guard LinkCeremony.verify(record.contribution, context: context, before: scales, after: after) else {
                throw fail(i + 1, record.name, "a proof of knowledge or a share's G1 and G2 forms do not check")
            }
            let hash = Self.recordHash(record, transcript: LinkCeremony.transcript(context, scales: scales))
            verified.append(
                VerifiedContribution(
                    phase: Self.phase, index: i + 1, name: record.name, hash: SHA256.hex(hash), isBeacon: false))
            scales = after
        }
        guard scales == state.key.verifyingKey else {
            throw fail(states, "", "the key's scales are not the sum of the contributions' shares")
        }
        let wellFormed: Bool
        do { wellFormed = try CommitmentLink.isWellFormed(state.key, left: context.left, right: context.right) } catch {
            throw fail(states, "", "the key does not fit the commitment keys: \(error)")
        }
        guard wellFormed else {
            throw fail(states, "", "the key's column points do not fit its scales and the commitment keys")
        }
        return VerifiedLinkCeremony(key: state.key, contributions: verified, records: state.records)
    }

    /// SHA-256 over a contribution's record and the transcript its proofs are bound to: what its
    /// receipt holds.
    static func recordHash(_ record: LinkStateFile.Record, transcript: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        LinkStateFile.write(record, to: &w)
        return SHA256.hash(Array("VeriSplit link contribution".utf8) + transcript + w.bytes)
    }

    /// Writes a new state file, refusing to replace one: two parties contributing at once both
    /// build on the same state, and the one that loses must learn it now (its receipt would
    /// otherwise name a contribution the transcript no longer holds). Written to a temporary
    /// name, then hard-linked into place, which fails if the name exists.
    static func create(_ path: String, _ bytes: [UInt8]) throws(CeremonyError) {
        let temporary = path + ".tmp-\(SecureRandom.uint64())"
        try CeremonyTranscript.write(temporary, bytes)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        do { try FileManager.default.linkItem(atPath: temporary, toPath: path) } catch {
            if FileManager.default.fileExists(atPath: path) {
                throw .usage(
                    "\(path) appeared while this contribution was made (another party contributed): contribute again")
            }
            throw .badInput(path: path, reason: "cannot write (\(error.localizedDescription))")
        }
    }

    static func hole(_ gap: (missing: Int, found: String)) -> CeremonyError {
        .unsound(
            phase: phase, index: gap.missing, name: "",
            reason: "its state file is missing but \(gap.found) exists: contributions must be contiguous")
    }
}

extension CommitmentLinkVerifyingKey {
    /// Both scales the identity: the link before any contribution.
    public static var zero: CommitmentLinkVerifyingKey { .init(leftScale: .infinity, rightScale: .infinity) }
}

/// A verified link ceremony: its key and contributions.
public struct VerifiedLinkCeremony: Sendable {
    public let key: CommitmentLinkKey
    public let contributions: [VerifiedContribution]
    /// The contribution records, which the next state carries on.
    let records: [LinkStateFile.Record]

    /// True when a verified contribution has the receipt's hash, phase and index.
    public func contains(_ receipt: ContributionReceipt) -> Bool {
        contributions.contains {
            $0.hash == receipt.hash.lowercased() && $0.phase == receipt.phase && $0.index == receipt.index
        }
    }
}

/// A link ceremony state (`NNNN.link`), version 1. All integers little-endian.
///
/// ```
/// magic "VSLC" | u32 version (1) | 32-byte context digest (`LinkCeremony.Context.digest`)
/// u32 length, the key in `link.key` form (`LinkKeyFile`, its own checksum included)
/// u32 n, n x contribution record:
///     u8 name length (at most 64), the name (UTF-8)
///     G1 [a]_1 | G2 [a]_2 | proof of a: G1 s, G1 a s, G2 a sp
///     G1 [b]_1 | G2 [b]_2 | proof of b: G1 s, G1 b s, G2 b sp
/// 32-byte SHA-256 of everything before it
/// ```
/// Points in EIP-197 uncompressed form. Loading checks the checksum, every count against the
/// bytes present before allocating, the names, and every point on its curve and in its
/// subgroup (the key's checks are `LinkKeyFile`'s).
public struct LinkStateFile: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var name: String
        public var contribution: LinkContribution

        public init(name: String, contribution: LinkContribution) {
            self.name = name
            self.contribution = contribution
        }
    }

    static let magic = Array("VSLC".utf8)
    public static let version: UInt32 = 1
    /// At most this many contributions: each costs a verifier two hashes to G2 and six pairing
    /// checks, so a state with millions of records would hold a verifier for hours.
    public static let maxContributions = 1024
    /// A record's bytes besides its name: two shares (G1, G2) and two proofs (G1, G1, G2).
    static let recordPointBytes = 2 * (64 + 128 + 64 + 64 + 128)

    public var contextDigest: [UInt8]
    public var key: CommitmentLinkKey
    public var records: [Record]

    public init(contextDigest: [UInt8], key: CommitmentLinkKey, records: [Record]) {
        self.contextDigest = contextDigest
        self.key = key
        self.records = records
    }

    public static func encode(_ state: LinkStateFile) -> [UInt8] {
        var w = ByteWriter()
        w.bytes += magic
        w.u32(version)
        w.bytes += state.contextDigest
        let key = LinkKeyFile.encode(state.key)
        w.u32(UInt32(key.count))
        w.bytes += key
        w.u32(UInt32(state.records.count))
        for record in state.records { write(record, to: &w) }
        w.bytes += SHA256.hash(w.bytes)
        return w.bytes
    }

    static func write(_ record: Record, to w: inout ByteWriter) {
        let name = Array(record.name.utf8.prefix(64))
        w.bytes.append(UInt8(name.count))
        w.bytes += name
        let c = record.contribution
        for (share, share2, proof) in [(c.leftG1, c.leftG2, c.leftProof), (c.rightG1, c.rightG2, c.rightProof)] {
            w.bytes += share.uncompressed() + share2.uncompressed()
            w.bytes += proof.g1S.uncompressed() + proof.g1SX.uncompressed() + proof.g2SPX.uncompressed()
        }
    }

    public static func decode(_ bytes: [UInt8], file: String) throws(CeremonyError) -> LinkStateFile {
        func bad(_ reason: String) -> CeremonyError { .badInput(path: file, reason: reason) }
        guard bytes.count >= 8 + 32 + 32, Array(bytes[0..<4]) == magic else {
            throw bad("not a link ceremony state (bad magic bytes)")
        }
        guard SHA256.hash(Array(bytes[0..<(bytes.count - 32)])) == Array(bytes[(bytes.count - 32)...]) else {
            throw bad("checksum mismatch: the file is damaged or was edited")
        }
        var r = ByteReader(bytes, offset: 4, limit: bytes.count - 32)
        func truncated(_ what: String) -> CeremonyError { bad("truncated at byte \(r.offset) reading \(what)") }
        func u32(_ what: String) throws(CeremonyError) -> Int {
            do { return Int(try r.littleEndian(UInt32.self)) } catch { throw truncated(what) }
        }
        func take(_ n: Int, _ what: String) throws(CeremonyError) -> [UInt8] {
            do { return Array(try r.take(n)) } catch { throw truncated(what) }
        }
        let v = try u32("the version")
        guard v == version else { throw bad("link ceremony state version \(v) is not supported (expected 1)") }
        let digest = try take(32, "the context digest")
        let keyLength = try u32("the key length")
        guard keyLength <= r.remaining else { throw truncated("the key (\(keyLength) bytes)") }
        let key: CommitmentLinkKey
        do { key = try LinkKeyFile.decode(try take(keyLength, "the key"), file: file) } catch {
            throw bad("its key: \(error)")
        }
        let count = try u32("the contribution count")
        guard count >= 1, count <= maxContributions, count * (1 + recordPointBytes) <= r.remaining else {
            throw bad(
                "\(count) contribution records: at least 1 and at most \(maxContributions), and they must fit the \(r.remaining) bytes left"
            )
        }
        var records: [Record] = []
        records.reserveCapacity(count)
        for i in 0..<count {
            let length = Int(try take(1, "a name length")[0])
            guard length <= 64 else { throw bad("contribution #\(i + 1): a name of \(length) bytes (at most 64)") }
            // Valid UTF-8 that re-encodes to the same bytes: receipts hash the re-encoded record.
            let nameBytes = try take(length, "a name")
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard Array(name.utf8) == nameBytes else { throw bad("contribution #\(i + 1): its name is not UTF-8") }
            func g1(_ what: String) throws(CeremonyError) -> G1Affine {
                let at = r.offset
                let bytes = try take(64, what)
                do { return try G1Affine(uncompressed: bytes) } catch {
                    throw bad("contribution #\(i + 1), \(what) at byte \(at): \(error)")
                }
            }
            func g2(_ what: String) throws(CeremonyError) -> G2Affine {
                let at = r.offset
                let bytes = try take(128, what)
                do { return try G2Affine(uncompressed: bytes) } catch {
                    throw bad("contribution #\(i + 1), \(what) at byte \(at): \(error)")
                }
            }
            let leftG1 = try g1("[a]_1"), leftG2 = try g2("[a]_2")
            let leftProof = KnowledgeProof(g1S: try g1("s"), g1SX: try g1("a s"), g2SPX: try g2("a sp"))
            let rightG1 = try g1("[b]_1"), rightG2 = try g2("[b]_2")
            let rightProof = KnowledgeProof(g1S: try g1("s"), g1SX: try g1("b s"), g2SPX: try g2("b sp"))
            records.append(
                Record(
                    name: name,
                    contribution: LinkContribution(
                        leftG1: leftG1, leftG2: leftG2, leftProof: leftProof, rightG1: rightG1, rightG2: rightG2,
                        rightProof: rightProof)))
        }
        guard r.remaining == 0 else { throw bad("\(r.remaining) unexpected bytes after the records") }
        return LinkStateFile(contextDigest: digest, key: key, records: records)
    }
}
