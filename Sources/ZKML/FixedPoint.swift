import Algebra

/// The fixed-point format shared by the native model and the circuits.
///
/// A real value v is the integer round(v * 2^S), held natively as `Int64` and in the field as
/// `Fr(Int64)` (negative values as r - |v|). Every quantity the circuits range-check fits in
/// `valueBits` bits as a signed integer: |v| < 2^(valueBits - 1). The native arithmetic below is
/// exactly what the circuits constrain (floor division by 2^S after a product), so the two are
/// bit-identical by construction.
public struct FixedPointFormat: Sendable, Equatable, Codable {
    /// Fractional bits S.
    public let fractionBits: Int
    /// Signed width B of every range-checked value (activations, rescaled outputs, weights
    /// after an update).
    public let valueBits: Int

    /// Soundness bound: a rescale decomposes acc = q * 2^S + r with q in B bits and r in S bits;
    /// the decomposition is unique in Fr when B + S <= 252, and an honest acc of a dot product
    /// of n terms needs 2(B - 1) + log2(n) + 1 <= 252 bits not to wrap. Both are checked here.
    public init(fractionBits: Int = 8, valueBits: Int = 24) throws(FixedPointError) {
        guard (1...30).contains(fractionBits), (fractionBits + 2...62).contains(valueBits),
            valueBits + fractionBits <= 252
        else { throw .unsoundFormat(fractionBits: fractionBits, valueBits: valueBits) }
        self.fractionBits = fractionBits
        self.valueBits = valueBits
    }

    public var scale: Double { Double(Int64(1) << Int64(fractionBits)) }
    public var maxMagnitude: Int64 { (Int64(1) << Int64(valueBits - 1)) - 1 }

    /// round(v * 2^S), checked against the B-bit range.
    public func quantize(_ v: Float) throws(FixedPointError) -> Int64 {
        let scaled = (Double(v) * scale).rounded()
        guard scaled.isFinite, abs(scaled) <= Double(maxMagnitude) else {
            throw .outOfRange(value: Double(v), bits: valueBits, fractionBits: fractionBits)
        }
        return Int64(scaled)
    }

    public func dequantize(_ q: Int64) -> Float { Float(Double(q) / scale) }

    /// floor(acc / 2^S): the rescale after a product, as the circuit constrains it.
    @inlinable
    public func rescale(_ acc: Int64) -> Int64 { acc >> Int64(fractionBits) }

    /// Largest dot-product length n for which sum_{i<n} w_i x_i + b * 2^S cannot wrap around r.
    public var maxDotProductLength: Int {
        let spare = 252 - (2 * (valueBits - 1) + 1)
        return spare >= 40 ? 1 << 40 : 1 << spare
    }
}
