import Algebra

/// Builds a circuit and its witness in one pass.
///
/// Every allocation takes the variable's value, and every gadget computes its hint values and
/// emits its constraints in the same function, so the constraints and the witness cannot
/// drift apart. A circuit is proved by building it with the real inputs; setup builds it with
/// any sample input of the right shape (the constraints do not depend on the values).
public final class ConstraintSystem<F: PrimeField> {
    public struct Constraint {
        public var a: LinearCombination<F>
        public var b: LinearCombination<F>
        public var c: LinearCombination<F>
        /// Index into `constraintNames`.
        public var nameIndex: Int
    }

    /// A violated constraint, named by its namespace path for debugging.
    public struct Violation: Error, CustomStringConvertible, Equatable {
        public let index: Int
        public let name: String
        public var description: String { "constraint #\(index) '\(name)' is not satisfied" }
    }

    public private(set) var publicValues: [F] = []
    public private(set) var privateValues: [F] = []
    public private(set) var publicNames: [String] = []
    public private(set) var privateNames: [String] = []
    public private(set) var constraints: [Constraint] = []
    public private(set) var constraintNames: [String] = []
    private var nameIndex: [String: Int] = [:]
    private var namespace: [String] = []

    /// Bit length of the field's modulus; bounds every bit decomposition (see `maxSafeBits`).
    public let modulusBits: Int

    /// For a field with a run-time modulus (`GMPField`), pass its bit length.
    public init(modulusBits: Int? = nil) {
        guard let bits = modulusBits ?? F.modulusBitWidth else {
            preconditionFailure("ConstraintSystem over a run-time field needs modulusBits")
        }
        self.modulusBits = bits
    }

    public var constraintCount: Int { constraints.count }
    public var publicCount: Int { publicValues.count }
    public var privateCount: Int { privateValues.count }

    // MARK: Allocation

    private func qualified(_ name: String) -> String {
        namespace.isEmpty ? name : (namespace + [name]).joined(separator: "/")
    }

    /// A public input (a public signal in snarkjs terms), in allocation order.
    @discardableResult
    public func allocatePublic(_ name: String, value: F) -> Variable {
        publicValues.append(value)
        publicNames.append(qualified(name))
        return Variable(kind: .publicInput, index: publicValues.count - 1)
    }

    /// A private witness variable.
    @discardableResult
    public func allocatePrivate(_ name: String, value: F) -> Variable {
        privateValues.append(value)
        privateNames.append(qualified(name))
        return Variable(kind: .privateWitness, index: privateValues.count - 1)
    }

    /// The public signal allocated `index`-th (for tests and tools that address the public
    /// inputs by position, as verifiers do).
    public func publicVariable(_ index: Int) -> Variable {
        precondition(index >= 0 && index < publicValues.count, "no public signal #\(index)")
        return Variable(kind: .publicInput, index: index)
    }

    public func value(_ v: Variable) -> F {
        switch v.kind {
        case .one: return .one
        case .publicInput: return publicValues[v.index]
        case .privateWitness: return privateValues[v.index]
        }
    }

    public func value(_ lc: LinearCombination<F>) -> F {
        var acc = F.zero
        for (v, c) in lc.terms { acc += c * value(v) }
        return acc
    }

    /// Overwrites a variable's value. Only for negative tests: it models a cheating prover
    /// who hands in a different witness for the same constraints.
    public func tamper(_ v: Variable, with newValue: F) {
        switch v.kind {
        case .one: preconditionFailure("the constant wire cannot be changed")
        case .publicInput: publicValues[v.index] = newValue
        case .privateWitness: privateValues[v.index] = newValue
        }
    }

    // MARK: Constraints

    /// Runs `body` with `name` appended to the namespace of every variable and constraint.
    public func withNamespace<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        namespace.append(name)
        defer { namespace.removeLast() }
        return try body()
    }

    /// Adds the constraint a * b = c.
    public func enforce(_ a: LinearCombination<F>, _ b: LinearCombination<F>, _ c: LinearCombination<F>,
                        _ name: String = "constraint") {
        let full = qualified(name)
        let index: Int
        if let existing = nameIndex[full] {
            index = existing
        } else {
            index = constraintNames.count
            constraintNames.append(full)
            nameIndex[full] = index
        }
        constraints.append(Constraint(a: a, b: b, c: c, nameIndex: index))
    }

    /// a == b, as (a - b) * 1 = 0.
    public func enforceEqual(_ a: LinearCombination<F>, _ b: LinearCombination<F>, _ name: String = "equal") {
        enforce(a - b, .one, .zero, name)
    }

    /// The first violated constraint with its name, or nil.
    public func firstViolation() -> Violation? {
        for (i, k) in constraints.enumerated() where value(k.a) * value(k.b) != value(k.c) {
            return Violation(index: i, name: constraintNames[k.nameIndex])
        }
        return nil
    }

    public var isSatisfied: Bool { firstViolation() == nil }

    // MARK: Export

    /// Wire number in circom's layout [one, public..., private...].
    public func wire(_ v: Variable) -> Int {
        switch v.kind {
        case .one: return 0
        case .publicInput: return 1 + v.index
        case .privateWitness: return 1 + publicValues.count + v.index
        }
    }

    /// The full assignment [1, public..., private...].
    public func witness() -> [F] { [F.one] + publicValues + privateValues }

    /// The R1CS with merged terms; public signals count as circom public outputs
    /// (snarkjs treats outputs and public inputs alike), private values as the rest.
    public func r1cs() -> R1CS<F> {
        var a = SparseMatrix<F>(), b = SparseMatrix<F>(), c = SparseMatrix<F>()
        a.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        b.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        c.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        for k in constraints {
            a.appendRow(k.a.simplified().terms.map { (wire($0.variable), $0.coefficient) })
            b.appendRow(k.b.simplified().terms.map { (wire($0.variable), $0.coefficient) })
            c.appendRow(k.c.simplified().terms.map { (wire($0.variable), $0.coefficient) })
        }
        return R1CS(numWires: 1 + publicValues.count + privateValues.count,
                    numPublicOutputs: publicValues.count, numPublicInputs: 0,
                    numPrivateInputs: privateValues.count, a: a, b: b, c: c)
    }
}
