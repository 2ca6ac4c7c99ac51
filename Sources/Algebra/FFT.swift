import Dispatch
import Foundation

/// Why an evaluation domain could not be built or a transform could not run.
public enum EvaluationDomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The requested size is not a power of two (exact-size constructors only).
    case sizeNotPowerOfTwo(Int)
    /// The size (after rounding up) exceeds 2^28, the largest power-of-two subgroup of Fr^*.
    case sizeTooLarge(requested: Int, maximum: Int)
    /// A size or log-size below the allowed range (negative, or 0 where a size is required).
    case sizeNotPositive(Int)
    /// The coset shift is zero or lies in the subgroup itself (g^n == 1), so the coset is not
    /// disjoint from the domain and the vanishing polynomial would vanish on it.
    case invalidCosetShift
    /// An input vector has the wrong length for this domain.
    case lengthMismatch(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .sizeNotPowerOfTwo(let n):
            return "evaluation domain size \(n) is not a power of two (use EvaluationDomain(minimumSize:) to round up)"
        case .sizeTooLarge(let n, let max):
            return "evaluation domain size \(n) exceeds the largest two-adic subgroup of Fr (2^28 = \(max))"
        case .sizeNotPositive(let n):
            return "evaluation domain size \(n) must be positive"
        case .invalidCosetShift:
            return "coset shift must be nonzero and outside the domain's subgroup (g^n != 1)"
        case .lengthMismatch(let e, let g):
            return "vector of length \(g) does not fit an evaluation domain of size \(e)"
        }
    }
}

/// The multiplicative subgroup H = {1, w, w^2, ..., w^(n-1)} of Fr for n = 2^k, k <= 28, with
/// radix-2 FFTs over H and over the coset gH (g = 5 by default, the multiplicative generator of
/// Fr that arkworks and snarkjs use).
///
/// Conventions: coefficient vectors are low degree first; evaluation vectors are in natural
/// order, `evaluations[i] = p(w^i)` on H and `p(g * w^i)` on the coset.
///
/// Cost: construction precomputes two twiddle tables of n/2 elements each (n multiplications,
/// 32 n bytes). `fft`, `ifft`: n/2 * log2(n) butterflies (one Fr multiplication each) plus one
/// bit-reversal permutation; the coset variants add n to 2n multiplications. Transforms of
/// size >= 2^12 run on all cores (`DispatchQueue.concurrentPerform`).
public struct EvaluationDomain: Sendable, Equatable {
    /// n = 2^logSize.
    public let size: Int
    public let logSize: Int
    /// w, a primitive n-th root of unity (w = twoAdicRootOfUnity^(2^(28 - logSize))).
    public let generator: Fr
    /// w^-1.
    public let generatorInverse: Fr
    /// n^-1 in Fr.
    public let sizeInverse: Fr
    /// g, the coset shift.
    public let cosetShift: Fr
    /// g^-1.
    public let cosetShiftInverse: Fr
    /// w^i for 0 <= i < max(1, n/2).
    public let twiddles: [Fr]
    /// w^-i for 0 <= i < max(1, n/2).
    public let inverseTwiddles: [Fr]

    /// The largest supported log-size: Fr's two-adicity (28).
    public static var maximumLogSize: Int { Fr.twoAdicity }
    /// The default coset shift: 5, the multiplicative generator of Fr.
    public static var defaultCosetShift: Fr { Fr(5) }

    /// A domain of exactly `size` points; `size` must be a power of two, 1 <= size <= 2^28.
    public init(size: Int, cosetShift: Fr = EvaluationDomain.defaultCosetShift) throws(EvaluationDomainError) {
        guard size >= 1 else { throw .sizeNotPositive(size) }
        guard size.nonzeroBitCount == 1 else { throw .sizeNotPowerOfTwo(size) }
        let log = size.trailingZeroBitCount
        guard log <= Self.maximumLogSize else {
            throw .sizeTooLarge(requested: size, maximum: 1 << Self.maximumLogSize)
        }
        try self.init(logSize: log, cosetShift: cosetShift)
    }

