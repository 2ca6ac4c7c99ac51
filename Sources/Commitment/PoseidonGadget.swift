import Algebra
import Circuit

/// The partial rounds of one width, compiled once into coefficient vectors.
///
/// Across the partial rounds only element 0 goes through an S-box, so every state element is an
/// affine function of a fixed basis: the t S-box outputs y_0...y_{t-1} of the last full round
/// before the partial rounds, the partial S-box outputs s_0, s_1, ... so far, and the constant 1.
/// Those coefficients do not depend on the witness, so they are computed once per width
/// ((R_P) * t^2 * (t + R_P) multiplications, about 2M for t = 17) and each permutation gadget
/// only instantiates them: the linear layers then cost no constraints and no per-proof algebra.
struct PoseidonCircuitPlan: Sendable {
    /// Coefficients of partial round r's S-box input over (y_0...y_{t-1}, s_0...s_{r-1}, 1).
    let partialInputs: [[Fr]]
    /// The state after the last partial round, element i over (y_0...y_{t-1}, s_0...s_{R_P-1}, 1).
    let stateAfterPartial: [[Fr]]

    init(_ p: PoseidonParameters) {
        let t = p.width, rp = p.partialRounds, half = p.fullRounds / 2
        let length = t + rp + 1, constant = length - 1
        var state = (0..<t).map { i -> [Fr] in
            var row = [Fr](repeating: .zero, count: length)
            for j in 0..<t { row[j] = p.mds[i * t + j] }
            return row
        }
        var inputs: [[Fr]] = []
        inputs.reserveCapacity(rp)
        for r in 0..<rp {
            let round = half + r
            for i in 0..<t { state[i][constant] += p.roundConstants[round * t + i] }
            inputs.append(Array(state[0][0..<(t + r)]) + [state[0][constant]])
            var unit = [Fr](repeating: .zero, count: length)
            unit[t + r] = .one
            state[0] = unit
            var next = state
            let used = t + r + 1
            for i in 0..<t {
                var row = [Fr](repeating: .zero, count: length)
                for j in 0..<t {
                    let m = p.mds[i * t + j]
                    for k in 0..<used { row[k] += m * state[j][k] }
                    row[constant] += m * state[j][constant]
                }
                next[i] = row
            }
            state = next
        }
        partialInputs = inputs
        stateAfterPartial = state
    }
}

extension ConstraintSystem where F == Fr {
    /// x^5 of an affine input: x2 = x * x, x4 = x2 * x2, x5 = x4 * x (3 constraints, 3 private
    /// variables). Every hint is constrained, so x5 is determined by x. A constant input is
    /// evaluated natively and costs nothing (circom does the same).
    func poseidonSbox(_ x: LinearCombination<Fr>) -> LinearCombination<Fr> {
        if x.terms.allSatisfy({ $0.variable == .one }) {
            return LinearCombination(constant: Poseidon.sbox(value(x)))
        }
        let v = value(x)
        let v2 = v.squared()
        let v4 = v2.squared()
        let x2 = allocatePrivate("x2", value: v2)
        let x4 = allocatePrivate("x4", value: v4)
        let x5 = allocatePrivate("x5", value: v4 * v)
        enforce(x, x, LinearCombination(x2), "x2")
        enforce(LinearCombination(x2), LinearCombination(x2), LinearCombination(x4), "x4")
        enforce(LinearCombination(x4), x, LinearCombination(x5), "x5")
        return LinearCombination(x5)
    }

    /// sum_k coefficients[k] * basis[k] + coefficients.last (the constant), dropping zero terms and
    /// folding constant basis elements into the constant.
    private func combine(_ coefficients: [Fr], _ basis: [LinearCombination<Fr>]) -> LinearCombination<Fr> {
        var terms: [(variable: Variable, coefficient: Fr)] = []
        terms.reserveCapacity(basis.count + 1)
        var constant = coefficients[basis.count]
        for (k, element) in basis.enumerated() {
            let c = coefficients[k]
            if c.isZero { continue }
            for term in element.terms {
                if term.variable == .one {
                    constant += c * term.coefficient
                } else {
                    terms.append((term.variable, c * term.coefficient))
                }
            }
        }
        if !constant.isZero { terms.append((.one, constant)) }
        return LinearCombination(terms: terms)
    }

