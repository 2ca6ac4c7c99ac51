/// Errors for tensors built from caller-supplied data.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// The element count does not equal the product of the shape.
    case countMismatch(shape: [Int], count: Int)
    /// A dimension is negative.
    case negativeDimension(shape: [Int])
    /// Two shapes that must agree do not.
    case shapeMismatch(context: String, expected: [Int], got: [Int])

    public var description: String {
        switch self {
        case let .countMismatch(shape, count):
            let needed = elementCount(shape).map(String.init) ?? "more than Int.max"
            return "tensor shape \(shape) needs \(needed) elements but \(count) were given"
        case let .negativeDimension(shape):
            return "tensor shape \(shape) has a negative dimension"
        case let .shapeMismatch(context, expected, got):
            return "\(context): expected shape \(expected), got \(got)"
        }
    }
}

/// The product of `shape`, or nil if it overflows `Int` (shapes from files must not trap).
public func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// A dense, contiguous, row-major Float32 tensor.
///
/// A value type: storage is a Swift `Array`, so copies are O(1) until one side is mutated
/// (copy-on-write). Hot loops go through `withUnsafeBufferPointer`/`withUnsafeMutableBufferPointer`,
/// never through the element subscript, so they allocate nothing per element.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (e.g. `[batch, channels, height, width]`).
    public private(set) var shape: [Int]
    /// Backing elements; `_storage.count == shape.reduce(1, *)` always holds.
    @usableFromInline var _storage: [Float]

    /// Elements in row-major order (read-only; mutate through `withUnsafeMutableBufferPointer`).
    public var storage: [Float] { _storage }

    /// Wraps `storage` with `shape`, checking that the sizes agree. O(rank).
    public init(shape: [Int], storage: [Float]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(shape: shape) }
        guard elementCount(shape) == storage.count else {
            throw .countMismatch(shape: shape, count: storage.count)
        }
        self.shape = shape
        self._storage = storage
    }

    /// Internal unchecked initializer for results whose size the caller computed.
    @usableFromInline
    init(uncheckedShape shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count, "tensor size mismatch")
        self.shape = shape
        self._storage = storage
    }

    /// A tensor of `shape` filled with `value`. Precondition: no negative dimension.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self._storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` whose elements are written by `body` into uninitialized storage. O(count).
    @inlinable
    public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.init(
            uncheckedShape: shape,
            storage: [Float](unsafeUninitializedCapacity: count) { buf, n in
                buf.initialize(repeating: 0)
                body(buf)
                n = count
            })
    }

    /// Number of elements.
    @inlinable public var count: Int { _storage.count }
    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// Element at a multi-index (bounds-checked; for tests and small code, not hot loops).
    public subscript(_ index: Int...) -> Float {
        get { storage[flatIndex(index)] }
        set { _storage[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) != tensor rank \(shape.count)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// The same elements viewed with another shape of equal element count. O(1) storage (shared).
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }) else { throw .negativeDimension(shape: newShape) }
        guard elementCount(newShape) == count else { throw .countMismatch(shape: newShape, count: count) }
        var t = self
        t.shape = newShape
        return t
    }

    /// Reshape in place; precondition: same element count (programmer error otherwise).
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// Read-only access to the contiguous elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try _storage.withUnsafeBufferPointer(body)
    }

    /// Mutable access to the contiguous elements (triggers copy-on-write if shared).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try _storage.withUnsafeMutableBufferPointer(body)
    }

    /// Replaces the elements, keeping the shape. Precondition: same count.
    public mutating func assign(_ values: [Float]) {
        precondition(values.count == count, "assign: count \(values.count) != \(count)")
        _storage = values
    }

    // MARK: - Element-wise operations (O(count), no allocation unless copy-on-write triggers)

    /// Sets every element to `value`.
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { p in p.update(repeating: value) }
    }

    /// `self += alpha * other`. Precondition: equal counts.
    public mutating func addScaled(_ other: Tensor, alpha: Float = 1) {
        precondition(other.count == count, "addScaled: \(other.shape) vs \(shape)")
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count { dst[i] += alpha * src[i] }
            }
        }
    }

    /// `self *= alpha`.
    public mutating func scale(by alpha: Float) {
        withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] *= alpha }
        }
    }

    /// Sum of all elements, accumulated in Double for stability.
    public func sum() -> Double {
        withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) }
            return s
        }
    }

    /// Sum of squares of all elements (squared L2 norm), accumulated in Double.
    public func squaredNorm() -> Double {
        withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) * Double(v) }
            return s
        }
    }

    /// Largest absolute element difference to `other`. Precondition: equal counts.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(other.count == count)
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, abs(storage[i] - other.storage[i])) }
        return m
    }

    /// Index of the largest element in each row of a 2-D tensor `[rows, cols]`. O(count).
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs a 2-D tensor, got \(shape)")
        let rows = shape[0], cols = shape[1]
        var out = [Int](repeating: 0, count: rows)
        withUnsafeBufferPointer { p in
            for r in 0..<rows {
                var best = 0
                var bestValue = -Float.infinity
                for c in 0..<cols where p[r * cols + c] > bestValue {
                    bestValue = p[r * cols + c]
                    best = c
                }
                out[r] = best
            }
        }
        return out
    }

    /// Rows `range` of the outermost dimension (a copy). O(rows * rowSize).
    public func slice(rows range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "slice out of range")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(
            uncheckedShape: newShape,
            storage: Array(storage[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }

    /// Matrix product of 2-D tensors: `op(a) * op(b)` with optional transposes, via `GEMM`.
    /// Precondition: inner dimensions agree. O(m*n*k).
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
        threads: Int = GEMM.defaultThreads
    ) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape) x \(b.shape)")
        var c = Tensor(shape: [m, n])
        guard m > 0, n > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: 1, a: pa.baseAddress!, lda: a.shape[1],
                        b: pb.baseAddress!, ldb: b.shape[1],
                        beta: 0, c: pc.baseAddress!, ldc: n, threads: threads)
                }
            }
        }
        return c
    }
}