    /// The smallest domain with at least `minimumSize` points (size 1 for 0), for example
    /// the domain for a circuit with `minimumSize` constraints plus public inputs.
    public init(minimumSize: Int, cosetShift: Fr = EvaluationDomain.defaultCosetShift) throws(EvaluationDomainError) {
        guard minimumSize >= 0 else { throw .sizeNotPositive(minimumSize) }
        guard minimumSize <= 1 << Self.maximumLogSize else {
            throw .sizeTooLarge(requested: minimumSize, maximum: 1 << Self.maximumLogSize)
        }
        var log = 0
        while (1 << log) < minimumSize { log += 1 }
        try self.init(logSize: log, cosetShift: cosetShift)
    }

    /// A domain of 2^logSize points, 0 <= logSize <= 28. Precomputation: O(n) multiplications,
    /// parallel for large n.
    public init(logSize: Int, cosetShift: Fr = EvaluationDomain.defaultCosetShift) throws(EvaluationDomainError) {
        guard logSize >= 0 else { throw .sizeNotPositive(logSize) }
        guard logSize <= Self.maximumLogSize else {
            throw .sizeTooLarge(requested: logSize < 62 ? 1 << logSize : Int.max, maximum: 1 << Self.maximumLogSize)
        }
        let n = 1 << logSize
        guard !cosetShift.isZero, cosetShift.power(UInt64(n)) != .one else { throw .invalidCosetShift }

        var w = Fr.twoAdicRootOfUnity
        for _ in logSize..<Self.maximumLogSize { w = w.squared() }
        let wInv = w.inverse()!  // w != 0
        size = n
        self.logSize = logSize
        generator = w
        generatorInverse = wInv
        sizeInverse = Fr(UInt64(n)).inverse()!  // n < r
        self.cosetShift = cosetShift
        cosetShiftInverse = cosetShift.inverse()!
        twiddles = Self.powers(of: w, count: max(1, n / 2))
        inverseTwiddles = Self.powers(of: wInv, count: max(1, n / 2))
    }

    public static func == (a: EvaluationDomain, b: EvaluationDomain) -> Bool {
        a.size == b.size && a.cosetShift == b.cosetShift
    }

    /// [1, x, x^2, ..., x^(count-1)]: count multiplications, split over cores for large counts.
    public static func powers(of x: Fr, count: Int, startingWith first: Fr = .one) -> [Fr] {
        guard count > 0 else { return [] }
        var out = [Fr](repeating: .zero, count: count)
        out.withUnsafeMutableBufferPointer { buf in
            let p = UnsafeSendable(buf.baseAddress!)
            FFTKernels.parallelChunks(count: count, minimumChunk: 1 << 12) { lo, hi in
                var acc = first * x.power(UInt64(lo))
                for i in lo..<hi {
                    p.value[i] = acc
                    acc = acc * x
                }
            }
        }
        return out
    }

    // MARK: Elements

    /// w^i (for any i >= 0; reduced mod n). O(1) table lookup.
    public func element(_ i: Int) -> Fr {
        let j = i & (size - 1)
        if size == 1 { return .one }
        let half = size >> 1
        return j < half ? twiddles[j] : -twiddles[j - half]  // w^(n/2) = -1
    }

    /// All points of H in natural order, [1, w, ..., w^(n-1)]. O(n).
    public func elements() -> [Fr] {
        Self.powers(of: generator, count: size)
    }

    /// All points of the coset gH in natural order, [g, g w, ..., g w^(n-1)]. O(n).
    public func cosetElements() -> [Fr] {
        Self.powers(of: generator, count: size, startingWith: cosetShift)
    }

    // MARK: Transforms

    /// Coefficients -> evaluations on H, in place: afterwards `values[i] = p(w^i)`. A shorter
    /// input is zero-padded to n (a polynomial of lower degree); a longer one is an error.
    /// O(n log n).
    public func fft(_ values: inout [Fr]) throws(EvaluationDomainError) {
        try pad(&values)
        transform(&values, inverse: false, scale: nil)
    }

