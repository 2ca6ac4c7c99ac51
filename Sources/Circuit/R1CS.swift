import Algebra

/// A sparse matrix in compressed-row form: row i holds columns[rowStart[i]..<rowStart[i+1]].
/// Flat arrays keep a million-constraint system in a few allocations and let the prover
/// evaluate A·w, B·w, C·w in one pass each.
public struct SparseMatrix<F: PrimeField>: Sendable {
    public private(set) var rowStart: [Int] = [0]
    public private(set) var columns: [Int32] = []
    public private(set) var values: [F] = []

    public init() {}

    public var rowCount: Int { rowStart.count - 1 }
    public var nonZeroCount: Int { columns.count }

    public mutating func reserve(rows: Int, nonZeros: Int) {
        rowStart.reserveCapacity(rows + 1)
        columns.reserveCapacity(nonZeros)
        values.reserveCapacity(nonZeros)
    }

    /// Appends a row; terms are (wire, coefficient).
    public mutating func appendRow<S: Sequence>(_ terms: S) where S.Element == (Int, F) {
        for (wire, coefficient) in terms {
            columns.append(Int32(wire))
            values.append(coefficient)
        }
        rowStart.append(columns.count)
    }

    public func row(_ i: Int) -> [(wire: Int, coefficient: F)] {
        (rowStart[i]..<rowStart[i + 1]).map { (Int(columns[$0]), values[$0]) }
    }

    /// <row i, w>.
    @inlinable
    public func dot(row i: Int, _ w: [F]) -> F {
        var acc = F.zero
        for k in rowStart[i]..<rowStart[i + 1] { acc += values[k] * w[Int(columns[k])] }
        return acc
    }

    /// M·w for every row.
    public func multiply(_ w: [F]) -> [F] {
        (0..<rowCount).map { dot(row: $0, w) }
    }
}

/// A rank-1 constraint system over F: for every row i, <A_i, w> * <B_i, w> = <C_i, w>, where
/// w = [1, public outputs..., public inputs..., private inputs..., other wires...] is the
/// circom wire layout.
public struct R1CS<F: PrimeField>: Sendable {
    public var numWires: Int
    public var numPublicOutputs: Int
    public var numPublicInputs: Int
    public var numPrivateInputs: Int
    public var a: SparseMatrix<F>
    public var b: SparseMatrix<F>
    public var c: SparseMatrix<F>
    /// circom's wire-to-label map (one label per wire).
    public var wireLabels: [UInt64]
    /// The commitment to witness wires (BSB22), if the circuit draws a challenge: the committed
    /// wires (private, in increasing order) and the challenge's public wire (the last one).
    public var commitment: Commitment?

    public struct Commitment: Sendable, Equatable {
        public var challenge: Int
        public var wires: [Int]
        public init(challenge: Int, wires: [Int]) {
            self.challenge = challenge
            self.wires = wires
        }
    }

    public init(
        numWires: Int, numPublicOutputs: Int, numPublicInputs: Int, numPrivateInputs: Int,
        a: SparseMatrix<F>, b: SparseMatrix<F>, c: SparseMatrix<F>, wireLabels: [UInt64]? = nil
    ) {
        precondition(a.rowCount == b.rowCount && b.rowCount == c.rowCount, "A, B, C row counts differ")
        self.numWires = numWires
        self.numPublicOutputs = numPublicOutputs
        self.numPublicInputs = numPublicInputs
        self.numPrivateInputs = numPrivateInputs
        self.a = a
        self.b = b
        self.c = c
        self.wireLabels = wireLabels ?? (0..<numWires).map(UInt64.init)
    }

    public var constraintCount: Int { a.rowCount }
    /// Public signals (outputs then inputs), not counting the constant wire.
    public var numPublic: Int { numPublicOutputs + numPublicInputs }

    /// The index of the first constraint the assignment violates, or nil if all hold.
    /// Precondition: `witness.count == numWires` and `witness[0] == 1`.
    public func firstUnsatisfied(_ witness: [F]) -> Int? {
        precondition(witness.count == numWires, "witness has \(witness.count) wires, the R1CS \(numWires)")
        for i in 0..<constraintCount where a.dot(row: i, witness) * b.dot(row: i, witness) != c.dot(row: i, witness) {
            return i
        }
        return nil
    }

    public func isSatisfied(by witness: [F]) -> Bool {
        witness.count == numWires && witness.first == .one && firstUnsatisfied(witness) == nil
    }
}
