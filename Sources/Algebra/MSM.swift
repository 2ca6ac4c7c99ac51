import CAlgebraKernels
import Dispatch

/// Multi-scalar multiplication sum_i k_i * P_i (Pippenger's bucket method).
///
/// Scalars are recoded into signed c-bit digits in [-2^(c-1), 2^(c-1)], which halves the
/// number of buckets; negative digits add the negated point (free on a Weierstrass curve).
/// Windows are independent, so they are spread over the available cores; each window costs
/// n mixed additions plus 2^c bucket additions, for about (255/c)(n + 2^c) additions in total.
public enum MSM {
    /// Window width for n points: about log2(n) * 0.7 + 2, which balances the n additions per
    /// window against the 2^(c-1) buckets (the rule arkworks and gnark use, give or take one).
    public static func windowBits(forCount n: Int) -> Int {
        guard n >= 32 else { return 3 }
        let log2n = Double(Int.bitWidth - n.leadingZeroBitCount - 1)
        return min(16, max(3, Int(log2n * 0.69) + 2))
    }

    /// Number of worker threads used for large MSMs (all cores).
    public static var defaultThreadCount: Int {
        max(1, min(64, ProcessInfoCores.activeCount))
    }

    /// sum_i scalars[i] * bases[i]. Precondition: equal counts.
    @_specialize(where C == G1Parameters)
    @_specialize(where C == G2Parameters)
    public static func multiply<C: CurveParameters>(
        bases: [AffinePoint<C>], scalars: [Fr], threads: Int? = nil
    ) -> JacobianPoint<C> {
        precondition(bases.count == scalars.count, "MSM needs as many scalars as bases")
        return multiply(bases: bases, canonicalScalars: scalars.map(\.canonicalLimbs), threads: threads)
    }

    /// sum_i scalars[i] * bases[i] for scalars of mixed lengths: those whose signed magnitude
    /// (k or r - k) fits in `shortBits` bits go through an MSM of their own, whose windows span
    /// `shortBits` bits; the rest through the full one. One long scalar would otherwise set the
    /// window count for all (255 / c windows, each paying its 2^c buckets): a Groth16 statement
    /// of activations and gradients (signed 24-bit values) beside a few hashes is the case.
    /// Cost: about (shortBits / c)(n_short + 2^c) + (255 / c')(n_long + 2^c') additions.
    public static func multiplyMixedLengths<C: CurveParameters>(
        bases: [AffinePoint<C>], scalars: [Fr], shortBits: Int = 64
    ) -> JacobianPoint<C> {
        precondition(bases.count == scalars.count, "MSM needs as many scalars as bases")
        var shortBases: [AffinePoint<C>] = [], shortScalars: [Limbs4] = []
        var longBases: [AffinePoint<C>] = [], longScalars: [Limbs4] = []
        shortBases.reserveCapacity(bases.count)
        shortScalars.reserveCapacity(bases.count)
        for (base, scalar) in zip(bases, scalars) {
            let canonical = scalar.canonicalLimbs
            if bitLength(fold(canonical).magnitude) <= shortBits {
                shortBases.append(base)
                shortScalars.append(canonical)
            } else {
                longBases.append(base)
                longScalars.append(canonical)
            }
        }
        return multiply(bases: shortBases, canonicalScalars: shortScalars)
            + multiply(bases: longBases, canonicalScalars: longScalars)
    }

    /// Same as `multiply(bases:scalars:)` with scalars already out of Montgomery form
    /// (the prover converts each witness once and reuses it for several MSMs).
    @_specialize(where C == G1Parameters)
    @_specialize(where C == G2Parameters)
    public static func multiply<C: CurveParameters>(
        bases: [AffinePoint<C>], canonicalScalars scalars: [Limbs4], threads: Int? = nil
    ) -> JacobianPoint<C> {
        precondition(bases.count == scalars.count, "MSM needs as many scalars as bases")
        let n = bases.count
        if n == 0 { return .infinity }
        if n < 16 {
            var acc = JacobianPoint<C>.infinity
            for i in 0..<n { acc += bases[i].jacobian.multiplied(byLimbs: scalars[i]) }
            return acc
        }
        return multiply(bases: bases, recoded: RecodedScalars(scalars), threads: threads)
    }