    /// Evaluations on H -> coefficients, in place; `values.count` must be n. O(n log n).
    public func ifft(_ values: inout [Fr]) throws(EvaluationDomainError) {
        try requireSize(values)
        transform(&values, inverse: true, scale: sizeInverse)
    }

    /// Coefficients -> evaluations on the coset gH: afterwards `values[i] = p(g * w^i)`.
    /// Zero-pads like `fft`. O(n log n) plus n multiplications by powers of g.
    public func cosetFFT(_ values: inout [Fr]) throws(EvaluationDomainError) {
        try pad(&values)
        Self.scaleByPowers(&values, first: .one, ratio: cosetShift)
        transform(&values, inverse: false, scale: nil)
    }

    /// Evaluations on the coset gH -> coefficients; `values.count` must be n.
    /// O(n log n) plus n multiplications by n^-1 g^-i (the 1/n scaling is fused in).
    public func cosetIFFT(_ values: inout [Fr]) throws(EvaluationDomainError) {
        try requireSize(values)
        transform(&values, inverse: true, scale: nil)
        Self.scaleByPowers(&values, first: sizeInverse, ratio: cosetShiftInverse)
    }

    /// Non-mutating conveniences.
    public func fft(_ values: [Fr]) throws(EvaluationDomainError) -> [Fr] {
        var v = values
        try fft(&v)
        return v
    }
    public func ifft(_ values: [Fr]) throws(EvaluationDomainError) -> [Fr] {
        var v = values
        try ifft(&v)
        return v
    }
    public func cosetFFT(_ values: [Fr]) throws(EvaluationDomainError) -> [Fr] {
        var v = values
        try cosetFFT(&v)
        return v
    }
    public func cosetIFFT(_ values: [Fr]) throws(EvaluationDomainError) -> [Fr] {
        var v = values
        try cosetIFFT(&v)
        return v
    }

    // MARK: Vanishing polynomial, Lagrange basis

    /// Z(x) = x^n - 1 at `x`. O(log n).
    public func evaluateVanishingPolynomial(at x: Fr) -> Fr {
        var y = x
        for _ in 0..<logSize { y = y.squared() }
        return y - .one
    }

    /// Z on the coset: (g w^i)^n - 1 = g^n - 1 for every i, so it is one constant (nonzero by
    /// construction). O(log n).
    public var vanishingPolynomialOnCoset: Fr { evaluateVanishingPolynomial(at: cosetShift) }

    /// Divides evaluations on the coset gH by Z, in place (one multiplication per element by
    /// the constant (g^n - 1)^-1). `values.count` must be n.
    public func divideByVanishingPolynomialOnCoset(_ values: inout [Fr]) throws(EvaluationDomainError) {
        try requireSize(values)
        let zInv = vanishingPolynomialOnCoset.inverse()!  // nonzero: g^n != 1 checked at init
        Self.scale(&values, by: zInv)
    }

    /// L_0(tau), ..., L_{n-1}(tau), the Lagrange basis of H at `tau`, where
    /// L_i(x) = Z(x) / (n w^-i (x - w^i)) = Z(tau) w^i / (n (tau - w^i)).
    /// O(n) (one batch inversion); if tau is in H the result is a unit vector.
    public func evaluateLagrangeBasis(at tau: Fr) -> [Fr] {
        let n = size
        let zTau = evaluateVanishingPolynomial(at: tau)
        if zTau.isZero {
            var out = [Fr](repeating: .zero, count: n)
            var w = Fr.one
            for i in 0..<n {
                if w == tau {
                    out[i] = .one
                    break
                }
                w = w * generator
            }
            return out
        }
        // denominators tau - w^i, inverted together
        var out = Self.powers(of: generator, count: n)
        for i in 0..<n { out[i] = tau - out[i] }
        Fr.batchInvert(&out)
        // L_i = (Z(tau)/n) * w^i * inv_i
        var acc = zTau * sizeInverse
        for i in 0..<n {
            out[i] = out[i] * acc
            acc = acc * generator
        }
        return out
    }

    // MARK: Groth16

