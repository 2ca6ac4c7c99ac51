import Algebra
import Groth16

/// One phase-1 contribution record (`.ptau` section 7), in snarkjs's layout.
public struct Phase1Contribution: Sendable, Equatable {
    /// The state's first points after this contribution.
    public var tauG1: G1Affine
    public var tauG2: G2Affine
    public var alphaG1: G1Affine
    public var betaG1: G1Affine
    public var betaG2: G2Affine
    public var tauProof: KnowledgeProof
    public var alphaProof: KnowledgeProof
    public var betaProof: KnowledgeProof
    /// snarkjs: BLAKE2b state; VeriSplit writes zeros (216 bytes).
    public var partialHash: [UInt8]
    /// snarkjs: the next challenge hash; VeriSplit: the transcript hash the proofs are bound
    /// to, then 32 zero bytes (64 bytes).
    public var challenge: [UInt8]
    /// 0 for a contribution, 1 for a random beacon.
    public var type: UInt32
    public var name: String?
    public var iterationsExponent: UInt8?
    public var beaconHash: [UInt8]?
}

/// A `.ptau` file: the powers and the contribution records.
public struct PtauFile: Sendable, Equatable {
    public var powers: PowersOfTau
    /// snarkjs's ceremony power (the power the ceremony ran at; >= `powers.power`).
    public var ceremonyPower: Int
    public var contributions: [Phase1Contribution]

    public init(powers: PowersOfTau, ceremonyPower: Int, contributions: [Phase1Contribution]) {
        self.powers = powers
        self.ceremonyPower = ceremonyPower
        self.contributions = contributions
    }
}

/// snarkjs's powers-of-tau file (`.ptau`, version 1) over BN254: read and write.
///
/// Container as in `.zkey`: `"ptau"`, u32 version = 1, u32 section count, sections `u32 id |
/// u64 size | body`, little-endian; points in snarkjs's Montgomery layout (`Zkey.encode`).
///
/// | id | body |
/// |----|------|
/// | 1 | u32 n8 = 32, q (32 bytes), u32 power, u32 ceremony power |
/// | 2 | tau^i G1, i < 2^(power+1) - 1 |
/// | 3 | tau^i G2, i < 2^power |
/// | 4, 5 | alpha tau^i G1, beta tau^i G1, i < 2^power |
/// | 6 | beta G2 |
/// | 7 | u32 count, records: 3 G1 + 2 G2 points, 6 G1 + 3 G2 proof points, 216-byte hash state, 64-byte challenge, u32 type, u32 length + params (1 name, 2 iteration exponent, 3 beacon hash) |
/// | 12-15 | Lagrange-basis points (`prepare phase2`): skipped, phase 2 derives its own |
///
/// Reading checks every size against the bytes present before allocating, the power against
/// `PowersOfTau.maxPower`, coordinates below q, points on the curve and G2 points in the
/// subgroup (on all cores). It does not check that the powers are consistent: that is
/// `PowersOfTau.structureError()`, which a ceremony runs on every state.
public enum Ptau {
    public static let magic = Array("ptau".utf8)
    public static let version: UInt32 = 1
    static let names: [UInt32: String] = [
        1: "header", 2: "tauG1", 3: "tauG2", 4: "alphaTauG1", 5: "betaTauG1",
        6: "betaG2", 7: "contributions", 12: "lagrange tauG1", 13: "lagrange tauG2",
        14: "lagrange alphaTauG1", 15: "lagrange betaTauG1",
    ]
    static func name(_ id: UInt32) -> String { "\(names[id] ?? "unknown")(\(id))" }
    /// A record holds at least 5 + 9 points, the hash state, the challenge and two u32s.
    static let minimumRecordSize = 3 * 64 + 2 * 128 + 6 * 64 + 3 * 128 + 216 + 64 + 8

    public static func read(_ bytes: [UInt8], file: String = "powers.ptau") throws(PtauError) -> PtauFile {
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else { throw .notAPtau(file: file) }
        var r = BinReader(bytes: bytes, file: file)
        r.offset = 4
        let v = try r.u32()
        guard v == version else { throw .unsupportedVersion(file: file, version: v) }
        let table = try r.sectionTable()
        for s in table where names[s.id] == nil {
            throw .invalid(file: file, section: name(s.id), offset: s.offset - 12, reason: "unknown section id \(s.id)")
        }
        let locator = r  // a copy: `find` must not overlap the mutating reads below
        func find(_ id: UInt32) throws(PtauError) -> (offset: Int, size: Int) { try locator.find(id, in: table) }

        r.enter(1, try find(1))
        let n8 = try r.u32()
        guard n8 == 32 else { throw r.fail("element size \(n8) bytes, expected 32 (BN254)", at: r.offset - 4) }
        let q = BigInt(littleEndian: Array(try r.take(32)))
        guard q == Fq.modulus else {
            throw r.fail("q = \(q) is not BN254's base field (only bn128 ceremonies)", at: r.offset - 32)
        }
        let powerAt = r.offset
        let power = Int(try r.u32())
        let ceremonyPower = Int(try r.u32())
        try r.expectEnd()
        guard power >= 1 else { throw r.fail("power \(power) is below 1", at: powerAt) }
        guard power <= PowersOfTau.maxPower else {
            throw .tooLarge(
                file: file, section: name(1), offset: powerAt, what: "power", value: UInt64(power),
                limit: UInt64(PowersOfTau.maxPower))
        }
        guard ceremonyPower >= power, ceremonyPower <= 28 else {
            throw r.fail("ceremony power \(ceremonyPower) is not between power \(power) and 28", at: powerAt + 4)
        }
        let n = 1 << power
        let tauG1 = try r.g1Section(2, count: 2 * n - 1, in: try find(2))
        let tauG2 = try r.g2Section(3, count: n, in: try find(3))
        let alphaTauG1 = try r.g1Section(4, count: n, in: try find(4))
        let betaTauG1 = try r.g1Section(5, count: n, in: try find(5))
        let betaG2 = try r.g2Section(6, count: 1, in: try find(6))[0]
        let contributions = try r.contributions(in: try find(7))
        let powers = PowersOfTau(
            power: power, tauG1: tauG1, tauG2: tauG2, alphaTauG1: alphaTauG1,
            betaTauG1: betaTauG1, betaG2: betaG2)
        return PtauFile(powers: powers, ceremonyPower: ceremonyPower, contributions: contributions)
    }