    /// Scalars recoded once into signed window digits, for several MSMs over the same scalars
    /// (the prover's A, B1 and B2 queries share the witness): recoding is a pass over all
    /// scalars per MSM otherwise.
    public struct RecodedScalars: Sendable {
        public let count: Int
        public let windowBits: Int
        let digits: [Int32]
        let windowCount: Int

        public init(_ canonicalScalars: [Limbs4]) {
            count = canonicalScalars.count
            windowBits = MSM.windowBits(forCount: count)
            (digits, windowCount) = MSM.recode(canonicalScalars, windowBits: windowBits)
        }
    }

    /// sum_i k_i * bases[i] for recoded scalars k (same count as the bases).
    @_specialize(where C == G1Parameters)
    @_specialize(where C == G2Parameters)
    public static func multiply<C: CurveParameters>(
        bases: [AffinePoint<C>], recoded: RecodedScalars, threads: Int? = nil
    ) -> JacobianPoint<C> {
        precondition(bases.count == recoded.count, "MSM needs as many scalars as bases")
        let n = bases.count, c = recoded.windowBits, digits = recoded.digits, windowCount = recoded.windowCount
        if windowCount == 0 || n == 0 { return .infinity }
        let workers = min(threads ?? defaultThreadCount, windowCount)
        var windowSums: [JacobianPoint<C>]
        if let sums = bases.withUnsafeBufferPointer({
            VectorMSM.windowSums(
                bases: $0, digits: digits, windowCount: windowCount, bucketCount: 1 << (c - 1), workers: workers)
        }) {
            windowSums = sums
        } else {
            windowSums = scalarWindowSums(
                bases: bases, digits: digits, windowCount: windowCount, c: c, workers: workers)
        }
        var result = JacobianPoint<C>.infinity
        for w in stride(from: windowCount - 1, through: 0, by: -1) {
            for _ in 0..<c { result = result.doubled() }
            result += windowSums[w]
        }
        return result
    }

