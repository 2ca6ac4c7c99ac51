import Foundation
import NeuralNet

/// How model-space vectors (what the layer sees) map to something viewable, for PSNR, SSIM and
/// PNG grids.
public struct DisplayTransform: Sendable {
    /// Per-feature standardization to undo (`x * std + mean`); nil for synthetic data.
    public let mean: [Float]?
    public let std: [Float]?
    /// Image height and width for SSIM and PNG tiles (`height * width` = features).
    public let height: Int
    public let width: Int
    /// Pixels live in [0, 1] (images: clamp, PSNR peak 1). Otherwise (synthetic Gaussian data)
    /// the peak is the original's range and tiles are scaled by the original's min and max.
    public let unitRange: Bool

    public init(mean: [Float]?, std: [Float]?, height: Int, width: Int, unitRange: Bool) {
        self.mean = mean
        self.std = std
        self.height = height
        self.width = width
        self.unitRange = unitRange
    }

    /// Undoes standardization `(x - mean) / std` fitted per feature; clamps to [0, 1].
    public static func images(_ standardizer: Standardizer, height: Int, width: Int) -> DisplayTransform {
        DisplayTransform(mean: standardizer.mean, std: standardizer.std, height: height, width: width, unitRange: true)
    }

    /// Synthetic data shown as is.
    public static func raw(height: Int, width: Int) -> DisplayTransform {
        DisplayTransform(mean: nil, std: nil, height: height, width: width, unitRange: false)
    }

    /// One vector in display space (copied). O(d).
    public func display(_ v: UnsafeBufferPointer<Float>) -> [Float] {
        var out = [Float](v)
        if let mean, let std, mean.count == out.count {
            for i in out.indices { out[i] = out[i] * std[i] + mean[i] }
        }
        if unitRange {
            for i in out.indices { out[i] = out[i].isNaN ? 0 : min(1, max(0, out[i])) }
        }
        return out
    }
}

/// Image similarity measures.
public enum ImageQuality {
    /// Peak signal-to-noise ratio `10 log10(peak^2 / MSE)` in dB, capped at 100 dB (an exact float
    /// reconstruction has MSE ~ 1e-14 and would otherwise print as 140 dB or infinity).
    public static func psnr(_ a: [Float], _ b: [Float], peak: Float) -> Double {
        var se = 0.0
        for i in a.indices {
            let diff = Double(a[i]) - Double(b[i])
            se += diff * diff
        }
        let mse = se / Double(max(a.count, 1))
        guard mse.isFinite else { return -100 }
        guard mse > 0 else { return 100 }
        return min(100, 10 * log10(Double(peak) * Double(peak) / mse))
    }

