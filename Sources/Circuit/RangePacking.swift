import Algebra

/// How a vector of small integers is range-checked and packed into few field elements, so that a
/// hash absorbs `perElement` values per element instead of one.
///
/// Each value v must satisfy 0 <= v + offset < 2^bits (offset = 2^(bits-1) for signed values,
/// 0 for unsigned ones); the packed element j is sum_i (v_i + offset) * 2^(bits * i) over its
/// chunk of `perElement` values. Because every chunk is below 2^bits and
/// bits * perElement <= maxSafeBits, packing is injective: equal packings mean equal vectors.
/// The circuit gets the packing for free from the bits of the range checks.
public struct PackingLayout: Sendable, Equatable {
    public let bits: Int
    public let signed: Bool
    public let perElement: Int

    /// The widest packing that stays injective in a field of `modulusBits` bits.
    public init(bits: Int, signed: Bool, modulusBits: Int = 254) {
        precondition(bits >= 1 && bits <= modulusBits - 1, "cannot pack \(bits)-bit values")
        self.bits = bits
        self.signed = signed
        perElement = (modulusBits - 1) / bits
    }

    /// The offset that maps the value range onto [0, 2^bits).
    public var offset: Int64 { signed ? Int64(1) << Int64(bits - 1) : 0 }

    /// Whether v lies in the checked range.
    public func contains(_ v: Int64) -> Bool {
        let shifted = v.addingReportingOverflow(offset)
        return !shifted.overflow && shifted.partialValue >= 0
            && (bits >= 63 || shifted.partialValue < Int64(1) << Int64(bits))
    }

    /// Number of packed elements for n values.
    public func elementCount(_ n: Int) -> Int { (n + perElement - 1) / perElement }

    /// The packed field elements of `values`, or the index of the first value out of range.
    public func pack<F: PrimeField>(_ values: [Int64], as _: F.Type = F.self) -> Result<[F], PackingError> {
        var shift = F.one
        for _ in 0..<bits { shift = shift.doubled() }
        var out: [F] = []
        out.reserveCapacity(elementCount(values.count))
        var element = F.zero
        var weight = F.one
        for (i, v) in values.enumerated() {
            guard contains(v) else { return .failure(PackingError(index: i, value: v, bits: bits, signed: signed)) }
            element += F(UInt64(v + offset)) * weight
            weight *= shift
            if (i + 1) % perElement == 0 {
                out.append(element)
                element = .zero
                weight = .one
            }
        }
        if values.count % perElement != 0 { out.append(element) }
        return .success(out)
    }
}

/// A value outside the range a packing checks.
public struct PackingError: Error, Equatable, CustomStringConvertible {
    public let index: Int
    public let value: Int64
    public let bits: Int
    public let signed: Bool

    public var description: String {
        "value #\(index) = \(value) is outside the \(signed ? "signed" : "unsigned") \(bits)-bit range"
    }
}

extension ConstraintSystem {
    /// Range-checks every value (each `bits + 1` constraints: the bits and their recomposition)
    /// and returns the packed elements of `layout` as free linear combinations of those bits.
    ///
    /// Soundness: the decomposition proves 0 <= v + offset < 2^bits for each value (sound since
    /// bits <= maxSafeBits), and the packing is injective for values in range, so a hash of the
    /// packed elements binds the vector exactly. Cost: n * (bits + 1) constraints for n values.
    public func rangeCheckedPacking(
        _ values: [LinearCombination<F>], layout: PackingLayout,
        _ name: String = "pack"
    ) -> [LinearCombination<F>] {
        precondition(
            layout.bits * layout.perElement <= maxSafeBits,
            "packing \(layout.perElement) x \(layout.bits) bits is not injective here")
        let offset = F(layout.offset)
        var powers = [F](repeating: .one, count: layout.bits * layout.perElement)
        for k in powers.indices.dropFirst() { powers[k] = powers[k - 1].doubled() }
        return withNamespace(name) {
            var packed: [LinearCombination<F>] = []
            packed.reserveCapacity(layout.elementCount(values.count))
            var element = LinearCombination<F>()
            var position = 0
            for (i, v) in values.enumerated() {
                let bits = self.bits(of: v + offset, count: layout.bits, "v\(i)")
                for (k, bit) in bits.enumerated() { element.terms.append((bit, powers[position * layout.bits + k])) }
                position += 1
                if position == layout.perElement {
                    packed.append(element)
                    element = LinearCombination()
                    position = 0
                }
            }
            if position > 0 { packed.append(element) }
            return packed
        }
    }
}
