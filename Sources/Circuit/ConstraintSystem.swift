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

    /// Values in allocation order; `publicValues`/`privateValues` give them in export order.
    private var publicSlots: [F] = []
    private var privateSlots: [F] = []
    private var publicSlotNames: [String] = []
    private var privateSlotNames: [String] = []
    /// Per public slot: a circom public *input* (supplied by the verifier) rather than an output.
    private var publicIsInput: [Bool] = []
    /// Per private slot: a circom private *input* rather than an intermediate (hint) wire.
    private var privateIsInput: [Bool] = []
    /// Per private slot: committed before the challenge (see `allocateCommitted`).
    private var privateIsCommitted: [Bool] = []
    /// The public slot of the challenge, once drawn (see `drawChallenge`).
    public private(set) var challengeSlot: Int?
    /// Derives the challenge from the committed values and the statement (both in wire order).
    /// The Groth16 prover installs one that computes its commitment D and hashes D with the
    /// statement; without one, `drawChallenge` uses `defaultChallenge` (setup, witness checks).
    public var challengeOracle: (@Sendable (_ committed: [F], _ statement: [F]) -> F)?
    /// Export position of each slot, rebuilt after an allocation (see `layout`).
    private var layoutCache: Layout?
    public private(set) var constraints: [Constraint] = []
    public private(set) var constraintNames: [String] = []
    private var nameIndex: [String: Int] = [:]
    private var namespace: [String] = []

    /// Bit length of the field's modulus; bounds every bit decomposition (see `maxSafeBits`).
    public let modulusBits: Int
    /// False for a prover's synthesis (`witnessOnly`): the witness is recorded, the constraints
    /// and the names are not, because the prover evaluates its key's R1CS. Every value is
    /// computed by the allocations alone, so the witness is the same in both modes (tested).
    public let recordsConstraints: Bool
    /// Constraints emitted but not recorded (a witness-only synthesis still counts them).
    private var unrecordedConstraints = 0

    /// For a field with a run-time modulus (`GMPField`), pass its bit length.
    public init(modulusBits: Int? = nil, witnessOnly: Bool = false) {
        guard let bits = modulusBits ?? F.modulusBitWidth else {
            preconditionFailure("ConstraintSystem over a run-time field needs modulusBits")
        }
        self.modulusBits = bits
        recordsConstraints = !witnessOnly
    }

    public var constraintCount: Int { constraints.count + unrecordedConstraints }
    public var publicCount: Int { publicSlots.count }
    public var privateCount: Int { privateSlots.count }

    // MARK: Allocation and layout

    /// circom's wire layout: [one, public outputs..., public inputs..., private inputs...,
    /// intermediates...], each group in allocation order. The public part is the statement a
    /// verifier supplies, in this order. Declaring inputs and outputs is what lets an
    /// under-constraint analysis (`R1CSLinter`) start from the inputs and check that every
    /// output and intermediate follows from them.
    struct Layout {
        var publicPosition: [Int]
        var privatePosition: [Int]
        var publicOrder: [Int]
        var privateOrder: [Int]
        var publicOutputs: Int
        var privateInputs: Int

        init(publicIsInput: [Bool], privateIsInput: [Bool]) {
            publicOrder =
                publicIsInput.indices.filter { !publicIsInput[$0] } + publicIsInput.indices.filter { publicIsInput[$0] }
            privateOrder =
                privateIsInput.indices.filter { privateIsInput[$0] }
                + privateIsInput.indices.filter { !privateIsInput[$0] }
            publicOutputs = publicIsInput.lazy.filter { !$0 }.count
            privateInputs = privateIsInput.lazy.filter { $0 }.count
            publicPosition = [Int](repeating: 0, count: publicOrder.count)
            for (position, slot) in publicOrder.enumerated() { publicPosition[slot] = position }
            privatePosition = [Int](repeating: 0, count: privateOrder.count)
            for (position, slot) in privateOrder.enumerated() { privatePosition[slot] = position }
        }
    }

    private var layout: Layout {
        if let layoutCache { return layoutCache }
        let fresh = Layout(publicIsInput: publicIsInput, privateIsInput: privateIsInput)
        layoutCache = fresh
        return fresh
    }

    /// The public signals in export order (outputs, then inputs): the verifier's statement.
    public var publicValues: [F] { layout.publicOrder.map { publicSlots[$0] } }
    /// The private values in export order (private inputs, then intermediates).
    public var privateValues: [F] { layout.privateOrder.map { privateSlots[$0] } }
    public var publicNames: [String] { layout.publicOrder.map { publicSlotNames[$0] } }
    public var privateNames: [String] { layout.privateOrder.map { privateSlotNames[$0] } }
    /// Counts of each wire class, as in a circom header.
    public var publicOutputCount: Int { layout.publicOutputs }
    public var publicInputCount: Int { publicSlots.count - layout.publicOutputs }
    public var privateInputCount: Int { layout.privateInputs }

    private func qualified(_ name: String) -> String {
        guard recordsConstraints else { return "" }
        return namespace.isEmpty ? name : (namespace + [name]).joined(separator: "/")
    }

    /// A public signal the circuit computes (a circom public *output*): it must be uniquely
    /// determined by the inputs through the constraints.
    @discardableResult
    public func allocatePublic(_ name: String, value: F) -> Variable {
        allocatePublicSlot(name, value: value, input: false)
    }

    // MARK: Commitment and challenge (BSB22)

    /// A private intermediate wire bound by the proof's commitment to witness wires: its value is
    /// fixed (and extractable) before the challenge exists, so constraints that combine it with
    /// the challenge are random linear checks the prover could not anticipate. Every committed
    /// wire must be allocated before `drawChallenge`.
    @discardableResult
    public func allocateCommitted(_ name: String, value: F) -> Variable {
        precondition(challengeSlot == nil, "committed wires come before the challenge")
        let v = allocatePrivateSlot(name, value: value, input: false)
        privateIsCommitted[v.index] = true
        return v
    }

    /// The proof's one challenge (a public input, the last public wire): a hash of the
    /// commitment to the committed wires and of the whole statement, computed by the verifier.
    /// One challenge per proof: several commitments per proof were unsound in gnark
    /// (CVE-2024-45039); derive as many values as needed from this one (`challengePowers`).
    /// The statement is hashed, so no public signal may be allocated afterwards.
    public func drawChallenge(_ name: String = "challenge") -> Variable {
        precondition(challengeSlot == nil, "one challenge per proof")
        let committed = committedValues
        let statement = publicValues
        let value =
            challengeOracle?(committed, statement) ?? Self.defaultChallenge(committed: committed, statement: statement)
        let v = allocatePublicSlot(name, value: value, input: true)
        challengeSlot = v.index
        return v
    }

    /// The values of the committed wires in wire order.
    public var committedValues: [F] {
        layout.privateOrder.filter { privateIsCommitted[$0] }.map { privateSlots[$0] }
    }

    /// A stand-in challenge for circuits built without a prover (setup, tests that check the
    /// constraints): a hash of the committed values and the statement, so it still depends on
    /// everything the real one does.
    public static func defaultChallenge(committed: [F], statement: [F]) -> F {
        var acc = F(UInt64(0x5eed))
        for (i, v) in (committed + statement).enumerated() { acc = acc * F(UInt64(1_000_003)) + v * F(UInt64(i + 1)) }
        return acc
    }

    /// The commitment metadata of the exported R1CS (committed wire indices and the challenge
    /// wire), or nil when the circuit draws no challenge.
    public var commitmentInfo: R1CS<F>.Commitment? {
        guard let slot = challengeSlot else { return nil }
        let layout = self.layout
        let wires = layout.privateOrder.filter { privateIsCommitted[$0] }
            .map { 1 + publicSlots.count + layout.privatePosition[$0] }
        return R1CS<F>.Commitment(challenge: 1 + layout.publicPosition[slot], wires: wires)
    }

    /// A public signal the verifier supplies and the circuit takes as given (a circom public
    /// *input*: session and step numbers, values received from the other party).
    @discardableResult
    public func allocatePublicInput(_ name: String, value: F) -> Variable {
        allocatePublicSlot(name, value: value, input: true)
    }

    private func allocatePublicSlot(_ name: String, value: F, input: Bool) -> Variable {
        precondition(challengeSlot == nil, "the challenge hashes the statement: allocate every public signal before it")
        publicSlots.append(value)
        publicSlotNames.append(qualified(name))
        publicIsInput.append(input)
        layoutCache = nil
        return Variable(kind: .publicInput, index: publicSlots.count - 1)
    }

    /// An intermediate private wire (a hint or a gadget's result): it must be uniquely
    /// determined by the inputs through the constraints.
    @discardableResult
    public func allocatePrivate(_ name: String, value: F) -> Variable {
        allocatePrivateSlot(name, value: value, input: false)
    }

    /// A private *input* of the statement (data, weights, salts): the prover chooses it, so the
    /// circuit must bound it (range check) wherever its integer value matters.
    @discardableResult
    public func allocatePrivateInput(_ name: String, value: F) -> Variable {
        allocatePrivateSlot(name, value: value, input: true)
    }

    private func allocatePrivateSlot(_ name: String, value: F, input: Bool) -> Variable {
        privateSlots.append(value)
        privateSlotNames.append(qualified(name))
        privateIsInput.append(input)
        privateIsCommitted.append(false)
        layoutCache = nil
        return Variable(kind: .privateWitness, index: privateSlots.count - 1)
    }

    /// The public signal allocated `index`-th (for tests and tools that address the public
    /// inputs by position, as verifiers do).
    public func publicVariable(_ index: Int) -> Variable {
        precondition(index >= 0 && index < publicSlots.count, "no public signal #\(index)")
        return Variable(kind: .publicInput, index: layout.publicOrder[index])
    }

    /// The public signal with this (qualified) name, or nil.
    public func publicVariable(named name: String) -> Variable? {
        publicSlotNames.firstIndex(of: name).map { Variable(kind: .publicInput, index: $0) }
    }

    /// The private wire with this (qualified) name, or nil.
    public func privateVariable(named name: String) -> Variable? {
        privateSlotNames.firstIndex(of: name).map { Variable(kind: .privateWitness, index: $0) }
    }

    public func value(_ v: Variable) -> F {
        switch v.kind {
        case .one: return .one
        case .publicInput: return publicSlots[v.index]
        case .privateWitness: return privateSlots[v.index]
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
        case .publicInput: publicSlots[v.index] = newValue
        case .privateWitness: privateSlots[v.index] = newValue
        }
    }

    // MARK: Constraints

    /// Runs `body` with `name` appended to the namespace of every variable and constraint.
    public func withNamespace<T, E: Error>(_ name: String, _ body: () throws(E) -> T) throws(E) -> T {
        guard recordsConstraints else { return try body() }
        namespace.append(name)
        defer { namespace.removeLast() }
        return try body()
    }

    /// Adds the constraint a * b = c.
    public func enforce(
        _ a: LinearCombination<F>, _ b: LinearCombination<F>, _ c: LinearCombination<F>,
        _ name: String = "constraint"
    ) {
        guard recordsConstraints else {
            unrecordedConstraints += 1
            return
        }
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
        precondition(recordsConstraints, "a witness-only synthesis has no constraints to check")
        for (i, k) in constraints.enumerated() where value(k.a) * value(k.b) != value(k.c) {
            return Violation(index: i, name: constraintNames[k.nameIndex])
        }
        return nil
    }

    public var isSatisfied: Bool { firstViolation() == nil }

    // MARK: Export

    /// Wire number in circom's layout (see `Layout`).
    public func wire(_ v: Variable) -> Int {
        switch v.kind {
        case .one: return 0
        case .publicInput: return 1 + layout.publicPosition[v.index]
        case .privateWitness: return 1 + publicSlots.count + layout.privatePosition[v.index]
        }
    }

    /// The full assignment in wire order.
    public func witness() -> [F] { [F.one] + publicValues + privateValues }

    /// Wire names in wire order (wire 0 is "one"), for a circom `.sym` file.
    public func wireNames() -> [String] { ["one"] + publicNames + privateNames }

    /// The R1CS with merged terms and circom's header counts (public outputs, public inputs,
    /// private inputs); snarkjs and arkworks treat all public signals alike.
    public func r1cs() -> R1CS<F> {
        precondition(recordsConstraints, "a witness-only synthesis has no constraints to export")
        let layout = self.layout
        var a = SparseMatrix<F>(), b = SparseMatrix<F>(), c = SparseMatrix<F>()
        a.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        b.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        c.reserve(rows: constraints.count, nonZeros: constraints.count * 2)
        for k in constraints {
            a.appendRow(k.a.simplified().terms.map { (wire($0.variable, layout), $0.coefficient) })
            b.appendRow(k.b.simplified().terms.map { (wire($0.variable, layout), $0.coefficient) })
            c.appendRow(k.c.simplified().terms.map { (wire($0.variable, layout), $0.coefficient) })
        }
        var r1cs = R1CS(
            numWires: 1 + publicSlots.count + privateSlots.count,
            numPublicOutputs: layout.publicOutputs, numPublicInputs: publicSlots.count - layout.publicOutputs,
            numPrivateInputs: layout.privateInputs, a: a, b: b, c: c)
        r1cs.commitment = commitmentInfo
        return r1cs
    }

    private func wire(_ v: Variable, _ layout: Layout) -> Int {
        switch v.kind {
        case .one: return 0
        case .publicInput: return 1 + layout.publicPosition[v.index]
        case .privateWitness: return 1 + publicSlots.count + layout.privatePosition[v.index]
        }
    }
}