    /// The window sums on the scalar path (`windowSum` per window, windows spread over workers).
    static func scalarWindowSums<C: CurveParameters>(
        bases: [AffinePoint<C>], digits: [Int32], windowCount: Int, c: Int, workers: Int
    ) -> [JacobianPoint<C>] {
        let n = bases.count
        var windowSums = [JacobianPoint<C>](repeating: .infinity, count: windowCount)
        windowSums.withUnsafeMutableBufferPointer { sums in
            let sumsOut = UnsafeSendable(sums)
            bases.withUnsafeBufferPointer { basePtr in
                let basesIn = UnsafeSendable(basePtr)
                digits.withUnsafeBufferPointer { digitPtr in
                    let digitsIn = UnsafeSendable(digitPtr)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let scratch = BatchAffineScratch<C>(
                            bucketCount: 1 << (c - 1), batchSize: min(512, max(16, n / 64)))
                        // Round-robin from the top: the top window is the cheapest.
                        var w = windowCount - 1 - worker
                        while w >= 0 {
                            sumsOut.value[w] = windowSum(
                                bases: basesIn.value,
                                digits: UnsafeBufferPointer(rebasing: digitsIn.value[(w * n)..<((w + 1) * n)]),
                                scratch: scratch)
                            w -= workers
                        }
                    }
                }
            }
        }
        return windowSums
    }

    /// Scalars above (r-1)/2 are used as -(r - k) with the base negated, so small negative
    /// values (fixed-point activations and weights) cost as little as small positive ones:
    /// the window count follows the largest folded scalar, not the field size.
    public static func fold(_ k: Limbs4) -> (magnitude: Limbs4, negative: Bool) {
        let r = FrParameters.modulus
        let halfR = Limbs4(
            (r.l0 >> 1) | (r.l1 << 63), (r.l1 >> 1) | (r.l2 << 63), (r.l2 >> 1) | (r.l3 << 63), r.l3 >> 1)
        let (_, below) = Fr.subtractWithBorrow(halfR, k)  // borrow: halfR < k
        guard below != 0 else { return (k, false) }
        return (Fr.subtractWithBorrow(r, k).0, true)
    }

    @usableFromInline
    static func bitLength(_ k: Limbs4) -> Int {
        if k.l3 != 0 { return 256 - k.l3.leadingZeroBitCount }
        if k.l2 != 0 { return 192 - k.l2.leadingZeroBitCount }
        if k.l1 != 0 { return 128 - k.l1.leadingZeroBitCount }
        return 64 - k.l0.leadingZeroBitCount
    }

    /// Signed c-bit digits of the folded scalars, window-major (digits[w * n + i] is scalar
    /// i's digit in window w), so each window streams through one contiguous slice; and the
    /// number of windows the largest folded scalar needs.
    @usableFromInline
    static func recode(_ scalars: [Limbs4], windowBits c: Int) -> (digits: [Int32], windowCount: Int) {
        let n = scalars.count
        let chunk = max(4096, (n + 7) / 8)
        let chunks = (n + chunk - 1) / chunk
        // Pass 1: the longest folded scalar fixes the window count.
        let longest = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { longest.deallocate() }
        let longestOut = UnsafeSendable(longest)
        scalars.withUnsafeBufferPointer { input in
            let source = UnsafeSendable(input)
            DispatchQueue.concurrentPerform(iterations: chunks) { t in
                var m = 0
                for i in (t * chunk)..<min(n, (t + 1) * chunk) {
                    m = max(m, bitLength(fold(source.value[i]).magnitude))
                }
                longestOut.value[t] = m
            }
        }
        let maxBits = longest.max() ?? 0
        let windowCount = maxBits == 0 ? 0 : (maxBits + 1 + c - 1) / c
        // Pass 2: signed digits, chunks of scalars on all cores.
        var digits = [Int32](repeating: 0, count: n * windowCount)
        let half = Int64(1) << Int64(c - 1)
        let full = Int64(1) << Int64(c)
        let mask = UInt64(full - 1)
        digits.withUnsafeMutableBufferPointer { out in
            let target = UnsafeSendable(out)
            scalars.withUnsafeBufferPointer { input in
                let source = UnsafeSendable(input)
                DispatchQueue.concurrentPerform(iterations: chunks) { t in
                    for i in (t * chunk)..<min(n, (t + 1) * chunk) {
                        let (k, negative) = fold(source.value[i])
                        var carry: Int64 = 0
                        for w in 0..<windowCount {
                            var d = Int64(k.window(bit: w * c, mask: mask)) + carry
                            if d > half {
                                d -= full
                                carry = 1
                            } else {
                                carry = 0
                            }
                            target.value[w * n + i] = Int32(negative ? -d : d)
                        }
                    }
                }
            }
        }
        return (digits, windowCount)
    }

    /// One window: drop each point into bucket |d| (negated for d < 0), then
    /// sum_j j * bucket_j with the running-sum trick (2 * 2^(c-1) additions).
    ///
    /// Buckets are kept in affine form and filled with batch-affine additions: up to
    /// `batchSize` additions into distinct buckets share one field inversion (Montgomery's
    /// trick), so each costs about 6 multiplications instead of 11 for a mixed Jacobian
    /// addition. A point whose bucket is already in the open batch goes to that bucket's
    /// Jacobian overflow accumulator instead.
    @inlinable
    static func windowSum<C: CurveParameters>(
        bases: UnsafeBufferPointer<AffinePoint<C>>, digits: UnsafeBufferPointer<Int32>,
        scratch: BatchAffineScratch<C>
    ) -> JacobianPoint<C> {
        scratch.reset()
        for i in 0..<digits.count {
            let d = digits[i]
            if d == 0 || bases[i].isInfinity { continue }
            let p = d > 0 ? bases[i] : -bases[i]
            scratch.add(p, toBucket: Int(d.magnitude) - 1)
        }
        scratch.applyBatch()
        var running = JacobianPoint<C>.infinity
        var total = JacobianPoint<C>.infinity
        for j in stride(from: scratch.bucketCount - 1, through: 0, by: -1) {
            if scratch.overflowUsed[j] { running += scratch.overflow[j] }
            if scratch.occupied[j] { running += scratch.buckets[j] }
            total += running
        }
        return total
    }

    /// The naive sum of scalar multiplications (test oracle).
    public static func naive<C: CurveParameters>(bases: [AffinePoint<C>], scalars: [Fr]) -> JacobianPoint<C> {
        var acc = JacobianPoint<C>.infinity
        for (p, k) in zip(bases, scalars) { acc += p.multiplied(by: k) }
        return acc
    }
}

