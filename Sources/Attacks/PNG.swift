import CZlib
import Foundation
import NeuralNet

/// A minimal PNG encoder (8-bit grayscale, no interlace), enough for reconstruction grids: the
/// chunk layout of the PNG specification (ISO/IEC 15948), scanlines with filter type 0, the image
/// data deflated by zlib's `compress2`, and a table-driven CRC-32 over each chunk.
public enum PNG {
    /// CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected), as PNG chunks need.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Encodes `pixels` (row-major, `width * height` bytes) as a grayscale PNG.
    public static func grayscale(width: Int, height: Int, pixels: [UInt8]) throws(AttackError) -> Data {
        guard width > 0, height > 0, pixels.count == width * height else {
            throw .shapeMismatch(context: "PNG pixels", expected: [height, width], got: [pixels.count])
        }
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(y * width)..<((y + 1) * width)])
        }
        var destLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(destLength))
        let status = compress2(&compressed, &destLength, raw, uLong(raw.count), 9)
        guard status == Z_OK else {
            throw .io(path: "PNG image data", reason: "zlib compress2 failed with status \(status)")
        }
        compressed.removeSubrange(Int(destLength)...)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ body: [UInt8]) {
            out += bigEndian(UInt32(body.count))
            let typed = Array(type.utf8) + body
            out += typed
            out += bigEndian(crc32(typed))
        }
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0])
        chunk("IDAT", compressed)
        chunk("IEND", [])
        return Data(out)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}

/// A grid of (original, reconstruction) tile pairs: each sample's original on the left and its
/// best-matching reconstruction on the right; samples without any reconstruction get a black tile.
public enum ReconstructionGrid {
    /// Renders up to `maxSamples` samples, `pairsPerRow` pairs per row, tiles scaled by `scale`.
    public static func png(
        originals: Tensor, inversion: Inversion, quality: ReconstructionQuality,
        display: DisplayTransform, pairsPerRow: Int = 8, maxSamples: Int = 64,
        scale: Int = 2
    ) throws(AttackError) -> Data {
        let d = display.height * display.width
        let batch = min(originals.shape[0], maxSamples)
        guard batch > 0, originals.count == originals.shape[0] * d else {
            throw .shapeMismatch(
                context: "grid originals", expected: [originals.shape.first ?? 0, d], got: originals.shape)
        }
        let (th, tw, gap) = (display.height * scale, display.width * scale, 2 * scale)
        let cols = min(pairsPerRow, batch)
        let rows = (batch + cols - 1) / cols
        let width = cols * (2 * tw + 3 * gap)
        let height = rows * (th + gap) + gap
        var pixels = [UInt8](repeating: 96, count: width * height)
        func draw(_ values: [Float], low: Float, high: Float, x0: Int, y0: Int) {
            let span = max(high - low, 1e-6)
            for y in 0..<th {
                for x in 0..<tw {
                    let v = values[(y / scale) * display.width + x / scale]
                    let t = v.isFinite ? min(1, max(0, (v - low) / span)) : 0
                    pixels[(y0 + y) * width + x0 + x] = UInt8((t * 255).rounded())
                }
            }
        }
        originals.withUnsafeBufferPointer { po in
            inversion.reconstructions.withUnsafeBufferPointer { pr in
                for n in 0..<batch {
                    let a = display.display(UnsafeBufferPointer(rebasing: po[(n * d)..<((n + 1) * d)]))
                    let (low, high) = display.unitRange ? (Float(0), Float(1)) : (a.min() ?? 0, a.max() ?? 1)
                    let x0 = (n % cols) * (2 * tw + 3 * gap) + gap, y0 = (n / cols) * (th + gap) + gap
                    draw(a, low: low, high: high, x0: x0, y0: y0)
                    let m = quality.bestMatch[n]
                    let b =
                        m >= 0
                        ? display.display(UnsafeBufferPointer(rebasing: pr[(m * d)..<((m + 1) * d)]))
                        : [Float](repeating: low, count: d)
                    draw(b, low: low, high: high, x0: x0 + tw + gap, y0: y0)
                }
            }
        }
        return try PNG.grayscale(width: width, height: height, pixels: pixels)
    }
}
