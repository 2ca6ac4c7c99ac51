#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
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
    /// The operating system's CSPRNG (/dev/urandom on Linux, arc4random on Darwin).
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

    /// The next 64 uniform bits. O(1) amortized (the system pool reads 32 KiB at a time).
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

/// Uniform 64-bit words from the operating system's CSPRNG, read in 32 KiB blocks because one
/// system call per word would dominate the cost of noising a 100k-parameter gradient.
struct SystemEntropyPool: Sendable {
    /// Empty until the first draw, so a seeded sampler never touches the system source.
    private var words: [UInt64] = []
    private var index = 0

    mutating func next() -> UInt64 {
        if index == words.count {
            if words.isEmpty { words = [UInt64](repeating: 0, count: 4096) }
            refill()
            index = 0
        }
        defer { index += 1 }
        return words[index]
    }

    private mutating func refill() {
        words.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            #if canImport(Darwin)
            arc4random_buf(base, raw.count)
            #else
            let fd = open("/dev/urandom", O_RDONLY)
            precondition(fd >= 0, "cannot open /dev/urandom for DP noise; the system CSPRNG is unavailable")
            defer { close(fd) }
            var filled = 0
            while filled < raw.count {
                let n = read(fd, base + filled, raw.count - filled)
                if n < 0, errno == EINTR { continue }
                precondition(n > 0, "reading /dev/urandom for DP noise failed (errno \(errno))")
                filled += n
            }
            #endif
        }
    }
}

/// Standard normal samples from a `RandomSource` (Marsaglia's polar form of Box-Muller on 53-bit
/// uniforms, both outputs of each pair used). A value type: copying it copies the stream position.
public struct GaussianSampler: Sendable {
    private var generator: DPRandomGenerator
    private var spare: Double?
    public var source: RandomSource { generator.source }

    public init(_ source: RandomSource) {
        generator = DPRandomGenerator(source)
    }

    private mutating func nextWord() -> UInt64 { generator.next() }

    /// One N(0, 1) sample. O(1).
    public mutating func next() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        // Marsaglia's polar method: a uniform point in the unit disc gives two independent
        // normals without sin/cos (which cost more than the rest of the noising together).
        while true {
            let u = Double(nextWord() >> 11) * 0x1p-52 - 1
            let v = Double(nextWord() >> 11) * 0x1p-52 - 1
            let s = u * u + v * v
            guard s > 0, s < 1 else { continue }
            let f = (-2 * log(s) / s).squareRoot()
            spare = v * f
            return u * f
        }
    }

    /// Adds i.i.d. N(0, std^2) to every element of `tensor`. O(count).
    public mutating func addNoise(standardDeviation std: Double, to tensor: inout Tensor) {
        tensor.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] += Float(std * next()) }
        }
    }
}

/// Poisson subsampling, the sampling the RDP and PLD accountants assume (Abadi et al. 2016,
/// "Deep Learning with Differential Privacy", Sec. 3.1; Mironov, Talwar & Zhang 2019): every
/// example joins the batch independently with probability q, so the batch size is random with
/// mean q n and can be zero.
public enum PoissonSampling {
    /// Indices in `0..<count` that were drawn, in increasing order. O(count). The generator
    /// must be secret (`DPRandomGenerator(.system)`) for the accountants' amplification to hold.
    public static func sample<G: RandomNumberGenerator>(count: Int, rate q: Double, generator: inout G) -> [Int] {
        var out = [Int]()
        out.reserveCapacity(Int(Double(count) * q * 1.2) + 8)
        for i in 0..<count where Double(generator.next() >> 11) * 0x1p-53 < q {
            out.append(i)
        }
        return out
    }
}
