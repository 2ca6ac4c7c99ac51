import Dispatch
import Foundation

extension JacobianPoint where C == G2Parameters {
    /// psi in Jacobian coordinates: (conj(X) cx, conj(Y) cy, conj(Z)). Conjugation is a field
    /// automorphism of Fq2, so X/Z^2 and Y/Z^3 map exactly as the affine psi maps x and y, and
    /// no inversion is needed.
    @inlinable
    public func psi() -> JacobianPoint {
        let c = G2Parameters.psiCoefficients
        return JacobianPoint(x: x.conjugate * c.x, y: y.conjugate * c.y, z: z.conjugate)
    }

    /// [x]P for the BN parameter x, by its non-adjacent form (62 doublings, 23 mixed additions).
    @inlinable
    static func timesSeed(_ p: G2Affine) -> JacobianPoint {
        let negated = -p
        var acc = p.jacobian
        for digit in Pairing.xDigits.dropFirst() {
            acc = acc.doubled()
            if digit == 1 { acc += p } else if digit == -1 { acc += negated }
        }
        return acc
    }

    /// Membership of an on-curve point in G2 (one inversion to affine, then `G2Affine.isInG2`).
    public var isInG2: Bool { isInfinity || affine.isInG2 }
}

extension AffinePoint where C == G2Parameters {
    /// Membership of an on-curve point in G2: the test of Dai, Lin, Zhao and Zhou (2022),
    /// [x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P), with psi applied in Jacobian form.
    /// About 1,800 Fq multiplications, no inversion.
    public var isInG2: Bool {
        if isInfinity { return true }
        let xP = G2Jacobian.timesSeed(self)
        let psiXP = xP.psi()
        let left = xP + self + psiXP + psiXP.psi()
        return left == xP.doubled().psi().psi().psi()
    }
}

/// Batched prime-order-subgroup membership for many G2 points (proving keys, `.zkey`, `.ptau`).
///
/// The twist group E'(Fq2) is G2 x T with |T| = h = 2q - r, and the smallest prime factor of h
/// is 10069 (h = 10069 * 5864401 * 1875725156269 * p177). If some on-curve P_j has a nonzero
/// T-component t_j, a combination Q = sum_i c_i P_i with independent uniform coefficients c_i
/// from 2^lambda consecutive integers lands in G2 only if sum c_i t_i = 0; fixing every
/// coefficient but c_j, at most ceil(2^lambda / ord(t_j)) values of c_j achieve that, so
///   Pr[Q in G2] <= 1/10069 + 2^-lambda.
/// No single combination can do better (a component of order 10069 only sees c_j mod 10069),
/// so `rounds` independent combinations are tested, each with the exact membership test:
///   Pr[all pass | some P_j not in G2] <= (1/10069 + 2^-lambda)^rounds.
/// With lambda = 12 and 12 rounds this is (3.43e-4)^12 < 2^-138. Coefficients come from the
/// OpenSSL CSPRNG after the points are fixed, so whoever wrote the points cannot aim at them.
///
/// Cost per round: one Pippenger window over the points (an affine addition into one of
/// 2^(lambda-1) buckets per point, batched inversions; about 17 Fq multiplications) plus
/// 2^lambda bucket additions, against about 1,800 Fq multiplications per point for the
/// per-point test; rounds run on all cores. Below `batchThreshold` points the per-point test
/// is cheaper and is used instead.
public enum G2SubgroupBatch {
    /// Coefficient width lambda: coefficients are uniform in [-2^(lambda-1), 2^(lambda-1)).
    public static let coefficientBits = 12
    /// Independent combinations tested.
    public static let rounds = 12
    /// log2 of the bound on the probability that a set with a point outside G2 passes.
    public static var soundnessErrorLog2: Double {
        let perRound = 1.0 / 10069.0 + 1.0 / Double(1 << coefficientBits)
        return Double(rounds) * log2(perRound)
    }
    /// Below this many points each point is tested on its own (cheaper than the rounds' buckets).
    public static let batchThreshold = 1024

    /// True when every point is in G2. Precondition: every point is on the twist curve
    /// (membership of points off the curve is meaningless; decoders check the curve first).
    public static func allInG2(_ points: UnsafeBufferPointer<G2Affine>) -> Bool {
        let n = points.count
        if n < batchThreshold {
            return firstOutside(points, from: 0) == nil
        }
        let half = 1 << (coefficientBits - 1)
        let mask = UInt16((1 << coefficientBits) - 1)
        @Sendable func randomDigits(_ count: Int) -> [Int32] {
            var random = [UInt16](repeating: 0, count: count)
            random.withUnsafeMutableBytes { SecureRandom.fill($0) }
            return random.map { Int32($0 & mask) - Int32(half) }
        }
        // All rounds at once on the vector kernel (each round is one "window" of digits).
        if let sums = VectorMSM.windowSums(
            bases: points, digits: randomDigits(rounds * n), windowCount: rounds,
            bucketCount: half, workers: min(rounds, MSM.defaultThreadCount))
        {
            return sums.allSatisfy(\.isInG2)
        }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: rounds)
        defer { results.deallocate() }
        results.initialize(repeating: false)
        let out = UnsafeSendable(results)
        let input = UnsafeSendable(points)
        DispatchQueue.concurrentPerform(iterations: rounds) { round in
            let digits = randomDigits(n)
            let scratch = BatchAffineScratch<G2Parameters>(bucketCount: half, batchSize: min(512, max(16, n / 64)))
            let sum = digits.withUnsafeBufferPointer { d in
                MSM.windowSum(bases: input.value, digits: d, scratch: scratch)
            }
            out.value[round] = sum.isInG2
        }
        return results.allSatisfy { $0 }
    }

    /// The lowest index >= `from` whose point is not in G2 (per-point tests on all cores), or nil.
    public static func firstOutside(_ points: UnsafeBufferPointer<G2Affine>, from start: Int = 0) -> Int? {
        let n = points.count
        guard start < n else { return nil }
        let chunk = 256
        let chunks = (n - start + chunk - 1) / chunk
        let firstBad = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { firstBad.deallocate() }
        firstBad.initialize(repeating: Int.max)
        let out = UnsafeSendable(firstBad)
        let input = UnsafeSendable(points)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = start + c * chunk, hi = min(n, lo + chunk)
            for i in lo..<hi where !input.value[i].isInG2 {
                out.value[c] = i
                return
            }
        }
        let first = firstBad.min() ?? Int.max
        return first == Int.max ? nil : first
    }

    /// The lowest index of a point not in G2, or nil when all are: the batched test, and only
    /// if it fails, the per-point tests to name the culprit.
    public static func firstOutside(_ points: [G2Affine]) -> Int? {
        points.withUnsafeBufferPointer { p in
            if allInG2(p) { return nil }
            return firstOutside(p, from: 0)
        }
    }
}