    /// Structural similarity (Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From
    /// Error Visibility to Structural Similarity", IEEE TIP 2004): 11x11 Gaussian window with
    /// sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range `peak`, mean over the valid windows. Images
    /// smaller than the window use one window over the whole image.
    public static func ssim(_ a: [Float], _ b: [Float], height: Int, width: Int, peak: Float) -> Double {
        let c1 = pow(0.01 * Double(peak), 2), c2 = pow(0.03 * Double(peak), 2)
        let size = 11
        guard height >= size, width >= size, a.count == height * width else {
            return ssimWindow(a, b, c1: c1, c2: c2)
        }
        var kernel = (0..<size).map { i -> Double in exp(-pow(Double(i - size / 2), 2) / (2 * 1.5 * 1.5)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let (oh, ow) = (height - size + 1, width - size + 1)
        // Separable filtering of the five moment maps; valid region only.
        func filter(_ f: (Int) -> Double) -> [Double] {
            var rows = [Double](repeating: 0, count: height * ow)
            for y in 0..<height {
                for x in 0..<ow {
                    var s = 0.0
                    for k in 0..<size { s += kernel[k] * f(y * width + x + k) }
                    rows[y * ow + x] = s
                }
            }
            var out = [Double](repeating: 0, count: oh * ow)
            for y in 0..<oh {
                for x in 0..<ow {
                    var s = 0.0
                    for k in 0..<size { s += kernel[k] * rows[(y + k) * ow + x] }
                    out[y * ow + x] = s
                }
            }
            return out
        }
        let ma = filter { Double(a[$0]) }, mb = filter { Double(b[$0]) }
        let saa = filter { Double(a[$0]) * Double(a[$0]) }
        let sbb = filter { Double(b[$0]) * Double(b[$0]) }
        let sab = filter { Double(a[$0]) * Double(b[$0]) }
        var sum = 0.0
        for i in ma.indices {
            let va = saa[i] - ma[i] * ma[i], vb = sbb[i] - mb[i] * mb[i], cov = sab[i] - ma[i] * mb[i]
            sum += (2 * ma[i] * mb[i] + c1) * (2 * cov + c2) / ((ma[i] * ma[i] + mb[i] * mb[i] + c1) * (va + vb + c2))
        }
        let value = sum / Double(ma.count)
        return value.isFinite ? value : 0
    }

    private static func ssimWindow(_ a: [Float], _ b: [Float], c1: Double, c2: Double) -> Double {
        let n = Double(max(a.count, 1))
        let ma = a.reduce(0.0) { $0 + Double($1) } / n, mb = b.reduce(0.0) { $0 + Double($1) } / n
        var va = 0.0, vb = 0.0, cov = 0.0
        for i in a.indices {
            let da = Double(a[i]) - ma, db = Double(b[i]) - mb
            va += da * da
            vb += db * db
            cov += da * db
        }
        va /= n
        vb /= n
        cov /= n
        let value = (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
        return value.isFinite ? value : 0
    }
}

/// How well the reconstructions a server obtained match the batch.
public struct ReconstructionQuality: Sendable, Codable, Equatable {
    /// Fraction of samples with a reconstruction within relative L2 error `exactTolerance`.
    public var exactRecall: Double
    /// Mean over samples of the best match's PSNR (dB) and SSIM, in display space.
    public var meanPSNR: Double
    public var meanSSIM: Double
    /// Per sample: index into the inversion's rows of the best match (-1 if there is none).
    public var bestMatch: [Int]
    /// Per sample: whether the best match is exact.
    public var exact: [Bool]
}

public enum ReconstructionEvaluation {
    /// Relative L2 error below which a reconstruction counts as exact. Float32 division of a
    /// single-activator row gives ~1e-7; a mixture of two samples or a pruned or noised row is
    /// orders of magnitude above 1e-3.
    public static let defaultExactTolerance: Float = 1e-3

    /// Matches every original (`[B, d]`, model space) with its nearest reconstruction in model
    /// space (one GEMM for all pairwise inner products, then the exact distance of the chosen pair
    /// is recomputed directly, so cancellation in `|x|^2 + |r|^2 - 2 x.r` cannot fake a match).
    /// PSNR and SSIM are taken on that pair in display space; a sample with no reconstruction at
    /// all is compared with the zero vector (the per-feature mean: what a server knows a priori).
    /// O(B * R * d) in the GEMM.
    public static func evaluate(
        originals: Tensor, inversion: Inversion, display: DisplayTransform,
        exactTolerance: Float = defaultExactTolerance
    ) -> ReconstructionQuality {
        let (batch, d) = (originals.shape[0], originals.count / max(originals.shape[0], 1))
        let r = inversion.count
        var best = [Int](repeating: -1, count: batch)
        if r > 0 {
            var x = originals
            x.reshape([batch, d])
            let dots = Tensor.matmul(x, inversion.reconstructions, transposeB: true)
            var rNorms = [Float](repeating: 0, count: r)
            inversion.reconstructions.withUnsafeBufferPointer { p in
                for i in 0..<r {
                    var s: Float = 0
                    for j in 0..<d { s += p[i * d + j] * p[i * d + j] }
                    rNorms[i] = s
                }
            }
            dots.withUnsafeBufferPointer { p in
                for n in 0..<batch {
                    var bestValue = Float.infinity
                    for i in 0..<r {
                        let v = rNorms[i] - 2 * p[n * r + i]
                        if v < bestValue {
                            bestValue = v
                            best[n] = i
                        }
                    }
                }
            }
        }
        var exact = [Bool](repeating: false, count: batch)
        var psnrSum = 0.0, ssimSum = 0.0
        let zero = [Float](repeating: 0, count: d)
        originals.withUnsafeBufferPointer { po in
            inversion.reconstructions.withUnsafeBufferPointer { pr in
                for n in 0..<batch {
                    let orig = UnsafeBufferPointer(rebasing: po[(n * d)..<((n + 1) * d)])
                    let a = display.display(orig)
                    let b: [Float]
                    if best[n] >= 0 {
                        let rec = UnsafeBufferPointer(rebasing: pr[(best[n] * d)..<((best[n] + 1) * d)])
                        var err = 0.0, norm = 0.0
                        for j in 0..<d {
                            let e = Double(rec[j]) - Double(orig[j])
                            err += e * e
                            norm += Double(orig[j]) * Double(orig[j])
                        }
                        exact[n] = err.squareRoot() <= Double(exactTolerance) * norm.squareRoot()
                        b = display.display(rec)
                    } else {
                        b = zero.withUnsafeBufferPointer { display.display($0) }
                    }
                    let peak: Float = display.unitRange ? 1 : max((a.max() ?? 1) - (a.min() ?? 0), 1e-6)
                    psnrSum += ImageQuality.psnr(a, b, peak: peak)
                    ssimSum += ImageQuality.ssim(a, b, height: display.height, width: display.width, peak: peak)
                }
            }
        }
        let count = Double(max(batch, 1))
        return ReconstructionQuality(
            exactRecall: Double(exact.lazy.filter { $0 }.count) / count,
            meanPSNR: psnrSum / count, meanSSIM: ssimSum / count, bestMatch: best, exact: exact)
    }
}