    /// The Poseidon permutation as a gadget over affine inputs; returns the output state as affine
    /// combinations (no constraint is spent on linear layers or round constants).
    ///
    /// Soundness: each S-box output is pinned by its three constraints, and every other value is
    /// an affine function of S-box outputs and inputs, so the outputs are exactly the native
    /// permutation of the inputs' values (tested against `Poseidon.permute` for t = 2...17).
    /// Cost: 3 * (8t + R_P) constraints (`PoseidonParameters.constraintsPerPermutation`), less 3
    /// for every first-round input that is a constant.
    public func poseidonPermutation(
        _ input: [LinearCombination<Fr>],
        _ name: String = "poseidon"
    ) throws(PoseidonError) -> [LinearCombination<Fr>] {
        let p = try PoseidonParameters.forWidth(input.count)
        return poseidonPermutation(input, parameters: p, name)
    }

    /// The permutation gadget for parameters already resolved (`input.count == p.width`).
    func poseidonPermutation(
        _ input: [LinearCombination<Fr>], parameters p: PoseidonParameters,
        _ name: String
    ) -> [LinearCombination<Fr>] {
        let plan = ParameterCache.shared.plan(for: p)
        let t = p.width, half = p.fullRounds / 2, rp = p.partialRounds
        return withNamespace(name) {
            func linearLayer(_ y: [LinearCombination<Fr>], round: Int) -> [LinearCombination<Fr>] {
                (0..<t).map { i in
                    var coefficients = Array(p.mds[(i * t)..<(i * t + t)])
                    coefficients.append(round < 0 ? .zero : p.roundConstants[round * t + i])
                    return combine(coefficients, y)
                }
            }
            func withConstants(_ state: [LinearCombination<Fr>], round: Int) -> [LinearCombination<Fr>] {
                (0..<t).map { i in state[i] + p.roundConstants[round * t + i] }
            }
            var y = withConstants(input, round: 0).map(poseidonSbox)
            for r in 1..<half { y = linearLayer(y, round: r).map(poseidonSbox) }
            var basis = y
            basis.reserveCapacity(t + rp)
            for r in 0..<rp {
                basis.append(poseidonSbox(combine(plan.partialInputs[r], basis)))
            }
            let afterPartial = plan.stateAfterPartial.map { combine($0, basis) }
            let secondHalf = half + rp
            y = withConstants(afterPartial, round: secondHalf).map(poseidonSbox)
            for r in 1..<half { y = linearLayer(y, round: secondHalf + r).map(poseidonSbox) }
            return linearLayer(y, round: -1)
        }
    }

    /// circomlib's `Poseidon(n)` template: hash of 1...16 inputs with width n + 1 and a zero first
    /// element; the result is affine in the circuit's variables (equal the native
    /// `Poseidon.hash`). Cost 3 * (8t + R_P) - 3 constraints (240 for two inputs, as circomlib).
    public func poseidonHash(
        _ inputs: [LinearCombination<Fr>],
        _ name: String = "poseidonHash"
    ) throws(PoseidonError) -> LinearCombination<Fr> {
        guard (1...16).contains(inputs.count) else { throw .unsupportedInputCount(inputs.count) }
        return try poseidonPermutation([LinearCombination<Fr>.zero] + inputs, name)[0]
    }

    /// The sponge of `PoseidonSponge` as a gadget (same padding, domain tag and output).
    /// Cost: ceil(n / (t - 1)) permutations, i.e. 3 * (8t + R_P) constraints each, less 3 for the
    /// constant capacity in the first permutation. For t = 17 that is 612 per 16 elements.
    public func poseidonSponge(
        _ message: [LinearCombination<Fr>], width: Int = PoseidonSponge.defaultWidth,
        domain: PoseidonSponge.Domain = .hash,
        _ name: String = "sponge"
    ) throws(PoseidonError) -> LinearCombination<Fr> {
        let sponge = try PoseidonSponge(width: width)
        let r = sponge.rate
        var state = [LinearCombination<Fr>](repeating: .zero, count: sponge.width)
        state[0] = LinearCombination(constant: PoseidonSponge.initialCapacity(length: message.count, domain: domain))
        let blocks = sponge.permutationCount(length: message.count)
        let parameters = sponge.permutation.parameters
        return withNamespace(name) {
            for b in 0..<blocks {
                let start = b * r
                for i in 0..<r where start + i < message.count { state[1 + i] += message[start + i] }
                state = poseidonPermutation(state, parameters: parameters, "block\(b)")
            }
            return state[1]
        }
    }
}
