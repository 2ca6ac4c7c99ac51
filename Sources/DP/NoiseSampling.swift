import CNeuralKernels
import COpenSSL
import Dispatch
import Foundation
import NeuralNet

/// Where the randomness of a DP mechanism comes from: its noise and its batch sampling.
///
/// A DP guarantee assumes every random choice it relies on is unpredictable to the adversary:
/// the Gaussian noise, and for DP-SGD also which examples each Poisson batch drew (anyone who
/// knows the batches knows which steps an example was in, and amplification by subsampling no
/// longer applies). Releases therefore use `.system` (the operating system's CSPRNG) for both.
/// `.seeded` makes an experiment reproducible bit for bit (tests, benchmarks, audits that re-run
/// a training); anyone who knows the seed can replay that randomness, so a record whose noise or
/// sampling was seeded is never `proven` (see `DPSGDOptions.seededRandomness`).
///
/// Noise is turned into normals with the polar Box-Muller method in double precision;
/// floating-point samplers leak a little through the low bits of their output (Mironov 2012 for
/// the Laplace case), the same limitation as Opacus and TensorFlow Privacy outside their secure
/// modes.
public enum RandomSource: Sendable, Hashable, CustomStringConvertible {
    /// The system CSPRNG: OpenSSL's `RAND_bytes` (a DRBG seeded and reseeded from the operating
    /// system's entropy; AES-256-CTR, several GB/s, so noise for a 100k-parameter gradient costs a
    /// fraction of a millisecond).
    case system
    /// xoshiro256** (NeuralNet's `SeededGenerator`) from this seed: reproducible, not secret.
    case seeded(UInt64)

    public var description: String {
        switch self {
        case .system: return "system CSPRNG"
        case .seeded(let seed): return "seeded (\(seed)), reproducible, not secret"
        }
    }

    /// True for `.seeded`.
    public var isSeeded: Bool {
        if case .seeded = self { return true }
        return false
    }
}

/// The source of a mechanism's Gaussian noise: the same type as `RandomSource`, named for that use.
public typealias NoiseSource = RandomSource

/// Uniform 64-bit words from a `RandomSource`: the system CSPRNG or a seeded xoshiro256**. DP
/// code draws batch membership and noise through this type, so the source is chosen in one place.
public struct DPRandomGenerator: RandomNumberGenerator, Sendable {
    public let source: RandomSource
    private var seeded: SeededGenerator
    private var pool = SystemEntropyPool()

    public init(_ source: RandomSource) {
        self.source = source
        switch source {
        case .system: seeded = SeededGenerator(seed: 0)
        case .seeded(let seed): seeded = SeededGenerator(seed: seed)
        }
    }

    /// The next 64 uniform bits. O(1) amortized (the system pool draws 32 KiB at a time).
    public mutating func next() -> UInt64 {
        switch source {
        case .system: return pool.next()
        case .seeded: return seeded.next()
        }
    }

