import Algebra
import Foundation

/// A static under-constraint analysis of an R1CS in circom's layout, in the spirit of Ecne
/// (Wang et al. 2022): starting from the inputs (the constant wire, the public inputs and the
/// private inputs the header declares), it propagates which wires the constraints determine
/// uniquely, then reports every public output and intermediate wire it cannot prove unique, and
/// every private input that the circuit treats as an integer without bounding it.
///
/// Rules (each one sound: a wire is marked determined only when any two satisfying witnesses
/// that agree on the inputs must agree on it):
/// 1. Linear: a linear constraint with one undetermined wire determines it.
/// 2. Product: A * B = C with A and B determined determines C's single undetermined wire; with
///    C a nonzero constant and A determined, B's single undetermined wire (an inverse).
/// 3. Bits: a linear equation whose undetermined wires are all boolean-constrained, with
///    coefficients +-2^k for distinct k < 253 (after scaling by one constant), determines all of
///    them (binary representations are unique below the modulus). A non-boolean wire that one
///    such equation defines in terms of bits (a range-checked quotient) is substituted into the
///    others first, which is how the rescale pattern acc = q * 2^S + r is solved: q and r are
///    unique when both are range-checked, and q stays free when r is not.
/// 4. IsZero: v * m = 1 - out with v * out = 0 and v determined determines out; the inverse hint
///    m is free when v = 0 by design and is reported as a note, or as a finding if anything else
///    uses it.
/// 5. Euclidean division: q * D = t with q range-checked to a bits, N - t and D - 1 - (N - t)
///    range-checked to at most k bits, N and D determined: q is unique when a + k + 2 < 253
///    (then 0 <= N - qD < D, D >= 1, and no wrap-around is possible).
/// 6. Commitment (circuits with a proof commitment, BSB22): the committed wires are fixed
///    before the challenge, which is a hash of their commitment and a public input, so fixing
///    the public inputs fixes them as a hash output fixes its preimage (computationally, under
///    the binding of the commitment). Their *correctness* rests on the randomized identities
///    over the challenge (Freivalds, logUp); the linter checks structurally that every committed
///    wire takes part in at least one constraint that depends on the challenge, and reports a
///    committed wire that does not (a hint nothing checks); a committed boolean in a linear
///    equation with checked committed wires (the sign bit of a signed decomposition) counts
///    as checked. With a commitment, (k challenge + c) * B = C with C determined determines B
///    (the factor vanishes with probability 1/r: logUp's table terms). Whether an identity is strong
///    enough is stated at the gadget (Circuit/Freivalds.swift, Circuit/Lookup.swift).
/// Everything else is undecided and reported, never passed silently.
///
/// Bounds: a private input is *bounded* when it is boolean or range-checked by a bit
/// decomposition. An unbounded private input is a finding when it reaches the integer part of a
/// bits rule (a range check or a rescale reads it as an integer), because then a prover can pick
/// a field value that wraps around the modulus. Inputs that only feed hashes (salts, Merkle
/// siblings) are field elements by design and are not reported.
public struct R1CSLinter<F: PrimeField> {
    public struct Finding: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// A public output that the inputs do not determine uniquely (a forgeable statement).
            case outputNotDetermined = "output-not-determined"
            /// An intermediate wire the inputs do not determine uniquely (a malleable witness).
            case wireNotDetermined = "wire-not-determined"
            /// A wire that appears in no constraint.
            case unconstrainedWire = "unconstrained-wire"
            /// A private input read as an integer without a range check.
            case unboundedInput = "unbounded-private-input"
            /// An IsZero inverse hint that other constraints also use.
            case hintReused = "isZero-hint-reused"
            /// A committed wire that no constraint depending on the challenge reads.
            case committedUnchecked = "committed-wire-unchecked"
        }
        public let kind: Kind
        public let wire: Int
        public let name: String?
        /// Up to eight constraints the wire appears in (indices), for the report.
        public let constraints: [Int]
    }

    public struct Report: Sendable {
        public let constraints: Int
        public let wires: Int
        public let publicOutputs: Int
        public let publicInputs: Int
        public let privateInputs: Int
        public let determinedWires: Int
        public let boundedPrivateInputs: Int
        public let findings: [Finding]
        /// Free wires the rules recognise as harmless by design (IsZero inverse hints).
        public let freeByDesign: [Int]
        /// How many determinations each rule made (rule name -> count).
        public let ruleCounts: [String: Int]
        public var isClean: Bool { findings.isEmpty }
    }

    typealias Term = (wire: Int, coefficient: F)

    let r1cs: R1CS<F>
    let names: [Int: String]
    let maxSafeBits: Int
    private var a: [[Term]] = []
    private var b: [[Term]] = []
    private var c: [[Term]] = []
    private var known: [Bool]
    private var boolean: [Bool]
    private var occurrences: [[Int32]]
    /// Linear constraints as equations sum c_i w_i = 0 (constant on wire 0).
    private var linear: [[Term]?] = []
    /// The constraint that determined each wire (-1 for inputs), for the bounds analysis.
    private var reason: [Int32]
    /// A non-boolean wire's defining equation in terms of boolean wires (rule 3).
    private var definition: [Int: Int] = [:]
    /// Equations and known wires whose integer value a bits or division rule relied on.
    private var integerSinks: [Int] = []
    private var isZeroHints: Set<Int> = []
    private var ruleCounts: [String: Int] = [:]
    private var worklist: [Int] = []
    private var queued: [Bool] = []
    /// Wires in the order the rules determined them (for the challenge-dependence pass).
    private var order: [Int] = []

    /// - Parameters:
    ///   - names: wire names from a circom `.sym` file, for the report.
    ///   - modulusBits: the bit length of F's modulus (254 for BN254's Fr).
    public init(_ r1cs: R1CS<F>, names: [Int: String] = [:], modulusBits: Int = 254) {
        self.r1cs = r1cs
        self.names = names
        maxSafeBits = modulusBits - 1
        let n = r1cs.numWires
        known = [Bool](repeating: false, count: n)
        boolean = [Bool](repeating: false, count: n)
        occurrences = [[Int32]](repeating: [], count: n)
        reason = [Int32](repeating: -2, count: n)
    }

    // MARK: Running

    /// Runs the analysis. Cost: near-linear in the number of nonzero terms (each constraint is
    /// re-examined when one of its wires becomes determined), plus the division and IsZero
    /// scans once per stall.
    public mutating func run() -> Report {
        let m = r1cs.constraintCount
        a = (0..<m).map { r1cs.a.row($0) }
        b = (0..<m).map { r1cs.b.row($0) }
        c = (0..<m).map { r1cs.c.row($0) }
        linear = [[Term]?](repeating: nil, count: m)
        queued = [Bool](repeating: false, count: m)
        for i in 0..<m {
            var seen = Set<Int>()
            for t in a[i] + b[i] + c[i] where t.wire != 0 && seen.insert(t.wire).inserted {
                occurrences[t.wire].append(Int32(i))
            }
            linear[i] = linearForm(i)
            if let w = booleanWire(i) { boolean[w] = true }
        }
        let inputs = inputRange
        let n = r1cs.numWires
        known[0] = true
        reason[0] = -1
        for w in inputs {
            known[w] = true
            reason[w] = -1
        }
        for w in r1cs.commitment?.wires ?? [] where w > 0 && w < n && !known[w] {
            known[w] = true
            reason[w] = -1
            ruleCounts["commitment", default: 0] += 1
        }
        worklist = Array(0..<m)
        for i in 0..<m { queued[i] = true }
        while true {
            drain()
            if !scanPatterns() { break }
        }
        return report()
    }

    /// Wires the header declares as inputs: public inputs, then private inputs.
    private var inputRange: Range<Int> {
        let start = 1 + r1cs.numPublicOutputs
        return start..<(start + r1cs.numPublicInputs + r1cs.numPrivateInputs)
    }

    private var outputRange: Range<Int> { 1..<(1 + r1cs.numPublicOutputs) }
    private var privateInputRange: Range<Int> {
        let start = 1 + r1cs.numPublic
        return start..<(start + r1cs.numPrivateInputs)
    }

    private mutating func drain() {
        while let i = worklist.popLast() {
            queued[i] = false
            examine(i)
        }
    }

    private mutating func determine(_ w: Int, by constraint: Int, rule: String) {
        guard !known[w] else { return }
        known[w] = true
        reason[w] = Int32(constraint)
        order.append(w)
        ruleCounts[rule, default: 0] += 1
        for i in occurrences[w] where !queued[Int(i)] {
            queued[Int(i)] = true
            worklist.append(Int(i))
        }
    }

    private mutating func requeue(containing w: Int) {
        for i in occurrences[w] where !queued[Int(i)] {
            queued[Int(i)] = true
            worklist.append(Int(i))
        }
    }

    // MARK: Constraint shapes

    private static func isConstant(_ lc: [Term]) -> Bool { lc.allSatisfy { $0.wire == 0 } }
    private static func constant(_ lc: [Term]) -> F { lc.first { $0.wire == 0 }?.coefficient ?? .zero }

    /// The constraint as a linear equation (sum c_i w_i = 0) when A or B is constant.
    private func linearForm(_ i: Int) -> [Term]? {
        let scaled: [Term]
        if Self.isConstant(a[i]) {
            let k = Self.constant(a[i])
            scaled = b[i].map { ($0.wire, $0.coefficient * k) }
        } else if Self.isConstant(b[i]) {
            let k = Self.constant(b[i])
            scaled = a[i].map { ($0.wire, $0.coefficient * k) }
        } else {
            return nil
        }
        return Self.merge(scaled + c[i].map { ($0.wire, -$0.coefficient) })
    }

    private static func merge(_ terms: [Term]) -> [Term] {
        var sums: [Int: F] = [:]
        for t in terms { sums[t.wire, default: .zero] += t.coefficient }
        return sums.filter { !$0.value.isZero }.map { ($0.key, $0.value) }.sorted { $0.wire < $1.wire }
    }

    /// The wire w of a constraint (a1 w + a0)(b1 w + b0) = 0 whose two roots are 0 and 1.
    private func booleanWire(_ i: Int) -> Int? {
        guard c[i].isEmpty else { return nil }
        let wa = a[i].filter { $0.wire != 0 }, wb = b[i].filter { $0.wire != 0 }
        guard wa.count == 1, wb.count == 1, wa[0].wire == wb[0].wire else { return nil }
        func root(_ lc: [Term], _ linear: Term) -> F? {
            linear.coefficient.inverse().map { -Self.constant(lc) * $0 }
        }
        guard let ra = root(a[i], wa[0]), let rb = root(b[i], wb[0]) else { return nil }
        let roots: Set<F> = [ra, rb]
        return roots == [F.zero, F.one] ? wa[0].wire : nil
    }

    private func unknowns(_ lc: [Term]) -> [Term] { lc.filter { !known[$0.wire] } }

    // MARK: Rules

    private mutating func examine(_ i: Int) {
        if let equation = linear[i] {
            let open = unknowns(equation)
            if open.isEmpty { return }
            if open.count == 1 {
                determine(open[0].wire, by: i, rule: "linear")
                return
            }
            bitsRule(equation: i, open)
            return
        }
        let ua = unknowns(a[i]), ub = unknowns(b[i]), uc = unknowns(c[i])
        if ua.isEmpty, ub.isEmpty, uc.count == 1 {
            determine(uc[0].wire, by: i, rule: "product")
        } else if uc.isEmpty, Self.isConstant(c[i]), !Self.constant(c[i]).isZero {
            if ua.isEmpty, ub.count == 1 { determine(ub[0].wire, by: i, rule: "inverse") }
            if ub.isEmpty, ua.count == 1 { determine(ua[0].wire, by: i, rule: "inverse") }
        } else if uc.isEmpty {
            // (k challenge + c) * B = C with C determined: the factor is nonzero unless the
            // challenge hits -c / k (probability 1/r), so B is determined (logUp's table terms).
            if ua.isEmpty, ub.count == 1, isChallengeOffset(a[i]) {
                determine(ub[0].wire, by: i, rule: "challenge-divisor")
            }
            if ub.isEmpty, ua.count == 1, isChallengeOffset(b[i]) {
                determine(ua[0].wire, by: i, rule: "challenge-divisor")
            }
        }
    }

    /// Whether `lc` is k * challenge + c with k nonzero (and no other wire).
    private func isChallengeOffset(_ lc: [Term]) -> Bool {
        guard let challenge = r1cs.commitment?.challenge else { return false }
        let wires = Self.merge(lc).filter { $0.wire != 0 }
        return wires.count == 1 && wires[0].wire == challenge && !wires[0].coefficient.isZero
    }

    /// Rule 3 on equation `i` whose undetermined terms are `open` (two or more).
    private mutating func bitsRule(equation i: Int, _ open: [Term]) {
        let nonBoolean = open.filter { !boolean[$0.wire] }
        if nonBoolean.isEmpty {
            solveBits(open, equation: i, extraSinks: [])
            return
        }
        guard nonBoolean.count == 1, let equation = linear[i] else { return }
        let u = nonBoolean[0]
        if let d = definition[u.wire], d != i, let defining = linear[d] {
            // Substitute u from its definition: E - (c_E(u) / c_D(u)) * D, a consequence of both.
            guard let du = defining.first(where: { $0.wire == u.wire }), let inv = du.coefficient.inverse() else {
                return
            }
            let factor = u.coefficient * inv
            let combined = Self.merge(equation + defining.map { ($0.wire, -$0.coefficient * factor) })
            let rest = unknowns(combined)
            if !rest.isEmpty, rest.allSatisfy({ boolean[$0.wire] }) {
                solveBits(rest, equation: i, extraSinks: [d])
            }
        } else if definition[u.wire] == nil {
            definition[u.wire] = i
            requeue(containing: u.wire)
        }
    }

    /// Marks every wire of `open` (all boolean) determined when their coefficients form a
    /// binary representation, and records the equations as integer sinks.
    private mutating func solveBits(_ open: [Term], equation i: Int, extraSinks: [Int]) {
        guard let pattern = BinaryPattern(open.map(\.coefficient)), pattern.span <= maxSafeBits else { return }
        integerSinks.append(i)
        integerSinks += extraSinks
        for t in open { determine(t.wire, by: i, rule: "bits") }
    }

    /// Coefficients that are +-g * 2^e_i for one scale g and distinct e_i: a sum of such
    /// weighted bits takes each value at most once while the span max(e) - min(e) + 1 stays
    /// below the modulus's bit length.
    struct BinaryPattern {
        /// Exponents relative to the smallest (which is 0), and whether each term is negative
        /// relative to the first.
        let exponents: [Int]
        let negative: [Bool]
        /// The smallest exponent before the shift (0 unless the pattern is a multiple of 2^low).
        let low: Int
        /// Distinct values the weighted bits can take span less than 2^span (relative exponents).
        var span: Int { (exponents.max() ?? 0) + 1 }
        /// The weighted sum's magnitude is below 2^magnitudeBits (absolute exponents; meaningful
        /// for `unscaled` patterns).
        var magnitudeBits: Int { span + max(low, 0) }

        /// nil when the coefficients are not such a pattern. At most one field inversion per
        /// coefficient whose ratio to the first is a negative power of two.
        init?(_ coefficients: [F], unscaled: Bool = false) {
            guard let first = coefficients.first else { return nil }
            var relative: [Int] = []
            var signs: [Bool] = []
            let base: F
            if unscaled {
                base = .one
            } else {
                guard let inv = first.inverse() else { return nil }
                base = inv
            }
            for coefficient in coefficients {
                let ratio = coefficient * base
                if let (e, negative) = Self.powerOfTwo(ratio) {
                    relative.append(e)
                    signs.append(negative)
                } else if !unscaled, let inverse = ratio.inverse(), let (e, negative) = Self.powerOfTwo(inverse), e > 0
                {
                    relative.append(-e)
                    signs.append(negative)
                } else {
                    return nil
                }
            }
            guard Set(relative).count == relative.count, let low = relative.min() else { return nil }
            exponents = relative.map { $0 - low }
            negative = signs
            self.low = low
        }

        /// (k, negative) when x = +-2^k with k below 254.
        static func powerOfTwo(_ x: F) -> (Int, Bool)? {
            let negative = x.isNegativeSigned
            let magnitude = negative ? (-x).bigInt : x.bigInt
            let width = magnitude.bitWidth
            guard width >= 1 else { return nil }
            for k in 0..<(width - 1) where magnitude.bit(k) { return nil }
            return (width - 1, negative)
        }
    }

    /// Rules 4 and 5 over the product constraints that still have undetermined wires. Returns
    /// whether anything new was determined.
    private mutating func scanPatterns() -> Bool {
        var progress = false
        for i in 0..<r1cs.constraintCount where linear[i] == nil {
            if isZeroRule(i) { progress = true }
            if divisionRule(i) { progress = true }
        }
        return progress
    }

    /// Rule 4 from the constraint v * out = 0 (`i`): its partner v' * m = k - k * out with v'
    /// proportional to v. If v != 0 the first forces out = 0; if v = 0 the partner forces out = 1.
    private mutating func isZeroRule(_ i: Int) -> Bool {
        guard c[i].isEmpty else { return false }
        for (v, o) in [(a[i], b[i]), (b[i], a[i])] {
            guard o.count == 1, o[0].wire != 0, !known[o[0].wire], !Self.isConstant(v), unknowns(v).isEmpty else {
                continue
            }
            let out = o[0].wire
            for j in occurrences[out].map(Int.init) where j != i && linear[j] == nil {
                for (vj, mj) in [(a[j], b[j]), (b[j], a[j])] where Self.proportional(vj, v) {
                    guard mj.count == 1, mj[0].wire != 0, mj[0].wire != out else { continue }
                    let cj = Self.merge(c[j])
                    guard cj.count == 2, let k = cj.first(where: { $0.wire == 0 })?.coefficient, !k.isZero,
                        cj.first(where: { $0.wire == out })?.coefficient == -k
                    else { continue }
                    determine(out, by: j, rule: "isZero")
                    if !known[mj[0].wire] { isZeroHints.insert(mj[0].wire) }
                    return true
                }
            }
        }
        return false
    }

    private static func proportional(_ x: [Term], _ y: [Term]) -> Bool {
        let sx = merge(x), sy = merge(y)
        guard sx.count == sy.count, let fx = sx.first, let fy = sy.first, fx.wire == fy.wire,
            let inv = fy.coefficient.inverse()
        else { return false }
        let ratio = fx.coefficient * inv
        return zip(sx, sy).allSatisfy { $0.wire == $1.wire && $0.coefficient == $1.coefficient * ratio }
    }

    /// Rule 5 from the product constraint `i` = (alpha q) * D = (gamma t), t = kappa q D with
    /// kappa = alpha / gamma = +-1. It needs q range-checked (span a bits) and two equations
    /// R + t + K_R = 0 and -S + t + K_S = 0 with R, S nonnegative bit sums of at most k bits and
    /// K_S - K_R + 1 - kappa D = 0 identically: then R = -t - K_R and S = t + K_S satisfy
    /// R + S = kappa D - 1, so 0 <= R < kappa D, which with a + k + 2 < 254 leaves one q.
    private mutating func divisionRule(_ i: Int) -> Bool {
        guard c[i].count == 1, c[i][0].wire != 0, !known[c[i][0].wire],
            let gammaInverse = c[i][0].coefficient.inverse()
        else { return false }
        let t = c[i][0].wire
        for (qSide, dSide) in [(a[i], b[i]), (b[i], a[i])] {
            guard qSide.count == 1, qSide[0].wire != 0, qSide[0].wire != t, !known[qSide[0].wire],
                unknowns(dSide).isEmpty, !Self.isConstant(dSide)
            else { continue }
            let q = qSide[0].wire
            let kappa = qSide[0].coefficient * gammaInverse
            guard kappa == .one || kappa == -F.one, let qSpan = boundSpan(of: q) else { continue }
            var lower: [(known: [Term], span: Int)] = []
            var upper: [(known: [Term], span: Int)] = []
            for j in occurrences[t].map(Int.init) {
                guard let equation = linear[j] else { continue }
                let open = unknowns(equation)
                let bits = open.filter { $0.wire != t }
                guard let tc = open.first(where: { $0.wire == t })?.coefficient, !bits.isEmpty,
                    bits.allSatisfy({ boolean[$0.wire] }), let inv = tc.inverse()
                else { continue }
                guard let pattern = BinaryPattern(bits.map { $0.coefficient * inv }, unscaled: true) else { continue }
                let knownPart = equation.filter { known[$0.wire] }.map { ($0.wire, $0.coefficient * inv) }
                if pattern.negative.allSatisfy({ !$0 }) { lower.append((knownPart, pattern.magnitudeBits)) }
                if pattern.negative.allSatisfy({ $0 }) { upper.append((knownPart, pattern.magnitudeBits)) }
            }
            for x in lower {
                for y in upper {
                    let identity = Self.merge(
                        y.known + x.known.map { ($0.wire, -$0.coefficient) } + [(0, F.one)]
                            + dSide.map { ($0.wire, -$0.coefficient * kappa) })
                    guard identity.isEmpty, qSpan + max(x.span, y.span) + 2 < maxSafeBits + 1 else { continue }
                    integerSinks.append(i)
                    determine(q, by: i, rule: "division")
                    return true
                }
            }
        }
        return false
    }

    /// The span in bits of w when an equation fixes w + constant to a sum of boolean wires with
    /// a binary pattern (a range check); nil otherwise.
    private func boundSpan(of w: Int) -> Int? {
        if boolean[w] { return 1 }
        var best: Int?
        for i in occurrences[w].map(Int.init) {
            guard let equation = linear[i], let wc = equation.first(where: { $0.wire == w })?.coefficient,
                let inv = wc.inverse()
            else { continue }
            let others = equation.filter { $0.wire != w && $0.wire != 0 }
            guard !others.isEmpty, others.allSatisfy({ boolean[$0.wire] }),
                let pattern = BinaryPattern(others.map { $0.coefficient * inv }, unscaled: true),
                pattern.magnitudeBits <= maxSafeBits
            else { continue }
            best = min(best ?? Int.max, pattern.magnitudeBits)
        }
        return best
    }

    // MARK: Commitment

    /// Committed wires that appear in no constraint reading a challenge-dependent wire. A wire
    /// depends on the challenge when it is the challenge or the rules determined it from a
    /// constraint containing a challenge-dependent wire (one pass in determination order).
    private func uncheckedCommittedWires(_ commitment: R1CS<F>.Commitment) -> [Int] {
        let n = r1cs.numWires
        guard commitment.challenge > 0, commitment.challenge < n else { return commitment.wires }
        var dependent = [Bool](repeating: false, count: n)
        dependent[commitment.challenge] = true
        func readsDependent(_ i: Int, besides w: Int) -> Bool {
            a[i].contains { $0.wire != w && dependent[$0.wire] } || b[i].contains { $0.wire != w && dependent[$0.wire] }
                || c[i].contains { $0.wire != w && dependent[$0.wire] }
        }
        for w in order where reason[w] >= 0 && readsDependent(Int(reason[w]), besides: w) { dependent[w] = true }
        var checked = [Bool](repeating: false, count: n)
        for w in commitment.wires
        where w > 0 && w < n && occurrences[w].contains(where: { readsDependent(Int($0), besides: w) }) {
            checked[w] = true
        }
        // A committed boolean (a sign bit) beside checked committed limbs in one linear
        // equation is the bit of a signed decomposition: its value is as checked as theirs.
        var changed = true
        while changed {
            changed = false
            for w in commitment.wires where w > 0 && w < n && !checked[w] && boolean[w] {
                let besideChecked = occurrences[w].contains { i in
                    linear[Int(i)]?.contains { $0.wire != w && $0.wire > 0 && checked[$0.wire] } ?? false
                }
                if besideChecked {
                    checked[w] = true
                    changed = true
                }
            }
        }
        return commitment.wires.filter { w in w <= 0 || w >= n || !checked[w] }
    }

    // MARK: Report

    private func constraintsOf(_ w: Int) -> [Int] { Array(occurrences[w].prefix(8).map(Int.init)) }

    private func report() -> Report {
        var findings: [Finding] = []
        func add(_ kind: Finding.Kind, _ w: Int) {
            findings.append(Finding(kind: kind, wire: w, name: names[w], constraints: constraintsOf(w)))
        }
        for w in outputRange where !known[w] {
            add(occurrences[w].isEmpty ? .unconstrainedWire : .outputNotDetermined, w)
        }
        for w in (1 + r1cs.numPublic + r1cs.numPrivateInputs)..<r1cs.numWires where !known[w] {
            if isZeroHints.contains(w) {
                if occurrences[w].count > 1 { add(.hintReused, w) }
                continue
            }
            add(occurrences[w].isEmpty ? .unconstrainedWire : .wireNotDetermined, w)
        }
        // Private inputs read as integers: backward from the known parts of the integer sinks.
        var bounded = 0
        var reached = [Bool](repeating: false, count: r1cs.numWires)
        var stack: [Int] = []
        for i in Set(integerSinks) {
            for t in (linear[i] ?? (a[i] + b[i] + c[i])) where t.wire != 0 && !reached[t.wire] {
                reached[t.wire] = true
                stack.append(t.wire)
            }
        }
        while let w = stack.popLast() {
            let r = Int(reason[w])
            guard r >= 0 else { continue }
            for t in a[r] + b[r] + c[r] where t.wire != 0 && t.wire != w && !reached[t.wire] {
                reached[t.wire] = true
                stack.append(t.wire)
            }
        }
        for w in privateInputRange {
            if boundSpan(of: w) != nil {
                bounded += 1
                continue
            }
            if reached[w] { add(.unboundedInput, w) }
        }
        if let commitment = r1cs.commitment {
            for w in uncheckedCommittedWires(commitment) { add(.committedUnchecked, w) }
        }
        return Report(
            constraints: r1cs.constraintCount, wires: r1cs.numWires, publicOutputs: r1cs.numPublicOutputs,
            publicInputs: r1cs.numPublicInputs, privateInputs: r1cs.numPrivateInputs,
            determinedWires: known.lazy.filter { $0 }.count, boundedPrivateInputs: bounded,
            findings: findings, freeByDesign: isZeroHints.sorted(), ruleCounts: ruleCounts)
    }
}

