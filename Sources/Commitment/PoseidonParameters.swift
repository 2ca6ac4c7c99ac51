import Algebra
import Foundation

/// Why a Poseidon instance or input was refused.
public enum PoseidonError: Error, Equatable, CustomStringConvertible {
    /// The state width t must be 2...17 (circomlib's range).
    case unsupportedWidth(Int)
    /// circomlib's `poseidon` hashes 1...16 inputs (width t = inputs + 1).
    case unsupportedInputCount(Int)
    /// A permutation was handed a state of the wrong length.
    case wrongStateLength(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .unsupportedWidth(let t):
            return "Poseidon width t = \(t) is not supported (circomlib's parameters cover t = 2...17)"
        case .unsupportedInputCount(let n):
            return "Poseidon hashes 1...16 inputs, got \(n); use PoseidonSponge for longer vectors"
        case .wrongStateLength(let e, let g):
            return "Poseidon state has \(g) elements, expected \(e)"
        }
    }
}

/// The Grain LFSR of the Poseidon paper (Grassi et al., eprint 2019/458, appendix F), as run by
/// the reference script `generate_parameters_grain.sage`: an 80-bit register seeded with the
/// instance description (field, S-box, n, t, R_F, R_P, then thirty 1s), clocked 160 times and
/// discarded, then used in self-shrinking mode (bits are taken in pairs; when the first is 1 the
/// second is output, otherwise the pair is dropped).
struct GrainLFSR {
    /// Bit i of the register is the reference's `bit_sequence[i]` (bit 0 is the oldest).
    private var state: UInt128

    /// - Parameters: `field` 1 = GF(p); `sbox` 0 = x^alpha; `n` field bits; `t` width.
    init(field: Int, sbox: Int, fieldBits n: Int, width t: Int, fullRounds: Int, partialRounds: Int) {
        var bits: [Int] = []
        func append(_ value: Int, width: Int) {
            for i in stride(from: width - 1, through: 0, by: -1) { bits.append((value >> i) & 1) }
        }
        append(field, width: 2)
        append(sbox, width: 4)
        append(n, width: 12)
        append(t, width: 12)
        append(fullRounds, width: 10)
        append(partialRounds, width: 10)
        bits += [Int](repeating: 1, count: 30)
        var s: UInt128 = 0
        for (i, b) in bits.enumerated() where b == 1 { s |= UInt128(1) << UInt128(i) }
        state = s
        for _ in 0..<160 { _ = clock() }
    }

    /// One LFSR step: b80 = b62 ^ b51 ^ b38 ^ b23 ^ b13 ^ b0, then shift.
    private mutating func clock() -> UInt128 {
        let s = state
        let bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1
        state = (s >> 1) | (bit << 79)
        return bit
    }

    /// The next output bit of the self-shrinking generator.
    mutating func nextBit() -> Bool {
        var first = clock()
        while first == 0 {
            _ = clock()
            first = clock()
        }
        return clock() == 1
    }

    /// `count` output bits read as a big-endian integer (the first bit is the most significant),
    /// as `grain_random_bits`. `count` <= 256.
    mutating func nextInteger(bits count: Int) -> Limbs4 {
        var limbs: [UInt64] = [0, 0, 0, 0]
        for i in stride(from: count - 1, through: 0, by: -1) where nextBit() {
            limbs[i >> 6] |= UInt64(1) << UInt64(i & 63)
        }
        return Limbs4(limbs[0], limbs[1], limbs[2], limbs[3])
    }
}

