import Algebra

/// A wire of the circuit. `one` is the constant 1 (circom's wire 0); public and private
/// variables are numbered separately while the circuit is built and laid out as
/// [one, public..., private...] when it is exported.
public struct Variable: Hashable, Sendable, Comparable {
    public enum Kind: Int, Sendable, Comparable {
        case one = 0, publicInput = 1, privateWitness = 2
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }
    public let kind: Kind
    public let index: Int

    public static let one = Variable(kind: .one, index: 0)

    public static func < (a: Variable, b: Variable) -> Bool {
        (a.kind, a.index) < (b.kind, b.index)
    }
}

/// sum_i c_i * v_i. Building and adding linear combinations costs no constraints.
public struct LinearCombination<F: PrimeField>: Sendable {
    public var terms: [(variable: Variable, coefficient: F)]

    public init() { terms = [] }
    public init(_ variable: Variable, _ coefficient: F = .one) { terms = [(variable, coefficient)] }
    public init(constant: F) { terms = constant.isZero ? [] : [(.one, constant)] }
    public init(terms: [(variable: Variable, coefficient: F)]) { self.terms = terms }

    public static var zero: LinearCombination { LinearCombination() }
    public static var one: LinearCombination { LinearCombination(constant: .one) }

    public static func + (a: LinearCombination, b: LinearCombination) -> LinearCombination {
        LinearCombination(terms: a.terms + b.terms)
    }
    public static func - (a: LinearCombination, b: LinearCombination) -> LinearCombination {
        a + b * (-F.one)
    }
    public static prefix func - (a: LinearCombination) -> LinearCombination { a * (-F.one) }
    public static func * (a: LinearCombination, k: F) -> LinearCombination {
        LinearCombination(terms: a.terms.map { ($0.variable, $0.coefficient * k) })
    }
    public static func * (k: F, a: LinearCombination) -> LinearCombination { a * k }
    public static func + (a: LinearCombination, k: F) -> LinearCombination { a + LinearCombination(constant: k) }
    public static func - (a: LinearCombination, k: F) -> LinearCombination { a + LinearCombination(constant: -k) }
    public static func += (a: inout LinearCombination, b: LinearCombination) { a.terms += b.terms }

    /// Merges repeated variables and drops zero coefficients (sorted by wire).
    public func simplified() -> LinearCombination {
        var merged: [Variable: F] = [:]
        for (v, c) in terms { merged[v, default: .zero] += c }
        let kept = merged.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        return LinearCombination(terms: kept.map { ($0.key, $0.value) })
    }
}

extension Variable {
    /// This variable as a linear combination over `F`.
    public func lc<F: PrimeField>(_: F.Type = F.self) -> LinearCombination<F> { LinearCombination(self) }
}