    /// The coefficients of h = (A B - C) / Z for the Groth16 prover, given the evaluations of
    /// A(x) = sum a_i A_i(x), B and C on H (each of length <= n; shorter ones are zero-padded
    /// evaluations, which is how unused constraint rows read). Steps, arkworks' order: ifft
    /// each, coset fft each, pointwise A B - C, divide by Z (a constant on the coset), coset
    /// ifft. The result has n entries; h has degree <= n - 2 when A B - C vanishes on H, so the
    /// last entry is then zero. Six transforms of size n: O(n log n).
    public func quotientPolynomial(a: [Fr], b: [Fr], c: [Fr]) throws(EvaluationDomainError) -> [Fr] {
        var a = a, b = b, c = c
        for v in [a.count, b.count, c.count] where v > size {
            throw .lengthMismatch(expected: size, got: v)
        }
        try pad(&a)
        try pad(&b)
        try pad(&c)
        // each transform is itself parallel over the cores; run them one after the other
        try ifft(&a)
        try cosetFFT(&a)
        try ifft(&b)
        try cosetFFT(&b)
        try ifft(&c)
        try cosetFFT(&c)
        let zInv = vanishingPolynomialOnCoset.inverse()!
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeBufferPointer { pc in
                    let A = UnsafeSendable(pa.baseAddress!)
                    let B = UnsafeSendable(UnsafeMutablePointer(mutating: pb.baseAddress!))
                    let C = UnsafeSendable(UnsafeMutablePointer(mutating: pc.baseAddress!))
                    FFTKernels.parallelChunks(count: size, minimumChunk: 1 << 12) { lo, hi in
                        for i in lo..<hi {
                            A.value[i] = (A.value[i] * B.value[i] - C.value[i]) * zInv
                        }
                    }
                }
            }
        }
        try cosetIFFT(&a)
        return a
    }

    // MARK: Internals

    private func pad(_ values: inout [Fr]) throws(EvaluationDomainError) {
        guard values.count <= size else { throw .lengthMismatch(expected: size, got: values.count) }
        if values.count < size {
            values.append(contentsOf: repeatElement(Fr.zero, count: size - values.count))
        }
    }

    private func requireSize(_ values: [Fr]) throws(EvaluationDomainError) {
        guard values.count == size else { throw .lengthMismatch(expected: size, got: values.count) }
    }

    /// Bit reversal, then decimation-in-time butterflies with the forward or inverse table;
    /// `scale` (if any) multiplies every element, fused into the cache-resident first stages.
    private func transform(_ values: inout [Fr], inverse: Bool, scale: Fr?) {
        let n = size, log = logSize
        let table = inverse ? inverseTwiddles : twiddles
        values.withUnsafeMutableBufferPointer { buf in
            table.withUnsafeBufferPointer { tw in
                FFTKernels.bitReverse(buf.baseAddress!, logSize: log)
                FFTKernels.dit(buf.baseAddress!, logSize: log, twiddles: tw.baseAddress!, n: n, scale: scale)
            }
        }
    }

    /// values[i] *= first * ratio^i. n multiplications plus one per element for the running
    /// power (chunks start from ratio^lo, computed by square-and-multiply).
    static func scaleByPowers(_ values: inout [Fr], first: Fr, ratio: Fr) {
        let n = values.count
        values.withUnsafeMutableBufferPointer { buf in
            let p = UnsafeSendable(buf.baseAddress!)
            FFTKernels.parallelChunks(count: n, minimumChunk: 1 << 12) { lo, hi in
                var f = first * ratio.power(UInt64(lo))
                for i in lo..<hi {
                    p.value[i] = FrButterflyArithmetic.mul(p.value[i], f)
                    f = FrButterflyArithmetic.mul(f, ratio)
                }
            }
        }
    }

    /// values[i] *= c.
    static func scale(_ values: inout [Fr], by c: Fr) {
        let n = values.count
        values.withUnsafeMutableBufferPointer { buf in
            let p = UnsafeSendable(buf.baseAddress!)
            FFTKernels.parallelChunks(count: n, minimumChunk: 1 << 12) { lo, hi in
                for i in lo..<hi { p.value[i] = FrButterflyArithmetic.mul(p.value[i], c) }
            }
        }
    }
}