/// Poseidon parameters for BN254's Fr with circomlib's choices: S-box x^5, R_F = 8 full rounds,
/// R_P from `partialRoundsByWidth`, widths t = 2...17.
///
/// The constants are not pasted in: they are regenerated the way the reference script
/// `generate_parameters_grain.sage 1 0 254 t 8 R_P p` does: (R_F + R_P) * t round constants,
/// each 254 Grain bits rejected while >= p; then the MDS matrix as the Cauchy matrix
/// M[i][j] = 1 / (x_i + y_j) from 2t further Grain draws (reduced mod p, redrawn while any two
/// coincide or some x_i + y_j = 0). The reference script also runs three invariant-subspace
/// checks on the matrix and would redraw it on failure; those checks are not reimplemented here.
/// For every width 2...17 the first matrix drawn is the one circomlib uses, which the tests
/// establish by comparing hashes with circomlib's own (pre-transformed) constants for all widths.
public struct PoseidonParameters: Sendable {
    /// circomlib's N_ROUNDS_P for t = 2...17 (index t - 2).
    public static let partialRoundsByWidth = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]
    public static let fullRounds = 8
    public static let supportedWidths = 2...17

    /// The state width t.
    public let width: Int
    public let partialRounds: Int
    /// Round constants, round-major: constant i of round r is `roundConstants[r * width + i]`.
    public let roundConstants: [Fr]
    /// The MDS matrix, row-major: the linear layer is s'_i = sum_j mds[i * width + j] * s_j.
    public let mds: [Fr]

    public var fullRounds: Int { Self.fullRounds }
    public var rounds: Int { Self.fullRounds + partialRounds }

    /// The cached parameters for width t (generated once per width per process, a few ms).
    public static func forWidth(_ t: Int) throws(PoseidonError) -> PoseidonParameters {
        guard supportedWidths.contains(t) else { throw .unsupportedWidth(t) }
        return ParameterCache.shared.parameters(width: t)
    }

    /// Regenerates the parameters with the Grain LFSR (see the type's documentation).
    static func generate(width t: Int) -> PoseidonParameters {
        let rp = partialRoundsByWidth[t - 2]
        var grain = GrainLFSR(
            field: 1, sbox: 0, fieldBits: 254, width: t,
            fullRounds: fullRounds, partialRounds: rp)
        let p = FrParameters.modulus
        func below(_ v: Limbs4) -> Bool {
            if v.l3 != p.l3 { return v.l3 < p.l3 }
            if v.l2 != p.l2 { return v.l2 < p.l2 }
            if v.l1 != p.l1 { return v.l1 < p.l1 }
            return v.l0 < p.l0
        }
        var constants: [Fr] = []
        constants.reserveCapacity((fullRounds + rp) * t)
        for _ in 0..<((fullRounds + rp) * t) {
            var v = grain.nextInteger(bits: 254)
            while !below(v) { v = grain.nextInteger(bits: 254) }
            constants.append(Fr(canonicalLimbs: v))
        }
        var matrix: [Fr] = []
        while matrix.isEmpty {
            var draws: [Fr] = []
            repeat {
                draws = (0..<(2 * t)).map { _ in
                    let v = grain.nextInteger(bits: 254)
                    return Fr(reducing: BigInt(limbs: v.array))
                }
            } while Set(draws).count != draws.count
            var sums: [Fr] = []
            for i in 0..<t { for j in 0..<t { sums.append(draws[i] + draws[t + j]) } }
            if sums.contains(where: \.isZero) { continue }
            Fr.batchInvert(&sums)
            matrix = sums
        }
        return PoseidonParameters(width: t, partialRounds: rp, roundConstants: constants, mds: matrix)
    }

    /// Constraints of one permutation gadget: 3 per S-box (x^2, x^4, x^5), t S-boxes in each of the
    /// R_F full rounds and one in each partial round; linear layers cost nothing. (A gadget whose
    /// first S-box inputs are constants, like the hash's capacity element, saves those S-boxes.)
    public var constraintsPerPermutation: Int { 3 * (fullRounds * width + partialRounds) }
}

/// Generated parameters, one entry per width, behind a lock (generation runs once per width).
final class ParameterCache: @unchecked Sendable {
    static let shared = ParameterCache()
    private let lock = NSLock()
    private var byWidth: [Int: PoseidonParameters] = [:]
    private var plans: [Int: PoseidonCircuitPlan] = [:]

    func parameters(width t: Int) -> PoseidonParameters {
        lock.lock()
        defer { lock.unlock() }
        if let cached = byWidth[t] { return cached }
        let generated = PoseidonParameters.generate(width: t)
        byWidth[t] = generated
        return generated
    }

    func plan(for parameters: PoseidonParameters) -> PoseidonCircuitPlan {
        lock.lock()
        if let cached = plans[parameters.width] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let made = PoseidonCircuitPlan(parameters)
        lock.lock()
        defer { lock.unlock() }
        if let cached = plans[parameters.width] { return cached }
        plans[parameters.width] = made
        return made
    }
}