    /// Uniform Double in [0, 1) from the top 53 bits (the same mapping as
    /// `SeededGenerator.nextUniformDouble`, so seeded runs draw the same values as before).
    public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in `0..<bound` (Lemire's nearly-divisionless method, unbiased), or 0 when
    /// `bound <= 1`.
    public mutating func nextInt(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let t = (0 &- b) % b
            while m.low < t { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Fisher-Yates shuffle of `array`. O(n).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}

/// Uniform 64-bit words from OpenSSL's CSPRNG (`RAND_bytes`), drawn 32 KiB at a time because one
/// call per word would dominate the cost of noising a 100k-parameter gradient.
///
/// The buffer is a class held with copy-on-write discipline, except that a copy does not copy the
/// buffered words: whichever copy draws next while the buffer is shared starts a fresh, empty one.
/// So copies of a generator (or of a sampler holding one) never emit the same secret words twice.
struct SystemEntropyPool: Sendable {
    final class Buffer: @unchecked Sendable {
        var words = [UInt64](repeating: 0, count: 4096)
        var index = 4096
    }

    private var buffer = Buffer()

    mutating func next() -> UInt64 {
        if !isKnownUniquelyReferenced(&buffer) { buffer = Buffer() }
        if buffer.index == buffer.words.count {
            buffer.words.withUnsafeMutableBytes { SystemEntropyPool.fill($0) }
            buffer.index = 0
        }
        defer { buffer.index += 1 }
        return buffer.words[buffer.index]
    }

    /// Fills `raw` from `RAND_bytes`. Traps only if OpenSSL cannot produce random bytes at all
    /// (an unseeded CSPRNG), where no DP noise may be released.
    static func fill(_ raw: UnsafeMutableRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        var offset = 0
        while offset < raw.count {
            let n = min(raw.count - offset, 1 << 20)
            let ok = RAND_bytes(base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), Int32(n))
            precondition(ok == 1, "OpenSSL RAND_bytes failed: the CSPRNG is not seeded, no DP noise can be drawn")
            offset += n
        }
    }
}

/// The 128-layer ziggurat for the standard normal (Marsaglia & Tsang 2000, "The Ziggurat Method
/// for Generating Random Variables"), in Doornik's (2005) form that takes the layer index and the
/// uniform from independent bits. A draw starts from 32 random bits: layer i from bits 0-6, a
/// uniform u in [-1, 1) on a grid of 2^-24 from bits 7-31 (the resolution of the Float32 noise it
/// becomes). About 99 % of draws take the fast path (a multiply and a compare); the rest test the
/// wedge with two exponentials, or sample the tail beyond r = 3.4426 exactly (Marsaglia 1964), on
/// further 53-bit uniforms. Two draws per 64-bit word, so noise needs 4 random bytes per element.
/// Public for the tests that check the C fast path against these tables.
public enum Ziggurat {
    static let layers = 128
    static let r = 3.442619855899
    static let v = 9.91256303526217e-3

    /// x[0] = v / f(r), x[1] = r, x[i] = sqrt(-2 ln(v / x[i-1] + f(x[i-1]))), x[128] = 0, with
    /// f(x) = exp(-x^2 / 2); ratio[i] = x[i+1] / x[i].
    public static let tables: (x: [Double], ratio: [Double]) = {
        var x = [Double](repeating: 0, count: layers + 1)
        var f = exp(-0.5 * r * r)
        x[0] = v / f
        x[1] = r
        for i in 2..<layers {
            x[i] = (-2 * log(v / x[i - 1] + f)).squareRoot()
            f = exp(-0.5 * x[i] * x[i])
        }
        x[layers] = 0
        return (x, (0..<layers).map { x[$0 + 1] / x[$0] })
    }()

    /// The fast path's tables (`vs_ziggurat_fast`): threshold[i] = ceil(ratio[i] 2^24), so that
    /// |m| < threshold[i] on the integer m = u 2^24 is exactly |u| < ratio[i]; and
    /// scaledX[i] = Float(x[i]) 2^-24, so that an accepted draw's value is Float(m) * scaledX[i].
    public static let fastTables: (threshold: [Int32], scaledX: [Float]) = (
        tables.ratio.map { Int32(($0 * 0x1p24).rounded(.up)) },
        (0..<layers).map { Float(tables.x[$0]) * 0x1p-24 }
    )

    /// f(x[i]) for the wedge test.
    static let densities: [Double] = tables.x.map { exp(-0.5 * $0 * $0) }

    /// Layer and uniform of one 32-bit draw.
    @inline(__always)
    static func split(_ bits: UInt32) -> (i: Int, u: Double) {
        (Int(bits & 0x7F), Double(Int32(bitPattern: bits) >> 7) * 0x1p-24)
    }

    /// One N(0, 1) draw from `words` (the low 32 bits of a word start it). `x` and `ratio` are
    /// the tables' buffers.
    static func sample<W: WordSource>(
        _ words: inout W, x: UnsafePointer<Double>, ratio: UnsafePointer<Double>
    ) -> Double {
        let (i, u) = split(UInt32(truncatingIfNeeded: words.next()))
        if abs(u) < ratio[i] { return u * x[i] }
        return finish(i: i, u: u, &words, x: x, ratio: ratio)
    }

    /// The rest of a draw whose first 32 bits (layer `i`, uniform `u`) missed the fast path: the
    /// tail for i = 0, else the wedge test, and on rejection a fresh draw.
    @inline(never)
    static func finish<W: WordSource>(
        i: Int, u: Double, _ words: inout W, x: UnsafePointer<Double>,
        ratio: UnsafePointer<Double>
    ) -> Double {
        if i == 0 { return tail(&words, negative: u < 0) }
        // A uniform height between f(x[i]) and f(x[i+1]) under the density at z: accept.
        let z = u * x[i]
        let (lo, hi) = (densities[i], densities[i + 1])
        if lo + open01(words.next()) * (hi - lo) < exp(-0.5 * z * z) { return z }
        return sample(&words, x: x, ratio: ratio)
    }

    /// The tail beyond r: Marsaglia's (1964) exact method.
    static func tail<W: WordSource>(_ words: inout W, negative: Bool) -> Double {
        while true {
            let a = log(open01(words.next())) / r
            let b = log(open01(words.next()))
            if -2 * b >= a * a { return negative ? a - r : r - a }
        }
    }

    /// A uniform in (0, 1) from 53 bits (never 0, so its logarithm is finite).
    @inline(__always)
    static func open01(_ w: UInt64) -> Double { (Double(w >> 11) + 0.5) * 0x1p-53 }
}

/// Standard normal samples from a `RandomSource` by the ziggurat method (`Ziggurat`). A value
/// type: copying a seeded sampler copies its stream position; copies of a system sampler never
/// share words (see `SystemEntropyPool`).
///
/// `addNoise` noises a tensor in blocks of 16,384 elements, on several threads for large tensors.
/// Each block draws from its own stream: for `.system`, fresh CSPRNG words; for `.seeded`, a
/// xoshiro256** seeded from (seed, call number, block number), so a seeded run gives the same
/// noise whatever the thread count.
public struct GaussianSampler: Sendable {
    private var generator: DPRandomGenerator
    /// `addNoise` calls so far (part of the seeded block streams' seeds).
    private var calls: UInt64 = 0
    public var source: RandomSource { generator.source }

    public init(_ source: RandomSource) {
        generator = DPRandomGenerator(source)
    }

    /// Elements per noise block (and per parallel work item).
    static let block = 16_384

    /// One N(0, 1) sample. O(1) expected.
    public mutating func next() -> Double {
        let t = Ziggurat.tables
        return t.x.withUnsafeBufferPointer { x in
            t.ratio.withUnsafeBufferPointer { ratio in
                Ziggurat.sample(&generator, x: x.baseAddress!, ratio: ratio.baseAddress!)
            }
        }
    }

    /// Adds i.i.d. N(0, std^2) to every element of `tensor`, then multiplies it by `scale`:
    /// `t[i] = (t[i] + std z_i) * scale`. O(count), split over `threads` (default: NeuralNet's).
    public mutating func addNoise(
        standardDeviation std: Double, to tensor: inout Tensor, scale: Float = 1,
        threads: Int = GEMM.defaultThreads
    ) {
        let count = tensor.count
        guard count > 0 else { return }
        calls &+= 1
        let blocks = (count + GaussianSampler.block - 1) / GaussianSampler.block
        let source = self.source
        let call = calls
        tensor.withUnsafeMutableBufferPointer { p in
            let base = UnsafeSendable(p.baseAddress!)
            let work: @Sendable (Int) -> Void = { b in
                let lo = b * GaussianSampler.block
                let hi = min(count, lo + GaussianSampler.block)
                var words: BlockWords
                switch source {
                case .system: words = BlockWords(seed: nil)
                case .seeded(let seed): words = BlockWords(seed: GaussianSampler.mix(seed, call, UInt64(b)))
                }
                defer { words.release() }
                GaussianSampler.fill(base.value + lo, count: hi - lo, std: std, scale: scale, words: &words)
            }
            let t = max(1, min(threads, blocks))
            if t == 1 {
                for b in 0..<blocks { work(b) }
            } else {
                DispatchQueue.concurrentPerform(iterations: t) { w in
                    for b in stride(from: w, to: blocks, by: t) { work(b) }
                }
            }
        }
    }

    /// The noising loop of one block, fused with the add and the scale. Half a word per element
    /// is drawn up front in bulk and the ziggurat's fast path (about 99 % of elements) runs on it
    /// in C (`vs_ziggurat_fast`: AVX-512 permutes over the tables in registers, AVX2 gathers, or
    /// the portable loop; Float32 arithmetic, the acceptance test exact on integers); an element
    /// whose bits miss the fast path continues the ziggurat from those same bits (wedge or tail)
    /// with further words from `words`.
    static func fill(_ p: UnsafeMutablePointer<Float>, count: Int, std: Double, scale: Float, words: inout BlockWords) {
        let first = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
        let misses = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
        defer {
            first.initialize(repeating: 0, count: count)
            first.deallocate()
            misses.deallocate()
        }
        words.fill(UnsafeMutableRawBufferPointer(start: first, count: 4 * count))
        let t = Ziggurat.tables
        let fast = Ziggurat.fastTables
        let missed = fast.threshold.withUnsafeBufferPointer { tb in
            fast.scaledX.withUnsafeBufferPointer { xb in
                vs_ziggurat_fast(p, first, count, tb.baseAddress!, xb.baseAddress!, Float(std), scale, misses)
            }
        }
        t.x.withUnsafeBufferPointer { xb in
            t.ratio.withUnsafeBufferPointer { rb in
                let (x, ratio) = (xb.baseAddress!, rb.baseAddress!)
                for j in 0..<missed {
                    let k = Int(misses[j])
                    let (i, u) = Ziggurat.split(first[k])
                    let z = Ziggurat.finish(i: i, u: u, &words, x: x, ratio: ratio)
                    p[k] = (p[k] + Float(std * z)) * scale
                }
            }
        }
    }

    /// SplitMix64-style mixing of a seed with a call and block number.
    static func mix(_ seed: UInt64, _ call: UInt64, _ block: UInt64) -> UInt64 {
        var z = seed &+ call &* 0x9E37_79B9_7F4A_7C15 &+ block &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where the ziggurat takes its 64-bit words.
protocol WordSource {
    mutating func next() -> UInt64
}

extension DPRandomGenerator: WordSource {}

/// Words for one noise block: `fill` draws the block's first bits in bulk (one `RAND_bytes` call
/// for the system source, xoshiro256** for a seed), and `next` serves the few extra words the
/// ziggurat's slow path needs from a private buffer, so the per-word cost is an index increment. `release()` frees the buffer; a value used after that is a programmer error.
struct BlockWords: WordSource {
    static let capacity = 512
    private let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: BlockWords.capacity)
    private var index = BlockWords.capacity
    private var seeded: SeededGenerator?

    /// nil: the system CSPRNG; otherwise a xoshiro256** from `seed`.
    init(seed: UInt64?) {
        seeded = seed.map { SeededGenerator(seed: $0) }
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        if index == BlockWords.capacity { refill() }
        defer { index += 1 }
        return buffer[index]
    }

    /// Fresh random bytes into `raw` (the system source in one `RAND_bytes` call; a seed's
    /// xoshiro256** words in little-endian order).
    mutating func fill(_ raw: UnsafeMutableRawBufferPointer) {
        guard var g = seeded else {
            SystemEntropyPool.fill(raw)
            return
        }
        var offset = 0
        while offset + 8 <= raw.count {
            raw.storeBytes(of: g.next().littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        if offset < raw.count {
            let word = g.next().littleEndian
            withUnsafeBytes(of: word) { w in
                raw.baseAddress!.advanced(by: offset).copyMemory(from: w.baseAddress!, byteCount: raw.count - offset)
            }
        }
        seeded = g
    }

    private mutating func refill() {
        if seeded != nil {
            for i in 0..<BlockWords.capacity { buffer[i] = seeded!.next() }
        } else {
            SystemEntropyPool.fill(UnsafeMutableRawBufferPointer(start: buffer, count: BlockWords.capacity * 8))
        }
        index = 0
    }

    func release() {
        buffer.initialize(repeating: 0, count: BlockWords.capacity)
        buffer.deallocate()
    }
}

/// Poisson subsampling, the sampling the RDP and PLD accountants assume (Abadi et al. 2016,
/// "Deep Learning with Differential Privacy", Sec. 3.1; Mironov, Talwar & Zhang 2019): every
/// example joins the batch independently with probability q, so the batch size is random with
/// mean q n and can be zero.
public enum PoissonSampling {
    /// Indices in `0..<count` that were drawn, in increasing order. The generator must be secret
    /// (`DPRandomGenerator(.system)`) for the accountants' amplification to hold.
    ///
    /// Instead of one uniform per example it draws the gaps between included examples, which are
    /// geometric: the gap before the next inclusion is `floor(ln U / ln(1 - q))` for U uniform in
    /// (0, 1], since P[gap >= k] = P[U <= (1 - q)^k] = (1 - q)^k. That is exactly independent
    /// Bernoulli(q) membership and costs q n + 1 draws instead of n (63 instead of 60,000 per
    /// step of a full Fashion-MNIST epoch at B = 64).
    public static func sample<G: RandomNumberGenerator>(count: Int, rate q: Double, generator: inout G) -> [Int] {
        guard count > 0, q > 0 else { return [] }
        guard q < 1 else { return Array(0..<count) }
        var out = [Int]()
        out.reserveCapacity(Int(Double(count) * q * 1.2) + 8)
        let logMiss = log1p(-q)
        var i = -1
        while true {
            let u = (Double(generator.next() >> 11) + 1) * 0x1p-53
            let gap = (log(u) / logMiss).rounded(.down)
            guard gap < Double(count - 1 - i) else { break }
            i += Int(gap) + 1
            out.append(i)
        }
        return out
    }
}