/// The radix-2 kernels behind `EvaluationDomain`. Internal: all entry points take raw pointers.
enum FFTKernels {
    /// Worker count: the machine's active cores.
    static let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Transforms smaller than this run on one thread (dispatch overhead would dominate).
    static let parallelThreshold = 1 << 12
    /// Elements per cache block for the first stages (2^13 x 32 bytes = 256 KiB, well inside
    /// a core's L2).
    static let logBlock = 13
    /// Stages per pass after the block phase, and adjacent columns per tile.
    static let logTileRows = 10
    static let tileColumns = 8

    /// Runs body(lo, hi) over [0, count) split into up to 4 chunks per core, each at least
    /// `minimumChunk` long (single-threaded below 2 * minimumChunk), with `Parallel.forEachChunk`.
    /// A few chunks per core let Dispatch rebalance when another process holds a core.
    @inline(__always)
    static func parallelChunks(count: Int, minimumChunk: Int, _ body: @Sendable (Int, Int) -> Void) {
        let chunks = threads == 1 ? 1 : min(4 * threads, max(1, count / minimumChunk))
        Parallel.forEachChunk(count, chunks: chunks) { _, range in body(range.lowerBound, range.upperBound) }
    }

    /// The low `bits` bits of x in reverse order (bits >= 1).
    @inline(__always)
    static func reverse(_ x: Int, bits: Int) -> Int {
        var v = UInt64(truncatingIfNeeded: x)
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        v = ((v >> 8) & 0x00FF_00FF_00FF_00FF) | ((v & 0x00FF_00FF_00FF_00FF) << 8)
        v = ((v >> 16) & 0x0000_FFFF_0000_FFFF) | ((v & 0x0000_FFFF_0000_FFFF) << 16)
        v = (v >> 32) | (v << 32)
        return Int(truncatingIfNeeded: v &>> UInt64(64 - bits))
    }

    /// In-place bit-reversal permutation of 2^logSize elements, O(n).
    ///
    /// Large sizes use a cache-blocked order: write i = (hi, mid, lo) with `hi` and `lo` of
    /// 4 bits each; then rev(i) = (rev lo, rev mid, rev hi), so for one `mid` the 256 elements
    /// (hi, mid, *) and their 256 partners (*, rev mid, *) lie in 16 runs of 16 contiguous
    /// elements each (two 8 KiB tiles), and every cache line fetched is used whole. Each pair
    /// is swapped once, by the worker owning min(mid, rev mid); workers never share a slot.
    static func bitReverse(_ p: UnsafeMutablePointer<Fr>, logSize: Int) {
        guard logSize >= 2 else { return }  // sizes 1 and 2 are their own bit reversal
        let n = 1 << logSize
        let sp = UnsafeSendable(p)
        if logSize < 12 {
            for i in 0..<n {
                let r = reverse(i, bits: logSize)
                if i < r { swap(&p[i], &p[r]) }
            }
            return
        }
        let b = 4
        let edge = 1 << b
        let midBits = logSize - 2 * b
        let highShift = logSize - b
        parallelChunks(count: 1 << midBits, minimumChunk: 16) { lo, hi in
            let a = sp.value
            for mid in lo..<hi {
                let rmid = reverse(mid, bits: midBits)
                if rmid < mid { continue }
                let iBase = mid << b, rBase = rmid << b
                for h in 0..<edge {
                    let rh = reverse(h, bits: b)
                    let iRow = a + ((h << highShift) | iBase)
                    for l in 0..<edge {
                        let r = (reverse(l, bits: b) << highShift) | rBase | rh
                        let i = (h << highShift) | iBase | l
                        if rmid == mid && r <= i { continue }
                        swap(&iRow[l], &a[r])
                    }
                }
            }
        }
    }