// MARK: - Fixed point

/// Conversions to and from the fixed-point integers the circuits use: real value v is the integer
/// `round(v * 2^S)` (round half away from zero), S = `fractionBits`.
public enum FixedPoint {
    /// Encodes one value. Throws if it is not finite or overflows Int64.
    @inlinable
    public static func encode(_ value: Float, fractionBits: Int) throws(FixedPointError) -> Int64 {
        guard (0...62).contains(fractionBits) else { throw .badFractionBits(fractionBits) }
        let scaled = (Double(value) * Double(sign: .plus, exponent: fractionBits, significand: 1)).rounded()
        guard scaled.isFinite, scaled >= -9.223372036854775e18, scaled <= 9.223372036854775e18 else {
            throw .notRepresentable(value: value, index: 0, fractionBits: fractionBits)
        }
        return Int64(scaled)
    }

    /// Decodes one fixed-point integer: `Float(q) / 2^S`.
    @inlinable
    public static func decode(_ q: Int64, fractionBits: Int) -> Float {
        Float(Double(q) / Double(sign: .plus, exponent: fractionBits, significand: 1))
    }
}

extension Tensor {
    /// Every element as `round(v * 2^fractionBits)`; throws naming the first element that does not fit.
    public func fixedPoint(fractionBits: Int) throws(FixedPointError) -> [Int64] {
        var out = [Int64]()
        out.reserveCapacity(count)
        for (i, v) in storage.enumerated() {
            do {
                out.append(try FixedPoint.encode(v, fractionBits: fractionBits))
            } catch let FixedPointError.notRepresentable(value, _, bits) {
                throw .notRepresentable(value: value, index: i, fractionBits: bits)
            }
        }
        return out
    }

    /// A tensor from fixed-point integers (`q / 2^fractionBits`).
    public init(fixedPoint values: [Int64], shape: [Int], fractionBits: Int) throws(TensorError) {
        try self.init(shape: shape, storage: values.map { FixedPoint.decode($0, fractionBits: fractionBits) })
    }
}
