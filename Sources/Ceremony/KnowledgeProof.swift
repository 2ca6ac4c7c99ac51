import Algebra

/// A proof that a contributor knows the secret x it multiplied into the transcript.
///
/// The construction is the "same ratio" proof of Bowe, Gabizon and Miers (BGM17), the one
/// snarkjs and the Zcash ceremonies use: a random s * G1, x * (s * G1), and x * sp in G2, where
/// sp = hashToG2(transcript, personalization, s * G1, x * s * G1) is a point nobody knows the
/// discrete logarithm of. e(s, x sp) = e(x s, sp) shows the same x scales both, and binding sp
/// to the transcript stops a proof from being replayed in another ceremony or position.
/// Knowledge soundness holds in the algebraic group model with sp as a random oracle.
///
/// Unlike snarkjs (BLAKE2b and a ChaCha stream into ffjavascript's point sampler), sp here comes
/// from SHA-256 try-and-increment with cofactor clearing, so snarkjs cannot re-check our proofs
/// and we cannot re-check snarkjs's; the record layouts are the same.
public struct KnowledgeProof: Sendable, Equatable {
    public var g1S: G1Affine
    public var g1SX: G1Affine
    public var g2SPX: G2Affine

    public init(g1S: G1Affine, g1SX: G1Affine, g2SPX: G2Affine) {
        self.g1S = g1S
        self.g1SX = g1SX
        self.g2SPX = g2SPX
    }

    /// Personalization bytes: one per secret, so a proof for tau cannot stand in for alpha.
    public enum Secret: UInt8, Sendable {
        case tau = 0, alpha = 1, beta = 2, delta = 3
        /// The commitment key's secrets (phase 2 of a circuit with a commitment to witness wires).
        case sigma = 4, eta = 5
        /// The two secrets of a link between committed proofs (`LinkCeremony`).
        case linkLeft = 6, linkRight = 7
    }

    /// Proves knowledge of `x`, bound to `transcript`. `s` must be fresh randomness (or, for a
    /// beacon, derived from the beacon); both stay with the caller, who erases them.
    ///
    /// The proof publishes the pair (s base, x s base). `base` is the generator except for
    /// sigma, whose pairs must stay inside the commitment basis's span: a published pair
    /// (P, sigma P) with P outside it would let a prover pass the commitment's knowledge check
    /// e(D, [sigma]_2) = e(K, [1]_2) with D = P (with the generator as base, colluding
    /// contributors who know the other factors of sigma could rebuild ([s]_1, [sigma s]_1)).
    static func prove(
        x: Fr, s: Fr, transcript: [UInt8], secret: Secret, base: G1Affine = .generator
    )
        -> KnowledgeProof
    {
        let g1S = base.multiplied(by: s).affine
        let g1SX = g1S.multiplied(by: x).affine
        let sp = challengePoint(transcript: transcript, secret: secret, g1S: g1S, g1SX: g1SX)
        return KnowledgeProof(g1S: g1S, g1SX: g1SX, g2SPX: sp.multiplied(by: x).affine)
    }

    /// Checks the proof and that `after` = x * `before` for the same x. Cost: one hash-to-G2
    /// and two 2-pairing products.
    func verify(transcript: [UInt8], secret: Secret, before: G1Affine, after: G1Affine) -> Bool {
        guard !g1S.isInfinity, !g1SX.isInfinity, !g2SPX.isInfinity, !before.isInfinity, !after.isInfinity else {
            return false
        }
        let sp = Self.challengePoint(transcript: transcript, secret: secret, g1S: g1S, g1SX: g1SX)
        return SameRatio.holds((g1S, g1SX), (sp, g2SPX)) && SameRatio.holds((before, after), (sp, g2SPX))
    }

    static func challengePoint(transcript: [UInt8], secret: Secret, g1S: G1Affine, g1SX: G1Affine) -> G2Affine {
        SameRatio.hashToG2(
            Array("VeriSplit ceremony pok".utf8) + [secret.rawValue] + transcript
                + g1S.uncompressed() + g1SX.uncompressed())
    }
}

/// Pairing checks of the form "a1 / a0 = b1 / b0 in the exponent", and their batched versions.
enum SameRatio {
    /// e(a0, b1) = e(a1, b0): a1 = x a0 and b1 = x b0 for one x (points nonzero).
    static func holds(_ a: (G1Affine, G1Affine), _ b: (G2Affine, G2Affine)) -> Bool {
        Pairing.pairingCheck([(a.0, b.1), (-a.1, b.0)])
    }

    /// The G2 cofactor 2q - r: multiplying an on-curve point by it lands in the order-r subgroup.
    static let g2Cofactor: BigInt = Fq.modulus + Fq.modulus - Fr.modulus

    /// A G2 point from `seed` with no known discrete logarithm: SHA-256 expands (seed, counter)
    /// into x in Fq2 until x^3 + b is a square, takes the even root, clears the cofactor.
    /// Each try succeeds with probability about 1/2; the result is public, so variable time is fine.
    static func hashToG2(_ seed: [UInt8]) -> G2Affine {
        var counter: UInt32 = 0
        while true {
            func element(_ tag: UInt8) -> Fq {
                let prefix = seed + withUnsafeBytes(of: counter.littleEndian, Array.init) + [tag]
                return Fq(reducing: BigInt(bigEndian: SHA256.hash(prefix + [0]) + SHA256.hash(prefix + [1])))
            }
            let x = Fq2(element(0), element(1))
            counter += 1
            guard var y = (x.squared() * x + G2Parameters.b).squareRoot() else { continue }
            if y.isLexicographicallyLarge { y = -y }
            let cleared = G2Affine(x: x, y: y).jacobian.multipliedByDoubleAndAdd(g2Cofactor)
            if !cleared.isInfinity { return cleared.affine }
        }
    }

    /// Random 128-bit scalars for a batched check: a wrong point survives a random linear
    /// combination with probability at most 2^-128.
    static func randomScalars(_ count: Int) -> [Fr] {
        (0..<count).map { _ in Fr(canonicalLimbs: Limbs4(SecureRandom.uint64(), SecureRandom.uint64(), 0, 0)) }
    }
}