    /// Decimation-in-time butterflies on bit-reversed input, giving natural-order output.
    /// The stage with half-width h uses twiddles w_n^(j n / 2h) = twiddles[j * (n / 2h)].
    ///
    /// Memory layout of the work, so that large transforms make few passes over memory:
    /// 1. the first log2(block) stages run block by block (a block of 2^13 elements = 256 KiB
    ///    stays in L2), blocks spread over cores;
    /// 2. the remaining stages run in passes of up to `logTileRows` stages; within a pass the
    ///    data splits into independent column sub-FFTs (2^k rows at stride h), processed as
    ///    tiles of `tileColumns` adjacent columns (at most 2^10 x 8 elements = 256 KiB),
    ///    tiles spread over cores. For n <= 2^23 that is one pass.
    /// Work: n/2 log2(n) butterflies, minus the twiddle-free ones (j = 0 of every group).
    static func dit(
        _ p: UnsafeMutablePointer<Fr>, logSize: Int, twiddles: UnsafePointer<Fr>,
        n: Int, scale: Fr?, logBlock: Int = FFTKernels.logBlock,
        logTileRows: Int = FFTKernels.logTileRows, tileColumns: Int = FFTKernels.tileColumns
    ) {
        if logSize == 0 {
            if let s = scale { p[0] = p[0] * s }
            return
        }
        let parallel = n >= parallelThreshold && threads > 1
        var lb = min(logSize, logBlock)
        if parallel {
            // at least one block per core
            while lb > 1 && (n >> lb) < threads { lb -= 1 }
        }
        let logB = lb
        let block = 1 << logB
        let sp = UnsafeSendable(p)
        let tw = UnsafeSendable(UnsafeMutablePointer(mutating: twiddles))
        let blocks = n >> logB
        let blockWork: @Sendable (Int, Int) -> Void = { lo, hi in
            for b in lo..<hi {
                ditBlock(sp.value + b * block, logBlock: logB, n: n, twiddles: tw.value, scale: scale)
            }
        }
        if parallel { parallelChunks(count: blocks, minimumChunk: 1, blockWork) } else { blockWork(0, blocks) }

        var logHalf = logB  // first remaining stage has half-width 2^logB
        while logHalf < logSize {
            let k = min(logTileRows, logSize - logHalf)
            let logM = logHalf
            let m = 1 << logM
            let columns = min(tileColumns, m)
            let tilesPerGroup = m / columns
            let superGroups = n >> (logM + k)
            let tiles = superGroups * tilesPerGroup
            let work: @Sendable (Int, Int) -> Void = { lo, hi in
                for tile in lo..<hi {
                    let g = tile / tilesPerGroup
                    let j0 = (tile - g * tilesPerGroup) * columns
                    columnPass(
                        sp.value + (g << (logM + k)), logM: logM, k: k, j0: j0,
                        columns: columns, n: n, twiddles: tw.value)
                }
            }
            if parallel { parallelChunks(count: tiles, minimumChunk: 1, work) } else { work(0, tiles) }
            logHalf += k
        }
    }

    /// Stages with half-widths m, 2m, ..., 2^(k-1) m of one super-group (2^k m elements at
    /// `base`), restricted to columns j0 ..< j0 + columns (column j = elements base + j + t m).
    @inline(__always)
    static func columnPass(
        _ base: UnsafeMutablePointer<Fr>, logM: Int, k: Int, j0: Int, columns: Int,
        n: Int, twiddles w: UnsafeMutablePointer<Fr>
    ) {
        let m = 1 << logM
        let rows = 1 << k
        var s = 0
        while s < k {
            let hRows = 1 << s  // half-width of this stage, in rows
            let stride = n >> (logM + s + 1)  // n / (2 * half), half = m 2^s
            var r = 0
            while r < rows {
                for q in 0..<hRows {
                    let x = base + (r + q) * m
                    let y = x + hRows * m
                    var ti = (q * m + j0) * stride
                    for j in j0..<(j0 + columns) {
                        FrButterflyArithmetic.butterfly(x + j, y + j, w[ti].montgomery)
                        ti &+= stride
                    }
                }
                r += 2 * hRows
            }
            s += 1
        }
    }