    /// Writes sections 1-7 (no Lagrange sections: `snarkjs powersoftau prepare phase2` adds them).
    public static func write(_ file: PtauFile) -> [UInt8] {
        let p = file.powers
        var w = ByteWriter()
        w.bytes = magic
        w.u32(version)
        w.u32(7)
        w.section(1) { w in
            w.u32(32)
            w.bytes += Fq.modulus.littleEndianBytes(count: 32)
            w.u32(UInt32(p.power))
            w.u32(UInt32(max(file.ceremonyPower, p.power)))
        }
        w.section(2) { w in
            w.reserve(p.tauG1.count * 64)
            for x in p.tauG1 { w.bytes += Zkey.encode(x) }
        }
        w.section(3) { w in
            w.reserve(p.tauG2.count * 128)
            for x in p.tauG2 { w.bytes += Zkey.encode(x) }
        }
        w.section(4) { w in
            w.reserve(p.alphaTauG1.count * 64)
            for x in p.alphaTauG1 { w.bytes += Zkey.encode(x) }
        }
        w.section(5) { w in
            w.reserve(p.betaTauG1.count * 64)
            for x in p.betaTauG1 { w.bytes += Zkey.encode(x) }
        }
        w.section(6) { w in w.bytes += Zkey.encode(p.betaG2) }
        w.section(7) { w in
            w.u32(UInt32(file.contributions.count))
            for c in file.contributions {
                w.bytes += Zkey.encode(c.tauG1) + Zkey.encode(c.tauG2) + Zkey.encode(c.alphaG1) + Zkey.encode(c.betaG1)
                w.bytes += Zkey.encode(c.betaG2)
                for proof in [c.tauProof, c.alphaProof, c.betaProof] {
                    w.bytes += Zkey.encode(proof.g1S) + Zkey.encode(proof.g1SX)
                }
                for proof in [c.tauProof, c.alphaProof, c.betaProof] { w.bytes += Zkey.encode(proof.g2SPX) }
                w.bytes += c.partialHash + c.challenge
                w.u32(c.type)
                w.bytes += ContributionParameters(
                    name: c.name, iterationsExponent: c.iterationsExponent,
                    beaconHash: c.beaconHash
                ).encoded(beacon: c.type == 1)
            }
        }
        return w.bytes
    }
}

/// The `.ptau` reader: the container reader shared with `.zkey`, plus section 7.
typealias BinReader = BinFileReader<PtauError>

extension BinFileReader where E == PtauError {
    init(bytes: [UInt8], file: String) { self.init(bytes: bytes, file: file, sectionName: Ptau.name) }

    func proof(_ g1S: G1Affine, _ g1SX: G1Affine, _ g2SPX: G2Affine) -> KnowledgeProof {
        KnowledgeProof(g1S: g1S, g1SX: g1SX, g2SPX: g2SPX)
    }

    /// Section 7: the count (checked against the bytes left before allocating) and the records.
    mutating func contributions(in s: (offset: Int, size: Int)) throws(PtauError) -> [Phase1Contribution] {
        enter(7, s)
        let countAt = offset
        let count = Int(try u32())
        guard count <= remaining / Ptau.minimumRecordSize else {
            throw .tooLarge(
                file: file, section: section, offset: countAt, what: "contribution count", value: UInt64(count),
                limit: UInt64(remaining / Ptau.minimumRecordSize))
        }
        var list: [Phase1Contribution] = []
        for i in 0..<count {
            let label = "contribution #\(i + 1)"
            let tauG1 = try g1(label + " tauG1"), tauG2 = try g2(label + " tauG2")
            let alphaG1 = try g1(label + " alphaG1"), betaG1 = try g1(label + " betaG1"),
                betaG2 = try g2(label + " betaG2")
            var g1s: [G1Affine] = []
            for k in 0..<6 { g1s.append(try g1(label + " proof point \(k)")) }
            var g2s: [G2Affine] = []
            for k in 0..<3 { g2s.append(try g2(label + " proof point \(6 + k)")) }
            let partialHash = Array(try take(216)), challenge = Array(try take(64))
            let type = try u32()
            let params = try contributionParameters(label)
            list.append(
                Phase1Contribution(
                    tauG1: tauG1, tauG2: tauG2, alphaG1: alphaG1, betaG1: betaG1, betaG2: betaG2,
                    tauProof: proof(g1s[0], g1s[1], g2s[0]), alphaProof: proof(g1s[2], g1s[3], g2s[1]),
                    betaProof: proof(g1s[4], g1s[5], g2s[2]), partialHash: partialHash, challenge: challenge,
                    type: type, name: params.name, iterationsExponent: params.iterationsExponent,
                    beaconHash: params.beaconHash))
        }
        try expectEnd()
        return list
    }
}