/// Affine buckets plus the pending batch of additions for `MSM.windowSum`.
/// All storage is allocated once per worker and reused for every window.
@usableFromInline
final class BatchAffineScratch<C: CurveParameters> {
    @usableFromInline typealias F = C.BaseField
    @usableFromInline let bucketCount: Int
    @usableFromInline let batchSize: Int
    // Raw buffers, owned by this object: the inner loops index them without the uniqueness
    // and bounds checks that Swift arrays in a mutating struct would pay on every write.
    @usableFromInline let buckets: UnsafeMutablePointer<AffinePoint<C>>
    @usableFromInline let occupied: UnsafeMutablePointer<Bool>
    /// Buckets with an addition in the open batch.
    @usableFromInline let inBatch: UnsafeMutablePointer<Bool>
    @usableFromInline let batchBucket: UnsafeMutablePointer<Int>
    @usableFromInline let batchPoint: UnsafeMutablePointer<AffinePoint<C>>
    @usableFromInline var batchCount = 0
    @usableFromInline let denominators: UnsafeMutablePointer<F>
    @usableFromInline let prefix: UnsafeMutablePointer<F>
    /// Additions whose bucket was already in the open batch, accumulated in Jacobian form.
    @usableFromInline let overflow: UnsafeMutablePointer<JacobianPoint<C>>
    @usableFromInline let overflowUsed: UnsafeMutablePointer<Bool>

    @usableFromInline
    init(bucketCount: Int, batchSize: Int) {
        self.bucketCount = bucketCount
        self.batchSize = batchSize
        buckets = .allocate(capacity: bucketCount)
        buckets.initialize(repeating: .infinity, count: bucketCount)
        occupied = .allocate(capacity: bucketCount)
        occupied.initialize(repeating: false, count: bucketCount)
        inBatch = .allocate(capacity: bucketCount)
        inBatch.initialize(repeating: false, count: bucketCount)
        batchBucket = .allocate(capacity: batchSize)
        batchBucket.initialize(repeating: 0, count: batchSize)
        batchPoint = .allocate(capacity: batchSize)
        batchPoint.initialize(repeating: .infinity, count: batchSize)
        denominators = .allocate(capacity: batchSize)
        denominators.initialize(repeating: .zero, count: batchSize)
        prefix = .allocate(capacity: batchSize)
        prefix.initialize(repeating: .zero, count: batchSize)
        overflow = .allocate(capacity: bucketCount)
        overflow.initialize(repeating: .infinity, count: bucketCount)
        overflowUsed = .allocate(capacity: bucketCount)
        overflowUsed.initialize(repeating: false, count: bucketCount)
    }