    /// All stages with 2h <= 2^logBlock on one contiguous block (bit-reversed input).
    @inline(__always)
    static func ditBlock(
        _ a: UnsafeMutablePointer<Fr>, logBlock: Int, n: Int,
        twiddles w: UnsafeMutablePointer<Fr>, scale: Fr?
    ) {
        let block = 1 << logBlock
        if let s = scale {
            for i in 0..<block { a[i] = FrButterflyArithmetic.mul(a[i], s) }
        }
        // h = 1: twiddle 1
        var i = 0
        while i < block {
            FrButterflyArithmetic.butterflyNoTwiddle(a + i, a + i + 1)
            i += 2
        }
        var half = 2
        while half < block {
            let stride = n / (2 * half)
            var k = 0
            while k < block {
                let base = a + k
                FrButterflyArithmetic.butterflyNoTwiddle(base, base + half)  // j = 0: twiddle 1
                var ti = stride
                for j in 1..<half {
                    FrButterflyArithmetic.butterfly(base + j, base + j + half, w[ti].montgomery)
                    ti &+= stride
                }
                k += 2 * half
            }
            half <<= 1
        }
    }
}

/// Timing harness for `verisplit bench algebra` (keys `fft_2e16_ms`, `fft_2e20_ms`).
public enum FFTBenchmark {
    /// Median wall time in milliseconds of one forward `fft` of size 2^logSize on all cores
    /// (domain precomputation and input generation are not timed). Inputs are pseudo-random
    /// field elements from a cheap deterministic sequence (not the CSPRNG: speed only).
    public static func time(logSize: Int, iterations: Int = 5) -> Double {
        precondition(logSize >= 0 && logSize <= EvaluationDomain.maximumLogSize)
        let domain = try! EvaluationDomain(logSize: logSize)
        let input = benchmarkInput(count: domain.size)
        var samples: [Double] = []
        var work = input
        try! domain.fft(&work)  // warm-up
        for _ in 0..<max(1, iterations) {
            work = input
            let start = DispatchTime.now().uptimeNanoseconds
            try! domain.fft(&work)
            let end = DispatchTime.now().uptimeNanoseconds
            samples.append(Double(end - start) / 1e6)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// Median wall time in milliseconds of any transform (e.g. `{ try $0.cosetIFFT(&$1) }`),
    /// measured like `time(logSize:iterations:)`.
    public static func time(
        logSize: Int, iterations: Int = 5,
        _ transform: (EvaluationDomain, inout [Fr]) throws -> Void
    ) rethrows -> Double {
        let domain = try! EvaluationDomain(logSize: logSize)
        let input = benchmarkInput(count: domain.size)
        var samples: [Double] = []
        var work = input
        try transform(domain, &work)
        for _ in 0..<max(1, iterations) {
            work = input
            let start = DispatchTime.now().uptimeNanoseconds
            try transform(domain, &work)
            let end = DispatchTime.now().uptimeNanoseconds
            samples.append(Double(end - start) / 1e6)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    static func benchmarkInput(count: Int) -> [Fr] {
        var x = Fr(0x1234_5678_9abc_def1)
        let c = Fr(0x0f1e_2d3c_4b5a_6978)
        var out = [Fr](repeating: .zero, count: count)
        for i in 0..<count {
            out[i] = x
            x = x * c + Fr(UInt64(i))
        }
        return out
    }
}

/// The radix-2 butterflies, on the library's branch-free Montgomery arithmetic.
enum FrButterflyArithmetic {
    /// (u + v w, u - v w) in place.
    @inline(__always)
    static func butterfly(_ x: UnsafeMutablePointer<Fr>, _ y: UnsafeMutablePointer<Fr>, _ w: Limbs4) {
        let u = x.pointee
        let v = y.pointee * Fr(montgomery: w)
        x.pointee = u + v
        y.pointee = u - v
    }

    @inline(__always)
    static func butterflyNoTwiddle(_ x: UnsafeMutablePointer<Fr>, _ y: UnsafeMutablePointer<Fr>) {
        let u = x.pointee
        let v = y.pointee
        x.pointee = u + v
        y.pointee = u - v
    }

    @inline(__always)
    static func mul(_ a: Fr, _ b: Fr) -> Fr { a * b }
}
