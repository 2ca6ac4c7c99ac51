#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// In-place radix-2 complex FFT over Double, used by the PLD accountant to self-compose a privacy
/// loss PMF T times as ifft(fft(p)^T) (the approach of dp_accounting's `common.self_convolve`).
///
/// Twiddle factors are taken from a table computed with `cos`/`sin` at each angle rather than by
/// a recurrence, so their error stays at one rounding regardless of the size (sizes reach 2^20).
struct FFT: Sendable {
    let size: Int
    private let cosTable: [Double]
    private let sinTable: [Double]
    private let bitReversed: [Int32]

    /// A plan for `size` points; `size` must be a power of two >= 1.
    init(size: Int) {
        precondition(size >= 1 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        let half = max(size / 2, 1)
        var c = [Double](repeating: 1, count: half)
        var s = [Double](repeating: 0, count: half)
        for k in 0..<half {
            let angle = -2 * Double.pi * Double(k) / Double(size)
            c[k] = cos(angle)
            s[k] = sin(angle)
        }
        cosTable = c
        sinTable = s
        var rev = [Int32](repeating: 0, count: size)
        let bits = size.trailingZeroBitCount
        if bits > 0 {
            for i in 0..<size {
                var r = 0
                var v = i
                for _ in 0..<bits {
                    r = (r << 1) | (v & 1)
                    v >>= 1
                }
                rev[i] = Int32(r)
            }
        }
        bitReversed = rev
    }

    /// The smallest power of two >= n.
    static func powerOfTwo(atLeast n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }

    /// Transforms (re, im) in place: X_k = sum_j x_j exp(-2 pi i jk/n), or the inverse including
    /// the 1/n factor when `inverse` is set.
    func transform(re: inout [Double], im: inout [Double], inverse: Bool) {
        precondition(re.count == size && im.count == size)
        let n = size
        if n == 1 { return }
        re.withUnsafeMutableBufferPointer { reP in
            im.withUnsafeMutableBufferPointer { imP in
                cosTable.withUnsafeBufferPointer { cP in
                    sinTable.withUnsafeBufferPointer { sP in
                        bitReversed.withUnsafeBufferPointer { revP in
                            for i in 0..<n {
                                let j = Int(revP[i])
                                if j > i {
                                    reP.swapAt(i, j)
                                    imP.swapAt(i, j)
                                }
                            }
                            let sign: Double = inverse ? -1 : 1
                            var len = 2
                            while len <= n {
                                let halfLen = len / 2
                                let stride = n / len
                                var start = 0
                                while start < n {
                                    var k = 0
                                    for j in 0..<halfLen {
                                        let wr = cP[k]
                                        let wi = sign * sP[k]
                                        let a = start + j
                                        let b = a + halfLen
                                        let xr = reP[b] * wr - imP[b] * wi
                                        let xi = reP[b] * wi + imP[b] * wr
                                        reP[b] = reP[a] - xr
                                        imP[b] = imP[a] - xi
                                        reP[a] += xr
                                        imP[a] += xi
                                        k += stride
                                    }
                                    start += len
                                }
                                len <<= 1
                            }
                            if inverse {
                                let scale = 1 / Double(n)
                                for i in 0..<n {
                                    reP[i] *= scale
                                    imP[i] *= scale
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