    deinit {
        // All element types are trivial (plain limbs and flags): deallocation is enough.
        buckets.deallocate()
        occupied.deallocate()
        inBatch.deallocate()
        batchBucket.deallocate()
        batchPoint.deallocate()
        denominators.deallocate()
        prefix.deallocate()
        overflow.deallocate()
        overflowUsed.deallocate()
    }

    @inlinable
    func reset() {
        for j in 0..<bucketCount {
            occupied[j] = false
            inBatch[j] = false
            if overflowUsed[j] {
                overflow[j] = .infinity
                overflowUsed[j] = false
            }
        }
        batchCount = 0
    }

    /// Sends p to bucket b: straight in if the bucket is empty, into the open batch if the
    /// bucket is not already in it, and otherwise into the bucket's Jacobian overflow
    /// accumulator (a mixed addition). The overflow path keeps the cost linear even when few
    /// buckets are in use, as in the top window, where scalars < r use only a few digits.
    @inlinable
    func add(_ p: AffinePoint<C>, toBucket b: Int) {
        if inBatch[b] {
            overflow[b] += p
            overflowUsed[b] = true
            return
        }
        if !occupied[b] {
            buckets[b] = p
            occupied[b] = true
            return
        }
        inBatch[b] = true
        batchBucket[batchCount] = b
        batchPoint[batchCount] = p
        batchCount += 1
        if batchCount == batchSize { applyBatch() }
    }

    /// Adds batchPoint[k] into buckets[batchBucket[k]] for all k with one inversion.
    /// Equal x-coordinates (doubling, or P + (-P)) are rare and use the exact Jacobian path.
    @inlinable
    func applyBatch() {
        let count = batchCount
        if count == 0 { return }
        var acc = F.one
        for k in 0..<count {
            let q = buckets[batchBucket[k]], p = batchPoint[k]
            var d = p.x - q.x
            if d.isZero { d = .one }  // handled exactly below
            prefix[k] = acc
            denominators[k] = d
            acc = acc * d
        }
        var inv = acc.inverse() ?? .zero
        for k in stride(from: count - 1, through: 0, by: -1) {
            let b = batchBucket[k]
            let q = buckets[b], p = batchPoint[k]
            let dInv = inv * prefix[k]
            inv = inv * denominators[k]
            inBatch[b] = false
            if p.x == q.x {
                let sum = (q.jacobian + p).affine
                buckets[b] = sum
                occupied[b] = !sum.isInfinity
                continue
            }
            let lambda = (p.y - q.y) * dInv
            let x3 = lambda.squared() - p.x - q.x
            let y3 = lambda * (q.x - x3) - q.y
            buckets[b] = AffinePoint(x: x3, y: y3)
        }
        batchCount = 0
    }
}

/// Which implementation computes MSM windows: the scalar batch-affine code of `MSM.windowSum`,
/// or the AVX-512 IFMA kernel of `CAlgebraKernels` (eight field elements per instruction),
/// chosen at load time when the CPU has it. Both give identical results; the tests run each.
public enum MSMKernel: Int32, Sendable, CaseIterable {
    case scalar = 0
    case ifma = 1

    @inlinable public static var current: MSMKernel { vs_msm_current_kernel() == 1 ? .ifma : .scalar }
    public static var best: MSMKernel { vs_ifma_supported() == 1 ? .ifma : .scalar }

    /// Switches kernels (clamped to what the CPU supports); returns the one in use. For tests
    /// and side-by-side timing.
    @discardableResult
    public static func select(_ kernel: MSMKernel) -> MSMKernel {
        vs_msm_set_kernel(kernel.rawValue) == 1 ? .ifma : .scalar
    }
}

/// MSM windows on the IFMA kernel, for G1 and G2: the bases are converted once into the
/// kernel's 52-bit layout (in parallel), and each worker owns a kernel state and handles
/// windows round-robin from the top, as on the scalar path.
enum VectorMSM {
    /// Below this many points the conversion and bucket sums do not pay.
    static let minimumPoints = 512