extension R1CSLinter.Report {
    /// The findings as `verisplit r1cs lint` prints them: counts, then at most 50 findings.
    public func text(file: String) -> String {
        var lines = [
            "\(file): \(constraints) constraints, \(wires) wires; inputs \(publicInputs) public, "
                + "\(privateInputs) private (\(boundedPrivateInputs) range-checked); \(publicOutputs) public outputs",
            "determined: \(determinedWires) of \(wires) wires; free by design (IsZero hints): \(freeByDesign.count)",
        ]
        if isClean {
            lines.append("clean: every output and intermediate wire is uniquely determined by the inputs")
        } else {
            lines.append("\(findings.count) findings:")
            for f in findings.prefix(50) {
                lines.append(
                    "  \(f.kind.rawValue): wire \(f.wire)\(f.name.map { " (\($0))" } ?? ""), constraints \(f.constraints)"
                )
            }
            if findings.count > 50 { lines.append("  ... \(findings.count - 50) more (--json lists all)") }
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object with every finding.
    public func json(file: String) -> String {
        let list = findings.map { f -> [String: Any] in
            var row: [String: Any] = ["kind": f.kind.rawValue, "wire": f.wire, "constraints": f.constraints]
            if let name = f.name { row["name"] = name }
            return row
        }
        let object: [String: Any] = [
            "file": file, "clean": isClean, "constraints": constraints, "wires": wires, "public_outputs": publicOutputs,
            "public_inputs": publicInputs, "private_inputs": privateInputs,
            "bounded_private_inputs": boundedPrivateInputs,
            "determined_wires": determinedWires, "free_by_design": freeByDesign.count, "rules": ruleCounts,
            "findings": list,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension R1CSLinter where F == Fr {
    /// `r1cs lint`: reads a circom `.r1cs` (and its `.sym` to name wires, when given) and runs
    /// the analysis.
    public static func lint(file: String, sym: String?) throws -> Report {
        let r1cs = try Circom.readR1CS(try Files.read(file), file: file)
        let names = try sym.map {
            try Circom.readSymbols(
                String(decoding: try Files.read($0, limit: 1 << 30), as: UTF8.self), wireCount: r1cs.numWires, file: $0)
        }
        var linter = R1CSLinter(r1cs, names: names ?? [:])
        return linter.run()
    }
}
