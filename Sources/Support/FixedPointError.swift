/// Errors of the circuits' Int64 fixed point, shared by the float conversions (NeuralNet) and the
/// quantized layers and their soundness checks (ZKML), so callers match one type.
public enum FixedPointError: Error, Equatable, CustomStringConvertible {
    /// `value * 2^fractionBits` is NaN, infinite or outside the Int64 range.
    case notRepresentable(value: Float, index: Int, fractionBits: Int)
    /// `fractionBits` outside 0...62.
    case badFractionBits(Int)
    /// The format (S fraction bits, B value bits) is not sound in BN254's Fr.
    case unsoundFormat(fractionBits: Int, valueBits: Int)
    /// A real value does not fit the format's B signed bits.
    case outOfRange(value: Double, bits: Int, fractionBits: Int)
    /// A layer's integer output does not fit B signed bits.
    case overflow(layer: String, index: Int, value: Int64, bits: Int)

    public var description: String {
        switch self {
        case let .notRepresentable(value, index, bits):
            return "element \(index) = \(value) does not fit Int64 fixed point with \(bits) fraction bits"
        case let .badFractionBits(bits):
            return "fraction bits must be in 0...62, got \(bits)"
        case .unsoundFormat(let s, let b):
            return
                "fixed-point format S = \(s), B = \(b) is not sound in BN254's Fr (need 1 <= S <= 30, S + 2 <= B <= 62, B + S <= 252)"
        case .outOfRange(let v, let b, let s):
            return
                "value \(v) does not fit in \(b) signed bits with \(s) fractional bits; rescale the inputs or widen B"
        case .overflow(let layer, let i, let v, let b):
            return
                "layer \(layer), output \(i): \(v) does not fit in \(b) signed bits; the model's activations exceed the format"
        }
    }
}