    /// The window sums: sums[w] = sum_i digits[w * n + i] * bases[i], |digits| <= bucketCount.
    /// Nil when the kernel is not selected, the curve or size does not fit it, or its state
    /// cannot be allocated (the caller then takes the scalar path).
    static func windowSums<C: CurveParameters>(
        bases: UnsafeBufferPointer<AffinePoint<C>>, digits: [Int32], windowCount: Int, bucketCount: Int, workers: Int
    ) -> [JacobianPoint<C>]? {
        let n = bases.count
        guard MSMKernel.current == .ifma, n >= minimumPoints, bucketCount >= 64, n < 1 << 30 else { return nil }
        let g2: Bool
        if C.self == G1Parameters.self {
            g2 = false
        } else if C.self == G2Parameters.self {
            g2 = true
        } else {
            return nil
        }
        let coordinateBytes = g2 ? 64 : 32
        // The kernel reads Swift's layouts directly: check them rather than assume.
        guard MemoryLayout<AffinePoint<C>>.offset(of: \AffinePoint<C>.isInfinity) == 2 * coordinateBytes,
            MemoryLayout<JacobianPoint<C>>.size == 3 * coordinateBytes
        else { return nil }
        let words = g2 ? 20 : 10
        let stride = MemoryLayout<AffinePoint<C>>.stride
        let prepared = UnsafeMutablePointer<UInt64>.allocate(capacity: n * words)
        defer { prepared.deallocate() }
        let infinity = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        defer { infinity.deallocate() }
        let out = UnsafeSendable((prepared, infinity))
        do {
            let input = UnsafeSendable(UnsafeRawPointer(bases.baseAddress!))
            let chunk = 4096
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { t in
                let lo = t * chunk, count = min(n, lo + chunk) - lo
                let (p, inf) = out.value
                if g2 {
                    vs_ifma_g2_prepare_bases(p + lo * words, inf + lo, input.value + lo * stride, stride, count)
                } else {
                    vs_ifma_g1_prepare_bases(p + lo * words, inf + lo, input.value + lo * stride, stride, count)
                }
            }
        }
        var sums = [JacobianPoint<C>](repeating: .infinity, count: windowCount)
        var failures = [Bool](repeating: false, count: workers)
        sums.withUnsafeMutableBufferPointer { target in
            failures.withUnsafeMutableBufferPointer { failed in
                digits.withUnsafeBufferPointer { digitBuffer in
                    let shared = UnsafeSendable((target, failed, digitBuffer, prepared, infinity))
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let (sumsOut, failedOut, digitsIn, basesIn, infinityIn) = shared.value
                        guard
                            let state = g2
                                ? vs_ifma_g2_create(n, Int32(bucketCount)) : vs_ifma_g1_create(n, Int32(bucketCount))
                        else {
                            failedOut[worker] = true
                            return
                        }
                        defer { vs_ifma_msm_destroy(state) }
                        var limbs = [UInt64](repeating: 0, count: 24)
                        var w = windowCount - 1 - worker
                        while w >= 0 {
                            let row = digitsIn.baseAddress! + w * n
                            limbs.withUnsafeMutableBufferPointer { l in
                                if g2 {
                                    vs_ifma_g2_window_sum(state, basesIn, infinityIn, row, n, l.baseAddress!)
                                } else {
                                    vs_ifma_g1_window_sum(state, basesIn, infinityIn, row, n, l.baseAddress!)
                                }
                            }
                            var point = JacobianPoint<C>.infinity
                            withUnsafeMutableBytes(of: &point) { bytes in
                                limbs.withUnsafeBytes { src in
                                    bytes.copyMemory(
                                        from: UnsafeRawBufferPointer(rebasing: src[0..<(3 * coordinateBytes)]))
                                }
                            }
                            sumsOut[w] = point
                            w -= workers
                        }
                    }
                }
            }
        }
        let ok = !failures.contains(true)
        return ok ? sums : nil
    }
}
